"""Checks on ``hasslemap report``'s arguments, each answered in one line.

:func:`unknown_products` and :func:`why_nothing_matches` say why a filter names nothing in the
warehouse; :func:`source_reading` names the source that would read a report written into a
folder (the next run would ingest it and quarantine it, every night), and
:func:`out_dir_problem` says so of ``report.out_dir`` before a run.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path, PurePath

import duckdb

from config import Settings
from flows.sources.base import open_source
from warehouse import ranking as store

REPORT_FILES = tuple(f"hasslemap-report.{ext}" for ext in ("html", "md", "csv"))


def unknown_products(requested: Sequence[str], known: Sequence[str]) -> str | None:
    """Why a ``--product`` is unknown (it must match a product exactly), or None."""
    for value in requested:
        if value not in known:
            listed = ", ".join(known) if known else "none (no comment names a product)"
            return f"{value!r}: products in the warehouse: {listed}"
    return None


def why_nothing_matches(conn: duckdb.DuckDBPyConnection, filters: store.ReportFilter) -> str:
    """Why the filters leave the latest clustering's report without a hassle, in one line."""
    run = store.latest_cluster_run(conn)
    if run is None:
        return "nothing is ranked yet"
    facts = store.read_filter_facts(conn, (run.window_start, run.window_end), filters)
    if facts.first is None or facts.last is None:
        return "the ranked window holds no comment"
    since, until = filters.since, filters.until
    first, last = facts.first.date(), facts.last.date()
    if (since and since > last) or (until and until < first):
        return (
            f"no comment between {since or '…'} and {until or '…'}: the ranked comments run "
            f"from {first} to {last}"
        )
    if filters.channels and not set(filters.channels) & set(facts.channels):
        return (
            f"no comment from --channel {', '.join(filters.channels)}; channels in the ranked "
            f"window: {', '.join(facts.channels)}"
        )
    if filters.products and not set(filters.products) & set(facts.products):
        named = ", ".join(repr(p) for p in filters.products)
        return f"no comment on --product {named} in the ranked window ({first} to {last})"
    described = "; ".join(f"{k}: {v}" for k, v in filters.describe().items() if k != "stage")
    if facts.matching == 0:
        return f"no comment matches these filters together ({described})"
    if filters.stages:
        return (
            f"no ranked hassle is in --stage {', '.join(filters.stages)} among the "
            f"{facts.matching:,} comments the other filters match"
        )
    return f"none of the {facts.matching:,} comments that match ({described}) is in a hassle"


def _globbed(pattern: str, path: Path) -> bool:
    """Whether ingest's glob ``pattern`` takes ``path``.

    ``*`` within one folder, ``**`` across folders: fnmatch's ``*`` crosses folders, and
    refused folders no source reads.
    """
    if "**" in pattern:
        head, _, tail = pattern.partition("**")
        return str(path).startswith(head) and fnmatch.fnmatch(path.name, Path(tail).name or "*")
    return PurePath(path).match(pattern)


def source_reading(folder: Path, settings: Settings) -> str | None:
    """Which configured source would read a report written into ``folder``, or None."""
    for source in settings.sources:
        where = open_source(source, settings.ingest).where()
        if "://" in where:
            continue
        pattern = str(Path(where).expanduser().resolve())
        for name in REPORT_FILES:
            if _globbed(pattern, (folder / name).expanduser().resolve()):
                return (
                    f"{folder} is where source {source.name!r} reads {where}: the next run would "
                    f"ingest {name}; pick another folder"
                )
    return None


def out_dir_problem(settings: Settings) -> str | None:
    """Why ``report.out_dir`` cannot take the nightly report (a source reads it), or None."""
    problem = source_reading(Path(settings.report.out_dir), settings)
    return problem and f"{settings.origin('report', 'out_dir')}: key 'report.out_dir': {problem}"
