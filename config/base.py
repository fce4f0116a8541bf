"""What every settings module shares: the error types and the strict section base."""

from __future__ import annotations

import unicodedata
import urllib.parse
from collections.abc import Mapping
from pathlib import PurePath
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator


class ConfigError(ValueError):
    """A configuration problem, worded for the person who has to fix it."""


class ConfigWarning(UserWarning):
    """A setting that is probably a mistake but does not stop the run (e.g. a mistyped variable)."""


class StrictModel(BaseModel):
    """A settings section: unknown keys are refused, values are frozen, ``~`` is the home."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        # "~/cx/hasslemap.duckdb" would otherwise be a folder named "~" in the working one.
        return value.expanduser() if isinstance(value, PurePath) else value


def _one_line(value: str) -> str:
    hidden = sorted(
        {
            c
            for c in value
            if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in "\u200c\u200d"
        }
    )  # the joiners emoji and joined scripts need are kept, as flows.terminal keeps them
    if hidden:
        shown = ", ".join(repr(c) for c in hidden)
        raise ValueError(f"holds a line break or control character ({shown}); write it on one line")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
"""Text a setting shows as a heading or a name (a report's title): one line, nothing hidden."""


def _prefect_name(value: str) -> str:
    if not value or "/" in value or "%" in value:
        raise ValueError("expected a name without '/' or '%' (Prefect refuses them in a name)")
    return value


PrefectName = Annotated[str, AfterValidator(_prefect_name)]
"""A name Prefect gives a deployment or runner: not empty, no '/' or '%'."""


FIXED_OFFSET_ZONES = ("EST", "MST", "HST")
"""Zone names of a fixed UTC offset without daylight saving: what an export may write."""

NOT_A_PLACE = {
    "localtime": "is this machine's own zone file, not a zone name (the scheduler may run "
    "elsewhere); use an IANA name like Europe/London",
    "Factory": "is tzdata's placeholder for a zone not set; use an IANA name like Europe/London",
    **dict.fromkeys(
        FIXED_OFFSET_ZONES,
        "is a fixed UTC offset without daylight saving, not the local time of a place; name the "
        "place you mean, e.g. America/New_York",
    ),
    **{  # POSIX's sign: Etc/GMT+2 is two hours behind UTC
        f"Etc/GMT{sign}{hours}": "is a fixed offset whose sign is POSIX's (Etc/GMT+2 is UTC-2), "
        "not a place's local time; name the place you mean, e.g. Europe/Berlin"
        for sign in "+-"
        for hours in range(1, 15)
    },
}
"""Zone names that Prefect and ZoneInfo accept but that do not name the local time of a place."""


def _place_zone(value: str) -> str:
    # Checked with what serve builds, Prefect's own CronSchedule: it accepts less than ZoneInfo.
    from prefect.client.schemas.schedules import CronSchedule

    if value in NOT_A_PLACE:
        raise ValueError(f"{value!r} {NOT_A_PLACE[value]}")
    try:
        CronSchedule(cron="0 2 * * *", timezone=value)
    except ValidationError:
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name like Europe/London"
        ) from None
    return value


PlaceZone = Annotated[str, AfterValidator(_place_zone)]
"""A schedule's time zone: an IANA name of a place's local time, as Prefect reads it."""


def dotted_key(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as the key a person writes: ``sources[0].fields.text``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def describe_problem(error: Mapping[str, Any], example: str = "config/hasslemap.yaml") -> str:
    """What a pydantic error expects, worded for the person fixing the config.

    ``example``: the bundled file that lists every key of the file being read.
    """
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return f"unknown key; remove it or check its spelling against {example}"
    if kind == "missing":
        return "required but missing; add it"
    if kind == "too_short" and isinstance(given, list | tuple):
        least = error.get("ctx", {}).get("min_length", 1)
        return f"needs at least {least} item(s), has {len(given)}; add one"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {given!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if given is not None and not isinstance(given, dict | list):
        if error.get("loc") and error["loc"][-1] in SECRET_KEYS:
            return f"{message} (got {url_up_to_host(str(given))!r}, the rest hidden)"
        return f"{message} (got {given!r})"
    return message


SECRET_KEYS = frozenset({"webhook_url"})
"""Keys whose value carries a secret (a webhook's path): an error shows the value up to its
host only (:func:`url_up_to_host`), as the alerts' delivery errors do."""


def url_up_to_host(value: str) -> str:
    """``value`` as its scheme and host only: ``htps://hooks.slack.com…`` (no user or token)."""
    parts = urllib.parse.urlsplit(value)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is no number
        port = ""
    return f"{parts.scheme}://{parts.hostname}{port}…" if parts.hostname else "…"
