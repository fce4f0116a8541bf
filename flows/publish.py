"""The ``rank`` and ``publish`` stages: score the hassles, then show them to people.

* ``rank_hassles`` scores every hassle of the latest clustering with the ranker
  (:mod:`nlp.rank`) and stores the run's ranking in ``hassle_rankings``: the specific hassles
  (children) ranked among themselves and, when the clustering grouped them, their parents
  ranked among parents (:func:`nlp.rank.rank_levels`).
* ``publish_results`` redacts new comment text for the views, writes the HTML, Markdown and
  CSV report, and publishes the top hassles as Prefect artifacts.

:func:`build_report` is shared with ``hasslemap report``, which re-ranks with filters.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import Settings
from config.taxonomy import Taxonomy
from flows.report.model import Quote, RankedHassle, ReportData, ScorePart
from nlp.rank import (
    HassleInfo,
    HassleScore,
    Mention,
    RankWeights,
    ScoredComment,
    TransparentRanker,
    TrendSettings,
    rank_levels,
)
from nlp.redact import redact_pii
from warehouse import ranking as store
from warehouse.enrichment import now

PART_LABELS = {
    "reach": "Reach",
    "severity": "Severity",
    "repeat": "Repeat contacts",
    "spread": "Spread across channels",
    "trend": "Trend",
    "value": "Value at risk",
    "impact": "Score impact",
}
QUOTE_CONTEXT_CHARS = 240
# Specific hassles shown under each parent in the run's summary (CLI, Prefect markdown).
SUMMARY_CHILDREN = 3


@dataclass(frozen=True)
class Ranking:
    """A ranking and what it was built from.

    ``scores`` are the specific hassles (children), ranked among themselves; ``parents`` the
    parent hassles ranked among parents (empty when the clustering has one level), and
    ``parent_of`` maps each ranked child that has a ranked parent to it.
    """

    cluster_run: store.ClusterRun
    scores: list[HassleScore]
    info: dict[str, tuple[Any, ...]]  # hassle_id -> read_hassle_info row
    mentions: list[Mention]  # of the children
    parents: list[HassleScore] = field(default_factory=list)
    parent_of: dict[str, str] = field(default_factory=dict)
    levels: dict[str, store.HassleLevel] = field(default_factory=dict)

    def children_of(self, parent_id: str) -> list[HassleScore]:
        """The ranked children of ``parent_id``, in rank order."""
        return [s for s in self.scores if self.parent_of.get(s.hassle_id) == parent_id]

    def specificity(self, hassle_id: str) -> float | None:
        """The hassle's specificity in the clustering, or None when not measured."""
        level = self.levels.get(hassle_id)
        return level.specificity if level else None


def make_ranker(settings: Settings) -> TransparentRanker:
    """The default ranker, with weights and trend settings from config."""
    r = settings.rank
    return TransparentRanker(
        weights=RankWeights(**r.weights.model_dump()),
        trend=TrendSettings(
            short_days=r.trend_short_days,
            long_days=r.trend_long_days,
            baseline_days=r.trend_baseline_days,
            min_mentions=r.trend_min_mentions,
            alpha=r.trend_alpha,
            min_change=r.trend_min_change,
        ),
        min_specificity=r.min_specificity,
    )


def compute_ranking(
    conn: duckdb.DuckDBPyConnection, settings: Settings, filters: store.ReportFilter
) -> Ranking | None:
    """Rank the latest clustering's hassles over the filtered comments (None before any)."""
    run = store.latest_cluster_run(conn)
    if run is None:
        return None
    mentions = [Mention(*row) for row in store.read_mentions(conn, run.run_id, filters)]
    window = (run.window_start, run.window_end)
    scored = [ScoredComment(*row) for row in store.read_scored_comments(conn, window, filters)]
    info = {row[0]: row for row in store.read_hassle_info(conn)}
    levels = store.read_hassle_levels(conn, run.run_id)
    children = []
    for h in sorted({m.hassle_id for m in mentions}):
        level = levels.get(h)
        parent = level.parent_id if level and level.parent_id in info else None
        children.append(HassleInfo(h, level.specificity if level else None, parent))
    parents = [
        HassleInfo(p, levels[p].specificity if p in levels else None)
        for p in sorted({c.parent_id for c in children if c.parent_id is not None})
    ]
    ranked = rank_levels(
        make_ranker(settings), mentions, children, parents, scored, as_of=run.window_end
    )
    parent_of = {c.hassle_id: c.parent_id for c in children if c.parent_id is not None}
    return Ranking(run, ranked.children, info, mentions, ranked.parents, parent_of, levels)


