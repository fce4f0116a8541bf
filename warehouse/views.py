"""Analyst views: ``warehouse/views/*.sql``, each a ``CREATE OR REPLACE VIEW``.

They are (re)installed on every read-write connection, after the migrations, so a changed view
file takes effect on the next run without a migration.
"""

from __future__ import annotations

from importlib import resources

import duckdb

from warehouse.core import run_script


def view_files() -> dict[str, str]:
    """Return the SQL of each view, by view name, in name order."""
    folder = resources.files("warehouse") / "views"
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".sql")
    }


def install_views(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Create or replace every analyst view; return their names."""
    views = view_files()
    for sql in views.values():
        run_script(conn, sql)
    return list(views)
