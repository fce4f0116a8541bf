import math
import subprocess
import sys
import typing
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score

from nlp.cluster import NOISE, Clusterer, merge_clusters, vote_neighbours
from nlp.clusterers import hdbscan as hdbscan_module
from nlp.clusterers.hdbscan import (
    DEFAULT_COMPONENTS,
    REDUCERS,
    ClusterParams,
    HdbscanClusterer,
    Reduction,
    auto_min_cluster_size,
    reduce_vectors,
)
from nlp.clusterers.reduce import reduce_with_umap

DIM = 32


def unit_rows(matrix):
    matrix = np.asarray(matrix, dtype=np.float64)
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def sklearn_blobs(n_samples=600, centers=6, dim=40, seed=0):
    """Well-separated make_blobs clusters, projected onto the unit sphere."""
    points, truth = make_blobs(
        n_samples=n_samples,
        centers=centers,
        n_features=dim,
        cluster_std=1.0,
        center_box=(-10, 10),
        random_state=seed,
    )
    return unit_rows(points), truth


def direction_blobs(sizes, spread=0.05, dim=DIM, seed=0):
    """One random direction per cluster plus seeded Gaussian noise; rows are unit length."""
    rng = np.random.default_rng(seed)
    centers = unit_rows(rng.normal(size=(len(sizes), dim)))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    points = centers[truth] + rng.normal(scale=spread, size=(len(truth), dim))
    return unit_rows(points), truth


def haloed_blobs_with_outliers(seed=0, n_outliers=6):
    """Four tight clusters with a loose halo each, and outliers orthogonal to all of them.

    Clusters live in the first DIM of DIM + 8 coordinates, outliers only in the last 8, so an
    outlier's cosine similarity to every clustered row is exactly 0. Truth is -1 for outliers.
    """
    rng = np.random.default_rng(seed)
    dim = DIM + 8
    centers = np.zeros((4, dim))
    centers[:, :DIM] = rng.normal(size=(4, DIM))
    centers = unit_rows(centers)
    truth = np.concatenate([np.repeat(np.arange(4), 80), np.repeat(np.arange(4), 30)])
    spread = np.concatenate([np.full(4 * 80, 0.05), np.full(4 * 30, 0.25)])
    noise = np.zeros((len(truth), dim))
    noise[:, :DIM] = rng.normal(size=(len(truth), DIM)) * spread[:, None]
    clustered = unit_rows(centers[truth] + noise)
    outliers = np.zeros((n_outliers, dim))
    outliers[:, DIM:] = rng.normal(size=(n_outliers, 8))
    points = np.vstack([clustered, unit_rows(outliers)])
    return points, np.concatenate([truth, np.full(n_outliers, NOISE)])


def close_pair_and_far_blob(cosine=0.9, n=80, spread=0.02, seed=0):
    """Blobs 0 and 1 have centers with the given cosine similarity; blob 2 is elsewhere."""
    rng = np.random.default_rng(seed)
    a = unit_rows(rng.normal(size=(1, DIM)))[0]
    other = rng.normal(size=DIM)
    other -= (other @ a) * a
    other /= np.linalg.norm(other)
    b = cosine * a + math.sqrt(1 - cosine**2) * other
    far = unit_rows(rng.normal(size=(1, DIM)))[0]
    centers = np.stack([a, b, far])
    truth = np.repeat(np.arange(3), n)
    points = centers[truth] + rng.normal(scale=spread, size=(len(truth), DIM))
    return unit_rows(points), truth


def cluster(points, **params):
    return HdbscanClusterer(ClusterParams(**params)).cluster(points)


# The soft vote acts on the points HDBSCAN leaves as noise. UMAP, the default reduction, pulls
# every halo point of these blobs into its blob and leaves none, so the tests of the vote reduce
# with PCA, which leaves the halo to the vote as real text's outskirts are left.
PCA = {"reduction": "pca", "n_components": 32}


def nmi_on_covered(truth, result):
    covered = result.labels != NOISE
    return normalized_mutual_info_score(truth[covered], result.labels[covered])


# Recovering clusters


@pytest.mark.parametrize("reduction", ["pca", "none"])
def test_well_separated_blobs_are_recovered(reduction):
    points, truth = sklearn_blobs(centers=6)

    result = cluster(points, reduction=reduction, n_components=10)

    assert result.n_clusters == len(np.unique(truth))
    assert result.coverage >= 0.9
    assert nmi_on_covered(truth, result) >= 0.95
    assert result.labels.shape == (len(points),)
    assert set(np.unique(result.labels)) <= set(range(-1, result.n_clusters))


