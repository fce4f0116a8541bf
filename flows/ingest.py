"""The ``ingest`` flow: one task per configured source, then the merge into ``comments``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import Settings, SourceConfig, load_settings
from flows import progress
from flows.sources.base import ReadStats, open_source
from flows.sources.resource import build_source_resource
from warehouse.connection import connect_warehouse
from warehouse.loaders import (
    UnconfiguredSource,
    count_comments,
    merge_comments,
    merge_rejected,
    read_commonest_quarantine,
    read_unconfigured_sources,
)
from warehouse.raw import load_raw, mark_vanished_files


def _is_transient(exc: BaseException | None) -> bool:
    """Return True for errors worth another try: a locked, half-written or missing file."""
    while exc is not None:
        if isinstance(exc, OSError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _retry_on_file_errors(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as exc:  # the state holds the task's exception; re-raised here to inspect
        return _is_transient(exc)
    return False


def vanished_warning(source: str, comments: int, where: str) -> str:
    """The warning for a source that matched no file but loaded ``comments`` on earlier runs."""
    return (
        f"source {source!r} matched no file tonight, but {comments:,} comments were loaded "
        f"from it before: were its files moved? Nothing found at {where}"
    )


def absent_keys_warning(
    source: SourceConfig, file: str, absent: Sequence[str], first_keys: Sequence[str]
) -> str:
    """The warning for a file none of whose records holds mapped key(s): a renamed export key."""
    said = "; ".join(
        f"{name!r} ({' and '.join(source.fields.settings_reading(name)) or 'mapped'})"
        for name in absent
    )
    dotted = [name for name in absent if "." in name and "[]." not in name]
    nested = (
        f"; a name such as {dotted[0]!r} is read as one key, not a path into nested objects: "
        "flatten the records first (e.g. jq)"
        if dotted
        else ""
    )
    return (
        f"source {source.name!r}: no record of {file} has the key(s) {said}, so those fields "
        f"are empty for all its records; if the export renamed them, point the setting(s) of "
        f"sources[{source.name}] at the new key(s) (its first record has: "
        f"{', '.join(map(repr, first_keys)) or 'no key'}){nested}"
    )


def whole_file_warning(source: str, file: str, code: str, reason: str) -> str:
    """The warning for a file quarantined whole: none of its records loaded."""
    return f"source {source!r}: {file} was quarantined whole, none of its records loaded ({code}: {reason})"


# A source warns when at least this share of the records it read in a run was quarantined
# (and at least _MOSTLY_BAD_RECORDS were): a date format or mapping that fails for every row.
_MOSTLY_BAD_SHARE = 0.5
_MOSTLY_BAD_RECORDS = 5


def mostly_quarantined_warning(source: str, stats: Mapping[str, Any]) -> str | None:
    """The warning for a source most of whose records read this run were quarantined.

    ``stats``: the source's :class:`~flows.sources.base.ReadStats` as a mapping. Only records
    count: a file quarantined whole, or unreadable, has its own warning
    (:func:`whole_file_warning`).
    """
    examples = stats.get("quarantine_examples") or {}
    bad = sum(example[0] for example in examples.values())
    read = stats.get("records_read", 0)
    if bad < _MOSTLY_BAD_RECORDS or bad < _MOSTLY_BAD_SHARE * read:
        return None
    code, (count, file, line, reason) = max(examples.items(), key=lambda kv: kv[1][0])
    return (
        f"source {source!r}: {bad:,} of the {read:,} records read this run were quarantined, "
        f"{count:,} of them as {code} (e.g. {file} line {line}: {reason}); fix the source's "
        f"config or file and they are read again (each is a row of the table `rejected`, "
        "`hasslemap sql --live`)"
    )


def read_warnings(
    name: str,
    source: SourceConfig | None,
    stats: Mapping[str, Any],
    *,
    quarantines: bool = True,
) -> list[str]:
    """What reading one source tells its operator, from its read stats (as a mapping).

    Keys no record of a file has, files quarantined whole, a file's dates read in the wrong
    order, most records quarantined. ``source`` None (no longer in the config): only what
    needs no settings. ``quarantines`` False leaves out the two about quarantines (when
    nothing loaded at all, another warning says why).
    """
    warnings = []
    if source is not None:
        for file, (absent, first_keys) in stats.get("keys_absent", {}).items():
            warnings.append(absent_keys_warning(source, file, absent, first_keys))
    if quarantines:
        for file, (code, reason) in stats.get("files_quarantined", {}).items():
            warnings.append(whole_file_warning(name, file, code, reason))
    if source is not None:
        for file, tally in stats.get("date_order", {}).items():
            if warning := date_order_warning(source, file, tally):
                warnings.append(warning)
    if quarantines and (warning := mostly_quarantined_warning(name, stats)):
        warnings.append(warning)
    return warnings


def date_order_warning(
    source: SourceConfig, file: str, tally: Mapping[str, Sequence[Any]]
) -> str | None:
    """The warning for a file whose dates read one way and the other: its day_first is wrong.

    None unless some of its dates only the other order reads (quarantined as ``bad_date``),
    some both orders read, as different days (loaded, likely on the wrong day), and none only
    this order reads (then the file mixes orders, and no setting reads it all).
    """
    other, either = tally.get("other"), tally.get("either")
    if not (other and either) or tally.get("this"):
        return None
    (other, other_example), (either, either_example) = other, either
    first, now = ("month", "day") if source.day_first else ("day", "month")
    return (
        f"source {source.name!r}: {file} holds {other:,} date(s) that read only {first} first "
        f"(e.g. {other_example!r}, quarantined as bad_date) and {either:,} that read either "
        f"way (e.g. {either_example!r}), loaded {now} first: if the file writes the {first} "
        f"first, set day_first: {str(not source.day_first).lower()} for "
        f"sources[{source.name}] (the file is read again)"
    )


def pipeline_name(source: str) -> str:
    """The dlt pipeline that lands a source's records (its read state has this name)."""
    return f"hasslemap_{source}"


