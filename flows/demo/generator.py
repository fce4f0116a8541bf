"""Seeded, deterministic demo feedback for Nimbus: reviews, support tickets and survey comments.

:func:`generate_demo` plans every comment up front as a small tuple (time, customer, kind,
language) and renders the text lazily, one channel at a time, so a million comments never sit in
memory as text. :func:`write_demo_data` streams them to the channel files and ``truth.csv``.

Each part (the base window, the extra days) and each channel draws from its own random stream,
seeded from the spec's seed, so writing extra days never changes a byte of the base files.
"""

from __future__ import annotations

import bisect
import csv
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any, NamedTuple, TextIO

from config.channels import CHANNEL_NAMES
from flows.demo import phrases as ph
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES, Hassle

COUNT_KEYS: dict[str, str] = {"review": "reviews", "ticket": "tickets", "survey": "surveys"}
# The channels the demo writes: those of config/channels.py it has files for, in that order.
CHANNELS: tuple[str, ...] = tuple(c for c in CHANNEL_NAMES if c in COUNT_KEYS)
FILES: dict[tuple[str, bool], str] = {
    ("review", False): "reviews/reviews.csv",
    ("ticket", False): "tickets/tickets.jsonl",
    ("survey", False): "surveys/surveys.csv",
    ("review", True): "reviews/reviews_extra.csv",
    ("ticket", True): "tickets/tickets_extra.jsonl",
    ("survey", True): "surveys/surveys_extra.csv",
}
TRUTH_FILE = "truth.csv"
REVIEW_HEADER: tuple[str, ...] = ("id", "author", "rating", "title", "body", "date", "product")
SURVEY_HEADER: tuple[str, ...] = (
    "response_id",
    "respondent",
    "survey",
    "score",
    "question",
    "verbatim",
    "submitted_at",
    "product",
)
TRUTH_HEADER: tuple[str, ...] = (
    "channel",
    "external_id",
    "customer_id",
    "created_at",
    "planted_hassle",
    "stage",
    "theme",
    "sentiment",
    "language",
    "pain_sentence",
    "bad_record",
)
FIRST_IDS: dict[str, int] = {"review": 1, "ticket": 40001, "survey": 1}
RESERVED_IDS = 10
HASSLES: dict[str, Hassle] = {**PLANTED_HASSLES, **NEW_HASSLES}
KINDS: tuple[str, ...] = (*PLANTED_HASSLES, *NEW_HASSLES, "praise", "neutral", "oneoff")
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
_RATING_WEIGHTS: dict[str, tuple[int, ...]] = {
    "high": (70, 25, 5, 0, 0),
    "medium": (40, 42, 15, 3, 0),
    "medium_low": (20, 45, 30, 5, 0),
    "low": (10, 35, 40, 15, 0),
    "praise": (0, 0, 2, 28, 70),
    "neutral": (2, 10, 50, 33, 5),
}
_NPS_BY_RATING: dict[int, tuple[int, ...]] = {
    1: (0, 1, 2, 3),
    2: (2, 3, 4, 5),
    3: (5, 6, 7),
    4: (7, 8, 9),
    5: (9, 10),
}
_TURN_WEIGHTS: dict[bool, tuple[int, ...]] = {True: (35, 30, 20, 15), False: (55, 35, 10, 0)}
_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_FOREIGN_CODES = tuple(ph.FOREIGN_WEIGHTS)
_FOREIGN_CUM = tuple(accumulate(ph.FOREIGN_WEIGHTS.values()))
_PRODUCT_KEYS = tuple(ph.PRODUCT_WEIGHTS)
_PRODUCT_CUM = tuple(accumulate(ph.PRODUCT_WEIGHTS.values()))
_DAY = 86_400


@dataclass(frozen=True)
class DemoSpec:
    """What to generate.

    Attributes:
        n_comments: Comments in the base window.
        days: Days the base window spans, ending at ``end_date``.
        end_date: Last day of the base window (fixed, never "today").
        seed: Random seed; the same spec always gives the same bytes.
        extra_days: Newer days written to separate ``*_extra`` files after ``end_date``.
        bad_records: Whether to append a fixed set of deliberately bad records.
    """

    n_comments: int = 3000
    days: int = 90
    end_date: date = date(2026, 11, 20)
    seed: int = 42
    extra_days: int = 0
    bad_records: bool = True

    def __post_init__(self) -> None:
        if self.n_comments < 1 or self.days < 1 or self.extra_days < 0:
            raise ValueError("n_comments and days must be positive and extra_days >= 0")


DEFAULT_SPEC = DemoSpec()


@dataclass
class DemoSummary:
    """What :func:`write_demo_data` wrote.

    Attributes:
        out_dir: The folder written to.
        files: Every file written.
        counts: Records written per channel (``reviews``, ``tickets``, ``surveys``), bad ones
            included.
        customers: Distinct customer ids in the data.
        cross_channel_customers: Customers who wrote in more than one channel.
        planted: Comments written per planted hassle key.
    """

    out_dir: Path
    files: list[Path]
    counts: dict[str, int]
    customers: int
    cross_channel_customers: int
    planted: dict[str, int]


