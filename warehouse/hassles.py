"""Readers and loaders for the cluster stage: pain points in, hassles out.

Write behaviours:

* ``cluster_runs``, ``hassle_runs``, ``hassle_members``, ``hassle_lineage``: appended per run,
  keyed by run id, because trends and audits need what each night saw. A run written again
  under the same id (a retry) replaces its own rows first, so a retry never doubles them.
* ``hassles``: merged on ``hassle_id``, because a hassle is one thing over time: its label,
  quotes and size are refreshed each night, its id and ``first_seen`` never change.

Both levels live in ``hassles`` and ``hassle_runs``: children (``level = 'child'``, ids
``H-0001``, with ``parent_id``) and parents (``level = 'parent'``, ids ``P-0001``, each with its
own counter). ``hassle_members`` holds the children's members only; a parent's members are its
children's. ``hassle_lineage`` links hassles of the same level.

All of one run's writes happen in one transaction: analysts never see half a clustering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from nlp.rows import HassleRow
from warehouse.core import rows_to_table, run_sql, transaction
from warehouse.enrichment import load_vectors

CONTEXT_CHARS = 80
"""How much of its comment before a pain point a row carries, for redaction: a name's cue
("Thanks, Sarah") may be in a greeting that normalisation cut from the unit."""


@dataclass(frozen=True)
class PainPoint:
    """A pain-point unit in the clustering window."""

    unit_id: str
    text: str
    text_hash: str
    lemmas: tuple[str, ...]
    noun_chunks: tuple[str, ...]
    stage: str | None
    theme: str | None
    created_at: datetime | None = None  # the comment's time
    ingested_at: datetime | None = None  # when the comment's current text reached the warehouse
    said: str = ""  # the unit as the customer wrote it, with up to CONTEXT_CHARS before it
    pain_score: float | None = None  # how sure the pain filter is (tags.pain_score)
    source: str = ""  # the comment's source (its name in the settings)


@dataclass(frozen=True)
class PainPointWindow:
    """The units to cluster tonight, and what identifies them."""

    units: list[PainPoint]
    window_start: datetime
    window_end: datetime
    fingerprint: str
    comments_after_run: int = 0  # comments dated after the run, left out of the window
    comments_before: int = 0  # comments older than the window, not counted tonight


def read_pain_points(
    conn: duckdb.DuckDBPyConnection, window_days: int, settings_key: str, as_of: datetime
) -> PainPointWindow:
    """Pain-point units of comments in the last ``window_days`` before the newest comment.

    The window ends at the newest comment, not at the clock, so the same data always gives the
    same window (and a late nightly run does not drop a day); but never after ``as_of``, the
    run's time: a comment dated later (a "no date" sentinel such as 9999-12-31, loaded before
    such dates were quarantined) is left out rather than moving the window past every other
    comment. Units are ordered by id, which makes the clustering deterministic. The
    fingerprint covers each unit's id, text and tags and ``settings_key`` (the model and
    cluster settings): equal fingerprints mean nothing the clustering depends on has changed.
    """
    [(end, after)] = run_sql(
        conn,
        "SELECT max(created_at) FILTER (created_at <= ?), count(*) FILTER (created_at > ?) "
        "FROM comments",
        [as_of, as_of],
    )
    if end is None:
        return PainPointWindow([], datetime.min, datetime.min, "", after)
    start = end - timedelta(days=window_days)
    [(before,)] = run_sql(conn, "SELECT count(*) FROM comments WHERE created_at <= ?", [start])
    rows = run_sql(
        conn,
        """
        SELECT u.unit_id, u.text, u.text_hash, u.lemmas, u.noun_chunks, t.stage, t.theme,
               c.created_at, greatest(c.ingested_at, c.updated_at) AS ingested_at,
               substr(c.text, greatest(u.start_char - ?, 0) + 1,
                      u.end_char - greatest(u.start_char - ?, 0)) AS said,
               t.pain_score, c.source
        FROM units AS u
        JOIN tags AS t ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
        JOIN comments AS c ON c.comment_id = u.comment_id
        WHERE t.is_pain_point AND c.created_at > ? AND c.created_at <= ?
        ORDER BY u.unit_id
        """,
        [CONTEXT_CHARS, CONTEXT_CHARS, start, end],
    )
    units = [
        PainPoint(uid, text, th, tuple(lemmas), tuple(chunks), *rest)
        for uid, text, th, lemmas, chunks, *rest in rows
    ]
    digest = hashlib.sha1(settings_key.encode())
    for u in units:
        digest.update(f"\x1f{u.unit_id}\x1e{u.text_hash}\x1e{u.stage}\x1e{u.theme}".encode())
    return PainPointWindow(units, start, end, digest.hexdigest(), after, before)


def read_brand_handles(
    conn: duckdb.DuckDBPyConnection, window: PainPointWindow, min_share: float
) -> frozenset[str]:
    """The @handles (lower case) written in at least ``min_share`` of the window's comments.

    Read from the comments as customers wrote them: normalisation cuts handles out of the
    units, so the labeller alone cannot see the account everyone writes to ("@SpotifyCares"),
    whose name ("spotify") then passes for a specific word. An e-mail address is no handle.
    """
    if not window.units:
        return frozenset()
    span = [window.window_start, window.window_end]
    rows = run_sql(
        conn,
        r"""
        WITH handles AS (
            SELECT DISTINCT comment_id,
                   lower(unnest(regexp_extract_all(text, '(?:^|\W)[@＠](\w+)', 1))) AS handle
            FROM comments
            WHERE created_at > ? AND created_at <= ?
        )
        SELECT handle FROM handles
        GROUP BY handle
        HAVING count(*) >= ? * (SELECT count(*) FROM comments WHERE created_at > ? AND created_at <= ?)
        ORDER BY handle
        """,
        [*span, min_share, *span],
    )
    return frozenset(handle for (handle,) in rows)


def read_unit_vectors(
    conn: duckdb.DuckDBPyConnection, model_id: str, units: Sequence[PainPoint]
) -> np.ndarray:
    """The stored vectors of ``units`` (in order): nothing is embedded again."""
    if not units:
        return np.zeros((0, 0), dtype=np.float32)
    return load_vectors(conn, model_id, [u.text_hash for u in units])


def latest_fingerprint(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The input fingerprint of the latest clustering, or None before the first."""
    rows = run_sql(
        conn, "SELECT input_fingerprint FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1"
    )
    return rows[0][0] if rows else None


