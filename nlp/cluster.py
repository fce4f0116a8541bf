"""What every cluster method shares: the :class:`Clusterer` contract, its registry, helpers.

A cluster method groups L2-normalised vectors (the stored sentence embeddings of pain-point
units) into clusters: the children of the two-level hassles. Each method is one class behind
:class:`Clusterer`, registered by name with its parameter dataclass
(:func:`register_clusterer`) and chosen in the settings: ``cluster: {method: hdbscan, ...}``,
where the other method keys are the fields of that dataclass. The built-in methods live in
``nlp/clusterers/``, one file each (HDBSCAN, the default: :mod:`nlp.clusterers.hdbscan`).

The helpers here are shared by the methods and by the incremental nights
(:mod:`nlp.hierarchy`): centroids, the neighbour vote for noise, merging near-identical
clusters, and the coherence of a cluster.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, is_dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np
from scipy.sparse import csr_matrix

NOISE = -1
CORE, SOFT, UNASSIGNED = "core", "soft", "noise"
_ASSIGN_CHUNK = 4096
_ASSIGN_BLOCK_SCORES = _ASSIGN_CHUNK * 10_000  # scores held at once when voting: 160 MB
_CENTROID_BLOCK = 16_384  # rows summed at a time for the centroids


@dataclass(frozen=True)
class Clustering:
    """What the clusterer found.

    Attributes:
        labels: Cluster number per input row, ``-1`` for noise.
        probabilities: The method's membership strength (1.0 when it has none); the vote
            strength for soft-assigned rows; 0 for noise.
        assigned_by: ``core`` (found by the method), ``soft`` (joined by its neighbours' vote)
            or ``noise``.
        centroids: One L2-normalised centroid per cluster, in the input space.
        min_cluster_size: The smallest cluster the method allowed (after scaling), when it
            has such a parameter.
        fitted_on: Rows the method was fitted on (all of them, or a sample).
        timings: Seconds per step.
    """

    labels: np.ndarray
    probabilities: np.ndarray
    assigned_by: np.ndarray
    centroids: np.ndarray
    min_cluster_size: int | None = None
    fitted_on: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.centroids.shape[0])

    @property
    def coverage(self) -> float:
        """Share of rows in a cluster (not noise)."""
        return float((self.labels != NOISE).mean()) if len(self.labels) else 0.0


@runtime_checkable
class Clusterer(Protocol):
    """Anything that groups L2-normalised vectors."""

    def cluster(self, vectors: np.ndarray, tags: Sequence[str | None] | None = None) -> Clustering:
        """Return a cluster number (or -1) for every row of ``vectors``.

        ``tags`` optionally gives each row a category (its stage and theme) that clusters may
        use as a hint.
        """
        ...


@dataclass(frozen=True)
class ClustererSpec:
    """One registered cluster method.

    Attributes:
        name: What ``cluster.method`` names it by.
        params: Its parameter dataclass: the keys of the ``cluster`` settings beside the
            stage's own are its fields, and it is built with an instance of it.
        build: Makes the clusterer from its parameters.
        incremental: True when nights between full clusterings may build on its clustering
            (:func:`nlp.hierarchy.assign_incrementally`, which needs HDBSCAN's
            :class:`~nlp.clusterers.hdbscan.ClusterParams`); otherwise every night that sees
            new units clusters fully.
        sources: True when its ``cluster`` also takes ``sources=``, the name of each row's
            source (the clustering stage passes it then).
    """

    name: str
    params: type
    build: Callable[[Any], Clusterer]
    incremental: bool = False
    sources: bool = False


_CLUSTERERS: dict[str, ClustererSpec] = {}
BUILT_IN_PACKAGE = "nlp.clusterers"
DEFAULT_METHOD = "hdbscan"

_Build = TypeVar("_Build", bound=Callable[..., Any])


def register_clusterer(
    name: str, params: type, *, incremental: bool = False, sources: bool = False
) -> Callable[[_Build], _Build]:
    """Register a clusterer (a class or a factory taking its ``params``) under ``name``.

    Example::

        @dataclass(frozen=True)
        class KMeansParams:
            k: int = 20

        @register_clusterer("kmeans", KMeansParams)
        class KMeansClusterer:
            def __init__(self, params: KMeansParams) -> None: ...
            def cluster(self, vectors, tags=None) -> Clustering: ...

    and ``cluster: {method: kmeans, k: 30}`` in the settings.
    """
    if not is_dataclass(params):
        raise TypeError(f"the parameters of cluster method {name!r} must be a dataclass")

    def register(build: _Build) -> _Build:
        _CLUSTERERS[name] = ClustererSpec(name, params, build, incremental, sources)
        return build

    return register


def clusterer_spec(name: str) -> ClustererSpec:
    """The registered method ``name``; a built-in one (``nlp/clusterers/NAME.py``) is loaded.

    Raises:
        KeyError: No such method, with the known names.
    """
    if name not in _CLUSTERERS and name in _built_in_modules():
        # Built-in methods register themselves when their module is first imported.
        importlib.import_module(f"{BUILT_IN_PACKAGE}.{name}")
    if name not in _CLUSTERERS:
        known = ", ".join(sorted({*_CLUSTERERS, *built_in_methods()}))
        raise KeyError(f"unknown cluster method {name!r}; known methods: {known}")
    return _CLUSTERERS[name]


def built_in_methods() -> list[str]:
    """The cluster methods shipped in ``nlp/clusterers/``: the modules there that register one.

    Every module is imported; a helper that registers no method (``reduce.py``) is left out.
    """
    methods = []
    for module in _built_in_modules():
        importlib.import_module(f"{BUILT_IN_PACKAGE}.{module}")
        if module in _CLUSTERERS:
            methods.append(module)
    return methods


def _built_in_modules() -> list[str]:
    """The names of the modules in ``nlp/clusterers/``, methods and helpers alike."""
    package = importlib.import_module(BUILT_IN_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__))


def build_clusterer(name: str, params: Mapping[str, Any] | None = None) -> Clusterer:
    """Build method ``name`` with ``params`` (its parameter dataclass's fields; defaults else)."""
    spec = clusterer_spec(name)
    return spec.build(spec.params(**(params or {})))


def run_clusterer(
    name: str,
    params: Mapping[str, Any] | None,
    vectors: np.ndarray,
    tags: Sequence[str | None] | None = None,
    sources: Sequence[str] | None = None,
) -> Clustering:
    """Build method ``name`` and cluster ``vectors``; ``sources`` go to a method that takes them."""
    clusterer = build_clusterer(name, params)
    if clusterer_spec(name).sources and sources is not None:
        return clusterer.cluster(vectors, tags, sources=sources)
    return clusterer.cluster(vectors, tags)


def clustering_from_labels(
    vectors: np.ndarray, labels: np.ndarray, probabilities: np.ndarray | None = None
) -> Clustering:
    """A :class:`Clustering` from one cluster number (or -1) per row, numbered by size.

    For a method that only assigns labels: every labelled row counts as ``core``, with
    ``probabilities`` (1.0 when not given) as its strength.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int32)
    n_found = int(labels.max()) + 1 if len(labels) else 0
    labels, n_clusters = merge_clusters(vectors, labels, n_found, 1.0)
    strength = np.ones(len(labels), np.float32) if probabilities is None else probabilities
    return Clustering(
        labels=labels,
        probabilities=np.where(labels >= 0, strength, 0.0).astype(np.float32),
        assigned_by=np.where(labels >= 0, CORE, UNASSIGNED).astype(object),
        centroids=cluster_centroids(vectors, labels, n_clusters),
        fitted_on=len(labels),
    )


def merge_clusters(
    vectors: np.ndarray,
    labels: np.ndarray,
    n_clusters: int,
    similarity: float,
    *,
    tags: Sequence[str | None] | None = None,
    bonus: float = 0.0,
) -> tuple[np.ndarray, int]:
    """Merge clusters whose centroids are at least ``similarity`` alike; renumber by size.

    Average linkage over the centroids' cosine distances. Two clusters whose dominant ``tags``
    agree count as ``bonus`` closer: the same journey stage and theme, told in different words
    or about different products, is one hassle.

    Returns:
        The new label of every row (-1 stays -1) and the number of clusters.
    """
    if n_clusters == 0:
        return labels, 0
    parent = np.arange(n_clusters)
    if n_clusters > 1 and similarity < 1.0:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist

        centroids = cluster_centroids(vectors, labels, n_clusters).astype(np.float64)
        distances = pdist(centroids, metric="cosine")
        if tags is not None and bonus > 0:
            dominant = _dominant_tags(labels, tags, n_clusters)
            i, j = np.triu_indices(n_clusters, k=1)
            same = np.array(
                [
                    dominant[a] is not None and dominant[a] == dominant[b]
                    for a, b in zip(i, j, strict=True)
                ]
            )
            distances = np.clip(distances - bonus * same, 0.0, None)
        tree = linkage(distances, method="average")
        parent = fcluster(tree, t=1.0 - similarity, criterion="distance") - 1
    merged = np.where(labels >= 0, parent[np.maximum(labels, 0)], NOISE)
    # Largest first, ties by first row, so the numbering never depends on HDBSCAN's order.
    groups = np.unique(merged[merged >= 0])
    sizes = [(-int(np.sum(merged == g)), int(np.argmax(merged == g)), g) for g in groups]
    order = {g: rank for rank, (_, _, g) in enumerate(sorted(sizes))}
    renumber = np.full(int(parent.max()) + 1, NOISE, dtype=np.int32)
    for g, rank in order.items():
        renumber[g] = rank
    out = np.where(merged >= 0, renumber[np.maximum(merged, 0)], NOISE).astype(np.int32)
    return out, len(groups)


def coherence(vectors: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """The mean cosine similarity of each cluster's rows to the cluster's centroid."""
    centroids = cluster_centroids(vectors, labels, n_clusters)
    members = labels >= 0
    similarity = np.sum(vectors[members] * centroids[labels[members]], axis=1)
    sums = np.bincount(labels[members], weights=similarity, minlength=n_clusters)
    counts = np.bincount(labels[members], minlength=n_clusters)
    return sums / np.maximum(counts, 1)


def _dominant_tags(
    labels: np.ndarray, tags: Sequence[str | None], n_clusters: int
) -> list[str | None]:
    """The most common known tag of each cluster (ties: the smaller string), or None."""
    counts: list[dict[str, int]] = [{} for _ in range(n_clusters)]
    for label, tag in zip(labels, tags, strict=True):
        if label >= 0 and tag and "unassigned" not in tag:
            counts[label][tag] = counts[label].get(tag, 0) + 1
    return [min(c, key=lambda t: (-c[t], t)) if c else None for c in counts]


def distinct_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows (first-seen order), each row's index among them, each one's first row."""
    keys = np.ascontiguousarray(vectors).view(
        np.dtype((np.void, vectors.dtype.itemsize * vectors.shape[1]))
    )
    _, first, inverse = np.unique(keys.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return vectors[first[order]], rank[inverse.ravel()], first[order]


def cluster_centroids(vectors: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """The L2-normalised mean vector of each cluster's rows (label >= 0)."""
    members = np.flatnonzero(labels >= 0)
    # A sparse cluster-by-row indicator times the rows, a block of rows at a time (float64
    # sums without a float64 copy of every vector): about 15 times faster than np.add.at.
    indicator = csr_matrix(
        (np.ones(len(members)), (labels[members], members)), shape=(n_clusters, len(labels))
    )
    sums = np.zeros((n_clusters, vectors.shape[1]), dtype=np.float64)
    for first in range(0, len(labels), _CENTROID_BLOCK):
        block = slice(first, first + _CENTROID_BLOCK)
        sums += indicator[:, block] @ np.asarray(vectors[block], dtype=np.float64)
    return normalise_rows(sums.astype(np.float32))


def vote_neighbours(
    points: np.ndarray,
    reference: np.ndarray,
    reference_labels: np.ndarray,
    n_clusters: int,
    k: int,
    *,
    same: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Let each point's ``k`` most similar reference rows vote for their clusters.

    A reference row labelled ``NOISE`` is a neighbour that votes for no cluster: a point
    among such rows wins only a weak vote. ``same`` (a sentence id per point, and per
    reference row) keeps a point from being its own neighbour, or that of a copy of its
    sentence, when they are in ``reference`` too.

    Returns:
        The winning cluster of each point, and its vote strength: the summed cosine
        similarity of the neighbours in that cluster, divided by ``k``.
    """
    k = max(1, min(k, len(reference) - (same is not None)))
    # NOISE rows vote into an extra last column, which no point can win.
    voters = np.where(reference_labels >= 0, reference_labels, n_clusters)
    best = np.empty(len(points), dtype=np.int32)
    strength = np.empty(len(points), dtype=np.float32)
    chunk = max(1, min(_ASSIGN_CHUNK, _ASSIGN_BLOCK_SCORES // max(len(reference), 1)))
    for first in range(0, len(points), chunk):
        scores = points[first : first + chunk] @ reference.T
        rows = np.arange(len(scores))[:, None]
        if same is not None:
            own = same[0][first : first + len(scores)]
            scores[own[:, None] == same[1][None, :]] = -np.inf
        similarity, nearest = top_k_columns(scores, k)
        votes = np.zeros((len(scores), n_clusters + 1), dtype=np.float32)
        np.add.at(votes, (rows, voters[nearest]), np.maximum(similarity, 0))
        votes = votes[:, :n_clusters]
        best[first : first + len(scores)] = votes.argmax(axis=1)
        strength[first : first + len(scores)] = votes.max(axis=1) / k
    return best, strength


def top_k_columns(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest scores of each row and their columns.

    torch's top-k (torch is installed for the embeddings) is about 15 times faster than
    ``np.argpartition`` on 4,096 x 10,000 blocks; numpy is the fallback.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        nearest = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        return np.take_along_axis(scores, nearest, axis=1), nearest
    values, indices = torch.topk(torch.from_numpy(np.ascontiguousarray(scores)), k, dim=1)
    return values.numpy(), indices.numpy()


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def all_noise(n: int, dim: int, min_cluster_size: int | None = None) -> Clustering:
    """A clustering of ``n`` rows of ``dim`` dimensions in which every row is noise."""
    return Clustering(
        labels=np.full(n, NOISE, dtype=np.int32),
        probabilities=np.zeros(n, dtype=np.float32),
        assigned_by=np.full(n, UNASSIGNED, dtype=object),
        centroids=np.zeros((0, dim), dtype=np.float32),
        min_cluster_size=min_cluster_size,
        fitted_on=0,
    )
