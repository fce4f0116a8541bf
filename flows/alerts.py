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
single channel. Alerts still undelivered after the retries are kept in ``alerts_pending`` and
sent by the next run (a pending ``new`` alert even once its hassle is no longer new); the
nightly flow logs the failure and completes the run without them.

:func:`choose_alerts`, :func:`stale_rising`, :func:`slack_payload` and :func:`plain_text`
are pure, for tests and for reuse.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
from prefect import get_run_logger, task
from prefect.blocks.abstract import NotificationBlock
from prefect.cache_policies import NO_CACHE

from config import Settings
from config.settings import AlertSettings
from nlp.redact import redact_pii
from warehouse import alerts as store
from warehouse.enrichment import now

NEW = "new"
RISING = "rising"
# A Slack message holds at most 50 blocks: a header, one section per hassle and a context.
SLACK_MAX_HASSLES = 40
LABEL_MAX_CHARS = 200
BADGES = {NEW: ":new: New", RISING: ":chart_with_upwards_trend: Rising"}


class AlertDeliveryError(RuntimeError):
    """A channel did not accept the alerts (Prefect retries the task)."""


@dataclass(frozen=True)
class Alert:
    """One hassle to announce, and why: ``states`` holds ``new`` and/or ``rising``."""

    hassle_id: str
    states: tuple[str, ...]
    rank: int
    label: str  # redacted
    stage: str | None
    theme: str | None
    score: float  # 0..1
    customers: int
    comments: int
    trend_7d: str
    trend_7d_ratio: float | None

    def facts(self) -> dict[str, Any]:
        """The alert as plain values, for ``alerts_sent.payload``."""
        return {**asdict(self), "states": list(self.states)}


def _alert_settings(settings: Settings | AlertSettings) -> AlertSettings:
    return settings.alerts if isinstance(settings, Settings) else settings


def regrouped_new_hassles(
    candidates: Iterable[dict[str, Any]], settings: Settings | AlertSettings
) -> list[tuple[str, float]]:
    """New, non-generic hassles that do not alert as new: regrouped from older comments.

    Args:
        candidates: Rows of :func:`warehouse.alerts.read_alert_candidates`.
        settings: The settings (or just their ``alerts`` part).

    Returns:
        (hassle_id, fresh_share) pairs, by rank.
    """
    cfg = _alert_settings(settings)
    return [
        (row["hassle_id"], float(row["fresh_share"]))
        for row in sorted(candidates, key=lambda r: (r["rank"], r["hassle_id"]))
        if row.get("status") == NEW and not row["generic"] and not _emerging(row, cfg)
    ]


def _emerging(row: dict[str, Any], cfg: AlertSettings) -> bool:
    # A new cluster made of comments the last clustering already had is a regrouping (HDBSCAN
    # redraws its borders as the window moves), not a hassle that has just appeared.
    fresh = row.get("fresh_share")
    return fresh is None or fresh >= cfg.new_min_fresh_share


def qualifying_alerts(
    candidates: Iterable[dict[str, Any]],
    sent: Collection[tuple[str, str]],
    settings: Settings | AlertSettings,
    pending: Collection[tuple[str, str]] = (),
) -> list[Alert]:
    """Every alert due, best rank first, before the ``max_per_run`` cap; see :func:`choose_alerts`."""
    cfg = _alert_settings(settings)
    alerts = []
    for row in sorted(candidates, key=lambda r: (r["rank"], r["hassle_id"])):
        if row["generic"]:
            continue
        hassle_id = row["hassle_id"]
        states = []
        new_now = row.get("status") == NEW and _emerging(row, cfg)
        if cfg.on_new and (new_now or (hassle_id, NEW) in pending):
            states.append(NEW)
        ratio = row.get("trend_7d_ratio")
        if row.get("trend_7d") == RISING and ratio is not None and ratio >= cfg.rising_ratio:
            states.append(RISING)
        states = [s for s in states if (hassle_id, s) not in sent]
        if not states:
            continue
        alerts.append(
            Alert(
                hassle_id=hassle_id,
                states=tuple(states),
                rank=int(row["rank"]),
                label=redact_pii(str(row["label"]))[:LABEL_MAX_CHARS],
                stage=row.get("stage"),
                theme=row.get("theme"),
                score=float(row["total_score"]),
                customers=int(row["customers"]),
                comments=int(row["comments"]),
                trend_7d=str(row.get("trend_7d")),
                trend_7d_ratio=None if ratio is None else float(ratio),
            )
        )
    return alerts


