"""Rows that nlp/ computes on and warehouse/ reads or writes, in one place for both.

Pure data, no imports of the project, so that warehouse/ can hold them without pulling in the
NLP code (enrich loads language detection; two_level loads redaction, which loads Presidio).
"""

from __future__ import annotations

from dataclasses import dataclass


def unit_id_of(comment_id: str, index: int) -> str:
    """The id of a comment's ``index``-th sentence unit: ``<comment_id>:<index>``."""
    return f"{comment_id}:{index}"


def comment_of(unit_id: str) -> str:
    """The comment id a unit id (:func:`unit_id_of`) belongs to; an id without one, itself."""
    return unit_id.rpartition(":")[0] or unit_id


@dataclass(frozen=True)
class PendingComment:
    """A stored comment that needs (re-)enrichment, as enrich reads it."""

    comment_id: str
    text: str
    content_hash: str
    rating: int | None
    score: int | None
    score_kind: str | None
    language: str | None
    source: str = ""


@dataclass(frozen=True)
class HassleRow:
    """One hassle as tonight sees it, in the columns of ``hassle_runs`` (but the run id)."""

    hassle_id: str
    cluster: int
    status: str
    matched_from: str | None
    match_score: float | None
    label: str
    keyphrases: list[str]
    stage: str | None
    stage_share: float | None
    theme: str | None
    theme_share: float | None
    quote_unit_ids: list[str]
    units: int
    units_core: int
    level: str
    parent_id: str | None
    specificity: float | None
