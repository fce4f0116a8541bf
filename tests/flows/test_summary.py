"""What ``hasslemap run`` prints about the cluster stage: the line names how the night clustered."""

import re

import yaml
from rich.console import Console

from config.taxonomy import Label, Taxonomy
from flows.summary import (
    cluster_line,
    enrich_line,
    no_comment_warning,
    pain_point_table,
    run_warnings,
)

COUNTS = {"units_in": 8903, "hassles": 35, "hassles_new": 0, "hassles_retired": 0, "coverage": 0.5}


def test_a_held_full_night_says_so():
    line = cluster_line(
        {
            **COUNTS,
            "mode": "full",
            "reason": "period",
            "late_finds_folded": 2,
            "hassles_restored": 1,
        }
    )
    assert line.startswith(
        "cluster: 8,903 pain points, 35 hassles (0 new, 0 retired), coverage 50%"
    )
    assert "clustered afresh (period)" in line
    assert "2 late find(s) joined one, 1 merged-away hassle(s) restored" in line


def test_an_incremental_night_and_a_rebuild_say_only_what_happened():
    quiet = cluster_line({**COUNTS, "mode": "incremental", "reason": None})
    rebuilt = cluster_line({**COUNTS, "mode": "full", "reason": "settings"})
    assert "afresh" not in quiet and "held" not in quiet
    assert "clustered afresh (settings)" in rebuilt and "held" not in rebuilt
    assert cluster_line({"skipped": True}).startswith("cluster: the window is unchanged")


def test_comments_dated_after_the_run_are_said_not_counted():
    only_later = cluster_line({"skipped": True, "no_comments": True, "comments_after_run": 12})
    assert only_later.startswith("cluster: no comment to cluster; 12 comment(s) dated after")
    assert "created_at > now()" in only_later
    some_later = cluster_line({**COUNTS, "comments_after_run": 3, "comments_before_window": 5})
    assert "5 comment(s) older than the window" in some_later
    assert some_later.endswith("query `comments` for created_at > now())")
    assert "dated after" not in cluster_line({**COUNTS, "comments_after_run": 0})
    assert cluster_line({"skipped": True, "no_comments": True}) == "cluster: no comment to cluster"


def _result(tmp_path, source_stats, stages=None):
    return {
        "run_id": "run-1",
        "warehouse": str(tmp_path / "w.duckdb"),
        "stages": {
            "ingest": {
                "sources": {"reviews": {**INGEST_STATS, **source_stats}},
                "comments_new": 0,
                "comments_updated": 0,
                "comments_total": 3,
                "rejected_rows": 0,
            },
            **(stages or {}),
        },
    }


INGEST_STATS = dict.fromkeys(
    ("files_read", "files_skipped", "records_read", "records_usable", "quarantined", "repaired"), 0
)


def _settings(tmp_path):
    from conftest import review_source

    from config import load_settings

    config = tmp_path / "hasslemap.yaml"
    config.write_text(yaml.safe_dump({"sources": [review_source(tmp_path / "in" / "*.csv")]}))
    return load_settings(config, environ={})


def test_the_run_summary_ends_with_failed_alerts_and_how_many_wait(tmp_path, capsys):
    from flows.cli import _print_summary

    alerts = {"failed": True, "error": "AlertDeliveryError: webhook answered 500", "pending": 10}
    _print_summary(
        _result(tmp_path, {}, {"alerts": {**alerts, "max_per_run": 10}}), _settings(tmp_path)
    )
    output = " ".join(capsys.readouterr().out.split())
    assert output.endswith(  # last, where a mailed summary is read
        "alerts failed: AlertDeliveryError: webhook answered 500; 10 hassle alert(s) wait in "
        "`alerts_pending` and go out with the next run"
    )
    # More than one run sends: the operator is not told they all go out tomorrow.
    alerts = {**alerts, "pending": 16, "max_per_run": 10}
    [warning] = run_warnings(
        _result(tmp_path, {}, {"alerts": alerts})["stages"], _settings(tmp_path)
    )
    assert warning.endswith(
        "16 hassle alert(s) wait in `alerts_pending` and go out from the next run on, at most "
        "10 a run (`alerts.max_per_run`)"
    )


def test_the_run_summary_says_how_many_pending_alerts_were_dropped_and_why(tmp_path, capsys):
    from flows.cli import _print_summary

    alerts = {"alerts_sent": 0, "pending_dropped": {"retired": 2, "no longer new": 1}}
    _print_summary(_result(tmp_path, {}, {"alerts": alerts}), _settings(tmp_path))
    output = " ".join(capsys.readouterr().out.split())
    assert output.endswith(
        "alerts: 3 pending alert(s) dropped unsent, no longer true or timely "
        "(2 retired, 1 no longer new)"
    )


