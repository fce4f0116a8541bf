"""Analyst views (``warehouse/views/*.sql``) and the macros they share (``warehouse/macros/*.sql``).

Each view file is a ``CREATE OR REPLACE VIEW``, each macro file a ``CREATE OR REPLACE MACRO``.
They are (re)installed on every read-write connection, after the migrations, so a changed view
file takes effect on the next run without a migration. The macros go first, as the views call
them; analysts may call them too.
"""

from __future__ import annotations

from importlib import resources

import duckdb

from warehouse.core import run_script


def view_files() -> dict[str, str]:
    """Return the SQL of each view, by view name, in name order."""
    return _sql_files("views")


def macro_files() -> dict[str, str]:
    """Return the SQL of each macro the views share, by macro name, in name order."""
    return _sql_files("macros")


def _sql_files(folder_name: str) -> dict[str, str]:
    folder = resources.files("warehouse") / folder_name
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".sql")
    }


def install_views(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Create or replace every shared macro, then every analyst view; return the views' names."""
    for sql in macro_files().values():
        run_script(conn, sql)
    views = view_files()
    for sql in views.values():
        run_script(conn, sql)
    return list(views)