@task(name="load_source", cache_policy=NO_CACHE, retry_condition_fn=_retry_on_file_errors)
def load_source(
    conn: duckdb.DuckDBPyConnection, source: SourceConfig, settings: Settings
) -> dict[str, Any]:
    """Read what is new in one source (of any type) and land it in ``raw`` with dlt."""
    logger = get_run_logger()
    sink = progress.current()
    key = f"ingest:{source.name}"
    sink.start(key, f"ingest {source.name}", None)
    stats = ReadStats()
    landed = load_raw(
        conn,
        build_source_resource(
            source, settings.ingest, stats, on_progress=lambda rows: sink.advance(key, rows)
        ),
        pipeline_name=pipeline_name(source.name),
        pipelines_dir=settings.dlt_dir,
    )
    if landed.replayed or landed.dropped:
        logger.warning(
            "source %s: an earlier run left load package(s) pending: %d loaded now, %d "
            "dropped (their files are read again)",
            source.name,
            len(landed.replayed),
            len(landed.dropped),
        )
    sink.finish(key, f"ingest {source.name}: {stats.records_usable:,} usable records")
    counts = asdict(stats)
    for warning in read_warnings(source.name, source, counts):
        logger.warning(warning)
    if stats.present is not None:
        mark_vanished_files(conn, source.name, stats.present)
    # A source that matches nothing but loaded comments before has lost its files (moved,
    # renamed, unmounted): not the quiet of exports that have not arrived yet.
    earlier = count_comments(conn, source.name) if not stats.files_found else 0
    if not stats.files_found:
        where = open_source(source, settings.ingest).where()
        if earlier:
            logger.warning(vanished_warning(source.name, earlier, where))
        else:
            logger.warning("source %s: nothing found at %s", source.name, where)
    logger.info(
        "source %s: %d file(s) found, %d read, %d unchanged and skipped; %d records, "
        "%d usable, %d quarantined, %d repaired",
        source.name,
        stats.files_found,
        stats.files_read,
        stats.files_skipped,
        stats.records_read,
        stats.records_usable,
        stats.quarantined,
        stats.repaired,
    )
    return {
        **{name: value for name, value in counts.items() if name != "present"},
        "comments_before_no_file": earlier,
        "packages_replayed": len(landed.replayed),
        "packages_dropped": len(landed.dropped),
    }


