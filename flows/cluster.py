"""The ``cluster`` flow: recurring pain points become hassles with ids stable across nights.

Tasks:

1. ``read_window``: the pain-point units of the rolling window (``cluster.window_days``, ending
   at the newest comment not dated after the run), with a fingerprint. When it equals the
   latest clustering's, nothing changed and the stage stops: a rerun recomputes nothing.
2. ``cluster_units``: stored vectors (never re-embedded) through the clusterer.
3. ``label_clusters``: label, keyphrases, quotes, dominant stage and theme per cluster.
4. ``track_hassle_ids``: match tonight's clusters to the live hassles, so ids persist.
5. ``write_hassles``: one transaction for the run's clusters, members, lineage and hassles.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime
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
from nlp.cluster import CORE, NOISE, Clustering, ClusterParams, HdbscanClusterer
from nlp.label import CtfidfLabeller, LabelInput
from nlp.redact import redact_pii, redact_with_words
from nlp.track import CurrentCluster, OverlapCentroidTracker, PreviousHassle, format_hassle_id
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
        max_fit_points=c.max_fit_points,
        max_reference_points=c.max_reference_points,
        seed=c.seed,
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


@task(name="cluster_units", cache_policy=NO_CACHE)
def cluster_units(vectors: np.ndarray, tags: list[str | None], settings: Settings) -> Clustering:
    """Group the units' stored vectors with HDBSCAN and assign the noise softly."""
    logger = get_run_logger()
    sink = progress.current()
    sink.start("cluster:fit", f"cluster: HDBSCAN on {len(vectors):,} units", 1)
    clustering = HdbscanClusterer(cluster_params(settings)).cluster(vectors, tags)
    sink.advance("cluster:fit", 1)
    sink.finish("cluster:fit")
    logger.info(
        "cluster_units: %d clusters, coverage %.1f%% (%.1f%% HDBSCAN members), "
        "min_cluster_size %d, fitted on %d units, %s",
        clustering.n_clusters,
        100 * clustering.coverage,
        100 * float(np.mean(clustering.assigned_by == CORE)) if len(vectors) else 0.0,
        clustering.min_cluster_size,
        clustering.fitted_on,
        clustering.timings,
    )
    return clustering


@task(name="label_clusters", cache_policy=NO_CACHE)
def label_clusters(
    window: store.PainPointWindow, vectors: np.ndarray, clustering: Clustering, settings: Settings
) -> dict[int, Any]:
    """Give each cluster a label, keyphrases, quotes and its dominant stage and theme."""
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
    labels = {
        # Labels and keyphrases are published: a phone number repeated in a cluster stays out.
        k: replace(
            label,
            label=redact_pii(label.label),
            keyphrases=tuple(redact_pii(p) for p in label.keyphrases),
        )
        for k, label in labeller.label(units, vectors, clustering.labels).items()
    }
    get_run_logger().info("label_clusters: %d clusters labelled", len(labels))
    return labels


@task(name="track_hassle_ids", cache_policy=NO_CACHE)
def track_hassle_ids(
    conn: duckdb.DuckDBPyConnection,
    window: store.PainPointWindow,
    clustering: Clustering,
    settings: Settings,
) -> Any:
    """Match tonight's clusters to the live hassles: matched ones keep their id."""
    ids = [u.unit_id for u in window.units]
    current = [
        CurrentCluster(
            cluster=k,
            centroid=clustering.centroids[k],
            members=frozenset(ids[i] for i in np.flatnonzero(clustering.labels == k)),
        )
        for k in range(clustering.n_clusters)
    ]
    previous = [
        PreviousHassle(h.hassle_id, h.centroid, h.members) for h in store.read_live_hassles(conn)
    ]
    counter = iter(range(store.max_hassle_number(conn) + 1, 10**9))
    c = settings.cluster
    tracker = OverlapCentroidTracker(
        match_threshold=c.match_threshold,
        min_centroid_similarity=c.min_centroid_similarity,
        lineage_overlap=c.lineage_overlap,
    )
    result = tracker.track(
        previous,
        current,
        present_units=frozenset(ids),
        new_id=lambda: format_hassle_id(next(counter)),
    )
    get_run_logger().info(
        "track_hassle_ids: %d kept their id, %d new, %d retired, %d lineage links",
        sum(1 for s in result.status.values() if s == "active"),
        sum(1 for s in result.status.values() if s == "new"),
        len(result.retired),
        len(result.lineage),
    )
    return result