class TruthRow(NamedTuple):
    """One row of ``truth.csv``: what a written record really is."""

    channel: str
    external_id: str
    customer_id: str
    created_at: str
    planted_hassle: str
    stage: str
    theme: str
    sentiment: str
    language: str
    pain_sentence: str
    bad_record: str


class DemoRecord(NamedTuple):
    """A record as written and its ground truth.

    Attributes:
        record: A CSV row (list of fields, in header order), a ticket (dict), or a raw line (str)
            for a record that is deliberately not valid JSON.
        truth: The record's row in ``truth.csv``.
    """

    record: list[str] | dict[str, Any] | str
    truth: TruthRow


class _Part(NamedTuple):
    name: str
    first_day: date
    days: int
    slots: dict[str, list[tuple[int, int, int, str]]]
    first_ids: dict[str, int]
    customer_values: list[float]
    customer_cum: list[float]
    id_width: int


@dataclass(frozen=True)
class DemoData:
    """A planned demo data set; records are rendered on demand, deterministically.

    Attributes:
        spec: The spec it was generated from.
        base: The plan of the base window.
        extra: The plan of the extra days, or None without extra days.
    """

    spec: DemoSpec
    base: _Part
    extra: _Part | None

    def records(self, channel: str, *, extra: bool = False) -> Iterator[DemoRecord]:
        """Yield one channel's records in file order, bad ones last (base part only).

        Args:
            channel: ``review``, ``ticket`` or ``survey``.
            extra: The extra days instead of the base window.

        Yields:
            Each record with its ground truth.
        """
        part = self.extra if extra else self.base
        if part is None:
            return
        rng = Random(_seed_key(self.spec.seed, part.name, channel))
        yield from _render_part(rng, part, channel)
        if not extra and self.spec.bad_records:
            yield from _bad_records(self.spec, self.base, channel)

    def truth(self) -> Iterator[TruthRow]:
        """Yield every truth row in the order :func:`write_demo_data` writes them.

        Yields:
            Truth rows: base reviews, tickets, surveys, then the extra days' ones.
        """
        for extra in (False, True):
            for channel in CHANNELS:
                for item in self.records(channel, extra=extra):
                    yield item.truth


def generate_demo(spec: DemoSpec) -> DemoData:
    """Plan a demo data set; no I/O, the text is rendered when records are iterated.

    Args:
        spec: What to generate.

    Returns:
        The plan, from which :meth:`DemoData.records` renders each channel.
    """
    base = _plan_base(spec, Random(_seed_key(spec.seed, "base", "plan")))
    extra = None
    if spec.extra_days:
        extra = _plan_extra(spec, base, Random(_seed_key(spec.seed, "extra", "plan")))
    return DemoData(spec, base, extra)


def write_demo_data(out_dir: Path | str, spec: DemoSpec = DEFAULT_SPEC) -> DemoSummary:
    """Write the demo reviews, tickets, surveys and ``truth.csv`` under ``out_dir``.

    Files are streamed (a million comments need little memory) and each is written to a
    temporary name first, then moved into place. Without extra days, stale ``*_extra`` files
    from an earlier run are removed so that ``truth.csv`` matches the folder.

    Args:
        out_dir: Folder to write to; created if needed.
        spec: What to generate.

    Returns:
        The files written and what they hold.
    """
    out = Path(out_dir)
    data = generate_demo(spec)
    tally = _Tally(spec)
    files: list[Path] = []
    parts = (False, True) if spec.extra_days else (False,)
    with _atomic_text(out / TRUTH_FILE) as truth_file:
        truth = csv.writer(truth_file, lineterminator="\n")
        truth.writerow(TRUTH_HEADER)
        for extra in parts:
            for channel in CHANNELS:
                path = out / FILES[channel, extra]
                _write_channel(path, channel, data.records(channel, extra=extra), truth, tally)
                files.append(path)
    files.append(out / TRUTH_FILE)
    if not spec.extra_days:
        for channel in CHANNELS:
            (out / FILES[channel, True]).unlink(missing_ok=True)
    return tally.summary(out, files)


def _seed_key(seed: int, part: str, stream: str) -> str:
    return f"hasslemap-demo/{seed}/{part}/{stream}"


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pick(rng: Random, cum: tuple[float, ...] | list[float]) -> int:
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
        self.start = _epoch(first_day)
        grow_from = days - _growth_days(days)
        flat = [_WEEKDAY_WEIGHTS[(first_day + timedelta(days=d)).weekday()] for d in range(days)]
        self.flat = list(accumulate(flat))
        self.growing = list(
            accumulate(w * (GROWTH if d >= grow_from else 1.0) for d, w in enumerate(flat))
        )
        self.hours = list(accumulate(_HOUR_WEIGHTS))

    def sample(self, rng: Random, growing: bool) -> int:
        day = _pick(rng, self.growing if growing else self.flat)
        return self.on_day(rng, day)

    def on_day(self, rng: Random, day: int) -> int:
        hour = _pick(rng, self.hours)
        return self.start + day * _DAY + hour * 3600 + rng.randrange(3600)


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
    return _FOREIGN_CODES[_pick(rng, _FOREIGN_CUM)]


