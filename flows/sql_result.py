"""What ``hasslemap sql`` prints: a query's result as a table, NULL told apart from text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

NULL = Text("NULL", style="dim")


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
