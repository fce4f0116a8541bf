"""Two-level hassles and nightly stability: pure functions on vectors, no I/O.

Children are the specific hassles the clusterer finds (:mod:`nlp.cluster`). This module

1. **groups children into parents** (:func:`group_children`): average-linkage agglomerative
   clustering of the children's centroids (cosine distance), cut where parents are at least
   ``parent_similarity`` alike, then held between ``min_parents`` and ``max_parents`` and to
   at least ``children_per_parent`` children a parent on average while the children joined are
   ``parent_min_similarity`` alike (fewer parents when there are few children). A child with
   no close sibling may be its parent's only child.
2. **assigns a night's units incrementally** (:func:`assign_incrementally`): units already in
   a child stay there; every new unit is offered to the children by the kNN vote of
   :func:`nlp.cluster.vote_neighbours` among all the window's units but copies of its own
   sentence, where the unclustered and the other new units vote for no child (a copy of a
   sentence already in a child joins it); units none of them wants are clustered among
   themselves, and a group that is news (:func:`is_emerging`) becomes a new child, under the
   parent its centroid is closest to (or a parent of its own); when no group of the
   leftovers is news, tonight's leftovers are clustered alone, and a coherent group whose
   nearest leftovers are mostly new too is a new child. Established children neither
   merge nor split, and no id moves.
3. **decides when to re-cluster fully** (:func:`needs_full_recluster`).

A kept hassle's label is judged where labels are made (:func:`nlp.label_support.keep_label`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nlp.cluster import (
    NOISE,
    Clustering,
    cluster_centroids,
    coherence,
    distinct_rows,
    normalise_rows,
    top_k_columns,
    vote_neighbours,
)
from nlp.clusterers.hdbscan import ClusterParams, HdbscanClusterer

EMERGING_LIFT = 3.0
"""How many times the leftovers' own share of new units a group's share must reach to be news
when it is not mostly new (:func:`is_emerging`)."""


def group_children(
    centroids: np.ndarray,
    *,
    parent_similarity: float = 0.5,
    min_parents: int = 10,
    max_parents: int = 25,
    children_per_parent: float = 2.0,
    parent_min_similarity: float = 0.2,
) -> np.ndarray:
    """Group child centroids into parents; return each child's parent number.

    Average linkage over cosine distances between the centroids centred on their mean, cut at
    ``1 - parent_similarity``. When that gives more parents than ``max_parents`` or than
    ``n_children / children_per_parent``, the tree is cut at the smaller of the two, but for
    ``children_per_parent`` never below ``parent_min_similarity``; when it
    gives fewer than ``min(min_parents, n_children // 2)``, at that many (a handful of children
    need not make ten parents). Parents are numbered by their first child, so the result does
    not depend on scipy's numbering.

    The cut alone rarely joins children: centred, two children of one theme are seldom 0.5
    alike, so on the demo's 22 children it made 21 parents, each holding the hassle again
    under its own name. ``children_per_parent`` keeps the upper level a grouping; its floor
    keeps a hassle unlike every other one a parent of its own rather than the tail of a
    grab-bag (on the demo, joins below 0.2 put "hidden fees" under "three plugs").

    Args:
        centroids: One L2-normalised row per child.
        parent_similarity: Least average similarity of two children under one parent.
        min_parents: Fewest parents wanted when there are enough children.
        max_parents: Most parents wanted.
        children_per_parent: Fewest children a parent holds on average; 1 lets every child
            be a parent of its own.
        parent_min_similarity: Least average similarity of children joined to meet
            ``children_per_parent``.

    Returns:
        The parent number of each child, ``0..n_parents-1``.
    """
    n = len(centroids)
    if n <= 1:
        return np.zeros(n, dtype=np.int32)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    # Centred on the mean child: what every child shares (a brand's @handle starting every
    # tweet) would otherwise pull unrelated children under one parent.
    points = np.asarray(centroids, dtype=np.float64)
    points = points - points.mean(axis=0)
    tree = linkage(pdist(points, metric="cosine"), "average")
    groups = fcluster(tree, t=1.0 - parent_similarity, criterion="distance")
    fewest = max(1, min(min_parents, n // 2))
    alike = len(np.unique(fcluster(tree, t=1.0 - parent_min_similarity, criterion="distance")))
    most = max(fewest, min(max_parents, max(math.floor(n / children_per_parent), alike)))
    count = len(np.unique(groups))
    if count > most or count < fewest:
        groups = fcluster(tree, t=min(max(count, fewest), most), criterion="maxclust")
    _, first = np.unique(groups, return_index=True)
    order = {int(groups[i]): rank for rank, i in enumerate(sorted(first))}
    return np.array([order[int(g)] for g in groups], dtype=np.int32)


@dataclass(frozen=True)
class Incremental:
    """A night's units assigned to the existing children, and the new children found.

    Attributes:
        labels: Child number per row (``-1``: noise). Existing children keep their numbers;
            new children are numbered from ``n_children`` on.
        kept: Rows that stayed in last night's child.
        joined: Rows that joined an existing child by the vote tonight.
        strength: The vote strength of joined rows and of the rows of new children; 0 else.
        n_new: New children found among the units no child wanted.
        new_parents: For each new child, the existing parent it joins, or ``-1`` for a parent
            of its own.
        fitted_on: Leftover units HDBSCAN ran on (0 when there were too few).
    """

    labels: np.ndarray
    kept: np.ndarray
    joined: np.ndarray
    strength: np.ndarray
    n_new: int
    new_parents: np.ndarray
    fitted_on: int = 0


def assign_incrementally(
    vectors: np.ndarray,
    previous: np.ndarray,
    is_new: np.ndarray,
    n_children: int,
    parent_of_child: np.ndarray,
    params: ClusterParams,
    *,
    min_cluster_size: int,
    min_new_share: float = 0.5,
    parent_similarity: float = 0.5,
    max_parents: int | None = None,
    n_jobs: int = 2,
) -> Incremental:
    """Keep last night's children; vote the new units in; find new children in the rest.

    Args:
        vectors: One L2-normalised row per unit in tonight's window.
        previous: The unit's child number last night, ``-1`` when it was noise or is new.
        is_new: True for units written since the last full clustering.
        n_children: Number of existing children (``previous`` is below it).
        parent_of_child: Parent number of each existing child.
        params: The clusterer's parameters (soft vote and HDBSCAN of the leftovers).
        min_cluster_size: Smallest new child: the last full clustering's value.
        min_new_share: A group of leftovers becomes a new child when at least this share
            of it is new, or by :func:`is_emerging`'s second rule: leftovers regrouped from old
            units are not news, and would make a hassle appear and vanish from one night to
            the next.
        parent_similarity: A new child joins the closest existing parent at least this alike
            (centroid cosine); otherwise it is a parent of its own, unless that would make
            more than ``max_parents``.
        max_parents: Most parents (None: no limit); a new child past it joins the closest.
        n_jobs: Worker processes for HDBSCAN.

    Returns:
        The assignment (see :class:`Incremental`).
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    labels = np.where(previous < n_children, previous, NOISE).astype(np.int32)
    kept = labels >= 0
    joined = np.zeros(len(labels), dtype=bool)
    strength = np.zeros(len(labels), dtype=np.float32)
    # Only new units are voted in: an old unit that was noise stays noise until the next full
    # clustering, so a night without new text changes no membership.
    todo = np.flatnonzero(~kept & is_new)
    if len(todo) and kept.any() and params.soft_threshold < 1.0:
        best, votes = _vote_new_units(vectors, labels, todo, n_children, params)
        joins = votes >= params.soft_threshold
        labels[todo[joins]] = best[joins]
        joined[todo[joins]] = True
        strength[todo[joins]] = votes[joins]

    leftovers = np.flatnonzero(labels == NOISE)
    n_new = 0
    new_parents: list[int] = []
    fitted_on = 0
    if len(leftovers) >= 2 * min_cluster_size and is_new[leftovers].any():
        fitted_on = len(leftovers)
        background = float(is_new[leftovers].mean())
        leftover_params = _leftover_params(params, min_cluster_size)
        window_mean = vectors.mean(axis=0)
        found = cluster_leftovers(
            vectors[leftovers], leftover_params, window_mean=window_mean, n_jobs=n_jobs
        )
        groups = []
        for k in range(found.n_clusters):
            members = found.labels == k
            new = is_new[leftovers[members]]
            if is_emerging(
                new,
                background=background,
                min_new_share=min_new_share,
                min_cluster_size=min_cluster_size,
            ):
                # News that gathered old noise round it: the new units are the hassle, and
                # the old stay noise until the next full clustering (they would name it).
                keep = members & is_new[leftovers] if new.mean() < min_new_share else members
                groups.append((leftovers[keep], found.probabilities[keep]))
        fresh = leftovers[is_new[leftovers]]
        if not groups and len(fresh) >= 2 * min_cluster_size:
            # HDBSCAN may fold tonight's group into old noise (21 new promo-code complaints
            # among 75 leftovers, one unit away from a fit that kept them 21 of 43): tonight's
            # leftovers alone, when they hold a group as alike as any hassle must be whose
            # nearest leftovers are mostly new too.
            alone = cluster_leftovers(
                vectors[fresh], leftover_params, window_mean=window_mean, n_jobs=n_jobs
            )
            alike = coherence(
                normalise_rows(vectors[fresh] - window_mean), alone.labels, alone.n_clusters
            )
            for k in range(alone.n_clusters):
                rows = fresh[alone.labels == k]
                if (
                    alike[k] >= params.split_min_coherence
                    and _new_among_neighbours(vectors, rows, leftovers, is_new, min_cluster_size)
                    >= min_new_share
                ):
                    groups.append((rows, alone.probabilities[alone.labels == k]))
        centroids_of_parents = parent_centroids(vectors, labels, parent_of_child)
        in_use = len(set(parent_of_child.tolist()))
        for rows, probabilities in groups:
            labels[rows] = n_children + n_new
            strength[rows] = probabilities
            centroid = cluster_centroids(vectors[rows], np.zeros(len(rows), np.int32), 1)[0]
            parent = join_parent(
                centroids_of_parents @ centroid,
                parent_similarity=parent_similarity,
                full=max_parents is not None and in_use >= max_parents,
            )
            new_parents.append(parent)
            in_use += parent < 0
            n_new += 1
    return Incremental(
        labels=labels,
        kept=kept,
        joined=joined,
        strength=strength,
        n_new=n_new,
        new_parents=np.array(new_parents, dtype=np.int32),
        fitted_on=fitted_on,
    )


