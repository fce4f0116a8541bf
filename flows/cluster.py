"""The ``cluster`` flow: recurring pain points become two-level hassles with stable ids.

Children are the specific hassles (ids ``H-0001``, clustered from units; ``hassle_members`` is
their membership); parents group related children (ids ``P-0001``, own counter) so that a
product owner reads 10 to 25 of them, each opening into its children.

Two modes, so that one more day of data neither merges, splits nor renumbers hassles:

* **full** (the first night; when the cluster settings or the model changed; when more than
  ``cluster.incremental_max_new_share`` of the window's units were written since the last full
  clustering; or when that one is ``cluster.full_every_days`` days of data old): the clusterer
  (:mod:`nlp.cluster`) finds the children, :func:`nlp.hierarchy.group_children` the parents,
  and :class:`nlp.track.OverlapCentroidTracker` carries the ids of both levels over, reviving
  an id retired in the last ``cluster.revive_days`` days when its hassle comes back.
* **incremental** (every other night): :func:`nlp.hierarchy.assign_incrementally` keeps every
  unit still in the window in last night's child, votes the other units into the children,
  and makes new children only from leftovers that are mostly new; parents stay as they are.

Tasks:

1. ``read_window``: the pain-point units of the rolling window (``cluster.window_days``, ending
   at the newest comment not dated after the run), with a fingerprint. When it equals the
   latest clustering's, nothing changed and the stage stops: a rerun recomputes nothing.
2. ``cluster_units`` (full) or ``assign_units`` (incremental): stored vectors (never
   re-embedded) into children, and children into parents.
3. ``label_clusters``: label, keyphrases, quotes, dominant stage and theme per child and per
   parent (the same labeller, given each unit's parent).
4. ``track_hassle_ids``: ids of both levels; retired ones; lineage within each level.
5. ``write_hassles``: one transaction for the run's hassles (both levels), members and lineage.

A kept hassle keeps its label until tonight's is clearly better (:func:`nlp.hierarchy.keep_label`);
``hassle_runs`` keeps every night's label.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from config import Settings, load_settings
from flows import progress
from flows.enrich import embedding_model_id, load_enrich_config
from nlp.cluster import (
    CORE,
    NOISE,
    SOFT,
    UNASSIGNED,
    ClusterParams,
    HdbscanClusterer,
    cluster_centroids,
)
from nlp.hierarchy import (
    assign_incrementally,
    group_children,
    keep_label,
    needs_full_recluster,
    words_of,
)
from nlp.label import ClusterLabel, CtfidfLabeller, LabelInput
from nlp.redact import redact_pii, redact_with_words
from nlp.track import (
    STATUS_ACTIVE,
    STATUS_NEW,
    CurrentCluster,
    Lineage,
    OverlapCentroidTracker,
    PreviousHassle,
)
from warehouse import hassles as store
from warehouse.connection import connect_warehouse
from warehouse.enrichment import now


def cluster_params(settings: Settings) -> ClusterParams:
    """The clusterer's parameters from the ``cluster`` settings."""
    c = settings.cluster
    return ClusterParams(
        reduction=c.reduction,
        n_components=c.n_components,
        min_cluster_size=c.min_cluster_size,
        min_samples=c.min_samples,
        selection=c.selection,
        soft_neighbours=c.soft_neighbours,
        soft_threshold=c.soft_threshold,
        merge_similarity=c.merge_similarity,
        tag_merge_bonus=c.tag_merge_bonus,
        split_share=c.split_share,
        split_min_coherence=c.split_min_coherence,
        split_max_depth=c.split_max_depth,
        max_fit_points=c.max_fit_points,
        max_reference_points=c.max_reference_points,
        seed=c.seed,
    )


