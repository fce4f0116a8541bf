"""Hostile loading (issue 11): big fields, failed and pending dlt packages, an id in two
files, touched files, broken links. Each test runs the real ingest flow on a real DuckDB file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import dlt
import duckdb
import pytest
from conftest import review_source
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

from config import load_settings
from flows.ingest import ingest
from flows.sources.base import ReadStats
from flows.sources.resource import build_source_resource
from warehouse.connection import connect_warehouse

pytestmark = pytest.mark.usefixtures("prefect_server")

RAW_LIMIT = 20_000  # the default ingest.max_raw_chars
HEADER = "id,author,rating,title,body,date,product\n"


def review(external_id: str, body: str, day: int = 1) -> str:
    return f"{external_id},c1,2,,{body},2026-09-{day:02d}T10:00:00Z,Hub\n"


def write(path: Path, rows: list[str], mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def query(folder: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def texts(folder: Path) -> dict[str, str]:
    return dict(query(folder, "SELECT external_id, text FROM comments"))


@pytest.fixture
def poisoned_load(monkeypatch):
    """Make every load of the first package that lands ``records`` fail, on every attempt,
    as a package too big for DuckDB's memory did (the same package is retried each run)."""
    poisoned: set[str] = set()
    run = DuckDbCopyJob.run

    def failing_run(self) -> None:
        load_id = Path(self._file_path).parent.parent.name
        if self.load_table_name == "records" and (not poisoned or load_id in poisoned):
            poisoned.add(load_id)
            raise duckdb.OutOfMemoryException("forced: could not allocate (test)")
        run(self)

    monkeypatch.setattr(DuckDbCopyJob, "run", failing_run)
    return poisoned


def test_a_failed_load_package_never_blocks_newer_data(tmp_path, write_config, poisoned_load):
    big = write(
        tmp_path / "in" / "big.csv", [review(f"B{i}", f"big file row {i}") for i in range(50)]
    )
    config = write_config([review_source(tmp_path / "in" / "*.csv")], ingest={"retries": 0})

    failed = ingest(str(config))

    assert "reviews" in failed["sources_failed"]
    assert "OutOfMemory" in failed["sources_failed"]["reviews"]
    assert "dropped 1 load package" in failed["sources_failed"]["reviews"]
    big.unlink()
    write(tmp_path / "in" / "small.csv", [review("S1", "the one new row")])

    later = ingest(str(config))

    assert later["sources_failed"] == {}
    assert texts(tmp_path) == {"S1": "the one new row"}


def test_a_package_left_pending_by_a_kill_is_loaded_with_the_new_files(tmp_path, write_config):
    write(tmp_path / "in" / "a.csv", [review("A1", "loaded last night")])
    config = write_config([review_source(tmp_path / "in" / "*.csv")])
    ingest(str(config))
    write(tmp_path / "in" / "b.csv", [review("B1", "in the killed run")])
    settings = load_settings(config, environ={})
    # What a kill -9 in dlt's load step leaves: the package extracted and normalised, not loaded.
    conn = connect_warehouse(settings.warehouse)
    pipeline = dlt.pipeline(
        pipeline_name="hasslemap_reviews",
        pipelines_dir=str(settings.dlt_dir),
        destination=dlt.destinations.duckdb(conn.cursor()),
        dataset_name="raw",
    )
    pipeline.extract(
        build_source_resource(settings.sources[0], settings.ingest, ReadStats()),
        loader_file_format="parquet",
    )
    pipeline.normalize()
    conn.close()
    assert pipeline.has_pending_data
    write(tmp_path / "in" / "c.csv", [review("C1", "added before the rerun")])

    result = ingest(str(config))

    assert texts(tmp_path) == {
        "A1": "loaded last night",
        "B1": "in the killed run",
        "C1": "added before the rerun",
    }
    assert result["packages_replayed"] == 1


def test_the_same_id_in_two_files_keeps_the_newest_file_and_records_the_loser(
    tmp_path, write_config
):
    now = time.time()
    older = write(tmp_path / "in" / "a.csv", [review("X", "older export")], mtime=now - 100)
    newer = write(tmp_path / "in" / "b.csv", [review("Y", "other"), review("X", "newer export")])
    os.utime(newer, (now - 50, now - 50))
    config = write_config([review_source(tmp_path / "in" / "*.csv")])

    ingest(str(config))

    assert texts(tmp_path)["X"] == "newer export"
    [(file, line, external_id, action, reason)] = query(
        tmp_path,
        "SELECT file, line, external_id, action, reason FROM rejected "
        "WHERE reason_code = 'duplicate_id'",
    )
    assert (Path(file).name, line, external_id, action) == ("a.csv", 2, "X", "quarantined")
    assert str(newer.resolve()) in reason and "line 3" in reason
    assert str(older.resolve()) in reason and "line 2" in reason

    os.utime(older, (now, now))  # touched, not changed: nothing flips
    ingest(str(config))
    assert texts(tmp_path)["X"] == "newer export"
    assert query(tmp_path, "SELECT count(*) FROM rejected WHERE reason_code = 'duplicate_id'") == [
        (1,)
    ]

    write(older, [review("X", "edited since")], mtime=now + 10)  # really changed: it wins now
    ingest(str(config))
    assert texts(tmp_path)["X"] == "edited since"
    losers = query(
        tmp_path,
        "SELECT file, line FROM rejected WHERE reason_code = 'duplicate_id' ORDER BY rejected_at",
    )
    assert [(Path(f).name, n) for f, n in losers] == [("a.csv", 2), ("b.csv", 3)]


