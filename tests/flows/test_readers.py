import gzip
import io
import zipfile
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from config import FilesSourceConfig, IngestSettings, SourceConfig
from flows.sources.base import ReadStats, open_source
from flows.sources.files import FilesSource
from flows.sources.readers import (
    FileProblem,
    decompression_checked,
    iter_csv,
    iter_jsonl,
    iter_parquet,
    open_decompressed,
)

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)

HEADER = "id,title,body,date\n"


def read_csv(data: bytes, required=("id", "body")):
    return list(iter_csv(io.BytesIO(data), delimiter=",", required=list(required)))


def test_csv_records_carry_their_first_line_even_across_quoted_newlines():
    items = read_csv((HEADER + '1,a,"two\nlines",2026-01-01\n2,b,c,2026-01-02\n').encode())
    assert [(i.line, i.record["id"]) for i in items] == [(2, "1"), (4, "2")]
    assert items[0].record["body"] == "two\nlines"
    assert items[0].raw_text == '1,a,"two\nlines",2026-01-01\n'


def test_a_malformed_csv_row_is_reported_and_reading_goes_on():
    items = read_csv((HEADER + "1,a,b,2026-01-01\n2,a,b,c,d,e\n3,a,b,2026-01-03\n").encode())
    assert [i.problem.code if i.problem else "ok" for i in items] == ["ok", "malformed_csv", "ok"]
    assert items[1].line == 3 and items[1].raw_text == "2,a,b,c,d,e\n"


def test_a_stray_byte_in_a_utf8_file_is_decoded_with_replacement():
    data = HEADER + "1,Jos\u00e9,na\u00efve \u2019fix\u2019,2026-01-01\n"
    [first, second] = read_csv(data.encode() + b"2,t,caf\xe9 au lait,2026-01-01\n")
    assert (
        first.record["title"] == "Jos\u00e9"
        and first.record["body"] == "na\u00efve \u2019fix\u2019"
    )
    assert second.record["body"] == "caf\ufffd au lait"


def test_an_excel_csv_in_windows_1252_is_read_as_such():
    """Excel's "CSV" on Western Windows: every accent, smart quote and euro sign kept."""
    rows = "1,Jos\u00e9,I don\u2019t get my \u20ac20 back,2026-01-01\n2,M\u00fcller-1,caf\u00e9,2026-01-02\n"
    items = read_csv((HEADER + rows).encode("cp1252"))
    assert [i.record["title"] for i in items] == ["Jos\u00e9", "M\u00fcller-1"]
    assert items[0].record["body"] == "I don\u2019t get my \u20ac20 back"
    # Far into a big file: the encoding is judged on the first megabyte.
    filler = "".join(f"{n},t,plain ascii text,2026-01-01\n" for n in range(3, 40_000))
    items = read_csv((HEADER + rows + filler + "9,t,na\u00efve,2026-01-03\n").encode("cp1252"))
    assert items[-1].record["body"] == "na\u00efve"


def test_a_header_without_the_mapped_columns_is_a_file_problem():
    with pytest.raises(FileProblem, match="'body'"):
        read_csv(b"id,text\n1,hello\n")
    with pytest.raises(FileProblem, match="empty"):
        read_csv(b"")


def test_jsonl_reports_invalid_lines_and_non_objects_but_keeps_going():
    data = b'{"id": 1}\n{"id": 2, "subject": "broken\n\n[1, 2]\n{"id": 3}\n'
    items = list(iter_jsonl(io.BytesIO(data)))
    assert [(i.line, i.problem.code if i.problem else "ok") for i in items] == [
        (1, "ok"),
        (2, "invalid_json"),
        (4, "not_an_object"),
        (5, "ok"),
    ]


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (b'[{"id": 1}, {"id": 2}]\n', "not_jsonl", "one JSON array"),
        (b'[\n  {\n    "id": 1\n  }\n]\n', "not_jsonl", "one JSON array"),
        (b'\n{\n  "id": 1,\n  "subject": "Login"\n}\n', "not_jsonl", "pretty-printed"),
        ('{"id": 1}\n{"id": 2}\n'.encode("utf-16"), "wrong_encoding", "UTF-16"),
    ],
)
def test_a_file_that_is_no_json_lines_is_one_problem_for_the_file(data, code, says):
    """Not one invalid_json per line: what the file is, and how to make it JSON Lines."""
    with pytest.raises(FileProblem, match=says) as err:
        list(iter_jsonl(io.BytesIO(data)))
    assert err.value.code == code
    if code == "not_jsonl":
        assert "jq -c" in err.value.reason


