"""A routine full re-clustering held to the kept hassles: pure functions, no I/O.

The cluster flow re-clusters fully every week (``cluster.full_every_days``) or when enough text
is new (``cluster.incremental_max_new_share``), with the same settings and model: a *routine*
full night. HDBSCAN's density tree shifts with every point, so such a night would otherwise
merge, split and renumber hassles that no new text moved. This module

1. **holds the children** (:func:`anchor_to_kept`): a child found in text the last full
   clustering already saw, close to a child that keeps its id or cut mostly out of one, joins
   that child rather than becoming a new hassle; a child the clustering merged away or
   dissolved takes its members back;
2. **holds the parents** (:func:`keep_parents`): kept children keep their parent, a new child
   joins the closest, as on an incremental night (:func:`nlp.hierarchy.assign_incrementally`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import count

import numpy as np

from nlp.cluster import NOISE, SOFT, UNASSIGNED, Clustering, cluster_centroids, merge_clusters
from nlp.hierarchy import join_parent, parent_centroids
from nlp.track import (
    STATUS_ACTIVE,
    STATUS_NEW,
    OverlapCentroidTracker,
    PreviousHassle,
    TrackResult,
)
from nlp.two_level import current_clusters


@dataclass(frozen=True)
class Anchored:
    """A routine full clustering after :func:`anchor_to_kept`.

    Attributes:
        clustering: The clustering, renumbered by size, centroids recomputed.
        folded: Late finds and split-off pieces that joined a kept child.
        restored: Kept children taken back out of the clusters (or noise) that absorbed them.
        continues: Cluster number -> the previous child's id, for each cluster that keeps one.
    """

    clustering: Clustering
    folded: int
    restored: int
    continues: dict[int, str]


def anchor_to_kept(
    clustering: Clustering,
    vectors: np.ndarray,
    unit_ids: np.ndarray,
    is_new: np.ndarray,
    previous: Sequence[PreviousHassle],
    tracker: OverlapCentroidTracker,
    *,
    min_similarity: float,
    min_new_share: float = 0.5,
    revivable: Sequence[PreviousHassle] = (),
) -> Anchored:
    """Hold a routine full re-clustering to the established children where no news moved them.

    A routine full re-clustering sees last week's text plus a few days, but HDBSCAN's density
    tree shifts with every point. On real support tweets one more week (11% new units) made a
    new hassle of 226 sentences, 201 of which the last full clustering had already seen as
    noise or in other hassles, beside a kept hassle 0.84 alike; on other weeks it merged kept
    hassles of 100-200 sentences into their neighbours ("can't log back" into "password
    reset"). Neither is news, and each would renumber what a product owner follows. So:

    1. **Late finds fold in.** A new child less than ``min_new_share`` new text joins the
       child that keeps an id, is closest and at least ``min_similarity`` alike (centroid
       cosine), as :func:`assign_incrementally` keeps old leftovers out of new children. A
       new child more than half of whose members one kept child held is a piece split off
       it, however unlike its centroid: it rejoins that child. (On the support tweets three
       sentences read differently in 8,000 made the full night cut 86 of "deleted app"'s 390
       sentences and 59 of "songs won't play"'s 471 into two new hassles, cosine under 0.75 to
       their own.) A child mostly of new text, or unlike every kept child and cut out of none,
       stays new.
       A kept child that the late finds would make unlike itself (losing its id) gives back
       those that only resembled it; if it still loses its id, the pieces cut out of it too.
       A child that takes back a recently retired id (``revivable``) is no late find: it
       stays apart, and the id tracking revives that id.
    2. **Absorbed children come back.** A previous child that tonight's clustering would
       retire, with at least ``min_cluster_size`` members still in the window, takes those
       members back from wherever they went: they are the sentences it held last night, and
       only the text around them changed. A cluster left under ``min_cluster_size`` by that is
       noise. Then 1 runs again: what is left of a new cluster may now be mostly another kept
       child's (taking back 21 sentences of one child left a piece 61% another's), and a
       restored child is kept, so a late find may now resemble it. Every unit moved is a soft
       member, with its cosine to its new centroid.

    Args:
        clustering: Tonight's full clustering of ``vectors``.
        vectors: One L2-normalised row per unit.
        unit_ids: The unit id of each row.
        is_new: True for units written since the last full clustering.
        previous: The live children before tonight (members and centroids).
        tracker: The id tracker tonight's ids will come from (decides which children are kept).
        min_similarity: Least centroid cosine between a late find and the kept child it joins
            (a piece cut mostly out of a kept child rejoins it however unlike).
        min_new_share: A child at least this much new text is news and stays as found.
        revivable: Recently retired children (``cluster.revive_days``), as the id tracking
            after this step is given them.

    Returns:
        The anchored clustering and what changed (see :class:`Anchored`).
    """
    present = frozenset(unit_ids.tolist())
    names = count()

    def track(labels: np.ndarray, n: int) -> tuple[dict[int, np.ndarray], TrackResult]:
        current = current_clusters(vectors, labels, n, unit_ids)
        found = tracker.track(
            previous,
            current,
            present_units=present,
            new_id=lambda: f"anchor-{next(names)}",
            revivable=revivable,
        )
        return {c.cluster: c.centroid for c in current}, found

    live = {p.hassle_id for p in previous}

    def kept_ids(found: TrackResult) -> dict[int, str]:
        """Clusters that continue a live child (a revived one is active too, but not kept)."""
        return {
            k: found.hassle_ids[k]
            for k, s in found.status.items()
            if s == STATUS_ACTIVE and found.hassle_ids[k] in live
        }

    held_by = {unit: p.hassle_id for p in previous for unit in p.members}

    def fold_late_finds(labels: np.ndarray, n: int) -> tuple[int, TrackResult]:
        """Fold late finds and pieces cut out of a kept child into it (in place).

        Returns how many stayed folded and the tracking of the labels as they end.
        """
        centroids, found = track(labels, n)
        kept = kept_ids(found)
        cluster_of = {hassle_id: k for k, hassle_id in kept.items()}
        into: dict[int, list[tuple[int, np.ndarray, bool]]] = {}  # kept -> (find, rows, cut)
        for k, s in found.status.items():
            rows = labels == k
            if s != STATUS_NEW or not kept or is_new[rows].mean() >= min_new_share:
                continue
            target = _cut_from(unit_ids[rows], held_by, cluster_of)
            cut = target is not None
            if not cut:
                similarity = {t: centroids[t] @ centroids[k] for t in kept}
                best = max(similarity, key=similarity.__getitem__)
                target = best if similarity[best] >= min_similarity else None
            if target is not None:
                labels[rows] = target
                into.setdefault(target, []).append((k, rows, cut))
        if into:
            _, found = track(labels, n)
        # A kept child that the late finds made unlike itself (it lost its id) gives back
        # those that only resembled it; if that is not enough, the pieces cut out of it too.
        for keep_cut in (True, False):
            undone = [target for target in into if kept[target] in found.retired]
            for target in undone:
                for k, rows, cut in into.pop(target):
                    if keep_cut and cut:
                        into.setdefault(target, []).append((k, rows, cut))
                    else:
                        labels[rows] = k
            if undone:
                _, found = track(labels, n)
        return sum(map(len, into.values())), found

    labels = clustering.labels.copy()
    n = clustering.n_clusters
    smallest = max(clustering.min_cluster_size or 0, 2)
    folded, found = fold_late_finds(labels, n)

    row_of = {unit: i for i, unit in enumerate(unit_ids.tolist())}
    restored = 0
    for hassle in sorted(previous, key=lambda p: p.hassle_id):
        rows = np.array(sorted(row_of[u] for u in hassle.members if u in row_of), dtype=np.int64)
        if hassle.hassle_id not in found.retired or len(rows) < smallest:
            continue
        robbed = set(labels[rows].tolist()) - {NOISE}
        labels[rows] = n
        n += 1
        restored += 1
        # What the absorbing clusters keep must still be a cluster.
        for k in robbed:
            left = labels == k
            if left.sum() < smallest:
                labels[left] = NOISE
    if restored:
        # Rule 1 again, restored children kept. Its folds only add to kept children and undo
        # what costs one its id, so nothing needs restoring after it.
        folded += fold_late_finds(labels, n)[0]

    if not folded and not restored:
        return Anchored(clustering, 0, 0, kept_ids(found))
    moved = labels != clustering.labels
    labels, n = merge_clusters(vectors, labels, n, 1.0)  # renumber by size
    centroids = cluster_centroids(vectors, labels, n)
    # A moved unit joined its new child as the vote does: soft, its cosine to the centroid.
    member = moved & (labels >= 0)
    assigned_by = np.where(member, SOFT, clustering.assigned_by).astype(object)
    assigned_by[labels < 0] = UNASSIGNED
    strength = np.einsum("ij,ij->i", vectors[member], centroids[labels[member]])
    probabilities = clustering.probabilities.copy()
    probabilities[member] = np.clip(strength, 0.0, 1.0)
    probabilities[labels < 0] = 0.0
    anchored = replace(
        clustering,
        labels=labels,
        probabilities=probabilities,
        assigned_by=assigned_by,
        centroids=centroids,
    )
    return Anchored(anchored, folded, restored, kept_ids(track(labels, n)[1]))


def _cut_from(
    members: np.ndarray, held_by: dict[str, str], cluster_of: dict[str, int]
) -> int | None:
    """The kept cluster whose previous child held more than half of ``members``, if any."""
    owners = Counter(held_by.get(unit) for unit in members.tolist())
    owner, held = owners.most_common(1)[0]
    if owner is None or owner not in cluster_of or 2 * held <= len(members):
        return None
    return cluster_of[owner]


def keep_parents(
    vectors: np.ndarray,
    labels: np.ndarray,
    n_children: int,
    previous_parent: Sequence[int | None],
    *,
    parent_similarity: float,
    max_parents: int,
) -> np.ndarray:
    """Parents of a routine full night: kept children keep theirs, a new one joins the closest.

    As on an incremental night (:func:`assign_incrementally`): a new child joins the previous
    parent whose centroid (of tonight's units in its kept children) is at least
    ``parent_similarity`` alike, or becomes a parent of its own, unless that would make more
    than ``max_parents``: then it joins the closest. Regrouping every child
    (:func:`group_children`) would renumber a parent whenever a few of its children moved.

    Args:
        vectors: One L2-normalised row per unit.
        labels: Tonight's child number per unit (``-1``: noise).
        n_children: Tonight's children.
        previous_parent: Per child, the number of the previous parent of the child it
            continues, or None for a new child.
        parent_similarity: Least centroid cosine for a new child to join a parent.
        max_parents: Most parents; a new child past it joins the closest parent.

    Returns:
        The parent number of each child, ``0..n_parents-1``, previous parents first.
    """
    parent_of_child = np.array([-1 if p is None else p for p in previous_parent], dtype=np.int64)
    kept = parent_of_child >= 0
    previous_centroids = parent_centroids(vectors, labels, parent_of_child)
    # A previous parent none of whose children is here tonight (a zero centroid) takes no
    # new child either.
    gone = ~previous_centroids.any(axis=1)
    centroids = cluster_centroids(vectors, labels, n_children)
    next_parent = len(previous_centroids)
    in_use = len(set(parent_of_child[kept].tolist()))
    for k in np.flatnonzero(~kept):
        parent = join_parent(
            np.where(gone, -np.inf, previous_centroids @ centroids[k]),
            parent_similarity=parent_similarity,
            full=in_use >= max_parents,
        )
        if parent < 0:
            parent, next_parent, in_use = next_parent, next_parent + 1, in_use + 1
        parent_of_child[k] = parent
    return np.unique(parent_of_child, return_inverse=True)[1].astype(np.int32)
