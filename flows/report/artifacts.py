"""The ranking as Prefect artifacts: a Markdown summary and a table, from the report columns.

Both loop over :data:`flows.report.columns.COLUMNS` (the ``summary`` and ``artifact``
targets). Pure: the ``publish`` task creates the artifacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flows.report.columns import ARTIFACT, SUMMARY, Column, Names, columns_for
from flows.report.model import RankedHassle, ReportData
from flows.report.render import md_cell

# Specific hassles shown under each parent in the run's summary (CLI, Prefect markdown).
SUMMARY_CHILDREN = 3


def summary_markdown(data: ReportData, report_path: Path | None) -> str:
    """A short Markdown summary of the top hassles, for the Prefect UI.

    With two levels: each parent, then its top :data:`SUMMARY_CHILDREN` children (``↳``).
    """
    columns = columns_for(SUMMARY, two_level=data.two_level)
    names = Names(dict(data.stages), dict(data.themes))  # read by people: named as the report
    lines = [
        f"# {md_cell(data.title)}",
        f"Window {data.window_start} to {data.window_end}, run `{data.run_id}`.",
        "",
        "| " + " | ".join(c.short for c in columns) + " |",
        "|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|",
    ]
    for h in data.hassles:
        for item, child in ((h, False), *((c, True) for c in h.children[:SUMMARY_CHILDREN])):
            cells = [_summary_cell(c, item, child, names) for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
    if data.two_level:
        lines += ["", "Groups are ranked among groups; ↳ ranks are among all specific hassles."]
    if report_path:
        lines += ["", f"Full report: {md_cell(report_path)}"]
    return "\n".join(lines)


def _summary_cell(column: Column, item: RankedHassle, child: bool, names: Names) -> str:
    text = md_cell(column.cell(item, names))
    return f"↳ {text}" if child and column.name == "label" else text


def artifact_rows(data: ReportData) -> list[dict[str, Any]]:
    """The top hassles as table-artifact rows (redacted labels, plain values).

    With two levels: each parent followed by all its children, with ``level`` and
    ``parent_id`` columns.
    """
    columns = columns_for(ARTIFACT, two_level=data.two_level)
    return [
        {c.artifact_name: c.value(item, Names()) for c in columns}
        for h in data.hassles
        for item in (h, *h.children)
    ]


def warnings_markdown(warnings: Sequence[str]) -> str:
    """A run's warnings (:func:`flows.summary.run_warnings`) as a Markdown list for Prefect.

    A served run has no terminal: this is where its operator reads what it could not do.
    """
    lines = [f"# {len(warnings)} thing(s) this run could not do, or to fix", ""]
    return "\n".join([*lines, *(f"- {md_cell(w)}" for w in warnings)])
