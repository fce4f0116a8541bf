"""Helpers of :mod:`nlp.pii_engine`: e-mail and phone patterns, logins, signatures, mentions."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import phonenumbers  # Presidio's own phone library
import regex
from presidio_analyzer import PatternRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from nlp.wordlists import (
    CHAT,
    GENERIC,
    NAME_END,
    NOT_LOGINS,
    NOT_NAMES,
    SIGN_OFF_LINE,
    SIGNATURE_LINE,
    STOP,
)

# A domain's labels hold letters of any script ("müller-shop.de", "例え.jp"), digits and
# hyphens; its top level letters of any script ("пример.рф") or punycode ("xn--p1ai").
_LABEL = r"(?:[^\W_]|-)+"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*\.(?:xn--[a-z0-9-]+|[^\W\d_]{{2,}})\b"
# "@", its full-width form, its URL encoding ("reset?email=jane.doe%2Bnews%40gmail.com", the
# name's own escapes too) or a bracketed "at" ("jane.doe(at)gmail.com": no one writes that but
# to hide an address); a plain " at " only after a name of two letters or more, then "." or
# "_" and more ("jane.doe at gmail.com", "jd_84 at gmail.com"; not "looked at amazon.com",
# "PS5 at target.com", "v1.2 at github.com", "e.g. at amazon.co.uk").
_NAME = r"(?:[\w.+-]|%[0-9a-f]{2})+"
EMAIL = (
    rf"(?<![\w.+%-])(?:{_NAME}(?:@|\uff20|%40|\s*[(\[{{<]\s*at\s*[)\]}}>]\s*)"
    rf"|(?=[^\W\d_]{{2,}}[._]\w)[\w.+-]+\s+at\s+){_DOMAIN}"
)
"""An e-mail address, as a regex (of the ``regex`` module) to use case-blind."""
_DESK = (
    r"Support|Team|Service|Services|Help|Helpdesk|Desk|Care|Customer|Billing|Sales|Info|Inc|Ltd"
    r"|LLC|GmbH"
)
DISPLAY_NAME = (
    rf"(?<=(?:^|\n|[:,>])[ \t]*)(?![^<\n]*\b(?:{_DESK})\b)"
    r"\b\p{Lu}[\p{L}'’-]+(?:[ \t]+\p{Lu}[\p{L}'’.-]*){0,3}(?=[ \t]*<[^<>\s]+@[^<>\s]+>)"
)
"""An e-mail's display name, capitalised words before the address in angle brackets at a line's
start or after ":", "," or ">", as in a "From:" header or a quoted reply's "On Tue, Jane Doe
<jane@example.com> wrote:"; not a company's desk ("Nimbus Support"); case-sensitive."""
_AT = r"(?:\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+|\s*@\s*)"
_DOT = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"
# "bob at example dot com", "bob (at) example [dot] co [dot] uk": at least one spelled "dot".
# The name may be spelled too ("jane dot doe at ..."), and never starts on a stop word, so
# "write to me at jane dot doe at example dot com" matches from "jane", not "me".
# Each part and the count of parts are bounded (an address's name holds 64 characters at most,
# a label 63): unbounded, each word of "dot dot dot ..." started a match that ran to the text's
# end, quadratic in the words.
_LOCAL_PART = (
    r"(?!(?:" + "|".join(sorted(map(regex.escape, STOP_WORDS))) + r")\b)[a-z0-9][\w.+-]{0,63}"
)
SPELLED_EMAIL = (
    rf"\b{_LOCAL_PART}(?:{_DOT}[a-z0-9][\w.+-]{{0,63}}){{0,4}}{_AT}"
    rf"[a-z0-9-]{{1,63}}(?:(?:{_DOT}|\.)[a-z0-9-]{{1,63}}){{0,5}}{_DOT}[a-z]{{2,63}}\b"
)
"""A spelled-out e-mail address ("bob at example dot com"), as a regex to use case-blind."""


class SpelledEmailRecognizer(PatternRecognizer):
    """Spelled-out emails ("bob at example dot com"), unless a part is a stop word."""

    def invalidate_result(self, pattern_text: str) -> bool:
        """Whether the name or the domain's first part of ``pattern_text`` is a stop word."""
        parts = regex.split(rf"{_AT}|{_DOT}|\.", pattern_text.lower())
        return any(part in STOP_WORDS for part in parts[:2])