def test_direction_blobs_in_the_default_setting_are_recovered():
    points, truth = direction_blobs([100] * 5, spread=0.08, seed=3)

    result = cluster(points)

    assert result.n_clusters == 5
    assert result.coverage >= 0.9
    assert nmi_on_covered(truth, result) >= 0.95


def test_result_arrays_line_up_with_the_input_rows():
    points, _ = direction_blobs([60, 50, 40], seed=1)

    result = cluster(points)

    n = len(points)
    assert result.labels.shape == result.probabilities.shape == result.assigned_by.shape == (n,)
    assert result.centroids.shape == (result.n_clusters, points.shape[1])
    noise = result.labels == NOISE
    assert np.all(result.assigned_by[noise] == "noise")
    assert np.all(np.isin(result.assigned_by[~noise], ["core", "soft"]))
    assert np.all((result.probabilities >= 0) & (result.probabilities <= 1 + 1e-6))
    assert result.coverage == pytest.approx(1 - noise.mean())
    assert result.fitted_on == n
    assert set(result.timings) == {"reduce", "hdbscan", "assign", "merge", "split"}


# Soft assignment


def test_soft_assignment_covers_points_hdbscan_left_as_noise():
    points, _ = haloed_blobs_with_outliers(seed=2)

    hard = cluster(points, soft_threshold=1.0, **PCA)
    soft = cluster(points, **PCA)

    assert np.any(hard.labels == NOISE)
    assert not np.any(hard.assigned_by == "soft")
    assert soft.coverage > hard.coverage
    assert np.any(soft.assigned_by == "soft")
    # Soft assignment only adds members: HDBSCAN's own members keep their cluster.
    core = soft.assigned_by == "core"
    assert np.array_equal(core, hard.assigned_by == "core")
    assert np.array_equal(soft.probabilities[core], hard.probabilities[core])


def test_soft_assigned_rows_carry_their_vote_strength_as_probability():
    points, truth = haloed_blobs_with_outliers(seed=2)
    params = ClusterParams(merge_similarity=1.0, **PCA)  # so labels are HDBSCAN's, renumbered

    result = HdbscanClusterer(params).cluster(points)

    soft = np.flatnonzero(result.assigned_by == "soft")
    core = np.flatnonzero(result.assigned_by == "core")
    assert len(soft) > 0
    k = params.soft_neighbours
    for row in soft:
        scores = points[core] @ points[row]
        nearest = np.argsort(-scores)[:k]
        votes = np.zeros(result.n_clusters)
        np.add.at(votes, result.labels[core][nearest], np.maximum(scores[nearest], 0))
        assert result.labels[row] == votes.argmax()
        assert result.probabilities[row] == pytest.approx(votes.max() / k, abs=1e-5)
    assert np.all(result.probabilities[soft] >= params.soft_threshold)
    assert np.all(result.probabilities[soft] <= 1.0 + 1e-6)
    # The halo's soft members join the blob they were drawn around.
    assert nmi_on_covered(truth, result) >= 0.95


def test_raising_the_soft_threshold_never_covers_more_rows():
    points, _ = haloed_blobs_with_outliers(seed=2)

    coverages = [
        cluster(points, soft_threshold=t, **PCA).coverage for t in (0.3, 0.45, 0.6, 0.8, 1.0)
    ]

    assert coverages == sorted(coverages, reverse=True)
    assert coverages[0] > coverages[-1]


def test_outliers_orthogonal_to_every_cluster_stay_noise():
    # reduction="none": the outliers' cosine to every clustered row is exactly 0.
    points, truth = haloed_blobs_with_outliers(seed=2, n_outliers=6)

    result = cluster(points, reduction="none")

    outliers = truth == NOISE
    assert result.n_clusters == 4
    assert np.all(result.labels[outliers] == NOISE)
    assert np.all(result.assigned_by[outliers] == "noise")
    assert np.all(result.probabilities[outliers] == 0)


