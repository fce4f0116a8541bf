"""Prefect's temporary API server, tied to the ``hasslemap`` process that needs it.

With no ``PREFECT_API_URL`` set, Prefect starts a temporary API server (uvicorn, in a child
process, about 230 MB) the first time a flow needs it, and stops it from an ``atexit``
handler. A process killed with SIGKILL runs no ``atexit`` handler, so every ``kill -9`` of
``hasslemap run`` left that server running. :func:`start_temporary_server` starts the same
server in its place, up front and from the main thread, with Linux's parent-death signal
set (``PR_SET_PDEATHSIG``): the kernel kills the server as soon as the process that started
it ends, however it ends. Prefect then finds and reuses this server, as it would its own.

That server runs none of Prefect's services, its scheduler among them, so it can run a flow
but never a scheduled one: ``hasslemap serve`` needs a real Prefect server instead
(:func:`require_prefect_server`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from prefect.server.api.server import SubprocessASGIServer

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
STARTUP_TIMEOUT_SECONDS = 120
"""The least time the server is given to start. Prefect's own default, 20 s, is too short for a
first start on a busy two-core machine, where the server also creates its database."""


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        # SIGKILL, not SIGTERM: uvicorn's graceful shutdown may wait on a half-open connection.
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal would come
            os._exit(1)

    return preexec


class TemporaryServer(SubprocessASGIServer):
    """Prefect's temporary server, started so that it dies with the process that started it.

    The parent-death signal fires when the *thread* that forked the server ends, so start it
    from the main thread (:func:`start_temporary_server` checks).
    """

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        # The command and environment of prefect 3.8.8's SubprocessASGIServer, plus preexec_fn.
        import prefect
        from prefect.settings import get_current_settings

        return subprocess.Popen(  # noqa: S603 - a fixed command: this Python, running uvicorn
            args=[
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(prefect.__module_path__.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
                **get_current_settings().to_environment_variables(exclude_unset=True),
            },
            preexec_fn=_die_with_parent(),  # noqa: PLW1509 - only prctl and getppid run there
        )


def start_temporary_server() -> str | None:
    """Start Prefect's temporary API server now, unless a Prefect API is configured.

    Call it from the main thread, before the first flow runs. The server is registered where
    Prefect looks for its temporary server, so flows use it; it is stopped at exit as before,
    and killed by the kernel if this process is killed. It is given at least
    :data:`STARTUP_TIMEOUT_SECONDS` to start (more if
    ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` says so).

    Returns:
        The server's API URL, or None when nothing was started: ``PREFECT_API_URL`` is set, or
        ``PREFECT_SERVER_ALLOW_EPHEMERAL_MODE`` is off (Prefect then says what to set).
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
        return None
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("start the temporary Prefect server from the main thread")
    server = TemporaryServer()  # Prefect's SubprocessASGIServer() now returns this instance
    server.start(
        timeout=max(
            STARTUP_TIMEOUT_SECONDS, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        )
    )
    return server.api_url


class NoPrefectServer(RuntimeError):
    """No Prefect server is configured, or none answers, where one is needed to schedule runs."""


def run_failure(exc: BaseException) -> str:
    """What a failed ``hasslemap run`` says: the error, and what to do when the API is away.

    Prefect has logged the traceback above, unless the API it logs to is the one that is away
    (``PREFECT_API_URL`` set to a server that does not answer): then the way out is said here.
    """
    from prefect.settings import PREFECT_API_URL

    said = f"{type(exc).__name__}: {exc}"
    url = PREFECT_API_URL.value()
    if url and "Failed to reach API" in str(exc):
        return (
            f"{said}: PREFECT_API_URL={url} is set and no Prefect server answers there; start "
            "it (`prefect server start`), or unset PREFECT_API_URL and `hasslemap run` starts "
            "a temporary one"
        )
    return f"{said} (the log above has the details)"


def require_prefect_server() -> str:
    """The Prefect API URL that scheduled runs need; raise :class:`NoPrefectServer` without one.

    Only a Prefect server's scheduler creates the runs of a schedule. With no
    ``PREFECT_API_URL``, Prefect falls back to its temporary server, which has no scheduler: a
    flow served there polls forever and never runs.

    Raises:
        NoPrefectServer: ``PREFECT_API_URL`` is not set, or nothing answers at it.
    """
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    start = (
        "start one (`prefect server start`), then `export "
        "PREFECT_API_URL=http://127.0.0.1:4200/api` and start serve again"
    )
    url = PREFECT_API_URL.value()
    if not url:
        raise NoPrefectServer(
            "serving on a schedule needs a running Prefect server, and PREFECT_API_URL is not "
            f"set (Prefect's temporary server runs no scheduler); {start}"
        )
    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    # Only an unreachable server is refused: an API that answers /health in its own way
    # (an HTTP error) may still serve deployments.
    if isinstance(error, httpx.TransportError):
        raise NoPrefectServer(
            f"no Prefect server answers at PREFECT_API_URL={url} "
            f"({type(error).__name__}: {error}); {start}"
        )
    # The server's banner prints its UI's address; the API is under /api of it.
    missing = isinstance(error, httpx.HTTPStatusError) and error.response.status_code == 404
    if missing and not url.rstrip("/").endswith("/api"):
        raise NoPrefectServer(
            f"PREFECT_API_URL={url} answers 404 for the API's health check: the API is under "
            f"/api, so export PREFECT_API_URL={url.rstrip('/')}/api and start serve again"
        )
    return url
