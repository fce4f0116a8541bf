"""Writing a query's result to a file: nested and typed values kept, never a partial file left."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from warehouse.export import ExportError, write_export

# One row of the types the analyst views hold: MAP, LIST, STRUCT, JSON, HUGEINT and DECIMAL
# (a sum, a literal), DATE, TIMESTAMP, and a NULL list.
QUERY = """
SELECT map {'review': 2, 'ticket': 1} AS channels, [1, NULL] AS numbers,
       {'label': 'late', 'score': NULL} AS part, '{"reach": 0.3, "tags": ["a"]}'::JSON AS weights,
       sum(x) AS total, 1.5 AS ratio, DATE '2026-11-01' AS day,
       TIMESTAMP '2026-11-01 12:30:00' AS at, NULL::VARCHAR[] AS nothing
FROM (VALUES (2), (3)) AS t(x)
"""
CHANNELS = {"review": 2, "ticket": 1}
PART = {"label": "late", "score": None}
WEIGHTS = {"reach": 0.3, "tags": ["a"]}
DAY = date(2026, 11, 1)


def _result() -> pa.Table:
    with duckdb.connect() as conn:
        return conn.execute(QUERY).to_arrow_table()


def test_csv_holds_lists_maps_and_structs_as_json_text(tmp_path):
    out = tmp_path / "result.csv"
    write_export(_result(), out)
    with out.open(encoding="utf-8", newline="") as file:
        [row] = list(csv.DictReader(file))
    assert json.loads(row["channels"]) == CHANNELS
    assert json.loads(row["numbers"]) == [1, None]
    assert json.loads(row["part"]) == PART
    assert json.loads(row["weights"]) == WEIGHTS
    assert [row[k] for k in ("total", "ratio", "day", "nothing")] == ["5", "1.5", "2026-11-01", ""]
    assert [p.name for p in tmp_path.iterdir()] == ["result.csv"]


def test_json_keeps_numbers_numbers_and_nested_values_json(tmp_path):
    out = tmp_path / "result.json"
    write_export(_result(), out, json_columns=["weights"])
    assert json.loads(out.read_text(encoding="utf-8")) == [
        {
            "channels": CHANNELS,
            "numbers": [1, None],
            "part": PART,
            "weights": WEIGHTS,
            "total": 5,
            "ratio": 1.5,
            "day": "2026-11-01",
            "at": "2026-11-01T12:30:00",
            "nothing": None,
        }
    ]


@pytest.mark.parametrize(
    ("suffix", "table"),
    [
        # Arrow's CSV writer knows no UUID extension type; JSON object keys must be text.
        (".csv", pa.table({"id": pa.array([uuid.uuid4().bytes], pa.uuid())})),
        (".json", pa.table({"m": pa.array([[(DAY, 1)]], pa.map_(pa.date32(), pa.int8()))})),
    ],
)
def test_a_value_the_format_cannot_hold_leaves_no_file(tmp_path, suffix, table):
    out = tmp_path / f"result{suffix}"
    with pytest.raises(ExportError, match=rf"\{suffix} cannot hold this result"):
        write_export(table, out)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_replaced_leaves_no_partial_file(tmp_path):
    out = tmp_path / "result.json"
    out.mkdir()
    (out / "kept").write_text("kept\n")
    with pytest.raises(OSError):
        write_export(_result(), out)
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    assert (out / "kept").read_text() == "kept\n"


def test_json_holds_no_nan_and_loses_no_decimal_digit(tmp_path):
    out = tmp_path / "x.json"
    result = pa.table(
        {
            "f": pa.array([float("nan"), float("inf"), 1.5]),
            "l": pa.array([[float("-inf"), 2.0], None, []]),
            "d": pa.array(
                [Decimal("12345678901234567.891"), Decimal("1.25"), None], pa.decimal128(20, 3)
            ),
        }
    )
    write_export(result, out)
    rows = json.loads(out.read_text(encoding="utf-8"), parse_constant=pytest.fail)
    assert [r["f"] for r in rows] == [None, None, 1.5]
    assert rows[0]["l"] == [None, 2.0]
    assert [r["d"] for r in rows] == ["12345678901234567.891", 1.25, None]
