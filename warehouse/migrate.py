"""Versioned schema migrations: ``warehouse/migrations/NNN_name.sql``, each applied once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from warehouse.core import run_script, run_sql

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# "-- requires: raw.records" in a migration's header: a table another writer (dlt) creates
# when it first lands data. Without it there is nothing to migrate, and the migration is
# recorded as applied.
_REQUIRES = re.compile(r"^-- requires: (\w+)\.(\w+)$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """Return the SHA-1 of the migration's SQL, to detect edits after it was applied."""
        return hashlib.sha1(self.sql.encode()).hexdigest()

    @property
    def requires(self) -> list[tuple[str, str]]:
        """The (schema, table) pairs its header says it needs; empty for most migrations."""
        return _REQUIRES.findall(self.sql)


def _has_tables(conn: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> bool:
    return all(
        run_sql(
            conn,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
            [schema, table],
        )[0][0]
        for schema, table in tables
    )


def list_migrations() -> list[Migration]:
    """Return the bundled migrations in version order."""
    folder = resources.files("warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


def apply_migrations(conn: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply every migration not yet recorded in ``schema_version``; return those applied.

    Each migration runs in its own transaction together with its ``schema_version`` row, so a
    crash leaves the schema at a whole version.
    """
    run_sql(
        conn,
        """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER   NOT NULL PRIMARY KEY,
            name       VARCHAR   NOT NULL,
            checksum   VARCHAR   NOT NULL,
            applied_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP)
        )
        """,
    )
    applied = {
        version: checksum
        for version, checksum in run_sql(conn, "SELECT version, checksum FROM schema_version")
    }
    done = []
    for migration in list_migrations():
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise RuntimeError(
                    f"migration {migration.version:03d}_{migration.name}.sql was edited after it "
                    "was applied; add a new migration instead of changing an applied one"
                )
            continue
        run_sql(conn, "BEGIN TRANSACTION")
        try:
            if _has_tables(conn, migration.requires):
                run_script(conn, migration.sql)
            run_sql(
                conn,
                "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
                [migration.version, migration.name, migration.checksum],
            )
            run_sql(conn, "COMMIT")
        except Exception:
            run_sql(conn, "ROLLBACK")
            raise
        done.append(migration)
    return done
