"""The ranking factors ("score parts"), each declared once in :data:`FACTORS`.

A factor is a pure function from one level's :class:`~nlp.evidence.Evidence` (every hassle
ranked together) to one value per hassle in ``[0, 1]``, or ``None`` when the level holds no
data for it (the factor is then left out and the other weights renormalised), plus a default
weight. The ranker (:mod:`nlp.rank`), the stored ranking, the report, the Prefect artifact and
the CLI all loop over :data:`FACTORS`; ``rank.weights`` in the config overrides the default
weights by name.

Adding a factor is one decorated function here (or in a module named under ``extensions`` in
the config)::

    @factor(weight=0.05, label="Volume")
    def volume(level: Sequence[Evidence]) -> list[float]:
        \"\"\"Comments, as a share of the most-mentioned hassle's.\"\"\"
        top = max(e.comments for e in level)
        return [share(e.comments, top) for e in level]

The built-in factors (docs/ranking.md gives the formulas) put the customer's view first:
reach, severity, repeat, spread and trend; value at risk and score impact are secondary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from nlp.evidence import TREND_FALLING, TREND_NEW, TREND_RISING, Evidence, Trend
from nlp.registry import Registry

Score = Callable[[Sequence[Evidence]], Sequence[float | None] | None]


@dataclass(frozen=True)
class Factor:
    """One ranking factor: a named, weighted score part.

    Attributes:
        name: Its key in ``rank.weights``, in storage and in the CSV (``part_<name>``): a
            lower-case identifier.
        score: Level evidence -> one value per hassle, in the same order, each clipped to
            ``[0, 1]`` by the ranker; ``None`` when the level has no data for it, and a
            hassle's value ``None`` when that hassle has none (its comments come from a source
            that cannot carry it): the factor is then left out of that hassle's score alone.
        default_weight: Its weight when ``rank.weights`` does not set one (>= 0).
        label: How the report names it.
        description: One line on what it measures.
        detail: The evidence behind one hassle's value, in words, for the report.
        colour: Its colour in the report's charts (when ``None``, a spare colour picked by its
            place in :data:`FACTORS`, the same in every hassle).
        neutral: The value that says nothing of the hassle (a steady trend's 0.5): an alert
            names a part as a reason for the rank only above it.
        left_out: When ``score`` gives ``None`` (for the level or a hassle), why, in words
            for the report ("the data holds one channel"); empty for a factor every hassle has
            data for.
    """

    name: str
    score: Score
    default_weight: float
    label: str = ""
    description: str = ""
    detail: Callable[[Evidence], str] | None = None
    colour: str | None = None
    neutral: float = 0.0
    left_out: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"factor name must be a lower-case identifier, got {self.name!r}")
        _check_weight(self.name, self.default_weight)
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())

    def explain(self, evidence: Evidence) -> str:
        """The evidence behind ``evidence``'s value, in words (empty without ``detail``)."""
        return self.detail(evidence) if self.detail else ""


FACTORS: Registry[Factor] = Registry("ranking factor")
"""Every ranking factor, in report order."""


def factor(
    *,
    weight: float,
    label: str = "",
    detail: Callable[[Evidence], str] | None = None,
    colour: str | None = None,
    neutral: float = 0.0,
    left_out: str = "",
) -> Callable[[Score], Score]:
    """Register the decorated function as the factor of its name (its docstring describes it).

    Args:
        weight: The default weight.
        label: How the report names it (default: the name, capitalised).
        detail: The evidence behind a value, in words.
        colour: Its colour in the report's charts.
        neutral: The value that says nothing of the hassle (:attr:`Factor.neutral`).
        left_out: Why it may have no value for a level (:attr:`Factor.left_out`).

    Returns:
        A decorator that registers the function and returns it unchanged.
    """

    def register(score: Score) -> Score:
        doc = (score.__doc__ or "").strip().splitlines()
        FACTORS.register(
            Factor(
                name=score.__name__,
                score=score,
                default_weight=weight,
                label=label,
                description=doc[0] if doc else "",
                detail=detail,
                colour=colour,
                neutral=neutral,
                left_out=left_out,
            )
        )
        return score

    return register


class RankWeights(Mapping[str, float]):
    """The weight of every registered factor: the factor's default unless set here.

    Read at lookup time, so a factor registered after the weights were made still has its
    default. Weights need not sum to 1: the ranker renormalises them over the factors used.

    Args:
        weights: Weights by factor name (e.g. ``rank.weights`` from the config).
        **overrides: More weights by name, e.g. ``RankWeights(trend=0.0)``.

    Raises:
        ValueError: On a name that is no registered factor, or a negative or non-finite weight.
    """

    def __init__(self, weights: Mapping[str, float] | None = None, /, **overrides: float) -> None:
        given = {**(weights or {}), **overrides}
        unknown = sorted(set(given) - set(FACTORS.names()))
        if unknown:
            raise ValueError(
                f"unknown ranking factor(s) {', '.join(unknown)}; "
                f"registered: {', '.join(FACTORS.names())} (one of your own: name its module "
                "under `extensions`)"
            )
        for name, value in given.items():
            _check_weight(name, value)
        self._given = {name: float(value) for name, value in given.items()}

    def __getitem__(self, name: str) -> float:
        if name in self._given:
            return self._given[name]
        return float(FACTORS[name].default_weight)

    def __iter__(self) -> Iterator[str]:
        return iter(FACTORS.names())

    def __len__(self) -> int:
        return len(FACTORS)

    def __repr__(self) -> str:
        return f"RankWeights({dict(self)!r})"


def share(value: float, maximum: float) -> float:
    """``value / maximum``, or 0 when ``maximum`` is not positive."""
    return value / maximum if maximum > 0 else 0.0


def trend_part(trend: Trend) -> float:
    """Turn one window's trend into a 0..1 value.

    Steady 0.5; rising ``0.5 + 0.5 * min(1, log2(ratio) / 2)`` (a 4x rise or more gives 1.0);
    falling ``0.5 - 0.5 * min(1, -log2(ratio) / 2)`` (down to a quarter or less gives 0.0);
    new 1.0.
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


def describe_trend(trend: Trend, days: int | str) -> str:
    """One window's trend in words.

    Measured against the comments' volume, e.g. ``share of comments +80% in the last 7 days
    vs the days before (1.0% → 1.8%; rising, p = 0.001)``; per day (volume unknown), e.g.
    ``+80% a day in the last 7 days vs the days before (rising, p = 0.001)``. A window with
    no comments before it is too new to tell; one with none of the hassle's mentions before it
    but too few to call it new says so.
    """
    recent = f"{trend.recent} mentions in the last {days} days"
    if trend.label == TREND_NEW:
        return f"{recent}, none before"
    if trend.baseline_comments == 0:
        return f"{recent}; too new to tell: no comments before them"
    if trend.baseline == 0 and trend.recent > 0:
        before = (
            "" if trend.baseline_comments is None else f" in {trend.baseline_comments:,} comments"
        )
        return f"{recent}, none before{before}: too few to tell"
    if trend.ratio is None or not math.isfinite(trend.ratio):
        return recent
    change = (trend.ratio - 1) * 100
    p = f", p = {trend.p_value:.3f}" if trend.p_value is not None else ""
    if trend.recent_comments and trend.baseline_comments:
        shares = (
            f"{trend.baseline / trend.baseline_comments:.1%} → "
            f"{trend.recent / trend.recent_comments:.1%}; "
        )
        return (
            f"share of comments {change:+.0f}% in the last {days} days vs the days before "
            f"({shares}{trend.label}{p})"
        )
    return f"{change:+.0f}% a day in the last {days} days vs the days before ({trend.label}{p})"


def describe_trends(e: Evidence) -> str:
    """Both windows' trends in words: the 7-day one, then the 30-day one."""
    return f"{describe_trend(e.trend_7d, '7')}; {describe_trend(e.trend_30d, '30')}"


def _check_weight(name: str, weight: float) -> None:
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"weight {name} must be finite and >= 0, got {weight}")