def test_a_json_lines_file_whose_first_line_is_a_list_of_numbers_is_read_line_by_line():
    items = list(iter_jsonl(io.BytesIO(b'[1, 2]\n{"id": 3}\n')))
    assert [(i.line, i.problem.code if i.problem else "ok") for i in items] == [
        (1, "not_an_object"),
        (2, "ok"),
    ]


def test_parquet_nanosecond_timestamps_are_read_without_pandas():
    """Cut to microseconds, as plain datetimes: pyarrow hands out ns ones only through pandas."""
    buffer = io.BytesIO()
    stamps = pa.array([1772618700123456789, 1772618700000001000], pa.timestamp("ns", tz="UTC"))
    pq.write_table(pa.table({"id": ["P1", "P2"], "date": stamps}), buffer)
    buffer.seek(0)
    first, second = (i.record["date"] for i in iter_parquet(buffer, batch_rows=10))
    assert type(first) is datetime and type(second) is datetime
    assert first == datetime(2026, 3, 4, 10, 5, 0, 123456, tzinfo=UTC)
    assert second.microsecond == 1


def test_parquet_is_read_in_batches_with_row_numbers():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(25)), "body": ["x"] * 25}), buffer)
    buffer.seek(0)
    items = list(iter_parquet(buffer, batch_rows=10))
    assert [i.line for i in items] == list(range(1, 26))
    assert items[-1].record == {"id": 24, "body": "x"}


def numbered_rows(n: int, broken: int | None = None) -> str:
    rows = []
    for i in range(1, n + 1):
        body = f'"unclosed quote {i}' if i == broken else f"body {i}"
        rows.append(f"{i},t{i},{body},2026-01-01\n")
    return HEADER + "".join(rows)


def test_an_unclosed_quote_costs_only_its_own_record():
    items = read_csv(numbered_rows(501, broken=100).encode())
    bad = [i for i in items if i.problem]
    assert [(i.line, i.problem.code) for i in bad] == [(101, "malformed_csv")]
    assert bad[0].raw_text == '100,t100,"unclosed quote 100,2026-01-01\n'
    assert "resumed at line 102" in bad[0].problem.reason
    good = [i for i in items if not i.problem]
    assert [i.record["id"] for i in good] == [str(i) for i in range(1, 502) if i != 100]
    assert [i.line for i in good[98:101]] == [100, 102, 103]


def test_an_unclosed_quote_near_the_end_of_the_file_is_found_too():
    # Fewer lines follow than the runaway limit, and the quote opens in the last column, so
    # the record has the right number of fields: only the end of the file gives it away.
    data = HEADER + '1,a,b,2026-01-01\n2,a,b,"2026-01-02\n3,a,b,2026-01-03\n4,a,b,2026-01-04\n'
    items = read_csv(data.encode())
    assert [(i.line, i.problem.code if i.problem else i.record["id"]) for i in items] == [
        (2, "1"),
        (3, "malformed_csv"),
        (4, "3"),
        (5, "4"),
    ]


def test_a_quoted_field_over_several_lines_is_still_one_record():
    data = HEADER + '1,a,"first line\nsecond, with, commas\nthird",2026-01-01\n2,b,c,2026-01-02\n'
    items = read_csv(data.encode())
    assert [(i.line, i.problem) for i in items] == [(2, None), (5, None)]
    assert items[0].record["body"] == "first line\nsecond, with, commas\nthird"


def test_a_multi_line_record_with_too_many_fields_is_one_rejected_record():
    data = HEADER + '1,a,"two\nlines",2026-01-01,EXTRA\n2,b,c,2026-01-02\n'
    items = read_csv(data.encode())
    assert [(i.line, i.problem.code if i.problem else "ok") for i in items] == [
        (2, "malformed_csv"),
        (4, "ok"),
    ]
    assert items[0].raw_text == '1,a,"two\nlines",2026-01-01,EXTRA\n'


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_a_header_in_another_delimiter_names_the_setting_to_change(delimiter, name):
    data = HEADER.replace(",", delimiter) + delimiter.join(["1", "t", "b", "2026-01-01"]) + "\n"
    with pytest.raises(FileProblem, match=rf"{name}-delimited.*set sources\[x\]\.delimiter") as err:
        list(
            iter_csv(
                io.BytesIO(data.encode()),
                delimiter=",",
                required=["id", "body"],
                setting="sources[x].delimiter",
            )
        )
    assert err.value.code == "wrong_delimiter"
    [item] = iter_csv(io.BytesIO(data.encode()), delimiter="auto", required=["id", "body"])
    assert item.record == {"id": "1", "title": "t", "body": "b", "date": "2026-01-01"}


