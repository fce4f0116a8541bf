"""Measure each hassle of a level: the evidence every ranking factor scores.

Pure functions: no files, no database. :func:`measure_level` groups the window's mentions by
hassle (a comment once per hassle, at its highest severity) and measures customers, repeats,
severity, both trends, channels, value at risk and NPS/CSAT impact (docs/ranking.md gives the
formulas). A trend compares the hassle's share of all comments in a window with its share in
the period before, so a hassle that only follows the overall volume is steady. :func:`nps`,
:func:`csat` and :func:`trend_test` are the statistics behind them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
from scipy.stats import binomtest

from nlp.evidence import (
    TREND_FALLING,
    TREND_NEW,
    TREND_RISING,
    TREND_STEADY,
    Evidence,
    Mention,
    ScoredComment,
    Trend,
    TrendSettings,
)

# A channel counts towards spread with at least this many of a hassle's mentions ...
_SPREAD_MIN_MENTIONS = 2
# ... and at least this share of them.
_SPREAD_MIN_SHARE = 0.05
_DAY = timedelta(days=1)
CommentTimes = Sequence[datetime] | np.ndarray | Mapping[str, Sequence[datetime] | np.ndarray]
"""When comments were written (datetimes, or datetime64 as DuckDB reads them): all together,
or per stratum (a mention's :attr:`~nlp.evidence.Mention.stratum`: source or channel -> times)."""


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
    recent_size: float,
    baseline_size: float,
    settings: TrendSettings,
) -> Trend:
    """Compare mentions in a window with the period before it, with a significance guard.

    A period's size is how much data it holds: all its comments (whatever they mention), or
    its days where the comments' volume is not known. Under H0 (the same mentions per unit of
    size in both periods), given ``n = recent + baseline``,
    ``recent ~ Binomial(n, recent_size / (recent_size + baseline_size))``; the two-sided
    exact p-value comes from :func:`scipy.stats.binomtest`. Labels:

    * ``"new"``: ``baseline == 0``, ``recent >= min_mentions`` and ``p < alpha`` (none before
      is telling only when the baseline held enough data);
    * ``"rising"`` / ``"falling"``: ``n >= min_mentions``, ``p < alpha`` and
      ``|ratio - 1| >= min_change``;
    * ``"steady"`` otherwise: 2 -> 4 mentions in two equal weeks is ratio 2.0 but p = 0.69.

    Args:
        recent: Mentions in the window.
        baseline: Mentions in the baseline period.
        recent_size: Comments (or days) in the window.
        baseline_size: Comments (or days) in the baseline period.
        settings: ``min_mentions``, ``alpha`` and ``min_change``.

    Returns:
        Counts, ratio of mentions per unit of size (``None`` when the baseline is 0), p-value
        (``None`` when there are no mentions) and label.

    Raises:
        ValueError: If a count is negative or a period's size is not positive.
    """
    if recent < 0 or baseline < 0:
        raise ValueError(f"counts must be >= 0, got {recent} and {baseline}")
    if recent_size <= 0 or baseline_size <= 0:
        raise ValueError(f"period sizes must be > 0, got {recent_size} and {baseline_size}")
    recent, baseline = int(recent), int(baseline)
    n = recent + baseline
    ratio = (recent / recent_size) / (baseline / baseline_size) if baseline > 0 else None
    p_value = None
    if n > 0:
        p_value = float(binomtest(recent, n, recent_size / (recent_size + baseline_size)).pvalue)
    significant = p_value is not None and n >= settings.min_mentions and p_value < settings.alpha
    label = TREND_STEADY
    if baseline == 0:
        if significant:
            label = TREND_NEW
    elif significant and abs(ratio - 1.0) >= settings.min_change:
        label = TREND_RISING if ratio > 1.0 else TREND_FALLING
    return Trend(recent=recent, baseline=baseline, ratio=ratio, p_value=p_value, label=label)


