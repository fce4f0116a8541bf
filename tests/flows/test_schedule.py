"""Scheduling: the nightly deployment, served on its cron schedule and run by hand."""

from __future__ import annotations

import contextlib
import http.server
import os
import subprocess
import sys
import threading
import time
from typing import Any

import duckdb
import pytest
from conftest import copy_workspace, demo_sources, review_source
from prefect.exceptions import ObjectNotFound

from config import ConfigError, load_settings
from config.preflight import check_ready
from flows.nightly import nightly, nightly_schedule


def test_the_schedule_comes_from_config(write_config, tmp_path):
    config = write_config(
        [review_source(tmp_path / "r.csv")],
        schedule={"cron": "30 3 * * 1-5", "timezone": "Europe/London", "deployment": "cx-nightly"},
    )
    settings = load_settings(config)
    schedule = nightly_schedule(settings)
    assert (schedule.cron, schedule.timezone) == ("30 3 * * 1-5", "Europe/London")
    deployment = nightly.to_deployment(name="cx-nightly", schedules=[schedule])
    [held] = deployment.schedules
    assert held.schedule.cron == "30 3 * * 1-5" and held.schedule.timezone == "Europe/London"
    assert load_settings(write_config([])).schedule.cron == "0 2 * * *"


@pytest.mark.parametrize(
    ("schedule", "key"),
    [
        ({"cron": "every night"}, "schedule.cron"),
        ({"timezone": "Mars/Olympus"}, "schedule.timezone"),
        ({"deployment": "hasslemap/nightly"}, "schedule.deployment': expected a name without"),
    ],
)
def test_a_bad_schedule_fails_before_any_work(write_config, schedule, key):
    with pytest.raises(ConfigError) as error:
        load_settings(write_config([], schedule=schedule))
    assert key in str(error.value)


@pytest.mark.usefixtures("prefect_server")
def test_the_servers_scheduler_makes_the_nightly_deployments_runs():
    """The scheduler's own step: on SQLAlchemy 2.1 it failed every minute, and `serve` then
    never ran a night (the test server runs no scheduler service, so the step is asked for)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.schedules import Cron

    deployment_id = nightly.to_deployment(
        name="scheduler-test", schedules=[Cron("* * * * *", timezone="UTC")]
    ).apply()
    with get_client(sync_client=True) as client:
        answer = client._client.post(f"/deployments/{deployment_id}/schedule", json={"max_runs": 3})
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    assert answer.status_code == 200
    assert len(runs) == 3 and {run.state.name for run in runs} == {"Scheduled"}


@pytest.mark.usefixtures("prefect_server")
def test_serve_registers_the_deployment_and_a_manual_run_completes(
    nightly_demo, demo_dir, tmp_path
):
    """`hasslemap serve` against the test server; a run triggered by hand ranks the hassles."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    folder, _, first = nightly_demo
    config = copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    with config.open("a", encoding="utf-8") as f:
        f.write(
            "schedule:\n  cron: 0 2 * * *\n  timezone: UTC\n  deployment: test-nightly\n"
            f"report:\n  out_dir: {tmp_path / 'reports'}\n"
        )
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deployment = None
        deadline = time.monotonic() + 120
        while deployment is None and time.monotonic() < deadline:
            assert server.poll() is None, "hasslemap serve exited early"
            with get_client(sync_client=True) as client:
                try:
                    deployment = client.read_deployment_by_name("nightly/test-nightly")
                except ObjectNotFound:  # not registered yet
                    time.sleep(1)
        assert deployment is not None, "the deployment was never registered"
        [schedule] = deployment.schedules
        assert schedule.schedule.cron == "0 2 * * *" and schedule.active
        # One night at a time: a second run waits for the first instead of failing on the lock.
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy == "ENQUEUE"

        run = run_deployment("nightly/test-nightly", timeout=300, poll_interval=2)
        assert run.state.is_completed(), run.state
        assert run.name.startswith("nightly-")  # the templated run name
        assert (tmp_path / "reports" / "hasslemap-report.html").is_file()
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
            [(status,)] = conn.execute(
                "SELECT status FROM runs WHERE run_id = ?", [str(run.id)]
            ).fetchall()
            ranked = conn.execute(
                "SELECT count(*), min(rank), max(rank) FROM hassle_rankings "
                "WHERE run_id = ? AND level = 'child'",
                [str(run.id)],
            ).fetchone()
        assert status == "completed"
        # Nothing new since the demo run, so the same hassles are ranked 1..n again (children
        # among children; parents are ranked among parents).
        hassles = first["stages"]["rank"]["hassles_ranked"]
        assert hassles > 0 and ranked == (hassles, 1, hassles)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    # Stopping `serve` leaves the schedule on for the next `serve` (Prefect pauses it by default).
    with get_client(sync_client=True) as client:
        assert not client.read_deployment_by_name("nightly/test-nightly").paused


