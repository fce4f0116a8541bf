"""Rank hassles by what they cost customers: one transparent score per hassle, parts kept.

Pure functions and classes: no files, no database. The caller passes the window's mentions
(one :class:`Mention` per comment per hassle), the hassles' specificity and every scored
comment of the window.

The ranking is **the customer's view first**: how much hassle, worry and money a pain point
costs customers (how many hit it, how badly, how often, everywhere, and whether it is growing).
Revenue signals (value at risk, score impact) are secondary by the default weights.

Method (:class:`TransparentRanker`). Every component is a number in ``[0, 1]``:

* **reach** = ``customers / max(customers over hassles)``: distinct customers, an anonymous
  mention (``customer_id is None``) counting as one customer of its own. Linear share of the
  biggest hassle (the biggest scores 1.0), the simplest to explain.
* **severity** = ``0.5 * mean + 0.5 * p90`` of the mentions' severities (each clipped to
  ``[0, 1]``; ``p90`` is the 90th percentile with linear interpolation).
* **repeat** = ``repeat_customers / customers``: a repeat customer raised the hassle in more
  than one comment, or in more than one channel (which needs more than one comment too).
  Anonymous mentions are never repeats.
* **spread** = ``channels_used / channels_in_data``: a channel is used when it holds at least
  2 of the hassle's mentions and at least 5% of them; ``channels_in_data`` counts the distinct
  channels among all mentions. A hassle in every silo scores 1.
* **trend**, the mean of two windows' parts: mentions in the ``short_days`` up to ``as_of``
  against the ``baseline_days`` before them, and in the ``long_days`` against the
  ``2 * long_days`` before them, each compared per day by :func:`trend_test`, which guards
  with an exact conditional binomial test. Each window's part: steady 0.5; rising
  ``0.5 + 0.5 * min(1, log2(ratio) / 2)``; falling ``0.5 - 0.5 * min(1, -log2(ratio) / 2)``;
  new 1.0.
* **value** = ``value_at_risk / max(value_at_risk over hassles)``: the sum of
  ``customer_value`` over the hassle's distinct customers (each once, at the highest value
  seen for them). Dropped when no mention anywhere carries a value.
* **impact** (the Thematic/Kapiche method): ``nps_impact = NPS(NPS comments that are not this
  hassle's mentions) - NPS(all NPS comments)``, in NPS points; ``csat_impact`` likewise in CSAT
  percentage points. Positive = removing the hassle would raise the score. Each is normalised
  as ``max(0, impact) / max over hassles of max(0, impact)`` and the normalised NPS and CSAT
  values that exist are averaged. Dropped when there are no scored comments at all.

``total = sum(weight[c] * part[c])`` over the components used, with the weights from
:class:`RankWeights` after dropping unavailable components and renormalising to sum 1.

A hassle is **generic** (too unspecific to act on, e.g. a cluster of "Frustrating." and "Meh.")
when its ``specificity < min_specificity``: the labeller (:mod:`nlp.label`) measures how
specific its sentences are (one problem, told concretely), whether or not the taxonomy knows
the problem. A hassle without a specificity (``None``: not measured) is not generic. A generic
hassle keeps its score but ranks after every non-generic hassle. Ranks run 1..n by
(generic, -total, hassle_id).

**Two levels** (:func:`rank_levels`): specific hassles (children) are ranked among children;
parent hassles among parents, with the same parts computed over the mentions of all their
children, each comment once per parent (a comment in two children of one parent is one
mention of the parent, at its highest severity). A parent is generic only when every one of its
children is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.stats import binomtest

COMPONENTS = ("reach", "severity", "repeat", "spread", "trend", "value", "impact")

TREND_RISING = "rising"
TREND_FALLING = "falling"
TREND_STEADY = "steady"
TREND_NEW = "new"

# A channel counts towards spread with at least this many of a hassle's mentions ...
_SPREAD_MIN_MENTIONS = 2
# ... and at least this share of them.
_SPREAD_MIN_SHARE = 0.05
# Totals are compared at this many decimals when ranking, so float noise never reorders ties.
_TOTAL_DECIMALS = 12
_DAY = timedelta(days=1)


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
            ``scored`` comments passed to :meth:`Ranker.rank`).
        score_kind: ``"nps"`` (0-10) or ``"csat"`` (1-5), if scored.
        customer_value: Per-customer value from the source (e.g. annual revenue), if any.
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
        parent_id: A child's parent hassle (used by :func:`rank_levels`); ``None`` on parents
            and on hassles of a one-level clustering.
    """

    hassle_id: str
    specificity: float | None = None
    parent_id: str | None = None


