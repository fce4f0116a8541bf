"""What the report shows, as plain data: the publish flow fills it, the renderers draw it.

Every customer text here is already PII-redacted; the HTML renderer still escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from warehouse.ranking import StageThemeCounts


@dataclass(frozen=True)
class Quote:
    """A representative comment, with the pain-point sentence to highlight."""

    comment_id: str
    channel: str  # review / ticket / survey
    created_at: datetime
    text: str  # the comment (redacted), possibly shortened around the sentence
    highlight_start: int  # the pain-point sentence's character span within ``text``
    highlight_end: int


@dataclass(frozen=True)
class ScorePart:
    """One component of a hassle's score."""

    key: str  # reach, severity, trend, spread, repeat, value, impact
    label: str  # "Reach", "Severity", ...
    value: float  # normalised 0..1
    weight: float  # its weight in the total (weights sum to 1 over the parts used)
    contribution: float  # value * weight: its share of the total score
    detail: str  # human explanation, e.g. "412 customers, 530 comments"


@dataclass(frozen=True)
class RankedHassle:
    """One row of the ranking, with everything the report says about it."""

    rank: int
    hassle_id: str
    label: str
    stage: str | None
    theme: str | None
    score: float  # 0..1
    parts: tuple[ScorePart, ...]
    customers: int
    comments: int
    severity_mean: float
    trend_label: str  # "rising", "falling", "steady", "new"
    trend_detail: str  # e.g. "+180% in the last 7 days (p = 0.002)"
    daily_counts: tuple[tuple[date, int], ...]  # for the sparkline, oldest first, gap-free
    channel_mix: dict[str, int]  # channel -> comments
    quotes: tuple[Quote, ...]  # up to 3
    # Its move in rank since the previous ranking: "new", "rising" (a better rank), "falling"
    # or "steady"; empty in a filtered report (the stored rankings are unfiltered).
    change: str
    keyphrases: tuple[str, ...] = ()
    generic: bool = False  # too unspecific to act on: its sentences name no concrete problem
    level: str = "child"  # "child" (a specific hassle) or "parent" (a group of children)
    parent_id: str | None = None  # a child's parent, when the clustering has two levels
    specificity: float | None = None  # 0..1, how specific its sentences are; None: not measured
    # Share of its sentences tagged with its stage / theme (the rest: others or none); None:
    # not known (a stored ranking row).
    stage_share: float | None = None
    theme_share: float | None = None
    # A parent's ranked children, in rank order (their ranks are among all children).
    children: tuple[RankedHassle, ...] = ()
    # Its rank in the previous ranking; None when it was not there or is not known (a
    # filtered report, a stored ranking row).
    previous_rank: int | None = None


@dataclass(frozen=True)
class ReportData:
    """The whole report."""

    title: str
    generated_at: datetime
    run_id: str
    window_start: date
    window_end: date
    filters: dict[str, str]  # e.g. {"channel": "ticket"}; empty when none
    # In rank order, already cut to --top: the parents (each with its children) when the
    # clustering has two levels, then any child without a parent; else the hassles.
    hassles: tuple[RankedHassle, ...]
    stages: tuple[
        tuple[str, str], ...
    ]  # (key, display name) in journey order, need awareness .. need end
    themes: tuple[tuple[str, str], ...]  # (key, display name)
    heatmap: StageThemeCounts  # pain-point comments by stage and theme key, and their totals
    figures: dict[str, str]  # run coverage and quality figures, display name -> value
    resolved: tuple[tuple[str, str], ...] = ()  # (hassle id, label) retired since the last run
    empty_note: str = ""  # why there is no hassle, when there is none
    score_note: str = ""  # how scores add up, and the weighted parts left out for lack of data

    @property
    def two_level(self) -> bool:
        """Whether the report shows parent hassles with their children."""
        return any(h.level == "parent" for h in self.hassles)