def dense_blobs_and_loose_groups(seed=0):
    """Three tight blobs in the first DIM coordinates and two loose groups of 40 in the last 8.

    Every loose row has cosine 0 to every blob row, so no soft vote can take it into a blob.
    Truth: 0-2 for the blobs, 3-4 for the loose groups.
    """
    rng = np.random.default_rng(seed)
    blobs, truth = direction_blobs([150, 150, 150], seed=seed)
    loose = np.zeros((80, DIM + 8))
    centers = rng.normal(size=(2, 8))
    loose[:, DIM:] = np.repeat(centers, 40, axis=0) + rng.normal(scale=0.4, size=(80, 8))
    points = np.vstack([np.hstack([blobs, np.zeros((len(blobs), 8))]), unit_rows(loose)])
    return points.astype(np.float32), np.concatenate([truth, np.repeat([3, 4], 40)])


def fake_hdbscan_dense_first(monkeypatch, truth_of):
    """HDBSCAN that finds only the blobs in the first fit and the loose groups in a later one.

    ``truth_of`` maps a row's bytes to its truth, so the fake knows which rows it was given.
    Returns the list of row counts each fit was given.
    """
    fits = []

    def fake(points, min_cluster_size, params, n_jobs, lone_group=False):
        truth = np.array([truth_of[row.tobytes()] for row in points])
        wanted = truth <= 2 if not fits else truth >= 3
        fits.append(len(points))
        groups = {t: i for i, t in enumerate(sorted(set(truth[wanted])))}
        labels = np.array([groups[t] if w else NOISE for t, w in zip(truth, wanted, strict=True)])
        return labels.astype(np.int32), wanted.astype(np.float32)

    monkeypatch.setattr(hdbscan_module, "_run_hdbscan", fake)
    return fits


@pytest.mark.parametrize("passes", [0, 1])
def test_a_noise_pass_clusters_the_rows_the_first_fit_and_the_vote_left_out(monkeypatch, passes):
    points, truth = dense_blobs_and_loose_groups()
    truth_of = {row.tobytes(): t for row, t in zip(points, truth, strict=True)}
    fits = fake_hdbscan_dense_first(monkeypatch, truth_of)

    result = cluster(points, reduction="none", noise_passes=passes, noise_pass_share=0)

    blobs, loose = truth <= 2, truth >= 3
    # The blobs come out of the first fit the same way with or without the pass.
    assert normalized_mutual_info_score(truth[blobs], result.labels[blobs]) == 1.0
    assert np.all(result.assigned_by[blobs] == "core")
    if passes == 0:
        assert fits == [len(points)]
        assert result.n_clusters == 3
        assert np.all(result.labels[loose] == NOISE)
    else:
        # The second fit saw exactly the rows still noise: the two loose groups.
        assert fits == [len(points), int(loose.sum())]
        assert result.n_clusters == 5
        assert normalized_mutual_info_score(truth[loose], result.labels[loose]) == 1.0
        assert not set(result.labels[loose]) & set(result.labels[blobs])
        assert np.all(result.assigned_by[loose] == "core")


def test_a_noise_pass_after_a_sampled_fit_uses_the_unscaled_min_cluster_size(monkeypatch):
    points, truth = dense_blobs_and_loose_groups()
    fake_hdbscan_dense_first(
        monkeypatch, {row.tobytes(): t for row, t in zip(points, truth, strict=True)}
    )
    sizes = []
    run_hdbscan = hdbscan_module._run_hdbscan
    monkeypatch.setattr(
        hdbscan_module,
        "_run_hdbscan",
        lambda pts, size, params, n_jobs, lone_group=False: (
            sizes.append(size) or run_hdbscan(pts, size, params, n_jobs, lone_group)
        ),
    )

    cluster(points, reduction="none", max_fit_points=200, noise_passes=1, noise_pass_share=0)

    full = auto_min_cluster_size(len(points))
    # The first fit sees a sample of 200 rows, so its size is scaled down to the sample; the
    # leftovers are every row still noise, at the data's own density, so theirs is not.
    assert sizes[0] == max(5, round(full * 200 / len(points))) < full
    assert sizes[1] == full


@pytest.mark.parametrize(("share", "passes_run"), [(0.1, True), (0.2, False)])
def test_noise_passes_run_only_when_more_than_noise_pass_share_is_left(
    monkeypatch, share, passes_run
):
    points, truth = dense_blobs_and_loose_groups()
    fits = fake_hdbscan_dense_first(
        monkeypatch, {row.tobytes(): t for row, t in zip(points, truth, strict=True)}
    )

    result = cluster(points, reduction="none", noise_passes=2, noise_pass_share=share)

    loose = truth >= 3
    # The first fit and the vote leave the two loose groups, 80 of 530 rows (15%), as noise.
    assert 0.1 < loose.mean() < 0.2
    if passes_run:
        assert fits == [len(points), int(loose.sum())]
        assert np.all(result.labels[loose] != NOISE)
    else:
        assert fits == [len(points)]
        assert np.all(result.labels[loose] == NOISE)