def test_the_run_summary_names_a_source_whose_files_vanished(tmp_path, capsys):
    from flows.cli import _print_summary

    _print_summary(_result(tmp_path, {"comments_before_no_file": 736}), _settings(tmp_path))
    output = " ".join(capsys.readouterr().out.split())
    assert (
        "source 'reviews' matched no file tonight, but 736 comments were loaded from it before: "
        "were its files moved?"
    ) in output
    assert str(tmp_path / "in" / "*.csv") in output


def test_the_run_summary_names_a_source_the_config_no_longer_names(tmp_path, capsys):
    from flows.cli import _print_summary

    said = "source 'surveys' is in the warehouse (122 comments) but no longer in the config"
    result = _result(tmp_path, {})
    result["stages"]["ingest"]["sources_unconfigured"] = [said]
    _print_summary(result, _settings(tmp_path))
    assert said in " ".join(capsys.readouterr().out.split())


def test_the_run_summary_names_a_source_that_failed_to_load(tmp_path, capsys):
    """A source that still failed after its retries is skipped, not silent."""
    from flows.cli import _print_summary

    error = "RawLoadFailed: hasslemap_tickets: landing failed (OSError: disk full)"
    result = _result(tmp_path, {})
    result["stages"]["ingest"]["sources_failed"] = {"tickets": error}
    _print_summary(result, _settings(tmp_path))
    output = " ".join(capsys.readouterr().out.split())
    assert re.search(r"tickets\s*│\s*failed\s*│", output)
    assert (
        f"source 'tickets' failed to load and was skipped this run ({error}); its files are "
        "read again next run"
    ) in output
    # With nothing loaded at all, the warning points at the failure, not at the paths.
    result["stages"]["ingest"]["comments_total"] = 0
    warnings = run_warnings(result["stages"], _settings(tmp_path))
    assert warnings[-1] == "no comment in the warehouse: no source loaded (each failure is above)"


def test_a_quiet_night_has_no_warning(tmp_path):
    assert run_warnings(_result(tmp_path, {})["stages"], _settings(tmp_path)) == []


def test_no_comment_says_whether_records_were_quarantined_or_never_delivered():
    quarantined = no_comment_warning(
        {
            "quarantine_reasons": [
                {
                    "source": "tickets",
                    "records": 120,
                    "file": "t.csv",
                    "line": 2,
                    "reason": "no date",
                }
            ]
        }
    )
    assert "every record was quarantined. tickets: 120 record(s), e.g. t.csv line 2: no date" in (
        quarantined
    )
    assert "from rejected" in quarantined
    nothing = no_comment_warning({"quarantine_reasons": []})
    assert "no source delivered a record" in nothing and "`path`" in nothing
    assert cluster_line({"skipped": True, "no_comments": True}) == "cluster: no comment to cluster"


def test_the_cluster_line_says_how_many_comments_are_older_than_the_window():
    line = cluster_line({**COUNTS, "mode": "incremental", "comments_before_window": 141})
    assert line.endswith(
        "; 141 comment(s) older than the window (`cluster.window_days`) not counted"
    )
    kept = cluster_line({"skipped": True, "comments_before_window": 2})
    assert kept.startswith("cluster: the window is unchanged") and "2 comment(s) older" in kept
    assert "older" not in cluster_line({**COUNTS, "mode": "incremental"})


def test_the_top_table_marks_a_child_too_unspecific_to_act_on(tmp_path, monkeypatch, capsys):
    # Its title promises each group's "top specific hassles"; a group with fewer specific ones
    # shows its others, and they must read as what they are.
    from dataclasses import replace

    from conftest import write_report_config

    import flows.report.build as build
    from config import load_settings
    from flows.cli import _print_top_hassles
    from flows.report.model import RankedHassle
    from warehouse.connection import connect_warehouse

    kid = RankedHassle(
        rank=7, hassle_id="H-0007", label="sad", stage=None, theme=None, score=0.3, parts=(),
        customers=5, comments=5, severity_mean=0.5, trend_label="steady", trend_detail="",
        daily_counts=(), channel_mix={}, quotes=(), change="new", generic=True,
        parent_id="P-0001",
    )  # fmt: skip
    parent = replace(
        kid, rank=1, hassle_id="P-0001", label="flickers", generic=False, level="parent",
        parent_id=None, children=(kid,),
    )  # fmt: skip
    config = write_report_config(tmp_path)
    connect_warehouse(tmp_path / "warehouse.duckdb").close()
    monkeypatch.setattr(build, "stored_top_hassles", lambda rows, top, children: [parent])
    _print_top_hassles(load_settings(str(config)), 3)
    lines = capsys.readouterr().out.splitlines()
    [child_line] = [line for line in lines if "↳ sad" in line]
    [parent_line] = [line for line in lines if "flickers" in line]
    assert "(too unspecific" in child_line and "unspecific" not in parent_line