# Settings that shape a full clustering: when one differs from the last full clustering's,
# tonight re-clusters fully rather than building on it.
FULL_CLUSTERING_KEYS = (
    "reduction",
    "n_components",
    "min_cluster_size",
    "min_samples",
    "selection",
    "soft_neighbours",
    "soft_threshold",
    "merge_similarity",
    "tag_merge_bonus",
    "split_share",
    "split_min_coherence",
    "split_max_depth",
    "parent_similarity",
    "min_parents",
    "max_parents",
    "max_fit_points",
    "max_reference_points",
    "seed",
)


def _settings_key(settings: Settings) -> str:
    return json.dumps(
        {"model": embedding_model_id(settings), "cluster": settings.cluster.model_dump()},
        sort_keys=True,
    )


@task(name="read_window", cache_policy=NO_CACHE)
def read_window(
    conn: duckdb.DuckDBPyConnection, settings: Settings, as_of: datetime
) -> store.PainPointWindow:
    """Read the window's pain-point units, up to ``as_of`` at the latest, and fingerprint them."""
    logger = get_run_logger()
    window = store.read_pain_points(
        conn, settings.cluster.window_days, _settings_key(settings), as_of
    )
    logger.info(
        "read_window: %d pain-point units from %s to %s",
        len(window.units),
        window.window_start,
        window.window_end,
    )
    if window.comments_after_run:
        logger.warning(
            "read_window: %d comment(s) dated after this run (%s) left out of the window; "
            "query `comments` for created_at > '%s' to find and fix them at the source",
            window.comments_after_run,
            as_of,
            as_of,
        )
    return window


@dataclass(frozen=True)
class TwoLevel:
    """Tonight's children and parents, before they get ids.

    Attributes:
        mode: ``full`` or ``incremental``.
        reason: Why the night re-clustered fully (None when incremental).
        labels: Child number per unit, ``-1`` for noise.
        probabilities: HDBSCAN membership or vote strength per unit; 0 for noise.
        assigned_by: ``core``, ``soft`` or ``noise`` per unit.
        n_children: Child numbers used (an incremental night's may include emptied ones).
        parent_of_child: Parent number of each child.
        n_parents: Parent numbers used.
        min_cluster_size: The full clustering's.
        fitted_on: Units HDBSCAN was fitted on tonight.
        timings: Seconds per step.
        known_children: Child number -> id of last night's children (incremental only).
        known_parents: Parent number -> id of last night's parents (incremental only).
    """

    mode: str
    reason: str | None
    labels: np.ndarray
    probabilities: np.ndarray
    assigned_by: np.ndarray
    n_children: int
    parent_of_child: np.ndarray
    n_parents: int
    min_cluster_size: int
    fitted_on: int
    timings: dict[str, float]
    known_children: dict[int, str] = field(default_factory=dict)
    known_parents: dict[int, str] = field(default_factory=dict)

    @property
    def parent_labels(self) -> np.ndarray:
        """Parent number per unit, ``-1`` for noise."""
        if self.n_children == 0:
            return self.labels.copy()
        return np.where(
            self.labels >= 0, self.parent_of_child[np.maximum(self.labels, 0)], NOISE
        ).astype(np.int32)

    @property
    def coverage(self) -> float:
        """Share of units in a child."""
        return float((self.labels != NOISE).mean()) if len(self.labels) else 0.0


@dataclass(frozen=True)
class Previous:
    """What tonight builds on: the latest clustering and the live hassles of both levels."""

    latest: store.LatestClustering | None
    children: list[store.StoredHassle]
    parents: list[store.StoredHassle]


def _group(centroids: np.ndarray, settings: Settings) -> np.ndarray:
    c = settings.cluster
    return group_children(
        centroids,
        parent_similarity=c.parent_similarity,
        min_parents=c.min_parents,
        max_parents=c.max_parents,
    )