def test_a_noise_pass_with_too_few_rows_left_changes_nothing():
    points, _ = haloed_blobs_with_outliers(seed=2, n_outliers=6)

    without = cluster(points, reduction="none")
    with_pass = cluster(points, reduction="none", noise_passes=2, noise_pass_share=0)

    assert np.array_equal(without.labels, with_pass.labels)
    assert np.array_equal(without.assigned_by, with_pass.assigned_by)


def test_vote_neighbours_sums_similarities_of_the_k_nearest_per_cluster():
    reference = np.eye(4, dtype=np.float32)
    reference_labels = np.array([0, 0, 1, 1])
    point = unit_rows([[3.0, 2.0, 2.5, 0.0]])
    sims = reference @ point[0]

    best, strength = vote_neighbours(point, reference, reference_labels, 2, k=3)

    # The 3 nearest are rows 0, 2, 1; cluster 0 gets rows 0 and 1, cluster 1 gets row 2.
    votes = np.array([sims[0] + sims[1], sims[2]])
    assert best[0] == votes.argmax()
    assert strength[0] == pytest.approx(votes.max() / 3, rel=1e-5)


def test_vote_neighbours_counts_negative_similarities_as_zero():
    point = np.array([[1.0, 0.0]], dtype=np.float32)
    # Similarities to the point: 0.5 (cluster 0), -0.3 (cluster 0), 0.3 (cluster 1).
    reference = unit_rows(
        [[0.5, math.sqrt(0.75)], [-0.3, math.sqrt(0.91)], [0.3, -math.sqrt(0.91)]]
    )

    best, strength = vote_neighbours(point, reference, np.array([0, 0, 1]), 2, k=3)

    # Summing raw similarities would give cluster 0 only 0.2 and let cluster 1 (0.3) win.
    assert best[0] == 0
    assert strength[0] == pytest.approx(0.5 / 3, rel=1e-5)


