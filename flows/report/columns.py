"""The columns of the ranking tables, each declared once in :data:`COLUMNS`.

The report's summary table (HTML and Markdown), the CSV, the Prefect table artifact, the
Prefect Markdown summary and the CLI table all loop over :data:`COLUMNS`, each showing the
columns whose ``targets`` name it. Adding a column is one entry::

    COLUMNS.register(
        Column("comments_per_customer", "Comments per customer",
               value=lambda h, names: round(h.comments / max(1, h.customers), 2),
               numeric=True)
    )

A few built-in columns have their own markup in the HTML and Markdown templates (the label
with its link and notes, the chips, the score bar, the trend arrow, the sparkline); every
other column is drawn from its ``text``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config import ConfigError, Settings
from config.taxonomy import load_taxonomy, resolve_taxonomy_path
from flows.report.charts import sparkline_text
from flows.report.model import RankedHassle
from nlp.registry import Registry

HTML = "html"  # the report page's summary table
MARKDOWN = "md"  # the Markdown report's summary table
CSV = "csv"  # the CSV report
ARTIFACT = "artifact"  # the Prefect table artifact
SUMMARY = "summary"  # the Prefect Markdown summary
CLI = "cli"  # the table ``hasslemap run`` prints
TABLES = frozenset({HTML, MARKDOWN, CSV, ARTIFACT, SUMMARY, CLI})
CSV_OWN_PREFIXES = ("part_", "contribution_", "channel_", "quote_")
"""How the CSV's columns after :data:`COLUMNS` start (``render.render_csv`` writes them)."""


@dataclass(frozen=True)
class Names:
    """Display names of stage and theme keys; empty: the keys themselves are shown."""

    stages: dict[str, str] = field(default_factory=dict)
    themes: dict[str, str] = field(default_factory=dict)

    def stage(self, key: str | None) -> str | None:
        """The stage's display name (its key when unknown; None stays None)."""
        return self.stages.get(key, key) if key else key

    def theme(self, key: str | None) -> str | None:
        """The theme's display name (its key when unknown; None stays None)."""
        return self.themes.get(key, key) if key else key

    @classmethod
    def of(cls, settings: Settings) -> Names:
        """The names the report shows for the configured taxonomy's keys.

        The keys themselves when the taxonomy file cannot be read: an alert or a table is
        no reason to fail over a name.
        """
        try:
            taxonomy = load_taxonomy(resolve_taxonomy_path(settings))
        except ConfigError:
            return cls()
        return cls(
            {s.key: s.name for s in taxonomy.stages}, {t.key: t.name for t in taxonomy.themes}
        )


@dataclass(frozen=True)
class Column:
    """One column of the ranking tables.

    Attributes:
        name: Its CSV header and artifact key (unless ``artifact_name``); a column the CSV
            shows may not start as the CSV's own columns do (:data:`CSV_OWN_PREFIXES`).
        header: Its header in the report, e.g. ``"Since last run"``.
        value: The plain value for a ranked hassle (a CSV cell, an artifact value).
        text: The hassle's cell as shown in the report, the Prefect summary and the CLI
            (default: ``value`` as text, empty for None).
        numeric: Right-aligned.
        optional: Hidden first on narrow screens (HTML).
        targets: The tables that show it (default: every table).
        two_level_only: Shown only when the report has parent hassles.
        short: Its header in the Prefect summary and the CLI (default: ``header`` lower-cased).
        artifact_name: Its key in the Prefect table artifact, when not ``name``.
    """

    name: str
    header: str
    value: Callable[[RankedHassle, Names], object]
    text: Callable[[RankedHassle, Names], str] | None = None
    numeric: bool = False
    optional: bool = False
    targets: frozenset[str] = TABLES
    two_level_only: bool = False
    short: str = ""
    artifact_name: str = ""

    def __post_init__(self) -> None:
        unknown = self.targets - TABLES
        if unknown:
            raise ValueError(f"column {self.name!r}: unknown targets {sorted(unknown)}")
        if CSV in self.targets and self.name.startswith(CSV_OWN_PREFIXES):
            own = ", ".join(f"{prefix}*" for prefix in CSV_OWN_PREFIXES)
            raise ValueError(
                f"column {self.name!r}: the CSV names its own columns {own}; "
                "give the column another name"
            )
        if not self.short:
            object.__setattr__(self, "short", self.header.lower())
        if not self.artifact_name:
            object.__setattr__(self, "artifact_name", self.name)

    def shows_in(self, target: str, *, two_level: bool) -> bool:
        """Whether the table ``target`` shows this column (for a report with two levels or not)."""
        return target in self.targets and (two_level or not self.two_level_only)

    def cell(self, hassle: RankedHassle, names: Names = Names()) -> str:  # noqa: B008 - frozen
        """The hassle's cell as text."""
        if self.text is not None:
            return self.text(hassle, names)
        value = self.value(hassle, names)
        return "" if value is None else str(value)


