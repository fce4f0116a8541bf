"""``hasslemap sql`` as an analyst uses it: exports, usage errors, tables in a pipe, NULLs.

The warehouse is empty but for its schema and views; the queries bring their own values.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from conftest import review_source
from typer.testing import CliRunner

from flows.cli import app
from warehouse.connection import connect_warehouse

VIEWS = (
    "v_latest_hassles",
    "v_latest_parent_hassles",
    "v_hassle_trend",
    "v_stage_theme_matrix",
    "v_hassle_examples",
    "v_customer_journeys",
)


@pytest.fixture
def config(write_config, tmp_path: Path) -> Path:
    """Settings over an empty warehouse (no snapshot: ``sql`` reads the warehouse, sandboxed)."""
    connect_warehouse(tmp_path / "warehouse.duckdb").close()
    return write_config([review_source(tmp_path / "feedback" / "*.csv")])


def _invoke(*args: str, columns: int = 200) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    return result.exit_code, result.output


def _one_line_error(output: str) -> None:
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) <= 3, output  # one message, wrapped at most


def test_every_analyst_view_exports_to_csv(config, tmp_path):
    for view in VIEWS:
        out = tmp_path / "exports" / f"{view}.csv"
        code, output = _invoke("sql", f"select * from {view}", "-c", str(config), "--out", str(out))
        assert code == 0, output
        assert out.is_file()
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == sorted(
        f"{view}.csv" for view in VIEWS
    )


def test_json_export_keeps_json_columns_maps_and_numbers(config, tmp_path):
    out = tmp_path / "agg.json"
    query = """select '{"review": 2}'::json as channels, map {'reach': 0.3} as parts,
                      sum(x) as s, 1.5 as d from (values (2), (3)) t(x)"""
    code, output = _invoke("sql", query, "-c", str(config), "--out", str(out))
    assert code == 0, output
    assert json.loads(out.read_text()) == [
        {"channels": {"review": 2}, "parts": {"reach": 0.3}, "s": 5, "d": 1.5}
    ]


def test_an_export_that_cannot_be_written_is_one_line(config, tmp_path):
    (tmp_path / "exports").write_text("a file where a folder should be")
    out = tmp_path / "exports" / "h.csv"
    code, output = _invoke("sql", "select 1 as n", "-c", str(config), "--out", str(out))
    assert code == 1, output
    assert "Cannot write" in output and str(out) in output.replace("\n", "")
    _one_line_error(output.split("┘", 1)[1])  # after the table, printed first


@pytest.mark.parametrize("query", ["", "   ", "-- hi", "/* nothing */ ;"])
def test_a_query_without_a_statement_is_a_usage_error(config, query):
    code, output = _invoke("sql", "-c", str(config), "--", query)
    assert code == 2, output
    assert "no statement given" in output
    _one_line_error(output)


def test_a_query_that_starts_with_a_comment_is_a_query_not_an_option(config):
    code, output = _invoke("sql", "-- how many?\nselect 42 as answer", "-c", str(config))
    assert code == 0, output
    assert "42" in output
    code, output = _invoke("sql", "-c", str(config), "--max-rows", "5", "-- hi")
    assert code == 2 and "no statement given" in output, output
    _one_line_error(output)


def test_a_pipe_gets_every_character_of_a_wide_table(config):
    values = [f"H-{n:04d}-checkout-card-declined" for n in range(12)]
    query = "select " + ", ".join(f"'{v}' as column_{n}" for n, v in enumerate(values))
    code, output = _invoke("sql", query, "-c", str(config), columns=80)
    assert code == 0, output
    assert "…" not in output
    assert all(v in output for v in values), output


def test_control_and_bidi_characters_print_as_escapes_never_raw(config):
    query = (
        "select chr(27) || '[2J' || chr(27) || ']8;;http://evil.example' || chr(27) || '\\click'"
        " as t, 'Nimbus ' || chr(8238) || 'edoc' as product, [chr(27) || '[31m'] as items"
    )
    code, output = _invoke("sql", query, "-c", str(config))
    assert code == 0, output
    assert "\x1b" not in output and "\u202e" not in output
    assert "\\x1b[2J\\x1b]8;;http://evil.example\\x1b\\click" in output
    assert "Nimbus \\u202eedoc" in output and "['\\x1b[31m']" in output


def test_a_csv_export_guards_text_cells_against_formulas_and_parquet_keeps_them(config, tmp_path):
    query = """select '=HYPERLINK("http://evil.example","p")' as product, -2 as n,
                      '-2+3' as t, ['@SUM(A1)'] as items, 'fine' as ok,
                      cast('+cmd' as enum('+cmd', 'x')) as kind"""
    for suffix in ("csv", "parquet"):
        code, output = _invoke(
            "sql", query, "-c", str(config), "--out", str(tmp_path / f"x.{suffix}")
        )
        assert code == 0, output
    rows = list(csv.reader((tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[1] == [
        '\'=HYPERLINK("http://evil.example","p")',
        "-2",
        "'-2+3",
        '["@SUM(A1)"]',
        "fine",
        "'+cmd",
    ]
    kept = duckdb.sql(f"select product from '{tmp_path / 'x.parquet'}'").fetchone()[0]
    assert kept.startswith("=HYPERLINK")


@pytest.mark.parametrize("out", [None, "nulls.csv"])
def test_null_is_shown_as_null_at_the_top_and_in_lists(config, tmp_path, out):
    query = "select null as missing, '' as blank, [null, 'x'] as items, map {'k': null} as m"
    extra = ["--out", str(tmp_path / out)] if out else []
    code, output = _invoke("sql", query, "-c", str(config), *extra)
    assert code == 0, output
    row = next(line for line in output.splitlines() if "[" in line and "│" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == [
        "NULL",
        "",
        "[NULL, 'x']",
        "{'k': NULL}",
    ]


OUT_OF_RANGE = [  # values DuckDB holds and Python's date, datetime and time cannot
    ("select 1 as n, date '294247-01-10' as far", "csv"),
    ("select timestamp '290309-12-22 (BC) 00:00:00' as far", "json"),
    ("select 'infinity'::date as far", "parquet"),
    ("select [date '20000-01-01'] as far", "json"),
    ("select {'at': time '24:00:00'} as far", "csv"),
    ("select * from (values (timestamp '2024-05-01'), ('-infinity'::timestamp)) t(far)", "csv"),
]


@pytest.mark.parametrize(("query", "suffix"), OUT_OF_RANGE)
def test_an_export_with_a_date_python_cannot_hold_names_the_column_and_writes_nothing(
    config, tmp_path, query, suffix
):
    out = tmp_path / "exports" / f"dates.{suffix}"
    code, output = _invoke("sql", query, "-c", str(config), "--max-rows", "1", "--out", str(out))
    assert code == 1, output
    assert "far" in output and "VARCHAR" in output, output
    _one_line_error(output)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_a_date_python_cannot_hold_is_shown_as_text_and_exports_once_cast(config, tmp_path):
    code, output = _invoke("sql", "select date '294247-01-10' as far", "-c", str(config))
    assert code == 0 and "294247-01-10" in output, output
    out = tmp_path / "far.json"
    query = "select date '294247-01-10'::varchar as far"
    code, output = _invoke("sql", query, "-c", str(config), "--out", str(out))
    assert code == 0, output
    assert json.loads(out.read_text()) == [{"far": "294247-01-10"}]


@pytest.mark.parametrize("out", [None, "two.csv"])
def test_several_statements_are_refused_and_none_of_them_runs(config, tmp_path, out):
    extra = ["--out", str(tmp_path / out)] if out else []
    query = "select 1 as a; create table scratch as select 2 as b"
    code, output = _invoke("sql", query, "-c", str(config), *extra)
    assert code == 2, output
    assert "2 statements" in output and "one at a time" in output, output
    _one_line_error(output)
    assert not (tmp_path / "two.csv").exists()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from duckdb_tables() where table_name = 'scratch'")
        assert conn.fetchone() == (0,)


def test_one_statement_with_a_closing_semicolon_is_one_statement(config):
    code, output = _invoke("sql", "select 41 + 1 as answer; -- done", "-c", str(config))
    assert code == 0 and "42" in output, output
