"""Opening the warehouse: for a run (read-write), and sandboxed for ``hasslemap sql``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from conftest import without_dac_override

from warehouse import connection
from warehouse.connection import WarehouseUnavailable, check_writable, connect_warehouse

REPO = Path(__file__).resolve().parents[2]
# The time zone is read once per process, so the query runs in a process of its own.
QUERY = """
import sys
from pathlib import Path
from warehouse.connection import open_sandboxed
conn = open_sandboxed(Path(sys.argv[1]))
print(conn.execute("SELECT current_setting('TimeZone'), now()::TIMESTAMP = now() AT TIME ZONE 'UTC'").fetchone())
try:
    conn.execute("SET TimeZone = 'America/New_York'")
except Exception as exc:
    print(type(exc).__name__)
"""


def test_the_sandbox_reads_times_in_utc_whatever_the_machine_zone(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    connect_warehouse(warehouse).close()
    env = {**os.environ, "TZ": "America/New_York", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", QUERY, str(warehouse)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["('UTC',", "True)", "InvalidInputException"], result.stdout


@contextmanager
def _held(path: Path, *, read_only: bool) -> Iterator[int]:
    """Another process with ``path`` open (a run, or a reader such as ``sql --live``): its PID."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); "
            "print('ready', flush=True); sys.stdin.read()",
            str(path),
            "ro" if read_only else "rw",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)


@pytest.mark.parametrize("read_only", [False, True], ids=["a-run", "a-reader"])
def test_a_warehouse_another_process_holds_is_refused_for_writing_naming_its_pid(
    tmp_path, read_only
):
    warehouse = tmp_path / "warehouse.duckdb"
    connect_warehouse(warehouse).close()
    with _held(warehouse, read_only=read_only) as pid:
        with pytest.raises(WarehouseUnavailable) as opened:
            connect_warehouse(warehouse)
        with pytest.raises(WarehouseUnavailable) as checked:
            check_writable(warehouse)
    for caught in (opened, checked):
        message = str(caught.value)
        assert caught.value.kind == "locked", message
        assert str(warehouse) in message and f"PID {pid}" in message, message
        assert "wait for it to finish, then run again" in message
        assert "read-only mode" not in message  # DuckDB's advice is no help to a run
    connect_warehouse(warehouse).close()  # free again once the other process is gone


OPEN_FOR_WRITING = """
import sys
from pathlib import Path
from warehouse.connection import WarehouseUnavailable, check_writable, connect_warehouse
for open_it in (check_writable, connect_warehouse):
    try:
        open_it(Path(sys.argv[1]))
    except WarehouseUnavailable as exc:
        print(exc.kind, exc)
"""


def test_a_warehouse_file_that_can_be_read_but_not_written_is_refused_for_writing(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    connect_warehouse(warehouse).close()
    warehouse.chmod(0o444)
    result = subprocess.run(
        [*without_dac_override(), sys.executable, "-c", OPEN_FOR_WRITING, str(warehouse)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    for line in lines:
        assert line.startswith(f"denied {warehouse} cannot be opened for writing"), line
        assert "Permission denied" in line and "write access" in line


@pytest.mark.parametrize("error", ["Operation not permitted", "Read-only file system"])
def test_an_immutable_or_read_only_mounted_warehouse_is_refused_as_denied(
    tmp_path, monkeypatch, error
):
    warehouse = tmp_path / "warehouse.duckdb"

    def refuse(*args, **kwargs):  # as DuckDB answers for a `chattr +i` file, or a ro mount
        raise duckdb.IOException(f'IO Error: Cannot open file "{warehouse}": {error}')

    monkeypatch.setattr(connection.duckdb, "connect", refuse)
    with pytest.raises(WarehouseUnavailable, match="cannot be opened for writing") as caught:
        connect_warehouse(warehouse)
    assert caught.value.kind == "denied" and error in str(caught.value)
