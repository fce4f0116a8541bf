"""Rank hassles by what they cost customers: one transparent score per hassle, parts kept.

Pure functions and classes: no files, no database. The caller passes the window's mentions
(one :class:`Mention` per comment per hassle), the hassles' specificity and every scored
comment of the window.

The ranking is **the customer's view first**: how much hassle, worry and money a pain point
costs customers (how many hit it, how badly, how often, everywhere, and whether it is growing).
Revenue signals (value at risk, score impact) are secondary by the default weights.

Method (:class:`TransparentRanker`): :func:`nlp.measure.measure_level` measures every hassle
of the level (:class:`~nlp.evidence.Evidence`); every factor registered in
:data:`nlp.factors.FACTORS` (reach, severity, repeat, spread, trend, value, impact, and any
added since) turns the level's evidence into one part per hassle in ``[0, 1]``; a factor with
no data in the level (value without customer values, impact without scores) or with weight 0
is left out, and so is a factor one hassle has no data for (repeat of a hassle whose comments
carry no customer id), from that hassle's score. ``total = sum(weight[f] * part[f])`` over the
factors used, with the weights of :class:`~nlp.factors.RankWeights` renormalised to sum 1 over
them. docs/ranking.md gives every formula.

A hassle is **generic** (too unspecific to act on, e.g. a cluster of "Frustrating." and "Meh.")
when its ``specificity < min_specificity``: the labeller (:mod:`nlp.label`) measures how
specific its sentences are (one problem, told concretely), whether or not the taxonomy knows
the problem. A hassle without a specificity (``None``: not measured) is not generic. A hassle
the last ranking flagged keeps its flag until its specificity is ``specificity_margin`` past
the threshold (:attr:`~nlp.evidence.HassleInfo.generic_before`). A generic hassle keeps its
score but ranks after every non-generic hassle. Ranks run 1..n by (generic, -total, hassle_id).

**Two levels** (:func:`rank_levels`): specific hassles (children) are ranked among children;
parent hassles among parents, with the same parts computed over the mentions of their
children, each comment once per parent (a comment in two children of one parent is one
mention of the parent, at its highest severity). A parent is generic only when every one of its
children is; otherwise only its specific children's mentions count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from nlp.evidence import (
    TREND_FALLING,
    TREND_NEW,
    TREND_RISING,
    TREND_STEADY,
    Evidence,
    HassleInfo,
    Mention,
    ScoredComment,
    Trend,
    TrendSettings,
)
from nlp.factors import FACTORS, RankWeights
from nlp.measure import CommentTimes, csat, measure_level, nps, trend_test

__all__ = [
    "HassleInfo",
    "HassleScore",
    "LevelRanking",
    "Mention",
    "RankWeights",
    "ScoredComment",
    "TransparentRanker",
    "Trend",
    "TrendSettings",
    "csat",
    "nps",
    "is_generic",
    "rank_levels",
    "trend_test",
]

# Totals are compared at this many decimals when ranking, so float noise never reorders ties.
_TOTAL_DECIMALS = 12


@dataclass(frozen=True)
class HassleScore:
    """A hassle's score, rank and the evidence behind them.

    Attributes:
        hassle_id: The hassle.
        rank: 1..n, generic hassles after all others, ties by ``hassle_id``.
        total: Weighted sum of ``parts`` (0..1).
        parts: Factor -> normalised value 0..1 (only the factors used), in registry order.
        weights: Factor -> weight actually used (renormalised to sum 1).
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
            when none of them has a value).
        nps_impact: NPS points gained if this hassle's comments were gone (``None`` without
            NPS data, or when every NPS comment is one of its mentions).
        csat_impact: CSAT percentage points gained likewise.
        generic: Too unspecific to act on: ``specificity < min_specificity``, or for a hassle
            ranked before, past it by ``specificity_margin`` (a parent: every child is generic).
        mentioned_lately: Mentioned in the short trend window (any source): only then is a
            hassle new in either window called ``new``.
        evidence: What the parts were computed from (for the factors' explanations).
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
    mentioned_lately: bool = True
    evidence: Evidence | None = field(default=None, repr=False, compare=False)

    @property
    def trend_label(self) -> str:
        """One word for both trends: ``new``, ``rising``, ``falling`` or ``steady``.

        New if either window is new and the hassle was mentioned in the short window (one
        that came and went silent weeks ago is no news); rising if one window rises and
        neither falls; falling likewise; otherwise steady.
        """
        labels = {self.trend_7d.label, self.trend_30d.label}
        if TREND_NEW in labels and self.mentioned_lately:
            return TREND_NEW
        labels.discard(TREND_NEW)
        if TREND_RISING in labels and TREND_FALLING not in labels:
            return TREND_RISING
        if TREND_FALLING in labels and TREND_RISING not in labels:
            return TREND_FALLING
        return TREND_STEADY


class TransparentRanker:
    """Customer-first weighted score over every registered factor (module doc).

    Attributes:
        weights: Factor weights before dropping unavailable factors.
        trend: Trend windows and significance guard.
        min_specificity: A hassle whose specificity is below this is generic.
        specificity_margin: How far past ``min_specificity`` a ranked hassle's specificity must
            move for its generic flag to change.
    """

    def __init__(
        self,
        weights: RankWeights | None = None,
        trend: TrendSettings | None = None,
        min_specificity: float = 0.35,
        specificity_margin: float = 0.0,
    ) -> None:
        if not 0.0 <= min_specificity <= 1.0:
            raise ValueError(f"min_specificity must be within [0, 1], got {min_specificity}")
        if not 0.0 <= specificity_margin <= 0.5:
            raise ValueError(
                f"specificity_margin must be within [0, 0.5], got {specificity_margin}"
            )
        self.weights = weights if weights is not None else RankWeights()
        self.trend = trend if trend is not None else TrendSettings()
        self.min_specificity = float(min_specificity)
        self.specificity_margin = float(specificity_margin)

    def rank(
        self,
        mentions: Sequence[Mention],
        hassles: Sequence[HassleInfo],
        scored: Sequence[ScoredComment],
        *,
        as_of: datetime,
        counted_from: datetime | None = None,
        history_from: datetime | None = None,
        volume: CommentTimes | None = None,
    ) -> list[HassleScore]:
        """Score and rank every hassle in ``hassles`` or ``mentions``.

        A hassle in ``hassles`` without mentions scores zero on every count-based part; a
        hassle in ``mentions`` without a :class:`HassleInfo`, or with a specificity of
        ``None``, is not generic. Mentions after ``as_of`` count everywhere except in the
        trends; mentions before ``counted_from`` count only in the trends' comparison periods
        (a report cut ``--since`` a day still compares with the weeks before it). A trend's
        comparison period is cut to the days from ``history_from`` on. With ``volume`` a
        trend compares the hassle's share of all comments, else its mentions per day.

        Args:
            mentions: One per comment per hassle, for the window.
            hassles: Specificity of the hassles.
            scored: Every comment in the window with an NPS or CSAT score.
            as_of: End of the window (trend windows end here).
            counted_from: Start of the counted period (``None``: every mention counts).
            history_from: Start of the data the mentions come from (``None``: unbounded).
            volume: When each comment of that data was written, whatever it mentions, per
                mention stratum, source or channel (or all together); ``None``: per day.

        Returns:
            One :class:`HassleScore` per hassle, ordered by rank.

        Raises:
            ValueError: On a duplicate hassle id in ``hassles``, an unknown ``score_kind``
                or an out-of-range score, on a factor's value that is NaN or infinite, or
                when every usable weight is zero.
        """
        infos: dict[str, HassleInfo] = {}
        for info in hassles:
            if info.hassle_id in infos:
                raise ValueError(f"duplicate hassle id in hassles: {info.hassle_id!r}")
            infos[info.hassle_id] = info
        level = measure_level(
            mentions,
            infos,
            scored,
            as_of=as_of,
            trend=self.trend,
            counted_from=counted_from,
            history_from=history_from,
            volume=volume,
        )
        if not level:
            return []
        level_weights, values = self._score_factors(level)
        recent_from = as_of - timedelta(days=self.trend.short_days)
        results = []
        for i, e in enumerate(level):
            # A factor this hassle has no data for shares its weight among the hassle's others.
            weights = {n: w for n, w in level_weights.items() if values[n][i] is not None}
            used = math.fsum(weights.values())  # 0 only when the weights name no part it has
            weights = {n: w / used for n, w in weights.items()} if used > 0 else {}
            parts = {name: min(1.0, max(0.0, values[name][i])) for name in weights}
            total = min(1.0, max(0.0, sum(weights[n] * parts[n] for n in weights)))
            info = infos.get(e.hassle_id)
            generic = info is not None and is_generic(
                info.specificity,
                self.min_specificity,
                before=info.generic_before,
                margin=self.specificity_margin,
            )
            lately = any(recent_from < m.created_at <= as_of for m in e.mentions)
            results.append(_score(e, total, parts, weights, generic, lately))
        return _ordered(results)

    def _score_factors(
        self, level: Sequence[Evidence]
    ) -> tuple[dict[str, float], dict[str, Sequence[float]]]:
        """The weights used (renormalised to 1) and each used factor's values for the level.

        A factor with weight 0, or with no data in the level, is left out.

        Raises:
            ValueError: When a factor gives the wrong number of values, or one that is not a
                finite number (NaN, infinity) or None.
        """
        raw: dict[str, float] = {}
        values: dict[str, Sequence[float]] = {}
        for f in FACTORS:
            weight = float(self.weights[f.name])
            scores = f.score(level) if weight > 0 else None
            if scores is None:
                raw[f.name] = 0.0
                continue
            if len(scores) != len(level):
                raise ValueError(f"factor {f.name!r} gave {len(scores)} values for {len(level)}")
            for e, value in zip(level, scores, strict=True):
                # Clipping would score NaN 0 (max(0.0, nan) is 0.0) and hide the factor's bug.
                if value is not None and not math.isfinite(value):
                    raise ValueError(
                        f"factor {f.name!r} gave {value} for hassle {e.hassle_id!r}: a value is "
                        "a number (clipped to 0..1), or None when the hassle has no data for it"
                    )
            raw[f.name] = weight
            values[f.name] = scores
        total = sum(raw.values())
        if total <= 0:
            raise ValueError("every available component has weight 0")
        return {name: w / total for name, w in raw.items() if w > 0}, values


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
    ranker: TransparentRanker,
    mentions: Sequence[Mention],
    children: Sequence[HassleInfo],
    parents: Sequence[HassleInfo],
    scored: Sequence[ScoredComment],
    *,
    as_of: datetime,
    counted_from: datetime | None = None,
    history_from: datetime | None = None,
    volume: CommentTimes | None = None,
) -> LevelRanking:
    """Rank specific hassles among themselves, and their parents among themselves.

    A parent's mentions are those of its children (``HassleInfo.parent_id``), re-keyed to the
    parent: a comment in two children of one parent is one mention of the parent (at its
    highest severity), so every part is computed over the parent's distinct comments and
    customers. A parent that holds a specific child counts the mentions of its specific
    children only: a big generic child ("Frustrating.", "Please advise.") beside a specific one
    does not lift the parent. A parent is generic only when it has children and every one of
    them is generic (it then counts them all); its own specificity is not used for that. A
    child without a parent is ranked among the children only. Without parents this is
    ``ranker.rank`` on the children.

    Args:
        ranker: Scores and ranks one level.
        mentions: One per comment per child hassle, for the window.
        children: The specific hassles, each with its specificity and parent.
        parents: The parent hassles (specificity is informational here).
        scored: Every comment in the window with an NPS or CSAT score.
        as_of: End of the window.
        counted_from: Start of the counted period; earlier mentions count only in the trends.
        history_from: Start of the data; the trends' comparison periods are cut to it.
        volume: When each comment of the data was written, per mention stratum (both levels'
            trends compare shares of all comments, source by source); ``None``: per day.

    Returns:
        Both levels, each ordered by rank.
    """
    dates = {
        "as_of": as_of,
        "counted_from": counted_from,
        "history_from": history_from,
        "volume": volume,
    }
    child_scores = ranker.rank(mentions, children, scored, **dates)
    if counted_from is not None:
        # A child mentioned only before counted_from is not ranked; its mentions still reach
        # its parent's trend (``children`` lists it, so ``parent_of`` holds it).
        child_scores = _ordered([s for s in child_scores if s.comments])
    parent_of = {c.hassle_id: c.parent_id for c in children if c.parent_id is not None}
    if not parents and not parent_of:
        return LevelRanking(child_scores, [])
    generic = {s.hassle_id for s in child_scores if s.generic}
    with_children = {parent_of[s.hassle_id] for s in child_scores if s.hassle_id in parent_of}
    with_specific = {parent_of[c] for c in parent_of if c not in generic} & with_children
    grouped = [
        replace(m, hassle_id=parent_of[m.hassle_id])
        for m in mentions
        if m.hassle_id in parent_of
        and (m.hassle_id not in generic or parent_of[m.hassle_id] not in with_specific)
    ]
    # The ranker sees no specificity for parents: their generic flag comes from the children.
    plain = [HassleInfo(p.hassle_id) for p in parents]
    parent_scores = ranker.rank(grouped, plain, scored, **dates)
    if counted_from is not None:
        parent_scores = [s for s in parent_scores if s.comments]
    flagged = [
        replace(s, generic=s.hassle_id in with_children and s.hassle_id not in with_specific)
        for s in parent_scores
    ]
    return LevelRanking(child_scores, _ordered(flagged))


