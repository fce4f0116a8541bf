"""Alerts on new and rising hassles: a real webhook server on 127.0.0.1, the real demo warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from conftest import WebhookServer, copy_workspace, demo_sources
from prefect import flow

from config import Settings, load_settings
from config.stages import AlertSettings
from config.taxonomy import load_taxonomy, resolve_taxonomy_path
from flows.alerts import (
    AlertDeliveryError,
    choose_alerts,
    escape_mrkdwn,
    plain_text,
    regrouped_new_hassles,
    send_alerts,
    slack_payload,
    stale_pending,
    stale_rising,
)
from flows.alerts.messages import ratio_text
from flows.alerts.policy import named
from flows.report.columns import Names
from nlp.redact import redact_pii
from warehouse import alerts as store
from warehouse.connection import connect_warehouse, run_sql

pytestmark = pytest.mark.usefixtures("prefect_server")

# --- a copy of the nightly demo workspace, with the webhook configured --------------------


@pytest.fixture
def workspace(
    nightly_demo, demo_dir: Path, tmp_path: Path, webhook: WebhookServer
) -> Iterator[tuple[Settings, duckdb.DuckDBPyConnection, str]]:
    folder, _, _ = nightly_demo
    config = copy_workspace(folder, tmp_path / "workspace", demo_sources(demo_dir))
    with config.open("a", encoding="utf-8") as f:
        f.write(f"alerts:\n  webhook_url: {webhook.url}/hook\n")
    settings = load_settings(config)
    conn = connect_warehouse(settings.warehouse)  # applies 005_alerts to the copied warehouse
    [(run_id,)] = run_sql(
        conn, "SELECT run_id FROM hassle_rankings ORDER BY ranked_at DESC LIMIT 1"
    )
    # The demo run had no channel configured, so it logged (and recorded) its alerts; start
    # from a warehouse that has announced nothing yet.
    run_sql(conn, "DELETE FROM alerts_sent")
    try:
        yield settings, conn, run_id
    finally:
        conn.close()


def run_send_alerts(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    report_path: str | None,
    **options: Any,
) -> dict[str, Any]:
    """Call the task inside a small flow (tasks need a flow run)."""
    task = send_alerts.with_options(**options) if options else send_alerts

    @flow(name="alerts-test")
    def alerts_test() -> dict[str, Any]:
        return task(conn, settings, run_id, report_path)

    return alerts_test()


def due_hassles(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[Any, ...]]:
    """(rank, hassle_id, label, stage, theme) of the run's non-generic new hassles, by rank."""
    return run_sql(
        conn,
        "SELECT r.rank, r.hassle_id, r.label, r.stage, r.theme FROM hassle_rankings AS r "
        "JOIN hassles AS h USING (hassle_id) "
        "WHERE r.run_id = ? AND NOT r.generic AND h.status = 'new' AND r.level = 'child' "
        "ORDER BY r.rank",
        [run_id],
    )