@task(name="cluster_units", cache_policy=NO_CACHE)
def cluster_units(
    vectors: np.ndarray, tags: list[str | None], settings: Settings, reason: str
) -> TwoLevel:
    """Full clustering: children by HDBSCAN (and the soft vote), parents by their centroids."""
    logger = get_run_logger()
    sink = progress.current()
    sink.start("cluster:fit", f"cluster: HDBSCAN on {len(vectors):,} units", 1)
    clustering = HdbscanClusterer(cluster_params(settings)).cluster(vectors, tags)
    started = time.perf_counter()
    parent_of_child = _group(clustering.centroids, settings)
    sink.advance("cluster:fit", 1)
    sink.finish("cluster:fit")
    found = TwoLevel(
        mode="full",
        reason=reason,
        labels=clustering.labels,
        probabilities=clustering.probabilities,
        assigned_by=clustering.assigned_by,
        n_children=clustering.n_clusters,
        parent_of_child=parent_of_child,
        n_parents=int(parent_of_child.max()) + 1 if len(parent_of_child) else 0,
        min_cluster_size=clustering.min_cluster_size,
        fitted_on=clustering.fitted_on,
        timings={**clustering.timings, "parents": round(time.perf_counter() - started, 3)},
    )
    logger.info(
        "cluster_units: full (%s): %d children in %d parents, coverage %.1f%% "
        "(%.1f%% HDBSCAN members), min_cluster_size %d, fitted on %d units, %s",
        reason,
        found.n_children,
        found.n_parents,
        100 * clustering.coverage,
        100 * float(np.mean(clustering.assigned_by == CORE)) if len(vectors) else 0.0,
        clustering.min_cluster_size,
        clustering.fitted_on,
        found.timings,
    )
    return found


@task(name="assign_units", cache_policy=NO_CACHE)
def assign_units(
    window: store.PainPointWindow, vectors: np.ndarray, previous: Previous, settings: Settings
) -> TwoLevel:
    """Incremental night: keep last night's members, vote the rest in, new children if any."""
    started = time.perf_counter()
    latest = previous.latest
    assert latest is not None  # an incremental night always has one
    child_number = {h.hassle_id: i for i, h in enumerate(previous.children)}
    parent_number = {h.hassle_id: i for i, h in enumerate(previous.parents)}
    parent_of_child = np.array(
        [parent_number[h.parent_id] for h in previous.children], dtype=np.int32
    )
    before = [latest.members.get(u.unit_id) for u in window.units]
    last = np.array(
        [NOISE if b is None else child_number.get(b[0], NOISE) for b in before], dtype=np.int32
    )
    is_new = _new_since(window, latest)
    c = settings.cluster
    found = assign_incrementally(
        vectors,
        last,
        is_new,
        len(previous.children),
        parent_of_child,
        cluster_params(settings),
        min_cluster_size=latest.min_cluster_size,
        parent_similarity=c.parent_similarity,
    )
    n_parents = len(previous.parents)
    new_parents = []
    for p in found.new_parents.tolist():
        new_parents.append(p if p >= 0 else n_parents)
        n_parents += p < 0
    # Kept units keep how they were assigned and their strength; the others were voted in.
    assigned_by = np.full(len(before), UNASSIGNED, dtype=object)
    probabilities = found.strength.astype(np.float32)
    for i in np.flatnonzero(found.kept):
        _, assigned_by[i], probabilities[i] = before[i]
    assigned_by[(found.labels >= 0) & ~found.kept] = SOFT
    result = TwoLevel(
        mode="incremental",
        reason=None,
        labels=found.labels,
        probabilities=probabilities,
        assigned_by=assigned_by,
        n_children=len(previous.children) + found.n_new,
        parent_of_child=np.concatenate([parent_of_child, np.array(new_parents, dtype=np.int32)]),
        n_parents=n_parents,
        min_cluster_size=latest.min_cluster_size,
        fitted_on=found.fitted_on,
        timings={"assign": round(time.perf_counter() - started, 3)},
        known_children={i: h.hassle_id for i, h in enumerate(previous.children)},
        known_parents={i: h.hassle_id for i, h in enumerate(previous.parents)},
    )
    get_run_logger().info(
        "assign_units: incremental: %d units kept their hassle, %d joined one, %d new "
        "children, coverage %.1f%%, %s",
        int(found.kept.sum()),
        int(found.joined.sum()),
        found.n_new,
        100 * result.coverage,
        result.timings,
    )
    return result


