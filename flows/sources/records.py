"""Turning one raw source record into a normalised comment row, or a reason it can't be one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from config import SourceConfig
from config.sources import FieldMapping
from flows.sources.amounts import parse_amount
from flows.sources.timestamps import parse_timestamp_or_overflow
from nlp.clean import clean_text, join_parts, remove_invisible
from nlp.redact import redact_pii

# Tried in order after ISO 8601; day-first sources swap the ambiguous numeric formats.

# Floats hold integers exactly only up to 2**53; a bigger numeric id may already have collided.
_EXACT_FLOAT_INT = 2**53
# A raw value quoted in a reason is redacted first, then cut to this many characters.
SHOWN_VALUE_CHARS = 60

NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)
RATING_RANGE = (1, 5)


@dataclass(frozen=True)
class CommentRow:
    """A record that can be used, normalised to the columns of ``comments``."""

    external_id: str
    customer_id: str | None
    created_at: datetime
    text: str
    rating: int | None
    score: int | None
    score_kind: str | None
    product: str | None
    language: str | None
    customer_value: float | None
    flags: tuple[str, ...]
    content_hash: str


@dataclass(frozen=True)
class Problem:
    """Why a record was quarantined (``fatal``) or what was repaired in it."""

    code: str
    reason: str
    fatal: bool


@dataclass(frozen=True)
class DateRange:
    """The plausible dates for a comment, inclusive (naive UTC).

    Built at the edge from the run's time (``ingest.earliest_date`` to the run time plus
    ``ingest.max_future_days``); a date outside it is quarantined as ``date_out_of_range``.
    """

    earliest: datetime
    latest: datetime


def shown(value: Any) -> str:
    """Return ``value`` as it may appear in a reason: PII-redacted, quoted and capped.

    Reasons are published (``rejected.reason``), so a raw value is never echoed as is.
    """
    text = redact_pii(_as_text(value)[: SHOWN_VALUE_CHARS * 8])
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[: SHOWN_VALUE_CHARS - 1] + "\u2026"
    return repr(text)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, dict | list | tuple | bool):
        # JSON, not Python's repr: {"a": true} stays {"a": true}, not {'a': True}.
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _as_int(value: Any) -> int | None:
    text = _as_text(value).strip()
    if not text:
        return None
    try:
        number = float(text.split("/")[0])  # "4/5" -> 4
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})  # spaces, controls, zero-width marks


def _checked_value(raw: Any, problems: list[Problem]) -> float | None:
    """A customer value read as an amount; one that is not is dropped, and the record says so."""
    if raw is None or _as_text(raw).strip() == "":
        return None
    number = None
    if isinstance(raw, bool):
        pass  # true is no amount, though Python counts it as 1
    elif isinstance(raw, int | float):
        with contextlib.suppress(OverflowError):  # an integer past any float: no amount
            number = float(raw)
    else:
        number = parse_amount(_as_text(raw))
    if number is None or not math.isfinite(number) or number < 0:
        problems.append(
            Problem(
                "customer_value_unreadable",
                f"customer value {shown(raw)} is not an amount of 0 or more (such as 1234.50, "
                "1,234.50 or 1.234,50); value dropped",
                False,
            )
        )
        return None
    return number


_NOT_IN_AN_ID = ("Cc", "Zl", "Zp")


def _identifier(value: Any, flags: list[str]) -> str | None:
    """Read an identifier as text; control characters are removed and flagged in ``flags``.

    Removed: control characters and line separators, and the invisible format characters
    (:func:`nlp.clean.remove_invisible`: bidi controls that show "Nimbus \u202eedoc" reversed,
    zero-width spaces that make one product two).
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _as_text(value).strip()
    if not text.isprintable():
        kept = remove_invisible(
            "".join(char for char in text if unicodedata.category(char) not in _NOT_IN_AN_ID)
        )
        if kept != text and "control_chars_removed" not in flags:
            flags.append("control_chars_removed")
        text = kept.strip()
    return text or None


def _why_not_an_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return f"holds {json.dumps(value)}, a yes/no value"
    if isinstance(value, dict | list | tuple):
        return f"holds a nested {'object' if isinstance(value, dict) else 'list'}"
    if isinstance(value, float) and (math.isinf(value) or abs(value) >= _EXACT_FLOAT_INT):
        return f"holds the number {shown(value)}, too large to be exact as an id"
    return None


