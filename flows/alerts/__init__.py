"""The ``alerts`` stage: tell people when a hassle is new, or rising past a threshold.

Alerts are about the specific hassles (children, ``H-0001``), the ones a team can act on: a
parent hassle never alerts on its own (its new or rising children do), and the rank an alert
shows is the hassle's rank among the specific hassles.

After a run's ranking is stored, :func:`send_alerts` picks the hassles worth a message and
sends one Slack-style message (a webhook), a Prefect notification block's message, or log
lines when neither is configured. Each hassle alerts at most once per state change: once when
it is new (and emerging, not regrouped from older comments), and once per rise (the ``rising``
record is cleared when a later ranking no longer has it rising, so the next rise alerts
again). What was sent is kept in ``alerts_sent``
(:mod:`warehouse.alerts`); an alert is recorded only after its channel accepted it, so a
failed delivery raises, Prefect retries the task, and nothing is lost or sent twice to a
single channel. Alerts still undelivered after the retries, or held back by
``alerts.max_per_run``, are kept in ``alerts_pending`` and sent by a later run while they are
still true and timely: a pending ``new`` alert even once the next clustering made its hassle
active, but for at most ``alerts.pending_new_runs`` runs after that; a pending ``rising`` one
while the hassle rises. Pending alerts of a retired hassle, or no longer true or timely, are
dropped unsent, and the run's log and summary say how many and why. The nightly flow logs a
failure and completes the run without the alerts.

The package: :mod:`flows.alerts.policy` (which hassles, pure), :mod:`flows.alerts.messages`
(Slack payload and plain text, pure), :mod:`flows.alerts.delivery` (webhook and Prefect
block) and the ``send_alerts`` task here, which wires them to the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import Settings
from flows.alerts.delivery import AlertDeliveryError, load_notification_block, post_json
from flows.alerts.messages import SLACK_MAX_HASSLES, escape_mrkdwn, plain_text, slack_payload
from flows.alerts.policy import (
    NEW,
    RISING,
    Alert,
    cap_alerts,
    choose_alerts,
    named,
    qualifying_alerts,
    regrouped_new_hassles,
    stale_pending,
    stale_rising,
)
from flows.report.columns import Names
from warehouse import alerts as store
from warehouse.core import now

__all__ = [
    "Alert",
    "AlertDeliveryError",
    "choose_alerts",
    "escape_mrkdwn",
    "plain_text",
    "regrouped_new_hassles",
    "send_alerts",
    "slack_payload",
    "stale_pending",
    "stale_rising",
]


def _batches(alerts: Sequence[Alert], size: int) -> list[Sequence[Alert]]:
    return [alerts[i : i + size] for i in range(0, len(alerts), size)]


def _drop_stale_pending(
    conn: duckdb.DuckDBPyConnection,
    candidates: Sequence[dict[str, Any]],
    pending: dict[tuple[str, str], int],
    settings: Settings,
) -> dict[str, int]:
    """Drop the pending alerts no longer true or timely from ``pending`` and the warehouse.

    Returns:
        How many were dropped, by reason; each is logged with its hassles.
    """
    stale = stale_pending(candidates, pending, settings)
    if not stale:
        return {}
    store.drop_pending(conn, stale)
    by_reason: dict[str, list[str]] = {}
    for key, reason in stale.items():
        del pending[key]
        by_reason.setdefault(reason, []).append(f"{key[0]} ({key[1]})")
    get_run_logger().warning(
        "send_alerts: %d pending alert(s) dropped unsent, no longer true or timely "
        "(alerts.pending_new_runs %d): %s",
        len(stale),
        settings.alerts.pending_new_runs,
        "; ".join(f"{reason}: {', '.join(keys)}" for reason, keys in by_reason.items()),
    )
    return {reason: len(keys) for reason, keys in by_reason.items()}


@task(name="send_alerts", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def send_alerts(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    report_path: str | Path | None = None,
) -> dict[str, Any]:
    """Announce the run's new and rising hassles once each, and record what was sent.

    Channels: ``alerts.webhook_url`` (a Slack-style JSON POST) and/or ``alerts.prefect_block``
    (a Prefect notification block, plain text); with neither, the alerts are logged. A channel
    that fails raises, so Prefect retries the task; only alerts a channel accepted are
    recorded, so a retry sends just the rest, and the rest are kept in ``alerts_pending``
    until a later call (the next run) delivers them. (With both channels set, a block failure after
    the webhook accepted a batch makes the retry post that batch to the webhook again.)
    Hassles alerted as rising that are no longer rising are cleared, so a new rise alerts again.
    Pending alerts no longer true or timely (:func:`stale_pending`) are dropped, and logged.
    ``alerts.max_per_run`` caps the hassles announced for ``run_id`` over all calls, so calling
    it again for the same run (a rerun) sends nothing new.

    Args:
        conn: The warehouse, read-write.
        settings: The settings.
        run_id: The run whose ranking (``hassle_rankings``) to read.
        report_path: The published report, linked when ``alerts.report_url`` is not set.

    Returns:
        ``{"alerts_sent": n, "new": .., "rising": .., "channel": .., "rising_cleared": ..,
        "new_regrouped": .., "pending_dropped": {reason: n}}`` (new hassles not announced as
        new: regrouped, see :func:`regrouped_new_hassles`; pending alerts dropped unsent).
    """
    logger = get_run_logger()
    cfg = settings.alerts
    candidates = store.read_alert_candidates(conn, run_id, settings.rank.trend_short_days)
    sent = store.read_sent(conn)
    pending = store.read_pending(conn)
    dropped = _drop_stale_pending(conn, candidates, pending, settings)
    stale = stale_rising(candidates, {*sent, *pending})
    cleared = store.clear_states(conn, stale, RISING)
    for hassle_id in stale:
        sent.pop((hassle_id, RISING), None)
        pending.pop((hassle_id, RISING), None)
    # max_per_run caps what one run announces, however often it is called (a retry, a rerun).
    announced = {hassle_id for (hassle_id, _), sent_run in sent.items() if sent_run == run_id}
    due = qualifying_alerts(candidates, sent, settings, pending)
    regrouped = regrouped_new_hassles(candidates, settings) if cfg.on_new else []
    if regrouped:
        logger.info(
            "send_alerts: %d new hassle(s) not announced as new, being regrouped from older "
            "comments (under alerts.new_min_fresh_share %.2f): %s",
            len(regrouped),
            cfg.new_min_fresh_share,
            ", ".join(f"{h} ({share:.0%} fresh)" for h, share in regrouped),
        )
    alerts, held = cap_alerts(due, cfg.max_per_run - len(announced))  # sent best rank first
    if held:
        # Kept for the next run: by then a new hassle is no longer "new" and would be lost.
        store.record_pending(
            conn,
            [(a.hassle_id, state) for a in held for state in a.states],
            run_id,
            now(),
            f"held back: alerts.max_per_run ({cfg.max_per_run}) reached",
            attempted=False,
        )
        logger.info(
            "send_alerts: %d more due hassles held back for the next run (alerts_pending): "
            "max_per_run (%d) reached for run %s",
            len(held),
            cfg.max_per_run,
            run_id,
        )
    if not alerts:
        logger.info("send_alerts: nothing new or rising to announce (run %s)", run_id)
        return {
            "alerts_sent": 0,
            "new": 0,
            "rising": 0,
            "channel": None,
            "rising_cleared": cleared,
            "new_regrouped": len(regrouped),
            "pending_dropped": dropped,
        }

    channels = [
        name
        for name, on in (("webhook", cfg.webhook_url), ("prefect_block", cfg.prefect_block))
        if on
    ] or ["log"]
    link = cfg.report_url or (str(report_path) if report_path else None)
    days = {
        "short_days": settings.rank.trend_short_days,
        "baseline_days": settings.rank.trend_baseline_days,
    }
    delivered = 0  # alerts accepted so far (batches go out best rank first)
    names = Names.of(settings)
    try:
        block = load_notification_block(cfg.prefect_block) if cfg.prefect_block else None
        for batch in _batches(alerts, SLACK_MAX_HASSLES):
            shown = [named(a, names) for a in batch]  # as the report names them
            if cfg.webhook_url:
                post_json(
                    cfg.webhook_url,
                    slack_payload(shown, link, run_id, **days),
                    cfg.timeout_seconds,
                )
            subject, body = plain_text(shown, link, run_id, **days)
            if block is not None:
                with block.raise_on_failure():
                    block.notify(body, subject)
            if channels == ["log"]:
                logger.info("%s\n%s", subject, body)
            stamp = now()
            store.record_sent(
                conn,
                [
                    {
                        "hassle_id": a.hassle_id,
                        "state": state,
                        "run_id": run_id,
                        "sent_at": stamp,
                        "channel": channels[0],
                        "payload": a.facts(),
                    }
                    for a in batch
                    for state in a.states
                ],
            )
            delivered += len(batch)
    except Exception as exc:
        # Keep what no channel accepted for the next run, then fail: Prefect retries the task.
        undelivered = [(a.hassle_id, state) for a in alerts[delivered:] for state in a.states]
        error = f"{type(exc).__name__}: {exc}"[:500]
        store.record_pending(conn, undelivered, run_id, now(), error)
        logger.warning(
            "send_alerts: %d alert(s) not delivered, kept in alerts_pending for the next try: %s",
            len(undelivered),
            error,
        )
        raise
    counts = {
        "alerts_sent": len(alerts),
        "new": sum(NEW in a.states for a in alerts),
        "rising": sum(RISING in a.states for a in alerts),
        "channel": "+".join(channels),
        "rising_cleared": cleared,
        "new_regrouped": len(regrouped),
        "pending_dropped": dropped,
    }
    logger.info(
        "send_alerts: %d hassles announced (%d new, %d rising) via %s",
        counts["alerts_sent"],
        counts["new"],
        counts["rising"],
        counts["channel"],
    )
    return counts