def _plan_base(spec: DemoSpec, rng: Random) -> _Part:
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
            channel = CHANNELS[_pick(rng, _KIND_CHANNEL_CUM[kind])]
            if home[customer] < 0:
                home[customer] = CHANNELS.index(channel)
        ts = clock.sample(rng, kind in _GROWING_KINDS)
        slots[channel].append((ts, customer, kind, _pick_language(rng)))
    for planned in slots.values():
        planned.sort()
    return _Part(
        name="base",
        first_day=first_day,
        days=spec.days,
        slots=slots,
        first_ids=dict(FIRST_IDS),
        customer_values=values,
        customer_cum=customer_cum,
        id_width=max(4, len(str(n_customers))),
    )


def _plan_extra(spec: DemoSpec, base: _Part, rng: Random) -> _Part:
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
                customer = _pick(rng, base.customer_cum)
            channel = CHANNELS[_pick(rng, _KIND_CHANNEL_CUM[kind])]
            slots[channel].append((clock.on_day(rng, day), customer, kind, _pick_language(rng)))
    for planned in slots.values():
        planned.sort()
    base_counts = {c: len(base.slots[c]) for c in CHANNELS}
    return _Part(
        name="extra",
        first_day=first_day,
        days=spec.extra_days,
        slots=slots,
        first_ids={c: base.first_ids[c] + base_counts[c] + RESERVED_IDS for c in CHANNELS},
        customer_values=values,
        customer_cum=base.customer_cum,
        id_width=base.id_width,
    )


class _Slots(dict[str, str]):
    """Placeholder values for one comment, each drawn the first time a phrase uses it."""

    def __init__(self, rng: Random, product: str, when: int, foreign: bool) -> None:
        super().__init__()
        self.rng = rng
        self.product = product
        self.when = when
        self.foreign = foreign

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _draw(self, key: str) -> str:
        rng = self.rng
        if key == "device":
            device = self.product if self.product in ph.DEVICES else rng.choice(ph.DEVICES)
            names = ph.DEVICE_NAMES[device]
            return names[0] if self.foreign else rng.choice(names)
        if key == "month":
            ago = datetime.fromtimestamp(self.when, UTC) - timedelta(days=rng.randint(20, 75))
            return _MONTHS[ago.month - 1]
        draws: dict[str, Callable[[], str]] = {
            "days": lambda: str(rng.randint(6, 35)),
            "late_days": lambda: str(rng.randint(2, 9)),
            "weeks": lambda: rng.choice(ph.WEEKS),
            "n": lambda: str(rng.randint(3, 5)),
            "amount": lambda: "€" + rng.choice(ph.AMOUNTS),
            "weekday": lambda: rng.choice(ph.WEEKDAYS),
            "order": lambda: f"#{rng.randint(1_000_000, 9_999_999)}",
            "code": lambda: rng.choice(ph.PROMO_CODES),
            "name": lambda: rng.choice(ph.NAMES),
        }
        return draws[key]()


class _Comment(NamedTuple):
    sentences: list[str]
    pain: str
    planted: str
    sentiment: str
    stage: str
    theme: str
    language: str
    rating: int
    severity: str
    product: str
    slots: _Slots


class _Style(NamedTuple):
    context: float
    outcome: float
    mixed: float
    more_praise: float


_STYLES: dict[str, _Style] = {
    "review": _Style(context=0.35, outcome=0.55, mixed=0.12, more_praise=0.5),
    "ticket": _Style(context=0.6, outcome=0.3, mixed=0.05, more_praise=0.2),
    "survey": _Style(context=0.15, outcome=0.35, mixed=0.12, more_praise=0.35),
}


def _fits(hint: str, product: str) -> bool:
    return hint in ("any", product) or (hint == "device" and product in ph.DEVICES)


_CONTEXT_BY_PRODUCT: dict[str, tuple[str, ...]] = {
    p: tuple(text for hint, text in ph.CONTEXT if _fits(hint, p)) for p in ph.PRODUCTS
}


def _product_for(rng: Random, hint: str) -> str:
    if hint == "device":
        return rng.choice(ph.DEVICES)
    if hint == "any":
        return _PRODUCT_KEYS[_pick(rng, _PRODUCT_CUM)]
    return hint


def _rating(rng: Random, severity: str, mixed: bool = False) -> int:
    rating = rng.choices((1, 2, 3, 4, 5), weights=_RATING_WEIGHTS[severity])[0]
    return min(5, rating + 1) if mixed and rng.random() < 0.5 else rating


