"""Turning one raw source record into a normalised comment row, or a reason it can't be one."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from config import SourceConfig
from nlp.clean import clean_text, join_parts

# Tried in order after ISO 8601; day-first sources swap the ambiguous numeric formats.
_MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%m/%d/%y")
_DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%y")
_UNAMBIGUOUS = (
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%a, %d %b %Y %H:%M:%S %z",
)
_EPOCH_MS = 10**11  # numbers above this are milliseconds since the epoch

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


def parse_timestamp(value: Any, *, day_first: bool = False) -> datetime | None:
    """Parse a source timestamp to naive UTC; return None when it can't be read.

    Accepts datetimes, dates, epoch seconds or milliseconds, ISO 8601 (with ``Z`` or an offset),
    and common numeric and written formats. Naive values are taken as UTC.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        seconds = value / 1000 if abs(value) >= _EPOCH_MS else value
        try:
            return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        text = str(value).strip()
        if not text:
            return None
        parsed = _parse_text_timestamp(text, day_first)
        if parsed is None:
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _parse_text_timestamp(text: str, day_first: bool) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if text.isdigit():
        return parse_timestamp(int(text))
    for fmt in (*(_DAY_FIRST if day_first else _MONTH_FIRST), *_UNAMBIGUOUS):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
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


def _as_float(value: Any) -> float | None:
    text = (
        _as_text(value).strip().replace(",", ".") if not isinstance(value, int | float) else value
    )
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _identifier(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _as_text(value).strip()
    return text or None


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
                f"score kind {kind!r} is not nps or csat; score dropped",
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
                f"{kind} score {raw!r} is not a whole number from {low} to {high}; score dropped",
                False,
            )
        )
        return None, kind
    return score, kind


def normalise_record(
    record: dict[str, Any], source: SourceConfig, *, max_text_chars: int
) -> tuple[CommentRow | None, list[Problem]]:
    """Map and clean one raw record.

    Returns:
        The row (None when the record must be quarantined) and every problem found: fatal
        ones explain the quarantine, the others record repairs made to a row that loads.
    """
    fields = source.fields
    problems: list[Problem] = []

    external_id = _identifier(record.get(fields.external_id))
    if external_id is None:
        problems.append(Problem("missing_id", f"no value in id field {fields.external_id!r}", True))

    raw_date = record.get(fields.created_at)
    created_at = parse_timestamp(raw_date, day_first=source.day_first)
    if created_at is None:
        code = "missing_date" if _as_text(raw_date).strip() == "" else "bad_date"
        problems.append(
            Problem(
                code,
                f"date field {fields.created_at!r} holds {raw_date!r}, which is not a date; "
                "use ISO 8601 such as 2026-09-14T08:31:00Z",
                True,
            )
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
    if not text:
        problems.append(
            Problem("empty_text", "text is empty once markup and whitespace are removed", True)
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
                    f"rating {raw_rating!r} is not a whole number from 1 to 5; rating dropped",
                    False,
                )
            )
            rating = None

    score, score_kind = None, None
    if fields.score:
        kind = record.get(fields.score_kind) if fields.score_kind else source.score_kind
        score, score_kind = _checked_score(record.get(fields.score), _as_text(kind), problems)

    customer_id = _identifier(record.get(fields.customer_id)) if fields.customer_id else None
    product = _identifier(record.get(fields.product)) if fields.product else None
    language = _identifier(record.get(fields.language)) if fields.language else None
    value = _as_float(record.get(fields.customer_value)) if fields.customer_value else None
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
    "html_stripped": "HTML markup removed from the text; its words were kept",
    "invalid_utf8": "bytes that are not UTF-8 were decoded with replacement characters",
    "truncated": "text longer than {limit} characters was truncated (ingest.max_text_chars)",
}
