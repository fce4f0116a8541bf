"""PII redaction for everything published: emails, payment card numbers and phone numbers.

Emails go first (an address may hold digits), then cards (13-19 digits passing the Luhn check,
so an order number that fails it stays), then phones, so a card never reads as a phone. Dates,
times, prices and short numbers are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Digits in a run, in groups of four (Visa, Mastercard, ...), or 4-6-4/5 (Amex, Diners).
_CARD = re.compile(
    r"""(?<!\d)(?<!\d[ -])(?:
        \d{13,19}
      | \d{4}([ -])\d{4}\1\d{4}\1\d{1,7}
      | \d{4}([ -])\d{6}\2\d{4,5}
    )(?!\d)(?![ -]\d)""",
    re.VERBOSE,
)
_PHONE = re.compile(
    r"""(?<![\w+])(?<!\d[-.])(?:
        \+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){1,6}    # +44 20 7946 0958, +1-202-555-0143
      | (?:1[ .-])?\(\d{3}\)[ ]?\d{3}[ .-]\d{4}             # (202) 555-0143
      | (?:1([ .-]))?\d{3}([ .-])\d{3}\2\d{4}               # 202-555-0143, 202.555.0143
      | 0\d{4}[ ]?\d{6}                                     # 07700 900123
      | 0\d{3}[ ]?\d{3}[ ]?\d{4}                            # 0161 496 0000
      | 0\d{2}[ ]?\d{4}[ ]?\d{4}                            # 020 7946 0958
    )(?!\w)(?![-.]\d)""",
    re.VERBOSE,
)
_MIN_PHONE_DIGITS = 7
_MAX_PHONE_DIGITS = 15


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return "[phone]" if _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS else match.group()


def redact_pii(text: str) -> str:
    """Replace emails with [email], phone numbers with [phone], payment card numbers with [card].

    Args:
        text: Any text.

    Returns:
        The text with each piece of PII replaced by its placeholder; everything else unchanged.
    """
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


def redact_many(texts: Iterable[str]) -> list[str]:
    """Redact each text with :func:`redact_pii`.

    Args:
        texts: The texts.

    Returns:
        The redacted texts, in order.
    """
    return [redact_pii(text) for text in texts]
