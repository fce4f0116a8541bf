"""The models enrich uses, loaded lazily, and the embedder that keeps its vectors in the warehouse.

:class:`Models` loads each model on first use, so a run with nothing to do loads none;
:func:`worker_models` keeps one per model configuration per process (a Dask worker loads its
models once). :class:`StoredEmbedder` embeds only texts with no stored vector.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import duckdb
import numpy as np

import models as model_loading
from config import Settings
from config.taxonomy import Taxonomy
from nlp.embed import text_hash
from nlp.language import DETECTOR_LANGUAGES
from nlp.severity import add_service_lexicon
from nlp.units import build_matcher
from warehouse import enrichment as store


def embedding_model_id(settings: Settings) -> str:
    """The id stored with every vector: model and backend, so vectors are never mixed.

    The id :func:`models.load_embedder` gives the embedder it loads, computed from the settings
    without loading the model; with ``models.backend: auto`` it names the backend auto chose.
    """
    m = settings.models
    backend = model_loading.resolve_backend(
        m.backend, model=m.embedding, device=m.device, cache_dir=m.cache_dir
    )
    return f"{model_loading.model_label(m.embedding, m.embedding)}@{backend}"


def pain_model_settings(settings: Settings) -> Settings | None:
    """The settings whose embedding model is ``models.pain_embedding``; None when it is unset.

    With them, :class:`Models` loads the pain model as its ``embedder`` and
    :func:`embedding_model_id` names it, with the same backend, device and batch settings.
    """
    pain = settings.models.pain_embedding
    if pain is None:
        return None
    return settings.model_copy(
        update={"models": settings.models.model_copy(update={"embedding": pain})}
    )


class Models:
    """The models enrich needs, each loaded on first use only.

    Attributes:
        settings: The settings whose ``models`` section names the models.
        lock: Held by the threads of one Dask worker while they load a shared model.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self._matchers: dict[str, Any] = {}

    @cached_property
    def spacy(self) -> Any:
        """The spaCy pipeline (NER disabled)."""
        return model_loading.load_spacy(self.settings.models.spacy)

    @cached_property
    def embedder(self) -> Any:
        """The sentence-transformers embedder."""
        m = self.settings.models
        return model_loading.load_embedder(
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

    def load_for_split(self, taxonomy: Taxonomy) -> None:
        """Load spaCy, VADER and the taxonomy's matcher now.

        The language detector still loads on first use: most runs never need it.
        """
        self.sentiment  # noqa: B018 - a cached property: reading it loads the model
        self.matcher(taxonomy)


# One Models per model configuration per process: a Dask worker loads each model once, on
# its first partition, and keeps it for the next ones (and the next runs).
_WORKER_MODELS: dict[tuple[str, ...], Models] = {}
_WORKER_LOCK = threading.Lock()


def worker_models(settings: Settings) -> Models:
    """The models of this process for ``settings``' model names, loaded once and kept.

    Used by the partition tasks when they run on a Dask worker. The local path does not
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


def encode_texts(embedder: Any, todo: Sequence[store.TextToEmbed]) -> tuple[list[str], np.ndarray]:
    """Embed texts with no stored vector; return their hashes and one float32 row each."""
    vectors = embedder.encode([t.text for t in todo])
    return [t.text_hash for t in todo], np.ascontiguousarray(vectors, dtype=np.float32)


class StoredEmbedder:
    """An embedder that looks in the warehouse first and stores what it had to compute.

    Attributes:
        model_id: The id of the embedding model, stored with every vector.
        computed: How many texts it has embedded so far.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, models: Models, model_id: str) -> None:
        self.conn = conn
        self.models = models
        self.model_id = model_id
        self.computed = 0

    @property
    def dimension(self) -> int:
        """Length of each vector (loads the model)."""
        return int(self.models.embedder.dimension)

    def ensure(self, texts: Sequence[str]) -> list[str]:
        """Embed and store the texts that have no vector yet; return every text's hash."""
        hashes = [text_hash(t) for t in texts]
        missing = store.hashes_without_vectors(self.conn, self.model_id, hashes)
        if missing:
            todo = {h: t for h, t in zip(hashes, texts, strict=True) if h in missing}
            pairs = [store.TextToEmbed(h, t) for h, t in todo.items()]
            store.insert_embeddings(
                self.conn, self.model_id, *encode_texts(self.models.embedder, pairs)
            )
            self.computed += len(pairs)
        return hashes

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return vectors for ``texts``, embedding only those not stored yet."""
        return store.load_vectors(self.conn, self.model_id, self.ensure(texts))
