"""Opening the DuckDB warehouse file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def connect_warehouse(path: Path, *, memory_limit: str = "512MB") -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse at ``path`` and bring its schema up to date.

    Args:
        path: The DuckDB file.
        memory_limit: DuckDB's memory ceiling; larger operations spill to disk.

    Returns:
        A read-write connection. The caller closes it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path), config={"memory_limit": memory_limit})
    from warehouse.migrate import apply_migrations
    from warehouse.views import install_views

    run_sql(conn, "SET TimeZone = 'UTC'")  # TIMESTAMPTZ -> TIMESTAMP casts must not use local time
    apply_migrations(conn)
    install_views(conn)
    return conn


def run_sql(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
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


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse read-only, for queries; raise if it does not exist."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no warehouse here yet; run `hasslemap run` first (or set HASSLEMAP_WAREHOUSE)"
        )
    return duckdb.connect(str(path), read_only=True)