_I_WORD = re.compile(r"\bI\b")


def _word_at(rng: Random, text: str, change: Callable[[str], str]) -> str:
    words = text.split(" ")
    options = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not options:
        return text
    i = rng.choice(options)
    words[i] = change(words[i])
    return " ".join(words)


def _swap_letters(rng: Random, text: str) -> str:
    def swap(word: str) -> str:
        j = rng.randrange(1, len(word) - 2)
        return word[:j] + word[j + 1] + word[j] + word[j + 2 :]

    return _word_at(rng, text, swap)


def _drop_letter(rng: Random, text: str) -> str:
    def drop(word: str) -> str:
        j = rng.randrange(1, len(word) - 1)
        return word[:j] + word[j + 1 :]

    return _word_at(rng, text, drop)


def _shout_word(rng: Random, text: str) -> str:
    return _word_at(rng, text, str.upper)


def _lower_i(rng: Random, text: str) -> str:
    return _I_WORD.sub("i", text)


def _no_apostrophes(rng: Random, text: str) -> str:
    return text.replace("'", "")


def _bangs(rng: Random, text: str) -> str:
    return text.rstrip(".!") + "!!!" if text.endswith((".", "!")) else text


def _no_full_stop(rng: Random, text: str) -> str:
    return text.rstrip(".")


def _all_lower(rng: Random, text: str) -> str:
    return text.lower()


_Typo = Callable[[Random, str], str]
_LIGHT_TYPOS: tuple[_Typo, ...] = (
    _swap_letters,
    _drop_letter,
    _lower_i,
    _no_apostrophes,
    _bangs,
    _no_full_stop,
)
_ANGRY_TYPOS = (*_LIGHT_TYPOS, _shout_word, _shout_word)


def _noise_level(rng: Random) -> int:
    r = rng.random()
    return 0 if r < 0.68 else 1 if r < 0.92 else 2


def _noisy(rng: Random, text: str, level: int, complaint: bool) -> str:
    """Inject typos the way people type: ``level`` 0 is clean, 2 is sloppy."""
    if level == 0 or (level == 1 and rng.random() < 0.5):
        return text
    typos = _ANGRY_TYPOS if complaint else _LIGHT_TYPOS
    for _ in range(1 if level == 1 else rng.randint(2, 3)):
        text = rng.choice(typos)(rng, text)
    if level == 2 and rng.random() < 0.3:
        text = _all_lower(rng, text)
    return text


def _finish(
    rng: Random, templates: list[str], pain_at: int, slots: _Slots, complaint: bool
) -> tuple[list[str], str]:
    """Fill placeholders, add typos; return the sentences and the pain sentence as written."""
    level = _noise_level(rng)
    sentences = [_noisy(rng, t.format_map(slots), level, complaint) for t in templates]
    return sentences, sentences[pain_at] if pain_at >= 0 else ""


def _compose(rng: Random, kind: str, language: str, when: int, channel: str) -> _Comment:
    if language != "en":
        foreign = _compose_foreign(rng, kind, language, when)
        if foreign is not None:
            return foreign
    if kind in HASSLES:
        return _compose_hassle(rng, kind, when, channel)
    if kind == "oneoff":
        return _compose_oneoff(rng, when, channel)
    return _compose_positive(rng, kind, when, channel)


def _around(
    rng: Random,
    core: str,
    product: str,
    style: _Style,
    severity: str,
    extra_context: tuple[str, ...],
) -> tuple[list[str], int, bool]:
    before: list[str] = []
    after: list[str] = []
    if rng.random() < style.context:
        use_own = extra_context and rng.random() < 0.6
        before.append(rng.choice(extra_context if use_own else _CONTEXT_BY_PRODUCT[product]))
    mixed = rng.random() < style.mixed
    if mixed:
        before.append(rng.choice(ph.MIXED_PRAISE))
    if rng.random() < style.outcome:
        after.append(rng.choice(ph.OUTCOMES[severity]))
    if after and rng.random() < 0.15:
        return [*before, *after, core], len(before) + len(after), mixed
    return [*before, core, *after], len(before), mixed


def _compose_hassle(rng: Random, key: str, when: int, channel: str) -> _Comment:
    hassle = HASSLES[key]
    product = rng.choice(hassle.products)
    slots = _Slots(rng, product, when, foreign=False)
    pain = rng.choice(ph.PLANTED_PAIN[key])
    templates, pain_at, mixed = _around(
        rng, pain, product, _STYLES[channel], hassle.severity, ph.PLANTED_CONTEXT[key]
    )
    sentences, written = _finish(rng, templates, pain_at, slots, complaint=True)
    rating = _rating(rng, hassle.severity, mixed)
    return _Comment(
        sentences,
        written,
        key,
        "complaint",
        hassle.stage,
        hassle.theme,
        "en",
        rating,
        hassle.severity,
        product,
        slots,
    )


