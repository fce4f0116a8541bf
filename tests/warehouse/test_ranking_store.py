"""hassle_rankings with its parts long-form: written per run, pivoted for analysts, migrated."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import duckdb
import pytest
from conftest import ranking_row

from warehouse import migrate
from warehouse import ranking as store
from warehouse.connection import connect_warehouse, run_sql
from warehouse.views import install_views

STAMP = datetime(2026, 3, 1, 2, 0)


@pytest.fixture
def conn(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    run_sql(
        conn,
        "INSERT INTO hassles (hassle_id, label, keyphrases, quote_unit_ids, units, status, "
        "first_seen, last_seen, first_run_id, last_run_id, centroid) VALUES "
        "('H-0001', 'a', [], [], 3, 'new', now(), now(), 'c-1', 'c-1', [1.0]), "
        "('H-0002', 'b', [], [], 3, 'active', now(), now(), 'c-1', 'c-1', [1.0])",
    )
    yield conn
    conn.close()


def test_parts_are_stored_long_form_and_pivoted_for_analysts(conn):
    rows = [
        ranking_row("H-0001", 1, reach=1.0, severity=0.5, volume=0.25),
        ranking_row("H-0002", 2, reach=0.5, severity=0.25),
    ]
    store.write_rankings(conn, "run-1", rows)
    stored = run_sql(conn, "SELECT hassle_id, factor, value FROM hassle_ranking_parts ORDER BY ALL")
    assert stored == [
        ("H-0001", "reach", 1.0),
        ("H-0001", "severity", 0.5),
        ("H-0001", "volume", 0.25),
        ("H-0002", "reach", 0.5),
        ("H-0002", "severity", 0.25),
    ]
    view = run_sql(
        conn,
        "SELECT hassle_id, reach_score, severity_score, value_score, parts['volume'] "
        "FROM v_latest_hassles ORDER BY rank",
    )
    assert view == [("H-0001", 1.0, 0.5, None, 0.25), ("H-0002", 0.5, 0.25, None, None)]
    latest = store.read_latest_ranking(conn)
    assert [r.hassle_id for r in latest] == ["H-0001", "H-0002"]
    assert latest[0] == rows[0]  # every column and part reads back as written


def test_after_a_clustering_that_found_no_hassle_the_latest_views_are_empty(conn):
    """A window slid past every complaint ranks nothing: yesterday's top is not today's."""
    store.write_rankings(conn, "run-1", [ranking_row("H-0001", 1, reach=1.0)])
    assert [r[0] for r in run_sql(conn, "SELECT hassle_id FROM v_latest_hassles")] == ["H-0001"]
    run_sql(
        conn,
        "INSERT INTO cluster_runs (run_id, input_fingerprint, window_start, window_end, model_id, "
        "units_in, units_clustered, units_core, coverage, hassles, hassles_new, hassles_retired, "
        "min_cluster_size, fitted_on, params, timings, clustered_at) VALUES ('run-2', 'f', "
        "now(), now(), 'm', 2, 0, 0, 0.0, 0, 0, 2, 10, 2, '{}', '{}', "
        "(SELECT max(ranked_at) FROM hassle_rankings) + INTERVAL 1 MINUTE)",
    )
    assert run_sql(conn, "SELECT count(*) FROM v_latest_hassles") == [(0,)]
    assert run_sql(conn, "SELECT count(*) FROM v_latest_parent_hassles") == [(0,)]
    # The next night that finds hassles ranks them again.
    later_stamp = ranking_row().ranked_at + timedelta(minutes=2)
    later = [
        dataclasses.replace(ranking_row("H-0002", 1, "run-3", reach=1.0), ranked_at=later_stamp)
    ]
    store.write_rankings(conn, "run-3", later)
    assert [r[0] for r in run_sql(conn, "SELECT hassle_id FROM v_latest_hassles")] == ["H-0002"]


def test_a_failed_runs_ranking_is_never_the_latest(conn):
    """A run that failed after ranking keeps its rows; the views show the run before it."""
    store.write_rankings(conn, "run-1", [ranking_row("H-0001", 1, reach=1.0)])
    later_stamp = ranking_row().ranked_at + timedelta(minutes=2)
    failed = [
        dataclasses.replace(ranking_row("H-0002", 1, "run-2", reach=1.0), ranked_at=later_stamp)
    ]
    store.write_rankings(conn, "run-2", failed)
    assert [r[0] for r in run_sql(conn, "SELECT hassle_id FROM v_latest_hassles")] == ["H-0002"]
    run_sql(
        conn,
        "INSERT INTO runs (run_id, flow_name, started_at, status, failed_stage) "
        "VALUES ('run-2', 'nightly', now(), 'failed', 'publish')",
    )
    assert [r[0] for r in run_sql(conn, "SELECT hassle_id FROM v_latest_hassles")] == ["H-0001"]
    days = run_sql(conn, "SELECT DISTINCT hassle_id FROM v_hassle_trend WHERE level = 'child'")
    assert ("H-0002",) not in days


def test_writing_a_run_again_replaces_its_rows_and_parts(conn):
    store.write_rankings(conn, "run-1", [ranking_row("H-0001", 1, reach=1.0, severity=0.5)])
    store.write_rankings(conn, "run-2", [ranking_row("H-0001", 1, "run-2", reach=0.5)])
    store.write_rankings(conn, "run-1", [ranking_row("H-0002", 1, reach=0.25)])
    counts = run_sql(
        conn,
        "SELECT run_id, hassle_id, count(*) FROM hassle_ranking_parts GROUP BY ALL ORDER BY ALL",
    )
    assert counts == [("run-1", "H-0002", 1), ("run-2", "H-0001", 1)]
    assert run_sql(conn, "SELECT run_id, hassle_id FROM hassle_rankings ORDER BY ALL") == [
        ("run-1", "H-0002"),
        ("run-2", "H-0001"),
    ]


def test_migration_009_moves_the_part_columns_into_the_long_form(tmp_path, monkeypatch):
    every = migrate.list_migrations()
    before = [m.name for m in every].index("ranking_parts")
    conn = duckdb.connect(str(tmp_path / "old.duckdb"))
    monkeypatch.setattr(migrate, "list_migrations", lambda: every[:before])
    migrate.apply_migrations(conn)
    run_sql(
        conn,
        "INSERT INTO hassle_rankings (run_id, rank, hassle_id, label, generic, total_score, "
        "reach_score, severity_score, value_score, weights, customers, comments, severity_mean, "
        "severity_p90, trend, trend_7d, trend_30d, channels, channel_count, repeat_customers, "
        "change, example_unit_ids, ranked_at) VALUES ('r', 1, 'H-0001', 'x', false, 0.6, 0.8, "
        "0.4, NULL, '{}', 4, 5, 0.5, 0.6, 'steady', 'steady', 'steady', '{}', 1, 0, 'new', [], "
        "now())",
    )
    monkeypatch.setattr(migrate, "list_migrations", lambda: every)
    migrate.apply_migrations(conn)
    install_views(conn)
    assert run_sql(conn, "SELECT factor, value FROM hassle_ranking_parts ORDER BY factor") == [
        ("reach", 0.8),
        ("severity", 0.4),
    ]
    columns = {
        name for (name,) in run_sql(conn, "SELECT name FROM pragma_table_info('hassle_rankings')")
    }
    assert "total_score" in columns and not any(
        c.endswith("_score") and c != "total_score" for c in columns
    )
    assert run_sql(
        conn, "SELECT reach_score, severity_score, value_score FROM v_hassle_ranking_parts"
    ) == [(0.8, 0.4, None)]
    conn.close()


def test_typed_rows_have_the_columns_of_the_table(conn):
    table = [
        name for (name,) in run_sql(conn, "SELECT name FROM pragma_table_info('hassle_rankings')")
    ]
    assert sorted(store.RANKING_COLUMNS) == sorted(table)
    assert "parts" in {f.name for f in dataclasses.fields(store.RankingRow)}


def _add_comment(
    conn,
    comment_id,
    created,
    *,
    channel="review",
    customer=None,
    value=None,
    ingested=STAMP,
    source="s",
    product=None,
):
    """One comment, its text 'x'."""
    run_sql(
        conn,
        "INSERT INTO comments (comment_id, source, channel, external_id, customer_id, "
        "customer_value, created_at, text, content_hash, source_file, source_line, "
        "ingested_at, updated_at, product) VALUES (?, ?, ?, ?, ?, ?, ?, 'x', 'h', 'f.csv', 1, "
        "?, ?, ?)",
        [
            comment_id,
            source,
            channel,
            comment_id,
            customer,
            value,
            created,
            ingested,
            ingested,
            product,
        ],
    )


def _add_hassle_of(conn, comment_ids):
    """Hassle H-0001 of clustering 'r', holding each comment's one sentence."""
    run_sql(
        conn,
        "INSERT INTO hassles (hassle_id, label, keyphrases, quote_unit_ids, units, status, "
        "first_seen, last_seen, first_run_id, last_run_id, centroid) "
        "VALUES ('H-0001', 'fees', [], [], ?, 'active', ?, ?, 'r', 'r', [0.0])",
        [len(comment_ids), STAMP, STAMP],
    )
    for comment_id in comment_ids:
        run_sql(
            conn,
            "INSERT INTO units VALUES (?, ?, 0, 0, 1, 'x', 'h', [], [], false, '{}', 0, 0.5, '{}')",
            [f"{comment_id}:0", comment_id],
        )
        run_sql(
            conn,
            "INSERT INTO hassle_members VALUES ('r', ?, 'H-0001', 1.0, 'core')",
            [f"{comment_id}:0"],
        )


