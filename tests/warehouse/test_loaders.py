"""Loaders on a small real warehouse: sources the config no longer names, runs' stages."""

from flows.ingest import describe_unconfigured
from warehouse.connection import connect_warehouse
from warehouse.core import run_sql
from warehouse.loaders import (
    UnconfiguredSource,
    enter_stage,
    finish_run,
    mark_interrupted_runs,
    read_unconfigured_sources,
    start_run,
)

COMMENT = (
    "INSERT INTO comments (comment_id, source, channel, external_id, created_at, text, "
    "content_hash, source_file, source_line, ingested_at, updated_at) VALUES "
    "(?, ?, 'survey', ?, now(), 'slow refund', ?, 's.csv', 2, now(), now())"
)


def test_a_removed_or_renamed_source_is_reported_with_what_hints_at_a_rename(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    # 'surveys' renamed 'nps_surveys' (the same records read again), 'old_reviews' removed:
    # its ids 1-2 are numbers two configured sources use too, for other records.
    for n in range(3):
        run_sql(conn, COMMENT, [f"s{n}", "surveys", f"S{n}", "h"])
        run_sql(conn, COMMENT, [f"n{n}", "nps_surveys", f"S{n}", "h"])
    for n in range(1, 3):
        run_sql(conn, COMMENT, [f"r{n}", "old_reviews", str(n), "h"])
        run_sql(conn, COMMENT, [f"t{n}", "tickets", str(n), "other"])
        run_sql(conn, COMMENT, [f"q{n}", "nps_surveys", str(n), "another"])

    gone = read_unconfigured_sources(conn, ["nps_surveys", "tickets"])

    assert gone == [
        UnconfiguredSource("old_reviews", 2, 0, ""),
        UnconfiguredSource("surveys", 3, 3, "nps_surveys"),
    ]
    assert (
        read_unconfigured_sources(conn, ["nps_surveys", "surveys", "old_reviews", "tickets"]) == []
    )
    removed, renamed = map(describe_unconfigured, gone)
    assert "'old_reviews'" in removed and "still count" in removed and "twice" not in removed
    assert removed.endswith("if it is retired, `hasslemap forget-source old_reviews` deletes them")
    assert renamed.endswith(
        "so they count twice: if 'surveys' was renamed, `hasslemap forget-source surveys` "
        "deletes them"
    )


def test_a_run_killed_mid_stage_is_marked_failed_at_that_stage(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    start_run(conn, "killed", "nightly")
    enter_stage(conn, "killed", "ingest")
    enter_stage(conn, "killed", "cluster")  # then kill -9: nothing more is recorded
    start_run(conn, "done", "nightly")
    enter_stage(conn, "done", "publish")
    finish_run(conn, "done", status="completed", stage_counts={})
    enter_stage(conn, "done", "alerts")  # a finished run's row is left as it is

    assert mark_interrupted_runs(conn) == 1

    runs = run_sql(conn, "SELECT run_id, status, failed_stage FROM runs ORDER BY run_id")
    assert runs == [("done", "completed", None), ("killed", "failed", "cluster")]
