"""Readers and loaders for the rank and publish stages.

Write behaviours:

* ``hassle_rankings``: appended per run, keyed by (run_id, hassle_id), because "what changed
  since the last run" and trend questions need every night's ranking. Writing a run again
  replaces that run's rows (a retry never doubles them). Both levels share the table: a row's
  ``level`` says which, and ``rank`` is its position within that level.
* ``comments_redacted``: merged on ``comment_id`` and only for comments new or changed since
  (their ``content_hash``), because redacting is the only way text reaches views and reports
  and doing it again for unchanged comments would be wasted work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.core import read_sql, rows_to_table, run_sql
from warehouse.core import transaction as _in_transaction


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
    extra: dict[str, Any] = field(default_factory=dict)


def latest_cluster_run(conn: duckdb.DuckDBPyConnection) -> ClusterRun | None:
    """The latest clustering, or None before the first."""
    rows = run_sql(
        conn,
        "SELECT run_id, window_start, window_end, units_in, units_clustered, units_core, hassles "
        "FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1",
    )
    return ClusterRun(*rows[0]) if rows else None


def _comment_filter(f: ReportFilter, alias: str = "c") -> tuple[str, list[Any]]:
    """SQL conditions (with bound parameters) selecting the filtered comments."""
    clauses, params = [], []
    if f.since:
        clauses.append(f"{alias}.created_at >= ?")
        params.append(datetime.combine(f.since, datetime.min.time()))
    if f.until:
        clauses.append(f"{alias}.created_at < ?")
        params.append(datetime.combine(f.until + timedelta(days=1), datetime.min.time()))
    if f.channels:
        clauses.append(f"{alias}.channel IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.channels))
    if f.products:
        clauses.append(f"{alias}.product IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.products))
    return (" AND ".join(clauses) or "TRUE"), params


def read_mentions(
    conn: duckdb.DuckDBPyConnection, cluster_run_id: str, f: ReportFilter
) -> list[tuple[Any, ...]]:
    """One row per (hassle, comment) of the clustering, filtered.

    Columns: hassle_id, comment_id, customer_id, channel, created_at, severity (the highest of
    the comment's units in the hassle), score, score_kind, customer_value.
    """
    where, params = _comment_filter(f)
    stage_clause = ""
    if f.stages:
        stage_clause = "AND h.stage IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(f.stages))
    return run_sql(
        conn,
        f"""
        SELECT m.hassle_id, c.comment_id, c.customer_id, c.channel, c.created_at,
               max(u.severity), c.score, c.score_kind, c.customer_value
        FROM hassle_members AS m
        JOIN units AS u USING (unit_id)
        JOIN comments AS c ON c.comment_id = u.comment_id
        JOIN hassles AS h ON h.hassle_id = m.hassle_id
        WHERE m.run_id = ? AND {where} {stage_clause}
        GROUP BY ALL
        ORDER BY m.hassle_id, c.comment_id
        """,  # noqa: S608 - only fixed clauses are formatted in; every value is bound
        [cluster_run_id, *params],
    )


def read_scored_comments(
    conn: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime], f: ReportFilter
) -> list[tuple[str, int, str]]:
    """(comment_id, score, score_kind) of every scored comment in the window, filtered."""
    where, params = _comment_filter(f)
    return run_sql(
        conn,
        f"""
        SELECT c.comment_id, c.score, c.score_kind FROM comments AS c
        WHERE c.score IS NOT NULL AND c.score_kind IS NOT NULL
          AND c.created_at > ? AND c.created_at <= ? AND {where}
        ORDER BY c.comment_id
        """,  # noqa: S608 - only fixed clauses are formatted in; every value is bound
        [window[0], window[1], *params],
    )


def read_hassle_info(conn: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """hassle_id, label, stage, stage_share, theme, theme_share, status, keyphrases, quotes."""
    return run_sql(
        conn,
        "SELECT hassle_id, label, stage, stage_share, theme, theme_share, status, keyphrases, "
        "quote_unit_ids FROM hassles ORDER BY hassle_id",
    )


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


def read_quotes(
    conn: duckdb.DuckDBPyConnection, unit_ids: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """unit_id -> (comment_id, channel, created_at, comment text, start_char, end_char)."""
    if not unit_ids:
        return {}
    rows = run_sql(
        conn,
        "SELECT u.unit_id, c.comment_id, c.channel, c.created_at, c.text, u.start_char, u.end_char "
        "FROM units AS u JOIN comments AS c USING (comment_id) "
        "WHERE u.unit_id IN (SELECT unnest(?::VARCHAR[]))",
        [list(unit_ids)],
    )
    return {row[0]: row[1:] for row in rows}


def read_stage_theme_counts(
    conn: duckdb.DuckDBPyConnection, window: tuple[datetime, datetime], f: ReportFilter
) -> dict[tuple[str, str], int]:
    """(stage, theme) -> pain-point comments in the window, filtered."""
    where, params = _comment_filter(f)
    rows = run_sql(
        conn,
        f"""
        SELECT t.stage, t.theme, count(DISTINCT u.comment_id)
        FROM tags AS t
        JOIN units AS u ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
        JOIN comments AS c ON c.comment_id = u.comment_id
        WHERE t.is_pain_point AND c.created_at > ? AND c.created_at <= ? AND {where}
        GROUP BY ALL
        """,  # noqa: S608 - only fixed clauses are formatted in; every value is bound
        [window[0], window[1], *params],
    )
    return {(stage or "unassigned", theme or "unassigned"): n for stage, theme, n in rows}


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


def read_previous_ranking(
    conn: duckdb.DuckDBPyConnection, before_run_id: str
) -> dict[str, tuple[int, float]]:
    """hassle_id -> (rank, total score) in the previous ranking, the one ``change`` compares to.

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
        SELECT hassle_id, rank, total_score FROM hassle_rankings SEMI JOIN previous USING (run_id)
        """,
        [before_run_id],
    )
    return {hassle_id: (rank, score) for hassle_id, rank, score in rows}


def read_run_figures(conn: duckdb.DuckDBPyConnection, run: ClusterRun) -> dict[str, Any]:
    """Counts for the report's coverage and quality figures."""
    [(comments, customers)] = run_sql(
        conn,
        "SELECT count(*), count(DISTINCT customer_id) FROM comments "
        "WHERE created_at > ? AND created_at <= ?",
        [run.window_start, run.window_end],
    )
    [(quarantined, repaired)] = run_sql(
        conn,
        "SELECT count(*) FILTER (action = 'quarantined'), count(*) FILTER (action = 'repaired') "
        "FROM rejected",
    )
    [(units, pain, unassigned, unsupported)] = run_sql(
        conn,
        """
        SELECT count(*), count(*) FILTER (t.is_pain_point),
               count(*) FILTER (t.is_pain_point AND t.stage = 'unassigned'),
               count(*) FILTER (t.method = 'unsupported_language')
        FROM tags AS t JOIN units AS u ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
        JOIN comments AS c ON c.comment_id = u.comment_id
        WHERE c.created_at > ? AND c.created_at <= ?
        """,
        [run.window_start, run.window_end],
    )
    return {
        "comments": comments,
        "customers": customers,
        "quarantined": quarantined,
        "repaired": repaired,
        "units": units,
        "pain_points": pain,
        "pain_points_unassigned_stage": unassigned,
        "units_unsupported_language": unsupported,
    }


RANKING_COLUMNS = (
    "run_id",
    "rank",
    "hassle_id",
    "level",
    "parent_id",
    "specificity",
    "label",
    "stage",
    "theme",
    "generic",
    "total_score",
    "reach_score",
    "severity_score",
    "trend_score",
    "spread_score",
    "repeat_score",
    "value_score",
    "impact_score",
    "weights",
    "customers",
    "comments",
    "severity_mean",
    "severity_p90",
    "trend",
    "trend_7d",
    "trend_7d_ratio",
    "trend_7d_p",
    "trend_30d",
    "trend_30d_ratio",
    "trend_30d_p",
    "channels",
    "channel_count",
    "repeat_customers",
    "value_at_risk",
    "nps_impact",
    "csat_impact",
    "change",
    "example_unit_ids",
    "ranked_at",
)


def write_rankings(
    conn: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Replace ``run_id``'s ranking with ``rows`` (dicts keyed by column), in one transaction."""
    records = [
        tuple(
            json.dumps(row[c]) if c in ("weights", "channels") else row[c] for c in RANKING_COLUMNS
        )
        for row in rows
    ]
    columns = ", ".join(RANKING_COLUMNS)
    marks = ", ".join("?" for _ in RANKING_COLUMNS)
    statements: list[tuple[str, list[Any] | None]] = [
        ("DELETE FROM hassle_rankings WHERE run_id = ?", [run_id])
    ]
    statements += [
        (f"INSERT INTO hassle_rankings ({columns}) VALUES ({marks})", list(record))  # noqa: S608
        for record in records
    ]
    _in_transaction(conn, statements)


def refresh_redacted_text(
    conn: duckdb.DuckDBPyConnection, redact: Callable[[str], str], *, batch: int = 20_000
) -> int:
    """Redact the text of comments new or changed since last time; return how many."""
    rows = run_sql(
        conn,
        """
        SELECT c.comment_id, c.content_hash, c.text FROM comments AS c
        LEFT JOIN comments_redacted AS r USING (comment_id)
        WHERE r.comment_id IS NULL OR r.content_hash <> c.content_hash
        ORDER BY c.comment_id
        """,
    )
    schema = pa.schema(
        [("comment_id", pa.string()), ("content_hash", pa.string()), ("text", pa.string())]
    )
    for first in range(0, len(rows), batch):
        chunk = [(cid, h, redact(text)) for cid, h, text in rows[first : first + batch]]
        conn.register("batch_redacted", rows_to_table(chunk, schema))
        try:
            _in_transaction(
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
