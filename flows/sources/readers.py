"""Streaming readers for feedback files: CSV, JSON Lines and Parquet.

Each reader takes an open binary stream and yields :class:`RawItem` one record at a time, so a
1 GB file never needs 1 GB of memory. A record that can't be parsed comes out as an item with a
``problem`` and its raw text, never as an exception: one bad row never sinks a file.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from flows.sources.records import Problem

csv.field_size_limit(min(sys.maxsize, 64 * 1024 * 1024))
# A quoted field may hold line breaks, but one record over this many lines is almost always an
# unclosed quote swallowing the rows after it; it is quarantined instead of read on.
MAX_LINES_PER_RECORD = 200


@dataclass(frozen=True)
class RawItem:
    """One record as read: its location, parsed fields, raw text, or why it couldn't be read."""

    line: int
    record: dict[str, Any] | None
    raw_text: str
    problem: Problem | None = None


class FileProblem(Exception):
    """The whole file is unusable (no header, missing columns, not Parquet)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _LineTap:
    """Feeds lines to ``csv.reader`` and remembers which raw lines made up each record."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.buffer: list[str] = []
        self.line_no = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.line_no += 1
        self.buffer.append(line)
        if len(self.buffer) > MAX_LINES_PER_RECORD:
            raise csv.Error(f"a record runs over {MAX_LINES_PER_RECORD} lines")
        return line

    def take(self) -> tuple[int, str]:
        first = self.line_no - len(self.buffer) + 1
        raw = "".join(self.buffer)
        self.buffer.clear()
        return first, raw


def iter_csv(stream: IO[bytes], *, delimiter: str, required: list[str]) -> Iterator[RawItem]:
    """Yield the records of a CSV file with a header row.

    Args:
        stream: The file, opened in binary mode. Bytes that are not UTF-8 are decoded with
            replacement characters (the cleaning step records that it happened).
        delimiter: The field separator.
        required: Columns the header must have (the source's field mapping).

    Raises:
        FileProblem: When the header is missing or lacks a required column.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    tap = _LineTap(iter(text))
    reader = csv.reader(tap, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("empty_file", "the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise FileProblem("bad_header", f"the header row can't be parsed: {exc}") from None
    tap.take()
    header = [name.strip() for name in header]
    missing = [name for name in dict.fromkeys(required) if name not in header]
    if missing:
        raise FileProblem(
            "missing_columns",
            f"header lacks column(s) {', '.join(map(repr, missing))} named in the source's "
            f"fields mapping; the header has {', '.join(map(repr, header))}",
        )
    width = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            first, raw = tap.take()
            yield RawItem(first, None, raw, Problem("malformed_csv", f"malformed CSV: {exc}", True))
            continue
        first, raw = tap.take()
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != width:
            reason = f"malformed CSV row: {len(row)} fields where the header has {width}" + (
                " (an unquoted comma or unclosed quote?)" if len(row) > width else ""
            )
            yield RawItem(first, None, raw, Problem("malformed_csv", reason, True))
            continue
        yield RawItem(first, dict(zip(header, row, strict=True)), raw)


def iter_jsonl(stream: IO[bytes]) -> Iterator[RawItem]:
    """Yield the records of a JSON Lines file (one JSON object per line; blank lines skipped)."""
    for line_no, raw_bytes in enumerate(stream, start=1):
        raw = raw_bytes.decode("utf-8", errors="replace").rstrip("\r\n")
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield RawItem(
                line_no,
                None,
                raw,
                Problem("invalid_json", f"invalid JSON: {exc.msg} at column {exc.colno}", True),
            )
            continue
        if not isinstance(record, dict):
            yield RawItem(
                line_no,
                None,
                raw,
                Problem(
                    "not_an_object",
                    f"expected a JSON object per line, got {type(record).__name__}",
                    True,
                ),
            )
            continue
        yield RawItem(line_no, record, raw)


def iter_parquet(stream: IO[bytes], *, batch_rows: int) -> Iterator[RawItem]:
    """Yield the rows of a Parquet file, reading ``batch_rows`` rows at a time.

    ``line`` is the 1-based row number in the file.
    """
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(stream)
    except Exception as exc:  # pyarrow raises several types for a file that isn't Parquet
        raise FileProblem("not_parquet", f"not a readable Parquet file: {exc}") from None
    row_no = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for record in batch.to_pylist():
            row_no += 1
            yield RawItem(row_no, record, "")