def test_the_top_table_names_stages_and_themes_as_the_report_does(tmp_path, monkeypatch, capsys):
    """It showed the keys ("need_awareness") where the report shows the taxonomy's names."""
    from conftest import write_report_config

    import flows.report.build as build
    from config import load_settings
    from flows.cli import _print_top_hassles
    from flows.report.model import RankedHassle
    from warehouse.connection import connect_warehouse

    hassle = RankedHassle(
        rank=1, hassle_id="H-0001", label="flickers", stage="need_awareness", theme="effort",
        score=0.3, parts=(), customers=5, comments=5, severity_mean=0.5, trend_label="steady",
        trend_detail="", daily_counts=(), channel_mix={}, quotes=(), change="new",
    )  # fmt: skip
    config = write_report_config(tmp_path)
    connect_warehouse(tmp_path / "warehouse.duckdb").close()
    monkeypatch.setattr(build, "stored_top_hassles", lambda rows, top, children: [hassle])
    _print_top_hassles(load_settings(str(config)), 3)
    [line] = [line for line in capsys.readouterr().out.splitlines() if "flickers" in line]
    assert "Need awareness" in line and "need_awareness" not in line


def _taxonomy_of(themes: int) -> Taxonomy:
    label = lambda key: Label(key=key, name=key.replace("k", "Name "), examples=("x",))  # noqa: E731
    return Taxonomy(
        version=1,
        stages=(label("k1"), label("k2")),
        themes=tuple(label(f"k{n}") for n in range(1, themes + 1)),
        no_hassle=("thanks",),
    )


def _printed(table) -> str:
    console = Console(width=400, record=True)
    console.print(table)
    return console.export_text()


def test_the_pain_point_table_names_stages_and_themes_as_the_report_does():
    text = _printed(pain_point_table(_taxonomy_of(3), {("k1", "k3"): 7, ("unassigned", "k2"): 2}))
    header, *rows = [line for line in text.splitlines() if "Name" in line or "No " in line]
    assert "Name 1" in header and "Name 3" in header and "No theme" in header
    assert "k3" not in text and "unassigned" not in text
    assert any(line.lstrip("│ ").startswith("No stage") and " 2 " in line for line in rows)


def test_a_taxonomy_of_many_themes_lists_the_largest_cells():
    """Sixty themes printed as a grid of empty cells: every header and count cut off."""
    counts = {("k1", f"k{n}"): n for n in range(1, 61)}
    text = _printed(pain_point_table(_taxonomy_of(60), counts))
    rows = [line for line in text.splitlines() if "Name 1 " in line or "Name 2 " in line]
    assert len(rows) == 25  # the 25 largest of 60 cells, largest first
    assert "Name 60" in rows[0] and rows[0].rstrip(" │").endswith("60")
    assert "35 smaller cell(s) not shown" in text


def test_the_enrich_line_names_the_commonest_unsupported_languages():
    # "210 comments in an unsupported language" hid that they were English stated as "en-GB".
    counts = {"comments_enriched": 9, "units_written": 12, "texts_embedded": 3, "tags_written": 12}
    languages = {"de": 80, "fr": 60, "ja": 40, "es": 20, "it": 8, "nl": 2}
    line = enrich_line({**counts, "unsupported_language": 210, "unsupported_languages": languages})
    assert line.endswith(
        "(210 comments in an unsupported language: de 80, fr 60, ja 40, es 20, it 8, …)"
    )
    none = enrich_line({**counts, "unsupported_language": 0, "unsupported_languages": {}})
    assert none.endswith("(0 comments in an unsupported language)")


def test_a_file_problem_is_no_quarantined_record_in_the_mostly_quarantined_warning():
    # Five dangling links beside three good records said "5 of the 3 records read ... were
    # quarantined": a file that cannot be opened has its own warning, and is no record.
    from dataclasses import asdict

    from flows.ingest import mostly_quarantined_warning
    from flows.sources.base import ReadStats
    from flows.sources.records import Problem

    stats = ReadStats(records_read=3)
    for i in range(5):
        stats.count(Problem("unreadable_file", "dangling link", True), f"f{i}.jsonl", 0)
    assert mostly_quarantined_warning("tickets", asdict(stats)) is None
    for line in range(2, 8):
        stats.count(Problem("bad_date", "not a date", True), "t.jsonl", line)
    stats.records_read += 6
    said = mostly_quarantined_warning("tickets", asdict(stats))
    assert said.startswith("source 'tickets': 6 of the 9 records read this run were quarantined")