def _new_since(window: store.PainPointWindow, latest: store.LatestClustering) -> np.ndarray:
    """Per unit: new since the full clustering ``latest`` builds on.

    New means dated after that clustering's newest comment, or loaded into the warehouse after
    it ran (a late export of older comments is news too); a unit with no time counts as new.
    """
    return np.array(
        [
            u.created_at is None
            or u.created_at > latest.full_window_end
            or (u.ingested_at is not None and u.ingested_at > latest.full_clustered_at)
            for u in window.units
        ],
        dtype=bool,
    )


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
    current = settings.cluster.model_dump()
    same = all(latest.full_params.get(k) == current[k] for k in FULL_CLUSTERING_KEYS)
    c = settings.cluster
    return needs_full_recluster(
        has_previous=True,
        same_settings=same,
        new_share=float(_new_since(window, latest).mean()) if window.units else 0.0,
        days_since_full=(window.window_end - latest.full_window_end).total_seconds() / 86400,
        max_new_share=c.incremental_max_new_share,
        full_every_days=c.full_every_days,
    )


@task(name="label_clusters", cache_policy=NO_CACHE)
def label_clusters(
    window: store.PainPointWindow, vectors: np.ndarray, found: TwoLevel, settings: Settings
) -> tuple[dict[int, ClusterLabel], dict[int, ClusterLabel]]:
    """Label each child and each parent: label, keyphrases, quotes, dominant stage and theme."""
    labeller = CtfidfLabeller(
        top_keyphrases=settings.cluster.keyphrases, quotes=settings.cluster.quotes
    )
    units = []
    for u in window.units:
        # The labeller reads the text, lemmas and noun chunks: a name leaves all three.
        text, pii = redact_with_words(u.text)
        lemmas = tuple(w for w in u.lemmas if w not in pii)
        chunks = tuple(c for c in u.noun_chunks if pii.isdisjoint(c.split()))
        units.append(LabelInput(u.unit_id, text, lemmas, chunks, u.stage, u.theme))

    def published(labels: dict[int, ClusterLabel]) -> dict[int, ClusterLabel]:
        # Labels and keyphrases are published: a phone number repeated in a cluster stays out.
        return {
            k: replace(
                label,
                label=redact_pii(label.label),
                keyphrases=tuple(redact_pii(p) for p in label.keyphrases),
            )
            for k, label in labels.items()
        }

    children = published(labeller.label(units, vectors, found.labels))
    parents = published(labeller.label(units, vectors, found.parent_labels))
    get_run_logger().info(
        "label_clusters: %d children and %d parents labelled", len(children), len(parents)
    )
    return children, parents


@dataclass(frozen=True)
class LevelIds:
    """The ids of one level tonight.

    Attributes:
        ids: Number -> id, for every non-empty hassle of the level.
        status: Number -> ``new`` or ``active``.
        matched_from: Number -> the hassle id it continues (itself), or None when new.
        scores: Number -> the match score, when there was a match to score.
        retired: Ids of the level that end tonight.
        revived: Retired ids that came back tonight.
        lineage: Split and merge links within the level.
        previous_labels: Id -> latest label, of last night's hassles and of the revivable.
    """

    ids: dict[int, str]
    status: dict[int, str]
    matched_from: dict[int, str | None]
    scores: dict[int, float | None]
    retired: list[str]
    revived: list[str]
    lineage: list[Lineage]
    previous_labels: dict[str, str]