def readable_id(value: Any) -> str | None:
    """Return a record's id as stored (control characters removed), or None if it has none."""
    return None if _why_not_an_id(value) else _identifier(value, [])


def _checked_id(value: Any, field: str, flags: list[str], problems: list[Problem]) -> str | None:
    """Read the record's id; a missing or unusable one is a fatal problem."""
    reason = _why_not_an_id(value)
    if reason is None:
        external_id = _identifier(value, flags)
        if external_id is None:
            problems.append(Problem("missing_id", f"no value in id field {field!r}", True))
        return external_id
    problems.append(
        Problem(
            "bad_id",
            f"id field {field!r} {reason}, not an id; export ids as text (a quoted string)",
            True,
        )
    )
    return None


def _checked_date(
    raw: Any,
    field: str,
    day_first: bool,
    dates: DateRange,
    problems: list[Problem],
    zone: tzinfo | None = None,
) -> datetime | None:
    """Read the record's date; a missing, unreadable or implausible one is a fatal problem."""
    try:
        created_at = parse_timestamp_or_overflow(raw, day_first, zone)
    except OverflowError:
        problems.append(
            Problem(
                "date_out_of_range",
                f"date field {field!r} holds {shown(raw)}, which lies past year 9999 or before "
                "year 1 once its offset is applied; fix the date at the source",
                True,
            )
        )
        return None
    if created_at is None:
        code = "missing_date" if _as_text(raw).strip() == "" else "bad_date"
        # "13/04/2026" read month first: the source writes the day first.
        other_way = parse_timestamp_or_overflow(raw, not day_first) if code == "bad_date" else None
        hint = (
            f"; it reads as a date with the source's day_first: {str(not day_first).lower()}"
            if other_way is not None
            else ""
        )
        problems.append(
            Problem(
                code,
                f"date field {field!r} holds {shown(raw)}, which is not a date; "
                f"use ISO 8601 such as 2026-09-14T08:31:00Z{hint}",
                True,
            )
        )
        return None
    if not dates.earliest <= created_at <= dates.latest:
        problems.append(
            Problem(
                "date_out_of_range",
                f"date field {field!r} holds {shown(raw)}, outside the plausible range "
                f"{dates.earliest:%Y-%m-%d} to {dates.latest:%Y-%m-%d %H:%M} UTC "
                "(ingest.earliest_date, ingest.max_future_days); a placeholder such as "
                "9999-12-31 means 'no date': fix it at the source",
                True,
            )
        )
        return None
    return created_at


def _customer_replies(record: dict[str, Any], source: SourceConfig) -> list[str]:
    replies = source.fields.replies
    if replies is None:
        return []
    items = record.get(replies.field) or []
    if not isinstance(items, list):
        return []
    roles = {role.lower() for role in replies.customer_roles}
    texts = []
    for item in items:
        if not isinstance(item, dict):
            continue
        role = _as_text(item.get(replies.role)).strip().lower()
        if role in roles:
            texts.append(_as_text(item.get(replies.body)))
    return texts


def reply_keys_seen(record: dict[str, Any], fields: FieldMapping) -> set[str] | None:
    """The keys of ``fields.reply_keys()`` the record's follow-up messages hold.

    None when it holds no follow-up message (nothing to tell of their keys).
    """
    replies = fields.replies
    if replies is None:
        return None
    value = record.get(replies.field)
    items = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    if not items:
        return None
    keys = (replies.body, replies.role)
    return {f"{replies.field}[].{key}" for key in keys if any(key in item for item in items)}


def _hash_row(*parts: Any) -> str:
    payload = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha1(payload.encode("utf-8", "surrogatepass")).hexdigest()


def _checked_score(
    raw: Any, kind: str | None, problems: list[Problem]
) -> tuple[int | None, str | None]:
    if raw is None or _as_text(raw).strip() == "":
        return None, None
    kind = (kind or "").strip().lower() or None
    if kind not in ("nps", "csat"):
        problems.append(
            Problem(
                "unknown_score_kind",
                f"score kind {shown(kind)} is not nps or csat; score dropped",
                False,
            )
        )
        return None, None
    score = _as_int(raw)
    low, high = NPS_RANGE if kind == "nps" else CSAT_RANGE
    if score is None or not low <= score <= high:
        problems.append(
            Problem(
                "score_out_of_range",
                f"{kind} score {shown(raw)} is not a whole number from {low} to {high}; score dropped",
                False,
            )
        )
        return None, kind
    return score, kind