PHONE = r"""(?<![\w+#@])(?<!\d[-./])(?:
        \+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){1,6}    # +44 20 7946 0958, +1-202-555-0143
      | \(\+\d{1,3}\)[ ]?\d{2,10}(?:[ .-]\d{2,8}){0,4}       # +44 in brackets: 7700 900123
      | 00[1-9]\d{0,2}(?:[ .-]\(0\))?(?:[ .-]\d{2,10}){1,4}  # 0044 7700 900123
      | (?:1[ .-])?\(\d{3}\)[ ]?\d{3}[ .-]\d{4}             # (202) 555-0143
      | (?:1([ .-]))?\d{3}([ .-])\d{3}\2\d{4}               # 202-555-0143, 202.555.0143
      | 0\d{4}[ ./-]?\d{3}[ ./-]?\d{3}                      # 07700 900123, 07700-900-123
      | 0\d{3}[ ./-]?\d{3}[ ./-]?\d{4}                      # 0161 496 0000, 0161/496/0000
      | 0\d{2}[ ./-]?\d{4}[ ./-]?\d{4}                      # 020 7946 0958
      | 0\d{2,4}/\d{5,8}                                    # 030/12345678 (area code, slash)
      | 0[1-9](?:([ .-])\d{2}(?:\3\d{2}){3})                 # 06 12 34 56 78 (France, in pairs)
      | 01[5-7]\d[ /-]?\d{7,8}                             # 0151 23456789 (German mobile)
      | [6-9]\d{4}[ -]\d{5}                                # 98765 43210 (Indian mobile)
      | 1?[2-9]\d{9}                                        # 5551234567 (North American)
      | \d{3}[-.]\d{4}                                      # 555-1234
    )(?!\w)(?![-./]\d)"""
"""A phone number's shape, as a verbose regex to use case-sensitive (:class:`DigitCountPhoneRecognizer`)."""

# A line break between digits, an e-mail client's hard wrap or a line separator: "my card is
# 4111 1111 1111\n1111", "call me on 07700\n900123".
_WRAPPED_NUMBER = regex.compile(r"(?<=\d[ \t./_-]*)(?:\r\n|[\n\r\u2028\u2029\x85])(?=[ \t]*\d)")


def join_wrapped_numbers(text: str) -> str:
    """``text`` with each line break between digits a space, so a number wrapped across lines is one.

    The same length as ``text``: what is found in it lies at the same places in ``text``.
    """
    return _WRAPPED_NUMBER.sub(lambda m: " " * len(m.group()), text)


class DigitCountPhoneRecognizer(PatternRecognizer):
    """Phone-shaped matches with 7 to 15 digits ("+12 345" is too short for a phone).

    After the international prefix "00", a country code and a national number of a length that
    country has (libphonenumber): "0044 7700 900123", not "0012 3456 7890" nor "00123-4567".
    """

    def invalidate_result(self, pattern_text: str) -> bool:
        """Whether ``pattern_text`` holds too few or too many digits for a phone number."""
        digits = "".join(c for c in pattern_text if c.isdigit())
        if pattern_text.startswith("00"):
            try:
                number = phonenumbers.parse("+" + digits[2:], None)
            except phonenumbers.NumberParseException:
                return True
            return not phonenumbers.is_possible_number(number)
        return not 7 <= len(digits) <= 15


# letters, and a digit or "_": a login, never a word
GLUED = regex.compile(r"(?=[\w.+-]{4})(?=\w*[^\W\d_])(?=[\w.+-]*[\d_])")
_WORDY = regex.compile(r"(?:ing|ed|able|ible|ful|less|ous|ive|ly|tion|ment|ness)\Z")


def bare_login(cue: str) -> bool:
    """Whether ``cue`` is a bare "login is"/"login was" ("the login is laggy": no login)."""
    return regex.search(r"\blog-?in\s+(?:is|was)\s+\Z", cue, regex.I) is not None


def plain_login(word: str, first_names: frozenset[str]) -> bool:
    """Whether ``word``, letters only after a login's field, is one ("pellawintor", not "wrong")."""
    lower = word.lower()
    common = lower in STOP_WORDS or lower in NOT_NAMES or lower in NOT_LOGINS
    return lower in first_names or not (common or _WORDY.search(lower))