def test_unclustered_neighbours_vote_for_no_cluster_and_a_point_is_not_its_own_neighbour():
    # Rows 0-1 are noise (or other new points), row 2 is cluster 0, row 3 is the point itself
    # and row 4 a copy of its sentence (the same sentence id, 7).
    reference = unit_rows(
        [[1.0, 0.1, 0.0], [1.0, 0.0, 0.1], [0.6, 0.8, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    )
    point = reference[3:4]
    sims = reference @ point[0]

    best, strength = vote_neighbours(
        point,
        reference,
        np.array([NOISE, NOISE, 0, NOISE, NOISE]),
        1,
        k=3,
        same=(np.array([7]), np.array([1, 2, 3, 7, 7])),
    )

    # Its own row and its copy would be the nearest; without them the 3 nearest are rows 0,
    # 1 and 2, of which only row 2 votes: a point among unclustered ones wins a weak vote.
    assert best[0] == 0
    assert strength[0] == pytest.approx(sims[2] / 3, rel=1e-5)


def test_a_vote_against_a_large_reference_is_the_same_in_every_block(
    monkeypatch: pytest.MonkeyPatch,
):
    # Against 41,000 rows a block holds 999 points (160 MB of scores): rows on both sides of
    # each block's edge get the same vote as one computed alone, excluded rows included.
    import nlp.cluster

    rng = np.random.default_rng(3)
    reference = unit_rows(rng.normal(size=(41_000, 8)).astype(np.float32))
    labels = rng.integers(-1, 4, size=len(reference))
    points = reference[:2_500]
    sentence = np.arange(len(reference))
    blocks = []
    top_k = nlp.cluster.top_k_columns
    monkeypatch.setattr(
        nlp.cluster,
        "top_k_columns",
        lambda scores, k: blocks.append(scores.shape) or top_k(scores, k),
    )

    best, strength = vote_neighbours(
        points, reference, labels, 4, 5, same=(sentence[:2_500], sentence)
    )

    assert blocks == [(999, 41_000), (999, 41_000), (502, 41_000)]

    for row in (0, 998, 999, 1_000, 1_998, 1_999, 2_499):
        sims = reference @ points[row]
        sims[row] = -np.inf
        nearest = np.argsort(-sims)[:5]
        votes = np.zeros(5)
        np.add.at(
            votes, np.where(labels[nearest] >= 0, labels[nearest], 4), np.maximum(sims[nearest], 0)
        )
        assert best[row] == votes[:4].argmax()
        assert strength[row] == pytest.approx(votes[:4].max() / 5, rel=1e-5)


# Identical vectors


def test_duplicated_rows_share_their_original_label_and_add_no_clusters():
    points, _ = direction_blobs([60, 60, 60, 60], spread=0.06, seed=4)
    originals = np.array([0, 61, 130, 200, 239])
    copies = np.repeat(originals, 20)
    with_copies = np.vstack([points, points[copies]])

    plain = cluster(points)
    duplicated = cluster(with_copies)

    assert duplicated.n_clusters == plain.n_clusters
    assert np.array_equal(duplicated.labels[len(points) :], duplicated.labels[copies])
    assert np.array_equal(duplicated.labels[: len(points)], plain.labels)
    assert np.array_equal(duplicated.probabilities[len(points) :], duplicated.probabilities[copies])
    assert np.array_equal(duplicated.assigned_by[len(points) :], duplicated.assigned_by[copies])


def test_many_copies_of_one_outlier_do_not_form_a_cluster():
    points, truth = haloed_blobs_with_outliers(seed=2, n_outliers=1)
    outlier = np.flatnonzero(truth == NOISE)[0]
    copies = np.repeat(points[[outlier]], 40, axis=0)  # well above min_cluster_size

    plain = cluster(points, reduction="none")
    duplicated = cluster(np.vstack([points, copies]), reduction="none")

    assert duplicated.min_cluster_size < len(copies) + 1
    assert duplicated.n_clusters == plain.n_clusters
    assert np.all(duplicated.labels[len(points) :] == NOISE)
    assert duplicated.labels[outlier] == NOISE


def test_identical_rows_in_any_order_get_the_same_label():
    points, _ = direction_blobs([50, 50, 50], seed=5)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(points), size=200)
    shuffled = points[picks]

    result = cluster(shuffled)

    for row in np.unique(picks):
        assert len(set(result.labels[picks == row])) == 1


# Merging and numbering


def test_blobs_with_near_identical_centers_merge():
    points, truth = close_pair_and_far_blob(cosine=0.9)

    result = cluster(points, merge_similarity=0.75)

    assert result.n_clusters == 2
    pair = result.labels[truth < 2]
    assert len(set(pair)) == 1 and pair[0] != NOISE
    assert result.labels[truth == 2][0] != pair[0]


def test_merging_off_keeps_near_identical_blobs_apart():
    points, truth = close_pair_and_far_blob(cosine=0.9)

    result = cluster(points, merge_similarity=1.0)

    assert result.n_clusters == 3
    assert result.coverage >= 0.9
    assert nmi_on_covered(truth, result) >= 0.95


def test_clusters_are_numbered_by_size_largest_first():
    sizes = [40, 150, 70, 110]
    points, truth = direction_blobs(sizes, seed=6)

    result = cluster(points)

    counts = np.bincount(result.labels[result.labels != NOISE], minlength=result.n_clusters)
    assert result.n_clusters == len(sizes)
    assert list(counts) == sorted(counts, reverse=True)
    largest_blob = int(np.argmax(sizes))
    assert np.bincount(result.labels[truth == largest_blob] + 1).argmax() - 1 == 0


def test_merge_clusters_renumbers_by_size_and_keeps_noise():
    vectors = unit_rows(np.eye(3)[[0, 1, 1, 1, 2, 2, 0]])
    labels = np.array([0, 1, 1, 1, 2, 2, NOISE])

    merged, n = merge_clusters(vectors, labels, 3, similarity=1.0)

    assert n == 3
    assert merged[-1] == NOISE
    assert merged[1] == merged[2] == merged[3] == 0  # three rows
    assert merged[4] == merged[5] == 1  # two rows
    assert merged[0] == 2  # one row


def test_merge_clusters_breaks_size_ties_by_first_row():
    vectors = unit_rows(np.eye(2)[[1, 0, 1, 0]])
    labels = np.array([1, 0, 1, 0])

    merged, n = merge_clusters(vectors, labels, 2, similarity=1.0)

    assert n == 2
    assert list(merged) == [0, 1, 0, 1]


# Determinism


def test_same_input_and_seed_give_identical_results():
    points, _ = haloed_blobs_with_outliers(seed=2)

    first = cluster(points, seed=3)
    second = HdbscanClusterer(ClusterParams(seed=3)).cluster(points.copy())

    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.probabilities, second.probabilities)
    assert np.array_equal(first.assigned_by, second.assigned_by)
    assert np.array_equal(first.centroids, second.centroids)


