"""The ``enrich`` flow: sentences, language, severity, embeddings and tags for new comments.

Three tasks, each incremental:

1. ``split_comments``: comments never enriched, edited, or enriched by another pipeline
   version get language, sentence units and severity (spaCy, lingua, VADER).
2. ``embed_texts``: unit and comment texts with no stored vector for the current model are
   embedded once; vectors are keyed by (model id, text hash) so nothing is embedded twice.
3. ``tag_subjects``: units and comments with no tag, or tagged under another taxonomy version
   or model, are tagged with a stage and a theme.

Models load lazily (:class:`flows.enrich_models.Models`): a run with nothing to do loads none.

The two heavy steps hand their partitions to an executor (:mod:`flows.executor`): in this
process, or, with ``scale.dask_address`` set, on that Dask cluster (:func:`enrich_on_dask`,
:class:`flows.scale.DaskExecutor`). Either way the pure functions compute the rows and this
process alone writes them to DuckDB, then tags. See docs/scale-out.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import get_current_settings

from config import Settings, load_settings
from config.taxonomy import Taxonomy, load_enrich_config, read_labelled_examples
from flows import progress
from flows.enrich_models import Models, StoredEmbedder, embedding_model_id, pain_model_settings
from flows.executor import EnrichExecutor, LocalExecutor, partitions
from flows.scale import DaskExecutor, dask_task_runner
from nlp.enrich import enrich_version, unsupported_languages
from nlp.normalize_rules import find_boilerplate
from nlp.severity import source_signal
from nlp.tag import TAGGER_CODE_VERSION, PrototypeTagger, Tag
from nlp.units import PatternHit
from warehouse import enrichment as store
from warehouse.connection import connect_warehouse
from warehouse.core import now

UNSUPPORTED_LANGUAGE = "unsupported_language"
# The tag of a unit or comment in a language the tagger does not support.
UNTAGGED: dict[str, Any] = {
    **{field.name: None for field in fields(Tag)},
    "method": UNSUPPORTED_LANGUAGE,
}
# Texts per embedding call and per commit, locally and per Dask partition alike: in bfloat16 a
# vector depends (by up to ~5e-3) on which texts share its batch, so both paths cut the same
# hash-ordered list of missing texts at the same places and get bit-identical vectors.
EMBED_BATCH = 4096
# A source's boilerplate is learnt from its newest comments, this many.
BOILERPLATE_SAMPLE = 2000
TAG_BATCH = 20_000


def source_boilerplate(
    conn: duckdb.DuckDBPyConnection, settings: Settings
) -> dict[str, frozenset[str]]:
    """Per source with the boilerplate rule on, the lines and sentences its template repeats.

    Learnt from the source's :data:`BOILERPLATE_SAMPLE` newest comments in the warehouse
    (not from the batch at hand), so a night with a handful of new comments strips the same
    template as the first run did.
    """
    names = [s.name for s in settings.sources if s.normalise_rules()["boilerplate"]]
    samples = store.source_samples(conn, names, BOILERPLATE_SAMPLE)
    return {name: find_boilerplate(texts) for name, texts in samples.items()}


@task(name="split_comments", cache_policy=NO_CACHE)
def split_comments(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    executor: EnrichExecutor,
) -> dict[str, Any]:
    """Give new or changed comments their language, sentence units and severity.

    The comments are cut into partitions of ``executor.split_batch``; each partition's rows
    are written (one transaction) as soon as the executor returns them, so a run that stops
    half way keeps the partitions already written.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    pending = store.pending_comments(conn, enrich_version(settings, taxonomy))
    counts: dict[str, Any] = {"comments_enriched": 0, "units_written": 0}
    languages: Counter[str] = Counter()
    if not pending:
        logger.info("split_comments: nothing new to enrich")
        return {**counts, "unsupported_language": 0, "unsupported_languages": {}}
    parts = partitions(pending, executor.split_batch)
    if plan := executor.plan(len(pending), len(parts)):
        logger.info("split_comments: %s", plan)
    where = f" ({executor.place})" if executor.place else ""
    sink = progress.current()
    sink.start("enrich:split", f"enrich: sentences, language, severity{where}", len(pending))
    boilerplate = source_boilerplate(conn, settings)
    for part, (enrichments, units) in executor.split(parts, taxonomy, boilerplate):
        store.replace_units(conn, enrichments, units)
        counts["comments_enriched"] += len(part)
        counts["units_written"] += len(units)
        languages.update(unsupported_languages(enrichments))
        sink.advance("enrich:split", len(part))
        logger.info(
            "split_comments: %d/%d comments enriched", counts["comments_enriched"], len(pending)
        )
    sink.finish("enrich:split")
    counts["unsupported_language"] = languages.total()
    # The commonest first: the summary names them, so "en-GB" read as foreign would show.
    counts["unsupported_languages"] = dict(languages.most_common())
    counts["split_seconds"] = round(time.perf_counter() - started, 2)
    return counts