def _change(score: HassleScore, previous: dict[str, tuple[int, float]]) -> str:
    if score.hassle_id not in previous:
        return "new"
    return score.trend_label if score.trend_label in ("rising", "falling") else "steady"


def ranking_rows(
    ranking: Ranking, run_id: str, previous: dict[str, tuple[int, float]]
) -> list[dict[str, Any]]:
    """The ``hassle_rankings`` rows of a ranking: the children, then the parents."""
    stamp = now()
    rows = []
    levels = [("child", s) for s in ranking.scores] + [("parent", s) for s in ranking.parents]
    for level, s in levels:
        info = ranking.info[s.hassle_id]
        rows.append(
            {
                "run_id": run_id,
                "rank": s.rank,
                "hassle_id": s.hassle_id,
                "level": level,
                "parent_id": ranking.parent_of.get(s.hassle_id),
                "specificity": ranking.specificity(s.hassle_id),
                "label": info[1],
                "stage": info[2],
                "theme": info[4],
                "generic": s.generic,
                "total_score": s.total,
                **{f"{part}_score": s.parts.get(part) for part in PART_LABELS},
                "weights": s.weights,
                "customers": s.customers,
                "comments": s.comments,
                "severity_mean": s.severity_mean,
                "severity_p90": s.severity_p90,
                "trend": s.trend_label,
                "trend_7d": s.trend_7d.label,
                "trend_7d_ratio": _finite(s.trend_7d.ratio),
                "trend_7d_p": s.trend_7d.p_value,
                "trend_30d": s.trend_30d.label,
                "trend_30d_ratio": _finite(s.trend_30d.ratio),
                "trend_30d_p": s.trend_30d.p_value,
                "channels": s.channels,
                "channel_count": len(s.channels),
                "repeat_customers": s.repeat_customers,
                "value_at_risk": s.value_at_risk,
                "nps_impact": s.nps_impact,
                "csat_impact": s.csat_impact,
                "change": _change(s, previous),
                "example_unit_ids": list(info[8] or [])[:5],
                "ranked_at": stamp,
            }
        )
    return rows


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


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
    children = [r for r in rows if r["level"] == "child"]
    parents = [r for r in rows if r["level"] == "parent"]
    top = [f"{r['rank']}. {r['label']} ({r['total_score']:.2f})" for r in (parents or children)[:5]]
    logger.info(
        "rank_hassles: %d hassles ranked, %d parents; top: %s",
        len(children),
        len(parents),
        "; ".join(top),
    )
    counts = {
        "hassles_ranked": len(children),
        "parents_ranked": len(parents),
        "rising": sum(r["trend"] == "rising" for r in children),
        "new_since_last_run": sum(r["change"] == "new" for r in children),
    }
    return counts, ranking


