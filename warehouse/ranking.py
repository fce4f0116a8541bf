"""Readers and loaders for the rank and publish stages.

Write behaviours:

* ``hassle_rankings``: appended per run, keyed by (run_id, hassle_id), because "what changed
  since the last run" and trend questions need every night's ranking. Writing a run again
  replaces that run's rows (a retry never doubles them). Both levels share the table: a row's
  ``level`` says which, and ``rank`` is its position within that level.
* ``hassle_ranking_parts``: the score parts long-form, one row per (run_id, hassle_id,
  factor), written and replaced with the run's ``hassle_rankings`` rows, so a new ranking
  factor needs no migration. ``v_hassle_ranking_parts`` pivots them for analysts.
* ``comments_redacted``: merged on ``comment_id`` and only for comments new or changed since
  (their ``content_hash``) or redacted by another redactor version, because redacting is the only way text reaches views and reports
  and doing it again for unchanged comments would be wasted work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from nlp.evidence import Mention, ScoredComment
from warehouse.core import read_sql, rows_to_table, run_sql, transaction


@dataclass(frozen=True)
class ReportFilter:
    """Which comments a ranking or report covers; empty fields mean no filter."""

    since: date | None = None
    until: date | None = None
    channels: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    products: tuple[str, ...] = ()

    def describe(self) -> dict[str, str]:
        """The filters in force, for the report header."""
        out = {}
        if self.since or self.until:
            out["dates"] = f"{self.since or '…'} to {self.until or '…'}"
        for name, values in (
            ("channel", self.channels),
            ("stage", self.stages),
            ("product", self.products),
        ):
            if values:
                out[name] = ", ".join(values)
        return out


@dataclass(frozen=True)
class ClusterRun:
    """The clustering a ranking is built on."""

    run_id: str
    window_start: datetime
    window_end: datetime
    units_in: int
    units_clustered: int
    units_core: int
    hassles: int
    min_cluster_size: int | None = None  # the smallest hassle it allowed
    extra: dict[str, Any] = field(default_factory=dict)


def latest_cluster_run(conn: duckdb.DuckDBPyConnection) -> ClusterRun | None:
    """The latest clustering, or None before the first."""
    rows = run_sql(
        conn,
        "SELECT run_id, window_start, window_end, units_in, units_clustered, units_core, hassles, "
        "min_cluster_size FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1",
    )
    return ClusterRun(*rows[0]) if rows else None


def _filter_params(f: ReportFilter) -> list[Any]:
    """The bound values ``$1`` .. ``$4`` of the report filter in warehouse/sql/read_*.sql."""
    since = datetime.combine(f.since, datetime.min.time()) if f.since else None
    until = datetime.combine(f.until + timedelta(days=1), datetime.min.time()) if f.until else None
    return [since, until, list(f.channels) or None, list(f.products) or None]


def read_mentions(
    conn: duckdb.DuckDBPyConnection, cluster_run_id: str, f: ReportFilter
) -> list[Mention]:
    """One mention per (hassle, comment) of the clustering, filtered (read_mentions.sql).

    A mention's severity is the highest of the comment's units in the hassle.
    """
    params = [*_filter_params(f), list(f.stages) or None, cluster_run_id]
    return [Mention(*row) for row in run_sql(conn, read_sql("read_mentions"), params)]


def read_scored_comments(
    conn: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime], f: ReportFilter
) -> list[ScoredComment]:
    """Every scored comment in the window, filtered (read_scored_comments.sql)."""
    params = [*_filter_params(f), window[0], window[1]]
    return [ScoredComment(*row) for row in run_sql(conn, read_sql("read_scored_comments"), params)]


def read_comment_times(
    conn: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime], f: ReportFilter
) -> dict[str, np.ndarray]:
    """When every comment in the window was written, per source, filtered.

    Returns:
        Source -> the ``created_at`` of each of its comments, oldest first, as
        ``datetime64[us]`` (read_comment_times.sql): the strata of the mentions' trends.
    """
    params = [*_filter_params(f), window[0], window[1]]
    result = conn.execute(read_sql("read_comment_times"), params).fetchnumpy()
    sources = np.asarray(result["source"], dtype=object)
    times = np.asarray(result["created_at"], dtype="datetime64[us]")
    # Rows come ordered by source: each source is one run of them.
    bounds = [0, *(np.flatnonzero(sources[1:] != sources[:-1]) + 1), len(sources)]
    return {
        str(sources[a]): times[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a
    }


@dataclass(frozen=True)
class HassleRow:
    """A hassle as the report shows it (its current row in ``hassles``)."""

    hassle_id: str
    label: str
    stage: str | None
    stage_share: float | None
    theme: str | None
    theme_share: float | None
    status: str  # new, active or retired
    keyphrases: list[str] | None
    quote_unit_ids: list[str] | None


def read_hassle_info(conn: duckdb.DuckDBPyConnection) -> dict[str, HassleRow]:
    """Every hassle by id, in id order."""
    columns = ", ".join(f.name for f in fields(HassleRow))
    rows = run_sql(conn, f"SELECT {columns} FROM hassles ORDER BY hassle_id")  # noqa: S608 - fixed
    return {row[0]: HassleRow(*row) for row in rows}


@dataclass(frozen=True)
class HassleLevel:
    """Where a hassle sits in one clustering: its level, parent and specificity."""

    hassle_id: str
    level: str  # 'child' (a specific hassle) or 'parent' (a group of children)
    parent_id: str | None  # a child's parent; None on parents and in a one-level clustering
    specificity: float | None  # 0..1 from the labeller; None when not measured


def read_hassle_levels(
    conn: duckdb.DuckDBPyConnection, cluster_run_id: str
) -> dict[str, HassleLevel]:
    """hassle_id -> its level, parent and specificity in the clustering ``cluster_run_id``."""
    rows = run_sql(conn, read_sql("read_hassle_levels"), [cluster_run_id])
    return {row[0]: HassleLevel(*row) for row in rows}


@dataclass(frozen=True)
class QuoteRow:
    """A pain-point sentence and the comment it was cut from (full text: redact before use)."""

    unit_id: str
    comment_id: str
    channel: str
    created_at: datetime
    text: str  # the whole comment
    start_char: int  # the sentence's span in ``text``
    end_char: int


def read_quotes(conn: duckdb.DuckDBPyConnection, unit_ids: Sequence[str]) -> dict[str, QuoteRow]:
    """unit_id -> its sentence and comment, for the units given."""
    if not unit_ids:
        return {}
    rows = run_sql(
        conn,
        "SELECT u.unit_id, c.comment_id, c.channel, c.created_at, c.text, u.start_char, u.end_char "
        "FROM units AS u JOIN comments AS c USING (comment_id) "
        "WHERE u.unit_id IN (SELECT unnest(?::VARCHAR[]))",
        [list(unit_ids)],
    )
    return {row[0]: QuoteRow(*row) for row in rows}


def read_filtered_quote_units(
    conn: duckdb.DuckDBPyConnection,
    cluster_run_id: str,
    hassle_ids: Sequence[str],
    f: ReportFilter,
    per_hassle: int,
) -> dict[str, list[str]]:
    """hassle_id -> up to ``per_hassle`` quote units from comments the filter keeps.

    The stored quotes that match come first, then the members the pain filter is surest of,
    one per comment (read_filtered_quotes.sql); a parent's are its children's members.
    """
    out: dict[str, list[str]] = {}
    if not hassle_ids:
        return out
    params = [*_filter_params(f), cluster_run_id, list(hassle_ids), per_hassle]
    for hassle_id, unit_id in run_sql(conn, read_sql("read_filtered_quotes"), params):
        out.setdefault(hassle_id, []).append(unit_id)
    return out


@dataclass(frozen=True)
class StageThemeCounts:
    """Distinct pain-point comments per (stage, theme) cell, per stage, per theme and in all."""

    cells: dict[tuple[str, str], int]
    by_stage: dict[str, int]
    by_theme: dict[str, int]
    total: int


def read_stage_theme_counts(
    conn: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime], f: ReportFilter
) -> StageThemeCounts:
    """The window's pain-point comments, filtered; a comment counts once in each total."""
    params = [*_filter_params(f), window[0], window[1]]
    counts: list[dict[tuple[str, str], int]] = [{}, {}, {}, {}]  # by the SQL's `grouped`
    for stage, theme, grouped, n in run_sql(conn, read_sql("read_stage_theme_counts"), params):
        counts[grouped][stage or "unassigned", theme or "unassigned"] = n
    cells, stages, themes, overall = counts
    by_stage = {stage: n for (stage, _), n in stages.items()}
    by_theme = {theme: n for (_, theme), n in themes.items()}
    return StageThemeCounts(cells, by_stage, by_theme, total=sum(overall.values()))