@task(name="embed_texts", cache_policy=NO_CACHE)
def embed_texts(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    executor: EnrichExecutor,
    model_id: str,
) -> dict[str, Any]:
    """Embed every unit (and, if asked, comment) text with no stored vector for the model.

    The missing texts, in hash order, are cut every :data:`EMBED_BATCH`; each partition's
    vectors are stored as soon as the executor returns them.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    include_comments = settings.enrich.comment_vectors == "embed"
    todo = store.texts_without_vectors(conn, model_id, include_comments=include_comments)
    if not todo:
        logger.info("embed_texts: every text already has a vector")
        return {"texts_embedded": 0}
    where = f", {executor.place}" if executor.place else ""
    sink = progress.current()
    sink.start("enrich:embed", f"enrich: embedding ({model_id}{where})", len(todo))
    done = 0
    for _, (hashes, vectors) in executor.embed(partitions(todo, EMBED_BATCH)):
        store.insert_embeddings(conn, model_id, hashes, vectors)
        done += len(hashes)
        sink.advance("enrich:embed", len(hashes))
        logger.info("embed_texts: %d/%d texts embedded", done, len(todo))
    sink.finish("enrich:embed")
    return {"texts_embedded": done, "embed_seconds": round(time.perf_counter() - started, 2)}


def subject_vectors(
    conn: duckdb.DuckDBPyConnection, model_id: str, subjects: Sequence[store.Subject], mode: str
) -> np.ndarray:
    """Stored vectors for units; for comments, their own or the mean of their sentences'."""
    if mode == "embed":
        return store.load_vectors(conn, model_id, [s.text_hash for s in subjects])
    units = [s for s in subjects if s.kind == "unit"]
    comments = [s for s in subjects if s.kind == "comment"]
    parts = store.unit_hashes_by_comment(conn, [s.subject_id for s in comments])
    needed = sorted(
        {h for s in units for h in [s.text_hash]} | {h for hs in parts.values() for h in hs}
    )
    if not needed:
        return np.zeros((len(subjects), 1), dtype=np.float32)
    stored = dict(zip(needed, store.load_vectors(conn, model_id, needed), strict=True))
    dimension = len(next(iter(stored.values())))
    out = np.zeros((len(subjects), dimension), dtype=np.float32)
    for row, subject in enumerate(subjects):
        if subject.kind == "unit":
            out[row] = stored[subject.text_hash]
        elif parts.get(subject.subject_id):
            mean = np.mean([stored[h] for h in parts[subject.subject_id]], axis=0)
            out[row] = mean / (np.linalg.norm(mean) or 1.0)
    return out


def tag_version(settings: Settings, taxonomy: Taxonomy, pain_model_id: str | None = None) -> str:
    """What tags are made with, recorded with each (``tags.taxonomy_version``).

    The taxonomy's version, the tagger's code version and a hash of the tagging settings (and
    of ``pain_model_id``, the ``models.pain_embedding`` model's, when one is set): a change to
    any of them tags every unit and comment again on the next run.
    """
    tagging = settings.tagging.model_dump(mode="json", exclude={"taxonomy"})
    if pain_model_id is not None:
        tagging["pain_model"] = pain_model_id
    key = hashlib.sha1(json.dumps(tagging, sort_keys=True).encode()).hexdigest()[:8]
    return f"{taxonomy.version_id}+{TAGGER_CODE_VERSION}-{key}"