# --- the built-in factors, in report order ---------------------------------------------


@factor(
    weight=0.30,
    detail=lambda e: f"{e.customers:,} customers, {e.comments:,} comments",
    colour="#4e79a7",
)
def reach(level: Sequence[Evidence]) -> list[float]:
    """Distinct customers, as a share of the biggest hassle's."""
    top = max(e.customers for e in level)
    return [share(e.customers, top) for e in level]


@factor(
    weight=0.25,
    detail=lambda e: f"mean {e.severity_mean:.2f}, 90th percentile {e.severity_p90:.2f}",
    colour="#e15759",
)
def severity(level: Sequence[Evidence]) -> list[float]:
    """How badly it hurts: half the mean, half the 90th percentile of mention severity."""
    return [0.5 * e.severity_mean + 0.5 * e.severity_p90 for e in level]


def _identified(e: Evidence) -> int:
    """Its customers with an id: only they can be seen raising it again."""
    return len({m.customer_id for m in e.mentions if m.customer_id is not None})


def _repeat_detail(e: Evidence) -> str:
    identified = _identified(e)
    text = f"{e.repeat_customers:,} of {identified:,} customers raised it again"
    anonymous = e.customers - identified
    return text + (f" ({anonymous:,} without a customer id not counted)" if anonymous else "")


