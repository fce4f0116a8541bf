"""Language detection: a fast English check first, a statistical detector for the rest."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Frequent English function words; a text made mostly of ASCII words with several of these is
# English, and the slower detector is skipped (most comments, at about a microsecond each).
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "i",
        "my",
        "me",
        "we",
        "you",
        "your",
        "it",
        "is",
        "was",
        "are",
        "were",
        "be",
        "been",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "this",
        "that",
        "have",
        "has",
        "had",
        "not",
        "no",
        "do",
        "did",
        "does",
        "can",
        "can't",
        "cannot",
        "don't",
        "didn't",
        "won't",
        "so",
        "just",
        "still",
        "again",
        "after",
        "before",
        "from",
        "they",
        "them",
        "their",
        "there",
        "what",
        "when",
        "why",
        "how",
    ]
)
_WORD = re.compile(r"[a-zA-Z']+")


@dataclass(frozen=True)
class LanguageGuess:
    """A detected language (ISO 639-1) with a confidence and how it was found."""

    code: str
    confidence: float
    method: str


def detect_language(
    text: str, fallback: Callable[[str], list[tuple[str, float]]] | None = None
) -> LanguageGuess:
    """Guess the language of ``text``.

    Args:
        text: The comment.
        fallback: A detector returning ``[(code, probability), ...]`` best first (for example
            langdetect's ``detect_langs`` adapted), used when the quick English check is unsure.
            Without one, unsure texts come back as ``und`` (undetermined).
    """
    words = _WORD.findall(text.lower())
    if words and text.isascii():
        english = sum(word in _ENGLISH for word in words) / len(words)
        if len(words) >= 4 and english >= 0.2:
            return LanguageGuess("en", round(min(1.0, 0.5 + english), 3), "stopwords")
        if len(words) < 4 and english > 0:
            return LanguageGuess("en", 0.5, "stopwords")
    if fallback is None:
        return LanguageGuess("und", 0.0, "none")
    guesses = fallback(text)
    if not guesses:
        return LanguageGuess("und", 0.0, "detector")
    code, probability = guesses[0]
    return LanguageGuess(code, round(float(probability), 3), "detector")