def _compose_oneoff(rng: Random, when: int, channel: str) -> _Comment:
    stage, theme, hint, text = rng.choice(ph.ONE_OFF_COMPLAINTS)
    product = _product_for(rng, hint)
    slots = _Slots(rng, product, when, foreign=False)
    templates, pain_at, mixed = _around(rng, text, product, _STYLES[channel], "medium", ())
    sentences, written = _finish(rng, templates, pain_at, slots, complaint=True)
    rating = _rating(rng, "medium", mixed)
    return _Comment(
        sentences, written, "", "complaint", stage, theme, "en", rating, "medium", product, slots
    )


def _compose_positive(rng: Random, kind: str, when: int, channel: str) -> _Comment:
    style = _STYLES[channel]
    hint, main = rng.choice(ph.PRAISE if kind == "praise" else ph.NEUTRAL)
    product = _product_for(rng, hint)
    templates = [main]
    if rng.random() < style.context * 0.5:
        templates.insert(0, rng.choice(_CONTEXT_BY_PRODUCT[product]))
    if kind == "praise" and rng.random() < style.more_praise:
        templates.append(rng.choice(ph.GENERAL_PRAISE))
    slots = _Slots(rng, product, when, foreign=False)
    sentences, _ = _finish(rng, templates, -1, slots, complaint=False)
    rating = _rating(rng, kind)
    return _Comment(sentences, "", "", kind, "", "", "en", rating, kind, product, slots)


def _compose_foreign(rng: Random, kind: str, language: str, when: int) -> _Comment | None:
    if kind in HASSLES:
        speaking = [c for c in _FOREIGN_CODES if kind in ph.FOREIGN_LANGUAGES[c].planted]
        if not speaking:
            return None
        if language not in speaking:
            language = rng.choice(speaking)
        hassle = HASSLES[kind]
        bank = ph.FOREIGN_LANGUAGES[language]
        product = rng.choice(hassle.products)
        core = rng.choice(bank.planted[kind])
        planted, stage, theme, severity = kind, hassle.stage, hassle.theme, hassle.severity
    elif kind == "oneoff":
        bank = ph.FOREIGN_LANGUAGES[language]
        stage, theme, hint, core = rng.choice(bank.complaints)
        product = _product_for(rng, hint)
        planted, severity = "", "medium"
    else:
        bank = ph.FOREIGN_LANGUAGES[language]
        hint, core = rng.choice(bank.praise if kind == "praise" else bank.neutral)
        product = _product_for(rng, hint)
        slots = _Slots(rng, product, when, foreign=True)
        rating = _rating(rng, kind)
        text = core.format_map(slots)
        return _Comment([text], "", "", kind, "", "", language, rating, kind, product, slots)
    slots = _Slots(rng, product, when, foreign=True)
    pain = core.format_map(slots)
    sentences = [pain]
    if rng.random() < 0.4:
        sentences.append(rng.choice(bank.outcomes))
    rating = _rating(rng, severity)
    return _Comment(
        sentences,
        pain,
        planted,
        "complaint",
        stage,
        theme,
        language,
        rating,
        severity,
        product,
        slots,
    )


def _customer_id(index: int, width: int) -> str:
    return f"cust-{index + 1:0{width}d}"


def _external_id(channel: str, number: int) -> str:
    if channel == "ticket":
        return str(number)
    return f"{'R' if channel == 'review' else 'S'}{number:06d}"


def _truth(channel: str, external_id: str, customer: str, created: str, c: _Comment) -> TruthRow:
    return TruthRow(
        channel,
        external_id,
        customer,
        created,
        c.planted,
        c.stage,
        c.theme,
        c.sentiment,
        c.language,
        c.pain,
        "",
    )


def _render_part(rng: Random, part: _Part, channel: str) -> Iterator[DemoRecord]:
    horizon = _epoch(part.first_day + timedelta(days=part.days)) - 1
    render = {"review": _review, "ticket": _ticket, "survey": _survey}[channel]
    first = part.first_ids[channel]
    for offset, (ts, customer, kind, language) in enumerate(part.slots[channel]):
        comment = _compose(rng, KINDS[kind], language, ts, channel)
        external_id = _external_id(channel, first + offset)
        customer_id = _customer_id(customer, part.id_width)
        created = _iso(ts)
        context = _RecordContext(external_id, customer_id, ts, created, horizon)
        record = render(rng, comment, context, part.customer_values[customer])
        yield DemoRecord(record, _truth(channel, external_id, customer_id, created, comment))


class _RecordContext(NamedTuple):
    external_id: str
    customer_id: str
    ts: int
    created: str
    horizon: int


def _join(rng: Random, sentences: list[str]) -> str:
    if len(sentences) >= 3 and rng.random() < 0.2:
        cut = rng.randrange(1, len(sentences))
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def _review_title(rng: Random, c: _Comment) -> str:
    r = rng.random()
    if r < 0.2:
        return ""
    if c.language != "en":
        return rng.choice(ph.FOREIGN_LANGUAGES[c.language].titles[c.sentiment])
    if c.planted and r < 0.5:
        title = rng.choice(ph.PLANTED_TITLES[c.planted])
    else:
        title = rng.choice(ph.REVIEW_TITLES[c.sentiment])
    return title.upper() if c.sentiment == "complaint" and rng.random() < 0.12 else title


