"""The dlt resource for one configured source: list its files, read them, yield Arrow batches.

dlt's ``filesystem`` resource lists the files (local paths, or any fsspec URL); the
``read_feedback`` transformer reads each file as a stream and yields Arrow tables for two raw
tables: ``records`` (usable records, normalised, with the record as received) and ``rejected``
(quarantined records and repairs, with their reason and location).
"""

from __future__ import annotations

import glob as globlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import dlt
import fsspec
import pendulum
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.extract.items import DataItemWithMeta
from dlt.sources.filesystem import FileItemDict, filesystem

from config import IngestSettings, SourceConfig
from flows.sources.readers import (
    FileProblem,
    RawItem,
    decompression_checked,
    iter_csv,
    iter_jsonl,
    iter_parquet,
    open_decompressed,
)
from flows.sources.records import DateRange, Problem, normalise_record, readable_id, shown
from warehouse.enrichment import rows_to_table

RECORDS_TABLE = "records"
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


@dataclass
class ReadStats:
    """What reading one source did; filled in while dlt extracts."""

    files_found: int = 0
    files_read: int = 0
    files_skipped: int = 0
    records_read: int = 0
    records_usable: int = 0
    quarantined: int = 0
    repaired: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def count(self, problem: Problem) -> None:
        """Tally one problem by its code."""
        self.problems[problem.code] = self.problems.get(problem.code, 0) + 1


def split_path(path: str) -> tuple[str, str]:
    """Split a configured path or glob into dlt's ``bucket_url`` (a folder) and ``file_glob``."""
    parts = Path(path).parts
    for index, part in enumerate(parts):
        if globlib.has_magic(part):
            base = Path(*parts[:index]) if index else Path(".")
            return str(base.resolve()), "/".join(parts[index:])
    file_path = Path(path)
    return str(file_path.parent.resolve()), file_path.name


def files_to_read(source: SourceConfig) -> list[Path]:
    """Return the local files a source's path currently matches, sorted.

    Symbolic links are listed even when their target is gone, so that reading can quarantine
    them; folders are not.
    """
    return sorted(
        Path(p)
        for p in globlib.glob(source.path, recursive=True)
        if Path(p).is_file() or Path(p).is_symlink()
    )


def _unreadable(path: Path) -> str | None:
    """Say why a listed local file can't be read, or None when it can."""
    if path.is_symlink() and not path.exists():
        return f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
    if not path.is_file():
        return f"{path} is not a regular file"
    if not os.access(path, os.R_OK):
        return f"{path} can't be read: permission denied"
    return None


def list_local_files(source: SourceConfig) -> Iterator[list[FileItemDict]]:
    """List a local source's files as dlt file items, one batch, unreadable ones included.

    The same paths and URLs as dlt's ``filesystem`` listing, which stats every file and fails
    the whole listing on one dangling symbolic link; here such a file is listed with an
    ``unreadable`` reason and quarantined by :func:`read_source_files`, and the others read.
    """
    fs = fsspec.filesystem("file")
    bucket_url, file_glob = split_path(source.path)
    items = []
    for name in sorted(globlib.glob(str(Path(bucket_url) / file_glob), recursive=True)):
        path = Path(name)
        if path.is_dir():
            continue
        status = path.lstat() if path.is_symlink() and not path.exists() else path.stat()
        mapping: dict[str, Any] = {
            "file_name": path.name,
            "relative_path": path.relative_to(bucket_url).as_posix(),
            "file_url": FilesystemConfiguration.make_file_url(name),
            "mime_type": "application/octet-stream",
            "modification_date": pendulum.from_timestamp(status.st_mtime),
            "size_in_bytes": status.st_size,
        }
        reason = _unreadable(path)
        if reason:
            # dlt's file URL resolves links: name the link itself, not its missing target
            mapping.update(unreadable=reason, file_url=Path(os.path.abspath(name)).as_uri())
        items.append(FileItemDict(mapping, fs))  # type: ignore[arg-type]
    if items:
        yield items


def content_hash(item: FileItemDict) -> str:
    """Hash a file's bytes as a stream (BLAKE2b), so an unchanged file is never read again."""
    digest = hashlib.blake2b(digest_size=20)
    with item.open(mode="rb", compression="disable") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


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


def _file_version(item: FileItemDict) -> str:
    modified = item.get("modification_date")
    stamp = modified.isoformat() if hasattr(modified, "isoformat") else str(modified)
    return f"{stamp}|{item.get('size_in_bytes')}"


def _iter_items(
    item: FileItemDict, source: SourceConfig, ingest: IngestSettings
) -> Iterator[RawItem]:
    with item.open(mode="rb", compression="disable") as raw_stream:
        stream = open_decompressed(raw_stream, source.compression)
        if source.format == "csv":
            items = iter_csv(
                stream,
                delimiter=source.delimiter,
                required=source.fields.referenced(),
                setting=f"sources[{source.name}].delimiter",
            )
        elif source.format == "jsonl":
            items = iter_jsonl(stream)
        else:
            items = iter_parquet(stream, batch_rows=ingest.chunk_rows)
        yield from decompression_checked(items)


