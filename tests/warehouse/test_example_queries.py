"""docs/warehouse.md stays true: its example queries run, and every column is documented.

The doc is parsed at import time, so each ```sql block becomes its own test, named by the
``### question`` heading above it. Queries run against the nightly demo warehouse, whose
hassles are grouped under parents (the ``two_level_demo`` fixture), opened read-only as an
analyst would, and must also return rows on a one-level warehouse (one from before parents,
``one_level_warehouse``), where only the parent example is empty. The views' two levels are
checked against ``hassle_members`` and ``hassle_runs`` directly.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
DOC_TEXT = DOC.read_text(encoding="utf-8")

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_FENCE = re.compile(r"^```(\w*)\s*$")


def _sql_blocks(text: str) -> list[tuple[str, str]]:
    """(heading above it, SQL) for every ```sql block, in order."""
    blocks: list[tuple[str, str]] = []
    heading = ""
    lang: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        fence = _FENCE.match(line)
        if lang is None:
            if fence:
                lang, body = fence.group(1).lower(), []
                continue
            match = _HEADING.match(line)
            if match:
                heading = match.group(2)
        elif fence and not fence.group(1):
            if lang == "sql":
                blocks.append((heading, "\n".join(body)))
            lang = None
        else:
            body.append(line)
    return blocks


def _section(text: str, heading: str) -> str:
    """The text under the heading titled exactly ``heading``, up to the next heading as high."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and match.group(2) == heading:
            level = len(match.group(1))
            end = next(
                (
                    i
                    for i in range(start + 1, len(lines))
                    if (m := _HEADING.match(lines[i])) and len(m.group(1)) <= level
                ),
                len(lines),
            )
            return "\n".join(lines[start + 1 : end])
    return ""


EXAMPLES = _sql_blocks(_section(DOC_TEXT, "Example queries"))
COLUMN_REFERENCE = _section(DOC_TEXT, "Column reference")


def test_the_doc_has_eight_to_ten_example_queries() -> None:
    assert 8 <= len(EXAMPLES) <= 10, [heading for heading, _ in EXAMPLES]
    # ```sql blocks are for the examples only: every one in the doc is one of them.
    assert len(_sql_blocks(DOC_TEXT)) == len(EXAMPLES)
    headings = [heading for heading, _ in EXAMPLES]
    assert len(set(headings)) == len(headings), "each question gets one sql block"