@dataclass(frozen=True)
class RankWeights:
    """Weight of each component in the total (renormalised over the components used).

    Attributes:
        reach: Distinct customers affected.
        severity: How bad the mentions are.
        repeat: Share of customers who raised it more than once or in several channels.
        spread: Share of channels where it shows up.
        trend: Whether it is growing (the 7-day and the 30-day trend, half each).
        value: Customer value at risk (secondary).
        impact: NPS/CSAT points it costs (secondary).
    """

    reach: float = 0.30
    severity: float = 0.25
    repeat: float = 0.10
    spread: float = 0.10
    trend: float = 0.10
    value: float = 0.075
    impact: float = 0.075

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {f.name} must be finite and >= 0, got {value}")


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
        ratio: Rate ratio recent vs baseline, per day (``None`` when the baseline is 0).
        p_value: Two-sided exact binomial p-value (``None`` when there are no mentions).
        label: ``"rising"``, ``"falling"``, ``"steady"`` or ``"new"``.
    """

    recent: int
    baseline: int
    ratio: float | None
    p_value: float | None
    label: str


@dataclass(frozen=True)
class HassleScore:
    """A hassle's score, rank and the evidence behind them.

    Attributes:
        hassle_id: The hassle.
        rank: 1..n, generic hassles after all others, ties by ``hassle_id``.
        total: Weighted sum of ``parts`` (0..1).
        parts: Component -> normalised value 0..1 (only the components used).
        weights: Component -> weight actually used (renormalised to sum 1).
        customers: Distinct customers (anonymous mentions count one each).
        comments: Comments mentioning the hassle.
        severity_mean: Mean mention severity.
        severity_p90: 90th percentile of mention severity.
        trend_7d: Short-window trend (the last 7 days against the 28 before).
        trend_30d: Long-window trend (the last 30 days against the 60 before). Both feed
            the trend part, half each: a surge this week and a climb over the month both count.
        channels: Channel -> comments.
        repeat_customers: Customers who raised it more than once, or in more than one channel.
        value_at_risk: Sum of ``customer_value`` over distinct affected customers (``None``
            if no mention anywhere has a value).
        nps_impact: NPS points gained if this hassle's comments were gone (``None`` without
            NPS data, or when every NPS comment is one of its mentions).
        csat_impact: CSAT percentage points gained likewise.
        generic: Too unspecific to act on: ``specificity < min_specificity`` (a parent: every
            child is generic).
    """

    hassle_id: str
    rank: int
    total: float
    parts: dict[str, float]
    weights: dict[str, float]
    customers: int
    comments: int
    severity_mean: float
    severity_p90: float
    trend_7d: Trend
    trend_30d: Trend
    channels: dict[str, int]
    repeat_customers: int
    value_at_risk: float | None
    nps_impact: float | None
    csat_impact: float | None
    generic: bool

    @property
    def trend_label(self) -> str:
        """One word for both trends: ``new``, ``rising``, ``falling`` or ``steady``.

        New if either window is new; rising if one window rises and neither falls; falling
        likewise; otherwise steady.
        """
        labels = {self.trend_7d.label, self.trend_30d.label}
        if TREND_NEW in labels:
            return TREND_NEW
        if TREND_RISING in labels and TREND_FALLING not in labels:
            return TREND_RISING
        if TREND_FALLING in labels and TREND_RISING not in labels:
            return TREND_FALLING
        return TREND_STEADY


@runtime_checkable
class Ranker(Protocol):
    """Anything that scores and ranks hassles."""

    def rank(
        self,
        mentions: Sequence[Mention],
        hassles: Sequence[HassleInfo],
        scored: Sequence[ScoredComment],
        *,
        as_of: datetime,
    ) -> list[HassleScore]:
        """Score and rank hassles.

        Args:
            mentions: One per comment per hassle, for the window.
            hassles: Specificity of the hassles to rank.
            scored: Every comment in the window with an NPS or CSAT score.
            as_of: End of the window (trend windows end here).

        Returns:
            One score per hassle, ordered by rank.
        """
        ...


def nps(scores: Sequence[int]) -> float:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6).

    Args:
        scores: NPS answers, each an integer 0..10.

    Returns:
        The NPS, -100..100.

    Raises:
        ValueError: If ``scores`` is empty or a score is outside 0..10.
    """
    if len(scores) == 0:
        raise ValueError("nps() needs at least one score")
    promoters = detractors = 0
    for s in scores:
        category = _nps_category(s)
        promoters += category == 1
        detractors += category == -1
    return _net(promoters - detractors, len(scores))