def test_sampled_clustering_is_deterministic_for_a_seed():
    points, _ = direction_blobs([250] * 4, spread=0.08, seed=7)

    first = cluster(points, max_fit_points=200, seed=11)
    second = cluster(points, max_fit_points=200, seed=11)

    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.probabilities, second.probabilities)
    assert np.array_equal(first.assigned_by, second.assigned_by)


# Sampling


def test_sampled_fit_assigns_every_row_and_still_recovers_the_blobs():
    points, truth = direction_blobs([900, 800, 700, 600], spread=0.08, seed=8)

    result = cluster(points, max_fit_points=300)

    assert len(points) == 3000
    assert result.fitted_on == 300
    assert result.labels.shape == (3000,)
    assert set(np.unique(result.labels)) <= set(range(-1, result.n_clusters))
    assert np.sum(result.assigned_by == "core") <= 300
    assert np.sum(result.assigned_by == "soft") >= 3000 - 300
    assert result.n_clusters == 4
    assert result.coverage >= 0.9
    assert nmi_on_covered(truth, result) >= 0.95


def test_sampled_fit_scales_min_cluster_size_to_the_sample():
    points, _ = direction_blobs([900, 800, 700, 600], spread=0.08, seed=8)
    full = auto_min_cluster_size(len(points))

    result = cluster(points, max_fit_points=300)

    assert result.min_cluster_size == max(5, round(full * 300 / len(points)))


# Small and empty input


def test_tiny_input_is_all_noise():
    points, _ = direction_blobs([5], seed=9)

    result = cluster(points)

    assert result.n_clusters == 0
    assert np.all(result.labels == NOISE)
    assert np.all(result.assigned_by == "noise")
    assert np.all(result.probabilities == 0)
    assert result.coverage == 0.0
    assert result.centroids.shape == (0, DIM)


def test_empty_input_returns_an_empty_clustering():
    result = cluster(np.zeros((0, 16), dtype=np.float32))

    assert result.n_clusters == 0
    assert result.labels.shape == result.probabilities.shape == result.assigned_by.shape == (0,)
    assert result.coverage == 0.0
    assert result.centroids.shape == (0, 16)
    assert result.fitted_on == 0


def test_input_with_fewer_distinct_rows_than_two_clusters_is_all_noise():
    points, _ = direction_blobs([3, 3], seed=10)
    many_copies = np.repeat(points, 50, axis=0)  # 300 rows, 6 distinct

    result = cluster(many_copies)

    assert result.n_clusters == 0
    assert np.all(result.labels == NOISE)


# auto_min_cluster_size


def documented_min_cluster_size(n):
    """The docstring: grows with the square root of the data, at least 10 (sqrt(n) / 8)."""
    return max(10, round(math.sqrt(n) / 8))


@pytest.mark.parametrize("n", [0, 1, 100, 6_400, 13_083, 100_000, 1_000_000])
def test_auto_min_cluster_size_follows_the_documented_square_root_rule(n):
    assert auto_min_cluster_size(n) == documented_min_cluster_size(n)


def test_auto_min_cluster_size_matches_the_documented_examples():
    # "10 for up to 6,400 points, 14 for 13,000 (banking77), 40 for 100,000, 125 for a million"
    assert auto_min_cluster_size(6_400) == 10  # sqrt = 80, / 8 = 10
    assert auto_min_cluster_size(13_083) == 14  # sqrt ~ 114.4, / 8 ~ 14.3
    assert auto_min_cluster_size(100_000) == 40  # sqrt ~ 316.2, / 8 ~ 39.5
    assert auto_min_cluster_size(1_000_000) == 125  # sqrt = 1000, / 8 = 125
    assert all(auto_min_cluster_size(n) == 10 for n in (0, 500, 3_000, 6_400))


def test_auto_min_cluster_size_is_at_least_ten_and_never_shrinks_with_more_data():
    sizes = [0, 1, 10, 1_000, 6_400, 7_000, 10_000, 50_000, 250_000, 1_000_000, 10**8]
    values = [auto_min_cluster_size(n) for n in sizes]

    assert min(values) == 10
    assert values == sorted(values)
    assert values[-1] > values[0]
    assert auto_min_cluster_size(-5) == 10