COLUMNS: Registry[Column] = Registry("report column")
"""Every column of the ranking tables, in table order."""


def columns_for(target: str, *, two_level: bool = False) -> list[Column]:
    """The columns the table ``target`` shows, in order."""
    return [c for c in COLUMNS if c.shows_in(target, two_level=two_level)]


def tag_share(share: float | None) -> str | None:
    """A stage's or theme's share of the hassle's sentences as shown, e.g. ``"19%"``."""
    return None if share is None else f"{share:.0%}"


def places_moved(h: RankedHassle) -> int:
    """How many places it moved in rank since the previous ranking; 0 when not known.

    Not known: a stored ranking row, or a rerun over the same data, which keeps the previous
    ranking's changes (at the same rank as now).
    """
    return 0 if h.previous_rank is None else abs(h.previous_rank - h.rank)


def rank_move(h: RankedHassle) -> str:
    """Its move in rank since the previous ranking: ``"▲ 2"``, ``"▼ 1"``, ``"="`` or ``"new"``.

    The arrow alone when the places are not known; empty in a filtered report.
    """
    if h.change not in ("rising", "falling"):
        return {"steady": "="}.get(h.change, h.change)
    arrow = "▲" if h.change == "rising" else "▼"
    places = places_moved(h)
    return f"{arrow} {places}" if places else arrow


def _score_value(h: RankedHassle, names: Names) -> float:
    return round(100 * h.score, 1)


def _why(h: RankedHassle, names: Names) -> str:
    return json.dumps({p.key: round(p.contribution, 3) for p in h.parts})


_TWO_LEVEL_DATA: dict[str, Any] = {"targets": frozenset({CSV, ARTIFACT}), "two_level_only": True}
"""Where a hassle's level and parent show: the data outputs, when there are two levels."""


def _count_column(name: str, header: str, **options: Any) -> Column:
    """A column of one of the hassle's counts (``RankedHassle.<name>``), shown as 1,234."""
    return Column(
        name,
        header,
        lambda h, n: getattr(h, name),
        text=lambda h, n: f"{getattr(h, name):,}",
        numeric=True,
        **options,
    )


def _share_column(name: str, header: str) -> Column:
    """A data column of a share of the hassle's sentences (``RankedHassle.<name>``), 0..1."""

    def value(h: RankedHassle, n: Names) -> float | None:
        share = getattr(h, name)
        return None if share is None else round(share, 3)

    return Column(name, header, value, numeric=True, targets=frozenset({CSV, ARTIFACT}))


for _column in (
    Column("rank", "#", lambda h, n: h.rank, numeric=True),
    Column("hassle_id", "Id", lambda h, n: h.hassle_id, targets=frozenset({CSV, ARTIFACT, CLI})),
    Column("level", "Level", lambda h, n: h.level, **_TWO_LEVEL_DATA),
    Column("parent_id", "Parent", lambda h, n: h.parent_id, **_TWO_LEVEL_DATA),
    Column("label", "Hassle", lambda h, n: h.label),
    Column("stage", "Stage", lambda h, n: n.stage(h.stage), optional=True),
    # A stage or theme is the commonest among the hassle's sentences: its share says how
    # mixed they are ("need awareness" on 17% of them is thin evidence).
    _share_column("stage_share", "Stage share"),
    Column("theme", "Theme", lambda h, n: n.theme(h.theme), optional=True),
    _share_column("theme_share", "Theme share"),
    Column("score", "Score", _score_value, text=lambda h, n: f"{100 * h.score:.0f}", numeric=True),
    _count_column("customers", "Customers"),
    _count_column("comments", "Comments", targets=frozenset({CSV, ARTIFACT})),
    Column(
        "severity_mean",
        "Mean severity",
        lambda h, n: round(h.severity_mean, 3),
        numeric=True,
        targets=frozenset({CSV}),
    ),
    Column("trend_label", "Trend", lambda h, n: h.trend_label, artifact_name="trend"),
    # The stored word (rising, falling, ...) in the data; a move in rank where people read it.
    Column(
        "change",
        "Since last run",
        lambda h, n: h.change,
        text=lambda h, n: rank_move(h),
        short="change",
    ),
    Column(
        "daily",
        "Daily",
        lambda h, n: sparkline_text([c for _, c in h.daily_counts]),
        optional=True,
        targets=frozenset({HTML, MARKDOWN}),
    ),
    Column("why", "Why", _why, targets=frozenset({ARTIFACT})),
):
    COLUMNS.register(_column)
