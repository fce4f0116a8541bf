"""A ranking factor and a report column added from outside the package, through ``nightly``.

The factor is one function plus one default weight (and a config weight), the column one
registry entry: both are registered here, in the test module, and the real nightly flow runs
with them on a copy of the demo workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import duckdb
import pytest
import yaml
from conftest import comments_per_customer_column, copy_workspace, demo_sources, published_report

from flows.report.columns import COLUMNS
from nlp.evidence import Evidence
from nlp.factors import FACTORS, Factor, share

pytestmark = pytest.mark.usefixtures("prefect_server")

VOLUME_WEIGHT = 0.2


def volume(level: Sequence[Evidence]) -> list[float]:
    """Comments, as a share of the most-mentioned hassle's."""
    top = max(e.comments for e in level)
    return [share(e.comments, top) for e in level]


@pytest.fixture
def extended() -> Iterator[None]:
    FACTORS.register(
        Factor("volume", volume, 0.05, label="Volume", detail=lambda e: f"{e.comments} comments")
    )
    COLUMNS.register(comments_per_customer_column("Comments per customer"))
    try:
        yield
    finally:
        FACTORS.unregister("volume")
        COLUMNS.unregister("comments_per_customer")


def test_a_new_factor_and_column_run_through_nightly(extended, nightly_demo, demo_dir, tmp_path):
    from flows.nightly import nightly

    source, _, _ = nightly_demo
    config = copy_workspace(source, tmp_path / "ws", demo_sources(demo_dir))
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["report"] = {"out_dir": str(tmp_path / "reports")}
    settings["rank"] = {"weights": {"volume": VOLUME_WEIGHT}}  # overrides the default 0.05
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")

    result = nightly(str(config))

    run_id = result["run_id"]
    with duckdb.connect(str(tmp_path / "ws" / "warehouse.duckdb"), read_only=True) as conn:
        ranked = conn.execute(
            "SELECT hassle_id, total_score, weights FROM hassle_rankings WHERE run_id = ?",
            [run_id],
        ).fetchall()
        parts: dict[str, dict[str, float]] = {}
        for hassle_id, factor, value in conn.execute(
            "SELECT hassle_id, factor, value FROM hassle_ranking_parts WHERE run_id = ?", [run_id]
        ).fetchall():
            parts.setdefault(hassle_id, {})[factor] = value
        in_view = dict(
            conn.execute("SELECT hassle_id, parts['volume'] FROM v_latest_hassles").fetchall()
        )
    assert ranked and set(parts) == {hassle_id for hassle_id, *_ in ranked}
    for hassle_id, total, weights in ranked:
        weights = json.loads(weights)
        # The demo has values and scores: every built-in weight (sum 1) plus volume's 0.2.
        assert weights["volume"] == pytest.approx(VOLUME_WEIGHT / (1 + VOLUME_WEIGHT))
        assert set(parts[hassle_id]) == set(weights)
        assert total == pytest.approx(sum(weights[f] * v for f, v in parts[hassle_id].items()))
    assert max(p["volume"] for p in parts.values()) == 1.0
    assert all(in_view[h] == parts[h]["volume"] for h in in_view)

    publish = result["stages"]["publish"]
    html, markdown, rows = published_report(publish)
    assert '<th scope="col" class="num">Comments per customer</th>' in html
    assert "| Comments per customer |" in markdown
    assert "Volume" in html and "| Volume |" in markdown  # the part, explained in each section
    first = rows[0]
    assert float(first["comments_per_customer"]) == round(
        int(first["comments"]) / int(first["customers"]), 2
    )
    assert "part_volume" in first and "contribution_volume" in first
