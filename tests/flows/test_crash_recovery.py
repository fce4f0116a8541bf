"""Crash safety: kill -9 the nightly run at several points, add files, run again, get the
result of uninterrupted runs over the same files, with no process or partial file left."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import duckdb
import psutil
import pytest
import yaml
from conftest import demo_sources, kill_9_when_logged

from flows.nightly import nightly

pytestmark = pytest.mark.usefixtures("prefect_server")

# The killed run is started with this prelude. "read" and "load" hold the run inside ingest
# (after dlt got the first batch of a file; inside dlt's load step, before the first records
# job is written) and announce it, so the kill lands there every time.
PRELUDE = """
import sys, time
point, config = sys.argv[1], sys.argv[2]
if point == "read":
    import flows.sources.resource as resource
    read = resource.read_source_files
    def read_then_wait(*args, **kwargs):
        for number, table in enumerate(read(*args, **kwargs)):
            yield table
            if number == 0:
                print("KILL-POINT reading a file", flush=True)
                time.sleep(600)
    resource.read_source_files = read_then_wait
elif point == "load":
    from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
    run = DuckDbCopyJob.run
    def run_then_wait(self):
        if self.load_table_name == "records":
            print("KILL-POINT in dlt's load step", flush=True)
            time.sleep(600)
        run(self)
    DuckDbCopyJob.run = run_then_wait
from flows.nightly import nightly
from flows.prefect_server import start_temporary_server
start_temporary_server()  # as `hasslemap run` does: the server dies with this process
nightly(config)
"""

# (hook, log line to kill at), in the order they are tried: ingest while reading a file;
# enrich after its first committed batch; cluster computed, not yet written; publish with
# the redacted text committed, the report and snapshot not yet written; then, with a new file
# to land, inside dlt's load step. Another new file is added before the last, clean rerun.
KILL_POINTS = (  # (hook, log line to kill at, the stage the run was in)
    ("read", "KILL-POINT reading a file", "ingest"),
    ("", "split_comments: 2000/", "enrich"),
    ("", "cluster_units:", "cluster"),
    ("", "comments redacted for the views", "publish"),
    ("load", "KILL-POINT in dlt's load step", "ingest"),
)

# New reviews dated before the demo's 90-day window: they are ingested and enriched, and the
# clustering (whose window they do not enter) stays the clean run's.
NEW_FILES = {
    "reviews-new-1.csv": [
        "N1-1,cust-9001,2,,The invoice charged me twice for one order,2026-01-10T09:00:00Z,Hub",
        "N1-2,cust-9002,1,,Waited on hold for an hour to change my address,2026-01-11T09:00:00Z,Cam",
    ],
    "reviews-new-2.csv": [
        "N2-1,cust-9003,2,,The setup guide skips the pairing step,2026-01-12T09:00:00Z,Hub",
    ],
}
REVIEW_HEADER = "id,author,rating,title,body,date,product\n"

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

LEFTOVER_PATTERNS = ("*.partial", "*.partial.wal", "*.wal", "*.tmp")


def state(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in COMPARED.items()}


def write_config(folder: Path, data: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "warehouse": str(folder / "warehouse.duckdb"),
        "sources": demo_sources(data),
        "report": {"out_dir": str(folder / "reports")},
    }
    config = folder / "hasslemap.yaml"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


def add_new_file(data: Path, name: str) -> None:
    rows = "".join(f"{row}\n" for row in NEW_FILES[name])
    (data / "reviews" / name).write_text(REVIEW_HEADER + rows, encoding="utf-8")


def run_until(config: Path, hook: str, marker: str, prefect_home: Path) -> list[psutil.Process]:
    """Start a nightly run in its own process, kill -9 it when ``marker`` is logged, and
    return the processes it had started (they must all end with it).

    The run gets no ``PREFECT_API_URL``, as from a plain shell, so it starts its own
    temporary Prefect server.
    """
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300",
    )
    started = kill_9_when_logged([sys.executable, "-c", PRELUDE, hook, str(config)], env, marker)
    return [process for process, _ in started]


def test_killing_the_run_anywhere_then_rerunning_gives_the_uninterrupted_result(demo_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    # The uninterrupted history: a run over the demo files, then one after the new files came.
    # (Run over all files at once, enrich would batch the sentences differently, and bf16
    # vectors move in the last digits with the batch: the clustering would not be comparable.)
    clean_config = write_config(tmp_path / "clean", data)
    nightly(str(clean_config))
    for name in NEW_FILES:
        add_new_file(data, name)
    clean = nightly(str(clean_config))
    expected = state(Path(clean["warehouse"]))
    assert {"N1-1", "N1-2", "N2-1"} <= {row[3] for row in expected["comments"]}
    for name in NEW_FILES:
        (data / "reviews" / name).unlink()

    folder = tmp_path / "crash"
    config = write_config(folder, data)
    snapshot = folder / "warehouse-analyst.duckdb"
    leftovers: list[str] = []
    for hook, marker, _ in KILL_POINTS:
        if hook == "load":
            add_new_file(data, "reviews-new-1.csv")  # something new for dlt to load
        children = run_until(config, hook, marker, tmp_path / "prefect-home")
        _, alive = psutil.wait_procs(children, timeout=30)
        for process in alive:
            leftovers.append(f"after the kill at {marker!r}: {' '.join(process.cmdline())}")
            process.kill()
        # No half-written state reaches analysts: no snapshot until a run completes.
        assert not snapshot.exists()
    add_new_file(data, "reviews-new-2.csv")

    result = nightly(str(config))

    assert state(folder / "warehouse.duckdb") == expected
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        runs = conn.execute(
            "SELECT status, error, failed_stage FROM runs ORDER BY started_at"
        ).fetchall()
    assert [s for s, _, _ in runs] == ["failed"] * len(KILL_POINTS) + ["completed"]
    assert all("interrupted" in e for _, e, _ in runs[:-1])
    # Killed where it could record nothing, each run is still marked with its stage.
    assert [stage for _, _, stage in runs] == [stage for *_, stage in KILL_POINTS] + [None]
    assert result["stages"]["snapshot"]["path"] == str(snapshot.resolve())
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        ranked = conn.execute(
            "SELECT rank, hassle_id FROM v_latest_hassles ORDER BY rank"
        ).fetchall()
    assert ranked == [(rank, hassle) for rank, hassle, _, _ in expected["ranking"]]
    # Nothing is left behind: no partial file, no process of a killed run.
    partial = [str(p) for pattern in LEFTOVER_PATTERNS for p in folder.rglob(pattern)]
    assert partial == []
    assert leftovers == []
