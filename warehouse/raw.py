"""Landing raw records with dlt into the ``raw`` schema of the warehouse."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dlt
import duckdb

RAW_DATASET = "raw"

# dlt must never phone home: there is no network at run time.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def load_raw(
    conn: duckdb.DuckDBPyConnection,
    resource: Any,
    *,
    pipeline_name: str,
    pipelines_dir: Path,
) -> Any:
    """Run one dlt pipeline that extracts ``resource`` and loads it into ``raw``.

    dlt gets a cursor of the warehouse connection, so raw data, dlt's state and our tables
    share one DuckDB file and one writer, while dlt's session settings (it switches the schema
    search path to ``raw``) stay off our connection. Parquet is the intermediate format: Arrow
    batches pass through without per-row Python work.

    Returns:
        dlt's load info.
    """
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    cursor = conn.cursor()
    try:
        pipeline = dlt.pipeline(
            pipeline_name=pipeline_name,
            pipelines_dir=str(pipelines_dir),
            destination=dlt.destinations.duckdb(cursor),
            dataset_name=RAW_DATASET,
        )
        return pipeline.run(resource, loader_file_format="parquet")
    finally:
        cursor.close()
