"""Tonight's two-level hassles before and after they get ids: pure data and id tracking.

The cluster flow (flows/cluster.py) finds children and parents (:class:`TwoLevel`), gives both
levels ids with :func:`track_level` (:class:`LevelIds`, :class:`Tracked`) and keeps a hassle's
label while it still fits (:func:`kept_label`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import numpy as np

from nlp.cluster import CORE, NOISE, SOFT, UNASSIGNED, Clustering, cluster_centroids
from nlp.hierarchy import Incremental
from nlp.label import ClusterLabel, LabelInput
from nlp.label_support import keep_label, night_corpus, tell_apart
from nlp.rank import is_generic
from nlp.redact import redact_in_context, redact_pii
from nlp.rows import HassleRow
from nlp.specificity import Corpus
from nlp.terms import ReadUnit
from nlp.track import (
    STATUS_ACTIVE,
    STATUS_NEW,
    CurrentCluster,
    Lineage,
    OverlapCentroidTracker,
    PreviousHassle,
)


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
        held: On a routine full night held to the kept hassles (:mod:`nlp.anchor`): late
            finds folded into kept children, and kept children restored (else empty).
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
    held: dict[str, int] = field(default_factory=dict)

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

    def summary(self) -> str:
        """How many ids were kept, new, retired and revived, and the lineage links."""
        statuses = list(self.status.values())
        return (
            f"{statuses.count(STATUS_ACTIVE)} kept their id, {statuses.count(STATUS_NEW)} new, "
            f"{len(self.retired)} retired, {len(self.revived)} revived, "
            f"{len(self.lineage)} lineage links"
        )


def track_level(
    tracker: OverlapCentroidTracker,
    previous: list[PreviousHassle],
    revivable: list[PreviousHassle],
    current: list[CurrentCluster],
    known: dict[int, str] | None,
    present: frozenset[str],
    new_id: Callable[[], str],
    previous_labels: dict[str, str],
) -> LevelIds:
    """Ids for one level's ``current`` clusters: tracked, or known and tracked.

    A full night tracks every cluster; an incremental one takes ``known`` (number -> id) for
    last night's clusters and tracks only the new ones.

    Args:
        tracker: Matches clusters to hassles.
        previous: Last night's live hassles of the level.
        revivable: Hassles of the level retired recently enough to come back.
        current: Tonight's clusters.
        known: Cluster number -> id of last night's hassles (incremental nights), or None.
        present: Units in tonight's window.
        new_id: Makes the next fresh id.
        previous_labels: Id -> latest label, of ``previous`` and ``revivable``.
    """
    if known is None:
        result = tracker.track(
            previous, current, present_units=present, new_id=new_id, revivable=revivable
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
        revivable=revivable,
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


@dataclass(frozen=True)
class Labels:
    """Tonight's labels of both levels, by number, and what each clustered unit reads as.

    ``read`` maps a unit's index to what the labeller read in it
    (:meth:`nlp.label.CtfidfLabeller.read`): a kept label is judged on it as tonight's are.
    """

    children: dict[int, ClusterLabel]
    parents: dict[int, ClusterLabel]
    read: Mapping[int, ReadUnit]


def kept_label(
    number: int,
    label: str,
    level: LevelIds,
    members: Sequence[ReadUnit],
    min_share: float,
    corpus: Corpus,
) -> str:
    """Tonight's label, or the previous one while it still describes the members."""
    before = level.previous_labels.get(level.matched_from[number] or "")
    keep = bool(before) and keep_label(before, label, members, min_share, corpus=corpus)
    return before if keep else label


@dataclass(frozen=True)
class HassleVersion:
    """A hassle's row tonight and its centroid (for matching tomorrow)."""

    row: HassleRow
    centroid: np.ndarray