def test_clusterer_uses_the_automatic_size_unless_one_is_given():
    points, _ = direction_blobs([60, 60, 60], seed=11)

    automatic = cluster(points)
    explicit = cluster(points, min_cluster_size=25)

    assert automatic.min_cluster_size == auto_min_cluster_size(len(points))
    assert explicit.min_cluster_size == 25


# Protocol and centroids


def test_hdbscan_clusterer_satisfies_the_clusterer_protocol():
    assert isinstance(HdbscanClusterer(), Clusterer)
    assert not isinstance(object(), Clusterer)


def test_centroids_are_unit_length_means_closest_to_their_own_rows():
    points, _ = haloed_blobs_with_outliers(seed=2)

    # With PCA, as above: UMAP groups a point by its neighbours, so a halo point it puts in a
    # blob need not be nearest that blob's centroid.
    result = cluster(points, **PCA)

    assert np.allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)
    for k in range(result.n_clusters):
        mean = points[result.labels == k].mean(axis=0)
        assert np.allclose(result.centroids[k], mean / np.linalg.norm(mean), atol=1e-5)
    covered = result.labels != NOISE
    nearest = np.argmax(points[covered] @ result.centroids.T, axis=1)
    assert np.array_equal(nearest, result.labels[covered])


def test_centroids_count_every_copy_of_a_duplicated_row():
    points, _ = direction_blobs([60, 60, 60], seed=12)
    with_copies = np.vstack([points, np.repeat(points[[0]], 30, axis=0)])

    result = cluster(with_copies)

    k = result.labels[0]
    mean = with_copies[result.labels == k].mean(axis=0)
    assert np.allclose(result.centroids[k], mean / np.linalg.norm(mean), atol=1e-5)


# Reduction


def test_pca_reduction_returns_unit_rows_with_the_requested_dimensions():
    points, _ = direction_blobs([40, 40], seed=13)

    reduced = reduce_vectors(points, ClusterParams(reduction="pca", n_components=8))

    assert reduced.shape == (80, 8)
    assert np.allclose(np.linalg.norm(reduced, axis=1), 1.0, atol=1e-5)


def test_no_reduction_returns_the_vectors_unchanged():
    points, _ = direction_blobs([40, 40], seed=13)

    reduced = reduce_vectors(points, ClusterParams(reduction="none", n_components=8))

    assert np.array_equal(reduced, points)


def test_unknown_reduction_is_rejected():
    points, _ = direction_blobs([40, 40], seed=13)

    with pytest.raises(ValueError, match="unknown reduction"):
        reduce_vectors(points, ClusterParams(reduction="tsne", n_components=8))


def test_every_reduction_the_settings_accept_has_a_reducer_and_default_dimensions():
    accepted = set(typing.get_args(Reduction))

    assert accepted == {"none", *REDUCERS}
    assert set(DEFAULT_COMPONENTS) == set(REDUCERS)


def test_umap_reduction_without_umap_explains_how_to_fall_back_to_pca(monkeypatch):
    # A None entry in sys.modules makes `from umap import UMAP` raise ImportError,
    # so this runs whether or not umap-learn is installed.
    monkeypatch.setitem(sys.modules, "umap", None)
    points, _ = direction_blobs([40, 40], seed=13)

    with pytest.raises(ImportError, match="pca") as raised:
        cluster(points, reduction="umap", n_components=5)

    assert "umap-learn" in str(raised.value)


class RecordingUmap:
    """Stands in for umap.UMAP: records its settings and keeps the first dimensions."""

    created: list[dict] = []

    def __init__(self, **settings):
        self.settings = settings
        RecordingUmap.created.append(settings)

    def fit_transform(self, vectors):
        return np.asarray(vectors)[:, : self.settings["n_components"]] * 2.0


def test_umap_reduction_passes_dimensions_metric_and_seed_to_umap(monkeypatch):
    fake = type(sys)("umap")
    fake.UMAP = RecordingUmap
    monkeypatch.setitem(sys.modules, "umap", fake)
    RecordingUmap.created.clear()
    points, _ = direction_blobs([40, 40], seed=13)

    reduced = reduce_vectors(points, ClusterParams(reduction="umap", n_components=6, seed=9))

    assert len(RecordingUmap.created) == 1
    settings = RecordingUmap.created[0]
    assert settings["n_components"] == 6
    assert settings["metric"] == "cosine"
    assert settings["random_state"] == 9
    assert reduced.shape == (80, 6)
    assert reduced.dtype == np.float32