@task(name="merge_comments", cache_policy=NO_CACHE)
def merge_comments_task(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Merge landed records into ``comments`` and quarantined ones into ``rejected``."""
    counts = merge_comments(conn)
    rejected = merge_rejected(conn)
    get_run_logger().info(
        "comments: %d new, %d updated; %d rejected rows recorded; %d record(s) lost to the "
        "same id in a more recently modified file; %d exact copies in older files (not lost)",
        counts.inserted,
        counts.updated,
        rejected,
        counts.duplicates,
        counts.copies,
    )
    return {
        "comments_new": counts.inserted,
        "comments_updated": counts.updated,
        "rejected_rows": rejected,
        "duplicates_across_files": counts.duplicates,
        "copies_across_files": counts.copies,
    }


def ingest_into(conn: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, Any]:
    """Run every source's load task, then the merge; return the stage's counts.

    Each source fails alone: when one source's load still fails after its retries, the error
    is recorded under ``sources_failed`` (its landing was dropped, so its files are read
    again next run) and the other sources load and merge as usual.
    """
    logger = get_run_logger()
    per_source: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for source in settings.sources:
        loader = load_source.with_options(
            name=f"load_source[{source.name}]",
            retries=settings.ingest.retries,
            retry_delay_seconds=settings.ingest.retry_delay_seconds,
        )
        try:
            per_source[source.name] = loader(conn, source, settings)
        except Exception as exc:  # one source's failure must not stop the others
            failed[source.name] = f"{type(exc).__name__}: {exc}"
            logger.error("source %s failed and was skipped this run: %s", source.name, exc)
    merged = merge_comments_task(conn)
    unconfigured = read_unconfigured_sources(conn, [s.name for s in settings.sources])
    for gone in unconfigured:
        logger.warning("%s", describe_unconfigured(gone))

    def total_of(key: str) -> int:
        return sum(s.get(key, 0) for s in per_source.values())

    total = count_comments(conn)
    return {
        **merged,
        "comments_total": total,
        # Nothing usable yet: the run ends saying why (flows.summary.run_warnings).
        "quarantine_reasons": [asdict(r) for r in read_commonest_quarantine(conn)]
        if not total
        else [],
        "records_read": total_of("records_read"),
        "quarantined": total_of("quarantined"),
        "repaired": total_of("repaired"),
        "files_read": total_of("files_read"),
        "files_skipped": total_of("files_skipped"),
        "packages_replayed": total_of("packages_replayed"),
        "packages_dropped": total_of("packages_dropped"),
        "sources": per_source,
        "sources_failed": failed,
        "sources_unconfigured": [describe_unconfigured(gone) for gone in unconfigured],
    }


def describe_unconfigured(gone: UnconfiguredSource) -> str:
    """What an operator should know about comments of a source the config no longer names."""
    said = (
        f"source {gone.source!r} is in the warehouse ({gone.comments:,} comments) but no "
        "longer in the config: its comments still count in hassles and rankings"
    )
    forget = f"`hasslemap forget-source {gone.source}` deletes them"
    if gone.same_records:
        return (
            f"{said}; {gone.same_records:,} of them are also in {gone.same_records_in} (the "
            f"same id and text), so they count twice: if {gone.source!r} was renamed, {forget}"
        )
    return f"{said}; if it is retired, {forget}"


@flow(name="ingest", log_prints=True)
def ingest(config_path: str | None = None) -> dict[str, Any]:
    """Pull every configured source into the warehouse; return counts per source."""
    settings = load_settings(config_path)
    conn = connect_warehouse(Path(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    try:
        return ingest_into(conn, settings)
    finally:
        conn.close()