def test_run_figures_count_a_comment_without_a_customer_id_as_a_customer_of_its_own(tmp_path):
    # The hassles count customers so; the report's overview said "Customers 0" beside hassles
    # of hundreds when no source mapped a customer id.
    conn = connect_warehouse(tmp_path / "w.duckdb")
    for comment_id, customer in [("c1", None), ("c2", None), ("c3", "u1"), ("c4", "u1")]:
        _add_comment(conn, comment_id, STAMP, customer=customer)
    window = store.ClusterRun("r", datetime(2026, 1, 1), STAMP, 0, 0, 0, 0)
    figures = store.read_run_figures(conn, window)
    assert (figures.comments, figures.customers) == (4, 3)
    conn.close()


def test_a_record_read_again_counts_once_among_the_quarantined_and_repaired(tmp_path):
    # A file edited or grown is read again: its bad records are recorded under its new version.
    conn = connect_warehouse(tmp_path / "w.duckdb")
    rows = [
        ("r.csv", 7, "quarantined", "bad_date", "v1"),
        ("r.csv", 7, "quarantined", "bad_date", "v2"),
        ("r.csv", 9, "repaired", "html_stripped", "v1"),
        ("r.csv", 9, "repaired", "truncated", "v1"),  # one record, two repairs
        ("r.csv", 9, "repaired", "html_stripped", "v2"),
        ("t.csv", 0, "quarantined", "missing_columns", "v1"),
    ]
    for file, line, action, code, version in rows:
        run_sql(
            conn,
            "INSERT INTO rejected VALUES ('reviews', ?, ?, NULL, ?, ?, 'why', NULL, ?, ?)",
            [file, line, action, code, version, STAMP],
        )
    window = store.ClusterRun("r", datetime(2026, 1, 1), STAMP, 0, 0, 0, 0)
    figures = store.read_run_figures(conn, window)
    assert (figures.quarantined, figures.repaired) == (2, 1)
    conn.close()