def latest_completed_run(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The id of the run that started last among those that completed, or None before any.

    Run ids are Prefect's UUIDs: only ``started_at`` orders them.
    """
    rows = run_sql(
        conn,
        "SELECT run_id FROM runs WHERE status = 'completed' "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1",
    )
    return rows[0][0] if rows else None


@dataclass(frozen=True)
class PreviousRank:
    """A hassle's place in the previous ranking."""

    rank: int
    score: float
    change: str  # what that ranking said of it: new, rising, falling or steady
    generic: bool | None = None  # its generic flag there; None when its specificity was unmeasured


def read_previous_ranking(
    conn: duckdb.DuckDBPyConnection, before_run_id: str
) -> dict[str, PreviousRank]:
    """hassle_id -> its place in the previous ranking (both levels), the one ``change`` compares to.

    That is the ranking of the run that started last among the runs other than
    ``before_run_id`` that completed and ranked: a killed or failed run's ranking never counts.
    """
    rows = run_sql(
        conn,
        """
        WITH previous AS (
            SELECT run_id FROM runs AS r
            WHERE r.status = 'completed' AND r.run_id <> ?
              AND EXISTS (SELECT 1 FROM hassle_rankings AS h WHERE h.run_id = r.run_id)
            ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1
        )
        SELECT hassle_id, rank, total_score, change,
               CASE WHEN specificity IS NOT NULL THEN generic END
        FROM hassle_rankings SEMI JOIN previous USING (run_id)
        """,
        [before_run_id],
    )
    return {hassle_id: PreviousRank(*rest) for hassle_id, *rest in rows}


@dataclass(frozen=True)
class RunFigures:
    """Counts for the report's coverage and quality figures, over a clustering's window."""

    comments: int
    customers: int
    quarantined: int  # records set aside by ingest (all time)
    repaired: int
    units: int  # sentences
    pain_points: int
    pain_points_unassigned_stage: int
    units_unsupported_language: int


def read_run_figures(
    conn: duckdb.DuckDBPyConnection, run: ClusterRun, f: ReportFilter | None = None
) -> RunFigures:
    """Counts for the report's coverage and quality figures, over the filtered comments.

    The stage filter is left out: it picks hassles, and these count comments and sentences.
    """
    params = [*_filter_params(f or ReportFilter()), run.window_start, run.window_end]
    [(comments, customers, units, pain, unassigned, unsupported)] = run_sql(
        conn, read_sql("read_run_figures"), params
    )
    [(quarantined, repaired)] = run_sql(
        conn,
        # Records, not rows: a file read again (edited, grown) records its problems again.
        "SELECT count(DISTINCT (source, file, line)) FILTER (action = 'quarantined'), "
        "count(DISTINCT (source, file, line)) FILTER (action = 'repaired') FROM rejected",
    )
    return RunFigures(
        comments=comments,
        customers=customers,
        quarantined=quarantined,
        repaired=repaired,
        units=units,
        pain_points=pain,
        pain_points_unassigned_stage=unassigned,
        units_unsupported_language=unsupported,
    )


@dataclass(frozen=True)
class FilterFacts:
    """What a window's comments hold, to say why a report filter matches none of them."""

    first: datetime | None  # the window's first comment; None when it holds none
    last: datetime | None
    channels: list[str]
    products: list[str]
    matching: int  # comments the filter matches (its stage filter aside)


def read_filter_facts(
    conn: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime], f: ReportFilter
) -> FilterFacts:
    """The window's dates, channels and products, and its comments ``f`` matches."""
    params = [*_filter_params(f), window[0], window[1]]
    [(first, last, channels, products, matching)] = run_sql(
        conn, read_sql("read_filter_facts"), params
    )
    return FilterFacts(first, last, channels or [], products or [], matching)


