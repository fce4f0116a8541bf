"""Loaders: SQL that moves data between warehouse tables, and the run ledger.

Each loader states its write behaviour (append, merge or replace) and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.core import named_statements, now, read_sql, run_script, run_sql, transaction


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Return True when ``schema.table`` exists."""
    rows = run_sql(
        conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    )
    return bool(rows[0][0])


@dataclass(frozen=True)
class MergeCounts:
    """What a merge into ``comments`` changed."""

    inserted: int
    updated: int
    duplicates: int = 0  # records lost to the same id in a newer file, with other content
    copies: int = 0  # the same record (same content) in an older file as well: nothing lost


_MERGE_TEMP_TABLES = (
    "completed_loads",
    "current_files",
    "candidates",
    "changed_keys",
    "incoming_comments",
    "duplicate_losers",
)


def _ensure_load_ids(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Give a raw table landed before load ids were kept its ``_dlt_load_id`` column (NULL)."""
    [(present,)] = run_sql(
        conn,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = ? AND column_name = '_dlt_load_id'",
        [table],
    )
    if not present:
        run_sql(conn, f"ALTER TABLE raw.{table} ADD COLUMN _dlt_load_id VARCHAR")


def merge_comments(conn: duckdb.DuckDBPyConnection) -> MergeCounts:
    """Merge ``raw.records`` into ``comments`` in one transaction (see merge_comments.sql).

    Write behaviour: merge on (source, external_id), because an edited record must update its
    row and keep its id, and a re-run must change nothing. When an id is in several files of
    a source, the record from the most recently modified file wins and the others are
    quarantined as ``duplicate_id``, unless their content is the winner's (overlapping
    exports): such a copy loses nothing and is only counted. Rows of a file's earlier reads
    are deleted from
    ``raw.records`` once a later read of it is loaded.
    """
    if not (table_exists(conn, "raw", "records") and table_exists(conn, "raw", "_dlt_loads")):
        return MergeCounts(0, 0)
    _ensure_load_ids(conn, "records")
    run_sql(conn, "BEGIN TRANSACTION")
    try:
        run_script(conn, read_sql("merge_comments"))
        [(inserted, updated)] = run_sql(
            conn,
            "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) "
            "FROM incoming_comments",
        )
        [(duplicates, copies)] = run_sql(
            conn,
            "SELECT count(*) FILTER (WHERE NOT is_copy AND NOT is_known), "
            "count(*) FILTER (WHERE is_copy) FROM duplicate_losers",
        )
        for name in _MERGE_TEMP_TABLES:
            run_sql(conn, f"DROP TABLE {name}")
        run_sql(conn, "COMMIT")
    except BaseException:  # a signal too: an open transaction would swallow the run's record
        run_sql(conn, "ROLLBACK")
        raise
    return MergeCounts(int(inserted), int(updated), int(duplicates), int(copies))


def merge_rejected(conn: duckdb.DuckDBPyConnection) -> int:
    """Copy new rows of ``raw.rejected`` into ``rejected``; return how many were added.

    Write behaviour: append what is not there yet, because every quarantined record must be
    kept once, with its reason and location, and re-reading a file must not double it. Only
    rows of completed loads are copied, and then deleted from ``raw.rejected``: it is a
    landing table, and the raw text is kept once.
    """
    if not (table_exists(conn, "raw", "rejected") and table_exists(conn, "raw", "_dlt_loads")):
        return 0
    _ensure_load_ids(conn, "rejected")
    run_sql(conn, "BEGIN TRANSACTION")
    try:
        [(added,)] = run_sql(conn, read_sql("merge_rejected"))
        run_sql(
            conn,
            "DELETE FROM raw.rejected WHERE _dlt_load_id IS NULL OR _dlt_load_id IN "
            "(SELECT load_id FROM raw._dlt_loads WHERE status = 0)",
        )
        run_sql(conn, "COMMIT")
    except BaseException:  # a signal too: an open transaction would swallow the run's record
        run_sql(conn, "ROLLBACK")
        raise
    return int(added)


def count_comments(conn: duckdb.DuckDBPyConnection, source: str | None = None) -> int:
    """How many comments the warehouse holds, or holds from one ``source`` when named."""
    if source is None:
        [(total,)] = run_sql(conn, "SELECT count(*) FROM comments")
    else:
        [(total,)] = run_sql(conn, "SELECT count(*) FROM comments WHERE source = ?", [source])
    return int(total)


@dataclass(frozen=True)
class UnconfiguredSource:
    """A source the warehouse holds comments of that the config no longer names."""

    source: str
    comments: int
    same_records: int  # of its comments a configured source holds too (same id and content)
    same_records_in: str  # those configured sources, comma-separated ('' when none)


def read_unconfigured_sources(
    conn: duckdb.DuckDBPyConnection, configured: Sequence[str]
) -> list[UnconfiguredSource]:
    """Sources in ``comments`` that ``configured`` lacks, with what hints at a rename."""
    return [
        UnconfiguredSource(*row)
        for row in run_sql(conn, read_sql("read_unconfigured_sources"), [list(configured)])
    ]


@dataclass(frozen=True)
class ForgottenSource:
    """What forgetting a source deleted."""

    comments: int
    records: int  # landed in raw.records, every read of every file
    rejected: int


_RAW_TABLES = ("records", "rejected", "_dlt_pipeline_state")


def forget_source(conn: duckdb.DuckDBPyConnection, source: str, pipeline: str) -> ForgottenSource:
    """Delete a source's comments, what was made of them, its records and its read state.

    Write behaviour: DELETE in one transaction (warehouse/sql/forget_source.sql), as a
    renamed or retired source's comments would otherwise count in every night's hassles.
    """
    [(comments,)] = run_sql(conn, "SELECT count(*) FROM comments WHERE source = ?", [source])
    [(rejected,)] = run_sql(conn, "SELECT count(*) FROM rejected WHERE source = ?", [source])
    records = 0
    if table_exists(conn, "raw", "records"):
        [(records,)] = run_sql(conn, "SELECT count(*) FROM raw.records WHERE source = ?", [source])
    params = {"source": source, "pipeline": pipeline}
    # dlt makes its raw tables as it first lands a row in each: skip those not made yet.
    missing = [f"raw.{t}" for t in _RAW_TABLES if not table_exists(conn, "raw", t)]
    statements = named_statements(conn, read_sql("forget_source"), params)
    transaction(conn, [(sql, p) for sql, p in statements if not any(t in sql for t in missing)])
    return ForgottenSource(int(comments), int(records), int(rejected))


@dataclass(frozen=True)
class QuarantineReason:
    """One reason records of a source were quarantined, with its first record as an example."""

    source: str
    records: int
    file: str
    line: int
    reason: str


def read_commonest_quarantine(
    conn: duckdb.DuckDBPyConnection, limit: int = 3
) -> list[QuarantineReason]:
    """The ``limit`` commonest quarantine reasons (per source), most records first."""
    return [
        QuarantineReason(*row)
        for row in run_sql(conn, read_sql("read_commonest_quarantine"), [limit])
    ]


def start_run(conn: duckdb.DuckDBPyConnection, run_id: str, flow_name: str) -> None:
    """Record that a flow run started.

    Write behaviour: merge on run_id, because Prefect may retry a flow run under the same id.
    """
    run_sql(
        conn,
        """
        INSERT OR REPLACE INTO runs (run_id, flow_name, started_at, status, stage_counts)
        VALUES (?, ?, ?, 'running', '{}')
        """,
        [run_id, flow_name, now()],
    )


def enter_stage(conn: duckdb.DuckDBPyConnection, run_id: str, stage: str) -> str:
    """Record that a running run has begun ``stage`` (in ``failed_stage``); return ``stage``.

    Write behaviour: update in place, so that a run killed where it could record nothing
    (``kill -9``, power loss) is marked failed at the stage it was in.
    """
    run_sql(
        conn,
        "UPDATE runs SET failed_stage = ? WHERE run_id = ? AND status = 'running'",
        [stage, run_id],
    )
    return stage


def mark_interrupted_runs(conn: duckdb.DuckDBPyConnection) -> int:
    """Mark runs still 'running' from an earlier process as failed; return how many.

    Write behaviour: update in place. Called before a new run starts, when no other run can be
    writing (DuckDB lets one process write the file), so a 'running' row is one whose process
    was killed; its ``failed_stage`` is the stage it had entered (:func:`enter_stage`).
    """
    [(count,)] = run_sql(conn, "SELECT count(*) FROM runs WHERE status = 'running'")
    if count:
        run_sql(
            conn,
            "UPDATE runs SET status = 'failed', ended_at = coalesce(ended_at, ?), "
            "error = 'interrupted: the process ended before the run finished' "
            "WHERE status = 'running'",
            [now()],
        )
    return int(count)


def finish_run(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    stage_counts: dict[str, Any],
    failed_stage: str | None = None,
    error: str | None = None,
) -> None:
    """Record how a flow run ended, with its counts per stage (and the error, if it failed)."""
    run_sql(
        conn,
        """
        UPDATE runs
        SET ended_at = ?, status = ?, stage_counts = ?, failed_stage = ?, error = ?
        WHERE run_id = ?
        """,
        [now(), status, json.dumps(stage_counts, default=str), failed_stage, error, run_id],
    )
