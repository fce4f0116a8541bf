"""alerts_sent: merged on (hassle_id, state), cleared per state, bound parameters throughout."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest

from warehouse import alerts as store
from warehouse.connection import connect_warehouse
from warehouse.core import run_sql


def sent(hassle_id: str, state: str, run_id: str = "run-1", **extra) -> dict:
    return {
        "hassle_id": hassle_id,
        "state": state,
        "run_id": run_id,
        "sent_at": datetime(2026, 3, 1, 2, 0),
        "channel": "webhook",
        "payload": {"label": f"label of {hassle_id}", "rank": 1},
        **extra,
    }


@pytest.fixture
def conn(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    yield conn
    conn.close()


def test_recording_merges_on_hassle_and_state(conn):
    store.record_sent(conn, [sent("H-0001", "new"), sent("H-0001", "rising")])
    store.record_sent(conn, [sent("H-0001", "new", "run-2", channel="log")])
    assert store.read_sent(conn) == {("H-0001", "new"): "run-2", ("H-0001", "rising"): "run-1"}
    rows = run_sql(conn, "SELECT state, run_id, channel, payload FROM alerts_sent ORDER BY state")
    assert [r[:3] for r in rows] == [("new", "run-2", "log"), ("rising", "run-1", "webhook")]
    assert json.loads(rows[0][3]) == {"label": "label of H-0001", "rank": 1}
    store.record_sent(conn, [])  # nothing to do


def test_clearing_a_state_leaves_the_others(conn):
    store.record_sent(
        conn, [sent("H-0001", "new"), sent("H-0001", "rising"), sent("H-0002", "rising")]
    )
    assert store.clear_states(conn, ["H-0001", "H-0001", "H-0009"], "rising") == 1
    assert store.clear_states(conn, [], "rising") == 0
    assert set(store.read_sent(conn)) == {("H-0001", "new"), ("H-0002", "rising")}


def test_quotes_in_ids_are_data_not_sql(conn):
    tricky = "H-1'); DELETE FROM alerts_sent; --"
    store.record_sent(conn, [sent("H-0001", "rising"), sent(tricky, "rising")])
    store.clear_states(conn, [tricky], "rising")
    assert set(store.read_sent(conn)) == {("H-0001", "rising")}


def test_states_and_channels_are_checked(conn):
    with pytest.raises(duckdb.ConstraintException):
        store.record_sent(conn, [sent("H-0001", "falling")])
    with pytest.raises(duckdb.ConstraintException):
        store.record_sent(conn, [sent("H-0001", "new", channel="email")])
    assert store.read_sent(conn) == {}


def test_candidates_are_the_runs_ranking_with_hassle_status(conn):
    run_sql(
        conn,
        "INSERT INTO hassles (hassle_id, label, keyphrases, quote_unit_ids, units, status, "
        "first_seen, last_seen, first_run_id, last_run_id, centroid) VALUES "
        "('H-0001', 'a', [], [], 3, 'new', now(), now(), 'run-1', 'run-1', [1.0]), "
        "('H-0002', 'b', [], [], 3, 'active', now() - INTERVAL 9 DAY, now(), 'run-0', 'run-1', "
        "[1.0])",
    )
    for run_id, hassle_id, rank in (
        ("run-1", "H-0002", 1),
        ("run-1", "H-0001", 2),
        ("run-0", "H-0002", 1),
    ):
        run_sql(
            conn,
            "INSERT INTO hassle_rankings (run_id, rank, hassle_id, label, generic, total_score, "
            "weights, customers, comments, severity_mean, severity_p90, trend, trend_7d, "
            "trend_7d_ratio, trend_30d, channels, channel_count, repeat_customers, change, "
            "example_unit_ids, ranked_at) VALUES (?, ?, ?, 'x', false, 0.5, '{}', 4, 5, 0.5, 0.6, "
            "'rising', 'rising', 2.0, 'steady', '{}', 1, 0, 'new', [], now())",
            [run_id, rank, hassle_id],
        )
    rows = store.read_alert_candidates(conn, "run-1")
    assert [(r["rank"], r["hassle_id"], r["status"]) for r in rows] == [
        (1, "H-0002", "active"),
        (2, "H-0001", "new"),
    ]
    assert set(rows[0]) == set(store.CANDIDATE_COLUMNS)
    assert rows[0]["trend_7d_ratio"] == 2.0
    # Found 9 days before the ranking, H-0002 was known before a 7-day window; H-0001 not.
    assert [r["seen_before_window"] for r in rows] == [True, False]
    assert [r["seen_before_window"] for r in store.read_alert_candidates(conn, "run-1", 10)] == [
        False,
        False,
    ]
    assert store.read_alert_candidates(conn, "no-such-run") == []


def pending_rows(conn) -> list[tuple]:
    return run_sql(
        conn,
        "SELECT hassle_id, state, run_id, failed_at, attempts, error FROM alerts_pending "
        "ORDER BY hassle_id, state",
    )


def test_holding_an_alert_back_is_no_delivery_attempt(conn):
    held_at, failed_at = datetime(2026, 3, 1, 2, 0), datetime(2026, 3, 2, 2, 0)
    store.record_pending(conn, [("H-0001", "new")], "run-1", held_at, "held back", attempted=False)
    assert pending_rows(conn) == [("H-0001", "new", "run-1", None, 0, "held back")]
    store.record_pending(conn, [("H-0001", "new")], "run-2", failed_at, "webhook answered 500")
    assert pending_rows(conn) == [("H-0001", "new", "run-1", failed_at, 1, "webhook answered 500")]
    # Held back again: the failed delivery stays counted and dated, the reason is the latest.
    store.record_pending(conn, [("H-0001", "new")], "run-3", held_at, "held back", attempted=False)
    assert pending_rows(conn) == [("H-0001", "new", "run-1", failed_at, 1, "held back")]


def rank(conn, run_id: str, hassle_id: str, ranked_at: datetime) -> None:
    run_sql(
        conn,
        "INSERT INTO hassle_rankings (run_id, rank, hassle_id, label, generic, total_score, "
        "weights, customers, comments, severity_mean, severity_p90, trend, trend_7d, "
        "trend_7d_ratio, trend_30d, channels, channel_count, repeat_customers, change, "
        "example_unit_ids, ranked_at) VALUES (?, 1, ?, 'x', false, 0.5, '{}', 4, 5, 0.5, 0.6, "
        "'new', 'new', NULL, 'new', '{}', 1, 0, 'new', [], ?)",
        [run_id, hassle_id, ranked_at],
    )


def test_pending_alerts_are_read_with_the_rankings_since_they_were_due_and_dropped(conn):
    for day, run_id in enumerate(("run-1", "run-2", "run-3"), start=1):
        rank(conn, run_id, "H-0001", datetime(2026, 3, day, 2, 0))
    at = datetime(2026, 3, 3, 2, 0)
    store.record_pending(conn, [("H-0001", "new")], "run-1", at, "held back", attempted=False)
    store.record_pending(conn, [("H-0002", "rising")], "run-3", at, "webhook answered 500")
    assert store.read_pending(conn) == {("H-0001", "new"): 2, ("H-0002", "rising"): 0}
    assert store.drop_pending(conn, [("H-0001", "new"), ("H-0009", "new")]) == 1
    assert store.drop_pending(conn, []) == 0
    assert store.read_pending(conn) == {("H-0002", "rising"): 0}
