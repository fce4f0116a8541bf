"""Rank the latest clustering's hassles: warehouse readers in, :mod:`nlp.rank` out.

:func:`compute_ranking` reads the clustering's mentions, scored comments and hassle levels,
and ranks both levels with the configured ranker; :func:`ranking_rows` turns the result into
the rows :func:`warehouse.ranking.write_rankings` stores (the parts long-form, by factor).
Shared by the ``rank`` stage, the report and ``hasslemap report``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import duckdb

from config import Settings
from nlp.rank import (
    HassleInfo,
    HassleScore,
    Mention,
    RankWeights,
    TransparentRanker,
    TrendSettings,
    rank_levels,
)
from warehouse import ranking as store
from warehouse.core import now


@dataclass(frozen=True)
class Ranking:
    """A ranking and what it was built from.

    ``scores`` are the specific hassles (children), ranked among themselves; ``parents`` the
    parent hassles ranked among parents (empty when the clustering has one level), and
    ``parent_of`` maps each ranked child that has a ranked parent to it.
    """

    cluster_run: store.ClusterRun
    scores: list[HassleScore]
    info: dict[str, store.HassleRow]
    mentions: list[Mention]  # of the children, in the filtered period
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
        weights=RankWeights(r.weights),
        # rank.trend_<name> settings are TrendSettings' fields, so a new one needs no mapping
        trend=TrendSettings(
            **{name.removeprefix("trend_"): value for name, value in r if name.startswith("trend_")}
        ),
        min_specificity=r.min_specificity,
        specificity_margin=r.specificity_margin,
    )


def compute_ranking(
    conn: duckdb.DuckDBPyConnection, settings: Settings, filters: store.ReportFilter
) -> Ranking | None:
    """Rank the latest clustering's hassles over the filtered comments (None before any).

    The trends end at the end of ``filters.until`` when given (else at the clustering's
    window end), and compare with the weeks before even where ``filters.since`` cuts them
    off: mentions before ``since`` are read for the trends only, and count nowhere else.
    A comparison period reaching back before the clustering's window is cut to the window.
    The trends compare each hassle's share of all the window's comments (in the filtered
    channels and products), so the days before a source delivered are no baseline.
    """
    run = store.latest_cluster_run(conn)
    if run is None:
        return None
    mentions = store.read_mentions(conn, run.run_id, replace(filters, since=None))
    counted_from = _midnight(filters.since) if filters.since else None
    counted = [m for m in mentions if counted_from is None or m.created_at >= counted_from]
    as_of = run.window_end
    if filters.until:
        as_of = min(as_of, _midnight(filters.until + timedelta(days=1)))
    window = (run.window_start, run.window_end)
    scored = store.read_scored_comments(conn, window, filters)
    volume = store.read_comment_times(conn, window, replace(filters, since=None))
    info = store.read_hassle_info(conn)
    levels = store.read_hassle_levels(conn, run.run_id)
    # The ranking before this clustering's: during the night and in any report after it.
    before = store.read_previous_ranking(conn, run.run_id)
    children = []
    # Every hassle mentioned, before --since too: a child mentioned only earlier is not
    # ranked, but its mentions are its parent's trend baseline.
    for h in sorted({m.hassle_id for m in mentions}):
        level = levels.get(h)
        parent = level.parent_id if level and level.parent_id in info else None
        specificity = level.specificity if level else None
        children.append(
            HassleInfo(h, specificity, parent, before[h].generic if h in before else None)
        )
    parents = [
        HassleInfo(p, levels[p].specificity if p in levels else None)
        for p in sorted({c.parent_id for c in children if c.parent_id is not None})
    ]
    ranked = rank_levels(
        make_ranker(settings),
        mentions,
        children,
        parents,
        scored,
        as_of=as_of,
        counted_from=counted_from,
        history_from=run.window_start,
        volume=volume,
    )
    parent_of = {c.hassle_id: c.parent_id for c in children if c.parent_id is not None}
    return Ranking(run, ranked.children, info, counted, ranked.parents, parent_of, levels)


def change_since(score: HassleScore, previous: Mapping[str, store.PreviousRank]) -> str:
    """Its move since the previous ranking (``previous``: hassle id -> its place there).

    ``new`` when that ranking lacks the hassle, else ``rising`` (a better rank), ``falling``
    (a worse one) or ``steady`` (the same rank). What customers say over time is the trend's.
    """
    if score.hassle_id not in previous:
        return "new"
    before = previous[score.hassle_id].rank
    return "rising" if score.rank < before else "falling" if score.rank > before else "steady"


def changes_since(ranking: Ranking, previous: Mapping[str, store.PreviousRank]) -> dict[str, str]:
    """Hassle id -> its ``change`` (:func:`change_since`), at both levels.

    A ranking the same as the previous one, every hassle at the same rank with the same score,
    is a rerun over the same data: it keeps the previous ranking's changes, so that a second
    run in a night reports what the first did instead of "steady" for every hassle.
    """
    scores = [*ranking.scores, *ranking.parents]
    now_ranked = {s.hassle_id: (s.rank, round(s.total, 9)) for s in scores}
    if previous and now_ranked == {h: (p.rank, round(p.score, 9)) for h, p in previous.items()}:
        return {h: p.change for h, p in previous.items()}
    return {s.hassle_id: change_since(s, previous) for s in scores}


def ranking_rows(
    ranking: Ranking, run_id: str, previous: Mapping[str, store.PreviousRank]
) -> list[store.RankingRow]:
    """The rows to store for a ranking: the children, then the parents."""
    stamp = now()
    changes = changes_since(ranking, previous)
    levels = [("child", s) for s in ranking.scores] + [("parent", s) for s in ranking.parents]
    rows = []
    for level, s in levels:
        info = ranking.info[s.hassle_id]
        rows.append(
            store.RankingRow(
                run_id=run_id,
                rank=s.rank,
                hassle_id=s.hassle_id,
                level=level,
                parent_id=ranking.parent_of.get(s.hassle_id),
                specificity=ranking.specificity(s.hassle_id),
                label=info.label,
                stage=info.stage,
                theme=info.theme,
                generic=s.generic,
                total_score=s.total,
                weights=s.weights,
                customers=s.customers,
                comments=s.comments,
                severity_mean=s.severity_mean,
                severity_p90=s.severity_p90,
                trend=s.trend_label,
                trend_7d=s.trend_7d.label,
                trend_7d_ratio=_finite(s.trend_7d.ratio),
                trend_7d_p=s.trend_7d.p_value,
                trend_30d=s.trend_30d.label,
                trend_30d_ratio=_finite(s.trend_30d.ratio),
                trend_30d_p=s.trend_30d.p_value,
                channels=s.channels,
                channel_count=len(s.channels),
                repeat_customers=s.repeat_customers,
                value_at_risk=s.value_at_risk,
                nps_impact=s.nps_impact,
                csat_impact=s.csat_impact,
                change=changes[s.hassle_id],
                example_unit_ids=list(info.quote_unit_ids or [])[:5],
                ranked_at=stamp,
                parts=dict(s.parts),
            )
        )
    return rows


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
