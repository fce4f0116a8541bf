"""What ``hasslemap sql`` reads and prints.

The database to query, and a query's result as a table, NULL told apart from text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

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
    """
    if value is None:
        return NULL.copy()
    if isinstance(value, list | tuple):
        return Text("[") + Text(", ").join(cell(v, nested=True) for v in value) + Text("]")
    if isinstance(value, dict):
        items = (cell(k, nested=True) + Text(": ") + cell(v, nested=True) for k, v in value.items())
        return Text("{") + Text(", ").join(items) + Text("}")
    return Text(repr(value) if nested and isinstance(value, str) else str(value))


def natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes when nothing in it is wrapped or cut."""
    return Measurement.get(console, console.options.update_width(10**9), table).maximum
