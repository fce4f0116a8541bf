import duckdb
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


def _apply_up_to(conn, monkeypatch, name):
    every = migrate.list_migrations()
    upto = [m.name for m in every].index(name)
    monkeypatch.setattr(migrate, "list_migrations", lambda: every[:upto])
    migrate.apply_migrations(conn)
    monkeypatch.setattr(migrate, "list_migrations", lambda: every)


def test_file_names_stored_url_encoded_are_decoded_where_dlt_landed_them_too(tmp_path, monkeypatch):
    conn = duckdb.connect(str(tmp_path / "old.duckdb"))
    _apply_up_to(conn, monkeypatch, "decoded_file_names")
    encoded, remote = "/in/my%20reviews%2B%25.csv", "s3://bucket/my%20reviews.csv"
    run_sql(conn, "CREATE SCHEMA raw")
    for table in ("raw.records", "raw.rejected"):
        run_sql(conn, f"CREATE TABLE {table} (source VARCHAR, file VARCHAR)")
        run_sql(conn, f"INSERT INTO {table} VALUES ('a', ?), ('b', ?)", [encoded, remote])
    for source, file in (("a", encoded), ("b", remote)):
        run_sql(
            conn,
            "INSERT INTO comments (comment_id, source, channel, external_id, created_at, text, "
            "content_hash, source_file, source_line, ingested_at, updated_at) VALUES "
            "(?, ?, 'review', '1', now(), 't', 'h', ?, 2, now(), now())",
            [source, source, file],
        )
        run_sql(
            conn,
            "INSERT INTO rejected (source, file, line, action, reason_code, reason, "
            "file_version, rejected_at) VALUES (?, ?, 2, 'quarantined', 'bad', 'r', 'v', now())",
            [source, file],
        )

    migrate.apply_migrations(conn)

    decoded = [("a", "/in/my reviews+%.csv"), ("b", remote)]
    assert run_sql(conn, "SELECT source, source_file FROM comments ORDER BY 1") == decoded
    for table in ("rejected", "raw.records", "raw.rejected"):
        assert run_sql(conn, f"SELECT source, file FROM {table} ORDER BY 1") == decoded


def test_comments_stated_in_a_regional_language_are_enriched_again(tmp_path, monkeypatch):
    # They were kept untagged as an unsupported language ("en-gb" is not "en"): the next run
    # enriches them again, and them only.
    conn = duckdb.connect(str(tmp_path / "old.duckdb"))
    _apply_up_to(conn, monkeypatch, "language_region")
    for comment_id, language in (("a", "en-gb"), ("b", "en_us"), ("c", "en"), ("d", None)):
        run_sql(
            conn,
            "INSERT INTO comments (comment_id, source, channel, external_id, created_at, text, "
            "content_hash, source_file, source_line, ingested_at, updated_at, language) VALUES "
            "(?, 's', 'review', ?, now(), 't', 'h', 'f.csv', 2, now(), now(), ?)",
            [comment_id, comment_id, language],
        )
        run_sql(
            conn,
            "INSERT INTO comment_enrichment VALUES (?, 'h', 'v1', ?, 1, ?, 't', 0, 0, '{}', 1, "
            "now())",
            [comment_id, language or "en", language in ("en", None)],
        )

    migrate.apply_migrations(conn)

    versions = run_sql(conn, "SELECT comment_id, enrich_version FROM comment_enrichment ORDER BY 1")
    stale = "stale: language region"
    assert versions == [("a", stale), ("b", stale), ("c", "v1"), ("d", "v1")]


def test_a_migration_of_a_table_dlt_has_not_made_yet_is_recorded_as_applied(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    names = {name for (name,) in run_sql(conn, "SELECT name FROM schema_version")}
    assert {"decoded_raw_record_files", "decoded_raw_rejected_files"} <= names
    assert run_sql(conn, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw'") == [(0,)]
