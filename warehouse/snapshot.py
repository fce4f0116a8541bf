"""The analyst snapshot: a separate DuckDB file with what analysts query, swapped in atomically.

A DuckDB file open for writing cannot be opened by another process, even read-only, so
analysts querying the live warehouse at 2 a.m. would be locked out by the nightly run. At the
end of each successful run, :func:`write_snapshot` copies the tables the views need into a
new file beside the target, installs the views there, and renames it over the previous
snapshot. A rename is atomic: a reader sees the old file or the new one, never half of one,
and a reader that has the old file open keeps reading it. A failed run never gets here, so it
never replaces a good snapshot.

Write behaviour: replace, whole, because a snapshot is one consistent state of the warehouse.

Raw customer text stays out: comments and units lose their text (the redacted text is in
``comments_redacted``), rejected rows lose ``raw_text``, and there are no embeddings.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from warehouse.connection import run_sql
from warehouse.views import install_views

# Table -> the SELECT that fills it in the snapshot.
SNAPSHOT_TABLES: dict[str, str] = {
    "comments": "SELECT * EXCLUDE (text) FROM main.comments",
    "comments_redacted": "SELECT * FROM main.comments_redacted",
    "comment_enrichment": "SELECT * FROM main.comment_enrichment",
    "units": "SELECT * EXCLUDE (text, lemmas, noun_chunks) FROM main.units",
    "tags": "SELECT * FROM main.tags",
    "cluster_runs": "SELECT * FROM main.cluster_runs",
    "hassles": "SELECT * EXCLUDE (centroid) FROM main.hassles",
    "hassle_runs": "SELECT * FROM main.hassle_runs",
    "hassle_members": "SELECT * FROM main.hassle_members",
    "hassle_lineage": "SELECT * FROM main.hassle_lineage",
    "hassle_rankings": "SELECT * FROM main.hassle_rankings",
    "runs": "SELECT * FROM main.runs",
    "rejected": "SELECT * EXCLUDE (raw_text) FROM main.rejected",
}


def write_snapshot(conn: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> Path:
    """Write the analyst snapshot of ``conn``'s warehouse to ``target``, atomically.

    Args:
        conn: A read-write connection to the warehouse.
        target: The snapshot file analysts open.
        run_id: The run whose results the snapshot holds (recorded in ``snapshot_info``).

    Returns:
        ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    for stale in (partial, partial.with_name(partial.name + ".wal")):
        stale.unlink(missing_ok=True)
    quoted = str(partial).replace("'", "''")
    run_sql(conn, f"ATTACH '{quoted}' AS analyst_snapshot")
    try:
        run_sql(conn, "BEGIN TRANSACTION")  # one consistent read of every table
        for table, select in SNAPSHOT_TABLES.items():
            run_sql(conn, f"CREATE TABLE analyst_snapshot.main.{table} AS {select}")  # noqa: S608
        run_sql(
            conn,
            "CREATE TABLE analyst_snapshot.main.snapshot_info AS "
            "SELECT ?::VARCHAR AS run_id, now()::TIMESTAMP AS written_at",
            [run_id],
        )
        run_sql(conn, "COMMIT")
    except Exception:
        run_sql(conn, "ROLLBACK")
        run_sql(conn, "DETACH analyst_snapshot")
        partial.unlink(missing_ok=True)
        raise
    run_sql(conn, "DETACH analyst_snapshot")
    with duckdb.connect(str(partial)) as snapshot:
        install_views(snapshot)
        run_sql(snapshot, "CHECKPOINT")
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return target