@dataclass(frozen=True)
class StoredHassle:
    """A hassle as the latest clustering that saw it left it.

    Attributes:
        hassle_id: ``H-0001`` (child) or ``P-0001`` (parent).
        centroid: L2-normalised centroid.
        members: Units of its latest run (a parent's: its children's).
        label: Its latest label.
        parent_id: A child's parent (None for parents).
    """

    hassle_id: str
    centroid: np.ndarray
    members: frozenset[str]
    label: str = ""
    parent_id: str | None = None


def read_live_hassles(conn: duckdb.DuckDBPyConnection, level: str = "child") -> list[StoredHassle]:
    """Hassles of ``level`` not retired, with their centroids and the units of their latest run."""
    return _read_hassles(conn, level, "h.status <> 'retired'", [])


def read_revivable(
    conn: duckdb.DuckDBPyConnection, level: str, since: datetime
) -> list[StoredHassle]:
    """Retired hassles of ``level`` whose last clustering's newest comment is after ``since``."""
    return _read_hassles(
        conn,
        level,
        "h.status = 'retired' AND h.last_run_id IN "
        "(SELECT run_id FROM cluster_runs WHERE window_end >= ?)",
        [since],
    )


def _read_hassles(
    conn: duckdb.DuckDBPyConnection, level: str, where: str, params: list[Any]
) -> list[StoredHassle]:
    rows = run_sql(
        conn,
        f"""
        SELECT h.hassle_id, h.centroid, h.label, h.parent_id,
               list(m.unit_id ORDER BY m.unit_id) FILTER (m.unit_id IS NOT NULL)
        FROM hassles AS h
        LEFT JOIN hassle_runs AS c
            ON h.level = 'parent' AND c.run_id = h.last_run_id AND c.parent_id = h.hassle_id
        LEFT JOIN hassle_members AS m
            ON m.run_id = h.last_run_id AND m.hassle_id = coalesce(c.hassle_id, h.hassle_id)
        WHERE coalesce(h.level, 'child') = ? AND {where}
        GROUP BY ALL
        ORDER BY h.hassle_id
        """,  # noqa: S608 - only fixed clauses are formatted in; every value is bound
        [level, *params],
    )
    return [
        StoredHassle(hid, np.asarray(centroid, dtype=np.float32), frozenset(m or []), label, pid)
        for hid, centroid, label, pid, m in rows
    ]