@task(name="write_hassles", cache_policy=NO_CACHE)
def write_hassles(conn: duckdb.DuckDBPyConnection, write: store.ClusteringWrite) -> None:
    """Write the run's hassles, members and lineage in one transaction."""
    store.write_clustering(conn, write)
    get_run_logger().info(
        "write_hassles: %d hassles, %d members", len(write.hassle_runs), len(write.members)
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
    tags = [f"{u.stage}/{u.theme}" for u in window.units]
    # quote(): Prefect would otherwise walk every unit and array of these arguments looking
    # for futures, which took longer than the work itself (5 s a task at 30,000 units).
    clustering = cluster_units(quote(vectors), quote(tags), settings)
    labels = label_clusters(quote(window), quote(vectors), quote(clustering), settings)
    tracked = track_hassle_ids(conn, quote(window), quote(clustering), settings)
    write = _clustering_write(run_id, window, clustering, labels, tracked, settings, model_id)
    write_hassles(conn, quote(write))
    return {
        "skipped": False,
        "units_in": len(window.units),
        "units_clustered": write.run_row["units_clustered"],
        "coverage": round(clustering.coverage, 4),
        "hassles": clustering.n_clusters,
        "hassles_new": write.run_row["hassles_new"],
        "hassles_retired": len(tracked.retired),
        "lineage": len(tracked.lineage),
        "comments_after_run": window.comments_after_run,
        "cluster_seconds": round(time.perf_counter() - started, 2),
    }


def _clustering_write(
    run_id: str,
    window: store.PainPointWindow,
    clustering: Clustering,
    labels: dict[int, Any],
    tracked: Any,
    settings: Settings,
    model_id: str,
) -> store.ClusteringWrite:
    ids = [u.unit_id for u in window.units]
    members = [
        (
            run_id,
            ids[i],
            tracked.hassle_ids[int(k)],
            float(clustering.probabilities[i]),
            str(clustering.assigned_by[i]),
        )
        for i, k in enumerate(clustering.labels)
        if k != NOISE
    ]
    hassle_runs = []
    for k in range(clustering.n_clusters):
        label = labels[k]
        in_k = clustering.labels == k
        previous = tracked.matched_from[k]
        hassle_runs.append(
            (
                run_id,
                tracked.hassle_ids[k],
                k,
                tracked.status[k],
                previous,
                tracked.scores.get((previous, k)) if previous else None,
                label.label,
                list(label.keyphrases),
                label.stage,
                label.stage_share,
                label.theme,
                label.theme_share,
                list(label.quote_unit_ids),
                int(in_k.sum()),
                int((in_k & (clustering.assigned_by == CORE)).sum()),
            )
        )
    stamp = now()
    units_core = int(np.sum(clustering.assigned_by == CORE))
    run_row = {
        "run_id": run_id,
        "input_fingerprint": window.fingerprint,
        "window_start": window.window_start,
        "window_end": window.window_end,
        "model_id": model_id,
        "units_in": len(ids),
        "units_clustered": len(members),
        "units_core": units_core,
        "coverage": clustering.coverage,
        "hassles": clustering.n_clusters,
        "hassles_new": sum(1 for s in tracked.status.values() if s == "new"),
        "hassles_retired": len(tracked.retired),
        "min_cluster_size": clustering.min_cluster_size,
        "fitted_on": clustering.fitted_on,
        "params": settings.cluster.model_dump(),
        "timings": clustering.timings,
        "clustered_at": stamp,
    }
    return store.ClusteringWrite(
        run_id=run_id,
        run_row=run_row,
        hassle_runs=hassle_runs,
        members=members,
        lineage=[
            (run_id, link.parent_id, link.child_id, link.kind, link.overlap)
            for link in tracked.lineage
        ],
        centroids={tracked.hassle_ids[k]: clustering.centroids[k] for k in tracked.hassle_ids},
        retired=list(tracked.retired),
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
