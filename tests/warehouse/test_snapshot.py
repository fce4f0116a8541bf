"""The analyst snapshot: readable while the warehouse is locked, swapped in atomically."""

from __future__ import annotations

import subprocess
import sys

import duckdb
from conftest import copy_workspace, demo_sources

from warehouse.connection import connect_warehouse
from warehouse.snapshot import SNAPSHOT_TABLES, write_snapshot

READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM v_latest_hassles").fetchone()[0])
"""


def read_in_another_process(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, timeout=60
    )


def test_analysts_read_the_snapshot_while_a_run_holds_the_warehouse(
    nightly_demo, demo_dir, tmp_path
):
    folder, _, result = nightly_demo
    copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    snapshot = tmp_path / "analyst.duckdb"
    writer = connect_warehouse(tmp_path / "warehouse.duckdb")  # as a nightly run would
    try:
        write_snapshot(writer, snapshot, "run-1")
        hassles = writer.execute("SELECT count(*) FROM v_latest_hassles").fetchone()[0]

        # The live file is locked for every other process, the snapshot is not.
        blocked = read_in_another_process(tmp_path / "warehouse.duckdb")
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()
        reader = read_in_another_process(snapshot)
        assert reader.returncode == 0, reader.stderr
        assert int(reader.stdout) == hassles > 0

        # A reader holding the old snapshot keeps its view while a new one is swapped in.
        with duckdb.connect(str(snapshot), read_only=True) as held:
            before = held.execute("SELECT run_id FROM snapshot_info").fetchone()
            write_snapshot(writer, snapshot, "run-2")
            assert held.execute("SELECT run_id FROM snapshot_info").fetchone() == before
        with duckdb.connect(str(snapshot), read_only=True) as fresh:
            assert fresh.execute("SELECT run_id FROM snapshot_info").fetchone() == ("run-2",)
    finally:
        writer.close()
    assert not list(tmp_path.glob(".analyst.duckdb*"))  # no partial file left behind


def test_the_snapshot_carries_no_raw_customer_text(nightly_demo):
    _, _, result = nightly_demo
    with duckdb.connect(result["stages"]["snapshot"]["path"], read_only=True) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        }
        comment_columns = {c for c, *_ in conn.execute("DESCRIBE comments").fetchall()}
        unit_columns = {c for c, *_ in conn.execute("DESCRIBE units").fetchall()}
        views = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_type = 'VIEW'"
        ).fetchone()[0]
        ranked = conn.execute("SELECT count(*) FROM v_latest_hassles").fetchone()[0]
    assert tables == set(SNAPSHOT_TABLES) | {"snapshot_info"}
    assert "embeddings" not in tables and "text" not in comment_columns
    assert not {"text", "lemmas", "noun_chunks"} & unit_columns
    assert views == 5 and ranked > 0


def test_a_failed_run_keeps_the_good_snapshot(nightly_demo, demo_dir, tmp_path, monkeypatch):
    import pytest

    from flows import nightly as nightly_module

    folder, _, _ = nightly_demo
    config = copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    config.write_text(config.read_text() + f"report:\n  out_dir: {tmp_path / 'reports'}\n")
    good = nightly_module.nightly(str(config))["stages"]["snapshot"]["path"]
    with duckdb.connect(good, read_only=True) as conn:
        good_run = conn.execute("SELECT run_id FROM snapshot_info").fetchone()

    def broken(*args, **kwargs):
        raise RuntimeError("ranking exploded")

    monkeypatch.setattr(nightly_module, "rank_hassles", broken)
    with pytest.raises(RuntimeError):
        nightly_module.nightly(str(config))
    with duckdb.connect(good, read_only=True) as conn:
        assert conn.execute("SELECT run_id FROM snapshot_info").fetchone() == good_run
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        last = conn.execute(
            "SELECT status, failed_stage, error FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert last == ("failed", "rank", "RuntimeError: ranking exploded")
