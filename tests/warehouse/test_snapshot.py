"""The analyst snapshot: readable while the warehouse is locked, swapped in atomically."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest
from conftest import copy_workspace, demo_sources

from nlp.redact import redact_pii
from warehouse.connection import connect_warehouse
from warehouse.core import run_sql
from warehouse.ranking import refresh_redacted_text
from warehouse.snapshot import SNAPSHOT_TABLES, write_snapshot

READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM v_latest_hassles").fetchone()[0])
"""


def read_in_another_process(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, timeout=60
    )


def test_no_hash_of_a_raw_id_or_text_reaches_the_snapshot(nightly_demo):
    # Plain SHA-1s of the raw text and customer id: guessing a redacted phone number or a
    # customer id against them would undo the redaction and the pseudonyms.
    folder, _, result = nightly_demo
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        hashes = {
            h
            for sql in (
                "SELECT content_hash FROM comments",
                "SELECT text_hash FROM units",
                "SELECT text_hash FROM comment_enrichment",
                "SELECT content_hash FROM comment_enrichment",
            )
            for (h,) in conn.execute(sql).fetchall()
        }
    with duckdb.connect(result["stages"]["snapshot"]["path"], read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        published = {
            str(value)
            for (table,) in tables
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall()
            for value in row
        }
    assert len(hashes) > 1000
    assert not hashes & published


def test_analysts_read_the_snapshot_while_a_run_holds_the_warehouse(
    nightly_demo, demo_dir, tmp_path
):
    folder, _, result = nightly_demo
    copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    snapshot = tmp_path / "analyst.duckdb"
    writer = connect_warehouse(tmp_path / "warehouse.duckdb")  # as a nightly run would
    try:
        write_snapshot(writer, snapshot, "run-1", redact_pii, redactor="v1")
        hassles = writer.execute("SELECT count(*) FROM v_latest_hassles").fetchone()[0]

        # The live file is locked for every other process, the snapshot is not.
        blocked = read_in_another_process(tmp_path / "warehouse.duckdb")
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()
        reader = read_in_another_process(snapshot)
        assert reader.returncode == 0, reader.stderr
        assert int(reader.stdout) == hassles > 0

        # A reader holding the old snapshot keeps its view while a new one is swapped in.
        with duckdb.connect(str(snapshot), read_only=True) as held:
            before = held.execute("SELECT run_id FROM snapshot_info").fetchone()
            write_snapshot(writer, snapshot, "run-2", redact_pii, redactor="v1")
            assert held.execute("SELECT run_id FROM snapshot_info").fetchone() == before
        with duckdb.connect(str(snapshot), read_only=True) as fresh:
            assert fresh.execute("SELECT run_id FROM snapshot_info").fetchone() == ("run-2",)
    finally:
        writer.close()
    assert not list(tmp_path.glob(".analyst.duckdb*"))  # no partial file left behind


def test_the_snapshot_carries_no_raw_customer_text(nightly_demo):
    _, _, result = nightly_demo
    with duckdb.connect(result["stages"]["snapshot"]["path"], read_only=True) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        }
        comment_columns = {c for c, *_ in conn.execute("DESCRIBE comments").fetchall()}
        unit_columns = {c for c, *_ in conn.execute("DESCRIBE units").fetchall()}
        views = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_type = 'VIEW'"
        ).fetchone()[0]
        ranked = conn.execute("SELECT count(*) FROM v_latest_hassles").fetchone()[0]
        # The views' shared macro is there for analysts too, naming the run the views show.
        latest_run, views_run = conn.execute(
            "SELECT latest_ranking_run(), (SELECT any_value(run_id) FROM v_latest_hassles)"
        ).fetchone()
    assert latest_run == views_run == result["run_id"]
    assert tables == set(SNAPSHOT_TABLES) | {"snapshot_info"}
    assert "embeddings" not in tables and "text" not in comment_columns
    # Offsets into the raw text would cut the redacted text wrong: left out with the text.
    assert not {"text", "lemmas", "noun_chunks", "start_char", "end_char"} & unit_columns
    assert views == 7 and ranked > 0  # v_hassle_ranking_parts is the seventh


