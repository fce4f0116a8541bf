"""Hostile and unlucky input, one record at a time, through the real flows (issue 11).

Each test writes a small file holding one kind of bad record among good ones, runs the real
flow on a real Prefect server and DuckDB file, and checks three things: the bad record is in
``rejected`` with its reason code and line, every good row is in ``comments`` unchanged, and
the run completes.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import review_source, ticket_source, write_jsonl

from config import load_settings
from flows.ingest import absent_keys_warning, ingest
from flows.nightly import nightly
from flows.summary import run_warnings

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.e2e]

REVIEW_HEADER = "id,author,rating,title,body,date,product\n"
RECENT = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def query(folder: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def good_reviews(n: int, start: int = 1) -> list[str]:
    """``n`` ordinary reviews, ids G<start>..., dated a few days ago."""
    return [
        f"G{i},c{i},2,Slow refund,Refund {i} took three weeks to arrive,{RECENT},Hub\n"
        for i in range(start, start + n)
    ]


def write_csv(path: Path, rows: list[str], header: str = REVIEW_HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def rejected(folder: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(reason_code, line) -> (action, reason) for every rejected row."""
    rows = query(folder, "SELECT reason_code, line, action, reason FROM rejected")
    return {(code, line): (action, reason) for code, line, action, reason in rows}


def loaded(folder: Path) -> dict[str, str]:
    """external_id -> text of every loaded comment."""
    return dict(query(folder, "SELECT external_id, text FROM comments"))


def run_ingest(config: Path) -> dict:
    """Run the real ingest flow; it must complete (an exception here is a sunk run)."""
    result = ingest(str(config))
    assert result["comments_total"] > 0
    return result


def test_a_first_run_with_every_record_quarantined_completes_and_says_why(tmp_path, write_config):
    # A new user's first config maps a column the file lacks: nothing is usable. The run
    # must complete (it used to fail on the empty window's dates) and end saying why.
    header = "id,author,rating,title,comment,date,product\n"  # "body" is mapped, not there
    config = write_config(
        [review_source(write_csv(tmp_path / "in" / "r.csv", good_reviews(3), header))]
    )

    result = nightly(str(config))

    [(status,)] = query(tmp_path, "SELECT status FROM runs WHERE run_id = ?", [result["run_id"]])
    assert status == "completed"
    assert result["stages"]["cluster"]["no_comments"]
    warnings = run_warnings(result["stages"], load_settings(str(config)))
    assert len(warnings) == 1
    assert "every record was quarantined" in warnings[0]
    assert "r.csv (the file)" in warnings[0]
    assert "'body'" in warnings[0]


# --- 1. a date whose offset carries it past the year limits ---------------------------------


def test_an_offset_past_year_9999_or_before_year_1_does_not_sink_the_nightly_run(
    tmp_path, write_config
):
    rows = [
        *good_reviews(2),
        "X,z,2,,x,9999-12-31T23:59:59-05:00,P\n",
        "Y,z,2,,y,0001-01-01T00:30:00+01:00,P\n",
        *good_reviews(2, start=3),
    ]
    config = write_config([review_source(write_csv(tmp_path / "in" / "r.csv", rows))])

    result = nightly(str(config))

    [(status,)] = query(tmp_path, "SELECT status FROM runs WHERE run_id = ?", [result["run_id"]])
    assert status == "completed"
    bad = rejected(tmp_path)
    assert set(bad) == {("date_out_of_range", 4), ("date_out_of_range", 5)}
    assert all(action == "quarantined" for action, _ in bad.values())
    assert "past year 9999" in bad[("date_out_of_range", 4)][1]
    assert set(loaded(tmp_path)) == {"G1", "G2", "G3", "G4"}


def test_any_exception_while_reading_one_record_quarantines_that_record_alone(
    tmp_path, write_config, monkeypatch
):
    import flows.sources.resource as resource

    real = resource.normalise_record

    def fragile(record, *args, **kwargs):
        if record.get("id") == "BOOM":
            raise RuntimeError("a bug met a record it did not expect")
        return real(record, *args, **kwargs)

    monkeypatch.setattr(resource, "normalise_record", fragile)
    rows = [*good_reviews(2), "BOOM,z,2,,boom,2026-01-01,P\n", *good_reviews(2, start=3)]
    config = write_config([review_source(write_csv(tmp_path / "in" / "r.csv", rows))])

    run_ingest(config)

    bad = rejected(tmp_path)
    assert set(bad) == {("unreadable_record", 4)}
    action, reason = bad[("unreadable_record", 4)]
    assert action == "quarantined" and "RuntimeError" in reason and "did not expect" in reason
    assert set(loaded(tmp_path)) == {"G1", "G2", "G3", "G4"}


