"""The local executor and the stored embedder, with a stand-in embedder (no real model)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import BagOfWordsEmbedder

from config import Settings
from config.taxonomy import load_taxonomy, resolve_taxonomy_path
from flows.enrich_models import Models, StoredEmbedder, embedding_model_id
from flows.executor import (
    PARALLEL_SPLIT_MIN,
    LocalExecutor,
    objects_kept_from_forks,
    partitions,
    split_processes,
)
from warehouse.connection import connect_warehouse
from warehouse.core import run_sql
from warehouse.enrichment import PendingComment, TextToEmbed


def models_with(embedder: BagOfWordsEmbedder) -> Models:
    models = Models(Settings())
    models.__dict__["embedder"] = embedder  # the cached_property, filled in
    return models


def test_partitions_cut_in_order_and_keep_every_item():
    assert partitions(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert partitions([], 3) == []


def test_local_executor_embeds_each_partition_as_the_embedder_does():
    embedder = BagOfWordsEmbedder()
    todo = [TextToEmbed(f"h{i}", f"text number {i}") for i in range(5)]
    results = list(LocalExecutor(models_with(embedder)).embed(partitions(todo, 2)))
    assert [len(part) for part, _ in results] == [2, 2, 1]
    hashes = [h for _, (part_hashes, _) in results for h in part_hashes]
    vectors = np.vstack([v for _, (_, v) in results])
    assert hashes == [t.text_hash for t in todo]
    assert vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, embedder.encode([t.text for t in todo]))


def test_stored_embedder_embeds_a_text_once(tmp_path):
    conn = connect_warehouse(tmp_path / "warehouse.duckdb")
    try:
        stored = StoredEmbedder(conn, models_with(BagOfWordsEmbedder()), "bag-of-words@test")
        first = stored.encode(["late delivery", "broken box"])
        again = stored.encode(["broken box", "late delivery", "broken box"])
        assert stored.computed == 2
        np.testing.assert_array_equal(again[1], first[0])
        assert run_sql(conn, "SELECT count(*) FROM embeddings") == [(2,)]
        assert stored.dimension == BagOfWordsEmbedder.dimension
    finally:
        conn.close()


def test_the_model_id_names_the_model_and_the_backend():
    settings = Settings(models={"backend": "torch-bf16-jit"})
    assert embedding_model_id(settings) == "all-MiniLM-L6-v2@torch-bf16-jit"


@pytest.mark.parametrize(
    ("setting", "comments", "expected"),
    [
        (1, 50_000, 1),  # one, as set
        (3, 10, 3),  # a number is used as it is
        (0, PARALLEL_SPLIT_MIN - 1, 1),  # auto, few comments: not worth a process
        (0, PARALLEL_SPLIT_MIN, "cores"),  # auto, many: one per core, at most 4
    ],
)
def test_split_processes_follow_the_setting_and_the_comment_count(
    monkeypatch, setting, comments, expected
):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    want = 4 if expected == "cores" else expected
    assert split_processes(setting, comments) == want


def test_split_processes_are_one_in_a_daemonic_process(monkeypatch):
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    assert split_processes(0, 50_000) == 1
    assert split_processes(4, 50_000) == 1


def test_the_split_gives_the_same_rows_in_order_in_one_or_two_processes():
    taxonomy = load_taxonomy(resolve_taxonomy_path(Settings()))
    texts = [
        "The app logged me out again. Support never answered!",
        "Refund still not here after three weeks, but the staff were kind.",
        "Love it. Works perfectly.",
        "I waited 40 minutes on hold and then the call dropped :(",
        "El pedido no ha llegado todavía y nadie contesta.",  # reaches the language detector
    ]
    comments = [
        PendingComment(f"c{i}", texts[i % len(texts)], f"h{i}", None, None, None, None, "reviews")
        for i in range(72)
    ]
    parts = [comments[:40], comments[40:47], comments[47:]]
    stamp = datetime(2026, 11, 30, tzinfo=UTC)

    def split_in(processes: int) -> list[tuple[list[str], list, list]]:
        executor = LocalExecutor(Models(Settings(enrich={"split_processes": processes})))
        return [
            (
                [c.comment_id for c in part],
                [replace(e, enriched_at=stamp) for e in enrichments],
                units,
            )
            for part, (enrichments, units) in executor.split(parts, taxonomy, {})
        ]

    one, two = split_in(1), split_in(2)
    assert [ids for ids, _, _ in two] == [[c.comment_id for c in part] for part in parts]
    for ids, enrichments, units in two:
        assert [e.comment_id for e in enrichments] == ids
        assert {u.comment_id for u in units} == set(ids)
    assert sum(len(units) for _, _, units in one) > len(comments)  # sentences were split
    assert {e.language for _, enrichments, _ in one for e in enrichments} == {"en", "es"}
    assert one == two


def test_a_stated_language_with_a_region_is_its_language():
    # "en-GB" (App Store, Qualtrics) was compared whole with supported_languages [en]: the
    # comment was kept untagged as foreign.
    taxonomy = load_taxonomy(resolve_taxonomy_path(Settings()))
    stated = {"c1": "en-GB", "c2": "EN_us", "c3": "de-DE", "c4": "en"}
    comments = [
        PendingComment(cid, "My refund never arrived.", cid, None, None, None, code, "x")
        for cid, code in stated.items()
    ]
    executor = LocalExecutor(Models(Settings()))
    [(_, (enrichments, _))] = list(executor.split([comments], taxonomy, {}))
    read = {e.comment_id: (e.language, e.language_supported) for e in enrichments}
    assert read == {
        "c1": ("en", True),
        "c2": ("en", True),
        "c3": ("de", False),
        "c4": ("en", True),
    }


@pytest.mark.parametrize("read", ["all", "one"])
def test_the_split_processes_end_even_under_a_python_sigterm_handler(read):
    """A flow run's process has Python signal handlers, which forked processes inherit: the
    pool must still end when every piece is read, and when the reader stops after one."""
    taxonomy = load_taxonomy(resolve_taxonomy_path(Settings()))
    comments = [
        PendingComment(f"c{i}", f"Refund {i} still missing.", f"h{i}", None, None, None, None, "x")
        for i in range(30)
    ]
    executor = LocalExecutor(Models(Settings(enrich={"split_processes": 2})))
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    finished = threading.Event()

    def split() -> None:
        results = executor.split([comments[:15], comments[15:]], taxonomy, {})
        if read == "all":
            assert len(list(results)) == 2
        else:
            next(results)
            results.close()
        finished.set()

    try:
        worker = threading.Thread(target=split, daemon=True)
        worker.start()
        worker.join(timeout=120)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert finished.is_set(), "the split's processes did not end"
    assert not multiprocessing.active_children()


class _Cycle:
    """Garbage only the cycle collector frees; says in ``log`` which process freed it."""

    def __init__(self, log):
        self.me, self.log = self, log

    def __del__(self):
        with open(self.log, "a") as out:
            out.write(f"{os.getpid()}\n")


def _collect_garbage(_):
    gc.collect()
    return os.getpid()


def test_forked_split_processes_never_free_an_object_of_the_parent(tmp_path):
    """An inherited native object freed in a fork can hang it (an onnxruntime session left
    by auto's probe did): garbage goes in this process before the fork, never in a child."""
    log = tmp_path / "freed"
    gc.disable()  # the cycle stays uncollected garbage until the fork, as it can in a run
    try:
        _Cycle(log)
        assert not log.exists()
        with objects_kept_from_forks():
            pool = multiprocessing.get_context("fork").Pool(2)
        with pool:
            children = set(pool.map(_collect_garbage, range(8)))
    finally:
        gc.enable()
    assert os.getpid() not in children
    assert log.read_text().split() == [str(os.getpid())]
    assert gc.get_freeze_count() == 0  # this process's objects are collectable again
