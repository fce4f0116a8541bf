"""``hasslemap report`` with filters: trends over the cut period, and filters that match nothing.

The warehouse is small and written directly with DuckDB (the real schema): one hassle
mentioned once a day, every day, for three months, so its trends are steady by construction.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import record_completed_run, write_report_config
from typer.testing import CliRunner

from config import load_settings
from config.taxonomy import load_enrich_config
from flows.cli import app
from flows.ranking import compute_ranking
from flows.report.build import build_report
from warehouse.connection import connect_warehouse
from warehouse.ranking import ReportFilter

RUN_ID = "run-1"
WINDOW = (datetime(2026, 8, 1, 12), datetime(2026, 11, 1, 12))
FIRST_DAY = date(2026, 8, 2)
# The clustering's quotes: 2 August, 10 October, 3 August.
STORED_QUOTES = ["c0:0", "c69:0", "c1:0"]


def _build(folder: Path) -> Path:
    """A warehouse whose one hassle, H-0001, has a 'Nimbus Plus' review every day at 09:00.

    Returns the config file; its one source reads ``feedback/*.csv``.
    """
    config = write_report_config(folder)
    start, end = WINDOW
    conn = connect_warehouse(folder / "warehouse.duckdb")
    try:
        record_completed_run(conn, RUN_ID, WINDOW, units=92, hassles=1, new=1)
        conn.execute(
            "INSERT INTO hassles (hassle_id, label, keyphrases, stage, stage_share, theme, "
            "theme_share, quote_unit_ids, units, status, first_seen, last_seen, "
            "first_run_id, last_run_id, centroid) VALUES ('H-0001', 'refund takes weeks', "
            "['refund'], 'change_or_return', 1, 'waiting', 1, ?, 92, 'new', ?, ?, ?, ?, [1.0])",
            [STORED_QUOTES, end, end, RUN_ID, RUN_ID],
        )
        text = "My refund still has not arrived."
        for i in range((end.date() - FIRST_DAY).days + 1):
            created = datetime.combine(FIRST_DAY + timedelta(days=i), datetime.min.time())
            created += timedelta(hours=9)
            conn.execute(
                "INSERT INTO comments (comment_id, source, channel, external_id, customer_id, "
                "created_at, text, content_hash, source_file, source_line, ingested_at, "
                "updated_at, product) VALUES (?, 'reviews', 'review', ?, ?, ?, ?, 'h', 'f.csv', "
                "?, ?, ?, 'Nimbus Plus')",
                [f"c{i}", str(i), f"u{i}", created, text, i, end, end],
            )
            conn.execute(
                "INSERT INTO units VALUES (?, ?, 0, 0, ?, ?, 'th', [], [], false, '{}', -0.5, "
                "0.5, '{}')",
                [f"c{i}:0", f"c{i}", len(text), text],
            )
            conn.execute(
                "INSERT INTO hassle_members VALUES (?, ?, 'H-0001', 1.0, 'core')",
                [RUN_ID, f"c{i}:0"],
            )
    finally:
        conn.close()
    return config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return _build(tmp_path / "w")


def _rank(config: Path, filters: ReportFilter):
    settings = load_settings(config, environ={})
    conn = connect_warehouse(settings.warehouse)
    try:
        ranking = compute_ranking(conn, settings, filters)
        data = build_report(
            conn, settings, load_enrich_config(settings), run_id=RUN_ID, filters=filters
        )
    finally:
        conn.close()
    assert ranking is not None and data is not None
    (score,) = ranking.scores
    (hassle,) = data.hassles
    return score, hassle, data


def test_a_since_filter_keeps_the_trends_and_counts_only_the_days_it_keeps(config):
    score, hassle, data = _rank(config, ReportFilter(since=date(2026, 10, 1)))
    # The 30-day trend still compares with the 60 days before, cut off by --since.
    assert (score.trend_30d.recent, score.trend_30d.baseline) == (30, 60)
    assert score.trend_label == "steady" and score.parts["trend"] == 0.5
    # Reach, severity and the counts are the filtered period's: 1 October to 1 November.
    assert (score.customers, score.comments) == (32, 32)
    assert hassle.daily_counts[0] == (date(2026, 10, 1), 1)
    assert hassle.daily_counts[-1] == (date(2026, 11, 1), 1)
    assert sum(count for _, count in hassle.daily_counts) == 32
    assert (data.window_start, data.window_end) == (date(2026, 10, 1), date(2026, 11, 1))


def test_a_filtered_reports_quotes_are_of_comments_the_filters_keep(config):
    _, unfiltered, _ = _rank(config, ReportFilter())
    assert [q.comment_id for q in unfiltered.quotes] == ["c0", "c69", "c1"]
    _, hassle, _ = _rank(config, ReportFilter(since=date(2026, 10, 1)))
    # The stored quote that matches comes first; the others are members the filter keeps.
    assert [q.comment_id for q in hassle.quotes] == ["c69", "c60", "c61"]
    assert all(q.created_at.date() >= date(2026, 10, 1) for q in hassle.quotes)
    _, none, _ = _rank(config, ReportFilter(channels=("review",), until=date(2026, 8, 2)))
    assert [q.comment_id for q in none.quotes] == ["c0"]


def test_an_until_filter_ends_the_trends_on_its_last_day(config):
    score, hassle, data = _rank(config, ReportFilter(until=date(2026, 10, 15)))
    assert (score.trend_7d.recent, score.trend_7d.baseline) == (7, 28)
    assert (score.trend_30d.recent, score.trend_30d.baseline) == (30, 45)
    assert score.trend_label == "steady" and score.parts["trend"] == 0.5
    assert score.customers == (date(2026, 10, 15) - FIRST_DAY).days + 1
    assert hassle.daily_counts[-1] == (date(2026, 10, 15), 1)
    assert data.window_end == date(2026, 10, 15)


def test_a_filtered_report_claims_no_move_since_the_unfiltered_last_run(config):
    # The stored rankings are unfiltered: a rank among one product's comments is compared
    # with nothing (it read "rising" against the overall rank), an unfiltered one as before.
    _, filtered, _ = _rank(config, ReportFilter(products=("Nimbus Plus",)))
    _, unfiltered, _ = _rank(config, ReportFilter())
    assert filtered.change == "" and unfiltered.change == "new"


def _report(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", "-c", str(config), *args], env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (
            ["--product", "nimbus plus"],
            2,
            "Unknown product 'nimbus plus': products in the warehouse: Nimbus Plus",
        ),
        (["--product", ""], 2, "Unknown product '': products in the warehouse: Nimbus Plus"),
        (
            ["--channel", "social"],
            1,
            "Nothing to report: no comment from --channel social; channels in the ranked "
            "window: review",
        ),
        (
            ["--since", "2025-01-01", "--until", "2025-02-01"],
            1,
            "no comment between 2025-01-01 and 2025-02-01: the ranked comments run from "
            "2026-08-02 to 2026-11-01",
        ),
        (
            ["--stage", "need_awareness"],
            1,
            "no ranked hassle is in --stage need_awareness among the 92 comments",
        ),
    ],
)
def test_a_filter_that_matches_nothing_says_why_and_writes_nothing(
    config, tmp_path, args, code, says
):
    out = tmp_path / "out"
    status, output = _report(config, *args, "--out", str(out))
    assert status == code, output
    assert says in output and "Traceback" not in output
    assert not out.exists()


def test_a_filtered_reports_figures_follow_the_filters(config, tmp_path):
    status, output = _report(config, "--since", "2026-10-01", "--out", str(tmp_path))
    assert status == 0, output
    md = (tmp_path / "hasslemap-report.md").read_text(encoding="utf-8")
    assert "**Comments matching the filters:** 32" in md
    assert "**Customers matching the filters:** 32" in md
    assert "Window 2026-10-01 – 2026-11-01" in md
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", md)  # the zone, not implied
    # Quarantined records have no channel or date to filter by: the figure says so.
    assert "**Records quarantined / repaired (every source, unfiltered):**" in md


def test_the_report_refuses_a_folder_a_source_reads(config):
    feedback = config.parent / "feedback"
    status, output = _report(config, "--out", str(feedback))
    assert status == 2, output
    assert "source 'reviews' reads" in output and "hasslemap-report.csv" in output
    assert sorted(p.name for p in feedback.iterdir()) == []


def test_the_report_may_write_into_a_subfolder_the_source_glob_does_not_reach(config):
    # The source reads feedback/*.csv: '*' stays within one folder, as ingest's glob does.
    weekly = config.parent / "feedback" / "weekly"
    status, output = _report(config, "--out", str(weekly))
    assert status == 0, output
    assert (weekly / "hasslemap-report.csv").is_file()


def test_a_stage_is_chosen_by_its_key_or_by_the_name_the_report_shows(config, tmp_path):
    by_key = _report(config, "--stage", "change_or_return", "--out", str(tmp_path / "k"))
    by_name = _report(config, "--stage", "Change or return", "--out", str(tmp_path / "n"))
    assert by_key[0] == by_name[0] == 0, (by_key, by_name)
    key_csv, name_csv = (tmp_path / d / "hasslemap-report.csv" for d in ("k", "n"))
    assert key_csv.read_text() == name_csv.read_text()
    status, output = _report(config, "--stage", "Returns")
    assert status == 2 and "'Returns': use one of" in output and "change_or_return" in output


def test_since_after_until_names_both_dates(config):
    status, output = _report(config, "--since", "2026-10-02", "--until", "2026-10-01")
    assert status == 2 and "Dates --since 2026-10-02 comes after --until 2026-10-01" in output


def test_the_header_window_starts_on_the_charts_first_day(config):
    # The window holds comments after its start time: its first whole day is the next one.
    _, hassle, data = _rank(config, ReportFilter())
    assert data.window_start == hassle.daily_counts[0][0] == FIRST_DAY
