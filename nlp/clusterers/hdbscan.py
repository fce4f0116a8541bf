"""The ``hdbscan`` cluster method (the default): reduction, HDBSCAN, a soft vote for the noise.

The clusterer takes vectors that were computed and stored before (the enrich stage's sentence
embeddings), so a rerun never embeds anything. Its steps:

1. **Distinct vectors.** Identical vectors (the same sentence written twice; the default model
   is uncased, so "Refund still not here" and "refund still not here" too) are clustered once
   and share the result. Copies would otherwise build false density peaks: every stock phrase
   its own micro-cluster, and the hassle behind several phrasings split among them.
2. **Sample.** Above ``max_fit_points`` vectors, HDBSCAN is fitted on a seeded random sample;
   every other vector is assigned afterwards (step 4). This is how one million units fit in
   memory and time: HDBSCAN's cost grows faster than linearly, nearest-centroid assignment
   linearly.
3. **Reduce** (``reduction``): ``umap`` (the default) or ``pca`` to ``n_components``
   dimensions (unset: 5 for UMAP, 32 for PCA: :data:`DEFAULT_COMPONENTS`), or ``none``.
   Density estimates in 384 dimensions are poor. UMAP keeps each point's 15 nearest
   neighbours together, which on every labelled real set gave HDBSCAN more of the
   complaints and purer groups than 32 principal components (docs/benchmarks.md, "UMAP, the
   default"); PCA is faster and keeps the small template groups of synthetic text apart.
4. **HDBSCAN** on the reduced sample. ``min_cluster_size`` scales with the data when not set.
5. **Soft assignment.** HDBSCAN leaves many points as noise (BERTopic's users lose 30-50% of
   their documents this way). Each noise or unsampled point looks up its ``soft_neighbours``
   most similar HDBSCAN members, in the original embedding space, and each neighbour votes for
   its cluster with its cosine similarity. The point joins the winning cluster if the winner's
   votes, divided by ``soft_neighbours``, reach ``soft_threshold``; otherwise it stays noise.
   A vote of near neighbours follows a cluster's shape, where a single centroid does not:
   on banking77 it gives 0.03 more NMI than nearest-centroid at the same coverage
   (docs/benchmarks.md). The share of points in a cluster is reported as the coverage.
   ``noise_passes`` (2 by default) clusters what is still noise again, on its own, with its
   own soft vote: density is relative, so a sparsely told hassle can stand out among the
   leftovers (docs/benchmarks.md, "A second look at the noise"). The passes run only when
   more than ``noise_pass_share`` of the distinct points is still noise after the vote:
   where little is left (at most 8% on the demo and the intent sets) it is the odd sentence
   out, and clustering it on its own only cuts fringe groups off the real ones
   (docs/benchmarks.md, "The noise passes, where a fifth is left").
6. **Merge near-identical clusters.** HDBSCAN splits one hassle told in different words into
   several dense groups. Clusters whose centroids are closer than ``merge_similarity``
   (average linkage over centroid cosine similarity) become one. When the caller passes each
   unit's stage and theme, clusters with the same dominant pair count ``tag_merge_bonus``
   closer: refunds of the Hub and of the Cam are one hassle. (Merging only near-duplicates,
   0.9 with no bonus, and leaving the grouping to the parents was measured and rejected: the
   demo's planted-hassle NMI fell from 0.89 to 0.73, banking77 moved by +0.004, and real
   support tweets got the same 42 children once step 7 split their giant.)
7. **Split incoherent giants.** A cluster holding more than ``split_share`` of the clustered
   units whose members are not alike (mean cosine to their centroid below
   ``split_min_coherence``) is clustered again on its own (reduced as above, fitted on its
   members; HDBSCAN, ``eom`` then ``leaf`` when ``eom`` finds one group), recursively up to
   ``split_max_depth`` times, judging coherence on vectors centred on the mean of everything
   clustered (given each row's source, a large source's rows on its own mean:
   :func:`split_centred`). On real tweets to a support handle one cluster otherwise held 56%
   of all pain points, with offline downloads, ads, payments and crashes inside it, alike only
   in the handle every tweet starts with. Members HDBSCAN leaves out of the parts join the
   part their neighbours vote for.
   Clusters are numbered by size, largest first.

Everything is deterministic for the same input order and seed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Literal

import numpy as np
from annotated_types import Ge, Gt, Le

from nlp.cluster import (
    CORE,
    NOISE,
    SOFT,
    UNASSIGNED,
    Clustering,
    all_noise,
    cluster_centroids,
    coherence,
    distinct_rows,
    merge_clusters,
    normalise_rows,
    register_clusterer,
    vote_neighbours,
)
from nlp.clusterers.reduce import REDUCERS

Reduction = Literal["none", "pca", "umap"]
DEFAULT_COMPONENTS = {"umap": 5, "pca": 32}
"""Dimensions each reduction keeps when ``n_components`` is unset: the measured ones
(docs/benchmarks.md). UMAP keeps neighbourhoods in a few; PCA needs a few dozen for the
variance."""
Selection = Literal["eom", "leaf"]


@dataclass(frozen=True)
class ClusterParams:
    """How HDBSCAN clusters: the keys of the ``cluster`` settings when ``method`` is ``hdbscan``.

    The bounds (``Annotated``) are checked when the settings are read.

    Attributes:
        reduction: ``pca``, ``umap`` or ``none``.
        n_components: Dimensions after reduction; None takes the reduction's own
            (:data:`DEFAULT_COMPONENTS`).
        min_cluster_size: Smallest group HDBSCAN reports; None scales it with the data
            (:func:`auto_min_cluster_size`).
        min_samples: HDBSCAN's density smoothing; None uses a quarter of ``min_cluster_size``.
        selection: HDBSCAN's ``cluster_selection_method``: ``leaf`` gives finer, more
            homogeneous groups than ``eom`` (the default; measured in docs/benchmarks.md).
        soft_neighbours: HDBSCAN members consulted for each noise point.
        soft_threshold: Least vote strength (mean cosine similarity of the neighbours that
            belong to the winning cluster, counting the others as 0) for a noise point to join
            a cluster; 1.0 turns soft assignment off.
        max_reference_points: HDBSCAN members kept as neighbours to vote (a seeded sample
            above this), which bounds the cost of assigning a million points. On an
            incremental night every unit of the window is a neighbour unless more than this
            many new units need a vote.
        merge_similarity: Clusters whose centroids (average linkage) are at least this
            similar are merged; 1.0 turns merging off.
        tag_merge_bonus: How much closer two clusters count when their dominant tags (stage
            and theme) agree; 0 ignores tags.
        max_fit_points: Above this many distinct points HDBSCAN is fitted on a sample of this
            size.
        split_share: A cluster above this share of the clustered units is checked for
            coherence (step 7); 1.0 turns splitting off.
        split_min_coherence: Least mean cosine of a cluster's members to its centroid for a
            cluster above ``split_share`` to stay whole.
        split_max_depth: How many times a part may be split again.
        noise_passes: How many times HDBSCAN runs again on the points left as noise after
            the soft vote (step 5); 0 turns it off.
        noise_pass_share: The noise passes run only when more than this share of the distinct
            points is noise after the soft vote; 0 runs them whenever there is noise enough,
            1 never.
        seed: Seed for the sample and the reduction.
    """

    reduction: Reduction = "umap"
    n_components: Annotated[int, Ge(2), Le(1024)] | None = None
    min_cluster_size: Annotated[int, Ge(2)] | None = None
    min_samples: Annotated[int, Ge(1)] | None = None
    selection: Selection = "eom"
    soft_neighbours: Annotated[int, Ge(1), Le(100)] = 5
    soft_threshold: Annotated[float, Gt(0), Le(1)] = 0.45
    max_reference_points: Annotated[int, Ge(100)] = 10_000
    merge_similarity: Annotated[float, Gt(0), Le(1)] = 0.75
    tag_merge_bonus: Annotated[float, Ge(0), Le(1)] = 0.15
    max_fit_points: Annotated[int, Ge(100)] = 25_000
    split_share: Annotated[float, Gt(0), Le(1)] = 0.05
    split_min_coherence: Annotated[float, Ge(-1), Le(1)] = 0.45
    split_max_depth: Annotated[int, Ge(0), Le(10)] = 3
    noise_passes: Annotated[int, Ge(0), Le(3)] = 2
    noise_pass_share: Annotated[float, Ge(0), Le(1)] = 0.2
    seed: int = 0


def auto_min_cluster_size(n_points: int) -> int:
    """A ``min_cluster_size`` that grows with the square root of the data, at least 10.

    10 for up to 6,400 points, 14 for 13,000 (banking77), 40 for 100,000, 125 for a million:
    a recurring hassle needs more mentions in a bigger window, but not proportionally more,
    or the rarer hassles would vanish into their neighbours.
    """
    return max(10, round(math.sqrt(max(n_points, 0)) / 8))


@register_clusterer("hdbscan", ClusterParams, incremental=True, sources=True)
class HdbscanClusterer:
    """The default :class:`Clusterer`: sample, reduce, HDBSCAN, soft-assign the noise."""

    def __init__(
        self, params: ClusterParams | None = None, *, n_jobs: int = 2, lone_group: bool = False
    ) -> None:
        """Keep the parameters; nothing is fitted until :meth:`cluster`.

        ``lone_group``: one dense group among noise is a cluster (HDBSCAN's
        ``allow_single_cluster``); without it HDBSCAN reports a group only beside another.
        """
        self.params = params or ClusterParams()
        self.n_jobs = n_jobs
        self.lone_group = lone_group

    def cluster(
        self,
        vectors: np.ndarray,
        tags: Sequence[str | None] | None = None,
        *,
        sources: Sequence[str] | None = None,
    ) -> Clustering:
        """Cluster ``vectors`` (rows L2-normalised); see the module docstring for the steps.

        Args:
            vectors: One L2-normalised row per unit.
            tags: Optional category per row (e.g. ``"billing/surprise_cost"``; None or one
                holding ``unassigned`` means unknown). Clusters that share their dominant
                category merge ``tag_merge_bonus`` more readily.
            sources: Optional source name per row, for the split step (7).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            return all_noise(len(vectors), vectors.shape[1] if vectors.ndim == 2 else 0, 0)
        distinct, inverse, first = distinct_rows(vectors)
        distinct_tags = None if tags is None else [tags[i] for i in first]
        distinct_sources = None if sources is None else np.asarray(sources, dtype=object)[first]
        found = self._cluster_distinct(distinct, distinct_tags, distinct_sources)
        return Clustering(
            labels=found.labels[inverse],
            probabilities=found.probabilities[inverse],
            assigned_by=found.assigned_by[inverse],
            centroids=cluster_centroids(vectors, found.labels[inverse], found.n_clusters),
            min_cluster_size=found.min_cluster_size,
            fitted_on=found.fitted_on,
            timings=found.timings,
        )

    def _cluster_distinct(
        self, vectors: np.ndarray, tags: Sequence[str | None] | None, sources: np.ndarray | None
    ) -> Clustering:
        p = self.params
        n = vectors.shape[0]
        mcs = full_mcs = p.min_cluster_size or auto_min_cluster_size(n)
        timings: dict[str, float] = {}
        if n < 2 * mcs or n < 3:
            return all_noise(n, vectors.shape[1] if vectors.ndim == 2 else 0, mcs)

        started = time.perf_counter()
        rng = np.random.default_rng(p.seed)
        if n > p.max_fit_points:
            sample = np.sort(rng.choice(n, size=p.max_fit_points, replace=False))
            mcs = max(5, round(mcs * p.max_fit_points / n))
        else:
            sample = np.arange(n)
        reduced = reduce_vectors(vectors[sample], p)
        timings["reduce"] = time.perf_counter() - started

        started = time.perf_counter()
        sample_labels, sample_probs = _run_hdbscan(reduced, mcs, p, self.n_jobs, self.lone_group)
        timings["hdbscan"] = time.perf_counter() - started

        started = time.perf_counter()
        labels = np.full(n, NOISE, dtype=np.int32)
        probabilities = np.zeros(n, dtype=np.float32)
        assigned_by = np.full(n, UNASSIGNED, dtype=object)
        labels[sample] = sample_labels
        probabilities[sample] = sample_probs
        assigned_by[sample[sample_labels != NOISE]] = CORE
        n_clusters = int(sample_labels.max()) + 1 if len(sample_labels) else 0
        todo = np.flatnonzero(labels == NOISE)
        if n_clusters and len(todo) and p.soft_threshold < 1.0:
            core = np.flatnonzero(labels != NOISE)
            if len(core) > p.max_reference_points:
                core = np.sort(rng.choice(core, size=p.max_reference_points, replace=False))
            best, strength = vote_neighbours(
                vectors[todo], vectors[core], labels[core], n_clusters, p.soft_neighbours
            )
            joins = strength >= p.soft_threshold
            labels[todo[joins]] = best[joins]
            probabilities[todo[joins]] = strength[joins]
            assigned_by[todo[joins]] = SOFT
        # With no cluster found everything is noise, and a pass would refit the same rows.
        many_left = n_clusters > 0 and float(np.mean(labels == NOISE)) > p.noise_pass_share
        for _ in range(p.noise_passes if many_left else 0):
            rest = np.flatnonzero(labels == NOISE)
            if len(rest) < 2 * full_mcs:
                break
            found, found_probs, found_core = _fit_rows(
                vectors[rest],
                full_mcs,  # the leftovers are not sampled: _fit_rows scales it if it samples
                p,
                self.n_jobs,
                selections=(p.selection,),
                min_parts=1,
                vote_threshold=p.soft_threshold,
            )
            if not found_core.any():
                break
            hit = found != NOISE
            labels[rest[hit]] = found[hit] + n_clusters
            probabilities[rest[hit]] = found_probs[hit]
            assigned_by[rest[hit]] = np.where(found_core[hit], CORE, SOFT)
            n_clusters += int(found.max()) + 1
        timings["assign"] = time.perf_counter() - started
        started = time.perf_counter()
        labels, n_clusters = merge_clusters(
            vectors, labels, n_clusters, p.merge_similarity, tags=tags, bonus=p.tag_merge_bonus
        )
        timings["merge"] = time.perf_counter() - started
        started = time.perf_counter()
        labels, n_clusters = split_incoherent(
            vectors, labels, n_clusters, full_mcs, p, self.n_jobs, sources=sources
        )
        noise = labels == NOISE
        probabilities[noise] = 0.0
        assigned_by[noise] = UNASSIGNED
        labels, n_clusters = merge_clusters(vectors, labels, n_clusters, 1.0)  # renumber by size
        centroids = cluster_centroids(vectors, labels, n_clusters)
        timings["split"] = time.perf_counter() - started
        return Clustering(
            labels=labels,
            probabilities=probabilities,
            assigned_by=assigned_by,
            centroids=centroids,
            min_cluster_size=mcs,
            fitted_on=len(sample),
            timings={k: round(v, 3) for k, v in timings.items()},
        )


