"""The temporary Prefect server that `hasslemap run` starts when no Prefect API is configured."""

from __future__ import annotations

import pytest
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from flows.prefect_server import (
    STARTUP_TIMEOUT_SECONDS,
    TemporaryServer,
    run_failure,
    start_temporary_server,
)

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)


def test_the_server_gets_at_least_two_minutes_to_start_or_the_longer_setting(
    monkeypatch: pytest.MonkeyPatch,
):
    waited: list[int | None] = []
    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})  # Prefect's one-per-port registry
    monkeypatch.setattr(TemporaryServer, "start", lambda self, timeout=None: waited.append(timeout))

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        start_temporary_server()  # Prefect's default, 20 s, is raised
        with temporary_settings({PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 300}):
            start_temporary_server()  # a longer setting wins

    assert waited == [STARTUP_TIMEOUT_SECONDS, 300]


def test_nothing_is_started_when_a_prefect_api_is_configured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})
    monkeypatch.setattr(TemporaryServer, "start", lambda self, timeout=None: pytest.fail("started"))

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert start_temporary_server() is None


def test_a_run_failed_on_an_api_that_is_away_says_what_to_do():
    # "(the log above has the details)" with no log above: Prefect logs to that very API.
    away = RuntimeError("Failed to reach API at http://127.0.0.1:4295/api/")
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4295/api"}):
        said = run_failure(away)
    assert said.startswith("RuntimeError: Failed to reach API at http://127.0.0.1:4295/api/: ")
    assert "unset PREFECT_API_URL and `hasslemap run` starts a temporary one" in said
    assert run_failure(ValueError("boom")) == "ValueError: boom (the log above has the details)"