def hassle_versions(
    vectors: np.ndarray,
    found: TwoLevel,
    labels: Labels,
    tracked: Tracked,
    label_keep_share: float,
) -> list[HassleVersion]:
    """Every child and parent with an id tonight: its counts, label (kept or new), centroid.

    Args:
        vectors: One row per unit.
        found: Tonight's children and parents.
        labels: The labels of both levels, and what each unit reads as (to judge a kept one).
        tracked: The ids of both levels.
        label_keep_share: ``cluster.label_keep_share``.
    """
    core = found.assigned_by == CORE
    corpus = night_corpus(labels.read.values())
    out = []
    for level_name, per_unit, level, level_labels, n in (
        ("child", found.labels, tracked.children, labels.children, found.n_children),
        ("parent", found.parent_labels, tracked.parents, labels.parents, found.n_parents),
    ):
        level_centroids = cluster_centroids(vectors, per_unit, n)
        member_rows = {k: np.flatnonzero(per_unit == k) for k in level.ids}
        sizes = {k: len(rows) for k, rows in member_rows.items()}
        kept = {
            k: kept_label(
                k,
                level_labels[k].label,
                level,
                [labels.read[i] for i in rows.tolist()],
                label_keep_share,
                corpus,
            )
            for k, rows in member_rows.items()
        }
        before = {k: level.previous_labels.get(level.matched_from[k] or "", "") for k in level.ids}
        keyphrases = {k: level_labels[k].keyphrases for k in level.ids}
        distinct = tell_apart(kept, keyphrases, sizes, before, corpus)
        for k, hassle_id in level.ids.items():
            label = level_labels[k]
            parent = found.parent_of_child[k] if level_name == "child" else None
            row = HassleRow(
                hassle_id=hassle_id,
                cluster=k,
                status=level.status[k],
                matched_from=level.matched_from[k],
                match_score=level.scores.get(k),
                label=distinct[k],
                keyphrases=list(label.keyphrases),
                stage=label.stage,
                stage_share=label.stage_share,
                theme=label.theme,
                theme_share=label.theme_share,
                quote_unit_ids=list(label.quote_unit_ids),
                units=sizes[k],
                units_core=int(core[member_rows[k]].sum()),
                level=level_name,
                parent_id=None if parent is None else tracked.parents.ids[int(parent)],
                specificity=label.specificity,
            )
            out.append(HassleVersion(row, level_centroids[k]))
    return out


def incremental_two_level(
    found: Incremental,
    before: list[tuple[str, str, float] | None],
    parent_of_child: np.ndarray,
    children: list[str],
    parents: list[str],
    min_cluster_size: int | None,
    seconds: float,
) -> TwoLevel:
    """Tonight's :class:`TwoLevel` from an incremental assignment.

    Args:
        found: What :func:`nlp.hierarchy.assign_incrementally` found.
        before: Per unit, its (child id, assigned_by, probability) last night, or None.
        parent_of_child: Parent number of each of last night's children.
        children: Ids of last night's children, by number.
        parents: Ids of last night's parents, by number.
        min_cluster_size: The full clustering's.
        seconds: Time the assignment took.
    """
    n_parents = len(parents)
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
    return TwoLevel(
        mode="incremental",
        reason=None,
        labels=found.labels,
        probabilities=probabilities,
        assigned_by=assigned_by,
        n_children=len(children) + found.n_new,
        parent_of_child=np.concatenate([parent_of_child, np.array(new_parents, dtype=np.int32)]),
        n_parents=n_parents,
        min_cluster_size=min_cluster_size,
        fitted_on=found.fitted_on,
        timings={"assign": round(seconds, 3)},
        known_children=dict(enumerate(children)),
        known_parents=dict(enumerate(parents)),
    )