def _new_among_neighbours(
    vectors: np.ndarray, rows: np.ndarray, leftovers: np.ndarray, is_new: np.ndarray, k: int
) -> float:
    """The share of new units among the ``k`` nearest leftovers of each of ``rows``.

    Tonight's share of an old topic regrouped is no news: its members' nearest leftovers are
    mostly old (20 new among 60 old units of one topic: about a quarter new).
    """
    scores = vectors[rows] @ vectors[leftovers].T
    scores[leftovers[None, :] == rows[:, None]] = -np.inf  # not its own neighbour
    k = max(1, min(k, len(leftovers) - 1))
    nearest = top_k_columns(scores, k)[1]
    return float(is_new[leftovers[nearest]].mean())


def _leftover_params(params: ClusterParams, min_cluster_size: int) -> ClusterParams:
    """How an incremental night clusters its leftovers: densely, once, nothing merged."""
    return ClusterParams(
        # A few hundred leftovers make a thin neighbour graph, which UMAP folds into two
        # or three lumps (330 demo leftovers: groups of 190 and 125); PCA keeps them apart.
        reduction="pca" if params.reduction == "umap" else params.reduction,
        n_components=None if params.reduction == "umap" else params.n_components,
        min_cluster_size=min_cluster_size,
        min_samples=params.min_samples,
        selection=params.selection,
        soft_neighbours=params.soft_neighbours,
        # No soft assignment among leftovers: it would pull old noise into a new group
        # of new units until the group no longer looked new.
        soft_threshold=1.0,
        # A new hassle is a dense group of tonight's leftovers, not a fringe of them.
        noise_passes=0,
        merge_similarity=1.0,
        split_share=1.0,
        split_min_coherence=params.split_min_coherence,
        seed=params.seed,
    )


