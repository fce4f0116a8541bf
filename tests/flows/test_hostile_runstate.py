"""Wrong state after a kill, a failed channel or a future date: each probe of issue 11 here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from conftest import review_source

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
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONUNBUFFERED="1", COLUMNS="200")
    run = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    started: list[psutil.Process] = []
    commands: list[str] = []
    try:
        for line in run.stdout:
            seen.append(line)
            if "source reviews:" in line:  # mid-run: the flow is running on the server
                started = psutil.Process(run.pid).children(recursive=True)
                commands = [" ".join(p.cmdline()) for p in started]
                run.send_signal(signal.SIGKILL)
                break
    finally:
        if run.poll() is None:
            run.kill()
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "".join(seen[-30:])
    assert any("uvicorn" in command for command in commands), "no Prefect server seen"

    deadline = time.monotonic() + 60  # a bound, not a measure: the kernel acts at once
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = _alive(started)
    for process in survivors:  # never leave them behind, even when the test fails
        process.kill()
    assert [command for p, command in zip(started, commands, strict=True) if p in survivors] == []