def csat(scores: Sequence[int]) -> float:
    """Customer satisfaction: % of answers that are 4 or 5 on a 1-5 scale.

    Args:
        scores: CSAT answers, each an integer 1..5.

    Returns:
        The CSAT, 0..100.

    Raises:
        ValueError: If ``scores`` is empty or a score is outside 1..5.
    """
    if len(scores) == 0:
        raise ValueError("csat() needs at least one score")
    satisfied = sum(_csat_satisfied(s) for s in scores)
    return _net(satisfied, len(scores))


def trend_test(
    recent: int,
    baseline: int,
    recent_days: int,
    baseline_days: int,
    settings: TrendSettings,
) -> Trend:
    """Compare mentions in a window with the period before it, with a significance guard.

    Under H0 (same daily rate in both periods), given ``n = recent + baseline``,
    ``recent ~ Binomial(n, recent_days / (recent_days + baseline_days))``; the two-sided
    exact p-value comes from :func:`scipy.stats.binomtest`. Labels:

    * ``"new"``: ``baseline == 0`` and ``recent >= min_mentions``;
    * ``"rising"`` / ``"falling"``: ``n >= min_mentions``, ``p < alpha`` and
      ``|ratio - 1| >= min_change``;
    * ``"steady"`` otherwise: 2 -> 4 mentions in two equal weeks is ratio 2.0 but p = 0.69.

    Args:
        recent: Mentions in the window.
        baseline: Mentions in the baseline period.
        recent_days: Length of the window in days.
        baseline_days: Length of the baseline period in days.
        settings: ``min_mentions``, ``alpha`` and ``min_change``.

    Returns:
        Counts, per-day rate ratio (``None`` when the baseline is 0), p-value (``None`` when
        there are no mentions) and label.

    Raises:
        ValueError: If a count is negative or a period is not positive.
    """
    if recent < 0 or baseline < 0:
        raise ValueError(f"counts must be >= 0, got {recent} and {baseline}")
    if recent_days <= 0 or baseline_days <= 0:
        raise ValueError(f"periods must be > 0 days, got {recent_days} and {baseline_days}")
    recent, baseline = int(recent), int(baseline)
    n = recent + baseline
    ratio = (recent / recent_days) / (baseline / baseline_days) if baseline > 0 else None
    p_value = None
    if n > 0:
        p_value = float(binomtest(recent, n, recent_days / (recent_days + baseline_days)).pvalue)
    label = TREND_STEADY
    if baseline == 0 and recent >= settings.min_mentions:
        label = TREND_NEW
    elif (
        ratio is not None
        and p_value is not None
        and n >= settings.min_mentions
        and p_value < settings.alpha
        and abs(ratio - 1.0) >= settings.min_change
    ):
        label = TREND_RISING if ratio > 1.0 else TREND_FALLING
    return Trend(recent=recent, baseline=baseline, ratio=ratio, p_value=p_value, label=label)