def test_a_failed_run_keeps_the_good_snapshot(nightly_demo, demo_dir, tmp_path, monkeypatch):
    import pytest

    from flows import nightly as nightly_module

    folder, _, _ = nightly_demo
    config = copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    config.write_text(config.read_text() + f"report:\n  out_dir: {tmp_path / 'reports'}\n")
    good = nightly_module.nightly(str(config))["stages"]["snapshot"]["path"]
    with duckdb.connect(good, read_only=True) as conn:
        good_run = conn.execute("SELECT run_id FROM snapshot_info").fetchone()

    def broken(*args, **kwargs):
        raise RuntimeError("ranking exploded")

    monkeypatch.setattr(nightly_module, "rank_hassles", broken)
    with pytest.raises(RuntimeError):
        nightly_module.nightly(str(config))
    with duckdb.connect(good, read_only=True) as conn:
        assert conn.execute("SELECT run_id FROM snapshot_info").fetchone() == good_run
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        last = conn.execute(
            "SELECT status, failed_stage, error FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert last == ("failed", "rank", "RuntimeError: ranking exploded")


# --- on a small warehouse of its own ----------------------------------------------------------

COMMENT = (
    "INSERT INTO comments (comment_id, source, channel, external_id, customer_id, created_at, "
    "text, content_hash, source_file, source_line, ingested_at, updated_at) VALUES "
    "(?, 'reviews', 'review', ?, ?, TIMESTAMP '2026-11-01', 'slow refund', 'h', 'r.csv', 2, "
    "TIMESTAMP '2026-11-02', TIMESTAMP '2026-11-02')"
)


@pytest.fixture
def small_warehouse(tmp_path):
    conn = connect_warehouse(tmp_path / "warehouse.duckdb")
    for n, customer in enumerate(["jane.doe@example.com", "cust-0007", "jane.doe@example.com"]):
        run_sql(conn, COMMENT, [f"c{n}", f"R{n}", customer])
    run_sql(
        conn,
        "INSERT INTO rejected VALUES ('reviews', 'r.csv', 9, 'R9', 'quarantined', 'bad_date', "
        "'date: cannot read \"born 12/03/1985\" for jane.doe@example.com (call 5551234567)', "
        "'R9,jane.doe@example.com,...', 'v1', TIMESTAMP '2026-11-02')",
    )
    try:
        yield conn
    finally:
        conn.close()


def snapshot_rows(path, sql):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_leftovers_of_an_interrupted_write_are_removed(small_warehouse, tmp_path):
    target = tmp_path / "analyst.duckdb"
    # What a write killed at another pid leaves: its partial file and that file's WAL.
    leftovers = [
        tmp_path / ".analyst.duckdb.4242.partial",
        tmp_path / ".analyst.duckdb.4242.partial.wal",
    ]
    for path in leftovers:
        path.write_bytes(b"half a snapshot")
    write_snapshot(small_warehouse, target, "run-1", redact_pii, redactor="v1")
    assert not any(path.exists() for path in leftovers)
    assert sorted(p.name for p in tmp_path.glob("*analyst*")) == ["analyst.duckdb"]
    assert snapshot_rows(target, "SELECT run_id FROM snapshot_info") == [("run-1",)]


def test_a_failed_write_leaves_no_partial_file_and_keeps_the_old_snapshot(
    small_warehouse, tmp_path
):
    target = tmp_path / "analyst.duckdb"
    write_snapshot(small_warehouse, target, "run-1", redact_pii, redactor="v1")

    def broken(text):
        raise RuntimeError("redactor exploded")

    # A text no snapshot has redacted yet reaches the broken redactor.
    run_sql(small_warehouse, "UPDATE rejected SET reason = reason || ' (again)'")
    with pytest.raises(Exception, match="redactor exploded"):
        write_snapshot(small_warehouse, target, "run-2", broken, redactor="v1")
    assert sorted(p.name for p in tmp_path.glob("*analyst*")) == ["analyst.duckdb"]
    assert snapshot_rows(target, "SELECT run_id FROM snapshot_info") == [("run-1",)]
    # The connection is usable afterwards: the next write succeeds.
    write_snapshot(small_warehouse, target, "run-3", redact_pii, redactor="v1")
    assert snapshot_rows(target, "SELECT run_id FROM snapshot_info") == [("run-3",)]


def test_customer_ids_are_pseudonymised_with_a_key_the_snapshot_never_holds(
    small_warehouse, tmp_path
):
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    write_snapshot(small_warehouse, first, "run-1", redact_pii, redactor="v1")
    write_snapshot(small_warehouse, second, "run-2", redact_pii, redactor="v1")
    ids = snapshot_rows(first, "SELECT comment_id, customer_id FROM comments ORDER BY 1")
    assert [c for _, c in ids] == [ids[0][1], ids[1][1], ids[0][1]]  # same customer, same id
    assert ids[0][1] != ids[1][1]
    assert all(c.startswith("cust_") and len(c) == 37 for _, c in ids)
    # Stable from one snapshot to the next: the key is kept in the warehouse.
    assert snapshot_rows(second, "SELECT comment_id, customer_id FROM comments ORDER BY 1") == ids
    [(key,)] = run_sql(small_warehouse, "SELECT key FROM snapshot_key")
    assert len(key) == 32
    with duckdb.connect(str(first), read_only=True) as conn:
        tables = [
            t
            for (t,) in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        dump = " ".join(str(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
        customers = conn.execute("SELECT count(DISTINCT customer_id) FROM comments").fetchone()
    assert "snapshot_key" not in tables and key.hex() not in dump and str(key) not in dump
    assert "jane.doe@example.com" not in dump and "cust-0007" not in dump
    assert customers == (2,)


def test_each_text_is_redacted_once_and_looked_up_at_later_snapshots(small_warehouse, tmp_path):
    seen: list[str] = []

    def counting(text: str) -> str:
        seen.append(text)
        return redact_pii(text)

    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    write_snapshot(small_warehouse, first, "run-1", counting, redactor="v1")
    assert seen and len(seen) == len(set(seen))
    redacted_first = len(seen)
    write_snapshot(small_warehouse, second, "run-2", counting, redactor="v1")
    assert len(seen) == redacted_first  # nothing new to redact
    reasons = "SELECT reason FROM rejected ORDER BY 1"
    assert snapshot_rows(second, reasons) == snapshot_rows(first, reasons)
    # A new reason is redacted once more, and only it.
    run_sql(
        small_warehouse,
        "INSERT INTO rejected SELECT * REPLACE (line + 1 AS line, 'call 555-0199' AS reason) "
        "FROM rejected LIMIT 1",
    )
    write_snapshot(small_warehouse, first, "run-3", counting, redactor="v1")
    assert seen[redacted_first:] == ["call 555-0199"]
    assert ("call [phone]",) in snapshot_rows(first, reasons)


def test_rejected_reasons_are_redacted_and_raw_text_left_out(small_warehouse, tmp_path):
    target = tmp_path / "analyst.duckdb"
    write_snapshot(small_warehouse, target, "run-1", redact_pii, redactor="v1")
    [(reason,)] = snapshot_rows(target, "SELECT reason FROM rejected")
    assert reason == 'date: cannot read "born [birthdate]" for [email] (call [phone])'
    columns = {c for c, *_ in snapshot_rows(target, "DESCRIBE rejected")}
    assert "raw_text" not in columns and "reason" in columns


def test_a_new_redactor_version_redacts_every_kept_text_again(small_warehouse, tmp_path):
    """An upgrade that finds more PII reaches texts redacted before it, in both caches."""
    weak, strong = (lambda text: text), redact_pii  # v1 found nothing; v2 finds the phone
    target = tmp_path / "analyst.duckdb"
    assert refresh_redacted_text(small_warehouse, weak, redactor="v1") == 3
    write_snapshot(small_warehouse, target, "run-1", weak, redactor="v1")
    assert refresh_redacted_text(small_warehouse, weak, redactor="v1") == 0

    assert refresh_redacted_text(small_warehouse, strong, redactor="v2") == 3
    write_snapshot(small_warehouse, target, "run-2", strong, redactor="v2")

    [(reason,)] = snapshot_rows(target, "SELECT reason FROM rejected")
    assert "5551234567" not in reason and "[phone]" in reason
    texts = snapshot_rows(target, "SELECT text FROM comments_redacted")
    assert texts and all("5551234567" not in text for (text,) in texts)
    assert "redactor" not in {c for c, *_ in snapshot_rows(target, "DESCRIBE comments_redacted")}


def test_texts_redacted_before_redactor_versions_were_kept_are_redacted_again(
    small_warehouse,
):
    run_sql(
        small_warehouse,
        "INSERT INTO comments_redacted BY NAME SELECT comment_id, content_hash, text FROM comments",
    )  # as a warehouse older than migration 016
    assert refresh_redacted_text(small_warehouse, redact_pii, redactor="v1") == 3


def test_no_stored_label_or_keyphrase_reaches_the_snapshot_unredacted(small_warehouse, tmp_path):
    """Labels come from customer sentences: every table that keeps one redacts it, and so
    does a run's error, which may quote a comment."""
    label, phrase = "refund for jane.doe@example.com", "call 5551234567"
    run_sql(
        small_warehouse,
        "INSERT INTO hassles (hassle_id, label, keyphrases, quote_unit_ids, units, status, "
        "first_seen, last_seen, first_run_id, last_run_id, centroid) VALUES ('H-0001', ?, [?], "
        "[], 3, 'new', TIMESTAMP '2026-11-02', TIMESTAMP '2026-11-02', 'run-1', 'run-1', [1.0])",
        [label, phrase],
    )
    run_sql(
        small_warehouse,
        "INSERT INTO hassle_runs (run_id, hassle_id, cluster, status, label, keyphrases, "
        "quote_unit_ids, units, units_core) VALUES ('run-1', 'H-0001', 0, 'new', ?, [?], [], 3, 3)",
        [label, phrase],
    )
    run_sql(
        small_warehouse,
        "INSERT INTO hassle_rankings (run_id, rank, hassle_id, label, generic, total_score, "
        "weights, customers, comments, severity_mean, severity_p90, trend, trend_7d, trend_30d, "
        "channels, channel_count, repeat_customers, change, example_unit_ids, ranked_at) VALUES "
        "('run-1', 1, 'H-0001', ?, false, 0.6, '{}', 4, 5, 0.5, 0.6, 'steady', 'steady', "
        "'steady', '{}', 1, 0, 'new', [], TIMESTAMP '2026-11-02')",
        [label],
    )
    # A failed stage's error may quote the text it failed on.
    run_sql(
        small_warehouse,
        "INSERT INTO runs (run_id, flow_name, started_at, status, failed_stage, error) VALUES "
        "('run-0', 'nightly', TIMESTAMP '2026-11-01', 'failed', 'enrich', ?)",
        [f"cannot read '{phrase}' ({label})"],
    )
    target = tmp_path / "analyst.duckdb"
    write_snapshot(small_warehouse, target, "run-1", redact_pii, redactor="v1")
    with duckdb.connect(str(target), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("SHOW TABLES").fetchall()]
        dump = " ".join(str(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    assert {"hassle_runs", "hassle_rankings", "runs"} <= set(tables)
    assert "jane.doe" not in dump and "5551234567" not in dump
    assert snapshot_rows(target, "SELECT label, keyphrases FROM hassle_runs") == [
        ("refund for [email]", ["call [phone]"])
    ]
    assert snapshot_rows(target, "SELECT label FROM hassle_rankings") == [("refund for [email]",)]
    assert snapshot_rows(target, "SELECT error FROM runs WHERE run_id = 'run-0'") == [
        ("cannot read 'call [phone]' (refund for [email])",)
    ]


def test_an_edited_comment_is_redacted_again(small_warehouse):
    # The views publish comments_redacted: an edit that adds a phone must not keep the old text.
    assert refresh_redacted_text(small_warehouse, redact_pii, redactor="v1") == 3
    [(comment_id,)] = run_sql(small_warehouse, "SELECT min(comment_id) FROM comments")
    run_sql(
        small_warehouse,
        "UPDATE comments SET text = 'Call me on 555 123 4567', content_hash = 'edited' "
        "WHERE comment_id = ?",
        [comment_id],
    )
    assert refresh_redacted_text(small_warehouse, redact_pii, redactor="v1") == 1
    [(text,)] = run_sql(
        small_warehouse, "SELECT text FROM comments_redacted WHERE comment_id = ?", [comment_id]
    )
    assert text == "Call me on [phone]"
