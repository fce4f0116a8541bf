"""Plan every comment up front as a small tuple (time, customer, kind, language).

The base window spreads its comments over the customers and days with a skew (a few customers
write a lot, weekdays and daytime are busier, growing hassles rise in the last third); the extra
days add a steady daily flow, with the new hassles in it, after the base window.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from random import Random
from typing import NamedTuple

from flows.demo import phrases as ph
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES
from flows.demo.spec import CHANNELS, FOREIGN_CODES, HASSLES, KINDS, DemoSpec

FIRST_IDS: dict[str, int] = {"review": 1, "ticket": 40001, "survey": 1}
RESERVED_IDS = 10
BACKGROUND_SHARES: dict[str, float] = {"praise": 0.35, "neutral": 0.12}
GROWTH = 3.0
CUSTOMER_SKEW = 0.6
NEW_CUSTOMER_SHARE = 0.2
HOME_CHANNEL_STICKINESS = 0.4

# Per kind, the review/ticket/survey mix; together they give 45/30/25 overall.
_CHANNEL_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "hassle": (45, 30, 25),
    "praise": (60, 15, 25),
    "neutral": (20, 50, 30),
    "oneoff": (33, 45, 22),
}
_WEEKDAY_WEIGHTS = (1.15, 1.1, 1.05, 1.0, 0.95, 0.75, 0.8)
_HOUR_WEIGHTS = (
    *(0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.0, 2.0, 1.8),
    *(1.7, 1.7, 1.6, 1.5, 1.5, 1.6, 1.8, 2.1, 2.2, 1.9, 1.3, 0.7),
)
_FOREIGN_CUM = tuple(accumulate(ph.FOREIGN_WEIGHTS.values()))
DAY = 86_400


class PartPlan(NamedTuple):
    """The plan of one part (the base window or the extra days).

    Attributes:
        name: ``base`` or ``extra``; names the part's random streams.
        first_day: The part's first day.
        days: Days the part spans.
        slots: Per channel, its comments as (time, customer, kind index, language), in time order.
        first_ids: Per channel, the number of its first record.
        customer_values: Per customer index, the customer's value.
        customer_cum: Cumulative weights of the base customers, for drawing who writes.
        id_width: Digits in a customer id.
    """

    name: str
    first_day: date
    days: int
    slots: dict[str, list[tuple[int, int, int, str]]]
    first_ids: dict[str, int]
    customer_values: list[float]
    customer_cum: list[float]
    id_width: int


def epoch(day: date) -> int:
    """Seconds since the epoch at midnight UTC starting ``day``."""
    return int(datetime.combine(day, time(), UTC).timestamp())


def pick(rng: Random, cum: tuple[float, ...] | list[float]) -> int:
    """Draw an index with the weights whose running sums are ``cum``."""
    return min(bisect.bisect(cum, rng.random() * cum[-1]), len(cum) - 1)


def _growth_days(days: int) -> int:
    return days // 3


def _growth_factor(days: int) -> float:
    """How much higher a growing hassle's rate is at the end of the window than on average."""
    grow = _growth_days(days)
    return GROWTH * days / (days - grow + GROWTH * grow) if grow else 1.0


class _Clock:
    """Draws comment times: weekday and time-of-day variation, optional growth at the end."""

    def __init__(self, first_day: date, days: int) -> None:
        self.start = epoch(first_day)
        grow_from = days - _growth_days(days)
        flat = [_WEEKDAY_WEIGHTS[(first_day + timedelta(days=d)).weekday()] for d in range(days)]
        self.flat = list(accumulate(flat))
        self.growing = list(
            accumulate(w * (GROWTH if d >= grow_from else 1.0) for d, w in enumerate(flat))
        )
        self.hours = list(accumulate(_HOUR_WEIGHTS))

    def sample(self, rng: Random, growing: bool) -> int:
        day = pick(rng, self.growing if growing else self.flat)
        return self.on_day(rng, day)

    def on_day(self, rng: Random, day: int) -> int:
        hour = pick(rng, self.hours)
        return self.start + day * DAY + hour * 3600 + rng.randrange(3600)


def _quotas(n: int, shares: list[float]) -> list[int]:
    """Split ``n`` by ``shares`` (summing to 1) with the largest-remainder method."""
    raw = [n * s for s in shares]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _channel_cum(kind: str) -> tuple[float, ...]:
    group = "hassle" if kind in HASSLES else kind
    return tuple(accumulate(_CHANNEL_WEIGHTS[group]))