def test_a_reader_failing_mid_file_keeps_what_was_read_and_the_run_goes_on(
    tmp_path, write_config, monkeypatch
):
    import flows.sources.files as files

    real = files.iter_csv

    def failing(*args, **kwargs):
        for item in real(*args, **kwargs):
            if item.line == 4:
                raise ValueError("the reader broke")
            yield item

    monkeypatch.setattr(files, "iter_csv", failing)
    broken = write_csv(tmp_path / "in" / "a.csv", good_reviews(4))
    other = write_csv(tmp_path / "other" / "b.csv", good_reviews(2, start=10))
    config = write_config([review_source(broken), review_source(other, "other")])

    run_ingest(config)

    [(line, reason)] = query(
        tmp_path, "SELECT line, reason FROM rejected WHERE reason_code = 'unreadable_file'"
    )
    assert line == 0 and "after line 3" in reason and "the reader broke" in reason
    assert set(loaded(tmp_path)) == {"G1", "G2", "G10", "G11"}


def parquet_tickets_config(tmp_path: Path, table: pa.Table, write_config, **settings) -> Path:
    """A config whose ticket source reads ``table`` as in/t.parquet (no replies, product or value)."""
    path = tmp_path / "in" / "t.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    source = ticket_source(path, fmt="parquet")
    source["fields"] = {
        k: v
        for k, v in source["fields"].items()
        if k not in ("replies", "product", "customer_value")
    }
    return write_config([source], **settings)


def test_a_parquet_timestamp_past_year_9999_is_quarantined_not_fatal(tmp_path, write_config):
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    stamps = [now, datetime(9999, 12, 31), now]
    table = pa.table(
        {
            "id": ["P1", "P2", "P3"],
            "requester_id": ["c1", "c2", "c3"],
            "subject": ["Login"] * 3,
            "description": ["Cannot log in"] * 3,
            # Microseconds since the epoch; the middle one is in year 10000.
            "created_at": pa.array(
                [
                    int(stamps[0].timestamp() * 1e6),
                    253_402_300_800_000_000,
                    int(now.timestamp() * 1e6),
                ],
                pa.timestamp("us"),
            ),
        }
    )
    config = parquet_tickets_config(tmp_path, table, write_config)

    run_ingest(config)

    assert set(rejected(tmp_path)) == {("unreadable_record", 2)}
    assert set(loaded(tmp_path)) == {"P1", "P3"}


def test_a_parquet_export_that_renamed_a_mapped_column_is_quarantined_naming_it(
    tmp_path, write_config
):
    """Loaded, every row would lose its description and its customer, silently."""
    now = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    table = pa.table(
        {
            "id": ["P1", "P2"],
            "requester": ["c1", "c2"],  # was requester_id
            "subject": ["Login", "Refund"],
            "desc": ["Cannot log in since the update", "Still no refund"],  # was description
            "created_at": [now, now],
        }
    )
    config = parquet_tickets_config(tmp_path, table, write_config)

    ingest(str(config))

    [(code, line, reason)] = query(tmp_path, "SELECT reason_code, line, reason FROM rejected")
    assert (code, line) == ("missing_columns", 0)
    assert "'requester_id'" in reason and "'description'" in reason and "'desc'" in reason
    assert loaded(tmp_path) == {}


def test_a_corrupt_parquet_file_is_quarantined_and_its_source_still_loads(tmp_path, write_config):
    """Scrambled compressed bytes mid-file: pyarrow raises an OSError that no retry mends."""
    now = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    n = 5000

    def tickets(first: int, count: int) -> pa.Table:
        ids = range(first, first + count)
        return pa.table(
            {
                "id": [f"P{i}" for i in ids],
                "requester_id": [f"c{i}" for i in ids],
                "subject": ["Login"] * count,
                "description": [
                    f"The app crashes when I open settings, case {i}. " * 3 for i in ids
                ],
                "created_at": [now] * count,
            }
        )

    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(tickets(1, 10), folder / "a_good.parquet")
    bad = folder / "b_bad.parquet"
    pq.write_table(tickets(100, n), bad, row_group_size=1000, compression="snappy")
    data = bytearray(bad.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 400):
        data[i] = (data[i] * 7 + 13) & 0xFF
    bad.write_bytes(bytes(data))
    source = ticket_source(folder / "*.parquet", fmt="parquet")
    source["fields"] = {
        k: v
        for k, v in source["fields"].items()
        if k not in ("replies", "product", "customer_value")
    }
    config = write_config([source], ingest={"chunk_rows": 1000})

    first = run_ingest(config)

    [(line, reason)] = query(
        tmp_path, "SELECT line, reason FROM rejected WHERE reason_code = 'unreadable_file'"
    )
    assert line == 0 and "is corrupt" in reason and "the records before it were kept" in reason
    [(file,)] = query(tmp_path, "SELECT file FROM rejected WHERE reason_code = 'unreadable_file'")
    assert file.endswith("b_bad.parquet")
    kept = set(loaded(tmp_path))
    assert {f"P{i}" for i in range(1, 11)} <= kept  # the good file
    assert len(kept) < 10 + n  # not every row of the corrupt file
    # The file counts as read: the next run neither fails nor quarantines it again.
    run_ingest(config)
    assert query(tmp_path, "SELECT count(*) FROM rejected") == [(1,)]
    assert first["sources_failed"] == {}


