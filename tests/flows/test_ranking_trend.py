"""The nightly ranking read from a warehouse: trends, and a kept hassle's generic flag.

The trends on a warehouse whose data starts late in the window. As with the replayed support
tweets: the clustering's window holds three months, but the source delivers only from 1
October; before that, a stray comment a day. The one hassle is a fifth of the comments
throughout, so it is steady, not rising.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ranking_row, record_completed_run, write_report_config

from config import load_settings
from flows.ranking import compute_ranking
from nlp.factors import describe_trends
from nlp.rank import HassleScore
from warehouse import ranking as store
from warehouse.connection import connect_warehouse
from warehouse.ranking import ReportFilter

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)

RUN_ID = "run-1"
WINDOW = (datetime(2026, 8, 1, 12), datetime(2026, 11, 1, 12))
COLLECTION_STARTS = date(2026, 10, 1)


def _build(folder: Path) -> Path:
    """A comment a day until 30 September, ten a day from 1 October; every fifth in H-0001."""
    config = write_report_config(folder)
    start, end = WINDOW
    comments, units, members = [], [], []
    day = start.date() + timedelta(days=1)
    while day <= end.date():
        for i in range(10 if day >= COLLECTION_STARTS else 1):
            n = len(comments)
            created = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=i)
            comments.append((f"c{n}", str(n), f"u{n}", created, "x", n, end, end))
            if n % 5 == 0:
                units.append((f"c{n}:0", f"c{n}", 1, "x"))
                members.append((RUN_ID, f"c{n}:0"))
        day += timedelta(days=1)
    conn = connect_warehouse(folder / "warehouse.duckdb")
    try:
        record_completed_run(conn, RUN_ID, WINDOW, units=len(units), hassles=1, new=1)
        conn.execute(
            "INSERT INTO hassles (hassle_id, label, keyphrases, stage, stage_share, theme, "
            "theme_share, quote_unit_ids, units, status, first_seen, last_seen, "
            "first_run_id, last_run_id, centroid) VALUES ('H-0001', 'app crashes', "
            "['crash'], 'usage', 1, 'broken', 1, [], ?, 'new', ?, ?, ?, ?, [1.0])",
            [len(units), end, end, RUN_ID, RUN_ID],
        )
        conn.executemany(
            "INSERT INTO comments (comment_id, source, channel, external_id, customer_id, "
            "created_at, text, content_hash, source_file, source_line, ingested_at, "
            "updated_at) VALUES (?, 'reviews', 'review', ?, ?, ?, ?, 'h', 'f.csv', ?, ?, ?)",
            comments,
        )
        conn.executemany(
            "INSERT INTO units VALUES (?, ?, 0, 0, ?, ?, 'th', [], [], false, '{}', -0.5, "
            "0.5, '{}')",
            units,
        )
        conn.executemany("INSERT INTO hassle_members VALUES (?, ?, 'H-0001', 1.0, 'core')", members)
    finally:
        conn.close()
    return config


def _rank_the_one_hassle(config: Path, environ: dict[str, str]) -> HassleScore:
    """The ranking of the warehouse ``config`` names, holding one hassle."""
    settings = load_settings(config, environ=environ)
    conn = connect_warehouse(settings.warehouse)
    try:
        ranking = compute_ranking(conn, settings, ReportFilter())
    finally:
        conn.close()
    assert ranking is not None
    (score,) = ranking.scores
    return score


def test_a_hassle_that_keeps_its_share_after_a_late_start_is_steady(tmp_path):
    score = _rank_the_one_hassle(_build(tmp_path / "w"), {})
    month = score.trend_30d
    # The last 30 days: 60 of 300 comments; the 60 days before: 15 of 78, 40 of those in the
    # two days from 1 October. Per day that read "+700% a day ... (rising, p = 0.000)".
    assert (month.recent, month.baseline) == (60, 15)
    assert month.label == "steady" and score.trend_7d.label == "steady"
    assert score.trend_label == "steady" and score.parts["trend"] == 0.5
    assert (month.recent_comments, month.baseline_comments) == (300, 78)
    assert (
        "share of comments +4% in the last 30 days vs the days before (19.2% → 20.0%; steady"
        in describe_trends(score.evidence)
    )


@pytest.mark.parametrize(
    ("flagged_before", "specificity", "margin", "generic"),
    [
        (False, 0.47, None, False),  # just under 0.5, but specific last night: kept specific
        (False, 0.47, "0", True),  # without the margin it flips
        (False, 0.44, None, True),  # past the margin
        (True, 0.53, None, True),  # generic last night, just over 0.5: kept generic
        (None, 0.47, None, True),  # not ranked before: the threshold alone
        ("unmeasured", 0.47, None, True),  # its flag then judged nothing: the threshold alone
    ],
)
def test_the_ranking_reads_last_nights_generic_flag(
    tmp_path, flagged_before, specificity, margin, generic
):
    """A kept hassle near rank.min_specificity keeps last night's flag (session 42's probe)."""
    config = _build(tmp_path / "w")
    conn = connect_warehouse(tmp_path / "w" / "warehouse.duckdb")
    try:
        conn.execute(
            "INSERT INTO hassle_runs (run_id, hassle_id, cluster, status, label, keyphrases, "
            "quote_unit_ids, units, units_core, level, specificity) VALUES "
            "(?, 'H-0001', 0, 'new', 'app crashes', [], [], 1, 1, 'child', ?)",
            [RUN_ID, specificity],
        )
        if flagged_before is not None:
            night_before = WINDOW[1] - timedelta(days=1)
            conn.execute(
                "INSERT INTO runs VALUES ('run-0', 'nightly', ?, ?, 'completed', NULL, NULL, '{}')",
                [night_before, night_before],
            )
            row = ranking_row(run_id="run-0", reach=1.0)
            if flagged_before == "unmeasured":
                row = dataclasses.replace(row, generic=False, specificity=None)
            else:
                row = dataclasses.replace(row, generic=flagged_before)
            store.write_rankings(conn, "run-0", [row])
    finally:
        conn.close()
    environ = {} if margin is None else {"HASSLEMAP_RANK__SPECIFICITY_MARGIN": margin}
    assert _rank_the_one_hassle(config, environ).generic is generic
