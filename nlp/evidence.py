"""What a ranking is computed from: the inputs, the trend types and each hassle's evidence.

Plain frozen dataclasses, standard library only, so the factor registry (:mod:`nlp.factors`)
and the settings can import them without numpy or scipy. :mod:`nlp.measure` fills them;
:mod:`nlp.rank` ranks with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TREND_RISING = "rising"
TREND_FALLING = "falling"
TREND_STEADY = "steady"
TREND_NEW = "new"


@dataclass(frozen=True)
class Mention:
    """One comment that mentions a hassle (a comment counts once per hassle).

    Attributes:
        hassle_id: The hassle mentioned.
        comment_id: The comment; a repeated ``(hassle_id, comment_id)`` is counted once, at its
            highest severity.
        customer_id: Who wrote it; ``None`` = anonymous, counted as a customer of its own.
        channel: ``"review"``, ``"ticket"`` or ``"survey"``.
        created_at: When it was written (same timezone convention as ``as_of``).
        severity: 0..1, the highest severity among the comment's units in this hassle.
        score: Survey score of the comment, if any (informational; score impact uses the
            ``scored`` comments passed to :meth:`~nlp.rank.TransparentRanker.rank`).
        score_kind: ``"nps"`` (0-10) or ``"csat"`` (1-5), if scored.
        customer_value: Per-customer value from the source (e.g. annual revenue), if any.
        source: The configured source it came from; with it, trends compare shares source by
            source (two sources of one channel may start and stop apart), else channel by
            channel.
    """

    hassle_id: str
    comment_id: str
    customer_id: str | None
    channel: str
    created_at: datetime
    severity: float
    score: int | None
    score_kind: str | None
    customer_value: float | None
    source: str | None = None

    @property
    def stratum(self) -> str:
        """What a trend compares it within: its source, or its channel without one."""
        return self.channel if self.source is None else self.source


@dataclass(frozen=True)
class ScoredComment:
    """Every comment in the window that carries an NPS or CSAT score (for score impact).

    Attributes:
        comment_id: The comment.
        score: Its score: 0-10 for NPS, 1-5 for CSAT.
        score_kind: ``"nps"`` or ``"csat"``.
    """

    comment_id: str
    score: int
    score_kind: str


@dataclass(frozen=True)
class HassleInfo:
    """How specific a hassle is, and (for a specific hassle) the parent it is grouped under.

    Attributes:
        hassle_id: The hassle.
        specificity: How specific its sentences are, 0..1 (the labeller's measure); ``None``
            when not measured, which never makes a hassle generic.
        parent_id: A child's parent hassle (used by :func:`nlp.rank.rank_levels`); ``None`` on
            parents and on hassles of a one-level clustering.
        generic_before: Whether the last published ranking called it generic; ``None`` when
            it was not ranked then.
    """

    hassle_id: str
    specificity: float | None = None
    parent_id: str | None = None
    generic_before: bool | None = None


@dataclass(frozen=True)
class TrendSettings:
    """Trend windows and the significance guard.

    Attributes:
        short_days: Short window, in days up to ``as_of``; compared with the
            ``baseline_days`` before it.
        long_days: Long window, compared with the ``2 * long_days`` before it. Both trends
            feed the trend part, half each.
        baseline_days: Baseline length for the short window.
        min_mentions: With fewer mentions in window + baseline, never rising or falling.
        alpha: Significance level of the two-sided binomial test.
        min_change: A relative change ``|ratio - 1|`` below this is steady even if
            significant.
    """

    short_days: int = 7
    long_days: int = 30
    baseline_days: int = 28
    min_mentions: int = 5
    alpha: float = 0.05
    min_change: float = 0.25

    def __post_init__(self) -> None:
        for name in ("short_days", "long_days", "baseline_days"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.min_mentions < 1:
            raise ValueError(f"min_mentions must be >= 1, got {self.min_mentions}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be within (0, 1), got {self.alpha}")
        if self.min_change < 0:
            raise ValueError(f"min_change must be >= 0, got {self.min_change}")


@dataclass(frozen=True)
class Trend:
    """Mentions in a window against the period before it.

    Attributes:
        recent: Mentions in the window.
        baseline: Mentions in the baseline period before it.
        ratio: Recent vs baseline: of the hassle's share of all comments when the comments'
            volume is known, else of its mentions per day (``None`` when the baseline is 0).
        p_value: Two-sided exact binomial p-value (``None`` when there are no mentions).
        label: ``"rising"``, ``"falling"``, ``"steady"`` or ``"new"``.
        recent_comments: All comments in the window, whatever they mention (``None`` when the
            trend is measured per day).
        baseline_comments: All comments in the baseline period (``None``: per day).
    """

    recent: int
    baseline: int
    ratio: float | None
    p_value: float | None
    label: str
    recent_comments: int | None = None
    baseline_comments: int | None = None


@dataclass(frozen=True)
class Evidence:
    """Everything measured about one hassle in one level of a ranking: what factors score.

    The level-wide fields (``channels_in_data``, ``nps_in_window``, ``csat_in_window``) are
    the same on every hassle of the level, so a factor that needs them reads any one.

    Attributes:
        hassle_id: The hassle.
        mentions: Its deduplicated mentions (one per comment, at the highest severity).
        customers: Distinct customers (an anonymous mention counts as one customer of its own).
        comments: Comments mentioning it.
        repeat_customers: Customers who raised it in more than one comment.
        severity_mean: Mean mention severity (each clipped to 0..1).
        severity_p90: 90th percentile of mention severity (linear interpolation).
        trend_7d: The short-window trend (last ``short_days`` vs the ``baseline_days`` before).
        trend_30d: The long-window trend (last ``long_days`` vs the ``2 * long_days`` before).
        channels: Channel -> its comments, sorted by channel.
        channels_used: Channels holding at least 2 of its mentions and at least 5% of them.
        channels_in_data: Distinct channels among all mentions of the level.
        value_at_risk: Sum of ``customer_value`` over its distinct customers (each at the
            highest value seen); ``None`` when no mention of the level carries a value.
        nps_impact: NPS points gained without its comments (``None`` without NPS data, or
            when every NPS comment is one of its mentions).
        csat_impact: CSAT percentage points gained likewise.
        nps_in_window: Whether the window holds any NPS-scored comment.
        csat_in_window: Whether the window holds any CSAT-scored comment.
    """

    hassle_id: str
    mentions: tuple[Mention, ...]
    customers: int
    comments: int
    repeat_customers: int
    severity_mean: float
    severity_p90: float
    trend_7d: Trend
    trend_30d: Trend
    channels: dict[str, int]
    channels_used: int
    channels_in_data: int
    value_at_risk: float | None
    nps_impact: float | None
    csat_impact: float | None
    nps_in_window: bool
    csat_in_window: bool
