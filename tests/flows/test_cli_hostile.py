"""The command line under hostile text and unlucky states (issue 11: items 7 and 8, messages).

The warehouses here are small and built directly with DuckDB (the real schema, real views,
the real snapshot writer), so no model is loaded; what is under test is the CLI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import (
    record_completed_run,
    review_source,
    without_dac_override,
    write_report_config,
)
from typer.testing import CliRunner

from config import load_settings
from flows.cli import _print_summary, app
from nlp.redact import redact_pii, redactor_version
from warehouse.connection import connect_warehouse
from warehouse.snapshot import write_snapshot

REPO = Path(__file__).resolve().parents[2]
# Each must print exactly as typed: rich would crash on the first, hide the tags of the
# second and turn the third into a hidden link.
PAYLOADS = ("[/x]", "[b]bold[/b]", "[link=http://x]y[/link]")
RUN_ID = "run-1"


def _build(folder: Path, texts: tuple[str, ...] = PAYLOADS) -> Path:
    """A warehouse with one completed run, one cluster run, and a hassle and comment per text.

    Writes the analyst snapshot beside it too; returns the config file.
    """
    config = write_report_config(folder)
    (folder / "feedback" / "reviews.csv").write_text("id,author,rating,title,body,date,product\n")
    now = datetime(2026, 11, 1, 12)
    conn = connect_warehouse(folder / "warehouse.duckdb")
    try:
        record_completed_run(conn, RUN_ID, (datetime(2026, 8, 1), now), units=0, hassles=len(texts))
        for number, text in enumerate(texts, start=1):
            hassle_id = f"H-{number:04d}"
            conn.execute(
                "INSERT INTO hassles (hassle_id, label, keyphrases, stage, stage_share, theme, "
                "theme_share, quote_unit_ids, units, status, first_seen, last_seen, "
                "first_run_id, last_run_id, centroid) "
                "VALUES (?, ?, [?], 'checkout', 1, 'errors', 1, [], 3, "
                "'new', ?, ?, ?, ?, [1.0])",
                [hassle_id, text, text, now, now, RUN_ID, RUN_ID],
            )
            conn.execute(
                "INSERT INTO hassle_rankings (run_id, rank, hassle_id, label, stage, theme, "
                "generic, total_score, weights, customers, comments, severity_mean, "
                "severity_p90, trend, trend_7d, trend_30d, channels, channel_count, "
                "repeat_customers, change, example_unit_ids, ranked_at) VALUES "
                "(?, ?, ?, ?, 'checkout', 'errors', false, 0.5, '{}', 3, 3, 0.5, 0.5, "
                "'steady', 'steady', 'steady', '{}', 1, 0, 'new', [], ?)",
                [RUN_ID, number, hassle_id, text, now],
            )
            conn.execute(
                "INSERT INTO comments (comment_id, source, channel, external_id, created_at, "
                "text, content_hash, source_file, source_line, ingested_at, updated_at, "
                "product) VALUES (?, 'reviews', 'review', ?, ?, ?, 'h', 'f.csv', ?, ?, ?, ?)",
                [f"c{number}", str(number), now, text, number, now, now, text],
            )
            # One sentence in the hassle, so a report on the comment's product ranks it.
            conn.execute(
                "INSERT INTO units VALUES (?, ?, 0, 0, ?, ?, 'th', [], [], false, '{}', -0.5, "
                "0.5, '{}')",
                [f"c{number}:0", f"c{number}", len(text), text],
            )
            conn.execute(
                "INSERT INTO hassle_members VALUES (?, ?, ?, 1.0, 'core')",
                [RUN_ID, f"c{number}:0", hassle_id],
            )
        write_snapshot(
            conn,
            load_settings(config, environ={}).snapshot_path,
            RUN_ID,
            redact_pii,
            redactor=redactor_version(),
        )
    finally:
        conn.close()
    return config


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _assert_literal(output: str) -> None:
    flat = output.replace("\n", "")
    for payload in PAYLOADS:
        assert payload in flat, f"{payload!r} not printed as typed:\n{output}"


def _snapshot(config: Path) -> Path:
    return load_settings(config, environ={}).snapshot_path


# --------------------------------------------------------------------------- 7: sql sandbox


@pytest.mark.parametrize(
    "query",
    [
        "copy (select 'pwned') to '{snapshot}'",
        "copy (select 'pwned') to '{folder}/leak.csv'",
        "select * from read_text('{secret}')",
        "select * from read_csv('{secret}')",
        "attach '{folder}/other.duckdb' as other",
        "set enable_external_access = true",
    ],
    ids=["copy-over-snapshot", "copy-to-file", "read_text", "read_csv", "attach", "re-enable"],
)
def test_sql_can_neither_write_nor_read_files(tmp_path, query):
    config = _build(tmp_path / "w")
    snapshot = _snapshot(config)
    before = snapshot.read_bytes()
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    sql = query.format(snapshot=snapshot, folder=tmp_path, secret=secret)
    code, output = _invoke("sql", sql, "--config", str(config))
    assert code == 1, output
    assert "SQL error" in output
    assert "top secret" not in output
    assert snapshot.read_bytes() == before
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "other.duckdb").exists()
    # The snapshot still opens and answers.
    code, output = _invoke("sql", "select count(*) as n from v_latest_hassles", "-c", str(config))
    assert code == 0 and "3" in output, output


def test_sql_reads_the_snapshot_and_the_live_warehouse_sandboxed(tmp_path):
    config = _build(tmp_path / "w")
    for extra in ([], ["--live"]):
        code, output = _invoke(
            "sql", "select label from v_latest_hassles order by rank", "-c", str(config), *extra
        )
        assert code == 0, output
        _assert_literal(output)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_sql_out_writes_every_row_in_the_format_of_its_suffix(tmp_path, suffix):
    config = _build(tmp_path / "w")
    out = tmp_path / "exports" / f"labels{suffix}"
    code, output = _invoke(
        "sql",
        "select rank, label from v_latest_hassles order by rank",
        "-c",
        str(config),
        "--max-rows",
        "1",
        "--out",
        str(out),
    )
    assert code == 0, output
    assert "wrote 3 rows" in output
    if suffix == ".csv":
        lines = out.read_text().splitlines()
        assert lines[0] == '"rank","label"' and len(lines) == 4
        assert all(payload in out.read_text() for payload in PAYLOADS)
    elif suffix == ".parquet":
        assert pq.read_table(out).to_pydict()["label"] == list(PAYLOADS)
    else:
        assert [row["label"] for row in json.loads(out.read_text())] == list(PAYLOADS)


def test_sql_out_refuses_the_warehouse_snapshot_report_and_unknown_formats(tmp_path):
    config = _build(tmp_path / "w")
    settings = load_settings(config, environ={})
    reports = settings.report.out_dir
    reports.mkdir()
    (reports / "hasslemap-report.csv").write_text("kept\n")
    protected = {
        settings.warehouse: settings.warehouse.read_bytes(),
        settings.snapshot_path: settings.snapshot_path.read_bytes(),
        reports / "hasslemap-report.csv": b"kept\n",
    }
    for target in [*protected, tmp_path / "w" / "x.txt"]:
        code, output = _invoke("sql", "select 1", "-c", str(config), "--out", str(target))
        assert code == 2, output
        assert str(target) in output.replace("\n", "")
    for target, content in protected.items():
        assert target.read_bytes() == content
    assert not (tmp_path / "w" / "x.txt").exists()


# --------------------------------------------------------------------------- 8: markup


def test_sql_prints_customer_text_and_column_names_literally(tmp_path):
    config = _build(tmp_path / "w")
    code, output = _invoke(
        "sql", "select product, label from comments join hassles on true", "-c", str(config)
    )
    assert code == 0, output
    _assert_literal(output)
    code, output = _invoke("sql", 'select 1 as "[/x]", 2 as "[b]bold[/b]"', "-c", str(config))
    assert code == 0, output
    assert "[/x]" in output and "[b]bold[/b]" in output


def test_run_summary_prints_hassle_labels_literally(tmp_path, capsys):
    config = _build(tmp_path / "w")
    settings = load_settings(config, environ={})
    source = {
        "files_read": 1,
        "files_skipped": 0,
        "records_read": 3,
        "records_usable": 3,
        "quarantined": 0,
        "repaired": 0,
    }
    result = {
        "run_id": RUN_ID,
        "warehouse": str(settings.warehouse),
        "stages": {
            "ingest": {
                "sources": {"reviews": source},
                "comments_new": 3,
                "comments_updated": 0,
                "comments_total": 3,
                "rejected_rows": 0,
                "duplicates_across_files": 60,
            },
            "rank": {"hassles_ranked": 3},
        },
    }
    _print_summary(result, settings)
    output = capsys.readouterr().out
    assert "Top 3 hassles" in output
    # The merge's own quarantine is counted too: records lost to a newer file's same id.
    assert "60 record(s) lost to the same id" in " ".join(output.split())
    _assert_literal(output)


def test_report_prints_filters_and_paths_literally(tmp_path):
    config = _build(tmp_path / "w")
    out = tmp_path / "[b]bold[/b]"
    code, output = _invoke(
        "report", "-c", str(config), "--product", "[/x]", "--product", "[link=http://x]y[/link]",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    _assert_literal(output)
    assert (out / "hasslemap-report.html").is_file()


def test_report_top_must_be_at_least_one(tmp_path):
    config = _build(tmp_path / "w")
    code, output = _invoke("report", "-c", str(config), "--top", "-5", "--out", str(tmp_path))
    assert code == 2, output
    assert "--top" in output
    assert not (tmp_path / "hasslemap-report.html").exists()


# --------------------------------------------------------------------------- one-line messages


def _hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding the warehouse open for writing, as a running run does."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=60)


def _one_line_error(output: str) -> None:
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) <= 3, output  # one message, wrapped at most


def test_commands_say_the_warehouse_is_locked_by_a_run(tmp_path):
    config = _build(tmp_path / "w")
    warehouse = load_settings(config, environ={}).warehouse
    holder = _hold_lock(warehouse)
    try:
        code, output = _invoke("run", "-c", str(config))
        flat = output.replace("\n", "")
        assert code == 1 and f"locked by another process (PID {holder.pid}" in flat, output
        assert "wait for it to finish, then run again" in flat
        _one_line_error(output)

        code, output = _invoke("sql", "select 1", "-c", str(config), "--live")
        assert code == 1 and "drop --live" in output, output
        _one_line_error(output)

        code, output = _invoke("report", "-c", str(config), "--out", str(tmp_path / "r"))
        assert code == 1 and "a running `hasslemap run`" in output, output
        assert "when it ends" in output
        _one_line_error(output)

        # The snapshot is never locked: analysts keep querying during the run.
        code, output = _invoke("sql", "select label from v_latest_hassles", "-c", str(config))
        assert code == 0, output
        _assert_literal(output)
    finally:
        _release(holder)


def test_sql_on_a_damaged_snapshot_says_so(tmp_path):
    config = _build(tmp_path / "w")
    snapshot = _snapshot(config)
    snapshot.write_bytes(b"pwned\n\n\n")
    code, output = _invoke("sql", "select 1", "-c", str(config))
    assert code == 1, output
    flat = output.replace("\n", "")
    assert str(snapshot) in flat and "damaged" in flat and "--live" in flat
    _one_line_error(output)


def test_run_on_a_damaged_warehouse_says_so_before_any_work(tmp_path):
    config = _build(tmp_path / "w")
    warehouse = load_settings(config, environ={}).warehouse
    warehouse.write_bytes(b"not a database")
    code, output = _invoke("run", "-c", str(config))
    assert code == 1, output
    flat = output.replace("\n", "")
    assert str(warehouse) in flat and "damaged" in flat and "restore it from a backup" in flat
    _one_line_error(output)
    assert warehouse.read_bytes() == b"not a database"


def test_a_taxonomy_error_is_one_line_naming_the_file_and_key(tmp_path):
    config = _build(tmp_path / "w")
    taxonomy = tmp_path / "taxonomy.yaml"
    bundled = yaml.safe_load((REPO / "config" / "taxonomy.yaml").read_text())
    bundled["stages"][0]["key"] = "Bad Key"
    taxonomy.write_text(yaml.safe_dump(bundled))
    data = yaml.safe_load(config.read_text())
    data["tagging"] = {"taxonomy": str(taxonomy)}
    config.write_text(yaml.safe_dump(data))
    for command in (["run"], ["report"], ["serve"]):
        code, output = _invoke(*command, "-c", str(config))
        assert code == 2, output
        flat = output.replace("\n", "")
        assert "Taxonomy error" in flat and str(taxonomy) in flat and "stages[0].key" in flat
        assert "Traceback" not in output


def test_run_in_a_read_only_warehouse_folder_fails_before_any_work(tmp_path):
    config = _build(tmp_path / "w")
    folder = tmp_path / "w"
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*without_dac_override(), sys.executable, "-m", "flows.cli", "run", "-c", str(config)],
            cwd=REPO,
            env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        folder.chmod(0o755)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "key 'warehouse'" in output and "not writable" in output and str(folder) in output
    assert "Traceback" not in output


def test_run_on_a_warehouse_file_it_can_read_but_not_write_says_so_before_any_work(tmp_path):
    config = _build(tmp_path / "w")
    warehouse = load_settings(config, environ={}).warehouse
    warehouse.chmod(0o444)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run(
        [*without_dac_override(), sys.executable, "-m", "flows.cli", "run", "-c", str(config)],
        cwd=REPO,
        env={**env, "COLUMNS": "200", "PYTHONPATH": str(REPO), "PREFECT_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    flat = output.replace("\n", "")
    assert result.returncode == 1, output
    assert f"Cannot run {warehouse} cannot be opened for writing" in flat, output
    assert "Permission denied" in flat and "write access" in flat
    assert "Traceback" not in output and "Run failed" not in output
    assert "temporary server" not in output  # refused before any work


def test_run_says_who_holds_the_warehouse_when_the_lock_is_taken_after_its_check(
    tmp_path, prefect_server, monkeypatch
):
    """The lock is taken once `hasslemap run` checked it, before the flow opens the warehouse."""
    import flows.nightly

    config = _build(tmp_path / "w")
    warehouse = load_settings(config, environ={}).warehouse
    holders: list[subprocess.Popen[str]] = []
    check_ready = flows.nightly.check_ready

    def check_ready_then_lock(settings):
        holders.append(_hold_lock(warehouse))
        return check_ready(settings)

    monkeypatch.setattr(flows.nightly, "check_ready", check_ready_then_lock)
    try:
        code, output = _invoke("run", "-c", str(config))
    finally:
        for holder in holders:
            _release(holder)
    [holder] = holders
    flat = output.replace("\n", "")
    assert code == 1, output
    assert f"Cannot run {warehouse} is locked by another process (PID {holder.pid}" in flat, output
    assert "wait for it to finish, then run again" in flat
    # No DuckDB traceback. (Not "Traceback" at all: Prefect's console log handler may still
    # write to the output of an earlier invoke, closed, and print a "Logging error" here.)
    assert "IOException" not in output and "Run failed" not in output


def test_the_nightly_flow_says_who_holds_the_warehouse_in_one_line(
    tmp_path, prefect_server, caplog
):
    """As a served run says it: the flow, not the command line, turns the lock into a message."""
    from flows.nightly import nightly
    from warehouse.connection import WarehouseUnavailable

    config = _build(tmp_path / "w")
    warehouse = load_settings(config, environ={}).warehouse
    holder = _hold_lock(warehouse)
    try:
        state = nightly(str(config), return_state=True)
        with pytest.raises(WarehouseUnavailable, match=f"PID {holder.pid}"):
            nightly(str(config))
    finally:
        _release(holder)
    assert state.is_failed()
    assert state.message.startswith(f"Cannot run: {warehouse} is locked by another process")
    assert f"(PID {holder.pid}" in state.message and "wait for it to finish" in state.message
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name.startswith("prefect")]
    assert errors and not [r for r in errors if r.exc_info], "a traceback was logged"


# --------------------------------------------------------------------------- settings checked late


def _unready_config(tmp_path: Path) -> Path:
    (tmp_path / "reports").write_text("a file where the report folder should be")
    config = tmp_path / "hasslemap.yaml"
    data = {
        "warehouse": str(tmp_path / "w.duckdb"),
        "report": {"out_dir": str(tmp_path / "reports")},
        "models": {"spacy": "en_core_web_nonexistent_xyz"},
        "sources": [review_source(tmp_path / "exports" / "*.csv")],
    }
    config.write_text(yaml.safe_dump(data))
    return config


def test_run_checks_folders_and_models_before_any_work(tmp_path):
    config = _unready_config(tmp_path)
    code, output = _invoke("run", "-c", str(config))
    assert code == 2, output
    flat = output.replace("\n", "")
    for key in ("sources[0].path", "report.out_dir", "models.spacy"):
        assert f"key '{key}'" in flat
    assert "Traceback" not in output
    assert not (tmp_path / "w.duckdb").exists()


def test_run_refuses_a_report_folder_a_source_reads_before_any_work(tmp_path):
    # `hasslemap report` refused it; `run` wrote its report there and the next night
    # quarantined hasslemap-report.csv whole, every night.
    exports = tmp_path / "exports"
    exports.mkdir()
    config = tmp_path / "hasslemap.yaml"
    data = {
        "warehouse": str(tmp_path / "w.duckdb"),
        "report": {"out_dir": str(exports)},
        "sources": [review_source(exports / "*.csv")],
    }
    config.write_text(yaml.safe_dump(data))
    code, output = _invoke("run", "-c", str(config))
    assert code == 2, output
    flat = output.replace("\n", "")
    assert "key 'report.out_dir'" in flat and "source 'reviews' reads" in flat
    assert not (tmp_path / "w.duckdb").exists() and not list(exports.iterdir())


@pytest.mark.e2e
def test_the_nightly_flow_checks_before_any_work(tmp_path, prefect_server):
    from config import ConfigError
    from flows.nightly import nightly

    config = _unready_config(tmp_path)
    with pytest.raises(ConfigError, match=r"key 'sources\[0\]\.path'"):
        nightly(str(config))
    assert not (tmp_path / "w.duckdb").exists()


def _doc_examples() -> list[str]:
    """The ```sql example queries of docs/warehouse.md."""
    text = (REPO / "docs" / "warehouse.md").read_text(encoding="utf-8")
    return re.findall(r"^```sql\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.parametrize("query", _doc_examples())
def test_the_documented_example_queries_run_in_the_sandbox(tmp_path_factory, query):
    config = _build(tmp_path_factory.mktemp("examples") / "w")
    code, output = _invoke("sql", query, "-c", str(config))
    assert code == 0, output
