"""How ``hasslemap sql`` shows a value: NULL told apart from text, at the top and nested."""

from __future__ import annotations

import duckdb
import pytest

from flows.sql_result import cell, count_statements, out_of_python_range

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)


def test_null_is_shown_dim_and_apart_from_empty_text():
    null = cell(None)
    assert (null.plain, null.style) == ("NULL", "dim")
    assert cell("").plain == "" and cell("NULL").style == ""


def test_null_inside_lists_and_maps_is_shown_as_at_the_top():
    value = cell(["a", None, "NULL", 2])
    assert value.plain == "['a', NULL, 'NULL', 2]"
    assert [value.plain[span.start : span.end] for span in value.spans] == ["NULL"]
    assert cell({"review": None, "ticket": [None]}).plain == "{'review': NULL, 'ticket': [NULL]}"


def test_only_dates_and_times_past_pythons_range_are_out_of_it():
    conn = duckdb.connect()
    edges = """select date '0001-01-01' as a, date '9999-12-31' as b, time '23:59:59.999999' as c,
                      timestamp '9999-12-31 23:59:59.999999' as d, timestamp_s '0001-01-01' as e,
                      timestamp_ns '2262-04-11' as f, [null::date] as g, null::time as h"""
    assert out_of_python_range(conn.execute(edges).to_arrow_table()) is None
    for past in [
        "date '10000-01-01'",
        "date '0000-12-31'",
        "'infinity'::timestamp",
        "timestamp_ms '10000-01-01'",
        "time '24:00:00'",
        "map {'k': [date '10000-01-01']}",
        "{'at': date '10000-01-01'}",
    ]:
        result = conn.execute(f"select 1 as n, {past} as past").to_arrow_table()
        assert out_of_python_range(result) == "past", past


@pytest.mark.parametrize(
    ("query", "statements"),
    [
        ("select 1", 1),
        ("select 1;", 1),
        ("select 1; -- done\n", 1),
        ("select ';' as x, 1 as \"a;b\"", 1),
        ("select 1; select 2", 2),
        ("select 1 ; ; select 2;", 2),
        ("-- only a comment\n", 0),
        ("   ", 0),
        # One statement that DuckDB itself expands into a CREATE TYPE and a SELECT.
        ("PIVOT (SELECT 'a' AS theme, 2 AS n) ON theme USING first(n);", 1),
    ],
)
def test_statements_are_counted_as_written(query, statements):
    assert count_statements(query) == statements
