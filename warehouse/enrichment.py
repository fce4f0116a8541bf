"""Readers and loaders for the enrich stage: units, embeddings, tags, comment enrichment.

Write behaviours:

* ``embeddings``: append-only, keyed by (model_id, text_hash): a vector never changes for the
  same model and text, so it is written once and reused forever.
* ``units`` and ``comment_enrichment``: replaced per comment, because a comment whose text
  changed must lose every old sentence, not keep stale ones beside the new.
* ``tags``: merged on (subject_kind, subject_id), so re-tagging after a taxonomy change
  overwrites in place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from nlp.rows import PendingComment
from warehouse.core import now, records_to_table, rows_to_table, run_sql, transaction

if TYPE_CHECKING:
    from nlp.enrich import CommentEnrichment, Unit

UNIT_SCHEMA = pa.schema(
    [
        ("unit_id", pa.string()),
        ("comment_id", pa.string()),
        ("unit_index", pa.int32()),
        ("start_char", pa.int32()),
        ("end_char", pa.int32()),
        ("text", pa.string()),
        ("text_hash", pa.string()),
        ("lemmas", pa.list_(pa.string())),
        ("noun_chunks", pa.list_(pa.string())),
        ("negated", pa.bool_()),
        ("pattern_hits", pa.string()),
        ("sentiment", pa.float64()),
        ("severity", pa.float64()),
        ("severity_parts", pa.string()),
    ]
)
ENRICHMENT_SCHEMA = pa.schema(
    [
        ("comment_id", pa.string()),
        ("content_hash", pa.string()),
        ("enrich_version", pa.string()),
        ("language", pa.string()),
        ("language_confidence", pa.float64()),
        ("language_supported", pa.bool_()),
        ("text_hash", pa.string()),
        ("sentiment", pa.float64()),
        ("severity", pa.float64()),
        ("severity_parts", pa.string()),
        ("unit_count", pa.int32()),
        ("enriched_at", pa.timestamp("us")),
    ]
)
TAG_SCHEMA = pa.schema(
    [
        ("subject_kind", pa.string()),
        ("subject_id", pa.string()),
        ("comment_id", pa.string()),
        ("stage", pa.string()),
        ("stage_confidence", pa.float64()),
        ("theme", pa.string()),
        ("theme_confidence", pa.float64()),
        ("is_pain_point", pa.bool_()),
        ("pain_score", pa.float64()),
        ("method", pa.string()),
        ("taxonomy_version", pa.string()),
        ("model_id", pa.string()),
        ("tagged_at", pa.timestamp("us")),
    ]
)


@dataclass(frozen=True)
class TagRow:
    """One row of ``tags``: a unit's or comment's stage, theme and pain point (None: untagged)."""

    subject_kind: str
    subject_id: str
    comment_id: str
    stage: str | None
    stage_confidence: float | None
    theme: str | None
    theme_confidence: float | None
    is_pain_point: bool | None
    pain_score: float | None
    method: str
    taxonomy_version: str
    model_id: str
    tagged_at: datetime


@dataclass(frozen=True)
class TextToEmbed:
    """A unit or comment text with no stored vector yet, and its hash."""

    text_hash: str
    text: str


def pending_comments(conn: duckdb.DuckDBPyConnection, enrich_version: str) -> list[PendingComment]:
    """Comments never enriched, edited since, or enriched with another pipeline version."""
    rows = run_sql(
        conn,
        """
        SELECT c.comment_id, c.text, c.content_hash, c.rating, c.score, c.score_kind, c.language,
            c.source
        FROM comments AS c
        LEFT JOIN comment_enrichment AS e USING (comment_id)
        WHERE e.comment_id IS NULL
            OR e.content_hash <> c.content_hash
            OR e.enrich_version <> ?
        ORDER BY c.comment_id
        """,
        [enrich_version],
    )
    return [PendingComment(*row) for row in rows]


def source_samples(
    conn: duckdb.DuckDBPyConnection, sources: Sequence[str], per_source: int
) -> dict[str, list[str]]:
    """Per source, the texts of its ``per_source`` newest comments (ties broken by id)."""
    if not sources:
        return {}
    rows = run_sql(
        conn,
        """
        SELECT source, text FROM comments
        WHERE source IN (SELECT unnest(?::VARCHAR[]))
        QUALIFY row_number() OVER (
            PARTITION BY source ORDER BY created_at DESC, comment_id
        ) <= ?
        """,
        [list(sources), per_source],
    )
    out: dict[str, list[str]] = {name: [] for name in sources}
    for source, text in rows:
        out[source].append(text)
    return out


def replace_units(
    conn: duckdb.DuckDBPyConnection,
    enrichments: Sequence[CommentEnrichment],
    units: Sequence[Unit],
) -> None:
    """Replace the units, enrichment and tags of the given comments, in one transaction."""
    if not enrichments:
        return
    ids = pa.table({"comment_id": pa.array([e.comment_id for e in enrichments], pa.string())})
    conn.register("batch_ids", ids)
    conn.register("batch_units", records_to_table(units, UNIT_SCHEMA))
    conn.register("batch_enrichment", records_to_table(enrichments, ENRICHMENT_SCHEMA))
    try:
        transaction(
            conn,
            [
                ("DELETE FROM tags WHERE comment_id IN (SELECT comment_id FROM batch_ids)", None),
                ("DELETE FROM units WHERE comment_id IN (SELECT comment_id FROM batch_ids)", None),
                (
                    "DELETE FROM comment_enrichment WHERE comment_id IN (SELECT comment_id FROM batch_ids)",
                    None,
                ),
                ("INSERT INTO units BY NAME SELECT * FROM batch_units", None),
                ("INSERT INTO comment_enrichment BY NAME SELECT * FROM batch_enrichment", None),
            ],
        )
    finally:
        for name in ("batch_ids", "batch_units", "batch_enrichment"):
            conn.unregister(name)


def texts_without_vectors(
    conn: duckdb.DuckDBPyConnection, model_id: str, *, include_comments: bool = True
) -> list[TextToEmbed]:
    """Every unit (and comment) text that has no vector for ``model_id``, in hash order."""
    rows = run_sql(
        conn,
        """
        WITH wanted AS (
            SELECT text_hash, text FROM units
            UNION ALL
            SELECT e.text_hash, c.text
            FROM comment_enrichment AS e
            JOIN comments AS c USING (comment_id)
            WHERE ?
        )
        SELECT text_hash, any_value(text) AS text
        FROM wanted
        WHERE NOT EXISTS (
            SELECT 1 FROM embeddings AS v WHERE v.model_id = ? AND v.text_hash = wanted.text_hash
        )
        GROUP BY text_hash
        ORDER BY text_hash
        """,
        [include_comments, model_id],
    )
    return [TextToEmbed(text_hash, text) for text_hash, text in rows]


def hashes_without_vectors(
    conn: duckdb.DuckDBPyConnection, model_id: str, hashes: Sequence[str]
) -> set[str]:
    """Those of ``hashes`` that have no stored vector for ``model_id``."""
    conn.register("probe_hashes", pa.table({"text_hash": pa.array(sorted(set(hashes)))}))
    try:
        rows = run_sql(
            conn,
            "SELECT p.text_hash FROM probe_hashes AS p WHERE NOT EXISTS ("
            "SELECT 1 FROM embeddings AS v WHERE v.model_id = ? AND v.text_hash = p.text_hash)",
            [model_id],
        )
    finally:
        conn.unregister("probe_hashes")
    return {h for (h,) in rows}


def insert_embeddings(
    conn: duckdb.DuckDBPyConnection, model_id: str, hashes: Sequence[str], vectors: np.ndarray
) -> None:
    """Store vectors; a (model_id, text_hash) already present is left as it is."""
    if not len(hashes):
        return
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = vectors.shape[1]
    table = pa.table(
        {
            "model_id": pa.array([model_id] * len(hashes)),
            "text_hash": pa.array(list(hashes)),
            "dimension": pa.array([dimension] * len(hashes), pa.int32()),
            "vector": pa.ListArray.from_arrays(
                pa.array(np.arange(0, (len(hashes) + 1) * dimension, dimension, dtype=np.int32)),
                pa.array(vectors.ravel()),
            ),
            "created_at": pa.array([now()] * len(hashes), pa.timestamp("us")),
        }
    )
    conn.register("batch_vectors", table)
    try:
        run_sql(conn, "INSERT OR IGNORE INTO embeddings BY NAME SELECT * FROM batch_vectors")
    finally:
        conn.unregister("batch_vectors")


def load_vectors(
    conn: duckdb.DuckDBPyConnection, model_id: str, hashes: Sequence[str]
) -> np.ndarray:
    """Return the stored vectors for ``hashes`` (in that order) as one float32 matrix."""
    if not len(hashes):
        return np.zeros((0, 0), dtype=np.float32)
    wanted = pa.table(
        {"text_hash": pa.array(list(hashes)), "position": pa.array(range(len(hashes)))}
    )
    conn.register("wanted_hashes", wanted)
    try:
        result = conn.execute(
            """
            SELECT w.position, v.vector
            FROM wanted_hashes AS w
            JOIN embeddings AS v ON v.model_id = ? AND v.text_hash = w.text_hash
            ORDER BY w.position
            """,
            [model_id],
        ).to_arrow_table()
    finally:
        conn.unregister("wanted_hashes")
    if result.num_rows != len(hashes):
        raise LookupError(
            f"{len(hashes) - result.num_rows} text(s) have no stored vector for model {model_id!r}"
        )
    vectors = result.column("vector").combine_chunks()
    dimension = len(vectors[0])
    return (
        vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, dimension)
    )


@dataclass(frozen=True)
class Subject:
    """A unit or comment to tag."""

    kind: str
    subject_id: str
    comment_id: str
    text_hash: str
    pattern_hits: list[dict[str, Any]]
    language_supported: bool
    text: str | None = None  # a unit's sentence; None for a comment
    rating: int | None = None  # the comment's stars, NPS or CSAT: its writer's own verdict
    score: int | None = None
    score_kind: str | None = None
    channel: str | None = None  # the comment's channel: its pain prior when it has no rating


def unit_hashes_by_comment(
    conn: duckdb.DuckDBPyConnection, comment_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The text hashes of each comment's units, in sentence order."""
    ids = rows_to_table([(c,) for c in comment_ids], pa.schema([("comment_id", pa.string())]))
    conn.register("wanted_comments", ids)
    try:
        rows = run_sql(
            conn,
            "SELECT u.comment_id, list(u.text_hash ORDER BY u.unit_index) FROM units AS u "
            "SEMI JOIN wanted_comments AS w ON w.comment_id = u.comment_id GROUP BY 1",
        )
    finally:
        conn.unregister("wanted_comments")
    return dict(rows)


