"""Text cleaning for customer feedback: pure functions, no I/O."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

import regex

# The HTML elements (WHATWG's, and the obsolete ones pasted markup still carries). Only these,
# comments and doctypes are markup: "<annoyed>", "<3" and "a<b" are the customer's words.
_HTML_TAG_NAMES = """
    a abbr acronym address applet area article aside audio b base basefont bdi bdo big blink
    blockquote body br button canvas caption center cite code col colgroup data datalist dd
    del details dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form
    frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd
    label legend li link main map mark marquee math menu meta meter nav nobr noembed noframes
    noscript object ol optgroup option output p param picture plaintext pre progress q rb rp
    rt rtc ruby s samp script search section select slot small source span strike strong
    style sub summary sup svg table tbody td template textarea tfoot th thead time title tr
    track tt u ul var video wbr xmp
"""
HTML_TAGS = frozenset(_HTML_TAG_NAMES.split())
_TAG_NAMES = "|".join(sorted(HTML_TAGS, key=len, reverse=True))
_TAG = re.compile(
    rf"</?(?:{_TAG_NAMES})(?=[\s/>])[^<>]*>|<!--.*?-->|<!doctype\b[^<>]*>",
    re.IGNORECASE | re.DOTALL,
)
_BLOCK_TAG = re.compile(
    r"<\s*(?:br|/p|p|/div|div|/li|li|/h[1-6]|tr|/tr)(?=[\s/>])[^<>]*>", re.IGNORECASE
)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(
    r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+"
)  # U+200B has no width: invisible
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")

REPLACEMENT_CHAR = "\ufffd"

# Format characters (Unicode category Cf) that display as nothing: soft hyphen, zero-width
# space, word joiner, byte order mark, bidi controls and marks, invisible operators. Not the
# prepended concatenation marks (the Arabic number signs: they show), nor the joiners and tags
# emoji and scripts need (_LOOSE_JOINER, _LOOSE_TAGS).
_FORMAT = regex.compile(
    r"[\p{Cf}--[\u200c\u200d\p{Prepended_Concatenation_Mark}\U000E0020-\U000E007F]]+", regex.V1
)
# Zero-width joiners and non-joiners join emoji ("👨‍👩‍👧") and letters of scripts that join
# (Persian, Indic), never an ASCII character: beside one (or an end) they only hide.
_LOOSE_JOINER = regex.compile(r"(?<![^\x00-\x7f])[\u200c\u200d]+|[\u200c\u200d]+(?![^\x00-\x7f])")
# Tag characters spell a flag after its black flag ("🏴" + "gbsct" + cancel tag); after an
# ASCII character they spell nothing that shows.
_LOOSE_TAGS = regex.compile(r"(?<![^\x00-\x7f])[\U000E0020-\U000E007F]+")
# Variation selectors and the combining grapheme joiner (category Mn) choose how an emoji or
# an ideograph shows; after an ASCII character they show nothing, unless a keycap follows
# ("1\ufe0f\u20e3").
_LOOSE_SELECTORS = regex.compile(
    r"(?<=[\x00-\x7f])[\u034f\ufe00-\ufe0f\U000E0100-\U000E01EF]+(?!\u20e3)"
)


@dataclass(frozen=True)
class CleanText:
    """A cleaned text and the repairs made to it (empty when none were needed)."""

    text: str
    flags: tuple[str, ...] = field(default=())


def looks_like_html(text: str) -> bool:
    """Return True when ``text`` holds HTML tags (of :data:`HTML_TAGS`), comments or entities."""
    return bool(_TAG.search(text) or _ENTITY.search(text))


def strip_html(text: str) -> str:
    """Decode entities, then remove tags (keeping their words), block tags becoming line breaks.

    Only HTML's own tags (:data:`HTML_TAGS`), comments and doctypes are removed: other text in
    angle brackets (``<annoyed>``, ``<3``) is the customer's, and kept.

    Entities are decoded first so that ``&lt;script&gt;`` is removed as the tag it spells
    rather than stored as live markup; removal repeats until nothing tag-like is left, so
    ``<<b>script>`` cannot reassemble into ``<script>``. An export that encoded its entities
    twice (``it&amp;#39;s``) is decoded twice.
    """
    decoded = html.unescape(text)
    if "&amp;" in text:  # the entities it held whole ("&amp;#39;"), not a bare "&amp;region"
        decoded = _ENTITY.sub(lambda m: html.unescape(m.group()), decoded)
    text = decoded
    while True:
        stripped = _TAG.sub("", _BLOCK_TAG.sub("\n", _SCRIPT_STYLE.sub(" ", text)))
        if stripped == text:
            return text
        text = stripped


def remove_invisible(text: str) -> str:
    r"""Remove the format characters that display as nothing, and hide what they split.

    "4111\xad1111\xad1111\xad1111" (soft hyphens) reads as a card number, "07700\u2060900123"
    (a word joiner) as a phone number, "john.smith@gmail\u200b.com" (a zero-width space) as an
    e-mail address; no pattern sees them so. Removed: the format characters (Unicode category
    Cf: soft hyphen, zero-width space, word joiner, byte order mark, bidi controls and marks,
    ...); the zero-width joiner and non-joiner (U+200D, U+200C) beside an ASCII character or an
    end of the text; tag characters (U+E0020 to U+E007F) after an ASCII character or at the
    start; variation selectors and the combining grapheme joiner after an ASCII character
    ("4111\ufe0f1111"), unless a keycap follows. Kept, as what they make shows: joiners
    between other characters (emoji sequences "👨\u200d👩", Persian and Indic letters), tags
    after other characters (the flag "🏴\U000e0067\U000e0062..."), the Arabic number signs (Cf,
    but they show), variation selectors after other characters ("❤\ufe0f") and in keycaps.

    Used by :func:`clean_text` at ingest, and by :func:`nlp.redact.redact_pii` before it
    matches, for the texts stored before ingest removed them.
    """
    if text.isascii():
        return text
    text = _FORMAT.sub("", text)
    if "\u200c" in text or "\u200d" in text:
        text = _LOOSE_JOINER.sub("", text)
    if max(text, default="") >= "\U000e0020":  # planes 14 to 16 only: tags, private use
        text = _LOOSE_TAGS.sub("", text)
    return _LOOSE_SELECTORS.sub("", text)


def normalise_whitespace(text: str) -> str:
    r"""Collapse runs of spaces, keep at most one blank line between paragraphs, trim.

    Line breaks are written "\n", also Unicode's line and paragraph separators.
    """
    if text.isprintable() and "  " not in text:
        return text.strip()  # the common case: one line of ordinary text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")  # line, paragraph separators
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def truncate(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` characters, at a word boundary where one is near."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ", max(0, max_chars - 40))
    return (cut[:space] if space > 0 else cut).rstrip()


def clean_text(text: str, *, max_chars: int) -> CleanText:
    r"""Clean one piece of customer text and say which repairs were made.

    Flags: ``html_stripped`` (tags removed, words kept), ``invalid_utf8`` (the source had
    bytes that were decoded with replacement), ``truncated`` (longer than ``max_chars``).
    Invisible format characters (:func:`remove_invisible`) are removed without a flag: they
    show nothing, and what they split ("4111\xad1111...") shows whole.
    """
    flags = []
    if REPLACEMENT_CHAR in text:
        flags.append("invalid_utf8")
    if ("<" in text or "&" in text) and looks_like_html(text):
        text = strip_html(text)
        flags.append("html_stripped")
    text = normalise_whitespace(remove_invisible(text))
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if len(text) > max_chars:
        text = truncate(text, max_chars)
        flags.append("truncated")
    return CleanText(text, tuple(flags))


def join_parts(parts: list[str]) -> str:
    """Join the cleaned parts of one comment (title and body, say) into one readable text.

    A part without closing punctuation gets a full stop, so that sentence splitting later keeps
    a title apart from the body. A part repeated verbatim (a title that is the body's first
    line) is kept once.
    """
    out: list[str] = []
    for part in parts:
        if not part or any(part == kept or kept.startswith(part) for kept in out):
            continue
        out.append(part)
    joined = []
    for index, part in enumerate(out):
        if index < len(out) - 1 and part[-1] not in ".!?:;…)\"'":
            part += "."
        joined.append(part)
    return "\n\n".join(joined)
