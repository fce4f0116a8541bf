"""Alert messages: a Slack webhook payload and plain text (subject, body). Pure."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from flows.alerts.policy import NEW, RISING, Alert

# A Slack message holds at most 50 blocks: a header, one section per hassle and a context.
SLACK_MAX_HASSLES = 40
BADGES = {NEW: ":new: New", RISING: ":chart_with_upwards_trend: Rising"}


def escape_mrkdwn(text: str) -> str:
    """Escape the characters Slack's mrkdwn treats as control characters (&, <, >).

    Args:
        text: Plain text.

    Returns:
        The text, safe to put in a mrkdwn or plain_text field.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ratio_text(alert: Alert, *, short_days: int = 7, baseline_days: int = 28) -> str:
    """The 7-day trend in words, e.g. ``share of comments ×2.4 vs the 28 days before``.

    Args:
        alert: The alert.
        short_days: Days in the recent window (``rank.trend_short_days``).
        baseline_days: Days in the baseline window (``rank.trend_baseline_days``).

    Returns:
        A short phrase.
    """
    if alert.trend_7d_ratio is not None:
        return f"share of comments ×{alert.trend_7d_ratio:.1f} vs the {baseline_days} days before"
    if alert.trend_7d == NEW:
        return f"mentioned in the last {short_days} days, not in the {baseline_days} before"
    return f"too few mentions to compare the last {short_days} days with the {baseline_days} before"


def why_text(alert: Alert) -> str:
    """The alert's largest score parts in words, e.g. ``Reach +30 · Severity +21``."""
    return " · ".join(f"{label} +{points:.0f}" for label, points in alert.why)


def _summary(alerts: Sequence[Alert]) -> str:
    new = sum(NEW in a.states for a in alerts)
    rising = sum(RISING in a.states for a in alerts)
    parts = [f"{new} new" if new else "", f"{rising} rising" if rising else ""]
    noun = "hassle" if len(alerts) == 1 else "hassles"
    if new + rising > len(alerts):  # a hassle both new and rising counts in both
        return f"hasslemap: {len(alerts)} {noun}, {' and '.join(parts)}"
    return f"hasslemap: {' and '.join(p for p in parts if p)} {noun}"


def is_web_link(link: str) -> bool:
    """Whether ``link`` is an http(s) URL."""
    return urllib.parse.urlsplit(link).scheme in ("http", "https")


def _link_mrkdwn(link: str) -> str:
    if is_web_link(link):
        # In <url|text> a "|" or ">" in the URL would end it and make the rest the link's text.
        url = link.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
        return f"<{escape_mrkdwn(url)}|Open the full report>"
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
        if a.why:
            lines.append(f"Why: {escape_mrkdwn(why_text(a))}")
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
        + (f" - why: {why_text(a)}" if a.why else "")
        for a in alerts
    ]
    if report_link:
        lines.append(f"Report: {report_link}")
    lines.append(f"Run: {run_id}")
    return _summary(alerts), "\n".join(lines)
