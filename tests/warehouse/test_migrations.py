import pytest

from warehouse import migrate
from warehouse.connection import connect_warehouse
from warehouse.core import run_sql


def test_migrations_are_applied_once_and_recorded(tmp_path):
    path = tmp_path / "w.duckdb"
    conn = connect_warehouse(path)
    versions = run_sql(conn, "SELECT version, name FROM schema_version ORDER BY version")
    assert versions == [(m.version, m.name) for m in migrate.list_migrations()]
    tables = {
        t
        for (t,) in run_sql(
            conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        )
    }
    assert {"comments", "rejected", "runs", "schema_version"} <= tables
    conn.close()
    conn = connect_warehouse(path)
    assert migrate.apply_migrations(conn) == []
    assert run_sql(conn, "SELECT count(*) FROM schema_version") == [(len(versions),)]


def test_an_edited_applied_migration_is_refused(tmp_path, monkeypatch):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    original = migrate.list_migrations()
    edited = [migrate.Migration(m.version, m.name, m.sql + "\n-- edited") for m in original]
    monkeypatch.setattr(migrate, "list_migrations", lambda: edited)
    with pytest.raises(RuntimeError, match="edited after it was applied"):
        migrate.apply_migrations(conn)


def test_a_failing_migration_leaves_no_trace(tmp_path, monkeypatch):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    broken = [
        *migrate.list_migrations(),
        migrate.Migration(999, "broken", "CREATE TABLE half (a INT); SELECT nope;"),
    ]
    monkeypatch.setattr(migrate, "list_migrations", lambda: broken)
    with pytest.raises(Exception, match="nope"):
        migrate.apply_migrations(conn)
    assert run_sql(conn, "SELECT count(*) FROM schema_version WHERE version = 999") == [(0,)]
    assert run_sql(
        conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'"
    ) == [(0,)]
