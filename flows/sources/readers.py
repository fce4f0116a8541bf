"""Streaming readers for feedback files: CSV, JSON Lines and Parquet.

Each reader takes an open binary stream and yields :class:`RawItem` one record at a time, so a
1 GB file never needs 1 GB of memory. A record that can't be parsed comes out as an item with a
``problem`` and its raw text, never as an exception: one bad row never sinks a file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import orjson

from config.sources import DELIMITER_NAMES
from flows.sources.encoding import ENCODING_SAMPLE_BYTES, Prefixed, csv_encoding
from flows.sources.records import Problem, shown

csv.field_size_limit(min(sys.maxsize, 64 * 1024 * 1024))
# A quoted field may hold line breaks (a pasted e-mail thread runs to hundreds), but one record
# over this many lines is an unclosed quote swallowing the rows after it: reading resumes at the
# next of those lines that is a record, so the rows swallowed are read again, not lost.
MAX_LINES_PER_RECORD = 10_000
# What ``delimiter: auto`` chooses from, and what a header is checked against when it lacks the
# mapped columns: the separators exports actually use.
CANDIDATE_DELIMITERS = {char: name for name, char in DELIMITER_NAMES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
# orjson reads integers past 64 bits as floats, which collide; such lines go to the json module.
_LONG_INTEGER = re.compile(r"\d{19}")
# A header listed in a reason is cut to this many names.
_SHOWN_COLUMNS = 20


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


def open_decompressed(stream: IO[bytes], compression: str) -> IO[bytes]:
    """Return ``stream``, gunzipped when ``compression`` is gzip, or auto and the data is gzip.

    Raises:
        FileProblem: When ``compression`` is none but the data starts with gzip's magic bytes.
    """
    head = stream.read(len(_GZIP_MAGIC))
    stream.seek(0)
    if compression == "gzip" or (compression == "auto" and head == _GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if head == _GZIP_MAGIC:
        raise FileProblem(
            "compressed_file",
            "the file is gzip-compressed but the source's compression is 'none'; "
            "set compression: gzip (or auto) on the source",
        )
    return stream


def decompression_checked(items: Iterator[RawItem]) -> Iterator[RawItem]:
    """Pass ``items`` on, turning corrupt or cut-short gzip data into a :class:`FileProblem`.

    ``gzip.BadGzipFile`` is an ``OSError``, which would otherwise read as a locked or
    half-written file and be retried in vain.
    """
    line = 0
    try:
        for item in items:
            line = item.line
            yield item
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FileProblem(
            "bad_compression",
            f"the gzip data is corrupt or cut short after line {line} ({exc}); "
            "re-export or re-compress the file, or set the source's compression to none",
        ) from None


class _LineTap:
    """Feeds lines to ``csv.reader`` and remembers which raw lines made up each record.

    It can replay lines, so that reading resumes inside a record found to be broken.
    """

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._replay: list[str] = []  # lines to hand out again, last first
        self.buffer: list[str] = []
        self.line_no = 0  # number of the last line handed out
        self.hit_end = False  # the record being read ran into the end of the file

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        if self._replay:
            line = self._replay.pop()
        else:
            try:
                line = next(self._lines)
            except StopIteration:
                self.hit_end = True
                raise
            if not line.endswith(("\n", "\r")):
                line += "\n"  # the last line: a quote left open there is then detectable
        self.line_no += 1
        self.buffer.append(line)
        if len(self.buffer) > MAX_LINES_PER_RECORD:
            raise csv.Error(
                f"a quote never closes: the record runs over {MAX_LINES_PER_RECORD} lines"
            )
        return line

    def take(self) -> tuple[int, list[str]]:
        """Return the first line number and the raw lines of the record just read."""
        first = self.line_no - len(self.buffer) + 1
        lines = self.buffer
        self.buffer = []
        self.hit_end = False
        return first, lines

    def replay(self, lines: list[str]) -> None:
        """Hand ``lines`` (the last ones taken) out again, in order."""
        self._replay.extend(reversed(lines))
        self.line_no -= len(lines)


def _is_record(line: str, width: int, delimiter: str) -> bool:
    """True when ``line`` alone parses as one whole record of ``width`` fields."""
    row = _fields(line, delimiter)
    return len(row) == width and not any("\n" in field or "\r" in field for field in row)


def _resynchronised(
    tap: _LineTap, first: int, lines: list[str], width: int, delimiter: str, reason: str
) -> RawItem:
    """Quarantine a broken record up to the next of its lines that is a record by itself.

    The lines from there are replayed, so an unclosed quote costs one record, not the rows it
    swallowed.
    """
    for offset in range(1, len(lines)):
        if _is_record(lines[offset], width, delimiter):
            tap.replay(lines[offset:])
            reason += f"; reading resumed at line {first + offset}"
            lines = lines[:offset]
            break
    return RawItem(first, None, "".join(lines), Problem("malformed_csv", reason, True))


def _fields(line: str, delimiter: str) -> list[str]:
    """The fields of one line on its own, stripped; none when it can't be parsed."""
    try:
        return [name.strip() for name in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def _choose_delimiter(first_line: str, required: list[str]) -> str:
    """The candidate delimiter under which the header has the most required columns.

    Ties go to the earlier candidate (',' first). A header missing one mapped column is then
    still split right, and the problem names that column, not all of them.
    """
    wanted = set(required)
    return max(CANDIDATE_DELIMITERS, key=lambda d: len(wanted & set(_fields(first_line, d))))


_ZIP_MAGIC = b"PK\x03\x04"  # a zip archive's first bytes: .xlsx, .docx, .zip


def _refuse_wide_encoding(nuls: int, length: int, where: str) -> None:
    """Raise ``wrong_encoding`` when a first line is mostly NUL bytes (every other one: UTF-16)."""
    if nuls > length // 4:
        raise FileProblem(
            "wrong_encoding",
            f"{where} is mostly NUL bytes: the file looks UTF-16 (or another wide encoding); "
            "export or save it as UTF-8",
        )


def iter_csv(
    stream: IO[bytes], *, delimiter: str, required: list[str], setting: str = "delimiter"
) -> Iterator[RawItem]:
    """Yield the records of a CSV file with a header row.

    A record that is malformed over several lines (a quote that never closes) is quarantined
    alone: reading resumes at the next of its lines that parses as a record.

    Args:
        stream: The file, opened in binary mode. It is read as UTF-8, or as Windows-1252
            (what Excel on Western Windows saves as "CSV") when its first
            :data:`ENCODING_SAMPLE_BYTES` are not UTF-8 and hold no UTF-8 character outside
            ASCII. Bytes that still do not decode are replaced (the cleaning step records
            that it happened).
        delimiter: The field separator, or ``auto`` to pick one of
            :data:`CANDIDATE_DELIMITERS` from the header row.
        required: Columns the header must have (the source's field mapping).
        setting: The setting that holds ``delimiter``, named in messages.

    Raises:
        FileProblem: When the header is missing or lacks a required column.
    """
    head = stream.read(ENCODING_SAMPLE_BYTES)
    if head.startswith(_ZIP_MAGIC):
        raise FileProblem(
            "not_csv",
            "the file is a zip archive, such as an Excel workbook (.xlsx), not CSV: save the "
            'sheet as "CSV UTF-8", or export CSV from the tool',
        )
    text = io.TextIOWrapper(
        io.BufferedReader(Prefixed(head, stream), buffer_size=ENCODING_SAMPLE_BYTES),
        encoding=csv_encoding(head),
        errors="replace",
        newline="",
    )
    tap = _LineTap(iter(text))
    try:
        first_line = next(tap)
    except StopIteration:
        raise FileProblem("empty_file", "the file is empty; expected a header row") from None
    tap.replay(tap.take()[1])
    _refuse_wide_encoding(first_line.count("\x00"), len(first_line), "the header")
    if delimiter == "auto":
        delimiter = _choose_delimiter(first_line, required)
    reader = csv.reader(tap, delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise FileProblem("bad_header", f"the header row can't be parsed: {exc}") from None
    tap.take()
    header = [name.strip() for name in header]
    missing = [name for name in dict.fromkeys(required) if name not in header]
    if missing:
        raise _missing_columns(required, header, first_line, delimiter, setting)
    twice = [name for name in dict.fromkeys(required) if header.count(name) > 1]
    if twice:
        raise FileProblem(
            "bad_header",
            f"the header names column(s) {', '.join(map(repr, twice))} more than once, and the "
            "source's fields mapping reads them: rename the copies so each name is one column",
        )
    width = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            first, lines = tap.take()
            yield _resynchronised(tap, first, lines, width, delimiter, f"malformed CSV: {exc}")
            continue
        ended = tap.hit_end
        first, lines = tap.take()
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        # At the end of the file the csv module returns a record whose quote never closed.
        unclosed = ended and row[-1].endswith(("\n", "\r")) and not lines[-1].rstrip().endswith('"')
        if len(row) != width or unclosed:
            reason = (
                "malformed CSV: a quote opened in this record never closes"
                if unclosed
                else f"malformed CSV row: {len(row)} fields where the header has {width}"
                + (" (an unquoted comma or unclosed quote?)" if len(row) > width else "")
            )
            yield _resynchronised(tap, first, lines, width, delimiter, reason)
            continue
        yield RawItem(first, dict(zip(header, row, strict=True)), "".join(lines))


def _missing_columns(
    required: list[str], header: list[str], first_line: str, delimiter: str, setting: str
) -> FileProblem:
    """The problem for a header without the mapped columns, naming a delimiter that has all."""
    missing = [name for name in dict.fromkeys(required) if name not in header]
    reason = f"header {_lacks(missing, header)}"
    for candidate, name in CANDIDATE_DELIMITERS.items():
        if candidate != delimiter and set(required) <= set(_fields(first_line, candidate)):
            return FileProblem(
                "wrong_delimiter",
                f"the header is {name}-delimited ({candidate!r}), but {setting} is "
                f"{CANDIDATE_DELIMITERS.get(delimiter, repr(delimiter))}; set {setting} to "
                f"{name} (or auto)",
            )
    return FileProblem("missing_columns", reason)


def _lacks(missing: list[str], columns: Sequence[str]) -> str:
    """What a file's columns lack of the mapping's, and what they are (the first few)."""
    names = [shown(name) for name in columns[:_SHOWN_COLUMNS]]
    if len(columns) > _SHOWN_COLUMNS:
        names.append(f"and {len(columns) - _SHOWN_COLUMNS} more")
    return (
        f"lacks column(s) {', '.join(map(repr, missing))} named in the source's fields "
        f"mapping; it has {', '.join(names)}"
    )


def _loads(raw: str) -> Any:
    """Parse one JSON text; integers past 64 bits stay exact ints (orjson makes them floats)."""
    if not _LONG_INTEGER.search(raw):
        return orjson.loads(raw)
    record = json.loads(raw, parse_constant=_no_constant)
    json.dumps(record, ensure_ascii=False).encode()  # a lone surrogate fails here, as in orjson
    return record


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_JSONL_HINT = "JSON Lines holds one object per line (e.g. jq -c '.[]' in.json > out.jsonl)"


def _check_jsonl_start(raw_bytes: bytes, line: str) -> None:
    """Raise a :class:`FileProblem` when a JSONL file's first line shows it is something else."""
    _refuse_wide_encoding(raw_bytes.count(b"\x00"), len(raw_bytes), "the first line")
    start = line.lstrip("\ufeff \t")
    if start.startswith("[") and _opens_an_array_of_objects(line):
        raise FileProblem(
            "not_jsonl", f"the file is one JSON array ('[' on its first line); {_JSONL_HINT}"
        )
    if start.rstrip() == "{":
        raise FileProblem(
            "not_jsonl",
            f"the file is JSON pretty-printed over several lines ('{{' alone on its first "
            f"line); {_JSONL_HINT}",
        )


def _opens_an_array_of_objects(line: str) -> bool:
    """Whether a first line is a whole array of objects, or opens one over several lines."""
    try:
        value = _loads(line)
    except (ValueError, UnicodeError, RecursionError):
        return True  # "[" and the array goes on below
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def iter_jsonl(stream: IO[bytes]) -> Iterator[RawItem]:
    """Yield the records of a JSON Lines file (one JSON object per line; blank lines skipped).

    A UTF-8 byte order mark before the first line is read past, as CSV's is.

    Raises:
        FileProblem: When the first line shows the file is no JSON Lines: UTF-16, one JSON
            array, or JSON pretty-printed over several lines (one problem for the file, not
            one per line).
    """
    started = False
    for line_no, raw_bytes in enumerate(stream, start=1):
        encoding = "utf-8-sig" if line_no == 1 else "utf-8"
        raw = raw_bytes.decode(encoding, errors="replace").rstrip("\r\n")
        if not raw.strip():
            continue
        if not started:
            started = True
            _check_jsonl_start(raw_bytes, raw)
        try:
            record = _loads(raw)
        except (ValueError, UnicodeError, RecursionError) as exc:  # decode errors included
            where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            yield RawItem(
                line_no,
                None,
                raw,
                Problem("invalid_json", f"invalid JSON: {message}{where}", True),
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


def iter_parquet(
    stream: IO[bytes],
    *,
    batch_rows: int,
    required: Sequence[str] = (),
    any_of: Sequence[str] = (),
) -> Iterator[RawItem]:
    """Yield the rows of a Parquet file, reading ``batch_rows`` rows at a time.

    ``line`` is the 1-based row number in the file.

    Raises:
        FileProblem: When the file is no Parquet, or its schema lacks a ``required`` column
            (the id and date the source maps) or every ``any_of`` column (its text fields):
            one problem for the file, not one per row.
        ValueError: When a row group's data is corrupt: the rows before it are kept and the
            file is quarantined as unreadable from there (an ``OSError`` with an errno, the
            file system's, is raised as it is, for the task to retry).
    """
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(stream)
    except Exception as exc:  # pyarrow raises several types for a file that isn't Parquet
        raise FileProblem("not_parquet", f"not a readable Parquet file: {exc}") from None
    columns = parquet.schema_arrow.names
    missing = [name for name in dict.fromkeys(required) if name not in columns]
    if any_of and not set(any_of) & set(columns):
        missing += list(dict.fromkeys(any_of))
    if missing:
        raise FileProblem("missing_columns", f"the Parquet schema {_lacks(missing, columns)}")
    row_no = 0
    batches = parquet.iter_batches(batch_size=batch_rows)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except OSError as exc:
            if exc.errno is not None:
                raise  # the file system's (a locked or half-written file): the task retries it
            # pyarrow's own OSError ("Corrupt snappy compressed data") is the file's bytes: a
            # retry reads the same, and raised as it is it would fail the whole source.
            raise ValueError(f"the Parquet data after row {row_no} is corrupt: {exc}") from None
        yield from _batch_items(batch, row_no)
        row_no += batch.num_rows


def _batch_items(batch: Any, row_no: int) -> Iterator[RawItem]:
    """Yield the rows of one Parquet batch.

    A row Python can't hold (a timestamp past year 9999) becomes a problem item instead of
    failing the batch. Nanosecond timestamps are cut to microseconds, all a Python datetime
    holds: handed out as they are, pyarrow needs pandas for them, which an install without
    the dev extras lacks (every row was then quarantined).
    """
    import pyarrow as pa

    nanoseconds = [
        i
        for i, f in enumerate(batch.schema)
        if pa.types.is_timestamp(f.type) and f.type.unit == "ns"
    ]
    for i in nanoseconds:
        unit = pa.timestamp("us", tz=batch.schema.field(i).type.tz)
        batch = batch.set_column(
            i, batch.schema.field(i).with_type(unit), batch.column(i).cast(unit, safe=False)
        )
    try:
        records = batch.to_pylist()
    except (ValueError, OverflowError):
        records = None
    for index in range(batch.num_rows):
        if records is not None:
            yield RawItem(row_no + index + 1, records[index], "")
            continue
        row = batch.slice(index, 1)
        try:
            record = row.to_pylist()[0]
        except (ValueError, OverflowError) as exc:
            yield RawItem(
                row_no + index + 1,
                None,
                str(row),
                Problem(
                    "unreadable_record",
                    f"the row could not be read ({type(exc).__name__}: {shown(exc)}); "
                    "check this row of the file",
                    True,
                ),
            )
            continue
        yield RawItem(row_no + index + 1, record, "")
