"""Routine full nights held to the kept hassles, on synthetic vectors: late finds fold into
the kept child they resemble, absorbed children come back, parents stay."""

from dataclasses import replace

import numpy as np
import pytest
from conftest import blobs, unit_rows

from nlp.anchor import anchor_to_kept, keep_parents
from nlp.cluster import NOISE, clustering_from_labels
from nlp.track import OverlapCentroidTracker, PreviousHassle

DIM = 48


def full_night(rng):
    """Last week's two hassles (A, B), and tonight's full clustering of A, B and three more.

    C: old text close to A (cosine about 0.85), a late find. D: close to A too, but new text.
    E: old text like no kept hassle.
    """
    centers = unit_rows(rng.normal(size=(3, DIM)))
    near_a = unit_rows(centers[:1] + 0.6 * unit_rows(rng.normal(size=(2, DIM))))
    points, truth = blobs(
        np.vstack([centers[:2], near_a, centers[2:]]), [60, 60, 25, 25, 25], 0.02, rng
    )
    ids = np.array([f"u{i}" for i in range(len(points))], dtype=object)
    is_new = truth == 3
    previous = [
        PreviousHassle(name, centers[k], frozenset(ids[truth == k].tolist()))
        for k, name in enumerate(["H-A", "H-B"])
    ]
    return points, ids, truth, is_new, previous


def test_a_late_find_joins_the_kept_hassle_it_resembles():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    found = clustering_from_labels(points, truth)
    cos = found.centroids @ found.centroids.T
    assert 0.75 < cos[found.labels[60 * 2], found.labels[0]] < 0.95  # C is close to A

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.75
    )

    assert (result.folded, result.restored) == (1, 0)
    anchored = result.clustering
    labels = anchored.labels
    a, c, d, e = (labels[truth == k] for k in (0, 2, 3, 4))
    assert np.all(c == a[0])  # the late find joined A
    assert len(set(d)) == 1 and d[0] != a[0]  # new text stays its own, however close
    assert len(set(e)) == 1 and e[0] != a[0]  # old text like nothing kept stays its own
    assert anchored.n_clusters == 4
    assert np.bincount(labels).tolist() == sorted(np.bincount(labels), reverse=True)
    joined = points[(truth == 0) | (truth == 2)].mean(axis=0)
    assert np.allclose(anchored.centroids[a[0]], joined / np.linalg.norm(joined), atol=1e-5)


def test_a_late_find_that_revives_a_retired_hassle_keeps_apart_for_its_old_id():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    found = clustering_from_labels(points, truth)
    # C was a hassle of its own until it was merged away last week: its id may come back.
    c_rows = truth == 2
    centroid = points[c_rows].mean(axis=0)
    retired = PreviousHassle(
        "H-C", centroid / np.linalg.norm(centroid), frozenset(ids[c_rows].tolist())
    )

    result = anchor_to_kept(
        found,
        points,
        ids,
        is_new,
        previous,
        OverlapCentroidTracker(),
        min_similarity=0.75,
        revivable=[retired],
    )

    assert (result.folded, result.restored) == (0, 0) and result.clustering is found
    assert sorted(result.continues.values()) == ["H-A", "H-B"]


@pytest.mark.parametrize(("held_by_a", "rejoins"), [(25, True), (13, True), (12, False)])
def test_a_piece_cut_out_of_a_kept_hassle_rejoins_it_however_unlike(held_by_a, rejoins):
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    # E (25 units, old text like nothing kept) was partly A's last week; tonight it is apart.
    e_ids = ids[truth == 4][:held_by_a].tolist()
    a = previous[0]
    previous = [replace(a, members=a.members | frozenset(e_ids)), previous[1]]
    found = clustering_from_labels(points, truth)
    assert found.centroids[found.labels[truth == 4][0]] @ a.centroid < 0.5

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.99
    )

    labels = result.clustering.labels
    assert np.all(labels[truth == 4] == labels[truth == 4][0])
    assert bool(labels[truth == 4][0] == labels[0]) is rejoins
    assert result.folded == int(rejoins)
    assert result.continues[labels[0]] == "H-A"


