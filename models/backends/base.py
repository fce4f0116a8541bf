"""The contract every embedding backend keeps, and the registry that names them.

A backend turns a sentence-transformers model folder into something with
``encode(texts, batch_size=..., ...)`` (a ``SentenceTransformer``, or a stand-in that encodes
the same way). :func:`models.load_embedder` picks one by the ``models.backend`` setting and
wraps it; ``auto`` times every backend that :meth:`EmbeddingBackend.runs_on` the device.

To add a backend: write a module in this package with a class keeping
:class:`EmbeddingBackend`, call :func:`register_backend` on an instance there, import the
module in ``models/backends/__init__.py``; ``models.backend`` in the config accepts its name
from then on (config/preflight.py checks it against :data:`BACKENDS` before a run).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from models.paths import ModelSettingError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@dataclass(frozen=True)
class LoadRequest:
    """What a backend is asked to load.

    Attributes:
        path: The model folder (from :func:`models.resolve_model_path`).
        device: A torch device name (from :func:`models.resolve_device`).
        cache_dir: Where a backend may keep exports and traces, once, for later loads.
        label: The model's readable name, the prefix of its cache folders.
    """

    path: str
    device: str
    cache_dir: Path
    label: str


class EmbeddingBackend(Protocol):
    """One way to run the embedding model.

    Attributes:
        name: The ``models.backend`` value, also the suffix of every stored vector's model id.
        requires: Modules that must be importable (checked before anything is loaded).
        install_hint: What to install when one of ``requires`` is missing.
        cpu_batch_size: Texts per forward pass on a CPU when ``models.batch_size`` is not set,
            the size this backend measured fastest at on short texts (``bench/batch_sizes.py``).
    """

    name: str
    requires: tuple[str, ...]
    install_hint: str
    cpu_batch_size: int

    def runs_on(self, device: str) -> bool:
        """Whether ``auto`` should time this backend on ``device`` (``"cpu"``, ``"cuda:N"``)."""
        ...

    def load(self, request: LoadRequest) -> Any:
        """Return the model, ready to ``encode``; raise :class:`ModelSettingError` if it cannot."""
        ...


BACKENDS: dict[str, EmbeddingBackend] = {}
"""Every backend by name, in the order they were registered."""


def register_backend(backend: EmbeddingBackend) -> EmbeddingBackend:
    """Add ``backend`` to :data:`BACKENDS` under its name (replacing one of the same name)."""
    BACKENDS[backend.name] = backend
    return backend


def get_backend(name: str) -> EmbeddingBackend:
    """Return the backend called ``name``, with its requirements checked.

    Raises:
        ModelSettingError: For an unknown name, or a backend whose libraries are missing.
    """
    if name not in BACKENDS:
        raise ModelSettingError(
            f"models.backend must be one of auto, {', '.join(BACKENDS)}; got {name!r}"
        )
    backend = BACKENDS[name]
    missing = missing_requirements(backend)
    if missing:
        raise ModelSettingError(
            f"models.backend is {name!r}, which needs {' and '.join(missing)}: "
            f"{backend.install_hint}; or set `models.backend` to 'auto', 'torch' or 'torch-bf16'."
        )
    return backend


def missing_requirements(backend: EmbeddingBackend) -> list[str]:
    """Return the modules of ``backend.requires`` that cannot be imported."""
    missing = []
    for module in backend.requires:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules
            found = False
        if not found:
            missing.append(module)
    return missing


def load_sentence_transformer(path: str, device: str) -> SentenceTransformer:
    """Load the sentence-transformers model in ``path`` onto ``device``, offline.

    Raises:
        ModelSettingError: When the folder does not hold a loadable model.
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # transformers draws a "Loading weights" bar for a load that takes a fraction of a second:
    # six of them in every night's log and in the output of `hasslemap run`.
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    except OSError as exc:
        raise ModelSettingError(
            f"could not load the embedding model from {path} (setting `models.embedding`): "
            f"{exc}. Point `models.embedding` at a complete sentence-transformers model folder."
        ) from exc


class TorchBackendBase:
    """What the PyTorch backends share: they need torch and run on any device torch sees."""

    requires: tuple[str, ...] = ("torch",)
    install_hint = "pip install torch"
    # bf16 on an AMX Xeon, real tweet units: 1,205 texts/s at 32, 1,581 at 64, 1,727 at 128
    cpu_batch_size = 128

    def runs_on(self, device: str) -> bool:
        """Any device torch sees."""
        return True