def test_overlapping_exports_keep_one_comment_and_quarantine_only_what_differs(
    tmp_path, write_config
):
    now = time.time()
    # Each night's export repeats the day before: A and B are in both files, B edited since.
    write(
        tmp_path / "in" / "day1.csv",
        [review("A", "app crashes"), review("B", "refund late")],
        mtime=now - 100,
    )
    write(
        tmp_path / "in" / "day2.csv",
        [review("A", "app crashes"), review("B", "refund still late"), review("C", "no parcel")],
        mtime=now - 50,
    )
    config = write_config([review_source(tmp_path / "in" / "*.csv")])

    result = ingest(str(config))

    assert texts(tmp_path) == {"A": "app crashes", "B": "refund still late", "C": "no parcel"}
    assert query(tmp_path, "SELECT external_id, file FROM rejected") == [
        ("B", str((tmp_path / "in" / "day1.csv").resolve()))
    ]
    assert result["copies_across_files"] == 1 and result["duplicates_across_files"] == 1

    again = ingest(str(config))  # a re-run changes nothing, and loses nothing tonight
    assert query(tmp_path, "SELECT count(*) FROM rejected") == [(1,)]
    # The run summary said "1 record(s) lost to the same id" every night after the first.
    assert again["duplicates_across_files"] == 0


def test_touching_an_unchanged_file_reads_nothing_and_raw_text_is_bounded(tmp_path, write_config):
    huge = "word " * 20_000  # 100,000 characters in one field
    path = write(tmp_path / "in" / "a.csv", [review("H1", huge), review("H2", "short")])
    config = write_config(
        [review_source(tmp_path / "in" / "*.csv")],
        ingest={"max_text_chars": 500},
    )
    ingest(str(config))
    before = query(tmp_path, "SELECT count(*), max(length(record)) FROM raw.records")
    os.utime(path, (time.time() + 30, time.time() + 30))

    touched = ingest(str(config))

    assert (touched["files_read"], touched["files_skipped"]) == (0, 1)
    assert query(tmp_path, "SELECT count(*), max(length(record)) FROM raw.records") == before
    assert before[0][1] <= RAW_LIMIT
    [(raw_length,)] = query(
        tmp_path, "SELECT max(length(raw_text)) FROM rejected WHERE reason_code = 'truncated'"
    )
    assert raw_length <= RAW_LIMIT
    assert query(tmp_path, "SELECT count(*) FROM raw.rejected") == [(0,)]  # kept once, in rejected


def test_a_dangling_link_is_quarantined_and_every_source_still_loads(tmp_path, write_config):
    write(tmp_path / "in" / "good.csv", [review("G1", "readable")])
    (tmp_path / "in" / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    write(tmp_path / "other" / "more.csv", [review("M1", "another source")])
    config = write_config(
        [
            review_source(tmp_path / "in" / "*.csv", "linked"),
            review_source(tmp_path / "other" / "*.csv", "other"),
        ]
    )

    result = ingest(str(config))

    assert texts(tmp_path) == {"G1": "readable", "M1": "another source"}
    [(file, line, reason)] = query(
        tmp_path, "SELECT file, line, reason FROM rejected WHERE reason_code = 'unreadable_file'"
    )
    assert file.endswith("gone.csv") and line == 0
    assert "nowhere.csv" in reason and "does not exist" in reason
    assert result["sources_failed"] == {} and result["quarantined"] == 1


def test_a_source_that_fails_does_not_stop_the_others(tmp_path, write_config, poisoned_load):
    write(tmp_path / "first" / "a.csv", [review("A1", "from the failing source")])
    write(tmp_path / "second" / "b.csv", [review("B1", "from the healthy source")])
    config = write_config(
        [
            review_source(tmp_path / "first" / "*.csv", "first"),
            review_source(tmp_path / "second" / "*.csv", "second"),
        ],
        ingest={"retries": 0},
    )

    result = ingest(str(config))

    assert list(result["sources_failed"]) == ["first"]
    assert texts(tmp_path) == {"B1": "from the healthy source"}
    again = ingest(str(config))  # the failure is gone: the dropped files are read again
    assert again["sources_failed"] == {}
    assert texts(tmp_path)["A1"] == "from the failing source"
