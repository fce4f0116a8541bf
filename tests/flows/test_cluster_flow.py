"""The cluster stage on the demo data: planted hassles found as children, grouped under parents,
labelled, and the ids of both levels kept."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import (
    RECOGNISABLE,
    copy_workspace,
    demo_sources,
    dominant_hassles,
    latest_members,
    planted_units,
)
from sklearn.metrics import normalized_mutual_info_score

from flows.cluster import cluster
from flows.demo import DemoSpec, write_demo_data
from flows.nightly import nightly

pytestmark = pytest.mark.usefixtures("prefect_server")


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)


def test_planted_hassles_come_out_as_clusters_with_recognisable_labels(nightly_demo, demo_dir):
    folder, _, result = nightly_demo
    counts = result["stages"]["cluster"]
    assert counts["skipped"] is False and counts["hassles"] >= 8
    assert counts["mode"] == "full"
    with connect(folder) as conn:
        planted = planted_units(conn, demo_dir / "truth.csv")
        members = latest_members(conn)
        labels = dict(
            conn.execute("SELECT hassle_id, label FROM hassles WHERE level = 'child'").fetchall()
        )
    covered = [u for u in planted if u in members]
    assert len(planted) > 900
    assert len(covered) / len(planted) >= 0.75
    nmi = normalized_mutual_info_score([planted[u] for u in covered], [members[u] for u in covered])
    # 0.779 to 0.814 over cluster.seed 0-7 in float32 (onnx), 0.829 in AMX bf16: UMAP's layout
    # moves every boundary with the seed and the last digits of the vectors, so the bar sits
    # below that spread; a change that loses planted structure falls through it (see
    # bench/demo_quality.py and docs/benchmarks.md, "Session 23").
    assert nmi >= 0.75, f"NMI against the planted hassles: {nmi:.3f}"
    dominant = dominant_hassles(planted, members)
    for hassle, pattern in RECOGNISABLE.items():
        assert re.search(pattern, labels[dominant[hassle]]), (hassle, labels[dominant[hassle]])
    # Distinct planted hassles are distinct hassles.
    assert len({dominant[h] for h in RECOGNISABLE}) == len(RECOGNISABLE)


def test_children_are_grouped_under_parents_with_their_own_ids_and_labels(nightly_demo):
    folder, _, result = nightly_demo
    counts = result["stages"]["cluster"]
    with connect(folder) as conn:
        children = conn.execute(
            "SELECT hassle_id, parent_id, units FROM hassles WHERE level = 'child'"
        ).fetchall()
        parents = conn.execute(
            "SELECT hassle_id, parent_id, units, label, keyphrases, quote_unit_ids, centroid "
            "FROM hassles WHERE level = 'parent'"
        ).fetchall()
        runs = conn.execute(
            "SELECT level, count(*), count(DISTINCT hassle_id) FROM hassle_runs GROUP BY level"
        ).fetchall()
        [(run_parents, run_children)] = conn.execute(
            "SELECT parents, hassles FROM cluster_runs"
        ).fetchall()
        member_ids = {
            h for (h,) in conn.execute("SELECT DISTINCT hassle_id FROM hassle_members").fetchall()
        }
    parent_ids = {p[0] for p in parents}
    assert all(re.fullmatch(r"H-\d{4}", c[0]) for c in children)
    assert all(re.fullmatch(r"P-\d{4}", p) for p in parent_ids)
    # A product owner reads fewer parents than children: related children share one.
    assert 1 <= len(parents) < len(children)
    assert len(parents) == counts["parents"] == run_parents and len(children) == run_children
    assert dict((level, n) for level, n, _ in runs) == {
        "child": len(children),
        "parent": len(parents),
    }
    # Every child has a parent; every parent has a child; a parent holds its children's units.
    assert {c[1] for c in children} == parent_ids
    for pid, no_parent, units, label, keyphrases, quotes, centroid in parents:
        assert no_parent is None and label and keyphrases and quotes and len(centroid) == 384
        assert units == sum(c[2] for c in children if c[1] == pid)
    # Leaf membership only: units belong to children.
    assert member_ids == {c[0] for c in children}


def test_each_hassle_has_keyphrases_quotes_and_a_dominant_stage_and_theme(nightly_demo, demo_dir):
    folder, _, _ = nightly_demo
    with connect(folder) as conn:
        rows = conn.execute(
            "SELECT h.hassle_id, h.keyphrases, h.quote_unit_ids, h.stage, h.stage_share, h.theme, "
            "h.theme_share, h.units, h.status, list(DISTINCT m.unit_id) "
            "FROM hassles h JOIN hassle_members m ON m.hassle_id = h.hassle_id AND m.run_id = h.last_run_id "
            "GROUP BY ALL"
        ).fetchall()
        quotes = dict(conn.execute("SELECT unit_id, text FROM units").fetchall())
        planted = planted_units(conn, demo_dir / "truth.csv")
        members = latest_members(conn)
    assert rows
    for (
        _,
        keyphrases,
        quote_ids,
        stage,
        stage_share,
        theme,
        theme_share,
        units,
        status,
        unit_ids,
    ) in rows:
        assert keyphrases and len(set(keyphrases)) == len(keyphrases)
        assert 3 <= len(quote_ids) <= 5 and set(quote_ids) <= set(unit_ids)
        assert len({quotes[q].strip().lower() for q in quote_ids}) == len(quote_ids)
        assert stage and theme and 0 < stage_share <= 1 and 0 < theme_share <= 1
        assert units == len(unit_ids) and status == "new"
    by_id = {r[0]: r for r in rows}
    refund = by_id[dominant_hassles(planted, members)["refund_delay"]]
    assert (refund[3], refund[5]) == ("change_or_return", "waiting")


def test_reclustering_the_same_window_keeps_every_id(nightly_demo, demo_dir, tmp_path):
    folder, _, _ = nightly_demo
    config = copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    with connect(tmp_path) as conn:
        before = latest_members(conn)
        ids_before = conn.execute("SELECT hassle_id FROM hassles ORDER BY 1").fetchall()

    unchanged = cluster(str(config), run_id="same-window")
    assert unchanged["skipped"] is True  # nothing changed: nothing recomputed
    forced = cluster(str(config), run_id="forced", force=True)
    assert forced["mode"] == "incremental"  # nothing new since the full clustering
    assert forced["hassles_new"] == 0 and forced["hassles_retired"] == 0
    assert forced["parents_new"] == 0 and forced["parents_retired"] == 0

    with connect(tmp_path) as conn:
        assert latest_members(conn) == before
        assert conn.execute("SELECT hassle_id FROM hassles ORDER BY 1").fetchall() == ids_before
        statuses = conn.execute(
            "SELECT DISTINCT level, status, matched_from = hassle_id FROM hassle_runs "
            "WHERE run_id = 'forced' ORDER BY 1"
        ).fetchall()
        assert statuses == [("child", "active", True), ("parent", "active", True)]
        assert conn.execute("SELECT count(*) FROM hassle_lineage").fetchone() == (0,)


def test_a_full_recluster_of_the_same_window_keeps_the_ids_of_both_levels(
    nightly_demo, demo_dir, tmp_path
):
    folder, _, _ = nightly_demo
    config = copy_workspace(folder, tmp_path, demo_sources(demo_dir))
    with config.open("a", encoding="utf-8") as f:
        # A clustering setting that changes nothing on this window forces a full re-cluster.
        f.write("cluster:\n  max_reference_points: 10001\n")
    with connect(tmp_path) as conn:
        before = conn.execute(
            "SELECT hassle_id, level, parent_id FROM hassles ORDER BY 1"
        ).fetchall()

    full = cluster(str(config), run_id="full-again", force=True)

    assert full["mode"] == "full"
    assert full["hassles_new"] == full["hassles_retired"] == 0
    assert full["parents_new"] == full["parents_retired"] == 0
    with connect(tmp_path) as conn:
        after = conn.execute(
            "SELECT hassle_id, level, parent_id FROM hassles ORDER BY 1"
        ).fetchall()
    assert after == before


def test_a_routine_full_night_keeps_every_id_and_parent_and_finds_the_new_hassle(
    nightly_demo, demo_dir, tmp_path
):
    folder, _, _ = nightly_demo
    data, work, more = tmp_path / "demo", tmp_path / "work", tmp_path / "more"
    shutil.copytree(demo_dir, data)
    config = copy_workspace(folder, work, demo_sources(data))
    with config.open("a", encoding="utf-8") as f:
        f.write(f"report:\n  out_dir: {work / 'reports'}\n")
    nightly(str(config))  # the copied files sit at a new path: read again, nothing new
    write_demo_data(more, DemoSpec(extra_days=2))  # two days that plant promo-code complaints
    for extra in sorted(more.glob("*/*_extra.*")):
        shutil.copy2(extra, data / extra.parent.name / extra.name)
    with connect(work) as conn:
        before = conn.execute(
            "SELECT hassle_id, level, parent_id FROM hassles WHERE status <> 'retired'"
        ).fetchall()
    # Two days are about 2% new text; any new text re-clusters fully: a routine full night.
    with config.open("a", encoding="utf-8") as f:
        f.write("cluster:\n  incremental_max_new_share: 0.001\n")

    counts = nightly(str(config))["stages"]["cluster"]

    assert (counts["mode"], counts["reason"]) == ("full", "new share")
    assert {"late_finds_folded", "hassles_restored"} <= set(counts)
    assert counts["hassles_retired"] == counts["parents_retired"] == 0
    with connect(work) as conn:
        after = {
            h: (level, parent, status)
            for h, level, parent, status in conn.execute(
                "SELECT hassle_id, level, parent_id, status FROM hassles"
            ).fetchall()
        }
        planted = planted_units(conn, more / "truth.csv")
        promo = dominant_hassles(planted, latest_members(conn))["promo_code_rejected"]
    for hassle_id, level, parent in before:
        assert after[hassle_id] == (level, parent, "active"), hassle_id
    assert after[promo][0] == "child" and after[promo][2] == "new"