@pytest.mark.usefixtures("prefect_server")
def test_a_served_run_that_is_not_ready_fails_with_the_one_line_message_not_a_traceback(
    write_config, tmp_path
):
    """A config fine to serve but not to run (its model missing): the night fails, said once."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    config = write_config(
        [review_source(tmp_path / "exports" / "*.csv")],
        models={"spacy": "en_core_web_nonexistent_xyz"},
        schedule={"deployment": "unready-nightly"},
    )
    with pytest.raises(ConfigError) as error:
        check_ready(load_settings(config))
    message = str(error.value)
    log = tmp_path / "serve.log"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        run = _run_when_registered(server, "nightly/unready-nightly", run_deployment)
        deadline = time.monotonic() + 30
        while "Finished in state" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert run.state.is_failed() and run.state.message == f"Configuration error: {message}"
    # Up to the stop: Prefect's runner prints its own traceback when SIGTERM cuts its polling.
    output = log.read_text(encoding="utf-8").split("SIGTERM received")[0]
    assert "Traceback" not in output, output
    # One error line, the message as `hasslemap run` prints it (Prefect's closing line quotes
    # the state's message too, at INFO).
    [error_line] = [line for line in output.splitlines() if "| ERROR" in line]
    assert error_line.endswith(f"Configuration error: {message.splitlines()[0]}"), output
    assert f"\n{message.splitlines()[1]}\n" in output


def _run_when_registered(server: subprocess.Popen, name: str, run_deployment) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "hasslemap serve exited early"
        try:
            return run_deployment(name, timeout=300, poll_interval=2)
        except ObjectNotFound:  # not registered yet; any other error is the test's answer
            time.sleep(1)
    raise AssertionError(f"{name} was never registered")


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the handler's name is http.server's)
        self.send_error(404)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("api_url", "says"),
    [
        (None, "PREFECT_API_URL is not set"),
        (
            "http://127.0.0.1:9/api",
            "no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:9/api",
        ),
        # The UI's address the server's banner prints: the API is under /api.
        ("{server}", "answers 404 for the API's health check: the API is under /api"),
    ],
)
def test_serve_refuses_in_one_line_without_a_prefect_server(write_config, tmp_path, api_url, says):
    """Prefect's temporary server has no scheduler: served there, the flow would never run."""
    config = write_config([review_source(tmp_path / "r.csv")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "HF_HUB_OFFLINE": "1", "COLUMNS": "400"}
    with contextlib.ExitStack() as stack:
        if api_url == "{server}":  # a web server at the address that is not the API: 404s
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            api_url = f"http://127.0.0.1:{server.server_address[1]}"
        if api_url:
            env["PREFECT_API_URL"] = api_url
        result = subprocess.run(
            [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # the old serve waited for its schedule forever
        )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert says in output, output
    assert "prefect server start" in output or "/api" in output, output
    assert "Traceback" not in output and "serving deployment" not in output
    assert len(result.stdout.strip().splitlines()) == 1, output