def subjects_to_tag(
    conn: duckdb.DuckDBPyConnection, taxonomy_version: str, model_id: str
) -> list[Subject]:
    """Units and comments with no tag, or tagged under another taxonomy version or model."""
    rows = run_sql(
        conn,
        """
        WITH subjects AS (
            SELECT 'unit' AS kind, u.unit_id AS subject_id, u.comment_id, u.text_hash,
                   u.pattern_hits, e.language_supported, u.text
            FROM units AS u JOIN comment_enrichment AS e USING (comment_id)
            UNION ALL
            SELECT 'comment', e.comment_id, e.comment_id, e.text_hash, NULL, e.language_supported,
                   NULL
            FROM comment_enrichment AS e
        )
        SELECT s.kind, s.subject_id, s.comment_id, s.text_hash, s.pattern_hits, s.language_supported,
               s.text, c.rating, c.score, c.score_kind, c.channel
        FROM subjects AS s
        JOIN comments AS c ON c.comment_id = s.comment_id
        LEFT JOIN tags AS t ON t.subject_kind = s.kind AND t.subject_id = s.subject_id
        WHERE t.subject_id IS NULL OR t.taxonomy_version <> ? OR t.model_id <> ?
        ORDER BY s.kind, s.subject_id
        """,
        [taxonomy_version, model_id],
    )
    # A comment's pattern hits are its units' hits; only units with hits are fetched.
    comment_hits: dict[str, list[dict[str, Any]]] = {}
    for comment_id, hits in run_sql(
        conn, "SELECT comment_id, pattern_hits FROM units WHERE pattern_hits::VARCHAR <> '[]'"
    ):
        comment_hits.setdefault(comment_id, []).extend(json.loads(hits))
    return [
        Subject(
            kind,
            subject_id,
            comment_id,
            text_hash,
            json.loads(hits) if kind == "unit" else comment_hits.get(comment_id, []),
            bool(supported),
            text,
            rating,
            score,
            score_kind,
            channel,
        )
        for (
            kind,
            subject_id,
            comment_id,
            text_hash,
            hits,
            supported,
            text,
            rating,
            score,
            score_kind,
            channel,
        ) in rows
    ]


def write_tags(conn: duckdb.DuckDBPyConnection, tags: Sequence[TagRow]) -> None:
    """Insert or overwrite tags, in one transaction."""
    if not tags:
        return
    conn.register("batch_tags", records_to_table(tags, TAG_SCHEMA))
    try:
        transaction(conn, [("INSERT OR REPLACE INTO tags BY NAME SELECT * FROM batch_tags", None)])
    finally:
        conn.unregister("batch_tags")


def pain_point_counts(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """How many units are pain points, per (stage, theme)."""
    rows = run_sql(
        conn,
        "SELECT stage, theme, count(*) FROM tags "
        "WHERE subject_kind = 'unit' AND is_pain_point GROUP BY ALL",
    )
    return {(stage, theme): n for stage, theme, n in rows}


def read_tag_taxonomies(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The taxonomy versions (``Taxonomy.version_id``) the stored tags were made with."""
    rows = run_sql(conn, "SELECT DISTINCT taxonomy_version FROM tags ORDER BY 1")
    return [version for (version,) in rows]