def _quote(row: tuple[Any, ...]) -> Quote:
    """A redacted quote, cut around its pain-point sentence, with the sentence's span."""
    comment_id, channel, created_at, text, start, end = row
    head, sentence, tail = text[:start], text[start:end], text[end:]
    if len(head) > QUOTE_CONTEXT_CHARS:
        head = "…" + head[-QUOTE_CONTEXT_CHARS:].split(" ", 1)[-1]
    if len(tail) > QUOTE_CONTEXT_CHARS:
        tail = tail[:QUOTE_CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    # Redact each part on its own, so the highlight still covers exactly the sentence.
    head, sentence, tail = redact_pii(head), redact_pii(sentence), redact_pii(tail)
    return Quote(
        comment_id=comment_id,
        channel=channel,
        created_at=created_at,
        text=head + sentence + tail,
        highlight_start=len(head),
        highlight_end=len(head) + len(sentence),
    )


def _part_detail(key: str, s: HassleScore) -> str:
    if key == "reach":
        return f"{s.customers:,} customers, {s.comments:,} comments"
    if key == "severity":
        return f"mean {s.severity_mean:.2f}, 90th percentile {s.severity_p90:.2f}"
    if key == "repeat":
        return f"{s.repeat_customers:,} of {s.customers:,} customers raised it again"
    if key == "spread":
        return ", ".join(f"{c} {n:,}" for c, n in sorted(s.channels.items()))
    if key == "trend":
        return f"{_trend_detail(s.trend_7d, '7')}; {_trend_detail(s.trend_30d, '30')}"
    if key == "value":
        return f"{s.value_at_risk:,.0f} customer value" if s.value_at_risk is not None else "n/a"
    if key == "impact":
        bits = []
        if s.nps_impact is not None:
            bits.append(f"NPS +{s.nps_impact:.1f} without it")
        if s.csat_impact is not None:
            bits.append(f"CSAT +{s.csat_impact:.1f} pts without it")
        return ", ".join(bits) or "no scores"
    return ""


def _trend_detail(trend: Any, days: str) -> str:
    if trend.label == "new":
        return f"{trend.recent} mentions in the last {days} days, none before"
    if trend.ratio is None or not math.isfinite(trend.ratio):
        return f"{trend.recent} mentions in the last {days} days"
    change = (trend.ratio - 1) * 100
    p = f", p = {trend.p_value:.3f}" if trend.p_value is not None else ""
    return f"{change:+.0f}% a day in the last {days} days vs the days before ({trend.label}{p})"


def build_report(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    *,
    run_id: str,
    filters: store.ReportFilter | None = None,
    top: int | None = None,
    ranking: Ranking | None = None,
) -> ReportData | None:
    """Everything the report shows, ranked over the filtered comments; None before any run.

    With two levels, the report's hassles are the top ``top`` parents, each holding all its
    ranked children in rank order; children without a parent follow the parents. With one
    level, they are the top ``top`` hassles, as before.
    """
    filters = filters or store.ReportFilter()
    ranking = ranking or compute_ranking(conn, settings, filters)
    if ranking is None:
        return None
    run = ranking.cluster_run
    top = top or settings.report.top
    previous = store.read_previous_ranking(conn, run_id)
    if ranking.parents:
        orphans = [s for s in ranking.scores if s.hassle_id not in ranking.parent_of]
        chosen = [(s, ranking.children_of(s.hassle_id)) for s in ranking.parents]
        chosen = (chosen + [(s, []) for s in orphans])[:top]
    else:
        chosen = [(s, []) for s in ranking.scores[:top]]
    shown = [s for parent, children in chosen for s in (parent, *children)]
    quote_ids = [u for s in shown for u in (ranking.info[s.hassle_id][8] or [])]
    quotes = store.read_quotes(conn, quote_ids)
    days = _days(run.window_start.date() + timedelta(days=1), run.window_end.date())
    by_hassle = _daily_mentions(ranking)

    def ranked(s: HassleScore, children: tuple[RankedHassle, ...] = ()) -> RankedHassle:
        info = ranking.info[s.hassle_id]
        counts = by_hassle.get(s.hassle_id, Counter())
        return RankedHassle(
            rank=s.rank,
            hassle_id=s.hassle_id,
            label=redact_pii(info[1]),
            stage=info[2],
            theme=info[4],
            score=s.total,
            parts=tuple(
                ScorePart(
                    key=key,
                    label=PART_LABELS.get(key, key),
                    value=s.parts[key],
                    weight=s.weights[key],
                    contribution=s.parts[key] * s.weights[key],
                    detail=_part_detail(key, s),
                )
                for key in PART_LABELS
                if key in s.parts
            ),
            customers=s.customers,
            comments=s.comments,
            severity_mean=s.severity_mean,
            trend_label=s.trend_label,
            trend_detail=f"{_trend_detail(s.trend_7d, '7')}; {_trend_detail(s.trend_30d, '30')}",
            daily_counts=tuple((d, counts.get(d, 0)) for d in days),
            channel_mix=dict(sorted(s.channels.items())),
            quotes=tuple(
                _quote(quotes[u]) for u in (info[8] or [])[: settings.report.quotes] if u in quotes
            ),
            change=_change(s, previous),
            keyphrases=tuple(redact_pii(k) for k in (info[7] or [])[:6]),
            generic=s.generic,
            level="parent" if s.hassle_id in parent_ids else "child",
            parent_id=ranking.parent_of.get(s.hassle_id),
            specificity=ranking.specificity(s.hassle_id),
            children=children,
        )

    parent_ids = {s.hassle_id for s in ranking.parents}
    hassles = [ranked(parent, tuple(ranked(c) for c in children)) for parent, children in chosen]
    resolved = tuple(
        (hid, redact_pii(row[1]))
        for hid, row in ranking.info.items()
        if row[6] == "retired" and hid in previous
    )
    figures = store.read_run_figures(conn, run)
    coverage = run.units_clustered / run.units_in if run.units_in else 0.0
    level_counts = Counter(level.level for level in ranking.levels.values())
    if level_counts["parent"]:
        hassle_figures = {
            "Hassle groups (parents)": f"{level_counts['parent']:,}",
            "Specific hassles": f"{level_counts['child']:,}",
        }
    else:
        hassle_figures = {"Recurring hassles": f"{run.hassles:,}"}
    return ReportData(
        title=settings.report.title,
        generated_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        run_id=run_id,
        window_start=run.window_start.date(),
        window_end=run.window_end.date(),
        filters=filters.describe(),
        hassles=tuple(hassles),
        stages=tuple((s.key, s.name) for s in taxonomy.stages),
        themes=tuple((t.key, t.name) for t in taxonomy.themes),
        heatmap=store.read_stage_theme_counts(conn, (run.window_start, run.window_end), filters),
        figures={
            "Comments in the window": f"{figures['comments']:,}",
            "Customers": f"{figures['customers']:,}",
            "Pain-point sentences": f"{run.units_in:,}",
            "In a recurring hassle (coverage)": f"{coverage:.0%}",
            **hassle_figures,
            "Pain points with no journey stage": f"{figures['pain_points_unassigned_stage']:,}",
            "Sentences in an unsupported language": f"{figures['units_unsupported_language']:,}",
            "Records quarantined / repaired": f"{figures['quarantined']:,} / {figures['repaired']:,}",
        },
        resolved=resolved,
    )


def _daily_mentions(ranking: Ranking) -> dict[str, Counter[date]]:
    """hassle_id -> comments a day, for every child and parent (a comment once per parent)."""
    by_hassle: dict[str, Counter[date]] = {}
    counted: set[tuple[str, str]] = set()
    for m in ranking.mentions:
        day = m.created_at.date()
        by_hassle.setdefault(m.hassle_id, Counter())[day] += 1
        parent = ranking.parent_of.get(m.hassle_id)
        if parent is not None and (parent, m.comment_id) not in counted:
            counted.add((parent, m.comment_id))
            by_hassle.setdefault(parent, Counter())[day] += 1
    return by_hassle


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def summary_markdown(data: ReportData, report_path: Path | None) -> str:
    """A short Markdown summary of the top hassles, for the Prefect UI.

    With two levels: each parent, then its top :data:`SUMMARY_CHILDREN` children (``↳``).
    """
    lines = [
        f"# {data.title}",
        f"Window {data.window_start} to {data.window_end}, run `{data.run_id}`.",
        "",
        "| # | hassle | stage | theme | score | customers | trend | change |",
        "|---:|---|---|---|---:|---:|---|---|",
    ]
    for h in data.hassles:
        for item, child in ((h, False), *((c, True) for c in h.children[:SUMMARY_CHILDREN])):
            label = item.label.replace("|", "\\|").replace("<", "&lt;")
            label = f"↳ {label}" if child else label
            lines.append(
                f"| {item.rank} | {label} | {item.stage or ''} | {item.theme or ''} | "
                f"{100 * item.score:.0f} | {item.customers:,} | {item.trend_label} | "
                f"{item.change} |"
            )
    if data.two_level:
        lines += ["", "Groups are ranked among groups; ↳ ranks are among all specific hassles."]
    if report_path:
        lines += ["", f"Full report: `{report_path}`"]
    return "\n".join(lines)


def artifact_rows(data: ReportData) -> list[dict[str, Any]]:
    """The top hassles as table-artifact rows (redacted labels, plain values).

    With two levels: each parent followed by all its children, with ``level`` and
    ``parent_id`` columns.
    """
    rows = []
    for h in data.hassles:
        for item in (h, *h.children):
            row: dict[str, Any] = {"rank": item.rank, "hassle_id": item.hassle_id}
            if data.two_level:
                row |= {"level": item.level, "parent_id": item.parent_id}
            rows.append(
                row
                | {
                    "label": item.label,
                    "stage": item.stage,
                    "theme": item.theme,
                    "score": round(100 * item.score, 1),
                    "customers": item.customers,
                    "comments": item.comments,
                    "trend": item.trend_label,
                    "change": item.change,
                    "why": json.dumps({p.key: round(p.contribution, 3) for p in item.parts}),
                }
            )
    return rows


@task(name="publish_results", cache_policy=NO_CACHE)
def publish_results(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    run_id: str,
    ranking: Ranking | None = None,
) -> dict[str, Any]:
    """Redact new text for the views, write the report files and the Prefect artifacts."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from flows.report.render import write_report

    logger = get_run_logger()
    redacted = store.refresh_redacted_text(conn, redact_pii)
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
    import time

    from warehouse.snapshot import write_snapshot

    started = time.perf_counter()
    path = write_snapshot(conn, Path(settings.snapshot_path), run_id, redact_pii)
    seconds = round(time.perf_counter() - started, 2)
    get_run_logger().info("write_analyst_snapshot: %s (%.2f s)", path.resolve(), seconds)
    return {"path": str(path.resolve()), "seconds": seconds}
