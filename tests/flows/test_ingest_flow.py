"""The real ingest and nightly flows, on a real Prefect server and a real DuckDB file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import review_source, survey_source, ticket_source, write_jsonl

from config import ConfigError, load_settings
from flows.ingest import ingest
from flows.nightly import nightly
from flows.summary import run_warnings

pytestmark = pytest.mark.usefixtures("prefect_server")

REVIEW_HEADER = "id,author,rating,title,body,date,product\n"


def query(config_dir: Path, sql: str, params=None):
    with duckdb.connect(str(config_dir / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def write_reviews(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REVIEW_HEADER + "".join(rows), encoding="utf-8")
    return path


GOOD_REVIEWS = [
    "R1,c1,1,Refund,My refund took three weeks,2026-09-01T10:00:00Z,Hub\n",
    "R2,c2,5,Love it,Setup was easy,2026-09-02T10:00:00Z,Cam\n",
    "R3,c3,2,,The app logs me out every day,2026-09-03T10:00:00Z,App\n",
]


def test_ingesting_twice_loads_nothing_new_the_second_time(tmp_path, write_config):
    write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    config = write_config([review_source(tmp_path / "in" / "*.csv")])

    first = ingest(str(config))
    snapshot = query(tmp_path, "SELECT * FROM comments ORDER BY comment_id")
    second = ingest(str(config))

    assert first["comments_new"] == 3
    assert (second["comments_new"], second["comments_updated"], second["files_read"]) == (0, 0, 0)
    assert second["files_skipped"] == 1
    assert query(tmp_path, "SELECT * FROM comments ORDER BY comment_id") == snapshot
    assert query(tmp_path, "SELECT count(*) FROM raw.records") == [(3,)]


def test_an_edited_record_updates_its_row_and_keeps_its_id(tmp_path, write_config):
    path = write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    config = write_config([review_source(tmp_path / "in" / "*.csv")])
    ingest(str(config))
    [(comment_id, ingested_at)] = query(
        tmp_path, "SELECT comment_id, ingested_at FROM comments WHERE external_id = 'R1'"
    )

    edited = GOOD_REVIEWS[0].replace("three weeks", "five weeks and counting")
    write_reviews(path, [edited, *GOOD_REVIEWS[1:]])
    os.utime(
        path, (time.time() + 5, time.time() + 5)
    )  # a new modification time, as an export would have
    result = ingest(str(config))

    assert (result["comments_new"], result["comments_updated"]) == (0, 1)
    rows = query(
        tmp_path,
        "SELECT comment_id, text, ingested_at, updated_at FROM comments WHERE external_id = 'R1'",
    )
    assert rows[0][0] == comment_id
    assert "five weeks and counting" in rows[0][1]
    assert rows[0][2] == ingested_at and rows[0][3] > ingested_at
    assert query(tmp_path, "SELECT count(*) FROM comments") == [(3,)]


def test_a_sources_channel_changed_in_the_config_reaches_its_stored_comments(
    tmp_path, write_config
):
    path = write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    ingest(str(write_config([review_source(path)])))
    ids = query(tmp_path, "SELECT comment_id FROM comments ORDER BY ALL")
    times = query(tmp_path, "SELECT comment_id, updated_at FROM comments ORDER BY ALL")

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:  # enriched as a review
        conn.execute(
            "INSERT INTO comment_enrichment (comment_id, content_hash, enrich_version, language, "
            "language_confidence, language_supported, text_hash, sentiment, severity, "
            "severity_parts, unit_count, enriched_at) SELECT comment_id, content_hash, 'v', 'en', 1, "
            "true, 'h', 0, 0, '{}', 1, now() FROM comments"
        )

    result = ingest(str(write_config([{**review_source(path), "channel": "social"}])))

    assert (result["comments_new"], result["comments_updated"]) == (0, 3)
    assert query(tmp_path, "SELECT DISTINCT channel FROM comments") == [("social",)]
    assert query(tmp_path, "SELECT comment_id FROM comments ORDER BY ALL") == ids
    # Its channel's normalisation and pain prior shaped them: enriched and tagged again.
    assert query(tmp_path, "SELECT count(*) FROM comment_enrichment") == [(0,)]
    # But their text did not change: no comment reads as news to the clustering, which split
    # 32 "new" hassles out of kept ones when every comment of a source looked just written.
    assert query(tmp_path, "SELECT comment_id, updated_at FROM comments ORDER BY ALL") == times


def test_a_new_file_with_an_older_modification_time_is_still_read(tmp_path, write_config):
    write_reviews(tmp_path / "in" / "a.csv", GOOD_REVIEWS[:1])
    config = write_config([review_source(tmp_path / "in" / "*.csv")])
    ingest(str(config))
    late = write_reviews(tmp_path / "in" / "b.csv", GOOD_REVIEWS[1:])
    os.utime(late, (1_000_000_000, 1_000_000_000))  # copied in with its original (old) mtime
    result = ingest(str(config))
    assert result["comments_new"] == 2


def test_a_renamed_file_then_a_correction_updates_the_comment_and_loses_nothing(
    tmp_path, write_config
):
    """A file that left its source (renamed, deleted, moved) never outranks one still there."""
    old = write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    config = write_config([review_source(tmp_path / "in" / "*.csv")])
    ingest(str(config))
    renamed = old.rename(tmp_path / "in" / "reviews_2026.csv")  # mv keeps the mtime
    moved = ingest(str(config))
    assert (moved["comments_new"], moved["comments_updated"]) == (0, 0)
    assert (moved["duplicates_across_files"], moved["copies_across_files"]) == (0, 0)

    # The corrected export replaces the file and carries an older modification time.
    corrected = GOOD_REVIEWS[0].replace("three weeks", "three weeks and then a partial refund")
    write_reviews(renamed, [corrected, *GOOD_REVIEWS[1:]])
    os.utime(renamed, (1_000_000_000, 1_000_000_000))
    fixed = ingest(str(config))
    again = ingest(str(config))

    assert (fixed["comments_updated"], fixed["duplicates_across_files"]) == (1, 0)
    assert (again["comments_updated"], again["duplicates_across_files"]) == (0, 0)
    [(text, source_file)] = query(
        tmp_path, "SELECT text, source_file FROM comments WHERE external_id = 'R1'"
    )
    assert "partial refund" in text and source_file.endswith("reviews_2026.csv")
    assert query(tmp_path, "SELECT count(*) FROM comments") == [(3,)]
    assert query(tmp_path, "SELECT count(*) FROM rejected WHERE reason_code = 'duplicate_id'") == [
        (0,)
    ]


def test_a_record_only_a_deleted_file_held_stays_loaded(tmp_path, write_config):
    first = write_reviews(tmp_path / "in" / "a.csv", GOOD_REVIEWS[:1])
    write_reviews(tmp_path / "in" / "b.csv", GOOD_REVIEWS[1:])
    config = write_config([review_source(tmp_path / "in" / "*.csv")])
    ingest(str(config))
    first.unlink()  # an export folder that keeps only the latest files
    result = ingest(str(config))
    assert (result["comments_new"], result["comments_updated"]) == (0, 0)
    assert query(tmp_path, "SELECT count(*) FROM comments") == [(3,)]


def test_every_kind_of_bad_input_is_recorded_and_the_good_rows_load(tmp_path, write_config):
    reviews = tmp_path / "in" / "reviews.csv"
    reviews.parent.mkdir(parents=True)
    reviews.write_bytes(
        (
            REVIEW_HEADER
            + GOOD_REVIEWS[0]
            + "R10,c1,2,t,an extra field,2026-09-01,Hub,EXTRA\n"  # malformed row
            + "R11,c1,2,,,2026-09-01,Hub\n"  # missing text
            + "R12,c1,2,,<p> <br> </p>,2026-09-01,Hub\n"  # empty after cleaning
            + "R13,c1,2,t,bad date,last tuesday,Hub\n"  # date that doesn't parse
            + "R14,c1,3,t,<p>The app <b>crashes</b> on start</p>,2026-09-01,Hub\n"  # HTML
            + "R15,c1,2,t,"
            + "very long " * 100
            + ",2026-09-01,Hub\n"  # too long
            + "R1,c9,1,t,a duplicate id,2026-09-02,Hub\n"  # duplicate within the file
        ).encode()
        # not UTF-8, in a file that is (the dash): the stray byte is replaced and flagged
        + b"R16,c1,2,t,caf\xe9 was cold \xe2\x80\x94 again,2026-09-01,Hub\n"
    )
    tickets = write_jsonl(
        tmp_path / "in" / "tickets.jsonl",
        [
            {
                "id": 1,
                "requester_id": "c1",
                "subject": "Login",
                "description": "Cannot log in",
                "created_at": "2026-09-01",
                "comments": [],
            },
            '{"id": 2, "subject": "broken',  # invalid JSON
        ],
    )
    config = write_config(
        [review_source(reviews), ticket_source(tickets)],
        ingest={"max_text_chars": 200},
    )

    result = ingest(str(config))

    loaded = {row[0] for row in query(tmp_path, "SELECT external_id FROM comments")}
    assert loaded == {"R1", "R14", "R15", "R16", "1"}
    rejected = {
        (reason_code, action, line): reason
        for reason_code, action, line, reason in query(
            tmp_path, "SELECT reason_code, action, line, reason FROM rejected"
        )
    }
    expected = {
        ("malformed_csv", "quarantined", 3),
        ("missing_text", "quarantined", 4),
        ("empty_text", "quarantined", 5),
        ("bad_date", "quarantined", 6),
        ("html_stripped", "repaired", 7),
        ("truncated", "repaired", 8),
        ("duplicate_id", "quarantined", 9),
        ("invalid_utf8", "repaired", 10),
        ("invalid_json", "quarantined", 2),
    }
    assert set(rejected) == expected
    assert all(reason for reason in rejected.values())
    raw = dict(
        query(tmp_path, "SELECT reason_code, raw_text FROM rejected WHERE action = 'quarantined'")
    )
    assert raw["invalid_json"] == '{"id": 2, "subject": "broken'
    assert "last tuesday" in raw["bad_date"]
    [(text, flags)] = query(
        tmp_path, "SELECT text, ingest_flags FROM comments WHERE external_id = 'R14'"
    )
    assert "The app crashes on start" in text and flags == ["html_stripped"]
    [(length,)] = query(tmp_path, "SELECT length(text) FROM comments WHERE external_id = 'R15'")
    assert length <= 200
    assert result["quarantined"] == 6 and result["repaired"] == 3


def test_a_file_without_the_mapped_columns_is_quarantined_whole(tmp_path, write_config):
    bad = tmp_path / "in" / "bad.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("id,comment\n1,hello\n")
    good = write_reviews(tmp_path / "in2" / "reviews.csv", GOOD_REVIEWS)
    config = write_config([review_source(bad, "broken"), review_source(good, "fine")])
    result = ingest(str(config))
    [(line, reason)] = query(tmp_path, "SELECT line, reason FROM rejected WHERE source = 'broken'")
    assert line == 0 and "'author'" in reason
    assert query(tmp_path, "SELECT count(*) FROM comments WHERE source = 'fine'") == [(3,)]
    # The run's warnings say so: every night that source would load nothing.
    [warning] = run_warnings({"ingest": result}, load_settings(config))
    assert warning.startswith(
        f"source 'broken': {bad} was quarantined whole, none of its records loaded "
        "(missing_columns: "
    )
    assert reason in warning


def test_a_file_written_day_first_read_month_first_is_warned_of_and_fixed_by_the_setting(
    tmp_path, write_config
):
    # 15/08 reads only day first (quarantined); 03/08 reads either way, as the wrong day.
    rows = [
        "R1,c1,1,,My refund took three weeks,15/08/2026,Hub\n",
        "R2,c2,2,,The app logs me out,03/08/2026,App\n",
        "R3,c3,2,,Billing is wrong,2026-08-04T10:00:00Z,App\n",
    ]
    path = write_reviews(tmp_path / "in" / "reviews.csv", rows)
    config = write_config([review_source(path)])

    result = ingest(str(config))

    [warning] = run_warnings({"ingest": result}, load_settings(config))
    assert warning == (
        f"source 'reviews': {path} holds 1 date(s) that read only day first (e.g. '15/08/2026', "
        "quarantined as bad_date) and 1 that read either way (e.g. '03/08/2026'), loaded month "
        "first: if the file writes the day first, set day_first: true for sources[reviews] "
        "(the file is read again)"
    )
    fixed = ingest(str(write_config([{**review_source(path), "day_first": True}])))
    assert run_warnings({"ingest": fixed}, load_settings(config)) == []
    assert query(
        tmp_path, "SELECT external_id, created_at::DATE::VARCHAR FROM comments ORDER BY 1"
    ) == [
        ("R1", "2026-08-15"),
        ("R2", "2026-08-03"),
        ("R3", "2026-08-04"),
    ]
    # A file that also holds dates only its own order reads mixes orders: no advice.
    mixed = write_reviews(tmp_path / "in2" / "mixed.csv", [*rows, "R4,c4,2,,Late,01/13/2026,App\n"])
    counts = ingest(str(write_config([review_source(mixed, "mixed")])))
    assert [
        w for w in run_warnings({"ingest": counts}, load_settings(config)) if "day_first" in w
    ] == []


def test_a_source_most_of_whose_records_are_quarantined_is_warned_of(tmp_path, write_config):
    # A date format nobody reads quarantined every record of a survey export, and the run
    # ended green: the only cue was "usable 0" in a narrow column.
    bad_rows = [f"S{i},c{i},2,,Support never answered,last tuesday {i},App\n" for i in range(6)]
    bad = write_reviews(tmp_path / "in" / "survey.csv", [GOOD_REVIEWS[0], *bad_rows])
    good = write_reviews(tmp_path / "in2" / "reviews.csv", GOOD_REVIEWS)
    config = write_config([review_source(bad, "survey"), review_source(good, "fine")])

    result = ingest(str(config))

    [warning] = run_warnings({"ingest": result}, load_settings(config))
    assert warning.startswith(
        f"source 'survey': 6 of the 7 records read this run were quarantined, 6 of them as "
        f"bad_date (e.g. {bad} line 3: "
    )
    assert warning.endswith("(each is a row of the table `rejected`, `hasslemap sql --live`)")
    # Fixed, the file is read again and the warning goes.
    write_reviews(bad, GOOD_REVIEWS)
    assert run_warnings({"ingest": ingest(str(config))}, load_settings(config)) == []


def test_a_survey_tools_rows_under_the_header_are_skipped_not_quarantined(tmp_path, write_config):
    # Qualtrics writes the question texts and an import-id row under the header: each export
    # quarantined them again ("bad_date", "missing_id") and counted them among the bad records.
    tool_rows = [
        '"Response ID","Who","Stars","Title","What went wrong?","Recorded","Product"\n',
        '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}",,,,"{""ImportId"":""date""}",\n',
    ]
    path = write_reviews(tmp_path / "in" / "qualtrics.csv", [*tool_rows, *GOOD_REVIEWS])
    source = {**review_source(path), "header_rows": 3}

    result = ingest(str(write_config([source])))

    assert (result["comments_new"], result["quarantined"]) == (3, 0)
    assert query(tmp_path, "SELECT count(*) FROM rejected") == [(0,)]
    assert query(tmp_path, "SELECT min(source_line) FROM comments") == [(4,)]
    with pytest.raises(ConfigError, match="header_rows is for csv files"):
        load_settings(write_config([{**ticket_source(path), "header_rows": 2}]))
    # An export made without those rows (SurveyMonkey's "condensed") keeps its first records.
    plain = write_reviews(tmp_path / "in2" / "condensed.csv", GOOD_REVIEWS)
    ingest(str(write_config([{**review_source(plain, "condensed"), "header_rows": 3}])))
    assert query(tmp_path, "SELECT count(*) FROM comments WHERE source = 'condensed'") == [(3,)]


def test_a_file_is_named_by_its_path_as_written_not_url_encoded(tmp_path, write_config):
    folder = tmp_path / "Rückmeldungen Q3"
    path = write_reviews(folder / "my reviews 50%+.csv", [*GOOD_REVIEWS, "R9,c9,9,,Bad stars\n"])
    config = write_config([review_source(folder / "*.csv")])

    ingest(str(config))

    assert query(tmp_path, "SELECT DISTINCT source_file FROM comments") == [(str(path),)]
    assert query(tmp_path, "SELECT DISTINCT file FROM rejected") == [(str(path),)]
    assert ingest(str(config))["files_skipped"] == 1


def test_a_renamed_source_is_reported_as_counted_twice(tmp_path, write_config):
    path = write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    ingest(str(write_config([review_source(path, "reviews")])))

    counts = ingest(str(write_config([review_source(path, "store_reviews")])))

    [said] = counts["sources_unconfigured"]
    assert "'reviews'" in said and "3 of them are also in store_reviews" in said
    assert query(tmp_path, "SELECT source, count(*) FROM comments GROUP BY 1 ORDER BY 1") == [
        ("reviews", 3),
        ("store_reviews", 3),
    ]


def test_a_renamed_source_forgotten_counts_once_and_its_old_name_reads_its_files_anew(
    tmp_path, write_config
):
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.forget import CannotForget, forget_unconfigured_source

    path = write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    ingest(str(write_config([review_source(path, "reviews")])))
    renamed = write_config([review_source(path, "store_reviews")])
    ingest(str(renamed))

    with pytest.raises(CannotForget, match="'store_reviews': the config still names it"):
        forget_unconfigured_source(load_settings(renamed), "store_reviews")
    refused = CliRunner().invoke(app, ["forget-source", "nope", "-c", str(renamed)])
    assert refused.exit_code == 2, refused.output
    assert "config does not name: 'reviews'" in " ".join(refused.output.split())
    done = CliRunner().invoke(app, ["forget-source", "reviews", "-c", str(renamed)])
    assert done.exit_code == 0, done.output
    assert "forgot source reviews: 3 comments, 3 records read, 0 rejected rows" in done.output

    counts = ingest(str(renamed))
    assert counts["sources_unconfigured"] == []
    assert query(tmp_path, "SELECT source, count(*) FROM comments GROUP BY 1") == [
        ("store_reviews", 3)
    ]
    assert query(
        tmp_path,
        "SELECT count(*) FROM units WHERE comment_id NOT IN (SELECT comment_id FROM comments)",
    ) == [(0,)]
    # Its read state went with it: the old name, configured again, reads the file anew.
    again = ingest(str(write_config([review_source(path, "reviews")])))
    assert again["comments_new"] == 3


def test_a_forgotten_source_leaves_the_analyst_snapshot_too(tmp_path, write_config):
    from flows.forget import forget_unconfigured_source

    path = write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    nightly(str(write_config([review_source(path, "reviews")])))
    settings = load_settings(write_config([review_source(path, "store_reviews")]))
    snapshot = Path(settings.snapshot_path)

    def sources_in_snapshot():
        with duckdb.connect(str(snapshot), read_only=True) as conn:
            return conn.execute("SELECT DISTINCT source FROM comments").fetchall()

    assert sources_in_snapshot() == [("reviews",)]
    forget_unconfigured_source(settings, "reviews")
    assert sources_in_snapshot() == []


def test_parquet_sources_are_read_in_chunks(tmp_path, write_config):
    n = 2500
    table = pa.table(
        {
            "id": [f"T{i}" for i in range(n)],
            "requester_id": [f"c{i % 100}" for i in range(n)],
            "subject": ["Login"] * n,
            "description": [f"Cannot log in, attempt {i}" for i in range(n)],
            "created_at": pa.array([1_789_000_000_000 + i for i in range(n)], pa.timestamp("ms")),
            "customer_value": [float(i % 7) for i in range(n)],
        }
    )
    path = tmp_path / "in" / "tickets.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path, row_group_size=500)
    source = ticket_source(path, fmt="parquet")
    source["fields"] = {
        k: v for k, v in source["fields"].items() if k not in ("replies", "product")
    }
    config = write_config([source], ingest={"chunk_rows": 1000})

    result = ingest(str(config))

    assert result["comments_new"] == n
    assert query(
        tmp_path, "SELECT max(source_line), count(DISTINCT external_id) FROM comments"
    ) == [(n, n)]


def test_a_nightly_run_is_recorded_with_counts_per_stage(tmp_path, write_config):
    write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    write_jsonl(tmp_path / "in" / "tickets.jsonl", ['{"oops'])
    survey = tmp_path / "in" / "surveys.csv"
    survey.write_text(
        "response_id,respondent,survey,score,question,verbatim,submitted_at,product\n"
        "S1,c1,nps,3,How likely...,Too many fees,2026-09-01,Hub\n"
    )
    config = write_config(
        [
            review_source(tmp_path / "in" / "*.csv"),
            ticket_source(tmp_path / "in" / "*.jsonl"),
            survey_source(survey),
        ]
    )
    config_data = config.read_text().replace("in/*.csv", "in/reviews.csv")
    config.write_text(config_data)

    result = nightly(str(config))

    [(run_id, status, counts, ended)] = query(
        tmp_path, "SELECT run_id, status, stage_counts, ended_at FROM runs"
    )
    assert run_id == result["run_id"] and status == "completed" and ended is not None
    ingest_counts = json.loads(counts)["ingest"]
    assert ingest_counts["comments_new"] == 4 and ingest_counts["quarantined"] == 1
    assert query(tmp_path, "SELECT channel, count(*) FROM comments GROUP BY 1 ORDER BY 1") == [
        ("review", 3),
        ("survey", 1),
    ]


def test_a_broken_config_fails_fast_naming_the_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(f"warehouse: {tmp_path / 'w.duckdb'}\ningest:\n  chunk_rows: many\n")
    with pytest.raises(ConfigError, match=r"key 'ingest\.chunk_rows'"):
        nightly(str(config))
    assert not (tmp_path / "w.duckdb").exists()


def test_a_source_whose_files_vanished_is_told_from_one_not_arrived_yet(tmp_path, write_config):
    write_reviews(tmp_path / "in" / "reviews.csv", GOOD_REVIEWS)
    (tmp_path / "later").mkdir()
    config = write_config(
        [
            review_source(tmp_path / "in" / "*.csv"),
            review_source(tmp_path / "later" / "*.csv", "later"),
        ]
    )
    ingest(str(config))
    (tmp_path / "in" / "reviews.csv").rename(tmp_path / "moved.csv")

    sources = ingest(str(config))["sources"]

    assert sources["reviews"]["comments_before_no_file"] == 3
    assert sources["later"]["comments_before_no_file"] == 0  # its files have not arrived yet