def redacted_label_input(
    unit_id: str,
    text: str,
    lemmas: Sequence[str],
    noun_chunks: Sequence[str],
    stage: str | None,
    theme: str | None,
    said: str = "",
    pain_score: float | None = None,
) -> LabelInput:
    """What the labeller reads of one unit, with personal data out of all three texts.

    ``said`` is the unit as the customer wrote it, with what came before it: the PII found
    there leaves the unit too, though normalisation cut its cue ("Thanks, Sarah Jones for
    nothing" → "Sarah Jones for nothing", :func:`nlp.redact.redact_in_context`).
    ``pain_score`` puts the members the pain filter is sure of first among the quotes.
    """
    # The labeller reads the text, lemmas and noun chunks: a name leaves all three.
    redacted, pii = redact_in_context(text, said or text)
    kept_lemmas = tuple(w for w in lemmas if w not in pii)
    chunks = tuple(c for c in noun_chunks if pii.isdisjoint(c.split()))
    return LabelInput(unit_id, redacted, kept_lemmas, chunks, stage, theme, pain_score)


def published_labels(labels: dict[int, ClusterLabel]) -> dict[int, ClusterLabel]:
    """Labels and keyphrases as published: a phone number repeated in a cluster stays out."""
    return {
        k: replace(
            label,
            label=redact_pii(label.label),
            keyphrases=tuple(redact_pii(p) for p in label.keyphrases),
        )
        for k, label in labels.items()
    }


class _Dated(Protocol):
    created_at: datetime | None
    ingested_at: datetime | None


def new_since(
    units: Sequence[_Dated], full_window_end: datetime, full_clustered_at: datetime
) -> np.ndarray:
    """Per unit: new since the full clustering that ended at ``full_window_end``.

    New means dated after that clustering's newest comment, or loaded into the warehouse after
    it ran (``full_clustered_at``: a late export of older comments is news too); a unit with
    no time counts as new.
    """
    return np.array(
        [
            u.created_at is None
            or u.created_at > full_window_end
            or (u.ingested_at is not None and u.ingested_at > full_clustered_at)
            for u in units
        ],
        dtype=bool,
    )


def current_clusters(
    vectors: np.ndarray, labels: np.ndarray, n: int, unit_ids: np.ndarray
) -> list[CurrentCluster]:
    """Tonight's non-empty clusters of one level, with their centroids and member ids."""
    centroids = cluster_centroids(vectors, labels, n)
    return [
        CurrentCluster(k, centroids[k], frozenset(unit_ids[labels == k].tolist()))
        for k in range(n)
        if np.any(labels == k)
    ]


def specific_parent_labels(
    found: TwoLevel, children: dict[int, ClusterLabel], min_specificity: float
) -> np.ndarray:
    """Parent number per unit to name the parents by: a parent is named by its specific children.

    A child too unspecific to act on (``specificity < min_specificity``: "Frustrating.",
    "Please advise.") can lie near a specific one ("not what I expected from the Nimbus"), and
    share its parent. Its many members then named the parent ("not what i expected"). So the
    units of a generic child count as noise here when their parent also holds a specific child
    (a child whose specificity was not measured counts as specific); a parent of generic
    children only is named by all of them. Membership (:attr:`TwoLevel.parent_labels`) is
    unchanged; :func:`nlp.rank.rank_levels` ranks such a parent by its specific children too.
    """
    if not len(found.parent_of_child):
        return found.parent_labels
    generic = np.array(
        [
            k in children and is_generic(children[k].specificity, min_specificity)
            for k in range(len(found.parent_of_child))
        ],
        dtype=bool,
    )
    # One slot more than the highest parent number: index -1 (noise) lands there, never set.
    with_specific = np.zeros(int(found.parent_of_child.max()) + 2, dtype=bool)
    with_specific[found.parent_of_child[~generic]] = True
    parents = found.parent_labels
    child = np.maximum(found.labels, 0)
    masked = (found.labels >= 0) & generic[child] & with_specific[parents]
    return np.where(masked, NOISE, parents).astype(np.int32)


def full_two_level(
    clustering: Clustering,
    parent_of_child: np.ndarray,
    reason: str,
    parents_seconds: float,
    held: dict[str, int] | None = None,
) -> TwoLevel:
    """Tonight's :class:`TwoLevel` from a full clustering and its children's parents."""
    return TwoLevel(
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
        timings={**clustering.timings, "parents": round(parents_seconds, 3)},
        held=held or {},
    )