def _track_level(
    tracker: OverlapCentroidTracker,
    previous: list[store.StoredHassle],
    revivable: list[store.StoredHassle],
    current: list[CurrentCluster],
    known: dict[int, str] | None,
    present: frozenset[str],
    new_id: Any,
) -> LevelIds:
    """Ids for ``current``: tracked (full night) or known for last night's (incremental)."""
    as_previous = [PreviousHassle(h.hassle_id, h.centroid, h.members) for h in previous]
    as_revivable = [PreviousHassle(h.hassle_id, h.centroid, h.members) for h in revivable]
    previous_labels = {h.hassle_id: h.label for h in (*previous, *revivable)}
    if known is None:
        result = tracker.track(
            as_previous, current, present_units=present, new_id=new_id, revivable=as_revivable
        )
        return LevelIds(
            ids=result.hassle_ids,
            status=result.status,
            matched_from=result.matched_from,
            scores={
                k: result.scores.get((m, k)) if m else None for k, m in result.matched_from.items()
            },
            retired=list(result.retired),
            revived=list(result.revived),
            lineage=list(result.lineage),
            previous_labels=previous_labels,
        )
    # Incremental: last night's hassles keep their ids; only the new ones are tracked, against
    # the recently retired (an id may come back) or else given a fresh id.
    old = [c for c in current if c.cluster in known]
    fresh = tracker.track(
        [],
        [c for c in current if c.cluster not in known],
        present_units=present,
        new_id=new_id,
        revivable=as_revivable,
    )
    still = {known[c.cluster] for c in old}
    return LevelIds(
        ids={**{c.cluster: known[c.cluster] for c in old}, **fresh.hassle_ids},
        status={**{c.cluster: STATUS_ACTIVE for c in old}, **fresh.status},
        matched_from={**{c.cluster: known[c.cluster] for c in old}, **fresh.matched_from},
        scores={
            **{c.cluster: 1.0 for c in old},
            **{k: fresh.scores.get((m, k)) if m else None for k, m in fresh.matched_from.items()},
        },
        retired=sorted(h.hassle_id for h in previous if h.hassle_id not in still),
        revived=list(fresh.revived),
        lineage=[],
        previous_labels=previous_labels,
    )


@dataclass(frozen=True)
class Tracked:
    """Ids of both levels tonight."""

    children: LevelIds
    parents: LevelIds


@task(name="track_hassle_ids", cache_policy=NO_CACHE)
def track_hassle_ids(
    conn: duckdb.DuckDBPyConnection,
    window: store.PainPointWindow,
    vectors: np.ndarray,
    found: TwoLevel,
    previous: Previous,
    settings: Settings,
) -> Tracked:
    """Match tonight's children and parents to the live ones: matched ones keep their id."""
    ids = np.array([u.unit_id for u in window.units], dtype=object)
    present = frozenset(ids.tolist())
    c = settings.cluster
    tracker = OverlapCentroidTracker(
        match_threshold=c.match_threshold,
        min_centroid_similarity=c.min_centroid_similarity,
        lineage_overlap=c.lineage_overlap,
    )
    since = window.window_end - timedelta(days=c.revive_days)
    incremental = found.mode == "incremental"
    levels = []
    for level, labels, n, known, live, prefix in (
        ("child", found.labels, found.n_children, found.known_children, previous.children, "H"),
        (
            "parent",
            found.parent_labels,
            found.n_parents,
            found.known_parents,
            previous.parents,
            "P",
        ),
    ):
        centroids = cluster_centroids(vectors, labels, n)
        current = [
            CurrentCluster(k, centroids[k], frozenset(ids[labels == k].tolist()))
            for k in range(n)
            if np.any(labels == k)
        ]
        counter = iter(range(store.max_hassle_number(conn, prefix) + 1, 10**9))
        levels.append(
            _track_level(
                tracker,
                live,
                store.read_revivable(conn, level, since),
                current,
                known if incremental else None,
                present,
                lambda counter=counter, prefix=prefix: f"{prefix}-{next(counter):04d}",
            )
        )
    tracked = Tracked(*levels)
    for name, level in (("children", tracked.children), ("parents", tracked.parents)):
        get_run_logger().info(
            "track_hassle_ids: %s: %d kept their id, %d new, %d retired, %d revived, "
            "%d lineage links",
            name,
            sum(1 for s in level.status.values() if s == STATUS_ACTIVE),
            sum(1 for s in level.status.values() if s == STATUS_NEW),
            len(level.retired),
            len(level.revived),
            len(level.lineage),
        )
    return tracked


