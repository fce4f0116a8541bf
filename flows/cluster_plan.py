"""How tonight's clustering builds on the last: full or incremental, ids, anchoring.

The previous hassles (:class:`Previous`), why tonight re-clusters fully (:func:`plan`), the id
tracker the settings configure, and holding a routine full night to the kept hassles
(:func:`anchor_routine_full`).

Decisions only, for :mod:`flows.cluster` to wire: the data come from ``warehouse.hassles``
readers, the computation from ``nlp.hierarchy`` and ``nlp.track``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from config import Settings
from flows.enrich_models import embedding_model_id
from nlp.anchor import Anchored, anchor_to_kept, keep_parents
from nlp.cluster import Clustering, clusterer_spec
from nlp.hierarchy import ROUTINE_RECLUSTER, needs_full_recluster
from nlp.track import OverlapCentroidTracker, PreviousHassle
from nlp.two_level import new_since
from warehouse import hassles as store

# Stage settings that shape a full clustering besides the method and its parameters: when one
# differs from the last full clustering's, tonight re-clusters fully rather than building on it.
PARENT_KEYS = (
    "parent_similarity",
    "min_parents",
    "max_parents",
    "children_per_parent",
    "parent_min_similarity",
)


def full_clustering_settings(settings: Settings) -> dict[str, Any]:
    """The settings a full clustering depends on: the method, its parameters, the parents'."""
    c = settings.cluster
    return {"method": c.method, **c.params, **{k: getattr(c, k) for k in PARENT_KEYS}}


def settings_key(settings: Settings) -> str:
    """What the window's fingerprint covers of the settings: the model and the cluster stage."""
    return json.dumps(
        {"model": embedding_model_id(settings), "cluster": settings.cluster.model_dump()},
        sort_keys=True,
    )


@dataclass(frozen=True)
class Previous:
    """What tonight builds on: the latest clustering and the hassles of both levels.

    ``children`` and ``parents`` are the live ones; ``revivable_*`` those retired recently
    enough (``cluster.revive_days``) to take their id back.
    """

    latest: store.LatestClustering | None
    children: list[store.StoredHassle]
    parents: list[store.StoredHassle]
    revivable_children: list[store.StoredHassle] = field(default_factory=list)
    revivable_parents: list[store.StoredHassle] = field(default_factory=list)


def anchor_routine_full(
    clustering: Clustering,
    window: store.PainPointWindow,
    vectors: np.ndarray,
    previous: Previous,
    settings: Settings,
    reason: str,
) -> tuple[Clustering, np.ndarray | None, Anchored] | None:
    """On a routine full night, hold the clustering and parents to the kept hassles.

    Returns the held clustering, each child's parent number (None when no child kept its id:
    then the children are grouped afresh) and what changed; None on a night
    that rebuilds (not routine, or ``cluster.anchor_routine_full`` off): then the clustering
    stands as found and its children are grouped afresh. See
    :func:`nlp.anchor.anchor_to_kept` and :func:`nlp.anchor.keep_parents`.
    """
    c = settings.cluster
    latest = previous.latest
    if reason not in ROUTINE_RECLUSTER or not c.anchor_routine_full or latest is None:
        return None
    anchored = anchor_to_kept(
        clustering,
        vectors,
        np.array([u.unit_id for u in window.units], dtype=object),
        new_since(window.units, latest.full_window_end, latest.full_clustered_at),
        [PreviousHassle(h.hassle_id, h.centroid, h.members) for h in previous.children],
        build_tracker(settings),
        min_similarity=c.late_find_similarity,
        revivable=[
            PreviousHassle(h.hassle_id, h.centroid, h.members) for h in previous.revivable_children
        ],
    )
    held = anchored.clustering
    if not anchored.continues:  # no child kept its id: nothing to hold the parents to
        return held, None, anchored
    parent_number = {h.hassle_id: i for i, h in enumerate(previous.parents)}
    parent_of = {h.hassle_id: parent_number.get(h.parent_id) for h in previous.children}
    parent_of_child = keep_parents(
        vectors,
        held.labels,
        held.n_clusters,
        [parent_of.get(anchored.continues.get(k, "")) for k in range(held.n_clusters)],
        parent_similarity=c.parent_similarity,
        max_parents=c.max_parents,
    )
    return held, parent_of_child, anchored


def plan(
    window: store.PainPointWindow, previous: Previous, settings: Settings, model_id: str
) -> str | None:
    """Why tonight must re-cluster fully, or None for an incremental night."""
    latest = previous.latest
    if latest is None or not previous.children or latest.model_id != model_id:
        return "first" if latest is None or not previous.children else "model"
    parents = {h.hassle_id for h in previous.parents}
    if any(h.parent_id not in parents for h in previous.children):
        return "parents"  # hassles from before two levels
    c = settings.cluster
    if not clusterer_spec(c.method).incremental:
        return "method"  # its clusterings cannot be built on: every changed window is full
    before = {"method": "hdbscan", **latest.full_params}  # runs before methods were hdbscan
    same = all(before.get(k) == v for k, v in full_clustering_settings(settings).items())
    return needs_full_recluster(
        has_previous=True,
        same_settings=same,
        new_share=float(
            new_since(window.units, latest.full_window_end, latest.full_clustered_at).mean()
        )
        if window.units
        else 0.0,
        days_since_full=(window.window_end - latest.full_window_end).total_seconds() / 86400,
        max_new_share=c.incremental_max_new_share,
        full_every_days=c.full_every_days,
    )


def build_tracker(settings: Settings) -> OverlapCentroidTracker:
    """The id tracker the cluster settings configure."""
    c = settings.cluster
    return OverlapCentroidTracker(
        match_threshold=c.match_threshold,
        min_centroid_similarity=c.min_centroid_similarity,
        lineage_overlap=c.lineage_overlap,
    )
