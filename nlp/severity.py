"""How bad a comment or pain point is: a 0-1 severity built from parts that are kept.

Parts:

* ``source``: the source's own signal where it has one: review stars, NPS or CSAT.
* ``text``: sentiment of the words (VADER, with a few customer-service terms added).
* ``intensity``: cues such as "never again", "cancel", "switching to", repetition, capitals.

The severity is the weighted mean of the parts that exist (weights from config).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# VADER's lexicon lacks several words customers use about service; scores on its -4..4 scale.
SERVICE_LEXICON = {
    "unacceptable": -2.8,
    "ridiculous": -2.2,
    "useless": -2.4,
    "nightmare": -2.8,
    "scam": -3.0,
    "rip-off": -2.8,
    "ripoff": -2.8,
    "overcharged": -2.2,
    "broken": -2.0,
    "crashes": -1.8,
    "crash": -1.8,
    "late": -1.2,
    "delayed": -1.4,
    "waiting": -0.8,
    "still": -0.3,
    "hidden": -1.2,
    "rude": -2.3,
    "confusing": -1.6,
    "unclear": -1.4,
    "impossible": -1.8,
    "refused": -1.6,
    "logged": -0.2,
    "worst": -3.1,
}

INTENSITY_CUES: dict[str, re.Pattern[str]] = {
    "never_again": re.compile(r"\bnever (again|ever)\b|\bnever buying\b", re.I),
    "cancel": re.compile(r"\bcancel(l?ing|l?ed)?\b|\bclose my account\b", re.I),
    "switching": re.compile(
        r"\bswitch(ing)? to\b|\bmoving to\b|\bgo(ing)? elsewhere\b|\bcompetitor\b", re.I
    ),
    "repetition": re.compile(
        r"\b(again and again|every (single )?time|(third|fourth|fifth|\d+(st|nd|rd|th)) time|still)\b",
        re.I,
    ),
    "exclamation": re.compile(r"!{2,}"),
    "superlative": re.compile(
        r"\b(worst|terrible|awful|horrible|disgusting|unacceptable|appalling)\b", re.I
    ),
    "legal_or_public": re.compile(
        r"\b(lawyer|legal action|ombudsman|trading standards|report you|chargeback)\b", re.I
    ),
}
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_NOT_SHOUTING = {
    "NPS",
    "CSAT",
    "USB",
    "APP",
    "PIN",
    "FAQ",
    "USA",
    "UK",
    "EUR",
    "USD",
    "ETA",
    "ASAP",
}

DEFAULT_WEIGHTS = {"source": 0.4, "text": 0.35, "intensity": 0.25}


class SentimentAnalyzer(Protocol):
    """Anything with VADER's ``polarity_scores``."""

    def polarity_scores(self, text: str) -> Mapping[str, float]:
        """Return at least a ``compound`` score in [-1, 1]."""


@dataclass(frozen=True)
class Severity:
    """A severity in [0, 1], the sentiment it used, and every part it was built from."""

    value: float
    sentiment: float
    parts: dict[str, Any] = field(default_factory=dict)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentence_sentiment(text: str, analyzer: SentimentAnalyzer) -> float:
    """VADER compound of ``text``, scored sentence by sentence.

    VADER lets a "not" flip words up to three tokens later, across sentence ends ("Refund still
    not here. Absolutely unacceptable." scores positive as a whole). Scoring each sentence and
    letting the most negative one speak avoids that.
    """
    compounds = [
        float(analyzer.polarity_scores(sentence)["compound"])
        for sentence in _SENTENCE_END.split(text)
        if sentence.strip()
    ]
    if not compounds:
        return 0.0
    worst = min(compounds)
    return worst if worst < -0.05 else sum(compounds) / len(compounds)


def source_signal(rating: int | None, score: int | None, score_kind: str | None) -> float | None:
    """Map review stars, NPS or CSAT onto 0 (delighted) .. 1 (furious); None without one."""
    if rating is not None:
        return (5 - min(max(rating, 1), 5)) / 4
    if score is not None and score_kind == "nps":
        return (10 - min(max(score, 0), 10)) / 10
    if score is not None and score_kind == "csat":
        return (5 - min(max(score, 1), 5)) / 4
    return None


def intensity_cues(text: str) -> list[str]:
    """Return the names of the intensity cues found in ``text``."""
    found = [name for name, pattern in INTENSITY_CUES.items() if pattern.search(text)]
    # A word of X's is an export's mask for what it redacted (the CFPB's "XXXX"), not a shout.
    shouted = [w for w in _CAPS_WORD.findall(text) if w not in _NOT_SHOUTING and w.strip("X")]
    if shouted and not text.isupper() or len(shouted) >= 2:
        found.append("capitals")
    return found


def intensity_score(cues: list[str]) -> float:
    """Turn cue names into 0..1: each cue adds a quarter, capped at 1."""
    return min(1.0, 0.25 * len(cues))


def add_service_lexicon(analyzer: Any) -> Any:
    """Extend a VADER analyzer's lexicon with customer-service terms; return it."""
    analyzer.lexicon.update(SERVICE_LEXICON)
    return analyzer


def score_severity(
    text: str,
    analyzer: SentimentAnalyzer,
    *,
    rating: int | None = None,
    score: int | None = None,
    score_kind: str | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> Severity:
    """Score how bad ``text`` is, using the source's signal when given.

    Args:
        text: A comment or one pain-point sentence.
        analyzer: A VADER ``SentimentIntensityAnalyzer`` (passed in: nlp/ loads nothing).
        rating: Review stars 1-5, if any.
        score: NPS (0-10) or CSAT (1-5) score, if any.
        score_kind: ``nps`` or ``csat``.
        weights: Weight of each part; parts that are missing are left out and the rest rescaled.
    """
    compound = sentence_sentiment(text, analyzer)
    cues = intensity_cues(text)
    parts: dict[str, Any] = {
        "source": source_signal(rating, score, score_kind),
        "text": round((1 - compound) / 2, 4),
        "intensity": intensity_score(cues),
        "cues": cues,
    }
    total = weight_sum = 0.0
    for name in ("source", "text", "intensity"):
        value = parts[name]
        if value is not None:
            total += weights.get(name, 0.0) * value
            weight_sum += weights.get(name, 0.0)
    value = total / weight_sum if weight_sum else 0.0
    return Severity(round(min(max(value, 0.0), 1.0), 4), round(compound, 4), parts)
