"""The NLP models: loading spaCy and the embedding model, and the backends that run it.

Public names: :func:`load_embedder`, :func:`load_spacy`, :func:`resolve_backend` (what
``models.backend`` comes to on this machine), :func:`resolve_model_path`,
:func:`resolve_device`, :func:`model_label` and :class:`ModelSettingError`. The backends and
their registry are in :mod:`models.backends`; ``auto``'s measurement in :mod:`models.auto`.
"""

from models.backends import BACKENDS
from models.loading import (
    DEFAULT_BACKEND,
    DEFAULT_CACHE_DIR,
    choose_for,
    load_embedder,
    load_spacy,
    resolve_backend,
)
from models.paths import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_SPACY_MODEL,
    ModelSettingError,
    model_label,
    resolve_device,
    resolve_model_path,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_SPACY_MODEL",
    "ModelSettingError",
    "choose_for",
    "load_embedder",
    "load_spacy",
    "model_label",
    "resolve_backend",
    "resolve_device",
    "resolve_model_path",
]
