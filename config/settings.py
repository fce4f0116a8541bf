"""The one place hasslemap's settings are read and validated.

Settings come from three layers, later ones winning:

1. built-in defaults (they work with no config file at all: the demo sources);
2. a YAML file: ``--config PATH``, else ``$HASSLEMAP_CONFIG``, else ``config/hasslemap.yaml``
   in the working directory when it exists;
3. environment variables ``HASSLEMAP_<KEY>``, with ``__`` between nested keys, e.g.
   ``HASSLEMAP_WAREHOUSE=/data/cx.duckdb`` or ``HASSLEMAP_INGEST__MAX_TEXT_CHARS=8000``.

Every problem is reported as a :class:`ConfigError` naming the file (or variable), the key
and what is expected, before any work is done.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, get_origin

import yaml
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    WrapValidator,
    field_validator,
)

from config.base import ConfigError, ConfigWarning, StrictModel, describe_problem, dotted_key
from config.sources import (
    FilesSourceConfig,
    IngestSettings,
    SourceConfig,
    _as_source_type,
    demo_source_dicts,
)
from config.stages import (
    AlertSettings,
    ClusterSettings,
    DemoSettings,
    EnrichSettings,
    ModelSettings,
    RankSettings,
    ReportSettings,
    ScaleSettings,
    ScheduleSettings,
    SnapshotSettings,
    TaggingSettings,
)

ENV_PREFIX = "HASSLEMAP_"
CONFIG_ENV = "HASSLEMAP_CONFIG"
DEFAULT_CONFIG_FILE = Path("config/hasslemap.yaml")
# HASSLEMAP_* variables that are not settings: no "unknown variable" warning for these.
OTHER_ENV_VARIABLES = frozenset({CONFIG_ENV, "HASSLEMAP_UPDATE_SCREENSHOT"})


@dataclass(frozen=True, eq=False)
class _Origins:
    """Where settings came from: the file, what it said, and the variables that set each key."""

    file: Path | None = None
    file_data: dict[str, Any] = field(default_factory=dict)
    variables: dict[tuple[str, ...], str] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # Pydantic compares private attributes: settings alike are equal wherever they came from.
        return isinstance(other, _Origins)

    __hash__ = object.__hash__


class Settings(StrictModel):
    """All of hasslemap's settings."""

    extensions: tuple[str, ...] = Field(
        default=(),
        description="Modules of your own to import before the settings are checked: the ranking "
        "factors, source types, cluster methods and report columns they register (installed, on "
        "PYTHONPATH, or beside the config file).",
    )
    warehouse: Path = Path("var/hasslemap.duckdb")
    duckdb_memory_limit: str = Field(default="512MB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB)$")
    ingest: IngestSettings = IngestSettings()
    models: ModelSettings = ModelSettings()
    tagging: TaggingSettings = TaggingSettings()
    enrich: EnrichSettings = EnrichSettings()
    cluster: ClusterSettings = ClusterSettings()
    rank: RankSettings = RankSettings()
    report: ReportSettings = ReportSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    snapshot: SnapshotSettings = SnapshotSettings()
    alerts: AlertSettings = AlertSettings()
    scale: ScaleSettings = ScaleSettings()
    demo: DemoSettings = DemoSettings()
    sources: tuple[Annotated[SourceConfig, WrapValidator(_as_source_type)], ...] = Field(
        default_factory=lambda: tuple(FilesSourceConfig(**s) for s in demo_source_dicts())
    )

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, value: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice; names must be unique")
            seen.add(source.name)
        return value

    _origins: _Origins = PrivateAttr(default_factory=lambda: _Origins())

    def origin(self, *loc: str | int) -> str:
        """Where the setting at ``loc`` came from, named as config errors name it.

        The file, the variable (``environment variable HASSLEMAP_WAREHOUSE``) or
        ``built-in defaults``.
        """
        keys = tuple(str(key) for key in loc)
        variable = next(
            (
                var
                for set_keys, var in self._origins.variables.items()
                if keys[: len(set_keys)] == set_keys
            ),
            None,
        )
        if variable:
            return f"environment variable {variable}"
        if self._origins.file is not None and _at(self._origins.file_data, keys) is not None:
            return str(self._origins.file)
        return "built-in defaults"

    @property
    def snapshot_path(self) -> Path:
        """Where the analyst snapshot lives."""
        if self.snapshot.path:
            return self.snapshot.path
        return self.warehouse.with_name(f"{self.warehouse.stem}-analyst.duckdb")

    @property
    def dlt_dir(self) -> Path:
        """Folder for dlt's pipeline working state, kept beside the warehouse file."""
        return self.warehouse.parent / ".dlt"


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read, merge and validate the settings; raise :class:`ConfigError` on any problem.

    Args:
        config_path: YAML file to read. Defaults to ``$HASSLEMAP_CONFIG``, then to
            ``config/hasslemap.yaml`` when it exists, else built-in defaults alone.
        environ: Environment to read overrides from (defaults to ``os.environ``).

    Returns:
        The validated settings.
    """
    environ = os.environ if environ is None else environ
    path = _resolve_config_path(config_path, environ)
    file_data = read_yaml(path) if path else {}
    origins: dict[tuple[str, ...], str] = {}
    data = _apply_env_overrides(file_data, environ, origins, path)
    import_extensions(data, path, origins)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, path, origins, data)) from None
    settings._origins = _Origins(path, file_data, origins)
    return settings


def import_extensions(
    data: Mapping[str, Any], path: Path | None, origins: Mapping[tuple[str, ...], str]
) -> None:
    """Import the modules ``extensions`` names, so what they register is known when checked.

    A module beside the config file is found too. A name that is no text is left to the
    settings' own check; one that cannot be imported is a :class:`ConfigError` naming it.
    """
    names = data.get("extensions")
    if not isinstance(names, list | tuple) or not names:
        return
    if path is not None and str(path.parent.resolve()) not in sys.path:
        sys.path.append(str(path.parent.resolve()))  # after everything installed
    var = origins.get(("extensions",))
    where = f"environment variable {var}" if var else str(path or "built-in defaults")
    problems = []
    for number, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            continue
        try:
            importlib.import_module(name.strip())
        except Exception as exc:  # noqa: BLE001 - any failure of the user's module, by name
            problems.append(
                f"{where}: key 'extensions[{number}]': cannot import {name!r} "
                f"({type(exc).__name__}: {exc}); install it, put its folder on PYTHONPATH, or "
                "place it beside the config file"
            )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def _resolve_config_path(
    config_path: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> Path | None:
    if config_path is not None:
        path = Path(config_path)
        where = "--config"
    elif environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
        where = CONFIG_ENV
    else:
        return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (named by {where}); check the path")
    return path


class _DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key given twice in one mapping is an error, not last-wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *defaults": the base loader merges it, and a key may override it
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in first_line
            except TypeError:
                continue  # an unhashable key: the base loader reports it
            if seen:  # on another line, or twice in one {flow: mapping, flow: ...}
                raise _DuplicateKeyError(
                    problem=f"key {key!r} appears twice (first on line {first_line[key]})",
                    problem_mark=key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, refusing duplicate keys; problems are a :class:`ConfigError`."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _DuplicateKeyError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigError(
            f"{path}: line {line}: {exc.problem}; keep one of them (YAML would silently use the last)"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: not valid YAML ({problem}); fix the syntax") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except ValueError as exc:  # a value YAML cannot build: 2000-02-30, "!!int abc"
        raise ConfigError(f"{path}: a value is not what it looks like ({exc}); fix it") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}"
        )
    return data


def _apply_env_overrides(
    data: dict[str, Any],
    environ: Mapping[str, str],
    origins: dict[tuple[str, ...], str],
    path: Path | None,
) -> dict[str, Any]:
    merged = json.loads(json.dumps(data, default=str))
    inside_lists = []
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        keys = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(keys) or keys[0] not in Settings.model_fields:
            if name not in OTHER_ENV_VARIABLES:
                warnings.warn(_unknown_variable(name, keys), ConfigWarning, stacklevel=3)
            continue
        if list_keys := _list_setting(keys):
            inside_lists.append(_inside_a_list(name, keys, list_keys, path))
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except (yaml.YAMLError, ValueError):  # "2000-13-01" is a timestamp YAML cannot build
            value = raw
        if isinstance(value, str):
            value = raw.strip()  # YAML read " #1 this week" as a comment: a variable has none
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        node[keys[-1]] = value
        origins[keys] = name
    if inside_lists:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(inside_lists))
    return merged


def _list_setting(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """The keys of the list setting that ``keys`` reach inside (``sources`` for ``sources.0.path``).

    None when they reach inside none: a variable may replace a whole list, not set its entries.
    """
    model: Any = Settings
    for depth, key in enumerate(keys[:-1], start=1):
        field = model.model_fields.get(key)
        annotation = field.annotation if field else None
        if get_origin(annotation) in (list, tuple):
            return keys[:depth]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return None


def _inside_a_list(
    name: str, keys: tuple[str, ...], list_keys: tuple[str, ...], path: Path | None
) -> str:
    """The problem with a variable that sets an entry of a list (a source's path): what to do."""
    key = dotted_key(tuple(int(part) if part.isdigit() else part for part in keys))
    if path:
        fix = f"edit the list in {path}, or point --config or {CONFIG_ENV} at another file"
    else:
        fix = (
            "set the list in a config file (a copy of the bundled config/hasslemap.yaml lists every "
            f"key) and name that file with --config or {CONFIG_ENV}"
        )
    whole = ENV_PREFIX + "__".join(list_keys).upper()
    return (
        f"environment variable {name}: key '{key}': '{'.'.join(list_keys)}' is a list, and its "
        f"entries cannot be set from the environment; {fix} (a variable can only replace the "
        f"whole list, written as YAML: {whole}='[...]')"
    )


def _unknown_variable(name: str, keys: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(keys[0], list(Settings.model_fields), n=1, cutoff=0.6)
    if close:
        guess = "__".join((close[0], *keys[1:])).upper()
        hint = f"did you mean {ENV_PREFIX}{guess}?"
    else:
        known = ", ".join(f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields)
        hint = f"settings variables start with one of {known}"
    return f"environment variable {name} is not a hasslemap setting and is ignored; {hint}"


def describe_errors(
    exc: ValidationError,
    path: Path | None,
    origins: dict[tuple[str, ...], str],
    data: Mapping[str, Any] | None = None,
    example: str = "config/hasslemap.yaml",
) -> str:
    """One line per validation problem: the file or variable, the key and what is expected.

    ``example``: the bundled file that lists every key, named for an unknown one.
    """
    lines = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = dotted_key(error["loc"])
        origin = next(
            (var for keys, var in origins.items() if loc[: len(keys)] == keys),
            None,
        )
        # A section's own check ("min_parents above max_parents") sits above the keys set:
        # name the variables that set a key inside it, and the file when it set one too.
        inside = sorted(var for keys, var in origins.items() if keys[: len(loc)] == loc)
        file = str(path) if path else "built-in defaults"
        if origin:
            where = f"environment variable {origin}"
        elif inside:
            from_file = path is not None and any(
                keys not in origins for keys in _leaf_keys(_at(data, loc), loc)
            )
            where = f"{file + ' and ' if from_file else ''}environment variable {', '.join(inside)}"
        else:
            where = file
        source = _source_name(error["loc"], data)
        lines.append(f"{where}: key '{key}': {describe_problem(error, example)}{source}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _at(data: Any, loc: tuple[str, ...]) -> Any:
    """The value at ``loc`` in nested mappings and lists (``("sources", "2", "path")``), or None."""
    for key in loc:
        if isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        elif isinstance(data, Mapping):
            data = data.get(key)
        else:
            return None
    return data


def _leaf_keys(value: Any, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """The key paths of the values under ``prefix`` that are not mappings themselves."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _leaf_keys(child, (*prefix, str(key)))
    elif value is not None:
        yield prefix


def _source_name(loc: tuple[Any, ...], data: Mapping[str, Any] | None) -> str:
    """' (source NAME)' for a key inside a named source: 'sources[2]' alone is hard to find."""
    if len(loc) < 2 or loc[0] != "sources" or not isinstance(loc[1], int) or data is None:
        return ""
    sources = data.get("sources")
    if not isinstance(sources, list) or loc[1] >= len(sources):
        return ""
    name = sources[loc[1]].get("name") if isinstance(sources[loc[1]], dict) else None
    return f" (source {name!r})" if isinstance(name, str) else ""