class TransparentRanker:
    """Customer-first weighted score of reach, severity, repeat, spread and trend (module doc).

    Attributes:
        weights: Component weights before dropping unavailable components.
        trend: Trend windows and significance guard.
        min_specificity: A hassle whose specificity is below this is generic.
    """

    def __init__(
        self,
        weights: RankWeights = RankWeights(),
        trend: TrendSettings = TrendSettings(),
        min_specificity: float = 0.35,
    ) -> None:
        if not 0.0 <= min_specificity <= 1.0:
            raise ValueError(f"min_specificity must be within [0, 1], got {min_specificity}")
        self.weights = weights
        self.trend = trend
        self.min_specificity = float(min_specificity)

    def rank(
        self,
        mentions: Sequence[Mention],
        hassles: Sequence[HassleInfo],
        scored: Sequence[ScoredComment],
        *,
        as_of: datetime,
    ) -> list[HassleScore]:
        """Score and rank every hassle in ``hassles`` or ``mentions``.

        A hassle in ``hassles`` without mentions scores zero on every count-based part; a
        hassle in ``mentions`` without a :class:`HassleInfo`, or with a specificity of
        ``None``, is not generic. Mentions after ``as_of`` count everywhere except in the
        trends.

        Args:
            mentions: One per comment per hassle, for the window.
            hassles: Specificity of the hassles.
            scored: Every comment in the window with an NPS or CSAT score.
            as_of: End of the window (trend windows end here).

        Returns:
            One :class:`HassleScore` per hassle, ordered by rank.

        Raises:
            ValueError: On a duplicate hassle id in ``hassles``, an unknown ``score_kind``
                or an out-of-range score, or when every usable weight is zero.
        """
        infos: dict[str, HassleInfo] = {}
        for info in hassles:
            if info.hassle_id in infos:
                raise ValueError(f"duplicate hassle id in hassles: {info.hassle_id!r}")
            infos[info.hassle_id] = info

        nps_cat, csat_sat = _score_maps(scored)
        groups, channels_in_data, has_value = _group(mentions, nps_cat, csat_sat, as_of)
        for hassle_id in infos:
            groups.setdefault(hassle_id, _Group())
        ids = sorted(groups)
        if not ids:
            return []

        weights = self._used_weights(has_value, bool(nps_cat) or bool(csat_sat))
        settings = self.trend
        stats = {hid: groups[hid].stats(has_value) for hid in ids}

        nps_all = _Tally.of(nps_cat.values(), positive=1, negative=-1)
        csat_all = _Tally.of(csat_sat.values(), positive=True, negative=None)
        nps_impacts = {hid: nps_all.impact(groups[hid].nps) for hid in ids} if nps_cat else None
        csat_impacts = {hid: csat_all.impact(groups[hid].csat) for hid in ids} if csat_sat else None

        reach_max = max(s.customers for s in stats.values())
        value_max = max((max(0.0, s.value_at_risk or 0.0) for s in stats.values()), default=0.0)
        nps_max = _positive_max(nps_impacts)
        csat_max = _positive_max(csat_impacts)
        impact_kinds = ((nps_impacts, nps_max), (csat_impacts, csat_max))

        results: list[HassleScore] = []
        for hid in ids:
            g, s = groups[hid], stats[hid]
            trend_7d = trend_test(
                g.count_ages(0, settings.short_days),
                g.count_ages(settings.short_days, settings.short_days + settings.baseline_days),
                settings.short_days,
                settings.baseline_days,
                settings,
            )
            trend_30d = trend_test(
                g.count_ages(0, settings.long_days),
                g.count_ages(settings.long_days, 3 * settings.long_days),
                settings.long_days,
                2 * settings.long_days,
                settings,
            )
            candidates = {
                "reach": _share(s.customers, reach_max),
                "severity": 0.5 * s.severity_mean + 0.5 * s.severity_p90,
                "repeat": _share(s.repeat_customers, s.customers),
                "spread": _share(g.channels_used(), len(channels_in_data)),
                "trend": (_trend_part(trend_7d) + _trend_part(trend_30d)) / 2,
                "value": _share(max(0.0, s.value_at_risk or 0.0), value_max),
                "impact": _impact_part(
                    [(imp[hid], top) for imp, top in impact_kinds if imp is not None]
                ),
            }
            parts = {c: min(1.0, max(0.0, candidates[c])) for c in weights}
            total = min(1.0, max(0.0, sum(weights[c] * parts[c] for c in weights)))
            info = infos.get(hid)
            generic = (
                info is not None
                and info.specificity is not None
                and info.specificity < self.min_specificity
            )
            results.append(
                HassleScore(
                    hassle_id=hid,
                    rank=0,
                    total=total,
                    parts=parts,
                    weights=dict(weights),
                    customers=s.customers,
                    comments=s.comments,
                    severity_mean=s.severity_mean,
                    severity_p90=s.severity_p90,
                    trend_7d=trend_7d,
                    trend_30d=trend_30d,
                    channels=dict(sorted(g.channels.items())),
                    repeat_customers=s.repeat_customers,
                    value_at_risk=s.value_at_risk,
                    nps_impact=None if nps_impacts is None else nps_impacts[hid],
                    csat_impact=None if csat_impacts is None else csat_impacts[hid],
                    generic=generic,
                )
            )

        return _ordered(results)

    def _used_weights(self, has_value: bool, has_scores: bool) -> dict[str, float]:
        """Weights of the available components with a positive weight, renormalised to 1."""
        raw = {c: float(getattr(self.weights, c)) for c in COMPONENTS}
        if not has_value:
            raw["value"] = 0.0
        if not has_scores:
            raw["impact"] = 0.0
        total = sum(raw.values())
        if total <= 0:
            raise ValueError("every available component has weight 0")
        return {c: w / total for c, w in raw.items() if w > 0}


