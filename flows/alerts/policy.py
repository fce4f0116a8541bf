"""Which hassles to announce: new (and emerging) or rising past a threshold, once each.

Pure: rows of :func:`warehouse.alerts.read_alert_candidates` and what was sent in, alerts out.
The rules are in :func:`choose_alerts`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from config import Settings
from config.stages import AlertSettings
from flows.report.columns import Names
from nlp.factors import FACTORS
from nlp.redact import redact_pii

NEW = "new"
RISING = "rising"
LABEL_MAX_CHARS = 200
# Score parts an alert names as the reason for the hassle's rank.
WHY_PARTS = 3


@dataclass(frozen=True)
class Alert:
    """One hassle to announce, and why: ``states`` holds ``new`` and/or ``rising``."""

    hassle_id: str
    states: tuple[str, ...]
    rank: int
    label: str  # redacted
    stage: str | None
    theme: str | None
    score: float  # 0..1
    customers: int
    comments: int
    trend_7d: str
    trend_7d_ratio: float | None
    # The largest score parts: (factor label, points of the 0-100 score), largest first.
    why: tuple[tuple[str, float], ...] = ()

    def facts(self) -> dict[str, Any]:
        """The alert as plain values, for ``alerts_sent.payload``."""
        return {**asdict(self), "states": list(self.states), "why": [list(w) for w in self.why]}


def named(alert: Alert, names: Names) -> Alert:
    """``alert`` with its stage and theme named as the report names them (keys it has not)."""
    return replace(alert, stage=names.stage(alert.stage), theme=names.theme(alert.theme))


def top_parts(row: dict[str, Any], count: int = WHY_PARTS) -> tuple[tuple[str, float], ...]:
    """A ranked row's ``count`` largest score parts, as (factor label, points of 0-100).

    Reads ``parts`` (factor -> value) and ``weights`` (factor -> weight, or its JSON) and
    loops over the factor registry, so a new factor shows without a change here. A part at
    or below its factor's ``neutral`` value (a steady trend) is no reason and is left out.
    Ties keep the registry's order; a row without parts has none.
    """
    parts = row.get("parts") or {}
    weights = row.get("weights") or {}
    if isinstance(weights, str):
        weights = json.loads(weights)
    points = [
        (f.label, 100 * parts[f.name] * float(weights.get(f.name, 0.0)))
        for f in FACTORS
        if f.name in parts and parts[f.name] > f.neutral
    ]
    return tuple(sorted(points, key=lambda p: -p[1])[:count])


def _alert_settings(settings: Settings | AlertSettings) -> AlertSettings:
    return settings.alerts if isinstance(settings, Settings) else settings


def regrouped_new_hassles(
    candidates: Iterable[dict[str, Any]], settings: Settings | AlertSettings
) -> list[tuple[str, float]]:
    """New, non-generic hassles that do not alert as new: regrouped from older comments.

    Args:
        candidates: Rows of :func:`warehouse.alerts.read_alert_candidates`.
        settings: The settings (or just their ``alerts`` part).

    Returns:
        (hassle_id, fresh_share) pairs, by rank.
    """
    cfg = _alert_settings(settings)
    return [
        (row["hassle_id"], float(row["fresh_share"]))
        for row in sorted(candidates, key=lambda r: (r["rank"], r["hassle_id"]))
        if row.get("status") == NEW and not row["generic"] and not _emerging(row, cfg)
    ]


def _emerging(row: dict[str, Any], cfg: AlertSettings) -> bool:
    # A new cluster made of comments the last clustering already had is a regrouping (HDBSCAN
    # redraws its borders as the window moves), not a hassle that has just appeared.
    fresh = row.get("fresh_share")
    return fresh is None or fresh >= cfg.new_min_fresh_share


def qualifying_alerts(
    candidates: Iterable[dict[str, Any]],
    sent: Collection[tuple[str, str]],
    settings: Settings | AlertSettings,
    pending: Collection[tuple[str, str]] = (),
) -> list[Alert]:
    """Every alert due before the ``max_per_run`` cap (:func:`cap_alerts`).

    Tonight's news (new now and emerging, or rising) comes first, an alert due only because
    an earlier run held it back after; each part best rank first. See :func:`choose_alerts`.
    """
    cfg = _alert_settings(settings)
    news, held_before = [], []
    for row in sorted(candidates, key=lambda r: (r["rank"], r["hassle_id"])):
        if row["generic"] or int(row["customers"]) < cfg.min_customers:
            continue
        hassle_id = row["hassle_id"]
        states = []
        new_now = row.get("status") == NEW and _emerging(row, cfg)
        rises = _rises_enough(row, cfg)
        if cfg.on_new and (new_now or (hassle_id, NEW) in pending):
            states.append(NEW)
        if rises:
            states.append(RISING)
        states = [s for s in states if (hassle_id, s) not in sent]
        if not states:
            continue
        ratio = row.get("trend_7d_ratio")
        (news if new_now or rises else held_before).append(
            Alert(
                hassle_id=hassle_id,
                states=tuple(states),
                rank=int(row["rank"]),
                label=redact_pii(str(row["label"]))[:LABEL_MAX_CHARS],
                stage=row.get("stage"),
                theme=row.get("theme"),
                score=float(row["total_score"]),
                customers=int(row["customers"]),
                comments=int(row["comments"]),
                trend_7d=str(row.get("trend_7d")),
                trend_7d_ratio=None if ratio is None else float(ratio),
                why=top_parts(row),
            )
        )
    return news + held_before


def cap_alerts(due: Sequence[Alert], room: int) -> tuple[list[Alert], list[Alert]]:
    """The first ``room`` of ``due``, best rank first, and the rest (held for a later run)."""
    room = max(0, room)
    return sorted(due[:room], key=lambda a: (a.rank, a.hassle_id)), list(due[room:])


def choose_alerts(
    candidates: Iterable[dict[str, Any]],
    sent: Collection[tuple[str, str]],
    settings: Settings | AlertSettings,
    pending: Collection[tuple[str, str]] = (),
) -> list[Alert]:
    """The hassles to announce now, best rank first, at most ``alerts.max_per_run``.

    A hassle qualifies as ``new`` when its ``hassles.status`` is ``new`` (first found by the
    latest clustering), ``alerts.on_new`` is set, and it is emerging: at least
    ``alerts.new_min_fresh_share`` of its units come from comments newer than the clustering
    before (``fresh_share``; None, as on the first clustering, counts as emerging); as
    ``rising`` when its 7-day trend is ``rising`` (already significance-guarded by the ranker)
    and its 7-day ratio is at least ``alerts.rising_ratio``, or when it is a known hassle whose
    7-day trend is ``new`` (back from silence: no mention in the 28 days before). Generic
    hassles and those fewer than ``alerts.min_customers`` raised never alert, and a (hassle,
    state) already in ``sent`` is skipped. A hassle that qualifies for both gets one alert with both states.
    A ``new`` alert a run held back or could not deliver (in ``pending``) qualifies while its
    hassle is ranked, even once the hassle is no longer new (the next night's clustering makes
    it active): :func:`stale_pending` drops it once that is late news; a pending ``rising`` one
    qualifies only while it rises.

    Args:
        candidates: Rows of :func:`warehouse.alerts.read_alert_candidates`.
        sent: (hassle_id, state) pairs already alerted (a set, or the dict of
            :func:`warehouse.alerts.read_sent`).
        settings: The settings (or just their ``alerts`` part).
        pending: (hassle_id, state) pairs due earlier but not delivered, and not stale (the
            dict of :func:`warehouse.alerts.read_pending`, less :func:`stale_pending`).

    Past the cap, tonight's news goes first: an alert due only because an earlier run held
    it back (a pending ``new``) waits behind every hassle new or rising now, whatever their
    ranks, so a first run's backlog never delays a hassle that appeared since.

    Returns:
        The alerts, sorted by rank; hassles past the cap are left for a later run (while
        they still qualify).
    """
    due = qualifying_alerts(candidates, sent, settings, pending)
    return cap_alerts(due, _alert_settings(settings).max_per_run)[0]


def stale_rising(
    candidates: Sequence[dict[str, Any]], sent: Collection[tuple[str, str]]
) -> list[str]:
    """Hassles alerted as rising that this ranking no longer has rising (or no longer ranks).

    Args:
        candidates: Rows of the run's ranking (an empty ranking clears nothing).
        sent: (hassle_id, state) pairs already alerted.

    Returns:
        The hassle ids whose ``rising`` record should be cleared, sorted.
    """
    if not candidates:
        return []
    still_rising = {r["hassle_id"] for r in candidates if _is_rising(r)}
    return sorted(h for h, state in sent if state == RISING and h not in still_rising)


def _is_rising(row: Mapping[str, Any]) -> bool:
    """Whether the row's 7-day trend rises: ``rising``, or a known hassle's ``new`` trend.

    A ``new`` 7-day trend is a significant burst with no mention in the 28 days before: a
    hassle that comes back from silence rises without bound. A hassle that is itself new
    alerts as new instead, and so does one first found within that window
    (``seen_before_window`` false): found last night, it is ``active`` tonight, and its burst
    is the appearance it was announced for, not a return.
    """
    trend = row.get("trend_7d")
    returned = row.get("status") != NEW and row.get("seen_before_window") is not False
    return trend == RISING or (trend == NEW and returned)


def _rises_enough(row: Mapping[str, Any], cfg: AlertSettings) -> bool:
    """Whether the row's 7-day trend rises by at least ``alerts.rising_ratio`` (a new one does)."""
    if row.get("trend_7d") == NEW:
        return _is_rising(row)
    ratio = row.get("trend_7d_ratio")
    return _is_rising(row) and ratio is not None and ratio >= cfg.rising_ratio