def test_auto_splits_a_header_that_lacks_one_mapped_column_and_names_that_column_only():
    # A semicolon file mapped to a "csat" column it does not have: auto fell back to ','
    # and the problem said every mapped column was missing, the header one name.
    data = "id;date;body;nps\n1;2026-01-01;slow;3\n"
    with pytest.raises(FileProblem) as err:
        list(iter_csv(io.BytesIO(data.encode()), delimiter="auto", required=["id", "csat"]))
    assert err.value.code == "missing_columns"
    assert err.value.reason == (
        "header lacks column(s) 'csat' named in the source's fields mapping; it has 'id', "
        "'date', 'body', 'nps'"
    )
    # A delimiter is named only when the header, split by it, has every mapped column: under
    # auto none can be (auto would have taken it), and "set delimiter to ..." would be false.
    with pytest.raises(FileProblem) as err:
        list(
            iter_csv(
                io.BytesIO(b"id,note;body\n1,a;b\n"), delimiter="auto", required=["id", "body"]
            )
        )
    assert err.value.code == "missing_columns"


def test_a_missing_column_message_redacts_and_caps_what_the_header_holds():
    # A file without a header: its first record is taken for one, and may hold PII.
    data = b"1,bob@example.com,call 202-555-0143," + b"x" * 500 + b"\n"
    with pytest.raises(FileProblem) as err:
        read_csv(data)
    assert err.value.code == "missing_columns"
    assert "bob@example.com" not in err.value.reason
    assert "202-555-0143" not in err.value.reason
    assert "x" * 61 not in err.value.reason


def test_gzip_files_are_detected_and_read_and_a_corrupt_one_is_a_file_problem():
    data = (HEADER + "1,a,b,2026-01-01\n").encode()
    packed = gzip.compress(data)
    stream = open_decompressed(io.BytesIO(packed), "auto")
    assert [i.record["id"] for i in iter_csv(stream, delimiter=",", required=["id"])] == ["1"]
    assert open_decompressed(io.BytesIO(data), "auto").read() == data
    with pytest.raises(FileProblem, match="compression: gzip") as err:
        open_decompressed(io.BytesIO(packed), "none")
    assert err.value.code == "compressed_file"
    cut = open_decompressed(io.BytesIO(packed[:-12]), "gzip")
    with pytest.raises(FileProblem) as err:
        list(decompression_checked(iter_csv(cut, delimiter=",", required=["id"])))
    assert err.value.code == "bad_compression"


def test_jsonl_keeps_ids_past_64_bits_exact():
    big = 2**64 + 1
    data = f'{{"id": {big}}}\n{{"id": {big + 1}}}\n{{"id": -{big}}}\n'.encode()
    assert [i.record["id"] for i in iter_jsonl(io.BytesIO(data))] == [big, big + 1, -big]


def test_jsonl_on_the_exact_path_still_rejects_what_orjson_rejects():
    data = b'{"id": 12345678901234567890, "v": NaN}\n{"id": 12345678901234567890, "s": "\\ud800"}\n'
    assert [i.problem.code for i in iter_jsonl(io.BytesIO(data))] == ["invalid_json"] * 2


def test_a_parquet_row_python_cannot_hold_is_a_problem_item_not_a_crash():
    buffer = io.BytesIO()
    stamps = pa.array([0, 253_402_300_800_000_000, 1_000_000], pa.timestamp("us"))
    pq.write_table(pa.table({"id": [1, 2, 3], "created": stamps}), buffer)
    buffer.seek(0)
    items = list(iter_parquet(buffer, batch_rows=10))
    assert [(i.line, i.problem.code if i.problem else i.record["id"]) for i in items] == [
        (1, 1),
        (2, "unreadable_record"),
        (3, 3),
    ]
    assert "10000-01-01" in items[1].raw_text


# --- source types -----------------------------------------------------------------------------


def files_source(path):
    fields = {"external_id": "id", "created_at": "date", "text": ["body"]}
    return FilesSourceConfig(
        name="r", channel="review", path=str(path), format="csv", fields=fields
    )


def test_files_is_the_registered_type_of_a_source_without_one(tmp_path):
    source_type = open_source(files_source(tmp_path / "*.csv"), IngestSettings())
    assert isinstance(source_type, FilesSource)
    assert source_type.where() == str(tmp_path / "*.csv")


