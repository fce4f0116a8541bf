"""The dlt resource for one configured source, of any type: list what is new, read it, land it.

The source's type (flows/sources/base.py; ``files`` by default) lists the items new since its
state and yields their records; this module normalises each record, routes it, and yields
Arrow batches for two raw tables: ``records`` (usable records, normalised, with the record as
received) and ``rejected`` (quarantined records and repairs, with their reason and location).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.items import DataItemWithMeta

from config import IngestSettings, SourceConfig
from flows.sources.base import ReadStats, SourceItem, SourceType, open_source
from flows.sources.readers import FileProblem, RawItem
from flows.sources.records import (
    DateRange,
    Problem,
    normalise_record,
    readable_id,
    reply_keys_seen,
    shown,
)
from flows.sources.timestamps import date_order_of
from warehouse.core import rows_to_table

RECORDS_TABLE = "records"
_SHOWN_KEYS = 12  # of a record's own keys, in the warning about the mapped ones it lacks
REJECTED_TABLE = "rejected"

RECORD_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        ("channel", pa.string()),
        pa.field("external_id", pa.string(), nullable=False),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("file_version", pa.string()),
        ("customer_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("text", pa.string()),
        ("rating", pa.int16()),
        ("score", pa.int16()),
        ("score_kind", pa.string()),
        ("product", pa.string()),
        ("language", pa.string()),
        ("customer_value", pa.float64()),
        ("ingest_flags", pa.string()),
        ("content_hash", pa.string()),
        ("record", pa.string()),
    ]
)
REJECTED_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("file", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=False),
        ("external_id", pa.string()),
        ("action", pa.string()),
        pa.field("reason_code", pa.string(), nullable=False),
        ("reason", pa.string()),
        ("raw_text", pa.string()),
        pa.field("file_version", pa.string(), nullable=False),
        ("rejected_at", pa.timestamp("us")),
    ]
)

ProgressCallback = Callable[[int], None]


class _Batch:
    """Rows for one Arrow table, turned into columns when flushed."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.buffer: list[tuple[Any, ...]] = []

    @property
    def rows(self) -> int:
        return len(self.buffer)

    def add(self, values: tuple[Any, ...]) -> None:
        self.buffer.append(values)

    def flush(self) -> pa.Table:
        table = rows_to_table(self.buffer, self.schema)
        self.buffer = []
        return table


def read_source_files(
    source_type: SourceType,
    source: SourceConfig,
    ingest: IngestSettings,
    stats: ReadStats,
    state: dict[str, Any],
    on_progress: ProgressCallback | None = None,
) -> Iterator[Any]:
    """Read what is new since ``state``; yield Arrow tables for the records or rejected table.

    An item (a file) is marked read in ``state`` once it was read to the end. One that can't be
    opened (a dangling link, no permission) is quarantined as ``unreadable_file`` and tried
    again next run. The record as received and the raw text of rejected rows are cut to
    ``ingest.max_raw_chars``.
    """
    for item in source_type.list_new(state, stats):
        if item.unreadable is not None:
            stats.quarantined += 1
            stats.count(Problem("unreadable_file", item.unreadable, True))
            stats.files_quarantined[item.location] = ("unreadable_file", item.unreadable)
            yield _as_rejected(_unreadable_row(item, source))
            continue
        for table in _read_one_item(source_type, item, source, ingest, stats, on_progress):
            yield _bounded(table, ingest.max_raw_chars)
        source_type.mark_read(state, item)
        stats.files_read += 1


def _unreadable_row(item: SourceItem, source: SourceConfig) -> pa.Table:
    reason = f"{item.unreadable}; fix or remove the file (it is tried again next run)"
    row = (
        source.name,
        item.location,
        0,
        None,
        "quarantined",
        "unreadable_file",
        reason,
        "",
        item.version,
        datetime.now(UTC).replace(tzinfo=None),
    )
    return rows_to_table([row], REJECTED_SCHEMA)


_RAW_COLUMNS = ("record", "raw_text")


