"""Source settings: where feedback comes from and how its fields map, one model per source type.

Read and validated with the rest of the settings (:mod:`config.settings`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from config.base import FIXED_OFFSET_ZONES, NOT_A_PLACE, StrictModel
from config.channels import CHANNEL_NAMES, Channel, normalise_defaults

FileFormat = Literal["csv", "jsonl", "parquet"]
ScoreKind = Literal["nps", "csat"]

# CSV delimiters by name: a name survives any YAML quoting, where a typed tab does not.
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class RepliesMapping(StrictModel):
    """Where a ticket keeps its follow-up messages, and which of them are the customer's."""

    field: str = Field(description="List field holding the follow-up messages.")
    body: str = "body"
    role: str = "author_role"
    customer_roles: tuple[str, ...] = ("end-user", "end_user", "customer", "requester")


class FieldMapping(StrictModel):
    """Which source field feeds which column of ``comments``.

    ``text`` lists the fields that make up the comment, joined in order (a review's title and
    body, a ticket's subject and description). Optional fields may be left out.
    """

    external_id: str
    created_at: str
    text: tuple[str, ...] = Field(min_length=1)
    customer_id: str | None = None
    replies: RepliesMapping | None = None
    rating: str | None = None
    score: str | None = None
    score_kind: str | None = None
    product: str | None = None
    language: str | None = None
    customer_value: str | None = None

    def settings_reading(self, name: str) -> list[str]:
        """The mapping's settings that read the source field ``name`` (``fields.rating``)."""
        found = [
            f"fields.{key}"
            for key in type(self).model_fields
            if key not in ("text", "replies") and getattr(self, key) == name
        ]
        found += [f"fields.text[{i}]" for i, text in enumerate(self.text) if text == name]
        if self.replies and self.replies.field == name:
            found.append("fields.replies.field")
        if self.replies and name in (reply_keys := self.reply_keys()):
            found.append(reply_keys[name])
        return found

    def reply_keys(self) -> dict[str, str]:
        """The keys read inside each follow-up message, as ``field[].key`` -> their setting."""
        if self.replies is None:
            return {}
        nested = f"{self.replies.field}[]."
        return {
            nested + self.replies.body: "fields.replies.body",
            nested + self.replies.role: "fields.replies.role",
        }

    def referenced(self) -> list[str]:
        """Return every top-level source field this mapping reads."""
        names = [self.external_id, self.created_at, *self.text]
        optional = (
            self.customer_id,
            self.rating,
            self.score,
            self.score_kind,
            self.product,
            self.language,
            self.customer_value,
        )
        names += [name for name in optional if name]
        if self.replies:
            names.append(self.replies.field)
        return names


class NormaliseSettings(StrictModel):
    """Which rules clean a source's text before it is split and embedded (nlp/normalize.py).

    A key left out takes the channel's default (:data:`CHANNEL_NORMALISE`). The text stored in
    ``comments`` and quoted in the report is never changed: only what is split and embedded.
    """

    handles: bool | None = Field(default=None, description="@handles, wherever they are.")
    urls: bool | None = Field(default=None, description="Links.")
    hashtags: bool | None = Field(
        default=None, description="'#fail' -> 'fail'; a trailing run of tags goes."
    )
    emoji: bool | None = Field(default=None, description="Emoji and emoticons.")
    greetings: bool | None = Field(
        default=None, description="Greetings, thanks-only sentences, sign-offs, mail footers."
    )
    quoted_replies: bool | None = Field(
        default=None, description="The quoted thread under an e-mail or ticket reply."
    )
    boilerplate: bool | None = Field(
        default=None, description="Lines recurring in a large share of the source's comments."
    )


# Per channel, the rules that are off by default (every other rule is on): config/channels.py.
CHANNEL_NORMALISE: dict[str, dict[str, bool]] = {c: normalise_defaults(c) for c in CHANNEL_NAMES}


def channel_normalise_rules(channel: str) -> dict[str, bool]:
    """Every normalisation rule, on or off, for a source of ``channel`` that sets none."""
    return {
        name: CHANNEL_NORMALISE[channel].get(name, True) for name in NormaliseSettings.model_fields
    }


