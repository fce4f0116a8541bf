"""The nightly flow end to end on the demo data: real Prefect server, real DuckDB file."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest
from conftest import demo_sources
from typer.testing import CliRunner

from flows.cli import app
from flows.nightly import nightly

pytestmark = pytest.mark.usefixtures("prefect_server")

SNAPSHOT_QUERIES = {
    "comments": "SELECT * FROM comments ORDER BY comment_id",
    "rejected": "SELECT * FROM rejected ORDER BY ALL",
    "raw_records": "SELECT count(*), count(DISTINCT (source, external_id)) FROM raw.records",
    "units": "SELECT count(*), count(DISTINCT text_hash) FROM units",
    "tags": "SELECT subject_id, stage, theme, is_pain_point FROM tags ORDER BY ALL",
    "embeddings": "SELECT count(*) FROM embeddings",
    "hassles": "SELECT * EXCLUDE (centroid) FROM hassles ORDER BY hassle_id",
    "hassle_members": "SELECT * FROM hassle_members ORDER BY ALL",
    "cluster_runs": "SELECT run_id, input_fingerprint FROM cluster_runs ORDER BY ALL",
    # A rerun ranks again; what it publishes must say what the first run said.
    "latest_ranking": "SELECT hassle_id, rank, total_score, change FROM v_latest_hassles "
    "UNION ALL SELECT hassle_id, rank, total_score, change FROM v_latest_parent_hassles "
    "ORDER BY ALL",
}


def snapshot(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in SNAPSHOT_QUERIES.items()}


def test_running_the_nightly_flow_twice_changes_nothing_the_second_time(
    tmp_path, write_config, demo_dir
):
    config = write_config(demo_sources(demo_dir))
    warehouse = tmp_path / "warehouse.duckdb"

    first = nightly(str(config))
    before = snapshot(warehouse)
    second = nightly(str(config))
    after = snapshot(warehouse)

    assert after == before
    assert before["hassles"] and before["hassle_members"]
    assert {change for *_, change in before["latest_ranking"]} == {"new"}
    assert second["stages"]["enrich"]["comments_enriched"] == 0
    assert second["stages"]["cluster"]["skipped"] is True
    ingest = second["stages"]["ingest"]
    assert (
        ingest["comments_new"],
        ingest["comments_updated"],
        ingest["files_read"],
        ingest["rejected_rows"],
    ) == (0, 0, 0, 0)
    assert ingest["files_skipped"] == 3
    assert first["stages"]["ingest"]["comments_new"] == len(before["comments"]) > 3000 - 10
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        runs = conn.execute("SELECT status, stage_counts FROM runs ORDER BY started_at").fetchall()
    assert [status for status, _ in runs] == ["completed", "completed"]
    assert json.loads(runs[1][1])["ingest"]["comments_new"] == 0


def test_every_good_demo_record_loads_and_every_bad_one_is_accounted_for(nightly_demo, demo_dir):
    folder, _, _ = nightly_demo
    with open(demo_dir / "truth.csv", newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        loaded = {
            (c, e) for c, e in conn.execute("SELECT channel, external_id FROM comments").fetchall()
        }
        quarantined = conn.execute(
            "SELECT count(*) FROM rejected WHERE action = 'quarantined'"
        ).fetchone()[0]
        customers = conn.execute("SELECT count(DISTINCT customer_id) FROM comments").fetchone()[0]
        cross = conn.execute(
            "SELECT count(*) FROM (SELECT customer_id FROM comments GROUP BY 1 HAVING count(DISTINCT channel) > 1)"
        ).fetchone()[0]
    channel = {"reviews": "review", "tickets": "ticket", "surveys": "survey"}
    good = {
        (channel.get(t["channel"], t["channel"]), t["external_id"])
        for t in truth
        if not t["bad_record"]
    }
    assert good <= loaded
    bad = [t for t in truth if t["bad_record"]]
    # Repaired ones (html, too long) load; the rest are quarantined, one row each.
    repaired = [t for t in bad if t["bad_record"] in ("html", "too_long")]
    assert quarantined == len(bad) - len(repaired)
    assert 900 <= customers <= 1100 and cross >= 0.15 * customers


def test_the_cli_runs_the_flow_and_queries_the_warehouse(tmp_path, write_config, demo_dir):
    config = write_config(demo_sources(demo_dir))
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "warehouse:" in result.output and str(
        tmp_path / "warehouse.duckdb"
    ) in result.output.replace("\n", "")

    result = runner.invoke(
        app,
        [
            "sql",
            "select channel, count(*) from comments group by 1 order by 1",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "review" in result.output and "survey" in result.output and "ticket" in result.output


def test_the_cli_refuses_a_broken_config_before_any_work(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        f"warehouse: {tmp_path / 'w.duckdb'}\nsources:\n  - {{name: x, channel: review, path: a, format: xml, fields: {{}}}}\n"
    )
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "sources[0].format" in result.output and str(config) in result.output.replace("\n", "")
    assert not (tmp_path / "w.duckdb").exists()