def reduce_vectors(vectors: np.ndarray, params: ClusterParams) -> np.ndarray:
    """Project ``vectors`` to ``params.n_components`` dimensions (or return them unchanged)."""
    if params.reduction != "none" and params.reduction not in REDUCERS:
        raise ValueError(
            f"unknown reduction {params.reduction!r}; use {', '.join(REDUCERS)} or none"
        )
    wanted = params.n_components or DEFAULT_COMPONENTS.get(params.reduction, vectors.shape[1])
    dims = min(wanted, vectors.shape[1], max(1, vectors.shape[0] - 1))
    if params.reduction == "none" or dims >= vectors.shape[1]:
        return vectors
    return REDUCERS[params.reduction](vectors, dims, params.seed)


def _run_hdbscan(
    points: np.ndarray,
    min_cluster_size: int,
    params: ClusterParams,
    n_jobs: int,
    lone_group: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    import hdbscan

    min_samples = params.min_samples or max(1, math.ceil(min_cluster_size / 4))
    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        cluster_selection_method=params.selection,
        # Prim's on a k-d tree: the same clusters as the default Boruvka here, in about half the
        # time in 32 dimensions (banking77: 4.7 s against 8.0 s).
        algorithm="prims_kdtree",
        core_dist_n_jobs=n_jobs,
        allow_single_cluster=lone_group,
    )
    labels = model.fit_predict(points.astype(np.float64))
    return labels.astype(np.int32), model.probabilities_.astype(np.float32)


