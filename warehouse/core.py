"""The warehouse core: running SQL, transactions, the clock and bundled SQL files.

Every store module (warehouse/*.py) runs its statements through these public names, and
imports nothing else of the warehouse to do so; this module imports no other module of the
project, so it can never take part in an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa

Statement = tuple[str, list[Any] | Mapping[str, Any] | None]
"""One SQL statement and its bound parameters (None: no parameters)."""


def run_sql(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Execute one statement to completion and return its rows.

    DuckDB 2 runs ``execute`` lazily: an ``INSERT ... SELECT`` is not done until its result is
    fetched. Every write goes through here (or :func:`run_script`) so it is never left pending.
    """
    return conn.execute(sql, params).fetchall() if params else conn.execute(sql).fetchall()


def run_script(conn: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Execute every statement of a SQL script, in order, each to completion."""
    for statement in conn.extract_statements(sql):
        conn.execute(statement).fetchall()


def transaction(conn: duckdb.DuckDBPyConnection, statements: Sequence[Statement]) -> None:
    """Run ``statements`` in one transaction: all of them are committed, or none.

    Args:
        conn: A read-write connection with no transaction open.
        statements: Each SQL statement with its bound parameters (or None).

    Raises:
        Exception: The first statement's error, after the transaction was rolled back.
    """
    run_sql(conn, "BEGIN TRANSACTION")
    try:
        for sql, params in statements:
            run_sql(conn, sql, params)
        run_sql(conn, "COMMIT")
    except BaseException:  # an interrupt too: never leave the transaction open
        run_sql(conn, "ROLLBACK")
        raise


def named_statements(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any]
) -> list[Statement]:
    """Each statement of a script with the named parameters (``$name``) it uses.

    For :func:`transaction`: DuckDB refuses a parameter a statement does not use.
    """
    return [
        (s.query, {k: v for k, v in params.items() if f"${k}" in s.query})
        for s in conn.extract_statements(sql)
    ]


def now() -> datetime:
    """The current UTC time, naive (as the warehouse stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def read_sql(name: str) -> str:
    """Return the text of the bundled ``warehouse/sql/<name>.sql``."""
    return (resources.files("warehouse") / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def rows_to_table(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    """Build an Arrow table from row tuples in ``schema``'s column order."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def records_to_table(records: Sequence[Any], schema: pa.Schema) -> pa.Table:
    """Build an Arrow table from objects (e.g. dataclasses) with one attribute per column.

    Args:
        records: The rows; each has an attribute named after every field of ``schema``.
        schema: The table's columns, in order.
    """
    return pa.Table.from_arrays(
        [pa.array([getattr(r, f.name) for r in records], type=f.type) for f in schema],
        schema=schema,
    )
