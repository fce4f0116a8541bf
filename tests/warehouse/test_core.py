"""The warehouse core: statements run to completion, transactions are all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pytest

from warehouse.core import now, read_sql, records_to_table, rows_to_table, run_sql, transaction


@pytest.fixture
def conn():
    with duckdb.connect(":memory:") as connection:
        run_sql(connection, "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR)")
        yield connection


def test_transaction_commits_every_statement(conn):
    transaction(
        conn,
        [("INSERT INTO t VALUES (?, ?)", [1, "a"]), ("INSERT INTO t VALUES (?, ?)", [2, "b"])],
    )
    assert run_sql(conn, "SELECT id, name FROM t ORDER BY id") == [(1, "a"), (2, "b")]


def test_a_failing_statement_rolls_back_the_whole_transaction(conn):
    with pytest.raises(duckdb.ConstraintException):
        transaction(
            conn,
            [("INSERT INTO t VALUES (1, 'a')", None), ("INSERT INTO t VALUES (1, 'again')", None)],
        )
    assert run_sql(conn, "SELECT count(*) FROM t") == [(0,)]
    transaction(conn, [("INSERT INTO t VALUES (3, 'c')", None)])  # no transaction left open
    assert run_sql(conn, "SELECT id FROM t") == [(3,)]


def test_records_and_rows_make_the_same_table():
    @dataclass
    class Row:
        name: str
        id: int

    schema = pa.schema([("id", pa.int32()), ("name", pa.string())])
    by_attribute = records_to_table([Row("a", 1), Row("b", 2)], schema)
    assert by_attribute.equals(rows_to_table([(1, "a"), (2, "b")], schema))
    assert records_to_table([], schema).num_rows == 0


def test_now_is_naive_utc_and_sql_files_are_bundled():
    assert now().tzinfo is None
    assert "comments" in read_sql("merge_comments")