def sent_rows(conn: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return run_sql(conn, "SELECT hassle_id, state, run_id, channel FROM alerts_sent ORDER BY ALL")


def test_the_nightly_run_logs_its_alerts_when_no_channel_is_set(nightly_demo):
    _, _, result = nightly_demo
    alerts = result["stages"]["alerts"]
    assert alerts["channel"] == "log" and alerts["alerts_sent"] == 10  # alerts.max_per_run


def test_parent_hassles_never_alert_on_their_own(two_level_demo):
    """Alerts are about specific hassles: a new parent is not announced, its children are."""
    folder, _, result = two_level_demo
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        candidates = store.read_alert_candidates(conn, result["run_id"])
        levels = dict(run_sql(conn, "SELECT hassle_id, level FROM hassles"))
        # New, non-generic parents that would qualify as new if parents were candidates.
        qualifying_parents = run_sql(
            conn,
            "SELECT count(*) FROM hassle_rankings AS r JOIN hassles AS h USING (hassle_id) "
            "WHERE r.run_id = ? AND r.level = 'parent' AND h.status = 'new' AND NOT r.generic",
            [result["run_id"]],
        )[0][0]
        sent = run_sql(conn, "SELECT hassle_id, run_id FROM alerts_sent")
    assert qualifying_parents > 0
    assert candidates and {levels[row["hassle_id"]] for row in candidates} == {"child"}
    assert [row["rank"] for row in candidates] == list(range(1, len(candidates) + 1))
    assert result["stages"]["alerts"]["alerts_sent"] > 0  # the run announced more children
    assert {levels[h] for h, run in sent if run == result["run_id"]} == {"child"}


def test_the_first_run_announces_its_new_hassles_once_as_slack_json(workspace, webhook, tmp_path):
    settings, conn, run_id = workspace
    report = str(tmp_path / "report & summary.html")
    due = due_hassles(conn, run_id)
    assert due, "the demo's first run has new, specific hassles"
    expected = due[: settings.alerts.max_per_run]

    result = run_send_alerts(conn, settings, run_id, report)

    assert result["alerts_sent"] == len(expected)
    assert result["new"] == len(expected)
    assert result["channel"] == "webhook"
    [payload] = webhook.bodies()
    assert set(payload) == {"text", "blocks"}
    assert payload["text"].startswith("hasslemap: ")
    header, *sections, context = payload["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(sections) == len(expected)
    assert all(s["type"] == "section" and s["text"]["type"] == "mrkdwn" for s in sections)
    rank, _hassle_id, label, stage, theme = expected[0]
    first = sections[0]["text"]["text"]
    assert f"#{rank} {escape_mrkdwn(redact_pii(label))}" in first
    # Named as the report names them ("Change or return"), not by their keys.
    taxonomy = load_taxonomy(resolve_taxonomy_path(settings))
    names = {t.key: t.name for t in (*taxonomy.stages, *taxonomy.themes)}
    assert stage and theme and names[stage] != stage
    assert (
        f"Stage: *{escape_mrkdwn(names[stage])}* · Theme: *{escape_mrkdwn(names[theme])}*" in first
    )
    assert "/100" in first and "customers" in first and "comments" in first
    assert context["type"] == "context"
    assert escape_mrkdwn(report) in context["elements"][0]["text"]
    assert "&amp;" in context["elements"][0]["text"]  # the & in the path is escaped for mrkdwn
    # Recorded only what was sent: one 'new' row per announced hassle (and 'rising' where due).
    rows = sent_rows(conn)
    assert {(h, s) for h, s, *_ in rows if s == "new"} == {(h, "new") for _, h, *_ in expected}
    assert {(r, c) for *_, r, c in rows} == {(run_id, "webhook")}
    assert sum(s == "rising" for _, s, *_ in rows) == result["rising"]
    [(stored,)] = run_sql(
        conn, "SELECT payload FROM alerts_sent WHERE hassle_id = ? AND state = 'new'", [due[0][1]]
    )
    assert json.loads(stored)["rank"] == rank


def test_a_second_call_for_the_same_run_sends_nothing_and_clears_stale_rises(
    workspace, webhook, tmp_path
):
    settings, conn, run_id = workspace
    report = str(tmp_path / "report.html")
    due = due_hassles(conn, run_id)
    first = run_send_alerts(conn, settings, run_id, report)
    assert first["alerts_sent"] == min(len(due), settings.alerts.max_per_run) > 0
    before = sent_rows(conn)
    # A hassle once announced as rising that this ranking does not have rising: cleared.
    [(calm,)] = run_sql(
        conn,
        "SELECT hassle_id FROM hassle_rankings WHERE run_id = ? AND trend_7d <> 'rising' "
        "ORDER BY rank LIMIT 1",
        [run_id],
    )
    store.record_sent(
        conn,
        [
            {
                "hassle_id": calm,
                "state": "rising",
                "run_id": "earlier-run",
                "sent_at": datetime(2026, 1, 1),
                "channel": "webhook",
                "payload": {"note": "an earlier rise"},
            }
        ],
    )

    second = run_send_alerts(conn, settings, run_id, report)

    assert second["alerts_sent"] == 0
    assert second["rising_cleared"] == 1
    assert len(webhook.posts) == 1, "no second POST"
    assert sent_rows(conn) == before
    # The demo has more due hassles than max_per_run: those past it wait in alerts_pending,
    # and a later ranking announces the next ones (never one already announced), even once
    # the next night's clustering has made every hassle 'active' (they were lost before).
    assert len(due) > settings.alerts.max_per_run
    held = {h for h, s in run_sql(conn, "SELECT hassle_id, state FROM alerts_pending")}
    assert held == {h for _, h, *_ in due[settings.alerts.max_per_run :]}
    run_sql(
        conn,
        "INSERT INTO hassle_rankings SELECT * REPLACE ('later-run' AS run_id, "
        "now()::TIMESTAMP AS ranked_at) FROM hassle_rankings WHERE run_id = ?",
        [run_id],
    )
    run_sql(conn, "UPDATE hassles SET status = 'active' WHERE status = 'new'")
    third = run_send_alerts(conn, settings, "later-run", report)
    expected = due[settings.alerts.max_per_run : 2 * settings.alerts.max_per_run]
    assert third["alerts_sent"] == len(expected)
    [_, payload] = webhook.bodies()
    assert f"#{expected[0][0]} " in payload["blocks"][1]["text"]["text"]
    later = {h for h, s, r, _ in sent_rows(conn) if r == "later-run" and s == "new"}
    assert later == {h for _, h, *_ in expected}


def test_held_alerts_are_no_delivery_attempt_and_are_dropped_with_a_reason_once_stale(
    workspace, webhook, tmp_path, caplog
):
    settings, conn, run_id = workspace
    report = str(tmp_path / "report.html")
    run_send_alerts(conn, settings, run_id, report)
    held = run_sql(conn, "SELECT hassle_id, state, failed_at, attempts FROM alerts_pending")
    assert held and {(f, a) for _, _, f, a in held} == {(None, 0)}, "held is not failed"
    store.record_pending(conn, [("H-9999", "new")], run_id, datetime(2026, 1, 1), "held back")
    # Four nights later the held hassles are long active: their "new" is no longer news.
    run_sql(conn, "UPDATE hassles SET status = 'active' WHERE status = 'new'")
    for night in range(1, 5):
        run_sql(
            conn,
            "INSERT INTO hassle_rankings SELECT * REPLACE (? AS run_id, "
            "ranked_at + to_days(?) AS ranked_at) FROM hassle_rankings WHERE run_id = ?",
            [f"night-{night}", night, run_id],
        )

    late = run_send_alerts(conn, settings, "night-4", report)

    held_new = sum(state == "new" for _, state, *_ in held)
    assert late["pending_dropped"] == {"no longer new": held_new, "retired": 1}
    assert not {(h, s) for h, s, r, _ in sent_rows(conn) if r == "night-4" and s == "new"}
    assert not run_sql(conn, "SELECT * FROM alerts_pending WHERE state = 'new'")
    [line] = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert f"{held_new + 1} pending alert(s) dropped unsent" in line and "H-9999" in line


def test_the_run_sends_tonights_news_before_alerts_an_earlier_run_held_back(
    workspace, webhook, tmp_path
):
    # The flow caps what it sends itself: the news goes first there too, not only in
    # choose_alerts. All but the lowest-ranked due hassle were announced-to-be by an earlier
    # run (pending, and active now); that one is new tonight.
    settings, conn, run_id = workspace
    due = [hassle_id for _, hassle_id, *_ in due_hassles(conn, run_id)]
    assert len(due) >= 3
    *held, fresh = due
    run_sql(conn, "UPDATE hassles SET status = 'active' WHERE hassle_id <> ?", [fresh])
    store.record_pending(
        conn, [(h, "new") for h in held], "earlier", datetime(2026, 1, 1), "held", attempted=False
    )
    capped = settings.model_copy(
        update={"alerts": settings.alerts.model_copy(update={"max_per_run": 2})}
    )

    result = run_send_alerts(conn, capped, run_id, str(tmp_path / "r.html"))

    assert result["alerts_sent"] == 2
    assert {h for h, *_ in sent_rows(conn)} == {held[0], fresh}


def test_a_failing_webhook_raises_and_records_nothing(workspace, webhook, tmp_path):
    settings, conn, run_id = workspace
    webhook.status = 500

    with pytest.raises(AlertDeliveryError, match="answered 500"):
        run_send_alerts(conn, settings, run_id, str(tmp_path / "report.html"), retries=0)

    assert len(webhook.posts) == 1
    assert sent_rows(conn) == []


def test_a_retry_after_a_failure_delivers_and_records(workspace, webhook, tmp_path):
    settings, conn, run_id = workspace
    webhook.statuses = [503]  # then 200

    result = run_send_alerts(
        conn, settings, run_id, str(tmp_path / "report.html"), retries=1, retry_delay_seconds=0
    )

    assert len(webhook.posts) == 2 and webhook.bodies()[0] == webhook.bodies()[1]
    assert result["alerts_sent"] > 0
    assert len({h for h, *_ in sent_rows(conn)}) == result["alerts_sent"]


def test_an_unreachable_webhook_raises(workspace, tmp_path):
    settings, conn, run_id = workspace
    closed = WebhookServer()  # bound, then closed: nothing listens on its port
    port = closed.server_address[1]
    closed.server_close()
    alerts = settings.alerts.model_copy(
        update={"webhook_url": f"http://127.0.0.1:{port}/hook", "timeout_seconds": 2}
    )

    with pytest.raises(AlertDeliveryError, match="unreachable"):
        run_send_alerts(
            conn, settings.model_copy(update={"alerts": alerts}), run_id, None, retries=0
        )
    assert sent_rows(conn) == []


@pytest.mark.parametrize("by_slug", [True, False], ids=["type-slug/name", "name"])
def test_a_prefect_notification_block_gets_plain_text(workspace, webhook, by_slug):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    settings, conn, run_id = workspace
    name = f"hasslemap-alerts-{'slug' if by_slug else 'name'}"
    CustomWebhookNotificationBlock(
        name="hasslemap",
        url=f"{webhook.url}/block",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        timeout=5,
    ).save(name, overwrite=True)
    alerts = AlertSettings(
        prefect_block=f"custom-webhook/{name}" if by_slug else name,
        report_url="https://reports.example.test/hasslemap?run=1&top=10",
    )

    result = run_send_alerts(conn, settings.model_copy(update={"alerts": alerts}), run_id, None)

    assert result["channel"] == "prefect_block" and result["alerts_sent"] > 0
    assert webhook.bodies("/hook") == []
    [message] = webhook.bodies("/block")
    assert message["subject"].startswith("hasslemap: ")
    rank, _, label, *_ = due_hassles(conn, run_id)[0]
    assert f"#{rank} {redact_pii(label)}" in message["body"]
    assert "Report: https://reports.example.test/hasslemap?run=1&top=10" in message["body"]
    assert {c for *_, c in sent_rows(conn)} == {"prefect_block"}


def test_with_no_channel_the_alerts_are_logged_once(workspace, webhook, caplog):
    settings, conn, run_id = workspace
    settings = settings.model_copy(update={"alerts": AlertSettings()})

    first = run_send_alerts(conn, settings, run_id, "var/reports/report.html")
    second = run_send_alerts(conn, settings, run_id, "var/reports/report.html")

    assert first["channel"] == "log" and first["alerts_sent"] > 0
    assert second["alerts_sent"] == 0
    assert webhook.posts == []
    assert {c for *_, c in sent_rows(conn)} == {"log"}
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("hasslemap: ")]
    assert len(logged) == 1 and "Report: var/reports/report.html" in logged[0]


# --- choose_alerts and the payloads, on hand-made rows --------------------------------------


def candidate(hassle_id: str = "H-0001", **overrides: Any) -> dict[str, Any]:
    row = {
        "rank": 1,
        "hassle_id": hassle_id,
        "label": "Refund takes weeks",
        "stage": "refund",
        "theme": "billing",
        "generic": False,
        "total_score": 0.8123,
        "customers": 120,
        "comments": 340,
        "trend": "steady",
        "trend_7d": "steady",
        "trend_7d_ratio": 1.1,
        "trend_7d_p": 0.4,
        "change": "steady",
        "status": "active",
        "fresh_share": None,
    }
    return {**row, **overrides}


RISING = {"trend": "rising", "trend_7d": "rising", "trend_7d_ratio": 2.4, "trend_7d_p": 0.001}
SETTINGS = AlertSettings(rising_ratio=1.5)


def test_a_rise_past_the_threshold_alerts_once():
    rows = [candidate(**RISING)]
    [alert] = choose_alerts(rows, set(), SETTINGS)
    assert (alert.hassle_id, alert.states) == ("H-0001", ("rising",))
    assert choose_alerts(rows, {("H-0001", "rising")}, SETTINGS) == []
    # Already announced as new does not stop the rise from being announced.
    assert len(choose_alerts(rows, {("H-0001", "new")}, SETTINGS)) == 1


def test_a_rise_below_the_threshold_or_not_significant_does_not_alert():
    assert choose_alerts([candidate(**{**RISING, "trend_7d_ratio": 1.4})], set(), SETTINGS) == []
    assert choose_alerts([candidate(**{**RISING, "trend_7d_ratio": None})], set(), SETTINGS) == []
    # A big ratio the ranker did not find significant (trend_7d steady) is not a rise.
    assert choose_alerts([candidate(trend_7d_ratio=3.0)], set(), SETTINGS) == []
    assert (
        len(choose_alerts([candidate(**{**RISING, "trend_7d_ratio": 1.5})], set(), SETTINGS)) == 1
    )


def test_a_known_hassle_back_from_silence_alerts_as_rising_and_a_new_one_as_new():
    """A significant burst with no mention in the 28 days before rises without bound."""
    back = {"trend": "new", "trend_7d": "new", "trend_7d_ratio": None, "trend_7d_p": 1e-9}
    [alert] = choose_alerts([candidate(**back)], set(), SETTINGS)
    assert (alert.states, alert.trend_7d) == (("rising",), "new")
    assert "not in the 28 before" in ratio_text(alert)
    new = choose_alerts([candidate(status="new", **back)], set(), SETTINGS)
    assert [a.states for a in new] == [("new",)]
    # Found last night and announced as new, it is active tonight with the same burst: that
    # is no return from silence, and it is not announced again as rising.
    found_lately = candidate(status="active", seen_before_window=False, **back)
    assert choose_alerts([found_lately], {("H-0001", "new")}, SETTINGS) == []
    # Not known to be recent (no hassles row to tell): a known hassle's return, as before.
    unknown = candidate(status="active", seen_before_window=None, **back)
    assert [a.states for a in choose_alerts([unknown], set(), SETTINGS)] == [("rising",)]
    # Sent as rising, it is not cleared (and sent again) while the burst goes on.
    assert stale_rising([candidate(**back)], {("H-0001", "rising")}) == []


def test_an_alert_names_a_stage_and_a_theme_of_one_key_each_by_its_own_name():
    # A key may be both a stage and a theme (the taxonomy allows it): each keeps its name.
    [alert] = choose_alerts(
        [candidate(stage="billing", theme="billing", **RISING)], set(), SETTINGS
    )
    names = Names({"billing": "Billing and payment"}, {"billing": "Surprise charges"})
    shown = named(alert, names)
    assert (shown.stage, shown.theme) == ("Billing and payment", "Surprise charges")
    assert named(replace(alert, stage=None), names).stage is None


def test_generic_hassles_never_alert():
    rows = [candidate(generic=True, status="new", **RISING)]
    assert choose_alerts(rows, set(), SETTINGS) == []


def test_a_hassle_fewer_than_min_customers_raised_never_alerts():
    """One long review cut into 14 clauses made a "new hassle" alert (session 42's probe)."""
    few = [candidate(status="new", customers=2, comments=2, **RISING)]
    assert choose_alerts(few, set(), SETTINGS) == []
    assert choose_alerts([candidate(customers=2, **RISING)], set(), SETTINGS) == []
    [alert] = choose_alerts([candidate(status="new", customers=3, **RISING)], set(), SETTINGS)
    assert alert.states == ("new", "rising")
    assert choose_alerts(few, set(), AlertSettings(min_customers=2)) != []
    # One that waited since it had more customers is dropped, not kept waiting for ever.
    waiting = {("H-0001", "rising"): 1, ("H-0001", "new"): 1}
    assert stale_pending(few, waiting, SETTINGS) == dict.fromkeys(waiting, "too few customers")


def test_new_hassles_alert_once_and_only_with_on_new():
    rows = [candidate(status="new", trend_7d="new", trend_7d_ratio=None)]
    [alert] = choose_alerts(rows, set(), SETTINGS)
    assert alert.states == ("new",)
    assert choose_alerts(rows, {("H-0001", "new")}, SETTINGS) == []
    assert choose_alerts(rows, set(), AlertSettings(on_new=False)) == []
    # New and rising at once: one alert carrying both states.
    [both] = choose_alerts([candidate(status="new", **RISING)], set(), SETTINGS)
    assert both.states == ("new", "rising")


def test_a_pending_new_alert_still_goes_out_once_the_hassle_is_active():
    pending = {("H-0001", "new"), ("H-0002", "rising")}
    rows = [candidate(status="active"), candidate("H-0002", rank=2)]  # H-0002 no longer rises
    [alert] = choose_alerts(rows, set(), SETTINGS, pending)
    assert (alert.hassle_id, alert.states) == ("H-0001", ("new",))
    assert choose_alerts(rows, {("H-0001", "new")}, SETTINGS, pending) == []
    assert choose_alerts(rows, set(), AlertSettings(on_new=False), pending) == []


def test_a_pending_alert_is_dropped_once_untrue_or_late_or_its_hassle_retired():
    # read_pending's ages: rankings since the one that made the alert due.
    pending = {
        ("H-0001", "new"): 3,  # active, but within alerts.pending_new_runs: still goes out
        ("H-0002", "new"): 9,  # still new (not clustered since): still true
        ("H-0003", "new"): 4,  # active for longer than pending_new_runs: no longer news
        ("H-0004", "rising"): 1,  # no longer rising
        ("H-0005", "new"): 0,  # no longer ranked: retired
        ("H-0006", "rising"): 5,  # still rising
        ("H-0007", "rising"): 2,  # still rising, but by less than alerts.rising_ratio
    }
    rows = [
        candidate(status="active"),
        candidate("H-0002", rank=2, status="new"),
        candidate("H-0003", rank=3, status="active"),
        candidate("H-0004", rank=4),
        candidate("H-0006", rank=5, **RISING),
        candidate("H-0007", rank=6, **{**RISING, "trend_7d_ratio": 1.2}),
    ]
    cfg = AlertSettings(pending_new_runs=3, rising_ratio=1.5)
    assert stale_pending(rows, pending, cfg) == {
        ("H-0003", "new"): "no longer new",
        ("H-0004", "rising"): "no longer rising",
        ("H-0005", "new"): "retired",
        ("H-0007", "rising"): "no longer rising",
    }
    assert stale_pending([], pending, cfg) == {}, "an empty ranking retires nothing"
    assert AlertSettings().pending_new_runs == 3


def test_a_new_hassle_regrouped_from_older_comments_does_not_alert_as_new():
    # Measured (docs/benchmarks.md): a hassle that has just appeared has 0.33 to 1.0 of its
    # comments from after the last clustering; one HDBSCAN regrouped from older comments 0.02.
    regrouped = candidate(status="new", trend_7d="steady", fresh_share=0.02)
    emerging = candidate("H-0002", status="new", trend_7d="steady", fresh_share=0.33)
    at_threshold = candidate("H-0003", status="new", fresh_share=0.25)
    alerts = choose_alerts([regrouped, emerging, at_threshold], set(), SETTINGS)
    assert [a.hassle_id for a in alerts] == ["H-0002", "H-0003"]
    # A regrouped hassle that is rising still alerts, as rising.
    [rising] = choose_alerts([candidate(status="new", fresh_share=0.02, **RISING)], set(), SETTINGS)
    assert rising.states == ("rising",)
    # The threshold is the setting's; 0 alerts every new hassle.
    assert len(choose_alerts([regrouped], set(), AlertSettings(new_min_fresh_share=0))) == 1
    # The run's log names the ones held back.
    generic = candidate("H-0009", status="new", generic=True, fresh_share=0.0)
    rows = [regrouped, emerging, at_threshold, generic]
    assert regrouped_new_hassles(rows, SETTINGS) == [("H-0001", 0.02)]


def test_the_first_clustering_has_no_fresh_share_so_its_new_hassles_count_as_emerging(workspace):
    _, conn, run_id = workspace
    rows = store.read_alert_candidates(conn, run_id)
    assert rows and all(row["fresh_share"] is None for row in rows)
    assert {row["status"] for row in rows} == {"new"}


def test_a_rise_that_ends_is_cleared_and_a_new_rise_alerts_again():
    sent: set[tuple[str, str]] = set()
    night = [candidate(**RISING), candidate("H-0002", rank=2, **RISING)]
    for alert in choose_alerts(night, sent, SETTINGS):
        sent |= {(alert.hassle_id, s) for s in alert.states}
    assert sent == {("H-0001", "rising"), ("H-0002", "rising")}
    # Next night H-0001 is steady, H-0002 still rising (but under the threshold): only H-0001 clears.
    night = [candidate(), candidate("H-0002", rank=2, **{**RISING, "trend_7d_ratio": 1.2})]
    assert stale_rising(night, sent) == ["H-0001"]
    sent -= {("H-0001", "rising")}
    assert choose_alerts(night, sent, SETTINGS) == []
    # It rises again: announced again; H-0002 stays quiet.
    night = [candidate(**RISING), candidate("H-0002", rank=2, **RISING)]
    assert [a.hassle_id for a in choose_alerts(night, sent, SETTINGS)] == ["H-0001"]
    # An empty ranking clears nothing; a hassle gone from the ranking is cleared.
    assert stale_rising([], sent) == []
    assert stale_rising([candidate("H-0003")], sent) == ["H-0002"]


def test_alerts_are_sorted_by_rank_and_capped():
    rows = [candidate(f"H-{i:04d}", rank=i, status="new") for i in range(15, 0, -1)]
    rows.append(candidate("H-0099", rank=0, generic=True, status="new"))
    alerts = choose_alerts(rows, set(), AlertSettings(max_per_run=4))
    assert [a.rank for a in alerts] == [1, 2, 3, 4]


def test_past_the_cap_tonights_news_goes_before_alerts_held_back_earlier():
    # A first run's 92 new hassles, 10 a night: a hassle new on night 2 waited until night 5
    # behind the backlog, announced below it as "[new]" while the views called them active.
    held = [candidate(f"H-{i:04d}", rank=i, status="active") for i in range(1, 9)]
    pending = {(row["hassle_id"], "new") for row in held}
    fresh_new = candidate("H-0116", rank=40, status="new", fresh_share=0.9)
    rising = candidate("H-0050", rank=30, **RISING)
    rows = [*held, fresh_new, rising]
    alerts = choose_alerts(rows, set(), AlertSettings(max_per_run=4), pending)
    assert [a.hassle_id for a in alerts] == ["H-0001", "H-0002", "H-0050", "H-0116"]
    # Under the cap, everything due goes out, by rank.
    alerts = choose_alerts(iter(rows), set(), AlertSettings(max_per_run=20), pending)
    assert [a.rank for a in alerts] == [*range(1, 9), 30, 40]


def test_the_slack_payload_escapes_labels_and_links_the_report():
    rows = [
        candidate(label="Fees <b>hidden</b> & late", **RISING),
        candidate("H-0002", rank=3, status="new", trend_7d="new", trend_7d_ratio=None, stage=None),
    ]
    alerts = choose_alerts(rows, set(), SETTINGS)
    payload = slack_payload(alerts, "https://example.test/r?a=1&b=2", "run-7")
    json.dumps(payload)  # serialisable as it is
    header, first, second, context = payload["blocks"]
    assert header["text"]["text"] == "hasslemap: 1 new and 1 rising hassles"
    text = first["text"]["text"]
    assert "*#1 Fees &lt;b&gt;hidden&lt;/b&gt; &amp; late*" in text
    assert "<b>" not in text and "<b>" not in payload["text"]
    assert "Stage: *refund* · Theme: *billing*" in text
    assert "Score *81*/100 · 120 customers · 340 comments" in text
    assert "share of comments ×2.4 vs the 28 days before" in text
    assert "Stage: *unassigned*" in second["text"]["text"]
    assert "not in the 28 before" in second["text"]["text"]
    assert context["elements"][0]["text"].startswith(
        "<https://example.test/r?a=1&amp;b=2|Open the full report>"
    )
    assert "run-7" in context["elements"][0]["text"]
    spoofed = slack_payload(alerts, "http://evil.example/r>|<!channel>", "run-7")
    assert spoofed["blocks"][-1]["elements"][0]["text"].startswith(
        "<http://evil.example/r%3E%7C%3C!channel%3E|Open the full report>"
    )
    subject, body = plain_text(alerts, "https://example.test/r", "run-7", baseline_days=21)
    assert subject == "hasslemap: 1 new and 1 rising hassles"
    assert "#1 Fees <b>hidden</b> & late [rising]" in body and "vs the 21 days before" in body
    # A hassle both new and rising counts in both: the header says how many hassles there are.
    both = choose_alerts(
        [*rows, candidate("H-0003", rank=4, status="new", **RISING)], set(), SETTINGS
    )
    assert plain_text(both, None, "run-7")[0] == "hasslemap: 3 hassles, 2 new and 2 rising"


def test_labels_are_redacted_before_they_leave():
    [alert] = choose_alerts(
        [candidate(label="Card 4111 1111 1111 1111 charged twice", **RISING)], set(), SETTINGS
    )
    assert "4111 1111 1111 1111" not in alert.label
    assert "4111" not in json.dumps(slack_payload([alert], None, "r"))


# --- the nightly run: alerts fail alone, and the next run sends what they could not -------


def _alerting_workspace(nightly_demo, demo_dir: Path, folder: Path, webhook_url: str) -> Path:
    """A copy of the demo workspace that has announced nothing yet, posting to ``webhook_url``."""
    source, _, _ = nightly_demo
    config = copy_workspace(source, folder, demo_sources(demo_dir))
    _point_alerts_at(config, webhook_url)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as conn:
        conn.execute("DELETE FROM alerts_sent")
    return config


def _point_alerts_at(config: Path, webhook_url: str) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["report"] = {"out_dir": str(config.parent / "reports")}
    # No cap: every due hassle goes out in the first try, so both runs try the same alerts.
    data["alerts"] = {"webhook_url": webhook_url, "timeout_seconds": 2, "max_per_run": 40}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")


def _run_warnings_artifacts(run_id: str) -> list[str]:
    """The run-warnings artifacts of a flow run, as their Markdown."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    key = ArtifactFilterKey(any_=["run-warnings"])
    of_run = ArtifactFilterFlowRunId(any_=[run_id])
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=key, flow_run_id=of_run))
    return [str(a.data) for a in found]


@pytest.mark.e2e
@pytest.mark.parametrize("failure", ["answers 500", "port closed"])
def test_a_failing_webhook_fails_alone_and_the_next_run_sends_its_alerts(
    nightly_demo, demo_dir, tmp_path, webhook, failure
):
    from flows.nightly import nightly

    if failure == "answers 500":
        webhook.status = 500
        url = f"{webhook.url}/hook"
    else:
        closed = WebhookServer()  # bound, then closed: nothing listens on its port
        url = f"http://127.0.0.1:{closed.server_address[1]}/hook"
        closed.server_close()
    folder = tmp_path / "ws"
    config = _alerting_workspace(nightly_demo, demo_dir, folder, url)

    first = nightly(str(config))

    alerts = first["stages"]["alerts"]
    assert alerts["failed"] and (
        "answered 500" in alerts["error"] or "unreachable" in alerts["error"]
    )
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        [(status, counts)] = conn.execute(
            "SELECT status, stage_counts FROM runs WHERE run_id = ?", [first["run_id"]]
        ).fetchall()
        assert sent_rows(conn) == []
        pending = set(conn.execute("SELECT hassle_id, state FROM alerts_pending").fetchall())
    assert status == "completed" and json.loads(counts)["alerts"]["failed"] is True
    assert alerts["pending"] == len({hassle_id for hassle_id, _ in pending}) > 0
    # A served run has no terminal to print its warnings on: its artifact says it.
    [said] = _run_warnings_artifacts(first["run_id"])
    assert "alerts failed: AlertDeliveryError" in said and "hassle alert(s) wait in" in said
    assert Path(first["stages"]["publish"]["report"]).is_file()
    with duckdb.connect(first["stages"]["snapshot"]["path"], read_only=True) as snapshot:
        assert snapshot.execute("SELECT run_id FROM snapshot_info").fetchone() == (first["run_id"],)

    # A later clustering makes the hassles active: only alerts_pending still knows they are news.
    with duckdb.connect(str(folder / "warehouse.duckdb")) as conn:
        conn.execute("UPDATE hassles SET status = 'active' WHERE status = 'new'")
    webhook.status = 200
    with webhook.lock:
        webhook.posts.clear()
    _point_alerts_at(config, f"{webhook.url}/hook")

    second = nightly(str(config))

    assert second["stages"]["alerts"]["alerts_sent"] == len({h for h, _ in pending})
    assert len(webhook.bodies()) == 1
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        assert {(h, s) for h, s, *_ in sent_rows(conn)} == pending
        assert {r for _, _, r, _ in sent_rows(conn)} == {second["run_id"]}
        assert conn.execute("SELECT count(*) FROM alerts_pending").fetchone() == (0,)


def test_an_alert_names_its_largest_score_parts_from_the_factor_registry():
    weights = {"reach": 0.5, "severity": 0.2, "spread": 0.1, "trend": 0.2}
    parts = {"reach": 0.6, "severity": 0.9, "spread": 0.1, "trend": 0.9}
    rows = [candidate(weights=json.dumps(weights), parts=parts, **RISING)]
    [alert] = choose_alerts(rows, set(), SETTINGS)
    assert alert.why == (("Reach", 30.0), ("Severity", pytest.approx(18.0)), ("Trend", 18.0))
    text = slack_payload([alert], None, "r")["blocks"][1]["text"]["text"]
    assert text.endswith("Why: Reach +30 · Severity +18 · Trend +18")
    assert "- why: Reach +30 · Severity +18 · Trend +18" in plain_text([alert], None, "r")[1]
    # A steady trend (0.5, its neutral value) is no reason, however many points it carries.
    steady = candidate(weights=json.dumps(weights), parts={**parts, "trend": 0.5}, **RISING)
    [alert] = choose_alerts([steady], set(), SETTINGS)
    assert [label for label, _ in alert.why] == ["Reach", "Severity", "Spread across channels"]
    assert json.loads(json.dumps(alert.facts()))["why"][0] == ["Reach", 30.0]
    # Without parts (as before any ranking stored them) the message is as it was.
    [plain] = choose_alerts([candidate(**RISING)], set(), SETTINGS)
    assert plain.why == () and "Why:" not in json.dumps(slack_payload([plain], None, "r"))
