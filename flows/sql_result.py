"""What ``hasslemap sql`` reads, runs and prints.

The database to query; the query, one statement, and its result; that result as a table,
NULL told apart from text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from flows.terminal import shown

if TYPE_CHECKING:
    from config import Settings

NULL = Text("NULL", style="dim")


def database_to_query(settings: Settings, *, live: bool) -> tuple[Path, dict[str, str]]:
    """The file to query, and what to tell the analyst when it cannot be opened.

    Analysts read the snapshot: it is never locked by a run. ``live`` reads the warehouse, as
    does a query before the first run has written a snapshot.
    """
    if live:
        return Path(settings.warehouse), {
            "locked": "drop --live to query the analyst snapshot (the last finished run), or "
            "wait for the run to finish"
        }
    if settings.snapshot_path.is_file():
        return settings.snapshot_path, {
            "damaged": "the next successful `hasslemap run` writes a new snapshot; --live "
            "queries the warehouse meanwhile"
        }
    return Path(settings.warehouse), {
        "locked": "there is no analyst snapshot yet; the run writes one when it ends"
    }


class QueryRefused(Exception):
    """A query ``hasslemap sql`` does not run, or a result it cannot give, said in one line.

    ``title`` heads the line; ``code`` is the exit code, 2 for a query to write otherwise.
    """

    def __init__(self, title: str, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.title = title
        self.code = code


@dataclass(frozen=True)
class QueryResult:
    """A query's column names, its first rows as Python values and, to export, every row."""

    names: list[str]
    rows: list[tuple[Any, ...]]
    json_columns: list[str]
    table: pa.Table | None


def run_query(
    conn: duckdb.DuckDBPyConnection, query: str, *, shown: int, export: bool
) -> QueryResult:
    """Run ``query``, which must be one statement, and fetch its first ``shown`` rows.

    Several statements are refused before any of them runs: one result per command, as shown
    and as written by --out. With ``export``, every row is fetched as Arrow too, and a result
    holding a date or time that Python cannot hold is refused (see :func:`out_of_python_range`).

    Raises:
        QueryRefused: For no statement, several, or an export Python cannot convert.
        duckdb.Error: When DuckDB cannot parse or run the query (a write, on a read-only file).
    """
    count = count_statements(query)
    if count == 0:
        message = "no statement given: the query is empty or only comments"
        raise QueryRefused("No SQL", message, code=2)
    if count > 1:
        message = (
            f"the query holds {count} statements and `hasslemap sql` runs one at a time: give "
            "each its own command (a WITH clause can stand in for a temporary table)"
        )
        raise QueryRefused("Several statements", message, code=2)
    cursor = conn.execute(query)
    names = [d[0] for d in cursor.description or []]
    json_columns = [d[0] for d in cursor.description or [] if str(d[1]) == "JSON"]
    if not export:
        return QueryResult(names, cursor.fetchmany(shown), json_columns, None)
    table = cursor.to_arrow_table()
    if (column := out_of_python_range(table)) is not None:
        message = (
            f"column {column!r} holds a date or time Python cannot hold (before year 1, after "
            "9999, infinity, or 24:00:00); cast that column to VARCHAR in the query to export it"
        )
        raise QueryRefused("Cannot export", message)
    values = (c.to_pylist(maps_as_pydicts="lossy") for c in table.slice(0, shown).columns)
    return QueryResult(names, list(zip(*values, strict=True)), json_columns, table)


def count_statements(query: str) -> int:
    """The statements ``query`` holds as written: its parts between semicolons with a token.

    Counted on DuckDB's tokens, so a ";" in a string, a quoted name or a comment is no
    separator. Not ``extract_statements``: DuckDB expands one statement into several (a PIVOT
    whose columns come from the data is a CREATE TYPE and a SELECT).
    """
    count, open_statement = 0, False
    for position, kind in duckdb.tokenize(query):
        if kind == duckdb.token_type.operator and query[position] == ";":
            count, open_statement = count + open_statement, False
        else:
            open_statement = True
    return count + open_statement


_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_FIRST_SECOND = -62_135_596_800  # 0001-01-01 00:00:00, from the Unix epoch
_LAST_SECOND = 253_402_300_799  # 9999-12-31 23:59:59
_DAY = 86_400


def out_of_python_range(table: pa.Table) -> str | None:
    """The name of the first column holding a date, timestamp or time Python cannot hold.

    DuckDB's dates and timestamps reach far past Python's years 1 to 9999 (and to infinity),
    and its times to 24:00:00. Arrow fails to convert such a value, or wraps 24:00:00 round to
    midnight, and its CSV writer writes a placeholder in its place. Values inside lists, maps,
    structs and unions count too.
    """
    for name, column in zip(table.column_names, table.columns, strict=True):
        for leaf in (leaf for chunk in column.chunks for leaf in _nested(chunk)):
            if (bounds := _python_bounds(leaf.type)) is None:
                continue
            stored = pc.min_max(leaf.cast(pa.int32() if leaf.type.bit_width == 32 else pa.int64()))
            low, high = stored["min"].as_py(), stored["max"].as_py()
            if low is not None and (low < bounds[0] or high > bounds[1]):
                return name
    return None


def _nested(array: pa.Array) -> Iterator[pa.Array]:
    """``array`` and every array nested in it: list items, map entries, struct and union fields."""
    yield array
    if pa.types.is_struct(array.type):
        children = array.flatten()
    elif pa.types.is_union(array.type):
        children = [array.field(i) for i in range(array.type.num_fields)]
    elif pa.types.is_map(array.type):
        children = [array.keys, array.items]
    elif pa.types.is_nested(array.type):  # the kinds of list
        children = [array.flatten()]
    else:
        children = []
    for child in children:
        yield from _nested(child)


def _python_bounds(kind: pa.DataType) -> tuple[int, int] | None:
    """The stored integers of a date, timestamp or time type that Python can hold, else None."""
    if pa.types.is_date32(kind):
        return _FIRST_SECOND // _DAY, _LAST_SECOND // _DAY
    if pa.types.is_timestamp(kind):
        per = _PER_SECOND[kind.unit]
        return _FIRST_SECOND * per, (_LAST_SECOND + 1) * per - 1
    if pa.types.is_time(kind):
        return 0, _DAY * _PER_SECOND[kind.unit] - 1
    return None


def result_table(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """The rows under their column names; names and values are data, never rich markup."""
    table = Table()
    for name in names:
        table.add_column(Text(name))
    for row in rows:
        table.add_row(*(cell(value) for value in row))
    return table


def cell(value: Any, nested: bool = False) -> Text:
    """A value as shown: NULL (dim) for a missing one, at the top or inside a list or map.

    Inside a list or map, text is quoted, so ``'NULL'`` and ``''`` stay told apart from NULL.
    Control and bidi characters are written as their escapes (:func:`flows.terminal.shown`).
    """
    if value is None:
        return NULL.copy()
    if isinstance(value, list | tuple):
        return Text("[") + Text(", ").join(cell(v, nested=True) for v in value) + Text("]")
    if isinstance(value, dict):
        items = (cell(k, nested=True) + Text(": ") + cell(v, nested=True) for k, v in value.items())
        return Text("{") + Text(", ").join(items) + Text("}")
    if nested and isinstance(value, str):
        return Text(repr(value))
    return Text(shown(str(value)))


def natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes when nothing in it is wrapped or cut."""
    return Measurement.get(console, console.options.update_width(10**9), table).maximum
