"""Wrong state after a kill, a failed channel or a future date: each probe of issue 11 here."""

from __future__ import annotations

import csv
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import psutil
import pytest
from conftest import (
    copy_workspace,
    demo_sources,
    kill_9_when_logged,
    review_source,
    write_report_config,
)
from prefect.exceptions import TerminationSignal
from typer.testing import CliRunner

from warehouse.connection import connect_warehouse

REVIEW_HEADER = "id,author,rating,title,body,date,product\n"


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.e2e
def test_kill_9_of_hasslemap_run_leaves_no_process_behind(tmp_path, write_config):
    reviews = tmp_path / "in" / "reviews.csv"
    reviews.parent.mkdir()
    reviews.write_text(
        REVIEW_HEADER + "R1,c1,1,Refund,My refund took three weeks,2026-09-01T10:00:00Z,Hub\n",
        encoding="utf-8",
    )
    config = write_config([review_source(reviews)], report={"out_dir": str(tmp_path / "reports")})
    # No Prefect API configured: `hasslemap run` starts Prefect's temporary server itself.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
        # Prefect waits 20 s for its server by default; a fresh one, migrating its database on a
        # busy CI machine, once took longer (the run failed before the kill).
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300",
    )
    # Killed mid-run, when the flow is running on the server.
    started = kill_9_when_logged(
        [sys.executable, "-m", "flows.cli", "run", "--config", str(config)],
        env,
        "source reviews:",
        cwd=tmp_path,
    )
    assert any("uvicorn" in command for _, command in started), "no Prefect server seen"
    processes = [process for process, _ in started]

    deadline = time.monotonic() + 60  # a bound, not a measure: the kernel acts at once
    while _alive(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = _alive(processes)
    for process in survivors:  # never leave them behind, even when the test fails
        process.kill()
    assert [command for p, command in started if p in survivors] == []


# --- which ranking is "previous": only completed runs count, ordered by start time ---------


def _demo_workspace(nightly_demo, demo_dir: Path, target: Path) -> Path:
    """A copy of the nightly demo workspace whose report is written under ``target``."""
    folder, _, _ = nightly_demo
    config = copy_workspace(folder, target, demo_sources(demo_dir))
    with config.open("a", encoding="utf-8") as f:
        f.write(f"report:\n  out_dir: {target / 'reports'}\n")
    return config


def _add_run(
    conn, run_id: str, status: str, started: datetime, ranking_from: str, without: str
) -> None:
    """A run row, and a ranking copied from ``ranking_from`` without the hassle ``without``."""
    conn.execute(
        "INSERT INTO runs (run_id, flow_name, started_at, status, stage_counts) "
        "VALUES (?, 'nightly', ?, ?, '{}')",
        [run_id, started, status],
    )
    conn.execute(
        "INSERT INTO hassle_rankings SELECT * REPLACE (?::VARCHAR AS run_id, "
        "?::TIMESTAMP AS ranked_at) FROM hassle_rankings WHERE run_id = ? AND hassle_id <> ?",
        [run_id, started + timedelta(minutes=5), ranking_from, without],
    )


def _completed_run(conn) -> tuple[str, datetime, str]:
    """The demo workspace's one completed run: its id, start and top-ranked hassle."""
    [(run_id, started)] = conn.execute(
        "SELECT run_id, started_at FROM runs WHERE status = 'completed'"
    ).fetchall()
    [(top,)] = conn.execute(
        "SELECT hassle_id FROM hassle_rankings WHERE run_id = ? AND level = 'child' AND rank = 1",
        [run_id],
    ).fetchall()
    return run_id, started, top


def _workspace_with_another_run(
    nightly_demo, demo_dir: Path, target: Path, run_id: str, status: str, offset: timedelta
) -> tuple[Path, str, str]:
    """A demo workspace (:func:`_demo_workspace`) with one more run, ``run_id``, in ``status``.

    That run started ``offset`` after the completed one and ranked as it did, without its top
    hassle. Returns the config, the completed run's id and that top hassle.
    """
    config = _demo_workspace(nightly_demo, demo_dir, target)
    conn = connect_warehouse(target / "warehouse.duckdb")
    try:
        completed, started, top = _completed_run(conn)
        _add_run(conn, run_id, status, started + offset, completed, top)
    finally:
        conn.close()
    return config, completed, top


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_server")
def test_a_killed_runs_ranking_is_not_the_previous_ranking(nightly_demo, demo_dir, tmp_path):
    from flows.nightly import nightly

    # A later run killed after its rank stage: its ranking (here, without the top hassle)
    # is written, its row still says 'running'.
    config, completed, top = _workspace_with_another_run(
        nightly_demo, demo_dir, tmp_path / "ws", "killed-run", "running", timedelta(hours=1)
    )
    # The completed run is a later night's, whose ranking moved nothing; a rerun over its data
    # says what it said (flows.ranking.changes_since).
    with duckdb.connect(str(tmp_path / "ws" / "warehouse.duckdb")) as conn:
        conn.execute("UPDATE hassle_rankings SET change = 'steady' WHERE run_id = ?", [completed])

    result = nightly(str(config))

    with duckdb.connect(str(tmp_path / "ws" / "warehouse.duckdb"), read_only=True) as conn:
        changes = dict(
            conn.execute(
                "SELECT hassle_id, change FROM hassle_rankings WHERE run_id = ?",
                [result["run_id"]],
            ).fetchall()
        )
        killed = conn.execute("SELECT status FROM runs WHERE run_id = 'killed-run'").fetchone()
    assert killed == ("failed",)
    # Compared with the completed run, which ranked every hassle: none is new (against the
    # killed run's ranking the top hassle would be).
    assert top in changes and changes[top] != "new"
    assert result["stages"]["rank"]["new_since_last_run"] == 0


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_server")
def test_the_report_command_uses_the_last_started_completed_run(nightly_demo, demo_dir, tmp_path):
    from flows.cli import app

    # An older completed run whose id sorts after every UUID; its ranking lacked the top
    # hassle, so against it the top hassle is new.
    older = "ffffffff-ffff-ffff-ffff-ffffffffffff"
    config, completed, top = _workspace_with_another_run(
        nightly_demo, demo_dir, tmp_path / "ws", older, "completed", -timedelta(days=1)
    )

    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", "--config", str(config), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert f"Run `{completed}`" in (out / "hasslemap-report.md").read_text(encoding="utf-8")
    with open(out / "hasslemap-report.csv", newline="", encoding="utf-8") as f:
        changes = {row["hassle_id"]: row["change"] for row in csv.DictReader(f)}
    assert changes[top] == "new"
    assert "new" not in {change for hassle, change in changes.items() if hassle != top}


# --- a far-future date never moves the window ---------------------------------------------


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_server")
def test_a_comment_dated_9999_already_in_the_warehouse_does_not_move_the_window(
    nightly_demo, demo_dir, tmp_path
):
    from flows.nightly import nightly

    config = _demo_workspace(nightly_demo, demo_dir, tmp_path / "ws")
    warehouse = tmp_path / "ws" / "warehouse.duckdb"
    conn = connect_warehouse(warehouse)
    try:
        [(newest, hassles_before)] = conn.execute(
            "SELECT (SELECT max(created_at) FROM comments), (SELECT count(*) FROM hassle_rankings)"
        ).fetchall()
        # As an older version loaded it: a pain point dated with the "no date" sentinel.
        conn.execute(
            """
            INSERT INTO comments SELECT * REPLACE ('future-1' AS comment_id,
                'future-1' AS external_id, TIMESTAMP '9999-12-31 23:59:59' AS created_at,
                'My refund took three weeks and nobody answered.' AS text, 'f' AS content_hash)
            FROM comments LIMIT 1
            """
        )
    finally:
        conn.close()
    assert hassles_before > 0

    result = nightly(str(config))

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        [(start, end)] = conn.execute(
            "SELECT window_start, window_end FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1"
        ).fetchall()
        [(run_started,)] = conn.execute(
            "SELECT started_at FROM runs WHERE run_id = ?", [result["run_id"]]
        ).fetchall()
    assert end == newest <= run_started
    assert start == newest - timedelta(days=90)
    assert result["stages"]["cluster"]["comments_after_run"] == 1
    assert result["stages"]["rank"]["hassles_ranked"] >= 5


# --- a run stopped by a signal is recorded failed at its stage ------------------------------


@pytest.mark.parametrize(
    ("stop", "error"),
    [
        (TerminationSignal(signal.SIGTERM), "TerminationSignal: stopped by SIGTERM"),
        (KeyboardInterrupt(), "KeyboardInterrupt: stopped by SIGINT (Ctrl+C)"),
    ],
    ids=["sigterm", "ctrl-c"],
)
def test_a_run_stopped_by_a_signal_is_recorded_failed_at_its_stage(
    tmp_path, prefect_server, monkeypatch, stop, error
):
    from flows import nightly as nightly_module

    config = write_report_config(tmp_path)

    def stopped(*args, **kwargs):  # as Prefect raises it on SIGTERM, Python on Ctrl+C
        raise stop

    monkeypatch.setattr(nightly_module, "enrich_into", stopped)
    # Prefect passes a SIGTERM on to the handler it replaced; here, one that records it.
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with pytest.raises(type(stop)) as caught:
            nightly_module.nightly(str(config))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert caught.value is stop  # the very signal goes on, unchanged
    assert received == ([signal.SIGTERM] if isinstance(stop, TerminationSignal) else [])
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT status, failed_stage, error, stage_counts FROM runs").fetchall()
    [(status, stage, recorded, counts)] = rows
    assert (status, stage, recorded) == ("failed", "enrich", error)
    assert "ingest" in counts


def test_a_signal_inside_the_comments_merge_is_recorded_and_rolls_the_merge_back(
    tmp_path, prefect_server, monkeypatch
):
    """A signal inside a stage's transaction: rolled back, so the failure record is committed."""
    import warehouse.loaders
    from flows.nightly import nightly

    config = write_report_config(tmp_path)
    (tmp_path / "feedback" / "reviews.csv").write_text(
        REVIEW_HEADER + "R1,c1,1,Refund,My refund took three weeks,2026-09-01T10:00:00Z,Hub\n",
        encoding="utf-8",
    )
    stop = TerminationSignal(signal.SIGTERM)

    def stopped(*args, **kwargs):
        raise stop

    monkeypatch.setattr(warehouse.loaders, "run_script", stopped)  # inside BEGIN ... COMMIT
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        with pytest.raises(TerminationSignal):
            nightly(str(config))
    finally:
        signal.signal(signal.SIGTERM, previous)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        runs = conn.execute("SELECT status, failed_stage, error FROM runs").fetchall()
        comments = conn.execute("SELECT count(*) FROM comments").fetchone()
    assert runs == [("failed", "ingest", "TerminationSignal: stopped by SIGTERM")]
    assert comments == (0,)