# --- 2. implausible dates -------------------------------------------------------------------


def test_sentinel_and_far_future_dates_are_quarantined_as_out_of_range(tmp_path, write_config):
    soon = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    rows = [
        *good_reviews(2),
        "F1,z,2,,no date really,9999-12-31,P\n",  # the enterprise "no date" sentinel
        "F2,z,2,,before the product,1999-12-31,P\n",  # before ingest.earliest_date
        f"F3,z,2,,a month ahead,{later},P\n",  # past the run time + ingest.max_future_days
        f"S1,z,2,,tomorrow by the clock of another zone,{soon},P\n",  # within max_future_days
        *good_reviews(2, start=3),
    ]
    config = write_config([review_source(write_csv(tmp_path / "in" / "r.csv", rows))])

    run_ingest(config)

    bad = rejected(tmp_path)
    assert set(bad) == {
        ("date_out_of_range", 4),
        ("date_out_of_range", 5),
        ("date_out_of_range", 6),
    }
    assert "'9999-12-31'" in bad[("date_out_of_range", 4)][1]
    assert set(loaded(tmp_path)) == {"G1", "G2", "G3", "G4", "S1"}
    [(newest,)] = query(tmp_path, "SELECT max(created_at) FROM comments")
    assert newest.year < 9999


def test_the_plausible_range_follows_the_settings(tmp_path, write_config):
    rows = ["A,z,2,,old but wanted,1995-06-01,P\n", *good_reviews(1)]
    config = write_config(
        [review_source(write_csv(tmp_path / "in" / "r.csv", rows))],
        ingest={"earliest_date": "1990-01-01"},
    )
    run_ingest(config)
    assert set(loaded(tmp_path)) == {"A", "G1"}


# --- 3. an unclosed quote --------------------------------------------------------------------


def test_an_unclosed_quote_loses_one_record_not_the_200_after_it(tmp_path, write_config):
    rows = good_reviews(501)
    rows[99] = f'G100,c100,2,Slow,"An unclosed quote swallows what follows,{RECENT},Hub\n'
    rows[300] = f'G301,c301,2,Slow,"A quoted body\nover two lines",{RECENT},Hub\n'
    config = write_config([review_source(write_csv(tmp_path / "in" / "r.csv", rows))])

    result = run_ingest(config)

    bad = rejected(tmp_path)
    assert set(bad) == {("malformed_csv", 101)}
    assert "resumed at line 102" in bad[("malformed_csv", 101)][1]
    comments = loaded(tmp_path)
    assert len(comments) == 500 and "G100" not in comments
    assert comments["G301"] == "Slow.\n\nA quoted body\nover two lines"
    assert comments["G101"] == "Slow refund.\n\nRefund 101 took three weeks to arrive"
    assert result["quarantined"] == 1


# --- 4. encoded markup -----------------------------------------------------------------------


def test_encoded_script_tags_are_never_stored_as_live_markup(tmp_path, write_config):
    rows = [
        f"H1,z,2,,Nice &lt;script&gt;alert(1)&lt;/script&gt; app,{RECENT},P\n",
        f"H2,z,5,,I <3 it,{RECENT},P\n",
        f"H3,z,4,,a < b when b is the bill,{RECENT},P\n",
        f"H4,z,3,,AT&amp;T coverage drops,{RECENT},P\n",
        *good_reviews(2),
    ]
    config = write_config([review_source(write_csv(tmp_path / "in" / "r.csv", rows))])

    run_ingest(config)

    comments = loaded(tmp_path)
    assert comments["H1"] == "Nice app"
    assert comments["H2"] == "I <3 it"
    assert comments["H3"] == "a < b when b is the bill"
    assert comments["H4"] == "AT&T coverage drops"
    assert not any("<script" in text.lower() for text in comments.values())
    assert set(rejected(tmp_path)) == {("html_stripped", 2), ("html_stripped", 5)}
    assert {"G1", "G2"} <= set(comments)


