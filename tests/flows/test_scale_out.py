"""The enrich stage on a real Dask cluster (two worker processes) matches the local path.

A ``distributed.LocalCluster`` with worker processes stands in for a real cluster: the flow
reaches it only through ``scale.dask_address``, exactly as it would reach a remote scheduler.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml
from conftest import demo_sources

from flows.enrich import enrich
from flows.ingest import ingest

pytestmark = pytest.mark.usefixtures("prefect_server")

PARTITION = 100  # comments per split partition
EMBED_BATCH = 200  # texts per embedding partition (and local batch): a few partitions here
COMMENTS = 300


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo data set (300 comments in the base window, plus the bad records)."""
    from flows.demo import DemoSpec, write_demo_data

    out = tmp_path_factory.mktemp("small_demo")
    write_demo_data(out, DemoSpec(n_comments=COMMENTS))
    return out


@pytest.fixture(scope="module")
def dask_cluster():
    """A genuine Dask cluster on 127.0.0.1: a scheduler on a free port, two worker processes."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
    ) as cluster:
        yield cluster


def workspace(folder: Path, demo: Path, **settings: Any) -> Path:
    """Write a config over the demo data with its own warehouse; ingest; return the config."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "hasslemap.yaml"
    data = {
        "warehouse": str(folder / "warehouse.duckdb"),
        "sources": demo_sources(demo),
        **settings,
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    ingest(str(config))
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_demo, dask_cluster) -> dict[str, Any]:
    """The same data enriched on the Dask cluster and locally, each in its own warehouse."""
    from distributed import Client, get_task_stream

    root = tmp_path_factory.mktemp("scale_out")
    dask_config = workspace(
        root / "dask",
        small_demo,
        scale={"dask_address": dask_cluster.scheduler_address, "partition_comments": PARTITION},
    )
    local_config = workspace(root / "local", small_demo)

    def no_spacy_here(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the flow process loaded spaCy: splitting did not run on Dask")

    with pytest.MonkeyPatch.context() as patch:
        # Both paths cut the missing texts at the same places; smaller cuts make several
        # embedding partitions out of this small data set.
        patch.setattr("flows.enrich.EMBED_BATCH", EMBED_BATCH)
        with (
            Client(dask_cluster, set_as_default=False) as client,
            pytest.MonkeyPatch.context() as flow_process,
        ):
            flow_process.setattr("models.load_spacy", no_spacy_here)  # not the workers'
            with get_task_stream(client=client) as stream:
                started = time.perf_counter()
                dask_result = enrich(str(dask_config))
                dask_seconds = time.perf_counter() - started
            workers = set(client.scheduler_info()["workers"])
            rerun = enrich(str(dask_config))

        started = time.perf_counter()
        local_result = enrich(str(local_config))
        local_seconds = time.perf_counter() - started
    print(f"\nenrich of {COMMENTS} comments: local {local_seconds:.1f}s, Dask {dask_seconds:.1f}s")
    return {
        "dask": (root / "dask", dask_result),
        "local": (root / "local", local_result),
        "rerun": rerun,
        "stream": stream.data,
        "workers": workers,
    }


def query(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_partitions_ran_on_the_dask_workers(runs):
    from distributed.utils import key_split

    ran: dict[str, int] = {}
    for entry in runs["stream"]:
        ran[key_split(entry["key"])] = ran.get(key_split(entry["key"]), 0) + 1
        assert entry["worker"] in runs["workers"]
    _, result = runs["dask"]
    assert ran.get("compute_units_partition") == -(-result["comments_enriched"] // PARTITION)
    assert ran.get("embed_partition") == -(-result["texts_embedded"] // EMBED_BATCH)
    assert ran["compute_units_partition"] >= 3 and ran["embed_partition"] >= 2
    # Both worker processes took part.
    assert len({entry["worker"] for entry in runs["stream"]}) == 2


def test_dask_and_local_give_the_same_counts(runs):
    (_, on_dask), (_, local) = runs["dask"], runs["local"]
    keys = [
        "comments_enriched",
        "units_written",
        "unsupported_language",
        "texts_embedded",
        "tags_written",
        "examples_embedded",
        "taxonomy_version",
        "model_id",
    ]
    assert {k: on_dask[k] for k in keys} == {k: local[k] for k in keys}
    assert on_dask["comments_enriched"] > COMMENTS  # the base window, plus extras and bad records


# Per table: the rows a dask run and a local run must share, and whether there are more of
# them than comments in the base window (a row per unit or per tag, not per comment).
SAME_ROWS = {
    "units": (
        "SELECT unit_id, comment_id, unit_index, start_char, end_char, text, text_hash, lemmas, "
        "noun_chunks, negated, pattern_hits, round(sentiment, 9), round(severity, 9), "
        "severity_parts FROM units ORDER BY unit_id",
        True,
    ),
    "comment_enrichment": (
        "SELECT comment_id, content_hash, enrich_version, language, "
        "round(language_confidence, 9), language_supported, text_hash, round(sentiment, 9), "
        "round(severity, 9), severity_parts, unit_count FROM comment_enrichment ORDER BY comment_id",
        False,
    ),
    "tags": (
        "SELECT subject_kind, subject_id, comment_id, stage, round(stage_confidence, 4), theme, "
        "round(theme_confidence, 4), is_pain_point, round(pain_score, 4), method, "
        "taxonomy_version, model_id FROM tags ORDER BY subject_kind, subject_id",
        True,
    ),
}


@pytest.mark.parametrize("table", list(SAME_ROWS))
def test_dask_and_local_write_the_same_rows(runs, table):
    (dask_folder, _), (local_folder, _) = runs["dask"], runs["local"]
    sql, more_than_comments = SAME_ROWS[table]
    expected = query(local_folder, sql)
    if more_than_comments:
        assert len(expected) > COMMENTS
    assert query(dask_folder, sql) == expected


def test_dask_and_local_store_the_same_vectors(runs):
    (dask_folder, _), (local_folder, _) = runs["dask"], runs["local"]
    sql = "SELECT model_id, text_hash, vector FROM embeddings ORDER BY model_id, text_hash"
    on_dask, local = query(dask_folder, sql), query(local_folder, sql)
    assert [row[:2] for row in on_dask] == [row[:2] for row in local]
    difference = np.abs(
        np.array([row[2] for row in on_dask]) - np.array([row[2] for row in local])
    ).max()
    assert difference <= 1e-5  # in practice 0: the same texts share each batch


def test_a_second_dask_run_recomputes_nothing(runs):
    rerun = runs["rerun"]
    assert (rerun["comments_enriched"], rerun["texts_embedded"], rerun["tags_written"]) == (0, 0, 0)


def test_the_address_comes_from_config_or_environment(tmp_path):
    from config import load_settings
    from flows.scale import dask_task_runner

    config = tmp_path / "hasslemap.yaml"
    config.write_text(yaml.safe_dump({"warehouse": str(tmp_path / "w.duckdb")}), encoding="utf-8")
    assert dask_task_runner(load_settings(config, environ={})) is None
    environ = {"HASSLEMAP_SCALE__DASK_ADDRESS": "tcp://127.0.0.1:8786"}
    runner = dask_task_runner(load_settings(config, environ=environ))
    assert runner is not None and runner.address == "tcp://127.0.0.1:8786"
