"""The ``nightly`` flow: every stage in order, recorded in the ``runs`` table."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import TerminationSignal
from prefect.runtime import flow_run
from prefect.states import Failed, State
from prefect.utilities.annotations import quote

from config import ConfigError, Settings, load_settings
from config.preflight import check_ready
from config.taxonomy import load_enrich_config
from flows.alerts import send_alerts
from flows.cluster import cluster_into
from flows.enrich import enrich, enrich_into
from flows.ingest import ingest_into
from flows.prefect_server import require_prefect_server
from flows.publish import publish_results, rank_hassles, write_analyst_snapshot
from flows.report.artifacts import warnings_markdown
from flows.report.checks import out_dir_problem
from flows.summary import run_warnings
from warehouse.alerts import read_pending
from warehouse.connection import WarehouseUnavailable, connect_warehouse
from warehouse.loaders import enter_stage, finish_run, mark_interrupted_runs, start_run


def _run_name() -> str:
    return f"nightly-{datetime.now(UTC):%Y-%m-%d-%H%M%S}"


def _record_failure(
    conn: Any, run_id: str, counts: dict[str, Any], stage: str, exc: BaseException
) -> None:
    """Record the run failed at ``stage``; should that fail too, log it: ``exc`` goes on."""
    try:
        finish_run(
            conn,
            run_id,
            status="failed",
            stage_counts=counts,
            failed_stage=stage,
            error=_error_text(exc),
        )
    except Exception as error:
        get_run_logger().error("could not record run %s as failed: %s", run_id, error)


def _error_text(exc: BaseException) -> str:
    """The ``runs.error`` of a run that ``exc`` ended: a signal is named as such."""
    if isinstance(exc, TerminationSignal):
        return f"TerminationSignal: stopped by {signal.Signals(exc.signal).name}"
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt: stopped by SIGINT (Ctrl+C)"
    return f"{type(exc).__name__}: {exc}"


def _alerts_alone(conn: Any, settings: Settings, run_id: str, report: str | None) -> dict[str, Any]:
    """Send the alerts; a failure is logged and counted, never fails the run.

    What was not delivered stays in ``alerts_pending`` for the next run (see flows/alerts.py).
    """
    try:
        return send_alerts(conn, settings, run_id, report)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        pending = len({hassle_id for hassle_id, _ in read_pending(conn)})  # a hassle, one alert
        get_run_logger().error(
            "alerts failed, the run goes on: %s; %d hassle(s) pending for the next runs",
            error,
            pending,
        )
        return {
            "failed": True,
            "error": error,
            "pending": pending,
            "max_per_run": settings.alerts.max_per_run,
        }


def _cannot_start(title: str, exc: ConfigError | WarehouseUnavailable) -> State:
    """Fail the run before any work with the problem's message, said once: no traceback.

    The message says what to fix (the file and key; the warehouse and who holds it), as
    ``hasslemap run`` prints it; a traceback (Prefect logs one for an exception a flow raises)
    would bury it in a served run's log. Called directly, the flow still raises ``exc``.
    """
    message = f"{title}: {exc}"
    get_run_logger().error(message)
    return Failed(message=message, data=exc)


def check_run_ready(settings: Settings) -> list[str]:
    """:func:`config.preflight.check_ready`, and that no source reads ``report.out_dir``.

    Returns the warnings; raises :class:`ConfigError` naming each problem, before any work.
    """
    ready = check_ready(settings)
    if problem := out_dir_problem(settings):
        raise ConfigError(f"not ready to run:\n  {problem}")
    return ready


@flow(name="nightly", flow_run_name=_run_name)
def nightly(config_path: str | None = None) -> dict[str, Any]:
    """Run the pipeline once: ingest, enrich, cluster, rank, publish, alerts, analyst snapshot.

    The settings and the taxonomy are validated first, so a bad config stops the run before
    any work: the run fails with the problem's message, logged once (no traceback). So does a
    warehouse that another process holds (named by its PID) or that cannot be written. Each
    run gets a row in ``runs`` with its status and counts per stage; a failure, or a signal
    (SIGTERM, Ctrl+C), records the stage and the error, then re-raises so Prefect marks the
    run failed (crashed, for a signal). Alerts fail alone: their failure is logged and counted
    (``stage_counts.alerts.failed``), the run completes, and the alerts not delivered are sent
    by the next run.

    Returns:
        The counts per stage, plus the run id and warehouse path.
    """
    logger = get_run_logger()
    try:
        settings = load_settings(config_path)
        taxonomy = load_enrich_config(settings)
        ready = check_run_ready(settings)  # raises on a missing folder or model: before any work
    except ConfigError as exc:
        return _cannot_start("Configuration error", exc)
    for warning in ready:
        logger.warning(warning)
    run_id = str(flow_run.get_id() or f"local-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
    warehouse = Path(settings.warehouse)
    try:
        conn = connect_warehouse(warehouse, memory_limit=settings.duckdb_memory_limit)
    except WarehouseUnavailable as exc:  # another run holds it, or it cannot be written
        return _cannot_start("Cannot run", exc)
    interrupted = mark_interrupted_runs(conn)
    if interrupted:
        logger.warning("%d earlier run(s) never finished (killed?); marked failed", interrupted)
    start_run(conn, run_id, "nightly")
    counts: dict[str, Any] = {}
    stage = "ingest"
    try:
        enter_stage(conn, run_id, stage)
        # The stages' tasks run right in this flow run, on its connection; only a Dask
        # scale-out needs enrich's own subflow, for its task runner. (Each subflow cost about
        # 0.5 s on exit, waiting for its heartbeat thread: a third of a small night's run.)
        counts["ingest"] = ingest_into(conn, settings)
        stage = enter_stage(conn, run_id, "enrich")
        if settings.scale.dask_address:
            counts["enrich"] = enrich(config_path)
        else:
            counts["enrich"] = enrich_into(conn, settings, taxonomy)
        stage = enter_stage(conn, run_id, "cluster")
        counts["cluster"] = cluster_into(conn, settings, run_id)
        stage = enter_stage(conn, run_id, "rank")
        counts["rank"], ranking = rank_hassles(conn, settings, run_id)
        stage = enter_stage(conn, run_id, "publish")
        # The ranking just stored is reused, not computed again; quote() keeps Prefect from
        # walking its mentions.
        counts["publish"] = publish_results(conn, settings, taxonomy, run_id, quote(ranking))
        stage = enter_stage(conn, run_id, "alerts")
        counts["alerts"] = _alerts_alone(conn, settings, run_id, counts["publish"].get("report"))
    except BaseException as exc:
        # Also a signal: Prefect raises SIGTERM as a TerminationSignal, Ctrl+C is a
        # KeyboardInterrupt (neither an Exception). Recorded, it goes on as it came.
        _record_failure(conn, run_id, counts, stage, exc)
        conn.close()
        raise
    finish_run(conn, run_id, status="completed", stage_counts=counts)
    try:
        # Last, once the run is recorded complete: a failed run never replaces a good snapshot.
        if settings.snapshot.enabled:
            counts["snapshot"] = write_analyst_snapshot(conn, settings, run_id)
            finish_run(conn, run_id, status="completed", stage_counts=counts)
    except BaseException as exc:
        _record_failure(conn, run_id, counts, "snapshot", exc)
        raise
    finally:
        conn.close()
    logger.info("nightly run %s completed; warehouse at %s", run_id, warehouse.resolve())
    if said := run_warnings(counts, settings):  # what `hasslemap run` prints, for a served run
        logger.warning(
            "nightly run %s: %d warning(s), in its run-warnings artifact", run_id, len(said)
        )
        create_markdown_artifact(
            key="run-warnings",
            markdown=warnings_markdown(said),
            description="What this run could not do, or an operator should fix",
        )
    return {"run_id": run_id, "warehouse": str(warehouse.resolve()), "stages": counts}


def nightly_schedule(settings: Any) -> Any:
    """The nightly deployment's schedule, from the ``schedule`` settings."""
    from prefect.schedules import Cron

    return Cron(settings.schedule.cron, timezone=settings.schedule.timezone)


def serve_nightly(config_path: str | None = None) -> None:
    """Serve the ``nightly`` deployment on its cron schedule until interrupted.

    The settings are validated first; each scheduled run reads them again, so an edit to the
    config takes effect on the next night. A running Prefect server is required: only its
    scheduler creates the scheduled runs.

    Raises:
        NoPrefectServer: ``PREFECT_API_URL`` is not set, or no server answers there.
    """
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    settings = load_settings(config_path)
    load_enrich_config(settings)
    require_prefect_server()
    nightly.serve(
        name=settings.schedule.deployment,
        schedules=[nightly_schedule(settings)],
        parameters={"config_path": config_path},
        description="hasslemap: ingest, enrich, cluster, rank and publish, every night.",
        tags=["hasslemap"],
        # One night at a time: nights missed while `serve` was down, or a run started by hand
        # from Prefect, wait for the one running instead of failing on the warehouse's lock.
        global_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        ),
        # Stopping `serve` (a restart, a second one started by mistake) must not pause the
        # schedule: the next `serve` would have to unpause it, and nothing would say so.
        pause_on_shutdown=False,
    )
