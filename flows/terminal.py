r"""Text printed to a terminal: what a customer, a file name or a setting holds, shown as written.

Rich strips only a few control characters (bell, backspace, carriage return, ...). An escape
character passes, and with it whatever a terminal does on an escape sequence: clear the
screen, retitle the window, show a link whose target it hides. Bidi controls reorder what
follows them. :func:`shown` writes each such character as its Python escape (``\x1b``,
``\u202e``), visibly, so a cron mail or an analyst's terminal shows what is there.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape as escape_markup

# Kept: line breaks and tabs (a table cell may hold lines), and the joiners emoji and joined
# scripts need ("👨\u200d👩", Persian), which move nothing.
_KEPT = frozenset("\n\t\u200c\u200d")
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def shown(text: str) -> str:
    """``text`` with each control, format or line-separator character written as its escape."""
    if text.isprintable() and text.isascii():
        return text  # the common case
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if ch not in _KEPT and unicodedata.category(ch) in _HIDDEN
        else ch
        for ch in text
    )


def escape(text: str) -> str:
    """``text`` :func:`shown`, and escaped for Rich's markup (``[bold]`` printed as typed)."""
    return escape_markup(shown(text))
