import hashlib

import numpy as np
import pytest

from nlp.embed import (
    Embedder,
    SentenceTransformerEmbedder,
    length_sorted_batches,
    text_hash,
)


class FakeModel:
    """Stands in for a SentenceTransformer: a vector from each text's length and first letter.

    Returns unnormalised float64 rows in the order given, and records every batch it receives.
    """

    def __init__(self, dimension: int = 4) -> None:
        self.dimension = dimension
        self.batches: list[list[str]] = []

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, texts, batch_size=32, **kwargs):
        assert len(texts) <= batch_size
        self.batches.append(list(texts))
        return np.array([self.raw_vector(t) for t in texts], dtype=np.float64)

    def raw_vector(self, text: str) -> np.ndarray:
        first = ord(text[0]) if text else 0
        return np.array([len(text) + 1.0, first, 3.0, -2.0][: self.dimension]) * 10


def expected(model: FakeModel, text: str) -> np.ndarray:
    vector = model.raw_vector(text)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class CountingEmbedder:
    """An Embedder that records what it was asked to encode."""

    model_id = "fake@test"
    dimension = 3

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_text_hash_is_sha1_of_utf8_and_stable():
    assert text_hash("Café crashes") == hashlib.sha1("Café crashes".encode()).hexdigest()
    assert text_hash("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert text_hash("abc") != text_hash("abc ")


def test_encode_sorts_batches_by_length_and_restores_input_order():
    texts = ["bb", "a", "dddd", "ccc", "eeeee", "", "ffffff"]
    model = FakeModel()
    embedder = SentenceTransformerEmbedder(model, model_id="fake@test", batch_size=3)

    vectors = embedder.encode(texts)

    assert model.batches == [["ffffff", "eeeee", "dddd"], ["ccc", "bb", "a"], [""]]
    for row, text in zip(vectors, texts, strict=True):
        np.testing.assert_allclose(row, expected(model, text), rtol=1e-6)


def test_encode_returns_float32_unit_rows_of_the_model_dimension():
    embedder = SentenceTransformerEmbedder(FakeModel(dimension=3), model_id="fake@test")
    vectors = embedder.encode(["a", "longer text", "mid"])
    assert embedder.dimension == 3
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 3)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_encode_casts_torch_bfloat16_output_to_float32():
    torch = pytest.importorskip("torch")

    class Bf16Model(FakeModel):
        def encode(self, texts, batch_size=32, **kwargs):
            return torch.tensor(super().encode(texts, batch_size), dtype=torch.bfloat16)

    vectors = SentenceTransformerEmbedder(Bf16Model(), model_id="fake@bf16").encode(["x", "yy"])
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_encode_of_nothing_is_an_empty_matrix():
    model = FakeModel()
    vectors = SentenceTransformerEmbedder(model, model_id="fake@test").encode([])
    assert vectors.shape == (0, 4)
    assert vectors.dtype == np.float32
    assert model.batches == []


def test_progress_is_reported_per_batch():
    seen: list[int] = []
    embedder = SentenceTransformerEmbedder(
        FakeModel(), model_id="fake@test", batch_size=2, on_progress=seen.append
    )
    embedder.encode(["a", "b", "c", "d", "e"])
    assert seen == [2, 2, 1]


def test_length_sorted_batches_cover_every_index_once():
    lengths = [2, 1, 4, 3, 1]
    batches = length_sorted_batches(lengths, 2)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    seen = [lengths[i] for batch in batches for i in batch]
    assert seen == sorted(seen, reverse=True)


def test_batches_follow_the_token_count_when_the_model_gives_one():
    texts = ["😡😡😡 app", "the app crashes when I open it", "ok", "😡😡😡 bank", "hi"]
    tokens = {"😡😡😡 app": 12, "😡😡😡 bank": 12, "the app crashes when I open it": 8}
    model = FakeModel()
    embedder = SentenceTransformerEmbedder(
        model,
        model_id="fake@test",
        batch_size=2,
        count_tokens=lambda batch: [tokens.get(t, 1) for t in batch],
    )
    vectors = embedder.encode(texts)
    # The two emoji texts are the longest in tokens, though not in characters: one batch.
    assert sorted(model.batches[0]) == ["😡😡😡 app", "😡😡😡 bank"]
    assert model.batches[1][0] == "the app crashes when I open it"
    for text, vector in zip(texts, vectors, strict=True):  # in the input order
        np.testing.assert_allclose(vector, expected(model, text), rtol=1e-6)


def test_a_model_returning_the_wrong_shape_is_an_error():
    class Broken(FakeModel):
        def encode(self, texts, batch_size=32, **kwargs):
            return super().encode(texts, batch_size)[:-1]

    with pytest.raises(ValueError, match="shape"):
        SentenceTransformerEmbedder(Broken(), model_id="broken@test").encode(["a", "b"])


def test_the_default_embedder_satisfies_the_protocol():
    assert isinstance(SentenceTransformerEmbedder(FakeModel(), model_id="m@t"), Embedder)
    assert isinstance(CountingEmbedder(), Embedder)