def read_source_files(
    files: list[FileItemDict],
    source: SourceConfig,
    ingest: IngestSettings,
    stats: ReadStats,
    seen_files: dict[str, str],
    on_progress: ProgressCallback | None = None,
    seen_hashes: dict[str, str] | None = None,
) -> Iterator[Any]:
    """Read the given files; yield Arrow tables marked for the records or rejected table.

    Files whose version (modification time, size, and the source's settings) is already in
    ``seen_files`` are skipped. A file whose version changed but whose content hash (with the
    source's settings) is in ``seen_hashes`` was only touched: its new version is recorded and
    it is skipped too. Both are updated once a file has been read to the end. A file that
    can't be opened (a dangling link, no permission) is quarantined as ``unreadable_file`` and
    tried again next run. The record as received and the raw text of rejected rows are cut
    to ``ingest.max_raw_chars``.
    """
    fingerprint = source.fingerprint()
    hashes = {} if seen_hashes is None else seen_hashes
    for item in files:
        stats.files_found += 1
        version = f"{_file_version(item)}|{fingerprint}"
        file_url = item["file_url"]
        if seen_files.get(file_url) == version:
            stats.files_skipped += 1
            continue
        if "unreadable" in item:
            stats.quarantined += 1
            stats.count(Problem("unreadable_file", item["unreadable"], True))
            yield _as_rejected(_unreadable_row(item, source, version))
            continue
        digest = f"{content_hash(item)}|{fingerprint}"
        if hashes.get(file_url) == digest:
            seen_files[file_url] = version
            stats.files_skipped += 1
            continue
        for table in _read_one_file(item, file_url, version, source, ingest, stats, on_progress):
            yield _bounded(table, ingest.max_raw_chars)
        seen_files[file_url] = version
        hashes[file_url] = digest
        stats.files_read += 1


def _unreadable_row(item: FileItemDict, source: SourceConfig, version: str) -> pa.Table:
    reason = f"{item['unreadable']}; fix or remove the file (it is tried again next run)"
    row = (
        source.name,
        item["file_url"].removeprefix("file://"),
        0,
        None,
        "quarantined",
        "unreadable_file",
        reason,
        "",
        version,
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


def _read_one_file(
    item: FileItemDict,
    file_url: str,
    version: str,
    source: SourceConfig,
    ingest: IngestSettings,
    stats: ReadStats,
    on_progress: ProgressCallback | None,
) -> Iterator[Any]:
    file_name = file_url.removeprefix("file://")
    now = datetime.now(UTC).replace(tzinfo=None)
    dates = DateRange(
        earliest=datetime.combine(ingest.earliest_date, time()),
        latest=now + timedelta(days=ingest.max_future_days),
    )
    records = _Batch(RECORD_SCHEMA)
    rejected = _Batch(REJECTED_SCHEMA)
    first_line_of: dict[str, int] = {}
    last_line = 0

    def reject(line: int, external_id: str | None, problem: Problem, raw: str) -> None:
        stats.count(problem)
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
        for raw_item in _iter_items(item, source, ingest):
            last_line = raw_item.line
            stats.records_read += 1
            raw_text = raw_item.raw_text
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
    except FileProblem as problem:
        stats.quarantined += 1
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
            raw_text if source.format != "parquet" else _dump(raw_item.record),
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
    """Return the dlt resource that lists and reads one source's files.

    Write behaviour: both tables are **appended**. ``records`` gets one row per record per
    read of a file version: a plain COPY that streams within DuckDB's memory limit (a dlt
    merge deduplicates over a staging table and ran out of memory on a 200 MB file).
    warehouse/sql/merge_comments.sql picks each id's winner from the latest completed load
    of each file and prunes the versions it supersedes. ``rejected`` is keyed on (source,
    file, file_version, line, reason_code), because each read of a file version is a distinct
    event worth keeping.
    """
    if "://" in source.path:
        bucket_url, file_glob = split_path(source.path)
        files = filesystem(bucket_url=bucket_url, file_glob=file_glob)
    else:
        files = dlt.resource(list_local_files(source), name=f"{source.name}_listing")

    # Files are tracked by (path, modification time, size) rather than with a
    # modification-date cursor: a cursor would skip a new file copied in with an older mtime.
    @dlt.transformer(
        name=f"{source.name}_files",
        table_name=RECORDS_TABLE,
        write_disposition="append",
    )
    def read_feedback(items: list[FileItemDict]) -> Iterator[Any]:
        state = dlt.current.resource_state()
        seen_files = state.setdefault("files", {})
        seen_hashes = state.setdefault("hashes", {})
        yield from read_source_files(
            items, source, ingest, stats, seen_files, on_progress, seen_hashes
        )

    return files | read_feedback
