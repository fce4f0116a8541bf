"""Per-comment enrichment: language, sentence units and severity, as pure computation.

:func:`compute_units` turns comments into the rows of ``comment_enrichment`` and ``units``
(:class:`CommentEnrichment`, :class:`Unit`). It reads no file and no database: the models
come in already loaded, so it runs the same in the flow process and on a Dask worker.
:func:`enrich_version` says which settings change its output.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from config import Settings
from config.taxonomy import Taxonomy
from nlp.embed import text_hash
from nlp.language import detect_language, primary_language
from nlp.normalize import Rules, normalise
from nlp.rows import PendingComment, unit_id_of
from nlp.severity import score_severity
from nlp.units import split_sentences

# Bump when the unit splitting or severity code changes meaning: every comment is re-enriched.
# v2: noun chunks keep a negating determiner ("no refund"); v3: run-on sentences cut into clauses;
# v4: Chinese and Japanese text cut at its full stops, words with combining marks kept; v5: an
# export's mask ("XXXX") is no shouting.
UNITS_CODE_VERSION = "units-v5"
# Bump when language detection changes meaning (nlp/language.py or the detector).
LANGUAGE_CODE_VERSION = "lingua-v1"
# Bump when the normalisation rules (nlp/normalize_rules.py) change meaning: every comment is
# re-enriched. v2: a line that is often a whole comment is no boilerplate, and the rule never
# empties a comment. v3: a Title Case complaint is no greeted name. v4: a sentence under a
# sign-off is no signature.
NORMALISE_CODE_VERSION = "normalise-v4"


class EnrichModels(Protocol):
    """The loaded models :func:`compute_units` needs."""

    @property
    def spacy(self) -> Any:
        """The spaCy pipeline."""

    @property
    def sentiment(self) -> Any:
        """VADER (``polarity_scores``)."""

    @property
    def language_fallback(self) -> Callable[[str], list[tuple[str, float]]]:
        """The language detector: (ISO code, confidence) pairs, best first."""

    def matcher(self, taxonomy: Taxonomy) -> Any:
        """The spaCy matcher of the taxonomy's stage and theme patterns."""


@dataclass(frozen=True)
class CommentEnrichment:
    """One row of ``comment_enrichment``: a comment's language, severity and unit count."""

    comment_id: str
    content_hash: str
    enrich_version: str
    language: str
    language_confidence: float
    language_supported: bool
    text_hash: str
    sentiment: float
    severity: float
    severity_parts: str
    unit_count: int
    enriched_at: datetime


@dataclass(frozen=True)
class Unit:
    """One row of ``units``: a sentence of a comment, with its position, tokens and severity."""

    unit_id: str
    comment_id: str
    unit_index: int
    start_char: int
    end_char: int
    text: str
    text_hash: str
    lemmas: list[str]
    noun_chunks: list[str]
    negated: bool
    pattern_hits: str
    sentiment: float
    severity: float
    severity_parts: str


def normalise_overrides(settings: Settings) -> dict[str, dict[str, bool]]:
    """The normalisation rules sources set themselves (the rest take their channel's default).

    Only these enter :func:`enrich_version`: adding a source with the defaults re-enriches
    nothing, changing a source's rules re-enriches every comment.
    """
    return {
        s.name: s.normalise.model_dump(exclude_none=True)
        for s in settings.sources
        if s.normalise.model_dump(exclude_none=True)
    }


def enrich_version(settings: Settings, taxonomy: Taxonomy) -> str:
    """Everything that changes units or severity; a change re-enriches every comment.

    The taxonomy's patterns are matched in each sentence as it is split (``units.pattern_hits``):
    an edited pattern re-enriches every comment too, or old comments would keep the old hits.
    """
    payload = json.dumps(
        {
            "patterns": taxonomy.patterns_hash,
            "spacy": settings.models.spacy,
            "code": UNITS_CODE_VERSION,
            "weights": settings.enrich.severity_weights,
            "languages": settings.enrich.supported_languages,
            "multilingual": settings.models.multilingual,
            "comment_vectors": settings.enrich.comment_vectors,
            "normalise": [NORMALISE_CODE_VERSION, normalise_overrides(settings)],
            "language": [LANGUAGE_CODE_VERSION, settings.enrich.language_min_confidence],
            "run_on": [settings.enrich.run_on_words, settings.enrich.clause_words],
            # Only when set, so that a warehouse enriched before the option is not redone; 2: the
            # cut's version (v2 skips "nothing but", "even though").
            **({"contrast": [2, contrast]} if (contrast := settings.enrich.contrast_words) else {}),
            "pain_threshold": settings.tagging.pain_threshold,
        },
        sort_keys=True,
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:12]