@factor(
    weight=0.10,
    label="Repeat contacts",
    left_out="no customer ids: each comment counts as a customer of its own",
    detail=_repeat_detail,
    colour="#59a14f",
)
def repeat(level: Sequence[Evidence]) -> list[float | None] | None:
    """Share of its customers with an id who raised it more than once.

    An anonymous comment is a customer of its own who cannot be seen raising it again: counted
    in, it would only weigh the part down, by the share of a hassle's comments that come from
    sources without ids (hotel reviews beside tweets). Left out of a hassle none of whose
    customers has an id, and of every hassle when no comment has one.
    """
    identified = [_identified(e) for e in level]
    if not any(identified):
        return None
    return [
        share(e.repeat_customers, n) if n else None for e, n in zip(level, identified, strict=True)
    ]


@factor(
    weight=0.10,
    label="Spread across channels",
    left_out="the data holds one channel",
    detail=lambda e: ", ".join(f"{c} {n:,}" for c, n in sorted(e.channels.items())),
    colour="#76b7b2",
)
def spread(level: Sequence[Evidence]) -> list[float] | None:
    """Share of the data's channels it really shows up in; left out when the data has one."""
    if all(e.channels_in_data < 2 for e in level):  # every hassle "in every channel" says nothing
        return None
    return [share(e.channels_used, e.channels_in_data) for e in level]


@factor(
    weight=0.10,
    detail=describe_trends,
    colour="#f28e2b",
    neutral=0.5,
    left_out="no comment is older than the trend windows: nothing to compare with",
)
def trend(level: Sequence[Evidence]) -> list[float] | None:
    """Whether it is growing: the mean of the 7-day and the 30-day trend's values.

    Left out when neither window of any hassle has a comment before it (the data starts
    inside both): every hassle would read "steady" and take a neutral half of the weight.
    """
    if all(t.baseline_comments == 0 for e in level for t in (e.trend_7d, e.trend_30d)):
        return None
    return [(trend_part(e.trend_7d) + trend_part(e.trend_30d)) / 2 for e in level]


def _value_detail(e: Evidence) -> str:
    return f"{e.value_at_risk:,.0f} customer value" if e.value_at_risk is not None else "n/a"


@factor(
    weight=0.075,
    label="Value at risk",
    detail=_value_detail,
    colour="#b07aa1",
    left_out="no customer values",
)
def value(level: Sequence[Evidence]) -> list[float | None] | None:
    """Customer value at risk, as a share of the biggest; left out without customer values.

    Left out of a hassle none of whose customers has a value, too: its value is unknown, not 0.
    """
    if all(e.value_at_risk is None for e in level):
        return None
    top = max(max(0.0, e.value_at_risk or 0.0) for e in level)
    return [
        None if e.value_at_risk is None else share(max(0.0, e.value_at_risk), top) for e in level
    ]


def _signed(points: float) -> str:
    """Points gained (+) or lost (-) as the report says them; a change under 0.05 is 0.0."""
    text = f"{points:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def _impact_detail(e: Evidence) -> str:
    bits = []
    if e.nps_impact is not None:
        bits.append(f"NPS {_signed(e.nps_impact)} without it")
    if e.csat_impact is not None:
        bits.append(f"CSAT {_signed(e.csat_impact)} pts without it")
    return ", ".join(bits) or "no scores"


@factor(
    weight=0.075,
    label="Score impact",
    detail=_impact_detail,
    colour="#edc948",
    left_out="no NPS or CSAT scores in the window",
)
def impact(level: Sequence[Evidence]) -> list[float] | None:
    """NPS/CSAT points it costs, each as a share of the largest, averaged over the kinds."""
    first = level[0]
    if not (first.nps_in_window or first.csat_in_window):
        return None
    kinds: list[list[float | None]] = []
    if first.nps_in_window:
        kinds.append([e.nps_impact for e in level])
    if first.csat_in_window:
        kinds.append([e.csat_impact for e in level])
    tops = [max((max(0.0, v) for v in kind if v is not None), default=0.0) for kind in kinds]
    return [
        sum(share(max(0.0, kind[i] or 0.0), top) for kind, top in zip(kinds, tops, strict=True))
        / len(kinds)
        for i in range(len(level))
    ]