@pytest.fixture(scope="module")
def demo_warehouse(two_level_demo) -> Iterator[duckdb.DuckDBPyConnection]:
    """The two-level demo warehouse, read-only."""
    folder, _config, _result = two_level_demo
    conn = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def analyst_snapshot(two_level_demo) -> Iterator[duckdb.DuckDBPyConnection]:
    """The analyst snapshot the two-level demo run wrote, read-only."""
    _folder, _config, result = two_level_demo
    conn = duckdb.connect(result["stages"]["snapshot"]["path"], read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def one_level_warehouse(
    nightly_demo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The demo warehouse as one from before parents (issue 12): children only, read-only."""
    folder, _config, _result = nightly_demo
    copy = tmp_path_factory.mktemp("one_level") / "warehouse.duckdb"
    shutil.copyfile(folder / "warehouse.duckdb", copy)
    with duckdb.connect(str(copy)) as conn:
        parents = [
            h
            for (h,) in conn.execute(
                "SELECT hassle_id FROM hassles WHERE level = 'parent'"
            ).fetchall()
        ]
        assert parents, "the demo has parents to remove"
        for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
            "'main' AND column_name IN ('hassle_id', 'parent_id') AND table_name IN (SELECT "
            "table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')"
        ).fetchall():
            if column == "hassle_id":
                conn.execute(
                    f'DELETE FROM "{table}" WHERE hassle_id IN (SELECT unnest(?::VARCHAR[]))',
                    [parents],
                )
            else:
                conn.execute(f'UPDATE "{table}" SET parent_id = NULL')
    conn = duckdb.connect(str(copy), read_only=True)
    yield conn
    conn.close()


@pytest.mark.parametrize(
    "sql", [sql for _, sql in EXAMPLES], ids=[heading for heading, _ in EXAMPLES]
)
def test_example_query_runs_on_a_one_level_warehouse(
    one_level_warehouse: duckdb.DuckDBPyConnection, sql: str
) -> None:
    rows = one_level_warehouse.execute(sql).fetchall()
    if "v_latest_parent_hassles" in sql:
        assert rows == [], "without parents, the parent example returns nothing (as documented)"
    else:
        assert rows, "the example returned no rows on a one-level warehouse"


@pytest.mark.parametrize(
    "sql", [sql for _, sql in EXAMPLES], ids=[heading for heading, _ in EXAMPLES]
)
def test_example_query_runs_on_the_analyst_snapshot(
    analyst_snapshot: duckdb.DuckDBPyConnection, sql: str
) -> None:
    assert analyst_snapshot.execute(sql).fetchall()


@pytest.mark.parametrize(
    "sql", [sql for _, sql in EXAMPLES], ids=[heading for heading, _ in EXAMPLES]
)
def test_example_query_runs_and_returns_rows(
    demo_warehouse: duckdb.DuckDBPyConnection, sql: str
) -> None:
    assert "comments.text" not in sql.replace(" ", ""), "examples quote redacted text only"
    rows = demo_warehouse.execute(sql).fetchall()
    assert rows, "the example returned no rows on the demo warehouse"


def _relations(conn: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = ? ORDER BY table_name",
            [kind],
        ).fetchall()
    ]


@pytest.mark.parametrize("kind", ["VIEW", "BASE TABLE"])
def test_every_column_is_documented(demo_warehouse: duckdb.DuckDBPyConnection, kind: str) -> None:
    relations = _relations(demo_warehouse, kind)
    if kind == "VIEW":
        assert relations, "the demo warehouse has no views"
    missing = []
    for relation in relations:
        section = _section(COLUMN_REFERENCE, f"`{relation}`")
        if not section:
            missing.append(f"{relation} (no section)")
            continue
        for column, *_ in demo_warehouse.execute(f'DESCRIBE "{relation}"').fetchall():
            if f"`{column}`" not in section:
                missing.append(f"{relation}.{column}")
    assert not missing, f"not in docs/warehouse.md's column reference: {missing}"


def _latest_parent_of(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT hassle_id, parent_id FROM hassle_runs WHERE parent_id IS NOT NULL AND run_id = "
            "(SELECT max_by(run_id, clustered_at) FROM cluster_runs)"
        ).fetchall()
    )


def test_the_hassle_views_show_both_levels(demo_warehouse: duckdb.DuckDBPyConnection) -> None:
    conn = demo_warehouse
    parent_of = _latest_parent_of(conn)
    assert parent_of, "the two-level demo has parents"
    children = conn.execute(
        "SELECT hassle_id, level, parent_id, parent_label, parent_rank FROM v_latest_hassles"
    ).fetchall()
    parents = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT hassle_id, label, rank, children, child_ids FROM v_latest_parent_hassles"
        ).fetchall()
    }
    assert {level for _, level, *_ in children} == {"child"}
    for hassle_id, _, parent_id, parent_label, parent_rank in children:
        assert parent_id == parent_of[hassle_id]
        assert (parent_label, parent_rank) == parents[parent_id][:2]
    for parent_id, (_, _, count, child_ids) in parents.items():
        assert child_ids == [
            h
            for (h,) in conn.execute(
                "SELECT hassle_id FROM v_latest_hassles WHERE parent_id = ? ORDER BY rank",
                [parent_id],
            ).fetchall()
        ]
        assert count == len(child_ids) > 0
    assert sum(p[2] for p in parents.values()) == len(children)


def _parent_trend(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "SELECT hassle_id, day, comments FROM v_hassle_trend WHERE level = 'parent'"
    ).fetchall()


def _parent_mentions_a_day(
    conn: duckdb.DuckDBPyConnection, parent_of: dict[str, str]
) -> list[tuple]:
    """A parent's comments a day, each once, over the children it is ranked on: its specific
    children when it has one, else all of them (docs/ranking.md)."""
    generic = {
        h
        for (h,) in conn.execute(
            "SELECT hassle_id FROM hassle_rankings WHERE generic AND run_id = "
            "(SELECT max_by(run_id, ranked_at) FROM hassle_rankings)"
        ).fetchall()
    }
    with_specific = {parent_of[h] for h in parent_of if h not in generic}
    ranked_on = [h for h, p in parent_of.items() if h not in generic or p not in with_specific]
    return conn.execute(
        """
        SELECT r.parent_id, c.created_at::DATE, count(DISTINCT c.comment_id)
        FROM hassle_members AS m
        JOIN hassle_runs AS r USING (run_id, hassle_id)
        JOIN units AS u USING (unit_id)
        JOIN comments AS c ON c.comment_id = u.comment_id
        WHERE m.run_id = (SELECT max_by(run_id, clustered_at) FROM cluster_runs)
            AND m.hassle_id IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY ALL
        """,
        [ranked_on],
    ).fetchall()


def test_a_parents_trend_leaves_out_generic_children_beside_specific_ones(
    two_level_demo, tmp_path: Path
) -> None:
    folder, _config, _result = two_level_demo
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(folder / "warehouse.duckdb", copy)
    with duckdb.connect(str(copy)) as conn:
        parent_of = _latest_parent_of(conn)
        children_of: dict[str, list[str]] = {}
        for child, parent in sorted(parent_of.items()):
            children_of.setdefault(parent, []).append(child)
        mixed, *rest = [kids for kids in children_of.values() if len(kids) > 1]
        all_generic = rest[0] if rest else []
        # One child of a parent too unspecific beside its specific siblings; every child of
        # another parent too unspecific (that parent still counts them all).
        conn.execute(
            "UPDATE hassle_rankings SET generic = hassle_id IN (SELECT unnest(?::VARCHAR[])) "
            "WHERE run_id = (SELECT max_by(run_id, ranked_at) FROM hassle_rankings)",
            [[mixed[0], *all_generic]],
        )
        trend = _parent_trend(conn)
        assert sorted(trend) == sorted(_parent_mentions_a_day(conn, parent_of))
        [(with_generic,)] = conn.execute(
            "SELECT count(DISTINCT u.comment_id) FROM hassle_members AS m "
            "JOIN units AS u USING (unit_id) WHERE m.hassle_id IN (SELECT unnest(?::VARCHAR[])) "
            "AND m.run_id = (SELECT max_by(run_id, clustered_at) FROM cluster_runs)",
            [mixed],
        ).fetchall()
        counted = sum(n for parent, _day, n in trend if parent == parent_of[mixed[0]])
        assert 0 < counted < with_generic


def test_trend_examples_and_journeys_cover_parents(
    demo_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    conn = demo_warehouse
    parent_of = _latest_parent_of(conn)
    assert sorted(_parent_trend(conn)) == sorted(_parent_mentions_a_day(conn, parent_of))
    # So a hassle's days add up to the comments its ranking counts, at both levels.
    totals = conn.execute(
        """
        SELECT t.hassle_id, t.comments, r.comments
        FROM (SELECT hassle_id, sum(comments) AS comments FROM v_hassle_trend GROUP BY 1) AS t
        JOIN (
            SELECT hassle_id, comments FROM v_latest_hassles
            UNION ALL SELECT hassle_id, comments FROM v_latest_parent_hassles
        ) AS r USING (hassle_id)
        """
    ).fetchall()
    assert len(totals) == len(parent_of) + len(set(parent_of.values()))
    assert [(h, a) for h, a, b in totals if a != b] == []
    children_trend = conn.execute(
        "SELECT count(DISTINCT hassle_id) FROM v_hassle_trend WHERE level = 'child'"
    ).fetchone()[0]
    assert children_trend == len(parent_of)
    # Quotes of both levels; journeys and the matrix name the parents too.
    levels = conn.execute("SELECT DISTINCT level FROM v_hassle_examples").fetchall()
    assert sorted(levels) == [("child",), ("parent",)]
    for hassle_ids, parent_ids in conn.execute(
        "SELECT hassle_ids, parent_hassle_ids FROM v_customer_journeys WHERE len(hassle_ids) > 0"
    ).fetchall():
        assert parent_ids == sorted({parent_of[h] for h in hassle_ids})
    # A comment in a hassle holds a pain-point sentence, whatever its whole reads as.
    [(in_hassles, without_pain_points, read_whole_as_no_problem)] = conn.execute(
        "SELECT count(*), count(*) FILTER (pain_points = 0), count(*) FILTER (NOT is_pain_point) "
        "FROM v_customer_journeys WHERE len(hassle_ids) > 0"
    ).fetchall()
    assert in_hassles > 0 and without_pain_points == 0
    assert read_whole_as_no_problem < in_hassles
    [(hassles, parents)] = conn.execute(
        "SELECT max(hassles), max(parent_hassles) FROM v_stage_theme_matrix"
    ).fetchall()
    assert 0 < parents <= hassles