def read_products(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Every product a comment in the warehouse names, sorted."""
    rows = run_sql(
        conn, "SELECT DISTINCT product FROM comments WHERE product IS NOT NULL ORDER BY 1"
    )
    return [product for (product,) in rows]


@dataclass(frozen=True)
class RankingRow:
    """One hassle's row of a run's ranking (``hassle_rankings``) and its score parts."""

    run_id: str
    rank: int  # within its level
    hassle_id: str
    level: str  # child or parent
    parent_id: str | None
    specificity: float | None
    label: str
    stage: str | None
    theme: str | None
    generic: bool
    total_score: float
    weights: dict[str, float]  # the weights used, by factor (sum 1)
    customers: int
    comments: int
    severity_mean: float
    severity_p90: float
    trend: str
    trend_7d: str
    trend_7d_ratio: float | None
    trend_7d_p: float | None
    trend_30d: str
    trend_30d_ratio: float | None
    trend_30d_p: float | None
    channels: dict[str, int]
    channel_count: int
    repeat_customers: int
    value_at_risk: float | None
    nps_impact: float | None
    csat_impact: float | None
    change: str
    example_unit_ids: list[str]
    ranked_at: datetime
    # Factor -> part 0..1, stored long-form in hassle_ranking_parts (not a column).
    parts: dict[str, float] = field(default_factory=dict)


RANKING_COLUMNS = tuple(f.name for f in fields(RankingRow) if f.name != "parts")
_JSON_COLUMNS = ("weights", "channels")


def write_rankings(
    conn: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[RankingRow]
) -> None:
    """Replace ``run_id``'s ranking and its score parts with ``rows``, in one transaction."""
    columns = ", ".join(RANKING_COLUMNS)
    marks = ", ".join("?" for _ in RANKING_COLUMNS)
    insert = f"INSERT INTO hassle_rankings ({columns}) VALUES ({marks})"  # noqa: S608 - fixed
    statements: list[tuple[str, list[Any] | None]] = [
        ("DELETE FROM hassle_ranking_parts WHERE run_id = ?", [run_id]),
        ("DELETE FROM hassle_rankings WHERE run_id = ?", [run_id]),
    ]
    for row in rows:
        record = [
            json.dumps(getattr(row, c)) if c in _JSON_COLUMNS else getattr(row, c)
            for c in RANKING_COLUMNS
        ]
        statements.append((insert, record))
    parts = [
        [row.run_id, row.hassle_id, factor, value]
        for row in rows
        for factor, value in row.parts.items()
    ]
    if parts:
        statements.append(
            (
                "INSERT INTO hassle_ranking_parts (run_id, hassle_id, factor, value) "
                "SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                "unnest(?::DOUBLE[])",
                [list(column) for column in zip(*parts, strict=True)],
            )
        )
    transaction(conn, statements)


def read_latest_ranking(conn: duckdb.DuckDBPyConnection) -> list[RankingRow]:
    """Every row of the latest stored ranking, both levels, by level and rank; [] before any."""
    cursor = conn.execute(read_sql("read_latest_ranking"))
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        for column in _JSON_COLUMNS:
            row[column] = json.loads(row[column]) if row[column] else {}
        rows.append(RankingRow(**{f.name: row[f.name] for f in fields(RankingRow)}))
    return rows


def refresh_redacted_text(
    conn: duckdb.DuckDBPyConnection,
    redact: Callable[[str], str],
    *,
    redactor: str,
    batch: int = 20_000,
) -> int:
    """Redact the text of comments new or changed since last time; return how many.

    A comment last redacted by another redactor (``redactor``, its version) counts as changed.
    """
    rows = run_sql(
        conn,
        """
        SELECT c.comment_id, c.content_hash, c.text FROM comments AS c
        LEFT JOIN comments_redacted AS r USING (comment_id)
        WHERE r.comment_id IS NULL OR r.content_hash <> c.content_hash
            OR r.redactor IS DISTINCT FROM ?
        ORDER BY c.comment_id
        """,
        [redactor],
    )
    schema = pa.schema(
        [
            ("comment_id", pa.string()),
            ("content_hash", pa.string()),
            ("text", pa.string()),
            ("redactor", pa.string()),
        ]
    )
    for first in range(0, len(rows), batch):
        chunk = [(cid, h, redact(text), redactor) for cid, h, text in rows[first : first + batch]]
        conn.register("batch_redacted", rows_to_table(chunk, schema))
        try:
            transaction(
                conn,
                [
                    (
                        "INSERT OR REPLACE INTO comments_redacted BY NAME "
                        "SELECT * FROM batch_redacted",
                        None,
                    )
                ],
            )
        finally:
            conn.unregister("batch_redacted")
    return len(rows)