@dataclass(frozen=True)
class LevelRanking:
    """Both levels of a two-level ranking, each ranked within its level.

    Attributes:
        children: The specific hassles, ranked among themselves.
        parents: The parent hassles, ranked among themselves (empty for one level).
    """

    children: list[HassleScore]
    parents: list[HassleScore]


def rank_levels(
    ranker: Ranker,
    mentions: Sequence[Mention],
    children: Sequence[HassleInfo],
    parents: Sequence[HassleInfo],
    scored: Sequence[ScoredComment],
    *,
    as_of: datetime,
) -> LevelRanking:
    """Rank specific hassles among themselves, and their parents among themselves.

    A parent's mentions are those of its children (``HassleInfo.parent_id``), re-keyed to the
    parent: a comment in two children of one parent is one mention of the parent (at its
    highest severity), so every part is computed over the parent's distinct comments and
    customers. A parent is generic only when it has children and every one of them is generic;
    its own specificity is not used for that. A child without a parent is ranked among the
    children only. Without parents this is ``ranker.rank`` on the children.

    Args:
        ranker: Scores and ranks one level.
        mentions: One per comment per child hassle, for the window.
        children: The specific hassles, each with its specificity and parent.
        parents: The parent hassles (specificity is informational here).
        scored: Every comment in the window with an NPS or CSAT score.
        as_of: End of the window.

    Returns:
        Both levels, each ordered by rank.
    """
    child_scores = ranker.rank(mentions, children, scored, as_of=as_of)
    parent_of = {c.hassle_id: c.parent_id for c in children if c.parent_id is not None}
    if not parents and not parent_of:
        return LevelRanking(child_scores, [])
    grouped = [
        replace(m, hassle_id=parent_of[m.hassle_id]) for m in mentions if m.hassle_id in parent_of
    ]
    # The ranker sees no specificity for parents: their generic flag comes from the children.
    plain = [HassleInfo(p.hassle_id) for p in parents]
    parent_scores = ranker.rank(grouped, plain, scored, as_of=as_of)
    generic_children: dict[str, list[bool]] = {}
    for score in child_scores:
        if score.hassle_id in parent_of:
            generic_children.setdefault(parent_of[score.hassle_id], []).append(score.generic)
    flagged = [
        replace(
            s,
            generic=bool(generic_children.get(s.hassle_id)) and all(generic_children[s.hassle_id]),
        )
        for s in parent_scores
    ]
    return LevelRanking(child_scores, _ordered(flagged))


# --- private helpers -----------------------------------------------------------------------