def stale_pending(
    candidates: Sequence[dict[str, Any]],
    pending: Mapping[tuple[str, str], int],
    settings: Settings | AlertSettings,
) -> dict[tuple[str, str], str]:
    """Pending alerts no longer true or timely, to drop unsent, each with the reason.

    ``retired``: the ranking no longer has the hassle. ``no longer rising``: a pending
    ``rising`` alert whose hassle this ranking does not have rising by at least
    ``alerts.rising_ratio`` (a rise fallen under the alert's threshold would otherwise wait
    unsent, neither sent nor dropped). ``no longer new``: a pending ``new`` alert whose hassle
    is not new any more and that more than ``alerts.pending_new_runs`` rankings have passed
    over since it was due. ``too few customers``: its hassle is now raised by fewer than
    ``alerts.min_customers`` customers, so it would never go out.

    Args:
        candidates: Rows of the run's ranking (an empty ranking drops nothing).
        pending: (hassle_id, state) -> rankings since the one that made it due (the dict of
            :func:`warehouse.alerts.read_pending`).
        settings: The settings (or just their ``alerts`` part).

    Returns:
        (hassle_id, state) -> reason, for the pending alerts to drop.
    """
    if not candidates:
        return {}
    cfg = _alert_settings(settings)
    ranked = {row["hassle_id"]: row for row in candidates}
    stale = {}
    for (hassle_id, state), runs_since in sorted(pending.items()):
        row = ranked.get(hassle_id)
        if row is None:
            stale[hassle_id, state] = "retired"
        elif int(row["customers"]) < cfg.min_customers:
            stale[hassle_id, state] = "too few customers"
        elif state == RISING and not _rises_enough(row, cfg):
            stale[hassle_id, state] = "no longer rising"
        elif state == NEW and row.get("status") != NEW and runs_since > cfg.pending_new_runs:
            stale[hassle_id, state] = "no longer new"
    return stale