def _vote_new_units(
    vectors: np.ndarray,
    labels: np.ndarray,
    todo: np.ndarray,
    n_children: int,
    params: ClusterParams,
) -> tuple[np.ndarray, np.ndarray]:
    """The child each unit of ``todo`` is voted into, and the vote's strength.

    A copy of a sentence already in a child joins that child (strength 1). Every other unit
    of the window is a neighbour, the unclustered and the new included: a new unit among
    other new ones (a hassle emerging) is not pulled into the nearest child. But not a copy of
    its own sentence: five new copies of the top hassle's complaint were each other's nearest
    neighbours, voted for no child, and stayed out of it.

    A uniform sample of the window keeps the densities but thins a small new group below
    soft_neighbours of its own (15 new sentences among 4,045, 200 kept: the child beside them
    voted them in). So the whole window votes unless more than max_reference_points new units
    need a vote, which bounds the cost as the full clustering's vote for its noise is.
    """
    sentence = distinct_rows(vectors)[1]
    in_child = np.full(int(sentence.max()) + 1, NOISE, dtype=np.int32)
    clustered = np.flatnonzero(labels >= 0)
    in_child[sentence[clustered]] = labels[clustered]
    best = in_child[sentence[todo]]
    votes = np.where(best >= 0, 1.0, 0.0).astype(np.float32)
    voting = np.flatnonzero(best < 0)
    if not len(voting):
        return best, votes
    if len(voting) > params.max_reference_points:
        rng = np.random.default_rng(params.seed)
        reference = np.sort(
            rng.choice(len(labels), size=params.max_reference_points, replace=False)
        )
        voters, voter_labels = vectors[reference], labels[reference]
    else:  # the window itself, not a copy of it
        reference = slice(None)
        voters, voter_labels = vectors, labels
    best[voting], votes[voting] = vote_neighbours(
        vectors[todo[voting]],
        voters,
        voter_labels,
        n_children,
        params.soft_neighbours,
        same=(sentence[todo[voting]], sentence[reference]),
    )
    return best, votes