def choose_alerts(
    candidates: Iterable[dict[str, Any]],
    sent: Collection[tuple[str, str]],
    settings: Settings | AlertSettings,
    pending: Collection[tuple[str, str]] = (),
) -> list[Alert]:
    """The hassles to announce now, best rank first, at most ``alerts.max_per_run``.

    A hassle qualifies as ``new`` when its ``hassles.status`` is ``new`` (first found by the
    latest clustering), ``alerts.on_new`` is set, and it is emerging: at least
    ``alerts.new_min_fresh_share`` of its units come from comments newer than the clustering
    before (``fresh_share``; None, as on the first clustering, counts as emerging); as
    ``rising`` when its 7-day trend is ``rising`` (already significance-guarded by the ranker)
    and its 7-day ratio is at least ``alerts.rising_ratio``. Generic hassles never alert, and a (hassle, state) already in
    ``sent`` is skipped. A hassle that qualifies for both gets one alert with both states.
    A ``new`` alert a run could not deliver (in ``pending``) qualifies while its hassle is
    ranked, even once the hassle is no longer new; a pending ``rising`` one only while it rises.

    Args:
        candidates: Rows of :func:`warehouse.alerts.read_alert_candidates`.
        sent: (hassle_id, state) pairs already alerted (a set, or the dict of
            :func:`warehouse.alerts.read_sent`).
        settings: The settings (or just their ``alerts`` part).
        pending: (hassle_id, state) pairs due earlier but not delivered (the dict of
            :func:`warehouse.alerts.read_pending`).

    Returns:
        The alerts, sorted by rank; hassles past the cap are left for a later run (while
        they still qualify).
    """
    due = qualifying_alerts(candidates, sent, settings, pending)
    return due[: _alert_settings(settings).max_per_run]


def stale_rising(
    candidates: Sequence[dict[str, Any]], sent: Collection[tuple[str, str]]
) -> list[str]:
    """Hassles alerted as rising that this ranking no longer has rising (or no longer ranks).

    Args:
        candidates: Rows of the run's ranking (an empty ranking clears nothing).
        sent: (hassle_id, state) pairs already alerted.

    Returns:
        The hassle ids whose ``rising`` record should be cleared, sorted.
    """
    if not candidates:
        return []
    still_rising = {r["hassle_id"] for r in candidates if r.get("trend_7d") == RISING}
    return sorted(h for h, state in sent if state == RISING and h not in still_rising)


