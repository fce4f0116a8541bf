"""Seeded, deterministic demo feedback for Nimbus: reviews, support tickets and survey comments.

:func:`generate_demo` plans every comment up front as a small tuple (time, customer, kind,
language) and renders the text lazily, one channel at a time, so a million comments never sit in
memory as text. :func:`write_demo_data` streams them to the channel files and ``truth.csv``.

Each part (the base window, the extra days) and each channel draws from its own random stream,
seeded from the spec's seed, so writing extra days never changes a byte of the base files.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any, TextIO

from flows.demo.bad_records import render_bad_records
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES
from flows.demo.plan import PartPlan, plan_base, plan_extra
from flows.demo.render import render_part
from flows.demo.spec import CHANNELS, COUNT_KEYS, DEFAULT_SPEC, DemoRecord, DemoSpec, TruthRow

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


@dataclass(frozen=True)
class DemoData:
    """A planned demo data set; records are rendered on demand, deterministically.

    Attributes:
        spec: The spec it was generated from.
        base: The plan of the base window.
        extra: The plan of the extra days, or None without extra days.
    """

    spec: DemoSpec
    base: PartPlan
    extra: PartPlan | None

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
        yield from render_part(rng, part, channel)
        if not extra and self.spec.bad_records:
            yield from render_bad_records(self.spec, self.base, channel)

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
    base = plan_base(spec, Random(_seed_key(spec.seed, "base", "plan")))
    extra = None
    if spec.extra_days:
        extra = plan_extra(spec, base, Random(_seed_key(spec.seed, "extra", "plan")))
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
