"""Amounts as exports write them: a customer's value read from text. Pure: text in, a number out."""

from __future__ import annotations

import re

# An amount as exports write it: plain ("1234.5"), with thousands commas ("1,234.50"), with a
# decimal comma of one or two places ("12,5"), European ("1.234,50", "1 234,50", "1.000.000")
# or grouped by spaces ("1 234"); a currency sign or code around it is dropped. "1,234" is a
# thousand and more, never 1.234; "1.234" alone is read with a decimal point.
_CURRENCY = re.compile(
    r"^(?:[$€£¥]|usd|eur|gbp|chf|cad|aud)\s*|\s*(?:[$€£¥]|usd|eur|gbp|chf|cad|aud)$", re.I
)
_GROUPED = r"[+-]?[1-9]\d{0,2}"  # a grouped amount's first group: no leading zero ("0,500")
_AMOUNTS = (
    (re.compile(r"[+-]?\d+(?:\.\d+)?"), lambda t: t),
    (re.compile(rf"{_GROUPED}(?:,\d{{3}})+(?:\.\d+)?"), lambda t: t.replace(",", "")),
    (re.compile(r"[+-]?\d+,\d{1,2}"), lambda t: t.replace(",", ".")),
    (
        re.compile(rf"{_GROUPED}(?:[.\s]\d{{3}})+,\d+|{_GROUPED}(?:\.\d{{3}}){{2,}}"),
        lambda t: re.sub(r"[.\s]", "", t).replace(",", "."),
    ),
    (re.compile(rf"{_GROUPED}(?:\s\d{{3}})+"), lambda t: re.sub(r"\s", "", t)),
)


def parse_amount(text: str) -> float | None:
    """``text`` read as an amount ("1,234.50", "1.234,50 EUR", "$1,200"); None when it is none."""
    text = _CURRENCY.sub("", text.strip())
    for pattern, plain in _AMOUNTS:
        if pattern.fullmatch(text):
            return float(plain(text))
    return None