def escape_mrkdwn(text: str) -> str:
    """Escape the characters Slack's mrkdwn treats as control characters (&, <, >).

    Args:
        text: Plain text.

    Returns:
        The text, safe to put in a mrkdwn or plain_text field.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ratio_text(alert: Alert, *, short_days: int = 7, baseline_days: int = 28) -> str:
    """The 7-day trend in words, e.g. ``×2.4 a day vs the 28 days before``.

    Args:
        alert: The alert.
        short_days: Days in the recent window (``rank.trend_short_days``).
        baseline_days: Days in the baseline window (``rank.trend_baseline_days``).

    Returns:
        A short phrase.
    """
    if alert.trend_7d_ratio is not None:
        return f"×{alert.trend_7d_ratio:.1f} a day vs the {baseline_days} days before"
    if alert.trend_7d == NEW:
        return f"mentioned in the last {short_days} days, not in the {baseline_days} before"
    return f"too few mentions to compare the last {short_days} days with the {baseline_days} before"


def _summary(alerts: Sequence[Alert]) -> str:
    new = sum(NEW in a.states for a in alerts)
    rising = sum(RISING in a.states for a in alerts)
    parts = [f"{new} new" if new else "", f"{rising} rising" if rising else ""]
    noun = "hassle" if len(alerts) == 1 else "hassles"
    return f"hasslemap: {' and '.join(p for p in parts if p)} {noun}"


def _is_web_link(link: str) -> bool:
    return urllib.parse.urlsplit(link).scheme in ("http", "https")


def _link_mrkdwn(link: str) -> str:
    if _is_web_link(link):
        return f"<{escape_mrkdwn(link)}|Open the full report>"
    return f"Full report: `{escape_mrkdwn(link)}`"


def slack_payload(
    alerts: Sequence[Alert],
    report_link: str | None,
    run_id: str,
    *,
    short_days: int = 7,
    baseline_days: int = 28,
) -> dict[str, Any]:
    """The JSON body a Slack incoming webhook expects for these alerts.

    Args:
        alerts: At most :data:`SLACK_MAX_HASSLES` alerts (Slack caps a message at 50 blocks).
        report_link: URL (linked) or file path (shown as code) of the report; None: no link.
        run_id: The run that ranked them.
        short_days: Days in the recent trend window.
        baseline_days: Days in the baseline trend window.

    Returns:
        ``{"text": fallback summary, "blocks": [header, one section per hassle, context]}``.
    """
    if len(alerts) > SLACK_MAX_HASSLES:
        raise ValueError(f"at most {SLACK_MAX_HASSLES} alerts fit in one Slack message")
    summary = _summary(alerts)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary[:150], "emoji": True}}
    ]
    for a in alerts:
        badges = " · ".join(BADGES[s] for s in a.states)
        lines = [
            f"*#{a.rank} {escape_mrkdwn(a.label)}*   {badges}",
            f"Stage: *{escape_mrkdwn(a.stage or 'unassigned')}* · "
            f"Theme: *{escape_mrkdwn(a.theme or 'unassigned')}*",
            f"Score *{100 * a.score:.0f}*/100 · {a.customers:,} customers · "
            f"{a.comments:,} comments",
            f"Last {short_days} days: "
            f"{ratio_text(a, short_days=short_days, baseline_days=baseline_days)}",
        ]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    context = f"Run `{escape_mrkdwn(run_id)}`"
    if report_link:
        context = f"{_link_mrkdwn(report_link)} · {context}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    fallback = "; ".join(
        f"#{a.rank} {escape_mrkdwn(a.label)} ({', '.join(a.states)})" for a in alerts
    )
    text = f"{summary}: {fallback}"
    if report_link:
        text += f". Report: {escape_mrkdwn(report_link)}"
    return {"text": text, "blocks": blocks}


def plain_text(
    alerts: Sequence[Alert],
    report_link: str | None,
    run_id: str,
    *,
    short_days: int = 7,
    baseline_days: int = 28,
) -> tuple[str, str]:
    """The alerts as (subject, body) plain text, for a notification block or the log.

    Args:
        alerts: The alerts.
        report_link: URL or path of the report; None: no link.
        run_id: The run that ranked them.
        short_days: Days in the recent trend window.
        baseline_days: Days in the baseline trend window.

    Returns:
        A one-line subject and a body with one line per hassle.
    """
    lines = [
        f"#{a.rank} {a.label} [{', '.join(a.states)}] - stage {a.stage or 'unassigned'}, "
        f"theme {a.theme or 'unassigned'} - score {100 * a.score:.0f}/100, "
        f"{a.customers:,} customers, {a.comments:,} comments - last {short_days} days: "
        f"{ratio_text(a, short_days=short_days, baseline_days=baseline_days)}"
        for a in alerts
    ]
    if report_link:
        lines.append(f"Report: {report_link}")
    lines.append(f"Run: {run_id}")
    return _summary(alerts), "\n".join(lines)


def _safe_url(url: str) -> str:
    """The URL without its path and query (a webhook's path is its secret), for messages."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"


def post_json(url: str, payload: dict[str, Any], timeout: float) -> int:
    """POST ``payload`` as JSON; raise :class:`AlertDeliveryError` unless the answer is 2xx.

    Args:
        url: An http(s) URL.
        payload: The JSON body.
        timeout: Seconds to wait for the connection and the answer.

    Returns:
        The HTTP status.
    """
    if not _is_web_link(url):
        raise AlertDeliveryError(f"alerts.webhook_url must be an http(s) URL, got {url[:8]!r}...")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:200].decode("utf-8", "replace")
        raise AlertDeliveryError(
            f"webhook {_safe_url(url)} answered {exc.code}: {detail}"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AlertDeliveryError(f"webhook {_safe_url(url)} unreachable: {reason}") from None
    if not 200 <= status < 300:
        raise AlertDeliveryError(f"webhook {_safe_url(url)} answered {status}")
    return status


def load_notification_block(name: str) -> NotificationBlock:
    """Load a saved Prefect notification block by ``type-slug/name`` or by its name alone.

    Args:
        name: ``slack-webhook/team-alerts``, or ``team-alerts`` when exactly one notification
            block has that name.

    Returns:
        The block, ready for ``notify(body, subject)``.
    """
    import prefect.blocks.notifications  # noqa: F401 - registers the bundled notification blocks
    from prefect.blocks.core import Block

    slug = name if "/" in name else _notification_block_slug(name)
    block = Block.load(slug)
    if not isinstance(block, NotificationBlock):
        raise TypeError(
            f"alerts.prefect_block {name!r} is a {type(block).__name__}, which cannot notify"
        )
    return block


def _notification_block_slug(name: str) -> str:
    from prefect.client.orchestration import get_client

    found: set[str] = set()
    page = 200
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            docs = client.read_block_documents(offset=offset, limit=page, include_secrets=False)
            for doc in docs:
                capabilities = doc.block_schema.capabilities if doc.block_schema else []
                if doc.name == name and doc.block_type and "notify" in capabilities:
                    found.add(f"{doc.block_type.slug}/{doc.name}")
            if len(docs) < page:
                break
            offset += page
    if len(found) != 1:
        which = "none" if not found else ", ".join(sorted(found))
        raise ValueError(
            f"alerts.prefect_block {name!r}: expected one notification block of that name, "
            f"found {which}; write it as <block-type-slug>/<name>, e.g. slack-webhook/{name}"
        )
    return found.pop()


def _batches(alerts: Sequence[Alert], size: int) -> list[Sequence[Alert]]:
    return [alerts[i : i + size] for i in range(0, len(alerts), size)]


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
    ``alerts.max_per_run`` caps the hassles announced for ``run_id`` over all calls, so calling
    it again for the same run (a rerun) sends nothing new.

    Args:
        conn: The warehouse, read-write.
        settings: The settings.
        run_id: The run whose ranking (``hassle_rankings``) to read.
        report_path: The published report, linked when ``alerts.report_url`` is not set.

    Returns:
        ``{"alerts_sent": n, "new": .., "rising": .., "channel": .., "rising_cleared": ..,
        "new_regrouped": ..}`` (new hassles not announced as new: regrouped, see
        :func:`regrouped_new_hassles`).
    """
    logger = get_run_logger()
    cfg = settings.alerts
    candidates = store.read_alert_candidates(conn, run_id)
    sent = store.read_sent(conn)
    pending = store.read_pending(conn)
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
    alerts = due[: max(0, cfg.max_per_run - len(announced))]
    if len(due) > len(alerts):
        logger.info(
            "send_alerts: %d more due hassles not announced: max_per_run (%d) reached for run %s",
            len(due) - len(alerts),
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
    try:
        block = load_notification_block(cfg.prefect_block) if cfg.prefect_block else None
        for batch in _batches(alerts, SLACK_MAX_HASSLES):
            if cfg.webhook_url:
                post_json(
                    cfg.webhook_url,
                    slack_payload(batch, link, run_id, **days),
                    cfg.timeout_seconds,
                )
            subject, body = plain_text(batch, link, run_id, **days)
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
    }
    logger.info(
        "send_alerts: %d hassles announced (%d new, %d rising) via %s",
        counts["alerts_sent"],
        counts["new"],
        counts["rising"],
        counts["channel"],
    )
    return counts
