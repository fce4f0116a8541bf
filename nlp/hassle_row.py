"""One hassle as one run sees it: the row both the cluster step and the warehouse speak.

Pure data, no imports of the project, so that warehouse/ can hold it without pulling in the
NLP models (two_level imports redaction, which loads Presidio).
"""

from __future__ import annotations

from dataclasses import dataclass


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