class SourceConfig(StrictModel):
    """What every configured feedback source has, whatever its type: a name, a channel, a mapping.

    A source type (``type``; ``files`` by default) adds its own fields in a subclass registered
    with :func:`register_source_settings` (flows/sources/base.py registers a type's reader and
    settings together); :class:`FilesSourceConfig` is the built-in one.
    """

    type: str = Field(default="files", description="The source type: files, or a registered one.")
    name: str
    channel: Channel
    fields: FieldMapping
    score_kind: ScoreKind | None = Field(
        default=None, description="Fixed score kind when the records carry no score_kind field."
    )
    day_first: bool = Field(default=False, description="Read 03/04/2026 as 3 April.")
    timezone: str | None = Field(
        default=None,
        description=(
            "IANA time zone of the dates written without an offset (a survey tool's account "
            "zone, e.g. America/Denver); none: UTC. Dates with an offset or Z keep theirs."
        ),
    )
    normalise: NormaliseSettings = NormaliseSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # A fixed offset (EST) may be what an export writes; the machine's own zone file and
        # POSIX's reversed-sign Etc/GMT zones are not what a person means.
        if value in NOT_A_PLACE and value not in FIXED_OFFSET_ZONES:
            raise ValueError(f"{value!r} {NOT_A_PLACE[value]}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin' or "
                "'America/Denver', or leave it out for UTC"
            ) from None
        return value

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                "expected lower-case letters, digits and underscores, starting with a letter"
            )
        return value

    @model_validator(mode="after")
    def _scores_are_interpretable(self) -> SourceConfig:
        if self.fields.score and not (self.fields.score_kind or self.score_kind):
            raise ValueError(
                "fields.score is mapped, so set score_kind (nps or csat) on the source "
                "or map fields.score_kind to a field holding it"
            )
        return self

    def normalise_rules(self) -> dict[str, bool]:
        """Every normalisation rule, on or off: the source's own setting, else the channel's."""
        defaults = channel_normalise_rules(self.channel)
        return {
            name: defaults[name] if value is None else value
            for name, value in self.normalise.model_dump().items()
        }

    def fingerprint(self) -> str:
        """Return a short hash of everything that changes how this source's records are read."""
        # Normalisation changes what enrich splits, not what ingest reads (enrich_version); the
        # type is implied by the other fields (and leaving it out kept the files' hashes), and
        # settings added later are left out at their defaults for the same reason.
        unset = {
            key for key, default in _LEFT_OUT_AT.items() if getattr(self, key, default) == default
        }
        exclude = {"normalise", "type"} | unset
        payload = json.dumps(self.model_dump(mode="json", exclude=exclude), sort_keys=True)
        return hashlib.sha1(payload.encode()).hexdigest()[:12]


# Settings added after sources were first fingerprinted, and the value that leaves them out.
_LEFT_OUT_AT: dict[str, Any] = {"timezone": None, "header_rows": 1}