def compute_units(
    comments: Sequence[PendingComment],
    settings: Settings,
    taxonomy: Taxonomy,
    *,
    stamp: datetime,
    models: EnrichModels,
    boilerplate: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[CommentEnrichment], list[Unit]]:
    """Split comments into sentence units with language and severity; touches no database.

    Each text is normalised first (:func:`nlp.normalize.normalise`, with its source's rules):
    a unit's ``text`` (what is embedded and clustered) is the normalised sentence, while its
    ``start_char``/``end_char`` point at the customer's words in the stored comment, which
    the report quotes. Severity reads the original sentence (its emoji and "!!!" included).

    Args:
        comments: The comments to enrich.
        settings: The settings (models, languages, severity weights, spaCy batch size).
        taxonomy: The taxonomy whose stage and theme patterns are matched in each sentence.
        stamp: The ``enriched_at`` time written with every comment.
        models: The loaded models (spaCy, VADER, the language detector).
        boilerplate: Per source, its boilerplate keys (:func:`nlp.normalize_rules.find_boilerplate`).

    Returns:
        ``(enrichments, units)``: one :class:`CommentEnrichment` per comment and one
        :class:`Unit` per sentence, ready for ``warehouse.enrichment.replace_units``.
    """
    version = enrich_version(settings, taxonomy)
    supported = set(settings.enrich.supported_languages)
    weights = settings.enrich.severity_weights
    enrichments: list[CommentEnrichment] = []
    units: list[Unit] = []
    rules = {s.name: Rules(**s.normalise_rules()) for s in settings.sources}
    normalised = [
        normalise(c.text, rules.get(c.source, Rules()), (boilerplate or {}).get(c.source, ()))
        for c in comments
    ]
    sentences_per_comment = split_sentences(
        models.spacy,
        (n.text for n in normalised),
        matcher=models.matcher(taxonomy),
        batch_size=settings.enrich.spacy_batch_size,
        run_on_words=settings.enrich.run_on_words,
        clause_words=settings.enrich.clause_words,
        contrast_words=settings.enrich.contrast_words,
    )
    for comment, norm, sentences in zip(comments, normalised, sentences_per_comment, strict=True):
        if comment.language:
            language, confidence = primary_language(comment.language), 1.0
        else:
            guess = detect_language(
                comment.text,
                models.language_fallback,
                min_confidence=settings.enrich.language_min_confidence,
            )
            language, confidence = guess.code, guess.confidence
        is_supported = settings.models.multilingual or language in supported or language == "und"
        signal = {
            "rating": comment.rating,
            "score": comment.score,
            "score_kind": comment.score_kind,
        }
        severity = score_severity(comment.text, models.sentiment, weights=weights, **signal)
        enrichments.append(
            CommentEnrichment(
                comment_id=comment.comment_id,
                content_hash=comment.content_hash,
                enrich_version=version,
                language=language,
                language_confidence=confidence,
                language_supported=is_supported,
                text_hash=text_hash(comment.text),
                sentiment=severity.sentiment,
                severity=severity.value,
                severity_parts=json.dumps(severity.parts),
                unit_count=len(sentences),
                enriched_at=stamp,
            )
        )
        for sentence in sentences:
            start, end = norm.original_span(sentence.start, sentence.end)
            unit_severity = score_severity(
                comment.text[start:end], models.sentiment, weights=weights, **signal
            )
            units.append(
                Unit(
                    unit_id=unit_id_of(comment.comment_id, sentence.index),
                    comment_id=comment.comment_id,
                    unit_index=sentence.index,
                    start_char=start,
                    end_char=end,
                    text=sentence.text,
                    text_hash=text_hash(sentence.text),
                    lemmas=list(sentence.lemmas),
                    noun_chunks=list(sentence.noun_chunks),
                    negated=sentence.negated,
                    pattern_hits=json.dumps([hit.__dict__ for hit in sentence.hits]),
                    sentiment=unit_severity.sentiment,
                    severity=unit_severity.value,
                    severity_parts=json.dumps(unit_severity.parts),
                )
            )
    return enrichments, units


def unsupported_languages(enrichments: Sequence[CommentEnrichment]) -> Counter[str]:
    """How many of the comments in ``enrichments`` are in each unsupported language."""
    return Counter(e.language for e in enrichments if not e.language_supported)
