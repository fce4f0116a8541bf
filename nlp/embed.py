"""Sentence embeddings: pure functions and a thin wrapper around an already-loaded model.

Nothing here reads files or databases; models are loaded by :mod:`models` and passed in.
Vectors are cached by ``(model_id, text_hash(text))``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

_MIN_NORM = 1e-12


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit-length float32 vectors.

    Attributes:
        model_id: Stable id of the model and the backend that runs it, e.g.
            ``"all-MiniLM-L6-v2@torch-bf16"``. Stored with every vector, so vectors from
            different models or backends are never mixed.
        dimension: Length of each vector.
    """

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape ``(len(texts), dimension)`` with L2-normalised rows."""
        ...


class SentenceTransformerEmbedder:
    """The default :class:`Embedder`: wraps an already-loaded ``SentenceTransformer``.

    Texts are sorted by length (longest first) and cut into batches of ``batch_size``, so each
    batch pads to similar lengths; the vectors come back in the input order. The length is the
    model's token count when ``count_tokens`` is given, else characters: in customer text
    (emoji, links, handles, numbers) characters predict tokens poorly, and batches sorted by
    characters were 42% padding on real tweets against 8% sorted by tokens.
    ``SentenceTransformer.encode`` sorts its input by length too, but only within one call: this
    class hands it one already-sorted batch per call, so its sort changes nothing, and progress
    can be reported after every batch.

    Attributes:
        model: The wrapped model (anything with ``encode(texts, batch_size=..., ...)``).
        model_id: Stable id of model and backend, stored with every vector.
        dimension: Length of each vector.
        batch_size: Texts per forward pass.
        on_progress: Called with the number of texts just encoded, after every batch.
        count_tokens: Gives the number of tokens the model reads of each text.
    """

    def __init__(
        self,
        model: Any,
        *,
        model_id: str,
        batch_size: int = 64,
        on_progress: Callable[[int], None] | None = None,
        count_tokens: Callable[[list[str]], list[int]] | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.model = model
        self.model_id = model_id
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.count_tokens = count_tokens
        self.dimension = _embedding_dimension(model)

    def __repr__(self) -> str:
        return (
            f"SentenceTransformerEmbedder(model_id={self.model_id!r}, batch_size={self.batch_size})"
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``.

        Args:
            texts: The texts, in any order; duplicates are encoded as often as they appear.

        Returns:
            A float32 array of shape ``(len(texts), dimension)``; row ``i`` is the unit-length
            vector of ``texts[i]`` (float32 even when the model runs in bfloat16).
        """
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        lengths = self.count_tokens(list(texts)) if self.count_tokens else [len(t) for t in texts]
        for batch in length_sorted_batches(lengths, self.batch_size):
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
            if self.on_progress is not None:
                self.on_progress(len(batch))
        return normalise_rows(vectors)

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        output = self.model.encode(
            batch,
            batch_size=len(batch),
            show_progress_bar=False,
            convert_to_tensor=True,
            normalize_embeddings=False,
        )
        vectors = to_float32(output)
        if vectors.shape != (len(batch), self.dimension):
            raise ValueError(
                f"{self.model_id} returned vectors of shape {vectors.shape} for {len(batch)} "
                f"texts; expected ({len(batch)}, {self.dimension})"
            )
        return vectors


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Cut the indices of texts into batches of similar length, longest texts first.

    Args:
        lengths: Each text's length (in tokens, or characters).
        batch_size: Most indices per batch.

    Returns:
        Lists of indices into ``lengths``; together they hold every index exactly once.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__, reverse=True)
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def to_float32(vectors: Any) -> np.ndarray:
    """Convert a model's output (torch tensor in any dtype, array or list) to a float32 array."""
    if hasattr(vectors, "detach"):  # a torch tensor; numpy has no bfloat16, so cast first
        vectors = vectors.detach().float().cpu().numpy()
    return np.asarray(vectors, dtype=np.float32)


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale each row of a float32 matrix to unit L2 length, in place; all-zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.maximum(norms, _MIN_NORM)
    return vectors


def text_hash(text: str) -> str:
    """Return the SHA-1 hex digest of ``text`` encoded as UTF-8: with ``model_id``, the cache key.

    Args:
        text: The exact text that is embedded (after cleaning).

    Returns:
        40 lower-case hex characters.
    """
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _embedding_dimension(model: Any) -> int:
    """Read the output dimension from a sentence-transformers model (v5 or v6 API)."""
    getter = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension", None
    )
    dimension = getter() if getter is not None else None
    if not dimension:
        raise ValueError(f"cannot tell the embedding dimension of {type(model).__name__}")
    return int(dimension)