def _ordered(results: Sequence[HassleScore]) -> list[HassleScore]:
    """Ranks 1..n: non-generic first, then by total (highest first), ties by hassle id."""
    ordered = sorted(
        results, key=lambda r: (r.generic, -round(r.total, _TOTAL_DECIMALS), r.hassle_id)
    )
    return [_with_rank(r, i) for i, r in enumerate(ordered, start=1)]


def _trend_part(trend: Trend) -> float:
    """Turn a trend into the 0..1 trend component.

    Steady 0.5; rising ``0.5 + 0.5 * min(1, log2(ratio) / 2)`` (a 4x rise or more gives 1.0);
    falling ``0.5 - 0.5 * min(1, -log2(ratio) / 2)`` (down to a quarter or less gives 0.0);
    new 1.0.

    Args:
        trend: A trend from :func:`trend_test`.

    Returns:
        The trend component, 0..1.
    """
    if trend.label == TREND_NEW:
        return 1.0
    if trend.label == TREND_RISING and trend.ratio is not None:
        return 0.5 + 0.5 * min(1.0, math.log2(trend.ratio) / 2.0)
    if trend.label == TREND_FALLING and trend.ratio is not None:
        if trend.ratio <= 0:
            return 0.0
        return 0.5 - 0.5 * min(1.0, -math.log2(trend.ratio) / 2.0)
    return 0.5


def _net(count: int, n: int) -> float:
    return 100.0 * count / n


def _nps_category(score: int) -> int:
    """1 promoter, 0 passive, -1 detractor."""
    if not 0 <= score <= 10:
        raise ValueError(f"NPS score must be within 0..10, got {score}")
    if score >= 9:
        return 1
    return -1 if score <= 6 else 0


def _csat_satisfied(score: int) -> bool:
    if not 1 <= score <= 5:
        raise ValueError(f"CSAT score must be within 1..5, got {score}")
    return score >= 4


def _score_maps(
    scored: Sequence[ScoredComment],
) -> tuple[dict[str, int], dict[str, bool]]:
    """comment_id -> NPS category, and comment_id -> CSAT satisfied (first score wins)."""
    nps_cat: dict[str, int] = {}
    csat_sat: dict[str, bool] = {}
    for sc in scored:
        if sc.score_kind == "nps":
            nps_cat.setdefault(sc.comment_id, _nps_category(sc.score))
        elif sc.score_kind == "csat":
            csat_sat.setdefault(sc.comment_id, _csat_satisfied(sc.score))
        else:
            raise ValueError(f"unknown score_kind {sc.score_kind!r} for {sc.comment_id!r}")
    return nps_cat, csat_sat


@dataclass
class _Tally:
    """Counts of scored comments: total, positive (promoter/satisfied), negative (detractor)."""

    n: int = 0
    positive: int = 0
    negative: int = 0

    @classmethod
    def of(cls, values, *, positive, negative) -> _Tally:
        t = cls()
        for v in values:
            t.add(v, positive=positive, negative=negative)
        return t

    def add(self, value, *, positive, negative) -> None:
        self.n += 1
        self.positive += value == positive
        self.negative += negative is not None and value == negative

    def score(self) -> float:
        return _net(self.positive - self.negative, self.n)

    def impact(self, part: _Tally) -> float | None:
        """Score without ``part``'s comments minus the score of all; None if nothing is left."""
        rest = _Tally(self.n - part.n, self.positive - part.positive, self.negative - part.negative)
        if rest.n <= 0:
            return None
        return rest.score() - self.score()