def _bounded(item: Any, limit: int) -> Any:
    """Cut the raw-text columns of a yielded table to ``limit`` characters."""
    table = item.data if isinstance(item, DataItemWithMeta) else item
    for name in _RAW_COLUMNS:
        index = table.schema.get_field_index(name)
        if index < 0:
            continue
        if (pc.max(pc.utf8_length(table[name])).as_py() or 0) > limit:
            column = pc.utf8_slice_codeunits(table[name], 0, limit)
            table = table.set_column(index, table.schema.field(index), column)
    if isinstance(item, DataItemWithMeta):
        item.data = table
        return item
    return table


def _read_one_item(
    source_type: SourceType,
    item: SourceItem,
    source: SourceConfig,
    ingest: IngestSettings,
    stats: ReadStats,
    on_progress: ProgressCallback | None,
) -> Iterator[Any]:
    file_name, version = item.location, item.version
    now = datetime.now(UTC).replace(tzinfo=None)
    dates = DateRange(
        earliest=datetime.combine(ingest.earliest_date, time()),
        latest=now + timedelta(days=ingest.max_future_days),
    )
    records = _Batch(RECORD_SCHEMA)
    rejected = _Batch(REJECTED_SCHEMA)
    first_line_of: dict[str, int] = {}
    last_line = 0
    mapped = source.fields.referenced()
    keys_found: set[str] = set()
    replies_seen = False  # whether any record held a follow-up message, to tell of its keys
    first_keys: list[str] | None = None  # the first record's, to show beside what it lacks

    def reject(line: int, external_id: str | None, problem: Problem, raw: str) -> None:
        stats.count(problem, file_name, line)
        action = "quarantined" if problem.fatal else "repaired"
        rejected.add(
            (
                source.name,
                file_name,
                line,
                external_id,
                action,
                problem.code,
                problem.reason,
                raw,
                version,
                now,
            )
        )

    try:
        for raw_item in source_type.read(item):
            last_line = raw_item.line
            stats.records_read += 1
            raw_text = raw_item.raw_text
            if isinstance(raw_item.record, dict):
                first_keys = list(raw_item.record) if first_keys is None else first_keys
                keys_found.update(name for name in mapped if name in raw_item.record)
                if (in_replies := reply_keys_seen(raw_item.record, source.fields)) is not None:
                    replies_seen = True
                    keys_found.update(in_replies)
            try:
                raw_text = raw_text or _dump(raw_item.record)
                if raw_item.problem is not None:
                    stats.quarantined += 1
                    reject(raw_item.line, None, raw_item.problem, raw_text)
                else:
                    _route_record(
                        raw_item,
                        raw_text,
                        source,
                        ingest,
                        dates,
                        stats,
                        records,
                        reject,
                        first_line_of,
                        file_name,
                        version,
                    )
            except Exception as exc:  # one record never sinks its file: quarantine it instead
                stats.quarantined += 1
                unreadable = Problem(
                    "unreadable_record",
                    f"the record could not be read ({type(exc).__name__}: {shown(exc)}); "
                    "check this line of the file",
                    True,
                )
                reject(raw_item.line, None, unreadable, raw_text)
            if records.rows >= ingest.chunk_rows:
                yield dlt.mark.with_table_name(records.flush(), RECORDS_TABLE)
                if on_progress:
                    on_progress(ingest.chunk_rows)
            if rejected.rows >= ingest.chunk_rows:
                yield _as_rejected(rejected.flush())
        # A JSON record may leave out a key another one has, but one that no record of the
        # file has is likelier a renamed export key: it is reported, not quarantined.
        expected = [*mapped, *(source.fields.reply_keys() if replies_seen else ())]
        absent = [name for name in dict.fromkeys(expected) if name not in keys_found]
        if first_keys is not None and absent:
            stats.keys_absent[file_name] = (absent, first_keys[:_SHOWN_KEYS])
    except FileProblem as problem:
        stats.quarantined += 1
        stats.files_quarantined[file_name] = (problem.code, problem.reason)
        reject(0, None, Problem(problem.code, problem.reason, True), "")
    except OSError:
        raise  # a locked or half-written file: the task retries it
    except Exception as exc:  # a reader failing mid-file: keep what was read, record the rest
        stats.quarantined += 1
        unreadable = Problem(
            "unreadable_file",
            f"reading stopped after line {last_line} ({type(exc).__name__}: {shown(exc)}); "
            "the records before it were kept, the rest of the file was not read",
            True,
        )
        reject(0, None, unreadable, "")
    if records.rows:
        if on_progress:
            on_progress(records.rows)
        yield dlt.mark.with_table_name(records.flush(), RECORDS_TABLE)
    if rejected.rows:
        yield _as_rejected(rejected.flush())