# --- 5. JSON Lines oddities ------------------------------------------------------------------


def ticket(record_id, **fields):
    return {
        "id": record_id,
        "requester_id": "c1",
        "subject": "Login",
        "description": "Cannot log in",
        "created_at": RECENT,
        "comments": [],
        **fields,
    }


def run_tickets(tmp_path, write_config, records) -> None:
    path = write_jsonl(tmp_path / "in" / "t.jsonl", records)
    run_ingest(write_config([ticket_source(path)]))


def test_a_key_no_record_of_a_jsonl_file_has_is_named_and_its_records_still_load(
    tmp_path, write_config
):
    # An export renamed "requester_id" to "requester": every record lacks the mapped key.
    # "product" is there in one record only, as JSON may leave a key out: no warning for it.
    renamed = [{**ticket(f"T{i}", customer_value=10), "requester": f"c{i}"} for i in range(1, 4)]
    for record in renamed:
        del record["requester_id"]
    renamed[1]["product"] = "Nimbus Hub"
    path = write_jsonl(tmp_path / "in" / "t.jsonl", renamed)
    config = write_config([ticket_source(path)])

    result = run_ingest(config)

    assert set(loaded(tmp_path)) == {"T1", "T2", "T3"}  # nothing lost
    assert query(tmp_path, "SELECT DISTINCT customer_id FROM comments") == [(None,)]
    [(file, (absent, first_keys))] = result["sources"]["tickets"]["keys_absent"].items()
    assert file.endswith("t.jsonl") and absent == ["requester_id"] and "requester" in first_keys
    [warning] = run_warnings({"ingest": result}, load_settings(str(config)))
    assert "source 'tickets'" in warning and "t.jsonl" in warning
    assert "'requester_id' (fields.customer_id)" in warning
    assert "'requester'" in warning and "sources[tickets]" in warning


def test_a_reply_key_no_follow_up_of_a_file_has_is_named(tmp_path, write_config):
    # Zendesk's own comments carry author_id and public, not a role: every follow-up, the
    # customer's own among them, was dropped, and the file read "3 usable, 0 quarantined".
    records = [
        ticket(f"T{i}", comments=[{"author_id": 7, "public": True, "body": "Still broken"}])
        for i in range(1, 4)
    ]
    records.append(ticket("T4"))  # no follow-up: says nothing of their keys
    path = write_jsonl(tmp_path / "in" / "t.jsonl", records)
    config = write_config([ticket_source(path)])

    result = run_ingest(config)

    assert set(loaded(tmp_path)) == {"T1", "T2", "T3", "T4"}
    [(_, (absent, _))] = result["sources"]["tickets"]["keys_absent"].items()
    assert [name for name in absent if name.startswith("comments")] == ["comments[].author_role"]
    [warning] = run_warnings({"ingest": result}, load_settings(str(config)))
    assert "'comments[].author_role' (fields.replies.role)" in warning
    # With the role there nothing is said of it, nor by a file with no follow-up at all.
    for fine in ([ticket("T5", comments=[{"author_role": "agent", "body": "Ok"}])], [ticket("T6")]):
        write_jsonl(path, fine)
        [(absent, _)] = run_ingest(config)["sources"]["tickets"]["keys_absent"].values()
        assert absent == ["product", "customer_value"]  # not in these records either


def test_a_dotted_key_is_said_to_be_no_path_into_nested_objects(tmp_path, write_config):
    # Intercom nests the body ("source": {"body": ...}): "source.body" read nothing, and the
    # warning said only "if the export renamed them".
    source = ticket_source(tmp_path / "in" / "t.jsonl")
    source["fields"] = {**source["fields"], "text": ["subject", "source.body"]}
    config = write_config([source])
    warning = absent_keys_warning(
        load_settings(str(config)).sources[0], "t.jsonl", ["source.body"], ["subject", "source"]
    )
    assert "'source.body' (fields.text[1])" in warning
    assert warning.endswith(
        "; a name such as 'source.body' is read as one key, not a path into nested objects: "
        "flatten the records first (e.g. jq)"
    )