def split_incoherent(
    vectors: np.ndarray,
    labels: np.ndarray,
    n_clusters: int,
    min_cluster_size: int,
    params: ClusterParams,
    n_jobs: int = 2,
    *,
    sources: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Cluster again, on their own, the large clusters whose members are not alike.

    A cluster is split when it holds more than ``params.split_share`` of the clustered rows
    and its :func:`coherence`, on rows centred as :func:`split_centred` says (on the mean of
    all clustered rows; given ``sources``, a large source's rows on their source's), is below
    ``params.split_min_coherence``; its parts are checked
    the same way, at most ``params.split_max_depth`` levels down. The first part keeps the
    cluster's number, the others get new ones; HDBSCAN's noise among its rows joins the part
    its neighbours vote for.

    Returns:
        The new label of every row and the number of clusters (not renumbered by size).
    """
    labels = labels.copy()
    clustered = int(np.sum(labels >= 0))
    if params.split_share >= 1.0 or clustered == 0:
        return labels, n_clusters
    # Coherence is judged on vectors centred on the mean of everything clustered: what all the
    # sentences share (a brand's @handle at the start of every tweet) does not make a cluster's
    # members alike. On real support tweets the cluster holding 56% of them had a mean cosine
    # of 0.74 to its centroid, nearly all of it the handle (0.24 centred).
    centred = split_centred(vectors, labels, params, sources)
    todo = [(k, 0) for k in range(n_clusters)]
    while todo:
        k, depth = todo.pop()
        rows = np.flatnonzero(labels == k)
        if (
            depth >= params.split_max_depth
            or len(rows) <= params.split_share * clustered
            or len(rows) < 3 * min_cluster_size
            or coherence(centred[rows], np.zeros(len(rows), dtype=np.int32), 1)[0]
            >= params.split_min_coherence
        ):
            continue
        parts = _split_one(vectors[rows], min_cluster_size, params, n_jobs)
        n_parts = int(parts.max()) + 1
        if n_parts < 2:
            continue
        new_numbers = np.array([k, *range(n_clusters, n_clusters + n_parts - 1)], dtype=np.int32)
        labels[rows] = np.where(parts >= 0, new_numbers[np.maximum(parts, 0)], NOISE)
        n_clusters += n_parts - 1
        todo.extend((int(j), depth + 1) for j in new_numbers)
    return labels, n_clusters


def split_centred(
    vectors: np.ndarray,
    labels: np.ndarray,
    params: ClusterParams,
    sources: np.ndarray | None = None,
) -> np.ndarray:
    """The rows, centred and L2-normalised, on which a cluster's coherence is judged.

    Centred on the mean of every clustered row; given ``sources``, a row of a source holding
    more than ``params.split_share`` of them is centred on its source's mean: what every
    sentence of one source shares (a handle, the style of a preprocessed export) does not make
    a cluster alike either. Beside three other sources, 388 of a hotel source's 406 stop-word-
    stripped complaints (noise, beds, parking, staff) scored 0.46 on all rows, 0.04 on theirs.
    """
    clustered = labels >= 0
    centred = vectors - vectors[clustered].mean(axis=0)
    if sources is not None:
        sources = np.asarray(sources, dtype=object)
        for name in set(sources[clustered].tolist()):
            own = sources == name
            if np.sum(own & clustered) > params.split_share * np.sum(clustered):
                centred[own] = vectors[own] - vectors[own & clustered].mean(axis=0)
    return normalise_rows(centred)


def _split_one(
    vectors: np.ndarray, min_cluster_size: int, params: ClusterParams, n_jobs: int
) -> np.ndarray:
    """The parts of one cluster by HDBSCAN on its own rows (all ``-1`` when it finds one).

    ``eom`` first, then ``leaf`` when ``eom`` finds one group. Every row was a member of the
    cluster, so each goes to the part its neighbours vote for, however weak the vote:
    splitting never loses coverage.
    """
    parts, _, _ = _fit_rows(
        vectors,
        min_cluster_size,
        params,
        n_jobs,
        selections=("eom", "leaf"),
        min_parts=2,
        vote_threshold=0.0,
    )
    return parts


def _fit_rows(
    vectors: np.ndarray,
    min_cluster_size: int,
    params: ClusterParams,
    n_jobs: int,
    *,
    selections: Sequence[Selection],
    min_parts: int,
    vote_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HDBSCAN on these rows alone, reduced afresh; the rows it leaves out join by soft vote.

    Above ``max_fit_points`` rows HDBSCAN runs on a seeded sample, as in the first pass. Each
    selection method is tried in turn until one finds ``min_parts`` groups; when none does,
    every row is noise. A left-out row joins the group its ``soft_neighbours`` vote for when
    the vote reaches ``vote_threshold`` (0: always; 1.0: never).

    Returns:
        Each row's group (``-1``: noise), its probability (HDBSCAN's for its members, the vote
        for the others) and whether HDBSCAN itself placed it.
    """
    n = len(vectors)
    found = np.full(n, NOISE, dtype=np.int32)
    probabilities = np.zeros(n, dtype=np.float32)
    rng = np.random.default_rng(params.seed)
    sample = np.arange(n)
    if n > params.max_fit_points:
        sample = np.sort(rng.choice(n, size=params.max_fit_points, replace=False))
        min_cluster_size = max(5, round(min_cluster_size * params.max_fit_points / n))
    reduced = reduce_vectors(vectors[sample], params)
    for selection in selections:
        fitted, fitted_probs = _run_hdbscan(
            reduced, min_cluster_size, replace(params, selection=selection), n_jobs
        )
        n_parts = int(fitted.max()) + 1 if len(fitted) else 0
        if n_parts >= min_parts:
            break
    else:
        return found, probabilities, np.zeros(n, dtype=bool)
    found[sample] = fitted
    probabilities[sample] = fitted_probs
    core_rows = found != NOISE
    todo = np.flatnonzero(~core_rows)
    core = np.flatnonzero(core_rows)
    if len(core) > params.max_reference_points:
        core = np.sort(rng.choice(core, size=params.max_reference_points, replace=False))
    if len(todo) and vote_threshold < 1.0:
        best, strength = vote_neighbours(
            vectors[todo], vectors[core], found[core], n_parts, params.soft_neighbours
        )
        joins = strength >= vote_threshold
        found[todo[joins]] = best[joins]
        probabilities[todo[joins]] = strength[joins]
    return found, probabilities, core_rows