def measure_level(
    mentions: Sequence[Mention],
    hassle_ids: Iterable[str],
    scored: Sequence[ScoredComment],
    *,
    as_of: datetime,
    trend: TrendSettings,
    counted_from: datetime | None = None,
    history_from: datetime | None = None,
    volume: CommentTimes | None = None,
) -> list[Evidence]:
    """The evidence of every hassle in ``hassle_ids`` or ``mentions``, sorted by hassle id.

    A hassle without mentions has zero counts. Mentions after ``as_of`` count everywhere
    except in the trends; mentions before ``counted_from`` count only in the trends (as the
    comparison periods a date filter cut off), and a hassle with no other mention is left out.

    With ``volume`` (when every comment was written, per source or channel as the mentions'
    ``stratum``), a trend compares the hassle's share of all comments in the window with its
    share in the period before, over the strata that delivered in both: days that hold few
    comments (before a source started delivering) weigh little, a hassle that grows with the
    overall volume is steady, and a source that starts or stops moves no other source's
    hassle. A period without comments cannot be compared: the trend is steady. Without
    ``volume``, every day weighs the same. A comparison period reaching back before
    ``history_from`` is cut to the days after it; with no day left, the trend is steady.

    Args:
        mentions: One per comment per hassle, for the window.
        hassle_ids: Hassles to measure even without mentions.
        scored: Every comment in the window with an NPS or CSAT score.
        as_of: End of the window (trend windows end here).
        trend: Trend windows and the significance guard.
        counted_from: Start of the counted period (``None``: every mention counts).
        history_from: Start of the data the mentions come from (``None``: unbounded).
        volume: When each comment in that data was written, whatever it mentions (the same
            filters as the mentions), per stratum (source, or channel for mentions without
            one) or all together; ``None``: trends per day.

    Returns:
        One :class:`~nlp.evidence.Evidence` per hassle.

    Raises:
        ValueError: On an unknown ``score_kind`` or an out-of-range score.
    """
    nps_cat, csat_sat = _score_maps(scored)
    groups, channels_in_data, has_value, earlier = _group(
        mentions, nps_cat, csat_sat, as_of, counted_from
    )
    for hassle_id in hassle_ids:
        groups.setdefault(hassle_id, _Group())
    for hassle_id, aged in earlier.items():
        if hassle_id in groups:
            for age, stratum in aged:
                groups[hassle_id].add_age(age, stratum)
    ids = sorted(groups)
    history = (as_of - history_from) / _DAY if history_from is not None else math.inf
    sizes = _Sizes(history, None if volume is None else _stratum_ages(volume, as_of))
    short = sizes.window(trend.short_days, trend.baseline_days)
    long = sizes.window(trend.long_days, 2 * trend.long_days)
    nps_all = _Tally.of(nps_cat.values(), positive=1, negative=-1)
    csat_all = _Tally.of(csat_sat.values(), positive=True, negative=None)
    level = []
    for hid in ids:
        g = groups[hid]
        s = g.stats(has_value)
        level.append(
            Evidence(
                hassle_id=hid,
                mentions=tuple(g.mentions),
                customers=s.customers,
                comments=s.comments,
                repeat_customers=s.repeat_customers,
                severity_mean=s.severity_mean,
                severity_p90=s.severity_p90,
                trend_7d=_trend(g, short, trend),
                trend_30d=_trend(g, long, trend),
                channels=dict(sorted(g.channels.items())),
                channels_used=g.channels_used(),
                channels_in_data=len(channels_in_data),
                value_at_risk=s.value_at_risk,
                nps_impact=nps_all.impact(g.nps) if nps_cat else None,
                csat_impact=csat_all.impact(g.csat) if csat_sat else None,
                nps_in_window=bool(nps_cat),
                csat_in_window=bool(csat_sat),
            )
        )
    return level


# --- private helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """One trend's two periods and what they hold: the same for every hassle of a level."""

    periods: tuple[tuple[float, float], tuple[float, float]]  # (start, stop) days before as_of
    strata: list[str] | None  # the strata whose mentions are compared; None: every one
    sizes: tuple[float, float]  # comments (or, without the volume, days) in each period
    by_comments: bool  # the sizes are comments


@dataclass(frozen=True)
class _Sizes:
    """How much data the trends' periods hold: days of ``history``, or comments by age."""

    history: float  # days of data before as_of
    # Stratum (source or channel) -> its comments' ages, sorted, in days before as_of (the key
    # None: every one together); None: measure per day.
    comment_ages: dict[str | None, np.ndarray] | None

    def window(self, recent_days: int, baseline_days: int) -> _Window:
        """The last ``recent_days`` and the ``baseline_days`` before, within the history.

        With the comments' volume per stratum, only strata (sources, or channels) that
        delivered in both periods are compared, the hassle's mentions and the volume alike: a
        source that stopped or started says nothing about whether a hassle grew. With none in
        both, every stratum is kept, and the empty period makes the trend "too new to tell".
        """
        covered = max(0.0, min(baseline_days, self.history - recent_days))
        periods = ((0.0, float(recent_days)), (float(recent_days), recent_days + covered))
        if self.comment_ages is None:
            return _Window(periods, None, (recent_days, covered), by_comments=False)
        ages = self.comment_ages
        both = [s for s in ages if all(_count(ages[s], a, b) > 0 for a, b in periods)]
        strata = both or list(ages)
        recent, baseline = (sum(_count(ages[s], a, b) for s in strata) for a, b in periods)
        compared = None if None in strata else [s for s in strata if s is not None]
        return _Window(periods, compared, (recent, baseline), by_comments=True)


