"""The reductions HDBSCAN may run on first: vectors, dimensions and seed in, reduced rows out."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import warnings
from collections.abc import Callable

import numpy as np

from nlp.cluster import normalise_rows


def reduce_with_pca(vectors: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """The ``pca`` reduction: ``dims`` principal components, rows normalised again."""
    from sklearn.decomposition import PCA

    reduced = PCA(n_components=dims, random_state=seed).fit_transform(vectors)
    return normalise_rows(reduced.astype(np.float32))


def reduce_with_umap(vectors: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """The ``umap`` reduction: cosine UMAP on 15 neighbours to ``dims`` dimensions."""
    try:
        from umap import UMAP
    except ImportError as exc:  # a broken install (umap-learn is a dependency)
        raise ImportError(
            "cluster.reduction is 'umap' but umap-learn does not import; reinstall "
            "hasslemap (pip install -e .) or set cluster.reduction to 'pca'"
        ) from exc
    load_tbb_for_numba()
    model = UMAP(
        n_neighbors=15, n_components=dims, min_dist=0.0, metric="cosine", random_state=seed
    )
    with warnings.catch_warnings():
        # A seed makes UMAP single-threaded, as reproducible clusters need; it warns of that
        # on every fit, twice a night, which no operator can act on.
        warnings.filterwarnings("ignore", message="n_jobs value .* overridden to 1")
        return np.asarray(model.fit_transform(vectors), dtype=np.float32)


REDUCERS: dict[str, Callable[[np.ndarray, int, int], np.ndarray]] = {
    "pca": reduce_with_pca,
    "umap": reduce_with_umap,
}
"""Each reduction by its ``cluster.reduction`` name (besides ``none``): vectors, dimensions
and seed in, reduced vectors out. :data:`Reduction` must list the same names."""


@functools.cache
def load_tbb_for_numba() -> None:
    """Load TBB so that numba (UMAP's compiler) runs its parallel code on it, not on OpenMP.

    Once numba's OpenMP pool has started, the bfloat16 embedder encodes the same texts a few
    bits differently (cosine 0.99998) for the rest of the process, so a night's clusters
    depended on whether a UMAP fit had run earlier in the process. TBB leaves the embedder
    alone and, unlike numba's own work queue, lets two threads fit UMAP at once.

    numba prefers TBB when it can load it, but pip puts libtbb (the ``tbb`` dependency, on
    x86-64 Linux and Windows) in the environment's lib folder, where numba does not look.
    Loaded here by its path, numba finds it by name. Elsewhere, or with
    ``NUMBA_THREADING_LAYER`` set, numba keeps its own order: TBB, OpenMP, its work queue.
    It helps only before numba's first parallel run in the process.
    """
    from importlib import metadata

    try:
        files = metadata.files("tbb") or []
    except metadata.PackageNotFoundError:
        return
    for file in files:
        if file.name in ("libtbb.so.12", "tbb12.dll"):
            with contextlib.suppress(OSError):  # a broken install: numba uses OpenMP
                ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
            return