# Share of English reviews and survey answers written the way people post: aimed at a brand
# handle, with emoji, hashtags or a short sign-off around the words that matter.
_POSTED = {"review": 0.3, "survey": 0.1}


def _noise_rng(ctx: _RecordContext) -> Random:
    """The record's own stream for channel noise (handles, emoji, footers, quoted replies).

    Drawn apart from the channel's stream, so the noise leaves every other choice (phrasing,
    typos, ratings) as it was without it.
    """
    return Random(f"noise:{ctx.external_id}:{ctx.created}")


def _as_posted(rng: Random, text: str, c: _Comment, channel: str) -> str:
    """Wrap a comment in what people add when they post: handles, emoji, tags, a sign-off."""
    if c.language != "en" or rng.random() >= _POSTED[channel]:
        return text
    handle = rng.choice(ph.HANDLES)
    r = rng.random()
    if r < 0.35:
        text = f"{handle} {text}"
    elif r < 0.5:
        text = f"{handle} {rng.choice([h for h in ph.HANDLES if h != handle])} {text}"
    elif r < 0.6:
        text = f"{rng.choice(ph.POST_GREETINGS).format(handle=handle)} {text}"
    if rng.random() < 0.5:
        text = f"{text} {rng.choice(ph.POST_EMOJI[c.sentiment])}"
    if rng.random() < 0.25:
        tags = rng.sample(ph.POST_HASHTAGS[c.sentiment], rng.choice((1, 1, 2)))
        text = f"{text} {' '.join(tags)}"
    elif rng.random() < 0.2:
        text = f"{text} {rng.choice(ph.POST_SIGNOFFS).format_map(c.slots)}"
    return text


def _review(rng: Random, c: _Comment, ctx: _RecordContext, value: float) -> list[str]:
    title = _review_title(rng, c)
    body = _as_posted(_noise_rng(ctx), _join(rng, c.sentences), c, "review")
    product = ph.PRODUCTS[c.product]
    return [ctx.external_id, ctx.customer_id, str(c.rating), title, body, ctx.created, product]


def _survey(rng: Random, c: _Comment, ctx: _RecordContext, value: float) -> list[str]:
    if rng.random() < 0.6:
        survey, score = "nps", rng.choice(_NPS_BY_RATING[c.rating])
        question = ph.NPS_QUESTION
    else:
        survey, score = "csat", c.rating
        topic = ph.CSAT_TOPIC[c.stage] if c.stage else rng.choice(tuple(ph.CSAT_QUESTIONS))
        question = ph.CSAT_QUESTIONS[topic]
    verbatim = _as_posted(_noise_rng(ctx), " ".join(c.sentences), c, "survey")
    product = ph.PRODUCTS[c.product]
    return [
        ctx.external_id,
        ctx.customer_id,
        survey,
        str(score),
        question,
        verbatim,
        ctx.created,
        product,
    ]


def _ticket_subject(rng: Random, c: _Comment) -> str:
    if c.language != "en":
        return rng.choice(ph.FOREIGN_LANGUAGES[c.language].titles[c.sentiment])
    if c.planted:
        subject = rng.choice(ph.PLANTED_SUBJECTS[c.planted])
    elif c.sentiment == "complaint":
        subject = rng.choice(ph.STAGE_SUBJECTS[c.stage])
    else:
        subject = rng.choice(ph.PRAISE_SUBJECTS if c.sentiment == "praise" else ph.NEUTRAL_SUBJECTS)
    subject = subject.format_map(c.slots)
    if c.severity == "high" and rng.random() < 0.1:
        return "URGENT: " + subject
    return subject.lower() if rng.random() < 0.08 else subject


def _ticket_description(rng: Random, c: _Comment, noise: Random) -> str:
    foreign = ph.FOREIGN_LANGUAGES.get(c.language)
    greetings = foreign.greetings if foreign else ph.GREETINGS
    signoffs = foreign.signoffs if foreign else ph.SIGNOFFS
    greeting = rng.choice(greetings) if rng.random() < 0.75 else ""
    request = ""
    if not foreign and c.sentiment != "praise" and rng.random() < 0.45:
        request = rng.choice(ph.REQUESTS)
    signoff = rng.choice(signoffs).format_map(c.slots) if rng.random() < 0.65 else ""
    if not foreign and noise.random() < 0.15:
        signoff = "\n\n".join(p for p in (signoff, noise.choice(ph.MAIL_FOOTERS)) if p)
    core = " ".join(c.sentences)
    if rng.random() < 0.06:
        html = f"<p>{greeting}</p>" if greeting else ""
        html += f"<p>{core}" + (f" <b>{request}</b>" if request else "") + "</p>"
        return html + (f"<p>{signoff.replace(chr(10), '<br>')}</p>" if signoff else "")
    body = f"{core} {request}" if request else core
    return "\n\n".join(p for p in (greeting, body, signoff) if p)


