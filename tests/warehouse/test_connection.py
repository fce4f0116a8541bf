"""The sandboxed connection ``hasslemap sql`` queries through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from warehouse.connection import connect_warehouse

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
