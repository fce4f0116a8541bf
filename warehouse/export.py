"""Writing a query's result to a file analysts asked for: CSV, Parquet or JSON."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv
import pyarrow.parquet

EXPORT_SUFFIXES = (".csv", ".parquet", ".json")


class ExportError(ValueError):
    """A value of the result that the export file's format cannot hold."""


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet runs as a formula at the start of a text cell."""


def guard_formula(value: object) -> object:
    """Guard a text cell against spreadsheet formula injection; numbers pass through.

    A text that starts with ``= + - @`` (or a tab or carriage return) gets a leading ``'``, so
    a spreadsheet shows it as text and does not run it (``=HYPERLINK(...)``, ``-2+3``).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_export(result: pa.Table, out: Path, json_columns: Collection[str] = ()) -> None:
    """Write an Arrow table as CSV, Parquet or JSON (by suffix), replacing ``out`` atomically.

    In CSV, lists, maps, structs, unions and intervals are written as JSON text, one value per
    cell, and text cells are guarded against formula injection (:func:`guard_formula`); Parquet
    and JSON keep every value as it is. In JSON, numbers (decimals too) stay numbers, maps and structs become objects, lists
    arrays, dates and times ISO 8601 strings, and the text of ``json_columns`` (DuckDB's JSON
    type, which reaches Arrow as plain text) the JSON it holds.

    Raises:
        OSError: When the file cannot be written.
        ExportError: When a value cannot be written in that format.
        Either way no partial file is left behind.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    suffix = out.suffix.lower()
    try:
        if suffix == ".csv":
            pyarrow.csv.write_csv(_flatten(result), partial)
        elif suffix == ".parquet":
            pyarrow.parquet.write_table(result, partial)
        else:
            rows = result.to_pylist(maps_as_pydicts="lossy")
            for row in rows:
                for name in json_columns:
                    if row[name] is not None:
                        row[name] = json.loads(row[name])
            partial.write_text(_dumps(rows, indent=1), encoding="utf-8")
        os.replace(partial, out)
    except (ValueError, TypeError, pa.ArrowException) as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"{out.suffix} cannot hold this result: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _flatten(result: pa.Table) -> pa.Table:
    """``result`` for CSV: nested columns as their values' JSON text, text cells guarded."""
    for index, field in enumerate(result.schema):
        column = result.column(index)
        if pa.types.is_nested(field.type) or pa.types.is_interval(field.type):
            values = column.to_pylist(maps_as_pydicts="lossy")
            column = pa.array([None if v is None else _dumps(v) for v in values], pa.string())
        elif _is_text(field.type):
            column = pc.cast(column, pa.string())
        else:
            continue
        result = result.set_column(index, pa.field(field.name, pa.string()), _guarded(column))
    return result


# guard_formula's FORMULA_START, as a pattern Arrow matches in C++: exports can be large.
_FORMULA_PATTERN = "^[" + "".join("\\" + c if c in "-^]\\" else c for c in FORMULA_START) + "]"


def _guarded(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``text`` with :func:`guard_formula` applied to every cell, vectorised."""
    starts = pc.match_substring_regex(text, _FORMULA_PATTERN)
    return pc.if_else(starts, pc.binary_join_element_wise("'", text, ""), text)


def _is_text(kind: pa.DataType) -> bool:
    """Text, also dictionary-encoded (a DuckDB ENUM)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(
        _finite(value), default=_json_value, ensure_ascii=False, indent=indent, allow_nan=False
    )


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null, in lists and objects too.

    JSON holds no NaN: strict parsers refuse the ``NaN`` Python's json writes.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _json_value(value: object) -> object:
    """The JSON form of a value ``json`` does not know.

    ISO 8601 times; a decimal as a number where a float holds it exactly, else as its text
    (no digit lost).
    """
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    return str(value)


def export_target_problem(
    out: Path, databases: Sequence[Path], files: Sequence[Path]
) -> tuple[str, str] | None:
    """Why ``out`` cannot be an export file (a title and a message), or None when it can.

    Not when its suffix names no format, it is a folder, or it would replace one of
    ``databases`` (the warehouse, the snapshot) or ``files`` (the report's).
    """
    if out.suffix.lower() not in EXPORT_SUFFIXES:
        return "Unknown export format", f"{out}: name a .csv, .parquet or .json file"
    if out.is_dir():
        return "Not a file", f"{out} is a folder; --out names a file"
    if overwrites(out, databases, files):
        return (
            "Refused",
            f"{out} is hasslemap's own file (the warehouse, the analyst snapshot or the "
            "report); pick another file name",
        )
    return None


def overwrites(out: Path, databases: Sequence[Path], files: Sequence[Path]) -> bool:
    """Whether writing ``out`` would replace one of ``databases`` (or its WAL) or of ``files``."""
    wals = [db.with_name(db.name + ".wal") for db in databases]
    target = out.resolve()
    return any(target == p.resolve() for p in [*databases, *wals, *files])
