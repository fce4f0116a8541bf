"""Source timestamps to naive UTC: ISO 8601, numeric and written formats, epochs, Excel days."""

from __future__ import annotations

import email.utils
import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

# Survey tools write 12-hour clocks ("11/03/2026 2:05:11 PM", SurveyMonkey; "Nov 3, 2026
# 2:05 PM"): each slashed form comes with its "%I:%M[:%S] %p" twin.
_TIMES = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", "")
_MONTH_FIRST = tuple(f"%m/%d/{year}{t}" for year in ("%Y", "%y") for t in _TIMES)
_DAY_FIRST = tuple(f"%d/%m/{year}{t}" for year in ("%Y", "%y") for t in _TIMES)
_UNAMBIGUOUS = (
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %I:%M %p",
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%a, %d %b %Y %H:%M:%S %z",
    "%a %b %d %H:%M:%S %z %Y",  # Twitter's created_at: "Wed Oct 11 06:55:44 +0000 2017"
)
_EPOCH_MS = 10**11  # numbers above this are milliseconds since the epoch
# Numbers below this are Excel's serial dates (days since 1899-12-30; 100,000 is in 2173):
# as epoch seconds they would all fall in the first two days of 1970.
_EXCEL_DAYS_MAX = 100_000
_EXCEL_EPOCH = datetime(1899, 12, 30)
_ZONE_NAMES = (" UTC", " GMT")  # "2026-03-04 14:05:05 UTC", as databases export
_RFC_2822 = re.compile(r"^[A-Za-z]{3},\s")  # "Wed, 04 Mar 2026 14:05:00 GMT", as mail and HTTP
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})\b.*")


def date_order_of(value: Any, day_first: bool) -> str | None:
    """What a slashed date says of its file's order: which ``day_first`` can read it.

    ``"other"``: only the other order reads it ("13/04/2026" with ``day_first`` false);
    ``"this"``: only this order does ("04/13/2026"); ``"either"``: both do, as different days
    ("03/04/2026"); None: anything else. Decided on the numbers, without parsing the date
    again (ingest calls it for every record).
    """
    if not isinstance(value, str) or not (match := _SLASHED.fullmatch(value.strip())):
        return None
    first, second, year = (int(part) for part in match.groups())
    first_is_day = _is_day(year, month=second, day=first)
    first_is_month = _is_day(year, month=first, day=second)
    this_way, other_way = (
        (first_is_day, first_is_month) if day_first else (first_is_month, first_is_day)
    )
    if this_way and other_way:
        return "either" if first != second else None
    return "this" if this_way else "other" if other_way else None


def _is_day(year: int, *, month: int, day: int) -> bool:
    try:
        date(year if year >= 100 else 2000 + year, month, day)
    except ValueError:
        return False
    return True


def parse_timestamp(
    value: Any, *, day_first: bool = False, zone: tzinfo | None = None
) -> datetime | None:
    """Parse a source timestamp to naive UTC; return None when it can't be read.

    Accepts datetimes, dates, epoch seconds or milliseconds, Excel serial days, ISO 8601 (with
    ``Z``, an offset, or `` UTC``), RFC 2822 (``Wed, 04 Mar 2026 14:05:00 GMT``), and common
    numeric and written formats. Naive values are taken as local time in ``zone`` (the
    source's ``timezone``), or as UTC without one; epoch numbers are UTC. A time whose offset
    carries it past year 9999 or before year 1 in UTC (``9999-12-31T23:59:59-05:00``) has no
    UTC value and also gives None.
    """
    try:
        return parse_timestamp_or_overflow(value, day_first, zone)
    except OverflowError:
        return None


def parse_timestamp_or_overflow(
    value: Any, day_first: bool, zone: tzinfo | None = None
) -> datetime | None:
    """:func:`parse_timestamp`, raising OverflowError for a time that has no UTC value."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _from_number(value)
        if parsed is None:
            return None
    else:
        text = str(value).strip()
        if not text:
            return None
        parsed = _parse_text_timestamp(text, day_first)
        if parsed is None:
            return None
    if parsed.tzinfo is None and zone is not None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _from_number(value: float) -> datetime | None:
    """A spreadsheet's day (naive: local, as the written forms are) or an epoch (aware: UTC).

    Seconds, or milliseconds from ``_EPOCH_MS``; None when not finite or out of range.
    """
    if not math.isfinite(value):
        return None
    if 0 < value < _EXCEL_DAYS_MAX:
        return _EXCEL_EPOCH + timedelta(days=value)
    seconds = value / 1000 if abs(value) >= _EPOCH_MS else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_text_timestamp(text: str, day_first: bool) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if text.upper().endswith(_ZONE_NAMES):
        try:
            return datetime.fromisoformat(text[:-4].rstrip() + "+00:00")
        except ValueError:
            pass
    if _NUMBER.fullmatch(text):
        return _from_number(int(text) if text.isdigit() else float(text))
    for fmt in (*(_DAY_FIRST if day_first else _MONTH_FIRST), *_UNAMBIGUOUS):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    if _RFC_2822.match(text):
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return None
