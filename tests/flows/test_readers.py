import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.sources.readers import FileProblem, iter_csv, iter_jsonl, iter_parquet

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


def test_non_utf8_bytes_are_decoded_with_replacement():
    [item] = read_csv(HEADER.encode() + b"1,t,caf\xe9 au lait,2026-01-01\n")
    assert item.record["body"] == "caf\ufffd au lait"


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


def test_parquet_is_read_in_batches_with_row_numbers():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(25)), "body": ["x"] * 25}), buffer)
    buffer.seek(0)
    items = list(iter_parquet(buffer, batch_rows=10))
    assert [i.line for i in items] == list(range(1, 26))
    assert items[-1].record == {"id": 24, "body": "x"}