def _trend(g: _Group, window: _Window, settings: TrendSettings) -> Trend:
    """The hassle's mentions in ``window``'s two periods, compared (:func:`trend_test`)."""
    recent, baseline = (g.count_ages(a, b, window.strata) for a, b in window.periods)
    recent_size, baseline_size = window.sizes
    if recent_size <= 0 or baseline_size <= 0:
        trend = Trend(
            recent=recent, baseline=baseline, ratio=None, p_value=None, label=TREND_STEADY
        )
    else:
        trend = trend_test(recent, baseline, recent_size, baseline_size, settings)
    if not window.by_comments:
        return trend
    return replace(trend, recent_comments=int(recent_size), baseline_comments=int(baseline_size))


def _stratum_ages(times: CommentTimes, as_of: datetime) -> dict[str | None, np.ndarray]:
    """Each stratum's comments' days before ``as_of``, sorted; the key None when not split."""
    split = times if isinstance(times, Mapping) else {None: times}
    at = np.datetime64(as_of, "us")
    return {
        stratum: np.sort((at - np.asarray(t, dtype="datetime64[us]")) / np.timedelta64(1, "D"))
        for stratum, t in split.items()
    }


def _count(sorted_ages: np.ndarray, start: float, stop: float) -> int:
    """How many of ``sorted_ages`` lie in ``start <= age < stop``."""
    return int(
        np.searchsorted(sorted_ages, stop, "left") - np.searchsorted(sorted_ages, start, "left")
    )


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

    __slots__ = (
        "severities",
        "ages",
        "channels",
        "customers",
        "nps",
        "csat",
        "mentions",
        "_sorted",
    )

    def __init__(self) -> None:
        self.severities: list[float] = []
        self.ages: dict[str, list[float]] = {}  # stratum -> days before as_of of its mentions
        self.channels: dict[str, int] = {}
        # customer key -> [comments, highest customer_value or None]
        self.customers: dict[object, list] = {}
        self.nps = _Tally()
        self.csat = _Tally()
        self.mentions: list[Mention] = []
        self._sorted: dict[str, np.ndarray] = {}

    def add_age(self, age: float, stratum: str) -> None:
        """Count a mention written ``age`` days before ``as_of`` in ``stratum``, for trends."""
        self.ages.setdefault(stratum, []).append(age)
        self._sorted.clear()

    def count_ages(self, start: float, stop: float, strata: Iterable[str] | None = None) -> int:
        """Mentions ``start`` to ``stop`` days before ``as_of`` in ``strata`` (None: all)."""
        wanted = list(self.ages) if strata is None else strata
        total = 0
        for stratum in wanted:
            ages = self._sorted.get(stratum)
            if ages is None:
                ages = self._sorted[stratum] = np.sort(np.asarray(self.ages.get(stratum, ())))
            total += _count(ages, start, stop)
        return total

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
        if has_value:  # a hassle none of whose customers has a value has none: not 0
            values = [v for _, v in self.customers.values() if v is not None]
            value_at_risk = float(math.fsum(values)) if values else None
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
    counted_from: datetime | None,
) -> tuple[dict[str, _Group], set[str], bool, dict[str, list[tuple[float, str]]]]:
    """Group deduplicated mentions by hassle; also the channels present and whether any value.

    A mention before ``counted_from`` is not grouped: only its age and stratum are kept (the
    fourth value, hassle id -> (age, stratum)), for the trends.
    """
    unique: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        key = (m.hassle_id, m.comment_id)
        kept = unique.get(key)
        if kept is None or m.severity > kept.severity:
            unique[key] = m

    groups: dict[str, _Group] = {}
    channels_in_data: set[str] = set()
    has_value = False
    earlier: dict[str, list[tuple[float, str]]] = {}
    for m in unique.values():
        if counted_from is not None and m.created_at < counted_from:
            earlier.setdefault(m.hassle_id, []).append(((as_of - m.created_at) / _DAY, m.stratum))
            continue
        g = groups.get(m.hassle_id)
        if g is None:
            g = groups[m.hassle_id] = _Group()
        g.mentions.append(m)
        g.severities.append(float(m.severity))
        g.add_age((as_of - m.created_at) / _DAY, m.stratum)
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
    return groups, channels_in_data, has_value, earlier