class FilesSourceConfig(SourceConfig):
    """A source of type ``files`` (the default): a glob of files in one format."""

    type: Literal["files"] = "files"
    path: str = Field(description="File path or glob, relative to the working directory.")
    format: FileFormat
    delimiter: str = Field(
        default=",",
        min_length=1,
        description="CSV field separator: one character, a name (comma, semicolon, tab, pipe), "
        "or 'auto' to pick , ; tab or | from the header row.",
    )
    compression: Literal["auto", "none", "gzip"] = Field(
        default="auto", description="auto: gzip when the file starts with gzip's magic bytes."
    )
    header_rows: int = Field(
        default=1,
        ge=1,
        le=20,
        description=(
            "(csv) Rows before the records: the header, then rows a survey tool adds under it "
            "(Qualtrics exports 3, SurveyMonkey 2), skipped while their date reads as no date."
        ),
    )

    @field_validator("format", mode="before")
    @classmethod
    def _no_workbook(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("xlsx", "xls", "excel"):
            raise ValueError(
                f'{value!r} is not read: save the sheet as "CSV UTF-8" and use format: csv '
                "(formats: csv, jsonl, parquet)"
            )
        return value

    @field_validator("path")
    @classmethod
    def _expand_home_in_glob(cls, value: str) -> str:
        return str(Path(value).expanduser()) if value.startswith("~") else value

    @field_validator("delimiter")
    @classmethod
    def _one_character_or_auto(cls, value: str) -> str:
        # A name reads the same in any YAML quoting; '\t' in single quotes (or unquoted) is
        # a backslash and a t, which is what people type for a tab.
        value = DELIMITER_NAMES.get(value.strip().lower(), value) if len(value) > 1 else value
        value = "\t" if value == "\\t" else value
        if len(value) != 1 and value != "auto":
            raise ValueError(
                "expected one character (such as ',' or ';'), a name (comma, semicolon, tab, "
                "pipe) or 'auto'"
            )
        if value in ('"', "\n", "\r"):
            raise ValueError("a quote or line break cannot separate fields")
        return value

    @model_validator(mode="after")
    def _replies_need_nesting(self) -> FilesSourceConfig:
        if self.fields.replies and self.format == "csv":
            raise ValueError("fields.replies needs nested records: use format jsonl or parquet")
        if self.header_rows > 1 and self.format != "csv":
            raise ValueError("header_rows is for csv files: a jsonl or parquet file has none")
        return self


# Source type name -> its settings model. flows/sources/base.py registers each type's reader.
SOURCE_SETTINGS: dict[str, type[SourceConfig]] = {"files": FilesSourceConfig}


def register_source_settings(name: str, model: type[SourceConfig]) -> None:
    """Let sources with ``type: NAME`` be validated by ``model`` (a :class:`SourceConfig`)."""
    if not issubclass(model, SourceConfig):
        raise TypeError(f"the settings of source type {name!r} must subclass SourceConfig")
    SOURCE_SETTINGS[name] = model


def _as_source_type(value: Any, handler: Any) -> SourceConfig:
    """Validate one source with its type's model (``files`` when no type is given)."""
    if not isinstance(value, Mapping):
        return handler(value)
    kind = value.get("type", "files")
    if kind not in SOURCE_SETTINGS:
        known = ", ".join(sorted(SOURCE_SETTINGS))
        raise ValueError(
            f"unknown source type {kind!r}; known types: {known} (one of your own: name its "
            "module under `extensions`)"
        )
    return SOURCE_SETTINGS[kind].model_validate(value)


class IngestSettings(StrictModel):
    """How files are read and cleaned."""

    max_text_chars: int = Field(default=5000, gt=0)
    max_raw_chars: int = Field(default=20_000, gt=0)  # raw record / rejected raw_text kept
    chunk_rows: int = Field(default=20_000, gt=0, le=1_000_000)
    retries: int = Field(default=2, ge=0, le=10)
    retry_delay_seconds: float = Field(default=2.0, ge=0)
    earliest_date: date = Field(
        default=date(2000, 1, 1),
        description="Comments dated before this are quarantined as date_out_of_range.",
    )
    max_future_days: int = Field(
        default=2,
        ge=0,
        le=3650,
        description="Comments dated more than this many days after the run are quarantined.",
    )


def demo_source_dicts(demo_dir: str = "var/demo") -> list[dict[str, Any]]:
    """The demo sources (reviews, tickets, surveys) over ``demo_dir``, as plain settings."""
    return [
        {
            "name": "app_reviews",
            "channel": "review",
            "path": f"{demo_dir}/reviews/*.csv",
            "format": "csv",
            "fields": {
                "external_id": "id",
                "customer_id": "author",
                "created_at": "date",
                "text": ["title", "body"],
                "rating": "rating",
                "product": "product",
            },
        },
        {
            "name": "helpdesk_tickets",
            "channel": "ticket",
            "path": f"{demo_dir}/tickets/*.jsonl",
            "format": "jsonl",
            "fields": {
                "external_id": "id",
                "customer_id": "requester_id",
                "created_at": "created_at",
                "text": ["subject", "description"],
                "replies": {"field": "comments", "body": "body", "role": "author_role"},
                "product": "product",
                "customer_value": "customer_value",
            },
        },
        {
            "name": "surveys",
            "channel": "survey",
            "path": f"{demo_dir}/surveys/*.csv",
            "format": "csv",
            "fields": {
                "external_id": "response_id",
                "customer_id": "respondent",
                "created_at": "submitted_at",
                "text": ["verbatim"],
                "score": "score",
                "score_kind": "survey",
                "product": "product",
            },
        },
    ]
