"""Landing raw records with dlt into the ``raw`` schema of the warehouse."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import duckdb

from warehouse.core import named_statements, read_sql, transaction
from warehouse.loaders import table_exists

RAW_DATASET = "raw"

# dlt must never phone home: there is no network at run time.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
# Arrow batches carry dlt's load id, so merge_comments.sql reads only rows of completed loads.
dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True

logger = logging.getLogger(__name__)


@dataclass
class RawLoad:
    """What one landing did: dlt's load info and what happened to packages left pending."""

    info: Any = None
    replayed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


class RawLoadFailed(Exception):
    """Landing failed; its packages were dropped, so the files are read again next run."""

    def __init__(self, pipeline_name: str, dropped: list[str], cause: BaseException) -> None:
        super().__init__(
            f"{pipeline_name}: landing failed ({type(cause).__name__}: {cause}); "
            f"dropped {len(dropped)} load package(s) {', '.join(dropped) or '-'}, "
            "so their files are read again next run"
        )
        self.dropped = dropped


def _pending(pipeline: Any) -> list[str]:
    return [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]


def _drop_pending(pipeline: Any) -> list[str]:
    """Abort every pending package; dlt restores the local state to before them."""
    pending = _pending(pipeline)
    if pending:
        try:
            pipeline.abort_packages()
        except Exception:  # noqa: BLE001 - last resort: dlt restores its state from the warehouse
            logger.exception("%s: aborting failed; resetting the pipeline", pipeline.pipeline_name)
            pipeline.drop()
    return pending


def _settle_pending(pipeline: Any, outcome: RawLoad) -> None:
    """Finish packages an earlier, killed run left behind, or drop them if they fail again.

    dlt's ``run`` would load pending packages and return without extracting the new data;
    settling them first means new files are always read in the same run.
    """
    pending = _pending(pipeline)
    if not pending:
        return
    try:
        if pipeline.list_extracted_load_packages():
            pipeline.normalize()
        pipeline.load()
        outcome.replayed.extend(pending)
        logger.warning("%s: loaded %d pending package(s)", pipeline.pipeline_name, len(pending))
    except Exception as exc:  # any failure: the package must not block newer data
        outcome.dropped.extend(_drop_pending(pipeline) or pending)
        logger.warning(
            "%s: pending package(s) %s failed again (%s); dropped, their files are read again",
            pipeline.pipeline_name,
            ", ".join(pending),
            exc,
        )


def load_raw(
    conn: duckdb.DuckDBPyConnection,
    resource: Any,
    *,
    pipeline_name: str,
    pipelines_dir: Path,
) -> RawLoad:
    """Run one dlt pipeline that extracts ``resource`` and loads it into ``raw``.

    dlt gets a cursor of the warehouse connection, so raw data, dlt's state and our tables
    share one DuckDB file and one writer, while dlt's session settings (it switches the schema
    search path to ``raw``) stay off our connection. Parquet is the intermediate format: Arrow
    batches pass through without per-row Python work.

    A package left pending by a killed run is loaded first (or dropped when it fails again);
    when this landing fails, its packages are dropped and dlt's state restored, so a failed
    package never blocks newer data: the files are simply read again next run.

    Returns:
        dlt's load info and the pending packages replayed or dropped.

    Raises:
        RawLoadFailed: When extracting, normalising or loading failed (the cause is chained).
    """
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    cursor = conn.cursor()
    outcome = RawLoad()
    try:
        pipeline = dlt.pipeline(
            pipeline_name=pipeline_name,
            pipelines_dir=str(pipelines_dir),
            destination=dlt.destinations.duckdb(cursor),
            dataset_name=RAW_DATASET,
        )
        _settle_pending(pipeline, outcome)
        try:
            outcome.info = pipeline.run(resource, loader_file_format="parquet")
        except Exception as exc:  # any failure: drop what it left, then report it
            dropped = _drop_pending(pipeline)
            outcome.dropped.extend(dropped)
            raise RawLoadFailed(pipeline_name, outcome.dropped, exc) from exc
        return outcome
    finally:
        cursor.close()


def mark_vanished_files(conn: duckdb.DuckDBPyConnection, source: str, present: list[str]) -> None:
    """Record which files of ``source``'s landed records its listing no longer holds.

    Write behaviour: replace the source's rows, because what has vanished is what its latest
    whole listing lacks (a file that comes back is present again). Such a file's records stay
    in ``raw.records``; warehouse/sql/merge_comments.sql ranks them below the files still there.

    Args:
        conn: A read-write connection to the warehouse.
        source: The source's name.
        present: Every file the source lists now, read or skipped (as ``raw.records.file``).
    """
    if not table_exists(conn, "raw", "records"):
        return  # nothing landed yet
    params = {"source": source, "present": present}
    transaction(conn, named_statements(conn, read_sql("mark_vanished_files"), params))