def test_an_unregistered_source_type_names_the_known_ones():
    fields = {"external_id": "id", "created_at": "date", "text": ["body"]}
    source = SourceConfig(type="ftp", name="r", channel="review", fields=fields)
    with pytest.raises(KeyError, match="unknown source type 'ftp'; known types: .*files"):
        open_source(source, IngestSettings())


def test_the_files_type_lists_only_what_is_new_since_its_state(tmp_path):
    (tmp_path / "a.csv").write_text(HEADER + "1,t,first,2026-01-01\n", encoding="utf-8")
    source_type = open_source(files_source(tmp_path / "*.csv"), IngestSettings())
    state: dict = {}
    [item] = source_type.list_new(state, ReadStats())
    assert [r.record["body"] for r in source_type.read(item)] == ["first"]
    source_type.mark_read(state, item)

    stats = ReadStats()
    assert list(source_type.list_new(state, stats)) == []
    assert (stats.files_found, stats.files_skipped) == (1, 1)
    (tmp_path / "b.csv").write_text(HEADER + "2,t,second,2026-01-02\n", encoding="utf-8")
    assert [i.location for i in source_type.list_new(state, ReadStats())] == [
        str(tmp_path / "b.csv")
    ]


def test_jsonl_reads_past_a_byte_order_mark_on_the_first_line_only():
    data = b'\xef\xbb\xbf{"id": 1}\n\xef\xbb\xbf{"id": 2}\n'
    first, second = iter_jsonl(io.BytesIO(data))
    assert first.record == {"id": 1} and first.problem is None
    assert second.record is None and second.problem.code == "invalid_json"


def test_a_quoted_field_of_hundreds_of_lines_is_one_record():
    # A pasted e-mail thread: 250 lines in one quoted body, then more records.
    body = "\n".join(f"line {n}, of the thread" for n in range(250))
    data = HEADER + f'1,a,"{body}",2026-01-01\n2,b,c,2026-01-02\n'
    items = read_csv(data.encode())
    assert [(i.line, i.problem) for i in items] == [(2, None), (252, None)]
    assert items[0].record["body"] == body


def test_a_parquet_file_without_a_mapped_column_is_one_file_problem():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"ticket_id": [1, 2], "body": ["x", "y"]}), buffer)
    buffer.seek(0)
    with pytest.raises(FileProblem) as err:
        list(iter_parquet(buffer, batch_rows=10, required=["id", "id"], any_of=["body"]))
    assert err.value.code == "missing_columns"
    assert "lacks column(s) 'id'" in err.value.reason and "'ticket_id'" in err.value.reason
    # One text column of several will do, as it does for a record.
    buffer.seek(0)
    items = iter_parquet(buffer, batch_rows=10, required=["ticket_id"], any_of=["title", "body"])
    assert [i.record["body"] for i in items] == ["x", "y"]
    buffer.seek(0)
    with pytest.raises(FileProblem, match="'title', 'text'"):
        list(iter_parquet(buffer, batch_rows=10, any_of=["title", "text"]))


def test_a_mapped_column_named_twice_in_the_header_is_a_file_problem():
    with pytest.raises(FileProblem) as err:
        read_csv(b"id,title,body,body,date\n1,t,first,second,2026-01-01\n")
    assert err.value.code == "bad_header" and "'body' more than once" in err.value.reason
    # A copy of a column the mapping does not read is no problem.
    items = read_csv(b"id,title,body,date,note,note\n1,t,b,2026-01-01,x,y\n")
    assert items[0].record["body"] == "b" and items[0].problem is None


def test_an_excel_workbook_given_as_csv_is_named_as_such_with_what_to_do(tmp_path):
    # Quarantined before with the zip's bytes as its reason ("'PK\x03\x04…' missing").
    workbook = tmp_path / "survey.xlsx"
    with zipfile.ZipFile(workbook, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(FileProblem) as err:
        read_csv(workbook.read_bytes())
    assert err.value.code == "not_csv" and 'save the sheet as "CSV UTF-8"' in err.value.reason
    # And a source set to read it as a workbook is refused when the config is read.
    with pytest.raises(ValueError, match='save the sheet as "CSV UTF-8" and use format: csv'):
        FilesSourceConfig.model_validate({**files_source(workbook).model_dump(), "format": "xlsx"})


def test_a_utf16_csv_is_named_as_such_not_as_missing_columns():
    with pytest.raises(FileProblem) as err:
        read_csv("id,body\n1,hello\n".encode("utf-16"))
    assert err.value.code == "wrong_encoding" and "UTF-8" in err.value.reason