_KIND_CHANNEL_CUM = tuple(_channel_cum(k) for k in KINDS)
_GROWING_KINDS = frozenset(i for i, k in enumerate(KINDS) if k in HASSLES and HASSLES[k].growing)


def _base_shares() -> list[float]:
    shares = [PLANTED_HASSLES[k].share if k in PLANTED_HASSLES else 0.0 for k in KINDS]
    for kind, share in BACKGROUND_SHARES.items():
        shares[KINDS.index(kind)] = share
    shares[KINDS.index("oneoff")] = 1.0 - sum(shares)
    return shares


def _pick_language(rng: Random) -> str:
    if rng.random() >= ph.FOREIGN_SHARE:
        return "en"
    return FOREIGN_CODES[pick(rng, _FOREIGN_CUM)]


def plan_base(spec: DemoSpec, rng: Random) -> PartPlan:
    """Plan the base window: each comment's kind, customer, channel, time and language."""
    n = spec.n_comments
    n_customers = max(1, round(n / 3))
    kinds = [k for k, count in enumerate(_quotas(n, _base_shares())) for _ in range(count)]
    rng.shuffle(kinds)
    weights = [1.0 / (i + 1) ** CUSTOMER_SKEW for i in range(n_customers)]
    rng.shuffle(weights)
    customer_cum = list(accumulate(weights))
    customers = list(range(n_customers))
    customers += rng.choices(range(n_customers), cum_weights=customer_cum, k=n - n_customers)
    rng.shuffle(customers)
    values = [round(rng.lognormvariate(3.3, 0.6), 2) for _ in range(n_customers)]
    first_day = spec.end_date - timedelta(days=spec.days - 1)
    clock = _Clock(first_day, spec.days)
    slots: dict[str, list[tuple[int, int, int, str]]] = {c: [] for c in CHANNELS}
    home = [-1] * n_customers
    for kind, customer in zip(kinds, customers, strict=True):
        if home[customer] >= 0 and rng.random() < HOME_CHANNEL_STICKINESS:
            channel = CHANNELS[home[customer]]
        else:
            channel = CHANNELS[pick(rng, _KIND_CHANNEL_CUM[kind])]
            if home[customer] < 0:
                home[customer] = CHANNELS.index(channel)
        ts = clock.sample(rng, kind in _GROWING_KINDS)
        slots[channel].append((ts, customer, kind, _pick_language(rng)))
    for planned in slots.values():
        planned.sort()
    return PartPlan(
        name="base",
        first_day=first_day,
        days=spec.days,
        slots=slots,
        first_ids=dict(FIRST_IDS),
        customer_values=values,
        customer_cum=customer_cum,
        id_width=max(4, len(str(n_customers))),
    )


def plan_extra(spec: DemoSpec, base: PartPlan, rng: Random) -> PartPlan:
    """Plan the extra days after ``base``: a steady daily flow with the new hassles in it."""
    per_day = max(1, round(spec.n_comments / spec.days))
    shares = _base_shares()
    factor = _growth_factor(spec.days)
    weights = [s * factor if i in _GROWING_KINDS else s for i, s in enumerate(shares)]
    new_kinds = [KINDS.index(k) for k in NEW_HASSLES]
    first_day = spec.end_date + timedelta(days=1)
    clock = _Clock(first_day, spec.extra_days)
    values = list(base.customer_values)
    slots: dict[str, list[tuple[int, int, int, str]]] = {c: [] for c in CHANNELS}
    for day in range(spec.extra_days):
        kinds = []
        for kind in new_kinds:
            kinds += [kind] * max(1, round(per_day * HASSLES[KINDS[kind]].share))
        kinds += rng.choices(range(len(KINDS)), weights=weights, k=max(0, per_day - len(kinds)))
        for kind in kinds:
            if rng.random() < NEW_CUSTOMER_SHARE:
                customer = len(values)
                values.append(round(rng.lognormvariate(3.3, 0.6), 2))
            else:
                customer = pick(rng, base.customer_cum)
            channel = CHANNELS[pick(rng, _KIND_CHANNEL_CUM[kind])]
            slots[channel].append((clock.on_day(rng, day), customer, kind, _pick_language(rng)))
    for planned in slots.values():
        planned.sort()
    base_counts = {c: len(base.slots[c]) for c in CHANNELS}
    return PartPlan(
        name="extra",
        first_day=first_day,
        days=spec.extra_days,
        slots=slots,
        first_ids={c: base.first_ids[c] + base_counts[c] + RESERVED_IDS for c in CHANNELS},
        customer_values=values,
        customer_cum=base.customer_cum,
        id_width=base.id_width,
    )