def build_tagger(
    settings: Settings,
    taxonomy: Taxonomy,
    embedder: StoredEmbedder,
    pain_embedder: StoredEmbedder | None = None,
) -> PrototypeTagger:
    """The default tagger, with the labelled examples from config when there are any.

    ``pain_embedder`` is the ``models.pain_embedding`` model, when one is set: the pain-point
    classifier reads its vectors.
    """
    labelled = []
    if settings.tagging.labelled_examples:
        labelled = read_labelled_examples(settings.tagging.labelled_examples, taxonomy)
    return PrototypeTagger(
        taxonomy,
        embedder,
        min_confidence=settings.tagging.min_confidence,
        pattern_boost=settings.tagging.pattern_boost,
        labelled=labelled,
        pain_threshold=settings.tagging.pain_threshold,
        pain_prior=(settings.tagging.pain_prior_delighted, settings.tagging.pain_prior_furious),
        pain_embedder=pain_embedder,
    )


def tag_rows(
    subjects: list[store.Subject],
    tagger: PrototypeTagger,
    vectors: np.ndarray | None,
    *,
    taxonomy_version: str,
    model_id: str,
    channel_priors: Mapping[str, float] | None = None,
    pain_vectors: np.ndarray | None = None,
) -> list[store.TagRow]:
    """The tags of one batch of subjects: tagged when in a supported language, else marked.

    A subject's pain score is weighed by its writer's rating, or, without one, by its
    channel's prior (``channel_priors``, from ``tagging.channel_pain_prior``; 0.5 if absent).
    ``pain_vectors`` (rows as ``vectors``) are the pain model's, when one is set.
    """
    stamp = now()
    taggable = [s for s in subjects if s.language_supported]
    tagged: list[tuple[store.Subject, dict[str, Any]]] = []
    if taggable:
        hits = [[PatternHit(**hit) for hit in s.pattern_hits] for s in taggable]
        verdicts = [source_signal(s.rating, s.score, s.score_kind) for s in taggable]
        priors = [(channel_priors or {}).get(s.channel, 0.5) for s in taggable]
        tags = tagger.tag(vectors, hits, [s.text for s in taggable], verdicts, priors, pain_vectors)
        tagged = [(s, asdict(tag)) for s, tag in zip(taggable, tags, strict=True)]
    tagged += [(s, UNTAGGED) for s in subjects if not s.language_supported]
    return [
        store.TagRow(
            subject_kind=subject.kind,
            subject_id=subject.subject_id,
            comment_id=subject.comment_id,
            taxonomy_version=taxonomy_version,
            model_id=model_id,
            tagged_at=stamp,
            **tag,
        )
        for subject, tag in tagged
    ]


