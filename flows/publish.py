"""The ``rank`` and ``publish`` stages: score the hassles, then show them to people.

* ``rank_hassles`` scores every hassle of the latest clustering (:mod:`flows.ranking`, with
  the factors of :mod:`nlp.factors`) and stores the run's ranking: ``hassle_rankings`` and its
  parts long-form in ``hassle_ranking_parts``. The specific hassles (children) are ranked
  among themselves and, when the clustering grouped them, their parents among parents.
* ``publish_results`` redacts new comment text for the views, writes the HTML, Markdown and
  CSV report (:mod:`flows.report`), and publishes the top hassles as Prefect artifacts.
* ``write_analyst_snapshot`` swaps in the analyst snapshot.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from config import Settings
from config.taxonomy import Taxonomy
from flows.ranking import Ranking, compute_ranking, ranking_rows
from flows.report.artifacts import artifact_rows, summary_markdown
from flows.report.build import build_report
from flows.report.render import write_report
from nlp.redact import redact_pii, redactor_version
from warehouse import ranking as store
from warehouse.snapshot import write_snapshot


@task(name="rank_hassles", cache_policy=NO_CACHE)
def rank_hassles(
    conn: duckdb.DuckDBPyConnection, settings: Settings, run_id: str
) -> tuple[dict[str, Any], Ranking | None]:
    """Score every hassle of the latest clustering and store the run's ranking.

    Returns:
        The stage's counts, and the ranking itself for ``publish_results`` to reuse.
    """
    logger = get_run_logger()
    ranking = compute_ranking(conn, settings, store.ReportFilter())
    if ranking is None:
        logger.info("rank_hassles: nothing clustered yet")
        return {"hassles_ranked": 0}, None
    previous = store.read_previous_ranking(conn, run_id)
    rows = ranking_rows(ranking, run_id, previous)
    store.write_rankings(conn, run_id, rows)
    children = [r for r in rows if r.level == "child"]
    parents = [r for r in rows if r.level == "parent"]
    top = [f"{r.rank}. {r.label} ({r.total_score:.2f})" for r in (parents or children)[:5]]
    logger.info(
        "rank_hassles: %d hassles ranked, %d parents; top %s: %s",
        len(children),
        len(parents),
        "parents" if parents else "hassles",  # the alerts rank the children among themselves
        "; ".join(top),
    )
    counts = {
        "hassles_ranked": len(children),
        "parents_ranked": len(parents),
        "rising": sum(r.trend == "rising" for r in children),
        "new_since_last_run": sum(r.change == "new" for r in children),
    }
    return counts, ranking


@task(name="publish_results", cache_policy=NO_CACHE)
def publish_results(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    run_id: str,
    ranking: Ranking | None = None,
) -> dict[str, Any]:
    """Redact new text for the views, write the report files and the Prefect artifacts."""
    logger = get_run_logger()
    redacted = store.refresh_redacted_text(conn, redact_pii, redactor=redactor_version())
    logger.info("publish_results: %d new or edited comments redacted for the views", redacted)
    data = build_report(conn, settings, taxonomy, run_id=run_id, ranking=ranking)
    if data is None:
        logger.info("publish_results: nothing to publish yet")
        return {"comments_redacted": redacted}
    paths = write_report(data, Path(settings.report.out_dir))
    create_table_artifact(
        key="hassle-ranking",
        table=artifact_rows(data),
        description=f"Top {len(data.hassles)} hassles to eliminate first (run {run_id})",
    )
    create_markdown_artifact(
        key="hassle-summary",
        markdown=summary_markdown(data, paths["html"].resolve()),
        description="Ranked hassles: summary",
    )
    logger.info("publish_results: report written to %s", paths["html"].resolve())
    return {
        "comments_redacted": redacted,
        "report": str(paths["html"].resolve()),
        "report_markdown": str(paths["md"].resolve()),
        "report_csv": str(paths["csv"].resolve()),
        "top": [(h.rank, h.hassle_id, h.label) for h in data.hassles],
    }


@task(name="write_analyst_snapshot", cache_policy=NO_CACHE)
def write_analyst_snapshot(
    conn: duckdb.DuckDBPyConnection, settings: Settings, run_id: str
) -> dict[str, Any]:
    """Swap in a new analyst snapshot: what analysts open, never locked by a run."""
    started = time.perf_counter()
    path = write_snapshot(
        conn, Path(settings.snapshot_path), run_id, redact_pii, redactor=redactor_version()
    )
    seconds = round(time.perf_counter() - started, 2)
    get_run_logger().info("write_analyst_snapshot: %s (%.2f s)", path.resolve(), seconds)
    return {"path": str(path.resolve()), "seconds": seconds}