class _Group:
    """Everything one hassle's mentions contribute, accumulated in one pass."""

    __slots__ = ("severities", "ages", "channels", "customers", "nps", "csat", "_ages_array")

    def __init__(self) -> None:
        self.severities: list[float] = []
        self.ages: list[float] = []  # days before as_of
        self.channels: dict[str, int] = {}
        # customer key -> [comments, highest customer_value or None]
        self.customers: dict[object, list] = {}
        self.nps = _Tally()
        self.csat = _Tally()
        self._ages_array: np.ndarray | None = None

    def count_ages(self, start: float, stop: float) -> int:
        """Mentions written ``start`` to ``stop`` days before ``as_of`` (``start <= age < stop``)."""
        if self._ages_array is None:
            self._ages_array = np.sort(np.asarray(self.ages, dtype=float))
        a = self._ages_array
        return int(np.searchsorted(a, stop, "left") - np.searchsorted(a, start, "left"))

    def channels_used(self) -> int:
        total = sum(self.channels.values())
        return sum(
            1
            for count in self.channels.values()
            if count >= _SPREAD_MIN_MENTIONS and count >= _SPREAD_MIN_SHARE * total
        )

    def stats(self, has_value: bool) -> _Stats:
        if self.severities:
            sev = np.clip(np.asarray(self.severities, dtype=float), 0.0, 1.0)
            sev_mean, sev_p90 = float(sev.mean()), float(np.percentile(sev, 90))
        else:
            sev_mean = sev_p90 = 0.0
        value_at_risk = None
        if has_value:
            values = [v for _, v in self.customers.values() if v is not None]
            value_at_risk = float(math.fsum(values))
        return _Stats(
            customers=len(self.customers),
            comments=len(self.severities),
            repeat_customers=sum(1 for c, _ in self.customers.values() if c > 1),
            severity_mean=sev_mean,
            severity_p90=sev_p90,
            value_at_risk=value_at_risk,
        )


@dataclass(frozen=True)
class _Stats:
    customers: int
    comments: int
    repeat_customers: int
    severity_mean: float
    severity_p90: float
    value_at_risk: float | None


def _group(
    mentions: Sequence[Mention],
    nps_cat: dict[str, int],
    csat_sat: dict[str, bool],
    as_of: datetime,
) -> tuple[dict[str, _Group], set[str], bool]:
    """Group deduplicated mentions by hassle; also the channels present and whether any value."""
    unique: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        key = (m.hassle_id, m.comment_id)
        kept = unique.get(key)
        if kept is None or m.severity > kept.severity:
            unique[key] = m

    groups: dict[str, _Group] = {}
    channels_in_data: set[str] = set()
    has_value = False
    for m in unique.values():
        g = groups.get(m.hassle_id)
        if g is None:
            g = groups[m.hassle_id] = _Group()
        g.severities.append(float(m.severity))
        g.ages.append((as_of - m.created_at) / _DAY)
        g.channels[m.channel] = g.channels.get(m.channel, 0) + 1
        channels_in_data.add(m.channel)
        # Anonymous: a customer of its own, keyed apart from any real customer id.
        cust_key = ("id", m.customer_id) if m.customer_id is not None else ("anon", m.comment_id)
        value = m.customer_value
        if value is not None:
            has_value = True
            value = float(value)
        entry = g.customers.get(cust_key)
        if entry is None:
            g.customers[cust_key] = [1, value]
        else:
            entry[0] += 1
            if value is not None and (entry[1] is None or value > entry[1]):
                entry[1] = value
        category = nps_cat.get(m.comment_id)
        if category is not None:
            g.nps.add(category, positive=1, negative=-1)
        satisfied = csat_sat.get(m.comment_id)
        if satisfied is not None:
            g.csat.add(satisfied, positive=True, negative=None)
    return groups, channels_in_data, has_value


def _share(value: float, maximum: float) -> float:
    return value / maximum if maximum > 0 else 0.0


def _positive_max(impacts: dict[str, float | None] | None) -> float:
    if impacts is None:
        return 0.0
    return max((max(0.0, v) for v in impacts.values() if v is not None), default=0.0)


def _impact_part(kinds: Sequence[tuple[float | None, float]]) -> float:
    """Mean over the score kinds with data of ``max(0, impact) / max``; 0 when none.

    ``kinds`` holds one ``(impact, maximum)`` per score kind present in the data; an impact of
    ``None`` (every comment of that kind is this hassle's) counts as 0.
    """
    if not kinds:
        return 0.0
    return sum(_share(max(0.0, i or 0.0), m) for i, m in kinds) / len(kinds)


def _with_rank(score: HassleScore, rank: int) -> HassleScore:
    return replace(score, rank=rank)
