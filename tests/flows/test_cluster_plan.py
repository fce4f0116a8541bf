"""A routine full re-clustering folds late finds into kept hassles; other full nights do not.

``flows.cluster_plan.anchor_routine_full`` on a small window: which units are new comes from their
dates against the last full clustering, and only the routine reasons anchor.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from config import load_settings
from flows.cluster_plan import Previous, anchor_routine_full
from nlp.cluster import clustering_from_labels
from warehouse.hassles import LatestClustering, PainPoint, PainPointWindow, StoredHassle

FULL_END = datetime(2026, 11, 20)
DIM = 32


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def night(rng: np.random.Generator):
    """Kept hassle A; tonight also C, old text close to A, and D, new text close to A."""
    a = unit_rows(rng.normal(size=(1, DIM)))
    near = unit_rows(a + 0.6 * unit_rows(rng.normal(size=(2, DIM))))
    centers = np.vstack([a, near])
    truth = np.repeat([0, 1, 2], [40, 20, 20])
    vectors = unit_rows(centers[truth] + rng.normal(scale=0.02, size=(len(truth), DIM)))
    dated = [FULL_END + timedelta(days=1) if k == 2 else FULL_END for k in truth]
    units = [
        PainPoint(f"u{i}", "text", f"h{i}", (), (), None, None, created_at=when, ingested_at=when)
        for i, when in enumerate(dated)
    ]
    window = PainPointWindow(units, FULL_END - timedelta(days=90), FULL_END, "fingerprint")
    kept = StoredHassle("H-0001", a[0], frozenset(f"u{i}" for i in range(40)), "refund")
    latest = LatestClustering(
        "last", FULL_END, 10, "last", FULL_END, FULL_END + timedelta(hours=1), {}, "model", {}
    )
    return vectors, truth, window, Previous(latest, [kept], [])


@pytest.mark.parametrize(
    ("reason", "folds"),
    [("period", True), ("new share", True), ("settings", False), ("first", False)],
)
def test_only_a_routine_full_night_folds_the_late_find(reason, folds):
    vectors, truth, window, previous = night(np.random.default_rng(3))
    found = clustering_from_labels(vectors, truth)

    result = anchor_routine_full(found, window, vectors, previous, load_settings(None), reason)

    folded, labels = result.folded, result.clustering.labels
    a, c, d = (labels[truth == k] for k in range(3))
    assert (folded, np.all(c == a[0])) == ((1, True) if folds else (0, False))
    assert np.all(d == d[0]) and d[0] != a[0]  # new text close to A is news either way


def test_late_finds_can_be_turned_off():
    vectors, truth, window, previous = night(np.random.default_rng(3))
    found = clustering_from_labels(vectors, truth)
    settings = load_settings(None)
    off = settings.model_copy(
        update={"cluster": settings.cluster.model_copy(update={"anchor_routine_full": False})}
    )

    result = anchor_routine_full(found, window, vectors, previous, off, "period")
    assert result.clustering is found and (result.folded, result.restored) == (0, 0)