def test_what_a_restored_hassle_leaves_of_a_piece_cut_out_of_a_kept_one_rejoins_it():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    # E was 10 of A's units and 15 of B's last week; tonight B dissolves but for those 15, so
    # E is only 40% A's until B takes its members back.
    e_ids = ids[truth == 4]
    a, b = previous
    previous = [
        replace(a, members=a.members | frozenset(e_ids[:10].tolist())),
        replace(b, members=b.members | frozenset(e_ids[10:].tolist())),
    ]
    found = clustering_from_labels(points, np.where(truth == 1, NOISE, truth))

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.99
    )

    assert (result.folded, result.restored) == (1, 1)
    labels = result.clustering.labels
    a_rows = (truth == 0) | np.isin(ids, e_ids[:10])
    b_rows = (truth == 1) | np.isin(ids, e_ids[10:])
    assert np.all(labels[a_rows] == labels[0]) and np.all(labels[b_rows] == labels[b_rows][0])
    assert {result.continues[labels[0]], result.continues[labels[b_rows][0]]} == {"H-A", "H-B"}


def test_a_kept_hassle_about_to_lose_its_id_gives_back_what_only_resembled_it_first():
    rng = np.random.default_rng(3)
    centers = unit_rows(rng.normal(size=(2, DIM)))
    near_a = unit_rows(centers[:1] + 0.6 * unit_rows(rng.normal(size=(1, DIM))))
    # A (60), C: 600 old units close to A, E: 25 units A held last week, unlike A.
    points, truth = blobs(np.vstack([centers[:1], near_a, centers[1:]]), [60, 600, 25], 0.02, rng)
    ids = np.array([f"u{i}" for i in range(len(points))], dtype=object)
    previous = [PreviousHassle("H-A", centers[0], frozenset(ids[truth != 1].tolist()))]
    found = clustering_from_labels(points, truth)

    result = anchor_to_kept(
        found, points, ids, truth < 0, previous, OverlapCentroidTracker(), min_similarity=0.75
    )

    labels = result.clustering.labels
    assert result.folded == 1  # C would have cost A its id; E rejoins A
    assert np.all(labels[truth == 2] == labels[0]) and labels[truth == 1][0] != labels[0]
    assert result.continues[labels[0]] == "H-A"


def test_a_late_find_may_join_a_restored_hassle_it_resembles():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    # C (old text) lies close to B this time; tonight B dissolves into noise.
    rng = np.random.default_rng(8)
    c_rows = truth == 2
    near_b = unit_rows(previous[1].centroid[None] + 0.6 * unit_rows(rng.normal(size=(1, DIM))))
    points = points.copy()
    points[c_rows] = unit_rows(near_b + rng.normal(scale=0.02, size=(c_rows.sum(), DIM)))
    found = clustering_from_labels(points, np.where(truth == 1, NOISE, truth))

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.75
    )

    assert (result.folded, result.restored) == (1, 1)
    labels = result.clustering.labels
    b = labels[truth == 1][0]
    assert np.all(labels[c_rows] == b) and result.continues[b] == "H-B"


def test_late_finds_stay_new_below_the_similarity():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    found = clustering_from_labels(points, truth)

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.99
    )

    assert (result.folded, result.restored) == (0, 0) and result.clustering is found