def is_generic(
    specificity: float | None,
    min_specificity: float,
    *,
    before: bool | None = None,
    margin: float = 0.0,
) -> bool:
    """Too unspecific to act on: measured and below ``min_specificity`` (None is not generic).

    With the hassle's flag in the last ranking (``before``), the flag changes only once the
    specificity is ``margin`` past the threshold: a kept hassle near it does not flip with
    a few more sentences.
    """
    if specificity is None:
        return False
    if before is None:
        return specificity < min_specificity
    return specificity < min_specificity + (margin if before else -margin)


# --- private helpers -----------------------------------------------------------------------


def _ordered(results: Sequence[HassleScore]) -> list[HassleScore]:
    """Ranks 1..n: non-generic first, then by total (highest first), ties by hassle id."""
    ordered = sorted(
        results, key=lambda r: (r.generic, -round(r.total, _TOTAL_DECIMALS), r.hassle_id)
    )
    return [replace(r, rank=i) for i, r in enumerate(ordered, start=1)]


def _score(
    e: Evidence,
    total: float,
    parts: dict[str, float],
    weights: dict[str, float],
    generic: bool,
    lately: bool,
) -> HassleScore:
    return HassleScore(
        hassle_id=e.hassle_id,
        rank=0,
        total=total,
        parts=parts,
        weights=weights,
        customers=e.customers,
        comments=e.comments,
        severity_mean=e.severity_mean,
        severity_p90=e.severity_p90,
        trend_7d=e.trend_7d,
        trend_30d=e.trend_30d,
        channels=e.channels,
        repeat_customers=e.repeat_customers,
        value_at_risk=e.value_at_risk,
        nps_impact=e.nps_impact,
        csat_impact=e.csat_impact,
        generic=generic,
        mentioned_lately=lately,
        evidence=e,
    )
