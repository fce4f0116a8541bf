"""Writing a query's result to a file analysts asked for: CSV, Parquet or JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet

EXPORT_SUFFIXES = (".csv", ".parquet", ".json")


def write_export(result: pa.Table, out: Path) -> None:
    """Write an Arrow table as CSV, Parquet or JSON (by suffix), replacing ``out`` atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    suffix = out.suffix.lower()
    if suffix == ".csv":
        pyarrow.csv.write_csv(result, partial)
    elif suffix == ".parquet":
        pyarrow.parquet.write_table(result, partial)
    else:
        partial.write_text(
            json.dumps(result.to_pylist(), default=str, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    os.replace(partial, out)


def overwrites(out: Path, databases: Sequence[Path], files: Sequence[Path]) -> bool:
    """Whether writing ``out`` would replace one of ``databases`` (or its WAL) or of ``files``."""
    wals = [db.with_name(db.name + ".wal") for db in databases]
    target = out.resolve()
    return any(target == p.resolve() for p in [*databases, *wals, *files])