def test_comment_times_are_read_per_source_oldest_first(tmp_path):
    # Two sources of one channel are two strata: one may stop while the other goes on.
    conn = connect_warehouse(tmp_path / "w.duckdb")
    rows = [("c1", "app", 3), ("c2", "shop", 2), ("c3", "app", 1), ("c4", "shop", 5)]
    for comment_id, source, days in rows:
        stamp = datetime(2026, 2, 20 + days)
        _add_comment(conn, comment_id, stamp, source=source, ingested=stamp)
    times = store.read_comment_times(conn, (datetime(2026, 2, 1), STAMP), store.ReportFilter())
    assert sorted(times) == ["app", "shop"]
    assert [str(t)[:10] for t in times["shop"]] == ["2026-02-22", "2026-02-25"]
    assert [str(t)[:10] for t in times["app"]] == ["2026-02-21", "2026-02-23"]
    empty = store.read_comment_times(conn, (STAMP, STAMP), store.ReportFilter())
    assert empty == {}
    conn.close()


def test_a_mention_carries_its_customers_value_from_any_of_their_comments(tmp_path):
    # Value at risk sums the hassle's customers' values: a customer who raised it in a review
    # is valued by the value their tickets carry, not left at nothing.
    conn = connect_warehouse(tmp_path / "w.duckdb")
    comments = [
        ("t1", "ticket", "u1", 900.0, datetime(2026, 2, 1)),  # a ticket outside the hassle
        ("r1", "review", "u1", None, datetime(2026, 2, 3)),
        ("t2", "ticket", "u2", 50.0, datetime(2026, 2, 4)),
        ("t3", "ticket", "u2", 70.0, datetime(2026, 2, 20)),  # after the report's end
        ("r2", "review", None, None, datetime(2026, 2, 5)),
        ("t4", "ticket", None, 30.0, datetime(2026, 2, 6)),
    ]
    for comment_id, channel, customer, value, created in comments:
        _add_comment(conn, comment_id, created, channel=channel, customer=customer, value=value)
    _add_hassle_of(conn, ["r1", "t2", "r2", "t4"])
    until = store.ReportFilter(until=datetime(2026, 2, 10).date())
    mentions = store.read_mentions(conn, "r", until)
    values = {m.comment_id: m.customer_value for m in mentions}
    assert values == {"r1": 900.0, "t2": 50.0, "r2": None, "t4": 30.0}
    # Each carries its source, the stratum its trends are compared within.
    assert {m.stratum for m in mentions} == {"s"}
    conn.close()


def test_a_product_filter_keeps_that_products_mentions_and_volume_only(tmp_path):
    # `hasslemap report --product X` reads every figure through these: a filter dropped on
    # the way gave an unfiltered report under a "product: X" header.
    conn = connect_warehouse(tmp_path / "w.duckdb")
    for comment_id, product in (("h1", "Hub"), ("h2", "Hub"), ("c1", "Cam")):
        _add_comment(conn, comment_id, datetime(2026, 2, 20), product=product)
    _add_hassle_of(conn, ["h1", "h2", "c1"])
    hub = store.ReportFilter(products=("Hub",))
    assert sorted(m.comment_id for m in store.read_mentions(conn, "r", hub)) == ["h1", "h2"]
    times = store.read_comment_times(conn, (datetime(2026, 2, 1), STAMP), hub)
    assert {source: len(t) for source, t in times.items()} == {"s": 2}
    every = store.read_mentions(conn, "r", store.ReportFilter())
    assert sorted(m.comment_id for m in every) == ["c1", "h1", "h2"]
    conn.close()
