"""Helpers of :mod:`nlp.pii_engine`: logins after their field, and further mentions."""

from __future__ import annotations

import regex
from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from nlp.wordlists import NAME_END, NOT_LOGINS, NOT_NAMES

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