@task(name="tag_subjects", cache_policy=NO_CACHE)
def tag_subjects(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    embedder: StoredEmbedder,
    pain_embedder: StoredEmbedder | None = None,
) -> dict[str, int]:
    """Tag units and comments that are untagged or tagged under another taxonomy or model.

    With ``pain_embedder`` (``models.pain_embedding``), whose vectors the embed step stored,
    the pain-point classifier reads that model's vectors.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    # Computed once, not per row.
    version = tag_version(settings, taxonomy, pain_embedder.model_id if pain_embedder else None)
    subjects = store.subjects_to_tag(conn, version, embedder.model_id)
    if not subjects:
        logger.info("tag_subjects: every unit and comment is tagged with %s", version)
        return {"tags_written": 0, "examples_embedded": 0, "taxonomy_version": version}
    before = embedder.computed
    pain_before = pain_embedder.computed if pain_embedder else 0
    tagger = build_tagger(settings, taxonomy, embedder, pain_embedder)
    examples_embedded = embedder.computed - before
    if pain_embedder:
        examples_embedded += pain_embedder.computed - pain_before
    sink = progress.current()
    sink.start("enrich:tag", "enrich: tagging", len(subjects))
    written = 0
    for first in range(0, len(subjects), TAG_BATCH):
        chunk = subjects[first : first + TAG_BATCH]
        taggable = [s for s in chunk if s.language_supported]
        vectors = pain_vectors = None
        if taggable:
            mode = settings.enrich.comment_vectors
            vectors = subject_vectors(conn, embedder.model_id, taggable, mode)
            if pain_embedder:
                pain_vectors = subject_vectors(conn, pain_embedder.model_id, taggable, mode)
        rows = tag_rows(
            chunk,
            tagger,
            vectors,
            taxonomy_version=version,
            model_id=embedder.model_id,
            channel_priors=settings.tagging.channel_pain_prior,
            pain_vectors=pain_vectors,
        )
        store.write_tags(conn, rows)
        written += len(rows)
        sink.advance("enrich:tag", len(chunk))
    sink.finish("enrich:tag")
    logger.info("tag_subjects: %d tags written (%s)", written, tagger.method)
    return {
        "tags_written": written,
        "examples_embedded": examples_embedded,
        "tag_seconds": round(time.perf_counter() - started, 2),
        "taxonomy_version": version,
    }


def enrich_with(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    models: Models,
    executor: EnrichExecutor,
) -> dict[str, Any]:
    """Run the three enrich steps with ``executor`` doing the heavy ones; return the counts.

    Locally (:func:`enrich_into`) each step is a task of the flow run. On Dask the split and
    embed steps run inline in the ``enrich-on-dask`` flow (their ``.fn``), so that the
    partition tasks they submit go to that flow's Dask task runner.
    """
    model_id = embedding_model_id(settings)
    inline = executor.place is not None
    split = split_comments.fn if inline else split_comments
    embed = embed_texts.fn if inline else embed_texts
    counts: dict[str, Any] = {}
    counts.update(split(conn, settings, taxonomy, executor))
    counts.update(embed(conn, settings, executor, model_id))
    pain_embedder = None
    if (pain := pain_model_settings(settings)) is not None:
        # The pain model embeds in this process, on any executor: it reads the same texts.
        pain_models = Models(pain)
        pain_id = embedding_model_id(pain)
        pain_counts = embed(conn, settings, LocalExecutor(pain_models), pain_id)
        counts.update({f"pain_{key}": value for key, value in pain_counts.items()})
        counts["pain_model_id"] = pain_id
        pain_embedder = StoredEmbedder(conn, pain_models, pain_id)
    embedder = StoredEmbedder(conn, models, model_id)
    counts.update(tag_subjects(conn, settings, taxonomy, embedder, pain_embedder))
    counts["model_id"] = model_id
    return counts


def enrich_into(
    conn: duckdb.DuckDBPyConnection, settings: Settings, taxonomy: Taxonomy
) -> dict[str, Any]:
    """Run the three enrich tasks in this process; return the stage's counts."""
    models = Models(settings)
    return enrich_with(conn, settings, taxonomy, models, LocalExecutor(models))


@flow(name="enrich-on-dask")
def enrich_on_dask(config_path: str | None = None) -> dict[str, Any]:
    """Enrich with the heavy steps on the Dask cluster at ``scale.dask_address``.

    Run by :func:`enrich` through ``.with_options(task_runner=DaskTaskRunner(address=...))``.
    Workers split and embed partitions and return plain rows; this process alone writes to
    DuckDB, then tags locally (cheap: the vectors are stored by then).

    Args:
        config_path: The settings file, as given to :func:`enrich`.

    Returns:
        The stage's counts, with the same keys as the local path.
    """
    settings = load_settings(config_path)
    taxonomy = load_enrich_config(settings)
    if not get_current_settings().api.url:
        get_run_logger().warning(
            "PREFECT_API_URL is not set: every Dask worker process will start a temporary "
            "Prefect server of its own. Run a Prefect server the workers can reach and set "
            "PREFECT_API_URL (see docs/scale-out.md)."
        )
    conn = connect_warehouse(Path(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    try:
        return enrich_with(conn, settings, taxonomy, Models(settings), DaskExecutor(settings))
    finally:
        conn.close()


@flow(name="enrich")
def enrich(config_path: str | None = None) -> dict[str, Any]:
    """Enrich every comment not yet enriched under the current models and taxonomy.

    With ``scale.dask_address`` set, splitting and embedding run on that Dask cluster
    (:func:`enrich_on_dask`); without it, everything runs in this process.
    """
    settings = load_settings(config_path)
    taxonomy = load_enrich_config(settings)
    if settings.scale.dask_address:
        runner = dask_task_runner(settings)
        return enrich_on_dask.with_options(task_runner=runner)(config_path)
    conn = connect_warehouse(Path(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    try:
        return enrich_into(conn, settings, taxonomy)
    finally:
        conn.close()
