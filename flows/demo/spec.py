"""What the demo generates: the spec, the kinds of comment, and a record with its ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from config.channels import CHANNEL_NAMES
from flows.demo import phrases as ph
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES, Hassle

COUNT_KEYS: dict[str, str] = {"review": "reviews", "ticket": "tickets", "survey": "surveys"}
# The channels the demo writes: those of config/channels.py it has files for, in that order.
CHANNELS: tuple[str, ...] = tuple(c for c in CHANNEL_NAMES if c in COUNT_KEYS)
HASSLES: dict[str, Hassle] = {**PLANTED_HASSLES, **NEW_HASSLES}
KINDS: tuple[str, ...] = (*PLANTED_HASSLES, *NEW_HASSLES, "praise", "neutral", "oneoff")
# The languages other than English, in the order of their weights in phrases.py.
FOREIGN_CODES: tuple[str, ...] = tuple(ph.FOREIGN_WEIGHTS)


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