@dataclass(frozen=True)
class LatestClustering:
    """The latest clustering, and the full one it builds on, as incremental nights need them.

    Attributes:
        run_id: The latest clustering's run.
        window_end: Its newest comment.
        min_cluster_size: Used by the full clustering it builds on (None when its method
            has no such parameter).
        full_run_id: The full clustering it builds on.
        full_window_end: That full clustering's newest comment.
        full_clustered_at: When that full clustering ran.
        full_params: That full clustering's cluster settings.
        model_id: The embedding model of its vectors.
        members: unit id -> (child hassle id, assigned_by, probability) in the latest
            clustering, for units whose comment has not changed since.
    """

    run_id: str
    window_end: datetime
    min_cluster_size: int | None
    full_run_id: str
    full_window_end: datetime
    full_clustered_at: datetime
    full_params: dict[str, Any]
    model_id: str
    members: dict[str, tuple[str, str, float]]


def read_latest_clustering(conn: duckdb.DuckDBPyConnection) -> LatestClustering | None:
    """The latest clustering with at least one hassle, or None before the first."""
    rows = run_sql(
        conn,
        """
        SELECT l.run_id, l.window_end, f.min_cluster_size, f.run_id, f.window_end,
               f.clustered_at, f.params, l.model_id
        FROM cluster_runs AS l
        JOIN cluster_runs AS f ON f.run_id = coalesce(l.full_run_id, l.run_id)
        WHERE l.hassles > 0
        ORDER BY l.clustered_at DESC
        LIMIT 1
        """,
    )
    if not rows:
        return None
    run_id, end, mcs, full_id, full_end, full_at, params, model_id = rows[0]
    # An edited comment's new sentences (under the old unit ids) keep no membership.
    members = {
        unit: (hassle, kind, probability)
        for unit, hassle, kind, probability in run_sql(
            conn,
            "SELECT m.unit_id, m.hassle_id, m.assigned_by, m.probability "
            "FROM hassle_members AS m JOIN units AS u USING (unit_id) "
            "JOIN comments AS c ON c.comment_id = u.comment_id "
            "WHERE m.run_id = ? AND c.updated_at <= "
            "(SELECT clustered_at FROM cluster_runs WHERE run_id = ?)",
            [run_id, run_id],
        )
    }
    return LatestClustering(
        run_id,
        end,
        None if mcs is None else int(mcs),
        full_id,
        full_end,
        full_at,
        json.loads(params),
        model_id,
        members,
    )


def max_hassle_number(conn: duckdb.DuckDBPyConnection, prefix: str = "H") -> int:
    """The highest number used in an id with ``prefix`` (``H`` or ``P``) so far; 0 when none.

    Ids are never reused: a retired id keeps its number.
    """
    rows = run_sql(
        conn,
        "SELECT coalesce(max(TRY_CAST(regexp_extract(hassle_id, ?, 1) AS BIGINT)), 0) FROM hassles",
        [f"^{prefix}-(\\d+)$"],
    )
    return int(rows[0][0])


HASSLE_RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("hassle_id", pa.string()),
        ("cluster", pa.int32()),
        ("status", pa.string()),
        ("matched_from", pa.string()),
        ("match_score", pa.float64()),
        ("label", pa.string()),
        ("keyphrases", pa.list_(pa.string())),
        ("stage", pa.string()),
        ("stage_share", pa.float64()),
        ("theme", pa.string()),
        ("theme_share", pa.float64()),
        ("quote_unit_ids", pa.list_(pa.string())),
        ("units", pa.int32()),
        ("units_core", pa.int32()),
        ("level", pa.string()),
        ("parent_id", pa.string()),
        ("specificity", pa.float64()),
    ]
)
MEMBER_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("unit_id", pa.string()),
        ("hassle_id", pa.string()),
        ("probability", pa.float64()),
        ("assigned_by", pa.string()),
    ]
)
LINEAGE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("parent_id", pa.string()),
        ("child_id", pa.string()),
        ("kind", pa.string()),
        ("overlap", pa.float64()),
    ]
)
CENTROID_SCHEMA = pa.schema([("hassle_id", pa.string()), ("centroid", pa.list_(pa.float32()))])


@dataclass(frozen=True)
class ClusterRunRow:
    """One row of ``cluster_runs`` (warehouse/migrations/003_cluster.sql, 008, 010)."""

    run_id: str
    input_fingerprint: str
    window_start: datetime
    window_end: datetime
    model_id: str
    units_in: int
    units_clustered: int
    units_core: int
    coverage: float
    hassles: int
    hassles_new: int
    hassles_retired: int
    hassles_revived: int
    parents: int
    mode: str
    full_run_id: str
    min_cluster_size: int | None  # the method's, when it has one
    fitted_on: int
    params: dict[str, Any]  # the cluster settings: method, its parameters, the stage's keys
    timings: dict[str, float]
    clustered_at: datetime