def _route_record(
    raw_item: RawItem,
    raw_text: str,
    source: SourceConfig,
    ingest: IngestSettings,
    dates: DateRange,
    stats: ReadStats,
    records: _Batch,
    reject: Callable[[int, str | None, Problem, str], None],
    first_line_of: dict[str, int],
    file_name: str,
    version: str,
) -> None:
    row, problems = normalise_record(
        raw_item.record or {}, source, max_text_chars=ingest.max_text_chars, dates=dates
    )
    date = (raw_item.record or {}).get(source.fields.created_at)
    if order := date_order_of(date, source.day_first):
        stats.count_date_order(file_name, order, date)
    line = raw_item.line
    if row is None:
        stats.quarantined += 1
        fatal = next(p for p in problems if p.fatal)
        external_id = readable_id((raw_item.record or {}).get(source.fields.external_id))
        reject(line, external_id, fatal, raw_text)
        return
    if row.external_id in first_line_of:
        stats.quarantined += 1
        duplicate = Problem(
            "duplicate_id",
            f"id {shown(row.external_id)} already appeared on line {first_line_of[row.external_id]} "
            "of this file; the first one was kept",
            True,
        )
        reject(line, row.external_id, duplicate, raw_text)
        return
    first_line_of[row.external_id] = line
    if row.flags:
        stats.repaired += 1
        for problem in problems:
            reject(line, row.external_id, problem, raw_text)
    stats.records_usable += 1
    records.add(
        (
            source.name,
            source.channel,
            row.external_id,
            file_name,
            line,
            version,
            row.customer_id,
            row.created_at,
            row.text,
            row.rating,
            row.score,
            row.score_kind,
            row.product,
            row.language,
            row.customer_value,
            ",".join(row.flags),
            row.content_hash,
            raw_text,
        )
    )


def _as_rejected(table: pa.Table) -> Any:
    hints = dlt.mark.make_hints(
        table_name=REJECTED_TABLE,
        write_disposition="append",
        primary_key=("source", "file", "file_version", "line", "reason_code"),
    )
    return dlt.mark.with_hints(table, hints, create_table_variant=True)


def _dump(record: dict[str, Any] | None) -> str:
    return json.dumps(record, ensure_ascii=False, default=str) if record is not None else ""


def build_source_resource(
    source: SourceConfig,
    ingest: IngestSettings,
    stats: ReadStats,
    on_progress: ProgressCallback | None = None,
) -> Any:
    """Return the dlt resource that lists and reads one source, whatever its type.

    Write behaviour: both tables are **appended**. ``records`` gets one row per record per
    read of an item: a plain COPY that streams within DuckDB's memory limit (a dlt merge
    deduplicates over a staging table and ran out of memory on a 200 MB file).
    warehouse/sql/merge_comments.sql picks each id's winner from the latest completed load
    of each file and prunes the versions it supersedes. ``rejected`` is keyed on (source,
    file, file_version, line, reason_code), because each read of a file version is a distinct
    event worth keeping. The type's state is dlt's resource state, saved with the load.
    """
    source_type = open_source(source, ingest)

    @dlt.resource(
        name=f"{source.name}_files",
        table_name=RECORDS_TABLE,
        write_disposition="append",
    )
    def read_feedback() -> Iterator[Any]:
        state = dlt.current.resource_state()
        yield from read_source_files(source_type, source, ingest, stats, state, on_progress)

    return read_feedback()
