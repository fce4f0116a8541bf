"""The local executor and the stored embedder, with a stand-in embedder (no real model)."""

from __future__ import annotations

import numpy as np
from conftest import BagOfWordsEmbedder

from config import Settings
from flows.enrich_models import Models, StoredEmbedder, embedding_model_id
from flows.executor import LocalExecutor, partitions
from warehouse.connection import connect_warehouse
from warehouse.core import run_sql
from warehouse.enrichment import TextToEmbed


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