@dataclass(frozen=True)
class MemberRow:
    """One row of ``hassle_members``: a unit in a child hassle."""

    run_id: str
    unit_id: str
    hassle_id: str
    probability: float
    assigned_by: str


@dataclass(frozen=True)
class LineageRow:
    """One row of ``hassle_lineage``: units of one hassle moving to another."""

    run_id: str
    parent_id: str
    child_id: str
    kind: str
    overlap: float


@dataclass(frozen=True)
class ClusteringWrite:
    """Everything one clustering writes."""

    run: ClusterRunRow
    hassle_runs: list[HassleRow]  # written with the run id in front
    members: list[MemberRow]
    lineage: list[LineageRow]
    centroids: dict[str, np.ndarray]  # hassle id -> centroid
    retired: list[str]

    @property
    def run_id(self) -> str:
        """The run this clustering belongs to."""
        return self.run.run_id


def _values(rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The field values of dataclass rows, in field order (no deep copy, unlike ``astuple``)."""
    if not rows:
        return []
    names = [f.name for f in fields(rows[0])]
    return [tuple(getattr(row, name) for name in names) for row in rows]


def write_clustering(conn: duckdb.DuckDBPyConnection, w: ClusteringWrite) -> None:
    """Write one run's clustering, and refresh ``hassles``, in one transaction."""
    tables = {
        "batch_hassle_runs": rows_to_table(
            [(w.run_id, *values) for values in _values(w.hassle_runs)], HASSLE_RUN_SCHEMA
        ),
        "batch_members": rows_to_table(_values(w.members), MEMBER_SCHEMA),
        "batch_lineage": rows_to_table(_values(w.lineage), LINEAGE_SCHEMA),
        "batch_centroids": pa.table(
            {
                "hassle_id": pa.array(list(w.centroids), pa.string()),
                "centroid": pa.array(
                    [c.astype(np.float32).tolist() for c in w.centroids.values()],
                    pa.list_(pa.float32()),
                ),
            }
        ),
        "batch_retired": pa.table({"hassle_id": pa.array(w.retired, pa.string())}),
    }
    for name, table in tables.items():
        conn.register(name, table)
    row = {f.name: getattr(w.run, f.name) for f in fields(w.run)}
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    params = [json.dumps(v) if isinstance(v, dict) else v for v in row.values()]
    try:
        transaction(
            conn,
            [
                *[
                    (f"DELETE FROM {table} WHERE run_id = ?", [w.run_id])  # noqa: S608
                    for table in ("cluster_runs", "hassle_runs", "hassle_members", "hassle_lineage")
                ],
                (f"INSERT INTO cluster_runs ({columns}) VALUES ({marks})", params),  # noqa: S608
                ("INSERT INTO hassle_runs BY NAME SELECT * FROM batch_hassle_runs", None),
                ("INSERT INTO hassle_members BY NAME SELECT * FROM batch_members", None),
                ("INSERT INTO hassle_lineage BY NAME SELECT * FROM batch_lineage", None),
                (
                    """
                    INSERT INTO hassles BY NAME
                    SELECT r.hassle_id, r.label, r.keyphrases, r.stage, r.stage_share, r.theme,
                           r.theme_share, r.quote_unit_ids, r.units, r.status,
                           ?::TIMESTAMP AS first_seen, ?::TIMESTAMP AS last_seen,
                           r.run_id AS first_run_id, r.run_id AS last_run_id, c.centroid,
                           r.level, r.parent_id, r.specificity
                    FROM batch_hassle_runs AS r JOIN batch_centroids AS c USING (hassle_id)
                    ON CONFLICT (hassle_id) DO UPDATE SET
                        label = excluded.label, keyphrases = excluded.keyphrases,
                        level = excluded.level, parent_id = excluded.parent_id,
                        specificity = excluded.specificity,
                        stage = excluded.stage, stage_share = excluded.stage_share,
                        theme = excluded.theme, theme_share = excluded.theme_share,
                        quote_unit_ids = excluded.quote_unit_ids, units = excluded.units,
                        status = excluded.status, last_seen = excluded.last_seen,
                        last_run_id = excluded.last_run_id, centroid = excluded.centroid
                    """,
                    [w.run.clustered_at, w.run.clustered_at],
                ),
                (
                    "UPDATE hassles SET status = 'retired' "
                    "WHERE hassle_id IN (SELECT hassle_id FROM batch_retired)",
                    None,
                ),
            ],
        )
    finally:
        for name in tables:
            conn.unregister(name)