def test_a_nested_object_in_a_text_field_is_stored_as_json(tmp_path, write_config):
    nested = {"issue": "refund", "urgent": True, "steps": ["asked", None]}
    run_tickets(tmp_path, write_config, [ticket("T1", description=nested), ticket("T2")])
    comments = loaded(tmp_path)
    assert (
        comments["T1"] == 'Login.\n\n{"issue": "refund", "urgent": true, "steps": ["asked", null]}'
    )
    assert comments["T2"] == "Login.\n\nCannot log in"


def test_ids_past_64_bits_stay_exact_and_distinct(tmp_path, write_config):
    big = 2**64
    lines = [json.dumps(ticket(big + i)) for i in (1, 2, 3)] + [json.dumps(ticket("T4"))]
    run_tickets(tmp_path, write_config, lines)
    assert set(loaded(tmp_path)) == {str(big + 1), str(big + 2), str(big + 3), "T4"}
    assert rejected(tmp_path) == {}


def test_a_boolean_id_is_quarantined_with_a_clear_reason(tmp_path, write_config):
    run_tickets(tmp_path, write_config, [ticket("T1"), ticket(True), ticket(False), ticket("T4")])
    bad = rejected(tmp_path)
    assert set(bad) == {("bad_id", 2), ("bad_id", 3)}
    action, reason = bad[("bad_id", 2)]
    assert action == "quarantined" and "true" in reason and "'id'" in reason
    assert set(loaded(tmp_path)) == {"T1", "T4"}


def test_nul_bytes_are_removed_from_ids_and_the_repair_recorded(tmp_path, write_config):
    run_tickets(tmp_path, write_config, [ticket("T\u00001"), ticket("T2", requester_id="c\u00002")])
    assert set(loaded(tmp_path)) == {"T1", "T2"}
    assert query(tmp_path, "SELECT customer_id FROM comments WHERE external_id = 'T2'") == [("c2",)]
    assert set(rejected(tmp_path)) == {("control_chars_removed", 1), ("control_chars_removed", 2)}
    assert all(action == "repaired" for action, _ in rejected(tmp_path).values())


# --- 6. other delimiters and gzip -----------------------------------------------------------


def test_a_semicolon_csv_is_named_as_such_and_read_once_the_source_says_so(tmp_path, write_config):
    rows = [row.replace(",", ";") for row in good_reviews(3)]
    path = write_csv(tmp_path / "in" / "r.csv", rows, header=REVIEW_HEADER.replace(",", ";"))
    config = write_config([review_source(path), {**review_source(path, "semi"), "delimiter": ";"}])

    run_ingest(config)

    [(code, line, reason)] = query(
        tmp_path, "SELECT reason_code, line, reason FROM rejected WHERE source = 'reviews'"
    )
    assert (code, line) == ("wrong_delimiter", 0)
    assert "semicolon" in reason and "sources[reviews].delimiter" in reason
    assert query(tmp_path, "SELECT count(*) FROM comments WHERE source = 'semi'") == [(3,)]


def test_a_gzip_csv_is_read(tmp_path, write_config):
    path = tmp_path / "in" / "r.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress((REVIEW_HEADER + "".join(good_reviews(3))).encode()))
    cut = tmp_path / "in" / "cut.csv.gz"
    cut.write_bytes(gzip.compress((REVIEW_HEADER + "".join(good_reviews(3, 4))).encode())[:-20])
    config = write_config([review_source(tmp_path / "in" / "*.gz")])

    run_ingest(config)

    assert {"G1", "G2", "G3"} <= set(loaded(tmp_path))
    [(file, line, reason)] = query(
        tmp_path, "SELECT file, line, reason FROM rejected WHERE reason_code = 'bad_compression'"
    )
    assert file.endswith("cut.csv.gz") and line == 0 and "cut short" in reason


# --- 7. raw values in reasons ---------------------------------------------------------------


def test_reasons_quote_raw_values_redacted_and_capped(tmp_path, write_config):
    rows = [
        "P1,z,2,,x,mail bob@example.com or call 202-555-0143,P\n",
        f"P2,z,4111 1111 1111 1111,,fine,{RECENT},P\n",
        *good_reviews(2),
    ]
    config = write_config([review_source(write_csv(tmp_path / "in" / "r.csv", rows))])

    run_ingest(config)

    bad = rejected(tmp_path)
    assert set(bad) == {("bad_date", 2), ("rating_out_of_range", 3)}
    reasons = " ".join(reason for _, reason in bad.values())
    for secret in ("bob@example.com", "202-555-0143", "4111 1111 1111 1111"):
        assert secret not in reasons
    assert "[email]" in reasons and "[card]" in reasons
    assert set(loaded(tmp_path)) == {"P2", "G1", "G2"}