@pytest.mark.filterwarnings("ignore:n_jobs value:UserWarning")
def test_umap_reduction_recovers_blobs():
    points, truth = direction_blobs([60, 60, 60], spread=0.05, dim=24, seed=14)

    result = cluster(points, reduction="umap", n_components=5)

    assert result.n_clusters == 3
    assert result.coverage >= 0.9
    assert nmi_on_covered(truth, result) >= 0.95


def test_a_seeded_umap_fit_says_nothing_an_operator_cannot_act_on():
    """UMAP's "n_jobs value 1 overridden to 1" reached stderr twice a night (session 42)."""
    points, _ = direction_blobs([40, 40], spread=0.05, dim=16, seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reduce_with_umap(points, 5, 0)
    assert not [w for w in caught if "overridden" in str(w.message)]


def test_two_threads_can_fit_umap_at_once():
    # numba's own work queue aborts the whole process when two threads run parallel code at
    # once; TBB (load_tbb_for_numba) and OpenMP do not. A fresh process, since an abort would
    # end pytest and an earlier fit fixes the pool.
    script = (
        "import threading, numpy as np\n"
        "from nlp.clusterers.hdbscan import ClusterParams, reduce_vectors\n"
        "rng = np.random.default_rng(0)\n"
        "data = [rng.normal(size=(500, 24)).astype(np.float32) for _ in range(2)]\n"
        "out = []\n"
        "fit = lambda points: out.append(reduce_vectors(points, ClusterParams()).shape)\n"
        "threads = [threading.Thread(target=fit, args=(points,)) for points in data]\n"
        "[thread.start() for thread in threads]\n"
        "[thread.join() for thread in threads]\n"
        "print(out)\n"
    )
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)

    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.splitlines() == ["[(500, 5), (500, 5)]"]


# --- the registry of cluster methods -------------------------------------------------------


def test_hdbscan_is_the_built_in_default_method():
    from nlp.cluster import DEFAULT_METHOD, build_clusterer, built_in_methods, clusterer_spec

    assert DEFAULT_METHOD == "hdbscan" and "hdbscan" in built_in_methods()
    spec = clusterer_spec("hdbscan")
    assert spec.params is ClusterParams and spec.incremental
    clusterer = build_clusterer("hdbscan", {"min_cluster_size": 12})
    assert isinstance(clusterer, HdbscanClusterer) and clusterer.params.min_cluster_size == 12


def test_an_unknown_method_names_the_known_ones():
    from nlp.cluster import clusterer_spec

    with pytest.raises(KeyError, match="unknown cluster method 'nope'; known methods: .*hdbscan"):
        clusterer_spec("nope")


def test_a_helper_module_beside_the_methods_is_not_offered_as_a_method():
    from nlp.cluster import built_in_methods, clusterer_spec

    assert "hdbscan" in built_in_methods() and "reduce" not in built_in_methods()
    with pytest.raises(KeyError) as refused:
        clusterer_spec("reduce")
    known = refused.value.args[0].split("known methods: ")[1].split(", ")
    assert "hdbscan" in known and "reduce" not in known


def test_a_method_registered_from_outside_is_built_with_its_own_parameters():
    from dataclasses import dataclass

    from nlp.cluster import build_clusterer, clustering_from_labels, register_clusterer

    @dataclass(frozen=True)
    class HalvesParams:
        axis: int = 0

    @register_clusterer("test_halves", HalvesParams)
    class Halves:
        def __init__(self, params: HalvesParams) -> None:
            self.params = params

        def cluster(self, vectors, tags=None):
            return clustering_from_labels(vectors, (vectors[:, self.params.axis] > 0).astype(int))

    vectors = unit_rows([[1, 0], [0.9, 0.1], [0.8, 0.3], [-1, 0], [-0.9, 0.2]])
    found = build_clusterer("test_halves", {"axis": 0}).cluster(vectors)

    assert isinstance(build_clusterer("test_halves"), Clusterer)
    assert found.labels.tolist() == [0, 0, 0, 1, 1]  # numbered by size, largest first
    assert found.assigned_by.tolist() == ["core"] * 5 and found.min_cluster_size is None
    assert found.n_clusters == 2 and found.coverage == 1.0


def test_a_registered_method_must_have_a_parameter_dataclass():
    from nlp.cluster import register_clusterer

    with pytest.raises(TypeError, match="must be a dataclass"):
        register_clusterer("test_bad", dict)
