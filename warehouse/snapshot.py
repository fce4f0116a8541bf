"""The analyst snapshot: a separate DuckDB file with what analysts query, swapped in atomically.

A DuckDB file open for writing cannot be opened by another process, even read-only, so
analysts querying the live warehouse at 2 a.m. would be locked out by the nightly run. At the
end of each successful run, :func:`write_snapshot` copies the tables the views need into a
new file beside the target, installs the views there, and renames it over the previous
snapshot. A rename is atomic: a reader sees the old file or the new one, never half of one,
and a reader that has the old file open keeps reading it. A failed run never gets here, so it
never replaces a good snapshot.

Write behaviour: replace, whole, because a snapshot is one consistent state of the warehouse.
``published_redactions`` (in the warehouse) is merged on the text: each text redacted on the way
in is redacted once, then looked up at later snapshots while the redactor's version holds.

Raw customer text stays out: comments and units lose their text (the redacted text is in
``comments_redacted``), units their offsets into it, rejected rows lose ``raw_text``, and there
are no embeddings. What
text is left is redacted again on the way in (rejected reasons, run errors, hassle labels and
keyphrases, those of each run's ``hassle_runs`` too), and customer ids are pseudonymised:
``customer_id`` becomes ``cust_`` and 32 hex digits of HMAC-SHA256 under a key that stays in
the warehouse (table ``snapshot_key``, made once per warehouse and never copied). The same customer keeps the same pseudonym from one
snapshot to the next, so journeys and customer counts still work.

Leftovers of an interrupted write (``.NAME.PID.partial`` and its ``.wal``) are removed before
a write, and a failed write removes its own.
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.core import run_sql, transaction
from warehouse.views import install_views

# Registered on the warehouse connection while the snapshot is written; the SELECTs use them.
REDACT_FUNCTION = "snapshot_redact"
PSEUDONYMS = "snapshot_customer_pseudonyms"

# Table -> the statement that creates and fills it in the snapshot (attached as
# ``analyst_snapshot``): whole statements, so no table name is formatted into SQL. Left out
# besides raw text: content_hash and text_hash, plain SHA-1s of the raw id and text, which
# guessing would turn back into a customer id or a redacted phone number.
SNAPSHOT_TABLES: dict[str, str] = {
    "comments": (
        "CREATE TABLE analyst_snapshot.main.comments AS SELECT c.* EXCLUDE (text, content_hash) "
        "REPLACE "
        "(p.pseudonym AS customer_id) FROM main.comments AS c LEFT JOIN "
        "snapshot_customer_pseudonyms AS p ON p.customer_id = c.customer_id ORDER BY "
        "c.comment_id"
    ),
    "comments_redacted": (
        "CREATE TABLE analyst_snapshot.main.comments_redacted AS SELECT * EXCLUDE (redactor, "
        "content_hash) FROM main.comments_redacted"
    ),
    "comment_enrichment": (
        "CREATE TABLE analyst_snapshot.main.comment_enrichment AS SELECT * EXCLUDE "
        "(content_hash, text_hash) FROM main.comment_enrichment"
    ),
    "units": (
        "CREATE TABLE analyst_snapshot.main.units AS SELECT * EXCLUDE (text, text_hash, "
        "lemmas, noun_chunks, start_char, end_char) FROM main.units"
    ),
    "tags": "CREATE TABLE analyst_snapshot.main.tags AS SELECT * FROM main.tags",
    "cluster_runs": (
        "CREATE TABLE analyst_snapshot.main.cluster_runs AS SELECT * FROM main.cluster_runs"
    ),
    "hassles": (
        "CREATE TABLE analyst_snapshot.main.hassles AS SELECT * EXCLUDE (centroid) "
        "REPLACE (snapshot_redact(label) AS label, list_transform(keyphrases, k -> "
        "snapshot_redact(k)) AS keyphrases) FROM main.hassles"
    ),
    "hassle_runs": (
        "CREATE TABLE analyst_snapshot.main.hassle_runs AS SELECT * REPLACE "
        "(snapshot_redact(label) AS label, list_transform(keyphrases, k -> "
        "snapshot_redact(k)) AS keyphrases) FROM main.hassle_runs"
    ),
    "hassle_members": (
        "CREATE TABLE analyst_snapshot.main.hassle_members AS SELECT * FROM main.hassle_members"
    ),
    "hassle_lineage": (
        "CREATE TABLE analyst_snapshot.main.hassle_lineage AS SELECT * FROM main.hassle_lineage"
    ),
    "hassle_rankings": (
        "CREATE TABLE analyst_snapshot.main.hassle_rankings AS SELECT * REPLACE "
        "(snapshot_redact(label) AS label) FROM main.hassle_rankings"
    ),
    "runs": (
        "CREATE TABLE analyst_snapshot.main.runs AS SELECT * REPLACE "
        "(snapshot_redact(error) AS error) FROM main.runs"
    ),
    "hassle_ranking_parts": (
        "CREATE TABLE analyst_snapshot.main.hassle_ranking_parts AS SELECT * FROM "
        "main.hassle_ranking_parts"
    ),
    "rejected": (
        "CREATE TABLE analyst_snapshot.main.rejected AS SELECT * EXCLUDE (raw_text) "
        "REPLACE (snapshot_redact(reason) AS reason) FROM main.rejected"
    ),
}


def write_snapshot(
    conn: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str,
    redact: Callable[[str], str],
    *,
    redactor: str,
) -> Path:
    """Write the analyst snapshot of ``conn``'s warehouse to ``target``, atomically.

    Args:
        conn: A read-write connection to the warehouse.
        target: The snapshot file analysts open.
        run_id: The run whose results the snapshot holds (recorded in ``snapshot_info``).
        redact: Redacts PII in one text (``nlp.redact.redact_pii``); applied to the text
            columns that are not redacted already.
        redactor: ``redact``'s version (``nlp.redact.redactor_version``): a text kept
            redacted by another version is redacted again.

    Returns:
        ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        _fill(conn, partial, run_id, redact, redactor)
        with duckdb.connect(str(partial)) as snapshot:
            install_views(snapshot)
            run_sql(snapshot, "CHECKPOINT")
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        remove_leftovers(target)
    return target


