"""Readers and loaders for the alerts stage.

Write behaviours:

* ``alerts_sent``: merged on (``hassle_id``, ``state``), because the rule is "alert at most
  once per hassle per state change": the key is what may not be announced twice, and a merge
  makes recording idempotent (a retried task, or a second channel, re-recording the same
  state updates ``run_id``, ``sent_at`` and ``payload`` instead of failing on the key or
  adding a row). Rows are written only after a channel has accepted the alert, so a failed
  delivery is retried the next time rather than lost.
* ``alerts_sent`` rows of state ``rising`` are deleted (:func:`clear_states`) once a later
  ranking no longer has the hassle rising, so a new rise alerts again. ``new`` rows are never
  deleted: a hassle is new once.
* ``alerts_pending``: merged on (``hassle_id``, ``state``): an alert that was due but that no
  channel accepted, or that ``alerts.max_per_run`` held back, kept for the next run
  (:func:`record_pending`). Each failed attempt updates its row and counts in ``attempts``;
  holding back is no attempt. Recording the alert as sent deletes it, in the same
  transaction; an alert no longer true or timely is deleted unsent (:func:`drop_pending`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb

from warehouse.core import run_sql, transaction

CANDIDATE_COLUMNS = (
    "rank",
    "hassle_id",
    "label",
    "stage",
    "theme",
    "generic",
    "total_score",
    "customers",
    "comments",
    "trend",
    "trend_7d",
    "trend_7d_ratio",
    "trend_7d_p",
    "change",
    "status",
    "fresh_share",
    "weights",
    "parts",
    "seen_before_window",
)
SENT_COLUMNS = ("hassle_id", "state", "run_id", "sent_at", "channel", "payload")
_KEYS_IN = "(hassle_id, state) IN (SELECT (unnest(?::VARCHAR[]), unnest(?::VARCHAR[])))"


def read_alert_candidates(
    conn: duckdb.DuckDBPyConnection, run_id: str, short_days: int = 7
) -> list[dict[str, Any]]:
    """The ranking of ``run_id``'s specific hassles, best first, each with its current status.

    Alerts are about specific hassles (children): parent hassles (``level = 'parent'``) are
    left out, and ``rank`` is the position among the children.

    Args:
        conn: The warehouse.
        run_id: The run whose ``hassle_rankings`` rows to read.
        short_days: Days in the 7-day trend's window (``rank.trend_short_days``).

    Returns:
        One dict per ranked hassle, keyed by :data:`CANDIDATE_COLUMNS` (``status`` is
        ``hassles.status``: ``new``, ``active`` or ``retired``; None if the hassle is unknown).
        ``fresh_share`` is the share of the hassle's units (pain-point sentences) in the latest
        clustering whose comment was written after the newest comment the clustering before
        it saw (its window end): near 1 for a hassle that has just appeared, near the
        background rate for one regrouped from older comments; None before there are two
        clusterings, or for a hassle absent from the latest one. It always compares the
        latest two clusterings, which is what the run being alerted on used. ``weights`` (JSON)
        and ``parts`` (factor -> value) are the hassle's score parts in that ranking.
        ``seen_before_window``: a run found the hassle at least ``short_days`` (the 7-day
        trend's window, ``rank.trend_short_days``) before this ranking, so a burst in that
        window is its return, not its first appearance.
    """
    rows = run_sql(
        conn,
        """
        WITH clusterings AS (
            SELECT run_id, window_end,
                   row_number() OVER (ORDER BY clustered_at DESC, run_id DESC) AS n
            FROM cluster_runs
        ),
        previous_end AS (SELECT window_end FROM clusterings WHERE n = 2),
        parts AS (
            SELECT hassle_id, map(list(factor ORDER BY factor), list(value ORDER BY factor)) AS parts
            FROM hassle_ranking_parts WHERE run_id = $1 GROUP BY hassle_id
        ),
        fresh AS (
            -- NULL (no share) when there is no clustering before the latest one.
            SELECT m.hassle_id,
                   CASE WHEN any_value(p.window_end) IS NOT NULL
                        THEN avg(CASE WHEN c.created_at > p.window_end THEN 1.0 ELSE 0.0 END)
                   END AS share
            FROM hassle_members AS m
            JOIN clusterings AS l ON l.run_id = m.run_id AND l.n = 1
            JOIN units AS u USING (unit_id)
            JOIN comments AS c USING (comment_id)
            LEFT JOIN previous_end AS p ON TRUE
            GROUP BY m.hassle_id
        )
        SELECT r.rank, r.hassle_id, r.label, r.stage, r.theme, r.generic, r.total_score,
               r.customers, r.comments, r.trend, r.trend_7d, r.trend_7d_ratio, r.trend_7d_p,
               r.change, h.status, f.share, r.weights, coalesce(p.parts, MAP {}),
               h.first_seen <= r.ranked_at - to_days(CAST($2 AS INTEGER))
        FROM hassle_rankings AS r
        LEFT JOIN hassles AS h USING (hassle_id)
        LEFT JOIN fresh AS f USING (hassle_id)
        LEFT JOIN parts AS p USING (hassle_id)
        WHERE r.run_id = $1 AND coalesce(r.level, 'child') = 'child'
        ORDER BY r.rank, r.hassle_id
        """,
        [run_id, short_days],
    )
    return [dict(zip(CANDIDATE_COLUMNS, row, strict=True)) for row in rows]


def read_sent(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """Every (hassle_id, state) already alerted and not cleared since, with its run.

    Args:
        conn: The warehouse.

    Returns:
        (hassle_id, state) -> ``run_id`` of the run that last alerted it.
    """
    return {
        (hassle_id, state): run_id
        for hassle_id, state, run_id in run_sql(
            conn, "SELECT hassle_id, state, run_id FROM alerts_sent"
        )
    }


def read_pending(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """Every (hassle_id, state) due but not delivered yet, with how late it is.

    Args:
        conn: The warehouse.

    Returns:
        (hassle_id, state) -> how many rankings (runs) were stored after the one that first
        made it due.
    """
    return {
        (hassle_id, state): runs_since
        for hassle_id, state, runs_since in run_sql(
            conn,
            """
            WITH rankings AS (
                SELECT run_id, max(ranked_at) AS ranked_at FROM hassle_rankings GROUP BY run_id
            )
            SELECT p.hassle_id, p.state, count(later.run_id)
            FROM alerts_pending AS p
            LEFT JOIN rankings AS due USING (run_id)
            LEFT JOIN rankings AS later ON later.ranked_at > due.ranked_at
            GROUP BY p.hassle_id, p.state
            """,
        )
    }


def _key_lists(keys: Iterable[tuple[str, str]]) -> list[list[str]]:
    ordered = sorted(set(keys))
    return [[h for h, _ in ordered], [s for _, s in ordered]]


def record_pending(
    conn: duckdb.DuckDBPyConnection,
    keys: Sequence[tuple[str, str]],
    run_id: str,
    at: datetime,
    error: str,
    *,
    attempted: bool = True,
) -> None:
    """Keep alerts not delivered in ``alerts_pending``, for the next run to send.

    Args:
        conn: The warehouse.
        keys: The (hassle_id, state) pairs not delivered.
        run_id: The run that tried; kept only for a pair not pending already.
        at: When the delivery failed, or the alerts were held back (UTC).
        error: Why, as the channel said it (no secret: webhook URLs are cut to their host),
            or why they were held back.
        attempted: False when the alerts were held back unsent: no delivery attempt, so
            ``attempts`` and ``failed_at`` stay as they were (0 and NULL for a new row).
    """
    if not keys:
        return
    transaction(
        conn,
        [
            (
                """
                INSERT INTO alerts_pending BY NAME
                SELECT unnest(?::VARCHAR[]) AS hassle_id, unnest(?::VARCHAR[]) AS state,
                       ?::VARCHAR AS run_id, ?::TIMESTAMP AS failed_at, ?::INTEGER AS attempts,
                       ?::VARCHAR AS error
                ON CONFLICT (hassle_id, state) DO UPDATE SET
                    failed_at = coalesce(excluded.failed_at, alerts_pending.failed_at),
                    error = excluded.error,
                    attempts = alerts_pending.attempts + excluded.attempts
                """,
                [*_key_lists(keys), run_id, at if attempted else None, int(attempted), error],
            )
        ],
    )


def drop_pending(conn: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str]]) -> int:
    """Delete pending alerts that will not be sent (no longer true or timely).

    Args:
        conn: The warehouse.
        keys: The (hassle_id, state) pairs to drop.

    Returns:
        How many ``alerts_pending`` rows were deleted.
    """
    key_lists = _key_lists(keys)
    if not key_lists[0]:
        return 0
    where = f"FROM alerts_pending WHERE {_KEYS_IN}"  # noqa: S608 - a fixed clause
    [(count,)] = run_sql(conn, f"SELECT count(*) {where}", key_lists)
    transaction(conn, [(f"DELETE {where}", key_lists)])
    return count


def record_sent(conn: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Merge delivered alerts into ``alerts_sent`` on (hassle_id, state), in one transaction.

    The same transaction deletes them from ``alerts_pending``.

    Args:
        conn: The warehouse.
        rows: Dicts keyed by :data:`SENT_COLUMNS`; ``payload`` may be any JSON-serialisable
            value (it is stored as JSON).
    """
    if not rows:
        return
    columns = ", ".join(SENT_COLUMNS)
    marks = ", ".join("?" for _ in SENT_COLUMNS)
    statements: list[tuple[str, list[Any] | None]] = [
        (
            f"INSERT OR REPLACE INTO alerts_sent ({columns}) VALUES ({marks})",  # noqa: S608
            [json.dumps(row[c], default=str) if c == "payload" else row[c] for c in SENT_COLUMNS],
        )
        for row in rows
    ]
    statements.append(
        (
            f"DELETE FROM alerts_pending WHERE {_KEYS_IN}",  # noqa: S608 - a fixed clause
            _key_lists((row["hassle_id"], row["state"]) for row in rows),
        )
    )
    transaction(conn, statements)


def clear_states(conn: duckdb.DuckDBPyConnection, hassle_ids: Iterable[str], state: str) -> int:
    """Delete the ``state`` rows of ``hassle_ids`` so those hassles may alert for it again.

    Their pending ``state`` alerts, if any, are dropped too: the state they announce is over.

    Args:
        conn: The warehouse.
        hassle_ids: The hassles whose state ends.
        state: ``rising`` (or ``new``, though new hassles are normally never cleared).

    Returns:
        How many ``alerts_sent`` rows were deleted.
    """
    ids = sorted(set(hassle_ids))
    if not ids:
        return 0
    [(count,)] = run_sql(
        conn,
        "SELECT count(*) FROM alerts_sent "
        "WHERE state = ? AND hassle_id IN (SELECT unnest(?::VARCHAR[]))",
        [state, ids],
    )
    transaction(
        conn,
        [
            (
                f"DELETE FROM {table} "  # noqa: S608 - one of two fixed table names
                "WHERE state = ? AND hassle_id IN (SELECT unnest(?::VARCHAR[]))",
                [state, ids],
            )
            for table in ("alerts_sent", "alerts_pending")
        ],
    )
    return count
