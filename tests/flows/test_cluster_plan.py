"""A routine full re-clustering is held to the kept hassles and parents; other full nights are not.

``flows.cluster_plan.anchor_routine_full`` on a small window: which units are new comes from their
dates against the last full clustering, and only the routine reasons hold the night.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from config import load_settings
from flows.cluster_plan import Previous, anchor_routine_full
from nlp.cluster import clustering_from_labels
from warehouse.hassles import LatestClustering, PainPoint, PainPointWindow, StoredHassle

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)

FULL_END = datetime(2026, 11, 20)
DIM = 32


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def night(rng: np.random.Generator):
    """Kept hassles A (parent P-0001) and B (P-0002), and tonight's three more.

    C: old text close to A (a late find). D: new text close to A. E: new text like nothing.
    """
    a, b, e = unit_rows(rng.normal(size=(3, DIM)))
    near = unit_rows(a + 0.6 * unit_rows(rng.normal(size=(2, DIM))))
    centers = np.vstack([a, near, b, e])
    truth = np.repeat([0, 1, 2, 3, 4], [40, 20, 20, 40, 20])
    vectors = unit_rows(centers[truth] + rng.normal(scale=0.02, size=(len(truth), DIM)))
    dated = [FULL_END + timedelta(days=1) if k in (2, 4) else FULL_END for k in truth]
    units = [
        PainPoint(f"u{i}", "text", f"h{i}", (), (), None, None, created_at=when, ingested_at=when)
        for i, when in enumerate(dated)
    ]
    window = PainPointWindow(units, FULL_END - timedelta(days=90), FULL_END, "fingerprint")
    ids = np.array([u.unit_id for u in units])
    children = [
        StoredHassle(hid, center, frozenset(ids[truth == k]), label, parent)
        for hid, center, k, label, parent in (
            ("H-0001", a, 0, "refund", "P-0001"),
            ("H-0002", b, 3, "login", "P-0002"),
        )
    ]
    parents = [
        StoredHassle(pid, h.centroid, h.members, h.label)
        for pid, h in zip(["P-0001", "P-0002"], children, strict=True)
    ]
    latest = LatestClustering(
        "last", FULL_END, 10, "last", FULL_END, FULL_END + timedelta(hours=1), {}, "model", {}
    )
    return vectors, truth, window, Previous(latest, children, parents)


@pytest.mark.parametrize("reason", ["period", "new share"])
def test_a_routine_full_night_holds_children_and_parents(reason):
    vectors, truth, window, previous = night(np.random.default_rng(3))
    found = clustering_from_labels(vectors, truth)

    held = anchor_routine_full(found, window, vectors, previous, load_settings(None), reason)

    assert held is not None
    clustering, parent_of_child, anchored = held
    assert (anchored.folded, anchored.restored) == (1, 0)
    a, c, d, b, e = (clustering.labels[truth == k][0] for k in range(5))
    assert c == a  # the late find joined A; D, new text, stays its own
    assert len({a, d, b, e}) == 4
    assert sorted(anchored.continues.items()) == sorted({a: "H-0001", b: "H-0002"}.items())
    parent = parent_of_child.tolist()
    assert parent[d] == parent[a] != parent[b]  # the new child joins the parent it is like
    assert parent[e] not in (parent[a], parent[b])  # one like no parent gets its own
    assert sorted(set(parent)) == [0, 1, 2]


def test_a_late_find_that_revives_a_retired_hassle_is_not_folded_in():
    vectors, truth, window, previous = night(np.random.default_rng(3))
    ids = np.array([u.unit_id for u in window.units])
    centroid = vectors[truth == 1].mean(axis=0)
    retired = StoredHassle(
        "H-0003", centroid / np.linalg.norm(centroid), frozenset(ids[truth == 1]), "refund form"
    )
    found = clustering_from_labels(vectors, truth)

    held = anchor_routine_full(
        found,
        window,
        vectors,
        replace(previous, revivable_children=[retired]),
        load_settings(None),
        "period",
    )

    assert held is not None
    clustering, _, anchored = held
    assert (anchored.folded, anchored.restored) == (0, 0)
    a, c = (clustering.labels[truth == k][0] for k in range(2))
    assert c != a  # C stays apart, so that the id tracking gives it H-0003 back
    assert sorted(anchored.continues.values()) == ["H-0001", "H-0002"]


@pytest.mark.parametrize("reason", ["settings", "first", "model", "parents"])
def test_a_night_that_rebuilds_is_not_held(reason):
    vectors, truth, window, previous = night(np.random.default_rng(3))
    found = clustering_from_labels(vectors, truth)

    assert (
        anchor_routine_full(found, window, vectors, previous, load_settings(None), reason) is None
    )


def test_holding_can_be_turned_off():
    vectors, truth, window, previous = night(np.random.default_rng(3))
    found = clustering_from_labels(vectors, truth)
    settings = load_settings(None)
    off = settings.model_copy(
        update={"cluster": settings.cluster.model_copy(update={"anchor_routine_full": False})}
    )

    assert anchor_routine_full(found, window, vectors, previous, off, "period") is None


def test_with_no_child_kept_the_parents_are_grouped_afresh():
    vectors, truth, window, previous = night(np.random.default_rng(3))
    elsewhere = unit_rows(np.random.default_rng(4).normal(size=(2, DIM)))
    strangers = [
        replace(h, members=frozenset({"gone"}), centroid=c)
        for h, c in zip(previous.children, elsewhere, strict=True)
    ]
    found = clustering_from_labels(vectors, truth)

    held = anchor_routine_full(
        found, window, vectors, replace(previous, children=strangers), load_settings(None), "period"
    )

    assert held is not None
    clustering, parent_of_child, anchored = held
    assert parent_of_child is None and anchored.continues == {}
    assert clustering is found