@task(name="write_hassles", cache_policy=NO_CACHE)
def write_hassles(conn: duckdb.DuckDBPyConnection, write: store.ClusteringWrite) -> None:
    """Write the run's hassles, members and lineage in one transaction."""
    store.write_clustering(conn, write)
    get_run_logger().info(
        "write_hassles: %d hassles (both levels), %d members",
        len(write.hassle_runs),
        len(write.members),
    )


def cluster_into(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    *,
    force: bool = False,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Run the cluster tasks on an open warehouse; return the stage's counts.

    The window ends at the newest comment dated no later than ``as_of`` (default: now).
    """
    started = time.perf_counter()
    window = read_window(conn, settings, as_of or now())
    if not force and window.fingerprint and window.fingerprint == store.latest_fingerprint(conn):
        get_run_logger().info("cluster: the window is unchanged since the last run; skipped")
        return {
            "skipped": True,
            "units_in": len(window.units),
            "comments_after_run": window.comments_after_run,
        }
    model_id = embedding_model_id(settings)
    vectors = store.read_unit_vectors(conn, model_id, window.units)
    previous = Previous(
        store.read_latest_clustering(conn),
        store.read_live_hassles(conn, "child"),
        store.read_live_hassles(conn, "parent"),
    )
    reason = plan(window, previous, settings, model_id) if window.units else "first"
    # quote(): Prefect would otherwise walk every unit and array of these arguments looking
    # for futures, which took longer than the work itself (5 s a task at 30,000 units).
    if reason is None:
        found = assign_units(quote(window), quote(vectors), quote(previous), settings)
    else:
        tags = [f"{u.stage}/{u.theme}" for u in window.units]
        found = cluster_units(quote(vectors), quote(tags), settings, reason)
    labels = label_clusters(quote(window), quote(vectors), quote(found), settings)
    tracked = track_hassle_ids(
        conn, quote(window), quote(vectors), quote(found), quote(previous), settings
    )
    write = _clustering_write(
        run_id, window, vectors, found, labels, tracked, previous, settings, model_id
    )
    write_hassles(conn, quote(write))
    return {
        "skipped": False,
        "mode": found.mode,
        "units_in": len(window.units),
        "units_clustered": write.run_row["units_clustered"],
        "coverage": round(found.coverage, 4),
        "hassles": len(tracked.children.ids),
        "parents": len(tracked.parents.ids),
        "hassles_new": write.run_row["hassles_new"],
        "hassles_retired": len(tracked.children.retired),
        "hassles_revived": len(tracked.children.revived),
        "parents_new": sum(1 for s in tracked.parents.status.values() if s == STATUS_NEW),
        "parents_retired": len(tracked.parents.retired),
        "lineage": len(tracked.children.lineage) + len(tracked.parents.lineage),
        "comments_after_run": window.comments_after_run,
        "cluster_seconds": round(time.perf_counter() - started, 2),
    }


def _kept_label(
    number: int,
    label: str,
    level: LevelIds,
    member_words: list[frozenset[str]],
    min_share: float,
) -> str:
    """Tonight's label, or the previous one while it still describes the members."""
    before = level.previous_labels.get(level.matched_from[number] or "")
    return before if before and keep_label(before, label, member_words, min_share) else label


def _clustering_write(
    run_id: str,
    window: store.PainPointWindow,
    vectors: np.ndarray,
    found: TwoLevel,
    labels: tuple[dict[int, ClusterLabel], dict[int, ClusterLabel]],
    tracked: Tracked,
    previous: Previous,
    settings: Settings,
    model_id: str,
) -> store.ClusteringWrite:
    ids = [u.unit_id for u in window.units]
    child_ids = tracked.children.ids
    parent_ids = tracked.parents.ids
    members = [
        (
            run_id,
            ids[i],
            child_ids[int(k)],
            float(found.probabilities[i]),
            str(found.assigned_by[i]),
        )
        for i, k in enumerate(found.labels)
        if k != NOISE
    ]
    words = [words_of(u.text, u.lemmas) for u in window.units]
    core = found.assigned_by == CORE
    hassle_runs = []
    centroids: dict[str, np.ndarray] = {}
    for level_name, per_unit, level, level_labels, n in (
        ("child", found.labels, tracked.children, labels[0], found.n_children),
        ("parent", found.parent_labels, tracked.parents, labels[1], found.n_parents),
    ):
        level_centroids = cluster_centroids(vectors, per_unit, n)
        for k, hassle_id in level.ids.items():
            label = level_labels[k]
            in_k = per_unit == k
            text = _kept_label(
                k,
                label.label,
                level,
                [words[i] for i in np.flatnonzero(in_k)],
                settings.cluster.label_keep_share,
            )
            parent = parent_ids[int(found.parent_of_child[k])] if level_name == "child" else None
            hassle_runs.append(
                (
                    run_id,
                    hassle_id,
                    k,
                    level.status[k],
                    level.matched_from[k],
                    level.scores.get(k),
                    text,
                    list(label.keyphrases),
                    label.stage,
                    label.stage_share,
                    label.theme,
                    label.theme_share,
                    list(label.quote_unit_ids),
                    int(in_k.sum()),
                    int((in_k & core).sum()),
                    level_name,
                    parent,
                    label.specificity,
                )
            )
            centroids[hassle_id] = level_centroids[k]
    stamp = now()
    children = tracked.children
    run_row = {
        "run_id": run_id,
        "input_fingerprint": window.fingerprint,
        "window_start": window.window_start,
        "window_end": window.window_end,
        "model_id": model_id,
        "units_in": len(ids),
        "units_clustered": len(members),
        "units_core": int(np.sum(core)),
        "coverage": found.coverage,
        "hassles": len(children.ids),
        "hassles_new": sum(1 for s in children.status.values() if s == STATUS_NEW),
        "hassles_retired": len(children.retired),
        "hassles_revived": len(children.revived),
        "parents": len(tracked.parents.ids),
        "mode": found.mode,
        "full_run_id": run_id
        if found.mode == "full" or previous.latest is None
        else previous.latest.full_run_id,
        "min_cluster_size": found.min_cluster_size,
        "fitted_on": found.fitted_on,
        "params": settings.cluster.model_dump(),
        "timings": found.timings,
        "clustered_at": stamp,
    }
    return store.ClusteringWrite(
        run_id=run_id,
        run_row=run_row,
        hassle_runs=hassle_runs,
        members=members,
        lineage=[
            (run_id, link.parent_id, link.child_id, link.kind, link.overlap)
            for link in (*children.lineage, *tracked.parents.lineage)
        ],
        centroids=centroids,
        retired=[*children.retired, *tracked.parents.retired],
        clustered_at=stamp,
    )


@flow(name="cluster")
def cluster(
    config_path: str | None = None, run_id: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Re-cluster the window's pain points and keep hassle ids stable; return the counts.

    Args:
        config_path: Settings file.
        run_id: The nightly run this clustering belongs to (default: this flow run's id).
        force: Re-cluster even when nothing in the window changed.
    """
    from prefect.runtime import flow_run

    settings = load_settings(config_path)
    load_enrich_config(settings)
    run_id = run_id or str(flow_run.get_id())
    conn = connect_warehouse(Path(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    try:
        return cluster_into(conn, settings, run_id, force=force)
    finally:
        conn.close()
