"""Crash safety: kill -9 the nightly run at several points, run again, get the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import demo_sources

from flows.nightly import nightly

pytestmark = pytest.mark.usefixtures("prefect_server")

# Log lines that mark a point mid-run, one per stage: ingest (one source landed, the next
# loading, nothing merged), enrich (after its first committed batch), cluster (computed, not
# yet written), rank (the ranking written, not yet published) and publish (the redacted text
# committed, the report and the snapshot not yet written).
KILL_POINTS = (
    "source app_reviews:",
    "split_comments: 2000/",
    "cluster_units:",
    "rank_hassles:",
    "comments redacted for the views",
)

COMPARED = {
    "comments": "SELECT * EXCLUDE (ingested_at, updated_at) FROM comments ORDER BY comment_id",
    "duplicates": "SELECT count(*) - count(DISTINCT (source, external_id)) FROM comments",
    "rejected": "SELECT source, line, reason_code FROM rejected ORDER BY ALL",
    "units": "SELECT unit_id, text, round(severity, 9) FROM units ORDER BY unit_id",
    "tags": "SELECT subject_kind, subject_id, stage, theme, is_pain_point FROM tags ORDER BY ALL",
    "embeddings": "SELECT count(*), count(DISTINCT text_hash) FROM embeddings",
    "hassles": "SELECT hassle_id, label, keyphrases, stage, theme, units, status FROM hassles ORDER BY 1",
    "members": """
        SELECT unit_id, hassle_id, round(probability, 6), assigned_by FROM hassle_members
        WHERE run_id = (SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1)
        ORDER BY ALL""",
    "ranking": "SELECT rank, hassle_id, round(total_score, 9), trend FROM v_latest_hassles ORDER BY rank",
}


def state(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in COMPARED.items()}


def run_until(config: Path, marker: str, api_url: str) -> str:
    """Start a nightly run in its own process and kill -9 it when ``marker`` is logged."""
    code = f"from flows.nightly import nightly; nightly({str(config)!r})"
    env = {**os.environ, "PREFECT_API_URL": api_url, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 300
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                process.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "the run never reached " + marker
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-20:])
    return "".join(seen)


def test_killing_the_run_anywhere_then_rerunning_gives_the_uninterrupted_result(
    nightly_demo, demo_dir, tmp_path, write_config
):
    from prefect.settings import PREFECT_API_URL

    folder, _, _ = nightly_demo
    expected = state(folder / "warehouse.duckdb")
    config = write_config(demo_sources(demo_dir), report={"out_dir": str(tmp_path / "reports")})
    snapshot = tmp_path / "warehouse-analyst.duckdb"

    for marker in KILL_POINTS:
        run_until(config, marker, PREFECT_API_URL.value())
        # No half-written state reaches analysts: no snapshot until a run completes.
        assert not snapshot.exists()

    result = nightly(str(config))

    assert state(tmp_path / "warehouse.duckdb") == expected
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        runs = conn.execute("SELECT status, error FROM runs ORDER BY started_at").fetchall()
    assert [s for s, _ in runs] == ["failed"] * len(KILL_POINTS) + ["completed"]
    assert all("interrupted" in e for _, e in runs[:-1])
    assert result["stages"]["snapshot"]["path"] == str(snapshot.resolve())
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        ranked = conn.execute(
            "SELECT rank, hassle_id FROM v_latest_hassles ORDER BY rank"
        ).fetchall()
    assert ranked == [(rank, hassle) for rank, hassle, _, _ in expected["ranking"]]
