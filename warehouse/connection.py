"""Opening the DuckDB warehouse file: read-write (schema brought up to date) or read-only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.core import run_sql
from warehouse.migrate import apply_migrations
from warehouse.views import install_views


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
    run_sql(conn, "SET TimeZone = 'UTC'")  # TIMESTAMPTZ -> TIMESTAMP casts must not use local time
    apply_migrations(conn)
    install_views(conn)
    return conn


class WarehouseUnavailable(RuntimeError):
    """A warehouse or snapshot file that exists but cannot be opened now.

    ``kind`` is ``"locked"`` (a running ``hasslemap run`` holds it), ``"damaged"`` (not a
    readable DuckDB file) or ``"denied"`` (the operating system refused access); the message
    names the file.
    """

    def __init__(self, path: Path, kind: str, detail: str) -> None:
        self.path = path
        self.kind = kind
        reasons = {
            "locked": "is in use by a running `hasslemap run`, which holds its lock",
            "damaged": "is damaged: not a readable DuckDB database",
            "denied": "cannot be opened: permission denied",
        }
        super().__init__(f"{path} {reasons.get(kind, 'cannot be opened')} ({detail})")


def _unavailable(path: Path, exc: duckdb.Error) -> WarehouseUnavailable:
    detail = str(exc).split(". See also", 1)[0]
    if "Could not set lock" in detail:
        kind = "locked"
    elif "Permission denied" in detail:
        kind = "denied"
    elif isinstance(exc, duckdb.IOException | duckdb.SerializationException):
        kind = "damaged"  # "not a valid DuckDB database file", short reads, bad checksums
    else:
        kind = "other"
    return WarehouseUnavailable(path, kind, detail)


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no warehouse here yet; run `hasslemap run` first (or set HASSLEMAP_WAREHOUSE)"
        )


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse read-only, for queries.

    Raises:
        FileNotFoundError: When there is no file at ``path``.
        WarehouseUnavailable: When it is locked by a run, damaged or not readable.
    """
    _require_file(path)
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _unavailable(path, exc) from None


def open_sandboxed(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a warehouse or snapshot read-only for SQL typed by a person (``hasslemap sql``).

    The connection reads that one file and nothing else: ``enable_external_access`` is off (no
    ``COPY ... TO``, ``read_text``, ``read_csv``, ``ATTACH``, extension loading) and
    ``lock_configuration`` is on, so no ``SET`` in a query can turn it back on. Its time zone
    is UTC, as the stored times are, whatever the machine's.

    Raises:
        FileNotFoundError: When there is no file at ``path``.
        WarehouseUnavailable: When it is locked by a run, damaged or not readable.
    """
    _require_file(path)
    try:
        conn = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as exc:
        raise _unavailable(path, exc) from None
    # Set here, not in the connect config: there DuckDB refuses TimeZone before it loads ICU.
    run_sql(conn, "SET TimeZone = 'UTC'")
    run_sql(conn, "SET lock_configuration = true")
    return conn


def check_openable(path: Path) -> None:
    """Raise :class:`WarehouseUnavailable` when an existing warehouse cannot be opened now.

    A run calls this before any work, so a second run started while one is running (or a
    damaged warehouse) stops with one clear line instead of failing inside the flow.
    """
    if path.is_file():
        open_readonly(path).close()