def remove_leftovers(target: Path) -> list[Path]:
    """Delete the partial files (and their WALs) of unfinished writes of ``target``.

    Only one run writes at a time (it holds the warehouse), so any partial file is a
    leftover: of this write, or of one that was killed.

    Returns:
        The files deleted.
    """
    found = [
        Path(p) for p in glob.glob(glob.escape(f"{target.parent}/.{target.name}.") + "*.partial*")
    ]
    for path in found:
        path.unlink(missing_ok=True)
    return found


def _fill(
    conn: duckdb.DuckDBPyConnection,
    partial: Path,
    run_id: str,
    redact: Callable[[str], str],
    redactor: str,
) -> None:
    """Create the snapshot's tables in ``partial``, from one consistent read of the warehouse."""
    key = _pseudonym_key(conn)
    ids = [
        cid
        for (cid,) in run_sql(
            conn, "SELECT DISTINCT customer_id FROM main.comments WHERE customer_id IS NOT NULL"
        )
    ]
    conn.register(
        PSEUDONYMS,
        pa.table(
            {
                "customer_id": pa.array(ids, pa.string()),
                "pseudonym": pa.array([pseudonym(key, c) for c in ids], pa.string()),
            }
        ),
    )
    known = dict(
        run_sql(
            conn,
            "SELECT text, redacted FROM published_redactions WHERE redactor = ?",
            [redactor],
        )
    )
    fresh: dict[str, str] = {}

    def redact_once(text: str) -> str:
        if text in known:
            return known[text]
        if text not in fresh:
            fresh[text] = redact(text)
        return fresh[text]

    conn.create_function(
        REDACT_FUNCTION, redact_once, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR")
    )
    quoted = str(partial).replace("'", "''")
    run_sql(conn, f"ATTACH '{quoted}' AS analyst_snapshot")
    try:
        transaction(  # one consistent read of every table
            conn,
            [
                *((create, None) for create in SNAPSHOT_TABLES.values()),
                (
                    "CREATE TABLE analyst_snapshot.main.snapshot_info AS "
                    "SELECT ?::VARCHAR AS run_id, now()::TIMESTAMP AS written_at",
                    [run_id],
                ),
            ],
        )
    finally:
        run_sql(conn, "DETACH analyst_snapshot")
        conn.remove_function(REDACT_FUNCTION)
        conn.unregister(PSEUDONYMS)
    remember_redactions(conn, fresh, redactor)


def remember_redactions(
    conn: duckdb.DuckDBPyConnection, redacted: dict[str, str], redactor: str
) -> None:
    """Record each text's published redaction (``published_redactions``), by ``redactor``.

    Merged on the text: a text's redaction holds until the redactor's version changes, and
    then the new version's replaces it.
    """
    if not redacted:
        return
    conn.register(
        "new_redactions",
        pa.table(
            {
                "text": list(redacted),
                "redacted": list(redacted.values()),
                "redactor": [redactor] * len(redacted),
            }
        ),
    )
    try:
        transaction(
            conn,
            [
                (
                    "INSERT OR REPLACE INTO published_redactions BY NAME "
                    "SELECT * FROM new_redactions",
                    None,
                )
            ],
        )
    finally:
        conn.unregister("new_redactions")


def pseudonym(key: bytes, customer_id: str) -> str:
    """The snapshot's stand-in for ``customer_id``: ``cust_`` + 32 hex digits of HMAC-SHA256."""
    return "cust_" + hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:32]


def _pseudonym_key(conn: duckdb.DuckDBPyConnection) -> bytes:
    """This warehouse's pseudonym key, made (32 random bytes) the first time it is needed."""
    rows = run_sql(conn, "SELECT key FROM main.snapshot_key LIMIT 1")
    if rows:
        return bytes(rows[0][0])
    key = secrets.token_bytes(32)
    run_sql(conn, "INSERT INTO main.snapshot_key VALUES (?, now()::TIMESTAMP)", [key])
    return key
