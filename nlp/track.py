"""Stable hassle ids from one nightly clustering to the next: pure functions, no I/O.

Every night the pipeline re-clusters a rolling window of pain-point units (sentences). The
cluster numbers it hands out (``0..k-1``) are arbitrary and change from run to run, but a
hassle id must mean the same thing tomorrow as it does today: trend lines, "new this week"
flags and anything a person has bookmarked hang off the id. Labels may be rewritten every
night; ids must not move. This module decides which of tonight's clusters continue which of
the previous run's hassles.

Method (:class:`OverlapCentroidTracker`):

1. **Only members still in the window count.** For a previous hassle ``P`` its present members
   are ``P' = P.members & present_units``. Units that aged out of the rolling window are gone
   from tonight's input, so they must not count against a match.
2. **Each pair (P, C) gets a score** mixing where the members went and where the meaning went::

       overlap_f1 = 2 |P' & C| / (|P'| + |C|)
       score      = w * max(cosine, 0) + (1 - w) * overlap_f1

   where ``cosine`` is the dot product of the two centroids and ``w`` is ``centroid_weight``.
   Member overlap is the strongest evidence (the same sentences are still together);
   the centroid keeps a hassle whose wording drifted, or whose members partly turned over.
   Overlaps are counted in one pass over tonight's members through a ``unit -> previous
   hassle`` dict, never by intersecting every pair of sets.
3. **A pair is eligible** when ``score >= match_threshold`` and ``cosine >=
   min_centroid_similarity``, or when the members overlap strongly whatever the centroids say
   (at least half of ``P'`` went to ``C`` and at least half of ``C`` came from ``P'``). A
   previous hassle whose members all left the window (``P'`` empty) can only be matched on
   its centroid: eligible when ``cosine >= 0.9``, and then its score is the cosine.
4. **One-to-one assignment** maximising the total eligible score
   (:func:`scipy.optimize.linear_sum_assignment`), on inputs sorted by id and cluster number
   so that the result does not depend on input order.
5. **Ids.** A matched cluster keeps its predecessor's id (status ``"active"``); an unmatched one
   gets a fresh id from ``new_id()`` (status ``"new"``), called largest cluster first, then by
   cluster number. A previous hassle with no successor is retired.
6. **Revival.** A cluster still unmatched may take back the id of a recently retired hassle
   (the caller passes those: retired within ``cluster.revive_days``, and merged into another
   hassle according to the lineage), on the same score and eligibility as in steps 2-4:
   a hassle that comes back after a brief merge keeps its id and its history.
7. **Lineage.** An edge ``P -> C`` exists when at least ``lineage_overlap`` of ``P'`` went to
   ``C``, or when at least half of ``C`` came from ``P'`` (a sub-hassle that broke off a large
   hassle takes only a small share of it); a match is always an edge. If ``P`` has two or more children, every child other than
   its own continuation is recorded as a ``"split"`` from ``P``. Otherwise, if ``C`` has two or
   more parents, every parent other than ``C``'s own predecessor is recorded as a ``"merge"``
   into ``C``. A retired hassle most of whose present members went to a single new cluster was
   absorbed into it, and is recorded as a ``"merge"`` too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

STATUS_NEW = "new"
STATUS_ACTIVE = "active"
LINEAGE_SPLIT = "split"
LINEAGE_MERGE = "merge"

# A previous hassle with no member left in the window is matched on its centroid alone.
_CENTROID_ONLY_SIMILARITY = 0.9
# "Strong overlap": at least this share of P' went to C and of C came from P'.
_STRONG_OVERLAP = 0.5
# A retired hassle with at least this share of P' in one new cluster was absorbed by it.
_ABSORBED_OVERLAP = 0.5
# A child at least this much made of one parent's members descends from it, however small a
# share of that parent it took.
_MOSTLY_FROM_PARENT = 0.5


@dataclass(frozen=True)
class PreviousHassle:
    """A hassle from the previous run.

    Attributes:
        hassle_id: Its stable id, e.g. ``"H-0042"``.
        centroid: L2-normalised centroid of its members' embeddings, shape ``(d,)``.
        members: Unit ids that belonged to it in the previous run.
    """

    hassle_id: str
    centroid: np.ndarray
    members: frozenset[str]


@dataclass(frozen=True)
class CurrentCluster:
    """A cluster from tonight's run.

    Attributes:
        cluster: Tonight's cluster number (arbitrary, meaningful only within this run).
        centroid: L2-normalised centroid of its members' embeddings, shape ``(d,)``.
        members: Unit ids in it tonight.
    """

    cluster: int
    centroid: np.ndarray
    members: frozenset[str]


@dataclass(frozen=True)
class Lineage:
    """One parent -> child link between a previous hassle and tonight's hassle.

    Attributes:
        parent_id: Id of the previous hassle.
        child_id: Id of tonight's hassle.
        kind: ``"split"`` (one parent, several children) or ``"merge"`` (several parents, or a
            retired parent absorbed into one child).
        overlap: Share of the parent's still-present members that went to the child.
    """

    parent_id: str
    child_id: str
    kind: str
    overlap: float


@dataclass(frozen=True)
class TrackResult:
    """How tonight's clusters continue the previous run's hassles.

    Attributes:
        hassle_ids: Every current cluster number -> its hassle id.
        status: Cluster number -> ``"new"`` or ``"active"``.
        matched_from: Cluster number -> the previous hassle id it continues (``None`` if new).
        retired: Previous hassle ids with no continuation, sorted.
        lineage: Split and merge links, sorted by ``(parent_id, child_id)``.
        scores: Match score of each considered ``(previous id, cluster)`` pair: pairs sharing
            members or with similar centroids, and a score above zero.
        revived: Retired ids that came back tonight, sorted.
    """

    hassle_ids: dict[int, str]
    status: dict[int, str]
    matched_from: dict[int, str | None]
    retired: tuple[str, ...]
    lineage: tuple[Lineage, ...]
    scores: dict[tuple[str, int], float]
    revived: tuple[str, ...] = ()


class OverlapCentroidTracker:
    """Match clusters by member overlap and centroid similarity, one-to-one (see module doc).

    Attributes:
        centroid_weight: Weight of the centroid cosine in the score; the member-overlap F1
            gets ``1 - centroid_weight``.
        match_threshold: Lowest score at which a pair may match on the score path.
        min_centroid_similarity: Lowest centroid cosine at which a pair may match on the score
            path; also the cosine from which a pair without shared members is reported in
            ``scores``.
        lineage_overlap: Lowest share of a parent's present members that must go to a child
            for a split or merge link.
    """

    def __init__(
        self,
        *,
        centroid_weight: float = 0.5,
        match_threshold: float = 0.55,
        min_centroid_similarity: float = 0.75,
        lineage_overlap: float = 0.25,
    ) -> None:
        for name, value in (
            ("centroid_weight", centroid_weight),
            ("match_threshold", match_threshold),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if not 0.0 < lineage_overlap <= 1.0:
            raise ValueError(f"lineage_overlap must be within (0, 1], got {lineage_overlap}")
        if not -1.0 <= min_centroid_similarity <= 1.0:
            raise ValueError(
                f"min_centroid_similarity must be within [-1, 1], got {min_centroid_similarity}"
            )
        self.centroid_weight = float(centroid_weight)
        self.match_threshold = float(match_threshold)
        self.min_centroid_similarity = float(min_centroid_similarity)
        self.lineage_overlap = float(lineage_overlap)

    def track(
        self,
        previous: Sequence[PreviousHassle],
        current: Sequence[CurrentCluster],
        *,
        present_units: frozenset[str],
        new_id: Callable[[], str],
        revivable: Sequence[PreviousHassle] = (),
    ) -> TrackResult:
        """Match tonight's clusters to the previous hassles.

        Args:
            previous: The previous run's hassles; ids must be unique.
            current: Tonight's clusters; cluster numbers must be unique.
            present_units: Every unit id in tonight's clustering input, clustered or noise.
                Previous members outside it left the window and are ignored.
            new_id: Returns a fresh hassle id on each call; called once per unmatched
                cluster, largest first, then by cluster number.
            revivable: Recently retired hassles (ids not among ``previous``); a cluster left
                unmatched takes back one's id when they match as a pair of ``previous`` would.

        Returns:
            Ids, statuses, retirements, lineage and pair scores.

        Raises:
            ValueError: On duplicate hassle ids or cluster numbers, centroids of different
                lengths, or ``new_id`` returning an id already in use.
        """
        prev = sorted(previous, key=lambda p: p.hassle_id)
        cur = sorted(current, key=lambda c: c.cluster)
        _check_unique([p.hassle_id for p in prev], "previous hassle id")
        _check_unique([c.cluster for c in cur], "current cluster number")

        present = [p.members & present_units for p in prev]
        prev_sizes = np.array([len(m) for m in present], dtype=np.float64)
        cur_sizes = np.array([len(c.members) for c in cur], dtype=np.float64)
        inter = _intersection_counts(present, [c.members for c in cur])
        cosine = _cosines([p.centroid for p in prev], [c.centroid for c in cur])

        scores, eligible = self._score(inter, cosine, prev_sizes, cur_sizes)

        # One-to-one assignment maximising the total eligible score.
        matched: dict[int, int] = {}  # current index -> previous index
        weights = np.where(eligible, scores, 0.0)
        if weights.size and weights.any():
            rows, cols = linear_sum_assignment(weights, maximize=True)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                if weights[i, j] > 0.0:
                    matched[j] = i

        revived = self._revive(revivable, cur, matched, present_units)

        hassle_ids: dict[int, str] = {}
        status: dict[int, str] = {}
        matched_from: dict[int, str | None] = {}
        for j, c in enumerate(cur):
            if j in matched or j in revived:
                found = prev[matched[j]].hassle_id if j in matched else revived[j][0]
                hassle_ids[c.cluster] = found
                status[c.cluster] = STATUS_ACTIVE
                matched_from[c.cluster] = found
        used = {p.hassle_id for p in prev} | {r.hassle_id for r in revivable}
        for j in sorted(
            (j for j in range(len(cur)) if j not in matched and j not in revived),
            key=lambda j: (-len(cur[j].members), cur[j].cluster),
        ):
            fresh = new_id()
            if fresh in used:
                raise ValueError(f"new_id() returned {fresh!r}, which is already in use")
            used.add(fresh)
            hassle_ids[cur[j].cluster] = fresh
            status[cur[j].cluster] = STATUS_NEW
            matched_from[cur[j].cluster] = None
        # Dicts in cluster order, whatever order the ids were handed out in.
        hassle_ids = {c.cluster: hassle_ids[c.cluster] for c in cur}
        status = {c.cluster: status[c.cluster] for c in cur}
        matched_from = {c.cluster: matched_from[c.cluster] for c in cur}

        continued = set(matched.values())
        retired = tuple(sorted(p.hassle_id for i, p in enumerate(prev) if i not in continued))

        lineage = self._lineage(inter, prev_sizes, cur_sizes, matched, prev, cur, hassle_ids)

        considered = (inter > 0) | (cosine >= self.min_centroid_similarity)
        score_map = {
            (prev[i].hassle_id, cur[j].cluster): float(scores[i, j])
            for i, j in zip(*np.nonzero(considered & (scores > 0.0)), strict=True)
        }
        score_map.update({(hid, cur[j].cluster): score for j, (hid, score) in revived.items()})
        return TrackResult(
            hassle_ids=hassle_ids,
            status=status,
            matched_from=matched_from,
            retired=retired,
            lineage=lineage,
            scores=score_map,
            revived=tuple(sorted(hid for hid, _ in revived.values())),
        )

    def _revive(
        self,
        revivable: Sequence[PreviousHassle],
        cur: list[CurrentCluster],
        matched: dict[int, int],
        present_units: frozenset[str],
    ) -> dict[int, tuple[str, float]]:
        """Current index -> (retired id, score) for unmatched clusters that revive an id."""
        left = [j for j in range(len(cur)) if j not in matched]
        if not revivable or not left:
            return {}
        old = sorted(revivable, key=lambda p: p.hassle_id)
        _check_unique([p.hassle_id for p in old], "revivable hassle id")
        present = [p.members & present_units for p in old]
        inter = _intersection_counts(present, [cur[j].members for j in left])
        cosine = _cosines([p.centroid for p in old], [cur[j].centroid for j in left])
        scores, eligible = self._score(
            inter,
            cosine,
            np.array([len(m) for m in present], dtype=np.float64),
            np.array([len(cur[j].members) for j in left], dtype=np.float64),
        )
        weights = np.where(eligible, scores, 0.0)
        revived: dict[int, tuple[str, float]] = {}
        if weights.any():
            rows, cols = linear_sum_assignment(weights, maximize=True)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                if weights[i, j] > 0.0:
                    revived[left[j]] = (old[i].hassle_id, float(scores[i, j]))
        return revived

    def _score(
        self,
        inter: np.ndarray,
        cosine: np.ndarray,
        prev_sizes: np.ndarray,
        cur_sizes: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the score and eligibility matrices, shape ``(n_previous, n_current)``."""
        prev_col = prev_sizes[:, None]
        cur_row = cur_sizes[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(prev_col + cur_row > 0, 2.0 * inter / (prev_col + cur_row), 0.0)
            share_prev = np.where(prev_col > 0, inter / prev_col, 0.0)
            share_cur = np.where(cur_row > 0, inter / cur_row, 0.0)
        w = self.centroid_weight
        scores = w * np.maximum(cosine, 0.0) + (1.0 - w) * f1
        eligible = (scores >= self.match_threshold) & (cosine >= self.min_centroid_similarity)
        eligible |= (share_prev >= _STRONG_OVERLAP) & (share_cur >= _STRONG_OVERLAP)
        # A previous hassle whose members all left the window: centroid alone.
        gone = np.broadcast_to(prev_col == 0, scores.shape)
        scores = np.where(gone, cosine, scores)
        eligible = np.where(gone, cosine >= _CENTROID_ONLY_SIMILARITY, eligible)
        return scores, eligible

    def _lineage(
        self,
        inter: np.ndarray,
        prev_sizes: np.ndarray,
        cur_sizes: np.ndarray,
        matched: dict[int, int],
        prev: list[PreviousHassle],
        cur: list[CurrentCluster],
        hassle_ids: dict[int, str],
    ) -> tuple[Lineage, ...]:
        """Return split and merge links, sorted by ``(parent_id, child_id)``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(prev_sizes[:, None] > 0, inter / prev_sizes[:, None], 0.0)
            from_parent = np.where(cur_sizes[None, :] > 0, inter / cur_sizes[None, :], 0.0)
        edges = (share >= self.lineage_overlap) | (from_parent >= _MOSTLY_FROM_PARENT)
        edges &= prev_sizes[:, None] > 0
        for j, i in matched.items():
            edges[i, j] = True
        continuation = {i: j for j, i in matched.items()}
        n_children = edges.sum(axis=1)
        n_parents = edges.sum(axis=0)

        links: list[Lineage] = []
        for i, j in zip(*np.nonzero(edges), strict=True):
            i, j = int(i), int(j)
            if matched.get(j) == i:
                continue  # a continuation, not a lineage link
            overlap = float(share[i, j])
            if n_children[i] >= 2:
                kind = LINEAGE_SPLIT
            elif n_parents[j] >= 2 or (i not in continuation and overlap >= _ABSORBED_OVERLAP):
                kind = LINEAGE_MERGE
            else:
                continue
            links.append(Lineage(prev[i].hassle_id, hassle_ids[cur[j].cluster], kind, overlap))
        return tuple(sorted(links, key=lambda link: (link.parent_id, link.child_id)))


def format_hassle_id(number: int, prefix: str = "H") -> str:
    """Return the hassle id for ``number``, zero-padded to four digits: ``7`` -> ``"H-0007"``.

    Args:
        number: A non-negative hassle number.
        prefix: ``H`` for a child (a specific hassle), ``P`` for a parent.

    Returns:
        The id string.

    Raises:
        ValueError: If ``number`` is negative.
    """
    if number < 0:
        raise ValueError(f"hassle numbers are non-negative, got {number}")
    return f"{prefix}-{number:04d}"


def _check_unique(values: Sequence[object], what: str) -> None:
    """Raise ``ValueError`` naming the first duplicate in ``values``."""
    seen: set[object] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what}: {value!r}")
        seen.add(value)


def _intersection_counts(
    previous: Sequence[frozenset[str]], current: Sequence[frozenset[str]]
) -> np.ndarray:
    """Return ``|previous[i] & current[j]|`` for all pairs, in one pass over current members.

    A ``unit -> previous index`` dict is built once; a unit in several previous sets maps to a
    tuple of indices, so overlapping inputs are still counted correctly.
    """
    counts = np.zeros((len(previous), len(current)), dtype=np.float64)
    if not previous or not current:
        return counts
    owner: dict[str, int | tuple[int, ...]] = {}
    for i, members in enumerate(previous):
        for unit in members:
            held = owner.get(unit)
            if held is None:
                owner[unit] = i
            elif isinstance(held, tuple):
                owner[unit] = (*held, i)
            else:
                owner[unit] = (held, i)
    for j, members in enumerate(current):
        for key, n in Counter(map(owner.get, members)).items():
            if key is None:
                continue
            if isinstance(key, tuple):
                for i in key:
                    counts[i, j] += n
            else:
                counts[key, j] += n
    return counts


def _cosines(previous: Sequence[np.ndarray], current: Sequence[np.ndarray]) -> np.ndarray:
    """Return the cosine of every (previous, current) centroid pair, clipped to ``[-1, 1]``.

    Centroids are re-normalised defensively; a zero vector has cosine 0 with everything.
    """
    if not previous or not current:
        return np.zeros((len(previous), len(current)), dtype=np.float64)
    a = _unit_rows(previous)
    b = _unit_rows(current)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"centroid lengths differ: previous {a.shape[1]}, current {b.shape[1]}")
    return np.clip(a @ b.T, -1.0, 1.0)


def _unit_rows(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Stack ``vectors`` as float64 rows scaled to unit length (zero rows stay zero)."""
    try:
        rows = np.stack([np.asarray(v, dtype=np.float64).ravel() for v in vectors])
    except ValueError as err:
        raise ValueError("centroids must all have the same length") from err
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