def mentions(text: str, found: list[RecognizerResult]) -> list[RecognizerResult]:
    """Further mentions of the names and logins ``found``, spelled the same.

    "My username is Mia Chaput. Only Mia Chaput ..." and "I spoke to Sarah and Sarah ...":
    their cue revealed them, in each mention.
    """
    more: list[RecognizerResult] = []
    for result in found:
        said = text[result.start : result.end]
        # a capitalised name: not a word in lower case ("call chase": "chase" the bank) nor an
        # export's own mask ("XXXX")
        if result.entity_type == "PERSON" and not regex.search(r"\p{Lu}\p{Ll}", said):
            continue
        if result.entity_type not in ("PERSON", "USERNAME"):
            continue
        # a login with a letter and a digit, "_" or ".": not a number ("user ID is 12345 and
        # order 12345") nor a word
        if result.entity_type == "USERNAME" and not regex.search(r"^(?=.*\p{L}).*[\d_.]", said):
            continue
        for match in regex.finditer(rf"(?<![\w@./]){regex.escape(said)}(?!/){NAME_END}", text):
            if all(match.end() <= r.start or r.end <= match.start() for r in found + more):
                more.append(RecognizerResult(result.entity_type, *match.span(), result.score))
    return more


NAME_WORD = regex.compile(r"\G(\s*)([^\W\d_](?:[^\W\d_]|['-](?=[^\W\d_]))*)" + NAME_END)
"""A name's word, from where the last ended: letters, inner apostrophes and hyphens, not part
of a login ("Kim.vandort77", "jd_walters") or an e-mail; a capital after a dot starts a
sentence ("Sarah.I need help")."""
# A line of capitalised words alone, its own cue: not mid-sentence ("the store in\nAustin") nor
# after a heading ("Product:\nJasmine Rice").
_NOT_AFTER = (
    r"(?<!:[ \t]*)(?<!(?i:\b(?:in|at|of|the|a|an|to|from|with|for|on|and|or|by|near|my|your|our"
    r"|their|his|her))[ \t]*)"
)
SIGN_OFF = regex.compile(_NOT_AFTER + SIGN_OFF_LINE)
r"""A message's last line that is a capitalised name alone: "...\n\nFatima", "Thanks!\n- Anna K."."""
SIGNATURE = regex.compile(_NOT_AFTER + SIGNATURE_LINE)
r"""A line above more text that is a capitalised name alone: "...\n\nSophie.\n\nStill broken"."""


def signed_names(text: str, is_name: Callable[..., bool]) -> list[tuple[int, int]]:
    """The spans of the names signed alone on a line of ``text``, each a signature.

    On the message's last line (:data:`SIGN_OFF`): a first name ``is_name`` knows, a courtesy
    word too ("Hope", signed: ``is_name(word, 0, signed=True)``), then known last names or
    initials ("Anna K."). On a line above more text, after a blank line or not
    (:data:`SIGNATURE`), where headings and one-word sentences stand too ("Hope.", "Spotify.",
    "Help!", "Ok."), only a line that is all name: a known first name that is no courtesy,
    generic or common word (:data:`nlp.wordlists.CHAT`, ``GENERIC``, ``STOP``), then
    capitalised surnames (no common word, not all capitals) or initials.
    """
    spans = []
    last = SIGN_OFF.search(text)
    if last:
        start = end = last.start("name")
        for position, match in enumerate(NAME_WORD.finditer(text, pos=start)):
            word = match.group(2)
            if match.start(2) >= last.end("name") or not (
                is_name(word, position, signed=True) or (position and len(word) == 1)  # initial
            ):
                break
            end = last.end("name") if position and len(word) == 1 else match.end()
        # a courtesy word ("Hope", "Love") is a name alone or before a surname or initial
        courtesy = text[start:end].split(" ")[0].lower() in CHAT
        if end > start and not (courtesy and end < last.end("name")):
            spans.append((start, end))
    for line in SIGNATURE.finditer(text):
        start, stop = line.span("name")
        found = []
        for match in NAME_WORD.finditer(text, pos=start):
            if match.start(2) >= stop:
                break
            found.append(match)
        words = [match.group(2) for match in found]
        if not found or len(words) != len(text[start:stop].split()):
            continue  # a word that is no name's ("Mk2")
        first = words[0].lower()
        if first in GENERIC or first in STOP or not is_name(words[0], 0):
            continue
        if not all(
            len(word) == 1 or (not word.isupper() and is_name(word, 1, intro=True))
            for word in words[1:]
        ):
            continue
        end = stop if len(words) > 1 and len(words[-1]) == 1 else found[-1].end()
        if (start, end) not in spans:
            spans.append((start, end))
    return spans


def name_key(word: str) -> str:
    """``word`` as the Census name lists spell it: lower case, no accent, no apostrophe.

    "José", "Zoë", "Léa", "O'Connor" are looked up as "jose", "zoe", "lea", "oconnor".
    """
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("'", ""))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