def _customer_followup(rng: Random, c: _Comment) -> str:
    foreign = ph.FOREIGN_LANGUAGES.get(c.language)
    if foreign and c.sentiment == "complaint":
        return rng.choice(foreign.followups)
    if c.planted and rng.random() < 0.5:
        return rng.choice(ph.PLANTED_FOLLOWUPS[c.planted])
    return rng.choice(ph.CUSTOMER_FOLLOWUPS[c.sentiment]).format_map(c.slots)


def _ticket_comments(
    rng: Random, c: _Comment, ctx: _RecordContext, noise: Random
) -> tuple[list[dict], str]:
    age = ctx.horizon - ctx.ts
    if age < _DAY and rng.random() < 0.5:
        at = min(ctx.ts + rng.randint(20, 120), ctx.horizon)
        auto = {"author_role": "agent", "body": ph.AUTO_REPLY, "created_at": _iso(at)}
        return [auto], "new"
    comments = []
    at = ctx.ts + rng.randint(600, 6 * 3600)
    turns = rng.choices((1, 2, 3, 4), weights=_TURN_WEIGHTS[c.sentiment == "complaint"])[0]
    for turn in range(turns):
        if at > ctx.horizon:
            if comments:
                break
            at = ctx.horizon
        if turn % 2 == 0:
            agent = rng.choice(ph.AGENT_SIGNATURES)
            reply = rng.choice(ph.AGENT_REPLIES[c.sentiment])
            role, body = "agent", f"{reply}\n\n{agent}\nNimbus Support"
        else:
            role, body = "end-user", _customer_followup(rng, c)
            if c.language == "en" and noise.random() < 0.4:
                body += "\n\n" + _quoted(comments[-1]["body"], at - noise.randint(600, 3 * 3600))
        comments.append({"author_role": role, "body": body, "created_at": _iso(at)})
        at += rng.randint(1800, 3 * _DAY)
    if comments[-1]["author_role"] == "end-user":
        stale = age > 14 * _DAY and rng.random() < 0.6
        return comments, ("closed" if age > 28 * _DAY else "solved") if stale else "open"
    if rng.random() < 0.4 and c.sentiment == "complaint":
        return comments, "pending"
    return comments, "closed" if age > 28 * _DAY else "solved"


def _quoted(previous: str, ts: int) -> str:
    """The agent's last message as a mail client quotes it under the customer's reply."""
    when = datetime.fromtimestamp(ts, UTC)
    header = f"On {when:%a, %-d %b %Y at %H:%M}, {ph.SUPPORT_ADDRESS} wrote:"
    return "\n".join([header, *(f"> {line}".rstrip() for line in previous.splitlines())])


def _ticket(rng: Random, c: _Comment, ctx: _RecordContext, value: float) -> dict[str, Any]:
    subject = _ticket_subject(rng, c)
    noise = _noise_rng(ctx)
    description = _ticket_description(rng, c, noise)
    comments, status = _ticket_comments(rng, c, ctx, noise)
    topic = ph.TICKET_TOPIC_TAGS[c.stage] if c.stage else "feedback"
    if c.sentiment == "neutral":
        topic = "question"
    tags = [rng.choice(ph.TICKET_SOURCES), f"nimbus_{c.product}", topic]
    if c.severity == "high" and rng.random() < 0.3:
        tags.append("urgent")
    if value >= 80:
        tags.append("vip")
    if c.language != "en":
        tags.append(f"lang_{c.language}")
    ticket: dict[str, Any] = {
        "id": int(ctx.external_id),
        "requester_id": ctx.customer_id,
        "subject": subject,
        "description": description,
        "comments": comments,
        "created_at": ctx.created,
        "status": status,
        "tags": tags,
        "product": ph.PRODUCTS[c.product],
    }
    r = rng.random()
    if r >= 0.2:
        ticket["customer_value"] = value
    elif r >= 0.1:
        ticket["customer_value"] = None
    return ticket


def _rant() -> str:
    sentences: list[str] = []
    length = -1
    while length < 6000:
        sentence = ph.RANT_SENTENCES[len(sentences) % len(ph.RANT_SENTENCES)]
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)


def _bad(
    channel: str,
    external_id: str,
    customer: str,
    created: str,
    reason: str,
    sentiment: str,
    stage: str = "",
    theme: str = "",
) -> TruthRow:
    return TruthRow(
        channel, external_id, customer, created, "", stage, theme, sentiment, "en", "", reason
    )