def normalise_record(
    record: dict[str, Any], source: SourceConfig, *, max_text_chars: int, dates: DateRange
) -> tuple[CommentRow | None, list[Problem]]:
    """Map and clean one raw record.

    Args:
        record: The record as read (field name to value).
        source: The source it came from (field mapping, day-first dates, score kind).
        max_text_chars: Longer texts are truncated (and the repair recorded).
        dates: The plausible dates; a record dated outside them is quarantined.

    Returns:
        The row (None when the record must be quarantined) and every problem found: fatal
        ones explain the quarantine, the others record repairs made to a row that loads.
    """
    fields = source.fields
    problems: list[Problem] = []
    id_flags: list[str] = []

    external_id = _checked_id(
        record.get(fields.external_id), fields.external_id, id_flags, problems
    )
    created_at = _checked_date(
        record.get(fields.created_at),
        fields.created_at,
        source.day_first,
        dates,
        problems,
        ZoneInfo(source.timezone) if source.timezone else None,
    )

    parts = [_as_text(record.get(name)) for name in fields.text]
    parts += _customer_replies(record, source)
    if not any(part.strip() for part in parts):
        problems.append(
            Problem("missing_text", f"no text in field(s) {', '.join(fields.text)}", True)
        )
        return None, problems

    # Clean each part to the limit first, then the joined text, so flags are counted once.
    cleaned_parts = []
    flags: list[str] = []
    for part in parts:
        cleaned = clean_text(part, max_chars=max_text_chars)
        cleaned_parts.append(cleaned.text)
        flags += [flag for flag in cleaned.flags if flag not in flags]
    text = join_parts(cleaned_parts)
    if len(text) > max_text_chars:
        text = clean_text(text, max_chars=max_text_chars).text
        if "truncated" not in flags:
            flags.append("truncated")
    # Zero-width spaces, joiners and byte order marks alone show nothing either; an emoji
    # newer than Python's Unicode tables (category Cn) is no format character.
    if all(unicodedata.category(char) in _INVISIBLE for char in text):
        problems.append(
            Problem(
                "empty_text",
                "text is empty once markup, whitespace and zero-width characters are removed",
                True,
            )
        )
    for flag in flags:
        problems.append(Problem(flag, _FLAG_REASONS[flag].format(limit=max_text_chars), False))

    if any(p.fatal for p in problems):
        return None, problems

    rating = None
    if fields.rating:
        raw_rating = record.get(fields.rating)
        rating = _as_int(raw_rating)
        if _as_text(raw_rating).strip() and (rating is None or not 1 <= rating <= 5):
            problems.append(
                Problem(
                    "rating_out_of_range",
                    f"rating {shown(raw_rating)} is not a whole number from 1 to 5; rating dropped",
                    False,
                )
            )
            rating = None

    score, score_kind = None, None
    if fields.score:
        kind = record.get(fields.score_kind) if fields.score_kind else source.score_kind
        score, score_kind = _checked_score(record.get(fields.score), _as_text(kind), problems)

    def identifier(name: str | None) -> str | None:
        return _identifier(record.get(name), id_flags) if name else None

    customer_id = identifier(fields.customer_id)
    product = identifier(fields.product)
    language = identifier(fields.language)
    value = (
        _checked_value(record.get(fields.customer_value), problems)
        if fields.customer_value
        else None
    )
    if id_flags:
        problems.append(Problem(id_flags[0], _FLAG_REASONS[id_flags[0]], False))
    repair_flags = tuple(p.code for p in problems if not p.fatal)
    content_hash = _hash_row(
        customer_id,
        created_at.isoformat(),
        text,
        rating,
        score,
        score_kind,
        product,
        language,
        value,
    )
    row = CommentRow(
        external_id=external_id,
        customer_id=customer_id,
        created_at=created_at,
        text=text,
        rating=rating,
        score=score,
        score_kind=score_kind,
        product=product,
        language=language.lower() if language else None,
        customer_value=value,
        flags=repair_flags,
        content_hash=content_hash,
    )
    return row, problems


_FLAG_REASONS = {
    "html_stripped": "HTML tags removed or entities (&amp;, &#39;) decoded; the words were kept",
    "invalid_utf8": "bytes that are not UTF-8 were decoded with replacement characters",
    "truncated": "text longer than {limit} characters was truncated (ingest.max_text_chars)",
    "control_chars_removed": "control or invisible characters (such as NUL, or a bidi control) "
    "were removed from an id, customer id, product or language",
}