def cluster_leftovers(
    leftovers: np.ndarray, params: ClusterParams, *, window_mean: np.ndarray, n_jobs: int = 2
) -> Clustering:
    """HDBSCAN on an incremental night's leftovers; failing that, their one dense group.

    HDBSCAN reports a group only beside another, so a new hassle that is the one group among
    scattered old noise went unfound (15 promo-code complaints among 222 leftovers, 77 of them
    distinct, in float32). When it finds none, it is fitted again allowing a single cluster,
    which is kept only when its members, centred on ``window_mean``, are as alike as the split
    step asks of any hassle (``params.split_min_coherence``): that group scored 0.61, the
    grab-bag a smaller ``min_cluster_size`` gave 0.09.
    """
    found = HdbscanClusterer(params, n_jobs=n_jobs).cluster(leftovers)
    if found.n_clusters:
        return found
    lone = HdbscanClusterer(params, n_jobs=n_jobs, lone_group=True).cluster(leftovers)
    if lone.n_clusters != 1:
        return found
    alike = coherence(normalise_rows(leftovers - window_mean), lone.labels, 1)[0]
    return lone if alike >= params.split_min_coherence else found


def is_emerging(
    new: np.ndarray, *, background: float, min_new_share: float, min_cluster_size: int
) -> bool:
    """Whether a group of leftovers is a hassle emerging tonight, not old noise regrouped.

    It is when at least ``min_new_share`` of it is new (``new``: one flag per member), or when
    its new members alone are ``min_cluster_size`` and their share is ``EMERGING_LIFT`` times
    ``background`` (the share of new units among all the leftovers): old units that no hassle
    wanted gather round a new complaint, and a rule on the share alone would miss it. In that
    second case only the new members make the new child.
    """
    share = float(new.mean()) if len(new) else 0.0
    return share >= min_new_share or (
        int(new.sum()) >= max(min_cluster_size, 2) and share >= EMERGING_LIFT * background
    )


def parent_centroids(
    vectors: np.ndarray, labels: np.ndarray, parent_of_child: np.ndarray
) -> np.ndarray:
    """The centroid of each parent's units; a zero row for a parent with none tonight.

    ``parent_of_child`` gives each child's parent number, ``-1`` for a child with none yet.
    """
    if not len(parent_of_child) or parent_of_child.max() < 0:
        return np.zeros((0, vectors.shape[1]), dtype=np.float32)
    parents = np.where(labels >= 0, parent_of_child[np.maximum(labels, 0)], NOISE)
    return cluster_centroids(vectors, parents, int(parent_of_child.max()) + 1)


def join_parent(similarity: np.ndarray, *, parent_similarity: float, full: bool) -> int:
    """The parent a new child joins, or ``-1`` for a parent of its own.

    The most alike parent (``similarity``: centroid cosine per parent; ``-inf`` rules one out)
    when it is at least ``parent_similarity`` alike, or whatever its similarity when there are
    already as many parents as allowed (``full``).
    """
    if not np.isfinite(similarity).any():
        return -1
    best = int(np.argmax(similarity))
    return best if full or similarity[best] >= parent_similarity else -1


# Reasons for a full re-clustering that are routine: the same settings and model, more text.
ROUTINE_RECLUSTER = frozenset({"new share", "period"})


def needs_full_recluster(
    *,
    has_previous: bool,
    same_settings: bool,
    new_share: float,
    days_since_full: float,
    max_new_share: float,
    full_every_days: float,
) -> str | None:
    """Why tonight must re-cluster fully, or None when an incremental night will do.

    Args:
        has_previous: A previous clustering exists (with hassles) for the same model.
        same_settings: The cluster settings equal those of the last full clustering.
        new_share: Share of tonight's units written since the last full clustering.
        days_since_full: Days of data between the last full clustering's newest comment and
            tonight's.
        max_new_share: Above this share of new units, re-cluster.
        full_every_days: Re-cluster at least this often (in days of data).

    Returns:
        A short reason (``"first"``, ``"settings"``, ``"new share"``, ``"period"``) or None.
    """
    if not has_previous:
        return "first"
    if not same_settings:
        return "settings"
    if new_share > max_new_share:
        return "new share"
    if days_since_full >= full_every_days:
        return "period"
    return None