def _bad_records(spec: DemoSpec, base: _Part, channel: str) -> Iterator[DemoRecord]:
    """The fixed set of deliberately bad records, appended to the base files."""
    n_customers = len(base.customer_values)
    who = [_customer_id(min(i, n_customers - 1), base.id_width) for i in range(4)]
    number = base.first_ids[channel] + len(base.slots[channel])
    ids = [_external_id(channel, number + i) for i in range(4)]
    day = spec.end_date.isoformat()
    if channel == "review":
        first = _external_id(channel, base.first_ids[channel])
        yield from _bad_reviews(ids, who, day, first if base.slots[channel] else ids[0])
    elif channel == "ticket":
        line = f'{{"id": {ids[0]}, "requester_id": "{who[1]}", "subject": "broken'
        truth = _bad(channel, ids[0], who[1], f"{day}T10:03:00Z", "invalid_json", "neutral")
        yield DemoRecord(line, truth)
    else:
        yield from _bad_surveys(ids, who, day)


def _bad_reviews(ids: list[str], who: list[str], day: str, duplicate: str) -> Iterator[DemoRecord]:
    at = [f"{day}T{hm}:00Z" for hm in ("09:12", "11:40", "13:05", "18:22")]
    body = "The plug stopped responding after the last update."
    yield DemoRecord(
        [ids[0], who[0], "2", "Stopped working", body, "last tuesday", "Nimbus Plug"],
        _bad("review", ids[0], who[0], "last tuesday", "bad_date", "complaint", "usage", "broken"),
    )
    yield DemoRecord(
        [ids[1], who[1], "3", "", "", at[0], "Nimbus Hub"],
        _bad("review", ids[1], who[1], at[0], "empty_text", "neutral"),
    )
    html = "<p>The app <b>crashes</b> on start</p>"
    yield DemoRecord(
        [ids[2], who[2], "1", "Crashes", html, at[1], "Nimbus App"],
        _bad("review", ids[2], who[2], at[1], "html", "complaint", "usage", "broken"),
    )
    text = "Second review from me: the Cam is still going strong after a month."
    yield DemoRecord(
        [duplicate, who[0], "5", "Update", text, at[2], "Nimbus Cam"],
        _bad("review", duplicate, who[0], at[2], "duplicate_id", "praise"),
    )
    text = "Great little plug, does what it says."
    yield DemoRecord(
        [ids[3], who[3], "4", "Good value", text, at[3], "Nimbus Plug", "unexpected extra field"],
        _bad("review", ids[3], who[3], at[3], "extra_fields", "praise"),
    )


def _bad_surveys(ids: list[str], who: list[str], day: str) -> Iterator[DemoRecord]:
    at = (f"{day}T08:45:00Z", f"{day}T21:17:00Z")
    question = ph.NPS_QUESTION
    yield DemoRecord(
        [ids[0], who[2], "nps", "7", question, "   \n\t  ", at[0], "Nimbus Hub"],
        _bad("survey", ids[0], who[2], at[0], "blank_text", "neutral"),
    )
    yield DemoRecord(
        [ids[1], who[3], "nps", "0", question, _rant(), at[1], "Nimbus Hub"],
        _bad("survey", ids[1], who[3], at[1], "too_long", "complaint", "usage", "broken"),
    )


class _Tally:
    """Counts what is written, for the summary."""

    def __init__(self, spec: DemoSpec) -> None:
        self.counts = {COUNT_KEYS[c]: 0 for c in CHANNELS}
        keys = [*PLANTED_HASSLES, *(NEW_HASSLES if spec.extra_days else ())]
        self.planted: Counter[str] = Counter({k: 0 for k in keys})
        self.channels_of: dict[str, int] = {}

    def add(self, truth: TruthRow) -> None:
        self.counts[COUNT_KEYS[truth.channel]] += 1
        if truth.planted_hassle:
            self.planted[truth.planted_hassle] += 1
        bit = 1 << CHANNELS.index(truth.channel)
        self.channels_of[truth.customer_id] = self.channels_of.get(truth.customer_id, 0) | bit

    def summary(self, out: Path, files: list[Path]) -> DemoSummary:
        cross = sum(1 for bits in self.channels_of.values() if bits & (bits - 1))
        return DemoSummary(
            out_dir=out,
            files=files,
            counts=dict(self.counts),
            customers=len(self.channels_of),
            cross_channel_customers=cross,
            planted=dict(self.planted),
        )


@contextmanager
def _atomic_text(path: Path) -> Iterator[TextIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_channel(
    path: Path, channel: str, records: Iterator[DemoRecord], truth: Any, tally: _Tally
) -> None:
    with _atomic_text(path) as handle:
        if channel == "ticket":
            for item in records:
                line = (
                    item.record
                    if isinstance(item.record, str)
                    else json.dumps(item.record, ensure_ascii=False)
                )
                handle.write(line + "\n")
                truth.writerow(item.truth)
                tally.add(item.truth)
            return
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(REVIEW_HEADER if channel == "review" else SURVEY_HEADER)
        for item in records:
            writer.writerow(item.record)
            truth.writerow(item.truth)
            tally.add(item.truth)
