"""Opening the DuckDB warehouse file: read-write (schema brought up to date) or read-only."""

from __future__ import annotations

import re
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

    Raises:
        WarehouseUnavailable: When another process holds the file (its PID named), the
            operating system refuses to let it be written, or it is damaged.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _connect_for_writing(path, memory_limit)
    run_sql(conn, "SET TimeZone = 'UTC'")  # TIMESTAMPTZ -> TIMESTAMP casts must not use local time
    apply_migrations(conn)
    install_views(conn)
    return conn


def _connect_for_writing(path: Path, memory_limit: str = "512MB") -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), config={"memory_limit": memory_limit})
    except duckdb.Error as exc:
        raise _unavailable(path, exc, writing=True) from None


class WarehouseUnavailable(RuntimeError):
    """A warehouse or snapshot file that exists but cannot be opened now.

    ``kind`` is ``"locked"`` (another process holds it), ``"damaged"`` (not a readable DuckDB
    file) or ``"denied"`` (the operating system refused access). The message names the file;
    opened for writing (``writing``), as a run opens it, it names the process holding the lock
    and says what to do too.
    """

    def __init__(self, path: Path, kind: str, detail: str, *, writing: bool = False) -> None:
        self.path = path
        self.kind = kind
        if writing:
            super().__init__(_refused_for_writing(path, kind, detail))
            return
        reasons = {
            "locked": "is in use by another process (a running `hasslemap run`, or a program "
            "holding it open), which holds its lock",
            "damaged": "is damaged: not a readable DuckDB database",
            "denied": "cannot be opened: permission denied",
        }
        super().__init__(f"{path} {reasons.get(kind, 'cannot be opened')} ({detail})")


# DuckDB names the process that holds the lock: 'Conflicting lock is held in PROGRAM (PID N)'.
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _refused_for_writing(path: Path, kind: str, detail: str) -> str:
    """Why a run cannot open the warehouse, and what to do."""
    if kind == "locked":
        holder = _LOCK_HOLDER.search(detail)
        who = f" (PID {holder['pid']}, {holder['program']})" if holder else ""
        return (
            f"{path} is locked by another process{who}: wait for it to finish, then run again. "
            "It is another `hasslemap run` (analysts can query the snapshot meanwhile), or a "
            "reader such as `hasslemap report`, `hasslemap sql --live` or a DuckDB session "
            "open on the warehouse"
        )
    if kind == "denied":
        return (
            f"{path} cannot be opened for writing ({detail}); give the user that runs hasslemap "
            "write access to it, and check that it is not immutable (lsattr) or on a read-only "
            "mount"
        )
    if kind == "damaged":
        return (
            f"{path} is damaged: not a readable DuckDB database ({detail}); restore it from a "
            "backup, or move it away to start a new warehouse"
        )
    return f"{path} cannot be opened ({detail}); check the file and its folder"


_DENIED = ("Permission denied", "Operation not permitted", "Read-only file system")


def _unavailable(path: Path, exc: duckdb.Error, *, writing: bool = False) -> WarehouseUnavailable:
    detail = str(exc).split(". See also", 1)[0]
    if "Could not set lock" in detail:
        kind = "locked"
    elif any(error in detail for error in _DENIED):
        kind = "denied"
    elif isinstance(exc, duckdb.IOException | duckdb.SerializationException):
        kind = "damaged"  # "not a valid DuckDB database file", short reads, bad checksums
    else:
        kind = "other"
    return WarehouseUnavailable(path, kind, detail, writing=writing)


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


def check_writable(path: Path) -> None:
    """Raise :class:`WarehouseUnavailable` when an existing warehouse cannot be opened for writing.

    ``hasslemap run`` calls this before it starts Prefect's server, so a second run, a file it
    may read but not write, or a damaged warehouse stops at once with one clear line. The run
    itself meets the same error when it opens the warehouse, should the lock be taken between.
    """
    if path.is_file():
        _connect_for_writing(path).close()
