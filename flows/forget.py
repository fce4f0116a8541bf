"""Forgetting a source the config no longer names: ``hasslemap forget-source NAME``.

A renamed source's comments count twice (its old name's and its new name's), a retired
one's keep counting; the run's summary names them and points here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from config import Settings
from flows.ingest import pipeline_name
from nlp.redact import redact_pii, redactor_version
from warehouse.connection import connect_warehouse
from warehouse.loaders import ForgottenSource, forget_source, read_unconfigured_sources
from warehouse.ranking import latest_completed_run
from warehouse.snapshot import write_snapshot


class CannotForget(ValueError):
    """A source that is still configured, or that the warehouse holds nothing of."""


def forget_unconfigured_source(settings: Settings, name: str) -> ForgottenSource:
    """Delete what the warehouse holds of source ``name``, which the config must not name.

    Its comments and all made of them, its records and rejected rows, and dlt's read state
    there and in ``dlt_dir`` go, and the analyst snapshot is written anew without them;
    hassles and rankings of earlier runs stay as history.

    Raises:
        CannotForget: When the config names the source, or the warehouse holds none of it.
    """
    if name in {source.name for source in settings.sources}:
        raise CannotForget(
            f"{name!r}: the config still names it; remove it from the config first (its "
            "comments would be read again on the next run)"
        )
    warehouse = Path(settings.warehouse)
    if not warehouse.is_file():
        raise CannotForget(f"{name!r}: no warehouse at {warehouse}; check the `warehouse` setting")
    conn = connect_warehouse(warehouse, memory_limit=settings.duckdb_memory_limit)
    try:
        configured = [source.name for source in settings.sources]
        snapshot_of = latest_completed_run(conn)
        forgotten = forget_source(conn, name, pipeline_name(name))
        if not (forgotten.comments or forgotten.records or forgotten.rejected):
            unconfigured = [s.source for s in read_unconfigured_sources(conn, configured)]
            raise CannotForget(
                f"{name!r}: the warehouse {warehouse} holds nothing of it; the sources it "
                f"holds that the config does not name: {', '.join(map(repr, unconfigured)) or 'none'}"
            )
        # The analyst snapshot holds the source's comments too: written anew without them.
        if snapshot_of and Path(settings.snapshot_path).is_file():
            write_snapshot(
                conn,
                Path(settings.snapshot_path),
                snapshot_of,
                redact_pii,
                redactor=redactor_version(),
            )
    finally:
        conn.close()
    shutil.rmtree(Path(settings.dlt_dir) / pipeline_name(name), ignore_errors=True)
    return forgotten