@pytest.mark.parametrize("absorbed_into", ["A", "noise"])
def test_a_kept_hassle_merged_away_or_dissolved_takes_its_members_back(absorbed_into):
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    # Tonight's clustering puts B's members into A's cluster, or leaves them as noise.
    merged = np.where(truth == 1, 0 if absorbed_into == "A" else NOISE, truth)
    found = clustering_from_labels(points, merged)
    assert not np.any(found.labels[truth == 1] == found.labels[truth == 3][0])

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.99
    )

    assert (result.folded, result.restored) == (0, 1)
    labels = result.clustering.labels
    a, b = labels[truth == 0], labels[truth == 1]
    assert len(set(b)) == 1 and b[0] != a[0] and b[0] != NOISE
    assert np.all(a == a[0])  # A keeps its own members
    assert set(result.clustering.assigned_by[truth == 1]) <= {"core", "soft"}
    assert np.all(result.clustering.probabilities[truth == 1] > 0)


def test_a_late_find_that_would_cost_the_kept_hassle_its_id_stays_apart():
    rng = np.random.default_rng(8)
    a = unit_rows(rng.normal(size=(1, DIM)))
    near = unit_rows(a + 0.7 * unit_rows(rng.normal(size=(1, DIM))))
    points, truth = blobs(np.vstack([a, near]), [40, 600], 0.02, rng)
    ids = np.array([f"u{i}" for i in range(len(points))], dtype=object)
    previous = [PreviousHassle("H-A", a[0], frozenset(ids[truth == 0].tolist()))]
    found = clustering_from_labels(points, truth)

    result = anchor_to_kept(
        found, points, ids, truth < 0, previous, OverlapCentroidTracker(), min_similarity=0.75
    )

    labels = result.clustering.labels
    assert (result.folded, result.restored) == (0, 0)
    assert labels[0] != labels[-1] and result.continues == {labels[0]: "H-A"}


def test_what_a_restored_hassle_leaves_behind_is_a_cluster_or_noise():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    b_rows = np.flatnonzero(truth == 1)
    tonight = truth.copy()
    tonight[b_rows[:30]] = 0  # half of B merged into A
    tonight[b_rows[30:50]] = 4  # a third into E (25 units of its own)
    tonight[b_rows[50:]] = NOISE
    found = replace(clustering_from_labels(points, tonight), min_cluster_size=30)

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.99
    )

    assert result.restored == 1
    labels = result.clustering.labels
    assert len(set(labels[b_rows])) == 1 and labels[b_rows[0]] != NOISE
    assert np.all(labels[truth == 4] == NOISE)  # E kept 25 units, under the minimum of 30
    assert np.all(result.clustering.assigned_by[truth == 4] == "noise")
    d = labels[truth == 3]
    assert d[0] >= 0 and np.all(d == d[0])  # D was not robbed
    assert sorted(result.continues.values()) == ["H-A", "H-B"]


def test_a_hassle_with_too_few_members_left_retires():
    points, ids, truth, is_new, previous = full_night(np.random.default_rng(8))
    found = clustering_from_labels(points, np.where(truth == 1, NOISE, truth))
    found = replace(found, min_cluster_size=61)  # B has 60 members in the window

    result = anchor_to_kept(
        found, points, ids, is_new, previous, OverlapCentroidTracker(), min_similarity=0.99
    )

    assert result.restored == 0 and np.all(result.clustering.labels[truth == 1] == NOISE)


def test_kept_children_keep_their_parents_and_a_new_one_joins_the_closest():
    rng = np.random.default_rng(9)
    centers = unit_rows(rng.normal(size=(2, DIM)))
    near_first = unit_rows(centers[:1] + 0.5 * unit_rows(rng.normal(size=(1, DIM))))
    points, truth = blobs(np.vstack([centers, near_first]), [30, 30, 20], 0.02, rng)

    # Children 0 and 1 continue children of previous parents 2 and 0; parent 1 has none left.
    def parents(similarity, most=25):
        return keep_parents(
            points, truth, 3, [2, 0, None], parent_similarity=similarity, max_parents=most
        ).tolist()

    assert parents(0.5) == [1, 0, 1]  # renumbered 0..n-1, in the previous parents' order
    assert parents(0.99) == [1, 0, 2]  # like no parent enough: its own
    assert parents(0.99, most=2) == [1, 0, 1]  # ... unless that makes too many
