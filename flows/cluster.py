"""The ``cluster`` flow: recurring pain points become two-level hassles with stable ids.

Children are the specific hassles (ids ``H-0001``, clustered from units; ``hassle_members`` is
their membership); parents group related children (ids ``P-0001``, own counter) so that a
product owner reads 10 to 25 of them, each opening into its children.

Two modes, so that one more day of data neither merges, splits nor renumbers hassles:

* **full** (the first night; when the cluster settings or the model changed; when more than
  ``cluster.incremental_max_new_share`` of the window's units were written since the last full
  clustering; when that one is ``cluster.full_every_days`` days of data old; every changed
  night for a method not registered as incremental): the method named by ``cluster.method``
  (registry: :mod:`nlp.cluster`; default :mod:`nlp.clusterers.hdbscan`) finds the children, :func:`nlp.hierarchy.group_children` the parents,
  and :class:`nlp.track.OverlapCentroidTracker` carries the ids of both levels over, reviving
  an id retired in the last ``cluster.revive_days`` days when its hassle comes back. On a
  routine full night (period or new share), the clustering is held to the kept children: one
  merged away or dissolved takes its members back, a new child found in text the last full
  clustering already saw joins the kept child it resembles (:func:`nlp.anchor.anchor_to_kept`),
  and kept children keep their parents (:func:`nlp.anchor.keep_parents`).
* **incremental** (every other night): :func:`nlp.hierarchy.assign_incrementally` keeps every
  unit still in the window in last night's child, votes the other units into the children,
  and makes new children only from leftovers that are news (:func:`nlp.hierarchy.is_emerging`);
  parents stay as they are.

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

A kept hassle keeps its label until tonight's is clearly better (:func:`nlp.label_support.keep_label`);
``hassle_runs`` keeps every night's label.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from config import Settings, load_settings
from config.taxonomy import load_enrich_config
from flows import progress
from flows.cluster_plan import (
    Previous,
    anchor_routine_full,
    build_tracker,
    plan,
    settings_key,
)
from flows.enrich_models import embedding_model_id
from nlp.cluster import (
    CORE,
    NOISE,
    run_clusterer,
)
from nlp.hierarchy import (
    assign_incrementally,
    group_children,
)
from nlp.label import CtfidfLabeller, labels_by_parent
from nlp.terms import BRAND_HANDLE_SHARE
from nlp.track import STATUS_NEW, PreviousHassle, format_hassle_id
from nlp.two_level import (
    Labels,
    Tracked,
    TwoLevel,
    current_clusters,
    full_two_level,
    hassle_versions,
    incremental_two_level,
    new_since,
    published_labels,
    redacted_label_input,
    specific_parent_labels,
    track_level,
)
from warehouse import hassles as store
from warehouse.connection import connect_warehouse
from warehouse.core import now


@task(name="read_window", cache_policy=NO_CACHE)
def read_window(
    conn: duckdb.DuckDBPyConnection, settings: Settings, as_of: datetime
) -> store.PainPointWindow:
    """Read the window's pain-point units, up to ``as_of`` at the latest, and fingerprint them."""
    logger = get_run_logger()
    window = store.read_pain_points(
        conn, settings.cluster.window_days, settings_key(settings), as_of
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


@task(name="cluster_units", cache_policy=NO_CACHE)
def cluster_units(
    window: store.PainPointWindow,
    vectors: np.ndarray,
    previous: Previous,
    settings: Settings,
    reason: str,
) -> TwoLevel:
    """Full clustering: children by the configured method, parents by their centroids.

    On a routine re-clustering (:data:`nlp.hierarchy.ROUTINE_RECLUSTER`) the clustering and the
    parents are held to the kept hassles (:func:`flows.cluster_plan.anchor_routine_full`).
    """
    logger = get_run_logger()
    sink = progress.current()
    c = settings.cluster
    method = c.method
    sink.start("cluster:fit", f"cluster: {method} on {len(vectors):,} units", 1)
    tags = [f"{u.stage}/{u.theme}" for u in window.units]
    sources = [u.source for u in window.units]
    clustering = run_clusterer(method, c.params, vectors, tags, sources)
    started = time.perf_counter()
    held = anchor_routine_full(clustering, window, vectors, previous, settings, reason)
    parent_of_child, held_counts = None, {}
    if held is not None:
        clustering, parent_of_child, anchored = held
        held_counts = {"late_finds_folded": anchored.folded, "hassles_restored": anchored.restored}
        logger.info(
            "cluster_units: held to the kept hassles (cluster.anchor_routine_full): %d late "
            "find(s) in old text joined the kept hassle they resemble or were cut out of, %d "
            "kept hassle(s) the clustering merged away or dissolved took their members back",
            anchored.folded,
            anchored.restored,
        )
    if parent_of_child is None:
        parent_of_child = group_children(
            clustering.centroids,
            parent_similarity=c.parent_similarity,
            min_parents=c.min_parents,
            max_parents=c.max_parents,
            children_per_parent=c.children_per_parent,
            parent_min_similarity=c.parent_min_similarity,
        )
    sink.advance("cluster:fit", 1)
    sink.finish("cluster:fit")
    found = full_two_level(
        clustering, parent_of_child, reason, time.perf_counter() - started, held_counts
    )
    logger.info(
        "cluster_units: full (%s, %s): %d children in %d parents, coverage %.1f%% "
        "(%.1f%% core members), min_cluster_size %s, fitted on %d units, %s",
        reason,
        method,
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
    is_new = new_since(window.units, latest.full_window_end, latest.full_clustered_at)
    c = settings.cluster
    found = assign_incrementally(
        vectors,
        last,
        is_new,
        len(previous.children),
        parent_of_child,
        settings.cluster.method_params(),
        min_cluster_size=latest.min_cluster_size or 0,
        parent_similarity=c.parent_similarity,
        max_parents=c.max_parents,
    )
    result = incremental_two_level(
        found,
        before,
        parent_of_child,
        [h.hassle_id for h in previous.children],
        [h.hassle_id for h in previous.parents],
        latest.min_cluster_size,
        time.perf_counter() - started,
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


@task(name="label_clusters", cache_policy=NO_CACHE)
def label_clusters(
    window: store.PainPointWindow,
    vectors: np.ndarray,
    found: TwoLevel,
    settings: Settings,
    brand_handles: frozenset[str],
) -> Labels:
    """Label each child and each parent: label, keyphrases, quotes, dominant stage and theme.

    ``brand_handles``: the accounts the window's comments are written to (their names are
    no hassle's subject). A parent is named by its specific children
    (:func:`nlp.two_level.specific_parent_labels`).
    """
    labeller = CtfidfLabeller(
        top_keyphrases=settings.cluster.keyphrases, quotes=settings.cluster.quotes
    )
    units = [
        redacted_label_input(
            u.unit_id, u.text, u.lemmas, u.noun_chunks, u.stage, u.theme, u.said, u.pain_score
        )
        for u in window.units
    ]
    labelled = labeller.label(units, vectors, found.labels, brand_handles)
    offered = labels_by_parent(labelled, found.parent_of_child)
    named_by = specific_parent_labels(found, labelled, settings.rank.min_specificity)
    children = published_labels(labelled)
    parents = published_labels(
        labeller.label(units, vectors, named_by, brand_handles, offered=offered)
    )
    get_run_logger().info(
        "label_clusters: %d children and %d parents labelled", len(children), len(parents)
    )
    return Labels(children, parents, labeller.read(units, found.labels)[0])


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
    tracker = build_tracker(settings)
    incremental = found.mode == "incremental"
    levels = []
    for labels, n, known, live, revivable, prefix in (
        (
            found.labels,
            found.n_children,
            found.known_children,
            previous.children,
            previous.revivable_children,
            "H",
        ),
        (
            found.parent_labels,
            found.n_parents,
            found.known_parents,
            previous.parents,
            previous.revivable_parents,
            "P",
        ),
    ):
        current = current_clusters(vectors, labels, n, ids)
        counter = iter(range(store.max_hassle_number(conn, prefix) + 1, 10**9))
        levels.append(
            track_level(
                tracker,
                [PreviousHassle(h.hassle_id, h.centroid, h.members) for h in live],
                [PreviousHassle(h.hassle_id, h.centroid, h.members) for h in revivable],
                current,
                known if incremental else None,
                present,
                lambda counter=counter, prefix=prefix: format_hassle_id(next(counter), prefix),
                {h.hassle_id: h.label for h in (*live, *revivable)},
            )
        )
    tracked = Tracked(*levels)
    for name, level in (("children", tracked.children), ("parents", tracked.parents)):
        get_run_logger().info("track_hassle_ids: %s: %s", name, level.summary())
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
            "comments_before_window": window.comments_before,
        }
    if window.window_end == datetime.min:  # no comment dated up to now (all quarantined?)
        get_run_logger().info("cluster: no comment dated up to now; nothing to cluster")
        after = window.comments_after_run
        return {"skipped": True, "no_comments": True, "units_in": 0, "comments_after_run": after}
    model_id = embedding_model_id(settings)
    vectors = store.read_unit_vectors(conn, model_id, window.units)
    since = window.window_end - timedelta(days=settings.cluster.revive_days)
    previous = Previous(
        store.read_latest_clustering(conn),
        store.read_live_hassles(conn, "child"),
        store.read_live_hassles(conn, "parent"),
        store.read_revivable(conn, "child", since),
        store.read_revivable(conn, "parent", since),
    )
    reason = plan(window, previous, settings, model_id) if window.units else "first"
    # quote(): Prefect would otherwise walk every unit and array of these arguments looking
    # for futures, which took longer than the work itself (5 s a task at 30,000 units).
    if reason is None:
        found = assign_units(quote(window), quote(vectors), quote(previous), settings)
    else:
        found = cluster_units(quote(window), quote(vectors), quote(previous), settings, reason)
    brands = store.read_brand_handles(conn, window, BRAND_HANDLE_SHARE)
    labels = label_clusters(quote(window), quote(vectors), quote(found), settings, brands)
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
        "reason": found.reason,
        **found.held,
        "units_in": len(window.units),
        "units_clustered": write.run.units_clustered,
        "coverage": round(found.coverage, 4),
        "hassles": len(tracked.children.ids),
        "parents": len(tracked.parents.ids),
        "hassles_new": write.run.hassles_new,
        "hassles_retired": len(tracked.children.retired),
        "hassles_revived": len(tracked.children.revived),
        "parents_new": sum(1 for s in tracked.parents.status.values() if s == STATUS_NEW),
        "parents_retired": len(tracked.parents.retired),
        "lineage": len(tracked.children.lineage) + len(tracked.parents.lineage),
        "comments_after_run": window.comments_after_run,
        "comments_before_window": window.comments_before,
        "cluster_seconds": round(time.perf_counter() - started, 2),
    }


def _clustering_write(
    run_id: str,
    window: store.PainPointWindow,
    vectors: np.ndarray,
    found: TwoLevel,
    labels: Labels,
    tracked: Tracked,
    previous: Previous,
    settings: Settings,
    model_id: str,
) -> store.ClusteringWrite:
    ids = [u.unit_id for u in window.units]
    members = [
        store.MemberRow(
            run_id,
            ids[i],
            tracked.children.ids[int(k)],
            float(found.probabilities[i]),
            str(found.assigned_by[i]),
        )
        for i, k in enumerate(found.labels)
        if k != NOISE
    ]
    versions = hassle_versions(vectors, found, labels, tracked, settings.cluster.label_keep_share)
    centroids = {v.row.hassle_id: v.centroid for v in versions}
    core = found.assigned_by == CORE
    children = tracked.children
    full_run_id = (
        run_id if found.mode == "full" or previous.latest is None else previous.latest.full_run_id
    )
    run = store.ClusterRunRow(
        run_id=run_id,
        input_fingerprint=window.fingerprint,
        window_start=window.window_start,
        window_end=window.window_end,
        model_id=model_id,
        units_in=len(ids),
        units_clustered=len(members),
        units_core=int(np.sum(core)),
        coverage=found.coverage,
        hassles=len(children.ids),
        hassles_new=sum(1 for s in children.status.values() if s == STATUS_NEW),
        hassles_retired=len(children.retired),
        hassles_revived=len(children.revived),
        parents=len(tracked.parents.ids),
        mode=found.mode,
        full_run_id=full_run_id,
        min_cluster_size=found.min_cluster_size,
        fitted_on=found.fitted_on,
        params=settings.cluster.model_dump(),
        timings=found.timings,
        clustered_at=now(),
    )
    return store.ClusteringWrite(
        run=run,
        hassle_runs=[v.row for v in versions],
        members=members,
        lineage=[
            store.LineageRow(run_id, link.parent_id, link.child_id, link.kind, link.overlap)
            for link in (*children.lineage, *tracked.parents.lineage)
        ],
        centroids=centroids,
        retired=[*children.retired, *tracked.parents.retired],
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
