"""The ``files`` source type (the default): a glob of CSV, JSON Lines or Parquet files.

Local paths are listed here (:func:`list_local_files`); any fsspec URL (``s3://``, ``gs://``)
by dlt's ``filesystem`` resource. A file is new when its (modification time, size, source
settings) is not in the state; a file whose version changed but whose content hash did not was
only touched: its new version is recorded and it is not read again.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import fsspec
import pendulum
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.sources.filesystem import FileItemDict, filesystem

from config import FilesSourceConfig, IngestSettings
from flows.sources.base import ReadStats, SourceItem, register_source_type
from flows.sources.readers import (
    RawItem,
    decompression_checked,
    iter_csv,
    iter_jsonl,
    iter_parquet,
    open_decompressed,
)
from flows.sources.timestamps import parse_timestamp


def split_path(path: str) -> tuple[str, str]:
    """Split a configured path or glob into dlt's ``bucket_url`` (a folder) and ``file_glob``."""
    parts = Path(path).parts
    for index, part in enumerate(parts):
        if globlib.has_magic(part):
            base = Path(*parts[:index]) if index else Path(".")
            return str(base.resolve()), "/".join(parts[index:])
    file_path = Path(path)
    return str(file_path.parent.resolve()), file_path.name


def _unreadable(path: Path) -> str | None:
    """Say why a listed local file can't be read, or None when it can."""
    if path.is_symlink() and not path.exists():
        return f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
    if not path.is_file():
        return f"{path} is not a regular file"
    if not os.access(path, os.R_OK):
        return f"{path} can't be read: permission denied"
    return None


def list_local_files(source: FilesSourceConfig) -> Iterator[list[FileItemDict]]:
    """List a local source's files as dlt file items, one batch, unreadable ones included.

    The same paths and URLs as dlt's ``filesystem`` listing, which stats every file and fails
    the whole listing on one dangling symbolic link; here such a file is listed with an
    ``unreadable`` reason and quarantined when read, and the others read.
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


def file_location(file_url: str) -> str:
    """Name a file as its owner does: a local file by its path, "my reviews.csv" not "my%20reviews.csv".

    A remote file keeps its URL, which is how its store names it.
    """
    if file_url.startswith("file://"):
        return unquote(urlparse(file_url).path)
    return file_url


def content_hash(item: FileItemDict) -> str:
    """Hash a file's bytes as a stream (BLAKE2b), so an unchanged file is never read again."""
    digest = hashlib.blake2b(digest_size=20)
    with item.open(mode="rb", compression="disable") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _file_version(item: FileItemDict) -> str:
    modified = item.get("modification_date")
    stamp = modified.isoformat() if hasattr(modified, "isoformat") else str(modified)
    return f"{stamp}|{item.get('size_in_bytes')}"


@register_source_type("files", FilesSourceConfig)
class FilesSource:
    """Files matching ``path``, in ``format``; the state keeps each file's version and hash."""

    def __init__(self, source: FilesSourceConfig, ingest: IngestSettings) -> None:
        """Keep the settings; nothing is listed until :meth:`list_new`."""
        self.source = source
        self.ingest = ingest

    def where(self) -> str:
        """The configured path or glob."""
        return self.source.path

    def _listing(self) -> Iterator[FileItemDict]:
        if "://" in self.source.path:
            bucket_url, file_glob = split_path(self.source.path)
            batches: Any = filesystem(bucket_url=bucket_url, file_glob=file_glob)
        else:
            batches = list_local_files(self.source)
        for batch in batches:
            yield from batch

    def list_new(self, state: dict[str, Any], stats: ReadStats) -> Iterator[SourceItem]:
        """Yield the files whose version and content are not in ``state``, unreadable ones too.

        Files are tracked by (path, modification time, size) rather than with a modification-
        date cursor: a cursor would skip a new file copied in with an older mtime.
        """
        fingerprint = self.source.fingerprint()
        seen = state.setdefault("files", {})
        hashes = state.setdefault("hashes", {})
        stats.present = []
        for item in self._listing():
            stats.files_found += 1
            version = f"{_file_version(item)}|{fingerprint}"
            file_url = item["file_url"]
            location = file_location(file_url)
            stats.present.append(location)
            if seen.get(file_url) == version:
                stats.files_skipped += 1
                continue
            if "unreadable" in item:
                yield SourceItem(file_url, location, version, unreadable=item["unreadable"])
                continue
            digest = f"{content_hash(item)}|{fingerprint}"
            if hashes.get(file_url) == digest:
                seen[file_url] = version
                stats.files_skipped += 1
                continue
            yield SourceItem(file_url, location, version, handle=(item, digest))

    def read(self, item: SourceItem) -> Iterator[RawItem]:
        """Yield one file's records as a stream, decompressed when needed."""
        file_item, _ = item.handle
        source = self.source
        with file_item.open(mode="rb", compression="disable") as raw_stream:
            stream = open_decompressed(raw_stream, source.compression)
            if source.format == "csv":
                items = iter_csv(
                    stream,
                    delimiter=source.delimiter,
                    required=source.fields.referenced(),
                    setting=f"sources[{source.name}].delimiter",
                )
                items = _after_tool_rows(items, source.header_rows - 1, source)
            elif source.format == "jsonl":
                items = iter_jsonl(stream)
            else:
                # A Parquet file's schema is the whole file's, as a CSV header is: a mapped
                # column it lacks (an export that renamed "body") would be missing from every
                # row, silently, so the file is quarantined naming it, as a CSV is.
                items = iter_parquet(
                    stream,
                    batch_rows=self.ingest.chunk_rows,
                    required=source.fields.referenced(),
                )
            yield from decompression_checked(items)

    def mark_read(self, state: dict[str, Any], item: SourceItem) -> None:
        """Keep the file's version and content hash."""
        state["files"][item.key] = item.version
        state["hashes"][item.key] = item.handle[1]


def _after_tool_rows(
    items: Iterator[RawItem], rows: int, source: FilesSourceConfig
) -> Iterator[RawItem]:
    """``items`` without up to ``rows`` leading rows that are no records.

    A survey tool writes rows under the header (question texts, import ids) whose date field
    reads as no date: quarantined, they would count again with every export. Only such rows
    are skipped, so an export made without them (a "condensed" one) keeps its first records.
    """
    date_field = source.fields.created_at
    for item in items:
        record = item.record if isinstance(item.record, dict) else {}
        if rows and parse_timestamp(record.get(date_field), day_first=source.day_first) is None:
            rows -= 1
            continue
        rows = 0
        yield item
