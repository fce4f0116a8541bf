"""models.backend: auto, with fake backends and a fake clock: no model is loaded, nothing timed."""

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from models import auto, load_embedder, loading, resolve_backend
from models.auto import Trial, choose_backend, pick_fastest, time_backends
from models.backends import BACKENDS, LoadRequest

DIMENSION = 8


class FakeClock:
    """Seconds that pass only when a fake model encodes."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reference_vectors(texts: Sequence[str]) -> np.ndarray:
    rows = [
        np.random.default_rng(len(t) * 31 + sum(map(ord, t[:20]))).normal(size=DIMENSION)
        for t in texts
    ]
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class FakeModel:
    """Encodes like the fp32 reference (or, when not faithful, like nothing similar to it)."""

    def __init__(self, clock: FakeClock, seconds_per_text: float, faithful: bool) -> None:
        self.clock, self.seconds_per_text, self.faithful = clock, seconds_per_text, faithful

    def get_sentence_embedding_dimension(self) -> int:
        return DIMENSION

    def encode(self, texts: Sequence[str], **_) -> np.ndarray:
        self.clock.now += self.seconds_per_text * len(texts)
        vectors = reference_vectors(texts)
        return vectors if self.faithful else vectors[:, ::-1].copy()


class FakeBackend:
    """A backend registered from outside the package, as a user's would be."""

    requires = ()
    install_hint = "nothing"
    cpu_batch_size = 7

    def __init__(self, name: str, clock: FakeClock, texts_per_second: float, faithful: bool = True):
        self.name, self.clock = name, clock
        self.seconds_per_text, self.faithful = 1 / texts_per_second, faithful
        self.loads = 0

    def runs_on(self, device: str) -> bool:
        return device == "cpu"

    def load(self, request: LoadRequest) -> FakeModel:
        self.loads += 1
        return FakeModel(self.clock, self.seconds_per_text, self.faithful)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> dict[str, FakeBackend]:
    """Only fake backends: fp32 'torch' at 100 texts/s, a faithful 300/s, an unfaithful 900/s."""
    backends = {
        "torch": FakeBackend("torch", clock, 100),
        "fake-fast": FakeBackend("fake-fast", clock, 300),
        "fake-wrong": FakeBackend("fake-wrong", clock, 900, faithful=False),
    }
    monkeypatch.setattr(auto, "BACKENDS", backends)
    for name, backend in backends.items():
        monkeypatch.setitem(BACKENDS, name, backend)
    for name in [n for n in BACKENDS if n not in backends]:
        monkeypatch.delitem(BACKENDS, name)
    monkeypatch.setattr(loading, "time_backends", partial(time_backends, clock=clock))
    monkeypatch.setattr(loading, "_CHOICES", {})
    return backends


def encoders(clock: FakeClock, rates: dict[str, tuple[float, bool]]):
    def encoder_for(name: str):
        rate, faithful = rates[name]
        return FakeModel(clock, 1 / rate, faithful).encode

    return encoder_for


def test_time_backends_measures_rate_and_cosine_against_fp32(clock: FakeClock):
    texts = [f"text number {i}" for i in range(50)]
    rates = {"torch": (100, True), "quick": (400, True), "wrong": (800, False)}

    trials = {
        t.backend: t
        for t in time_backends(["quick", "wrong"], encoders(clock, rates), texts, clock=clock)
    }

    assert set(trials) == {"torch", "quick", "wrong"}  # the reference is always timed
    assert trials["torch"].texts_per_second == pytest.approx(100)
    assert trials["quick"].texts_per_second == pytest.approx(400)
    assert trials["quick"].cosine == pytest.approx(1.0)
    assert trials["wrong"].cosine < 0.99
    assert trials["quick"].cosine_p5 == pytest.approx(1.0)
    assert not trials["wrong"].faithful


def test_auto_picks_the_fastest_eligible_backend_and_refuses_an_unfaithful_faster_one():
    trials = [
        Trial("torch", 100, 1.0, 1.0),
        Trial("fast", 300, 0.995, 0.99),
        Trial("fastest", 900, 0.97, 0.95),
    ]
    assert pick_fastest(trials).backend == "fast"
    slower = [Trial("torch", 100, 1.0, 1.0), Trial("slow", 50, 1.0, 1.0)]
    assert pick_fastest(slower).backend == "torch"


def test_auto_refuses_a_backend_whose_mean_passes_but_whose_tail_strays():
    # onnx-int8 on the probe: mean 0.9909, 5th percentile 0.9815; on real tweets mean 0.9873
    trials = [Trial("torch", 100, 1.0, 1.0), Trial("onnx-int8", 250, 0.9909, 0.9815)]
    assert pick_fastest(trials).backend == "torch"
    assert not trials[1].faithful


def test_a_backend_that_fails_to_load_is_left_out(clock: FakeClock):
    def encoder_for(name: str):
        if name == "broken":
            raise RuntimeError("no such library")
        return FakeModel(clock, 0.01, True).encode

    trials = time_backends(["broken"], encoder_for, ["a", "b"], clock=clock)
    assert [t.backend for t in trials] == ["torch"]


def test_the_choice_is_cached_and_reused(tmp_path: Path):
    file, calls = tmp_path / "choice.json", []
    fingerprint = {"cpu": "Some CPU", "flags": "avx2 fma", "versions": {"torch": "2.13.0"}}

    def measure():
        calls.append(1)
        return [Trial("torch", 100, 1.0, 1.0), Trial("onnx-int8", 250, 0.993, 0.988)]

    first = choose_backend(file, fingerprint, measure)
    second = choose_backend(file, fingerprint, measure)

    assert first.backend == second.backend == "onnx-int8"
    assert second.texts_per_second == 250
    assert calls == [1]  # measured once
    assert json.loads(file.read_text())["fingerprint"] == fingerprint


@pytest.mark.parametrize(
    "change",
    [{"flags": "avx2 fma avx512_bf16"}, {"versions": {"torch": "2.14.0"}}, {"cpu": "Other CPU"}],
)
def test_the_cached_choice_is_measured_again_when_the_machine_or_versions_change(
    tmp_path: Path, change
):
    file, calls = tmp_path / "choice.json", []
    fingerprint = {"cpu": "Some CPU", "flags": "avx2 fma", "versions": {"torch": "2.13.0"}}

    def measure():
        calls.append(1)
        return [Trial("torch", 100, 1.0, 1.0), Trial("torch-bf16", 75 * len(calls), 0.999, 0.998)]

    assert choose_backend(file, fingerprint, measure).backend == "torch"
    again = choose_backend(file, {**fingerprint, **change}, measure)

    assert len(calls) == 2
    assert again.backend == "torch-bf16"  # re-measured: 150 texts/s now beats 100


def test_load_embedder_auto_chooses_caches_and_reuses_with_registered_backends(
    fakes: dict[str, FakeBackend], tmp_path: Path
):
    embedder = load_embedder(cache_dir=tmp_path, device="cpu")

    assert embedder.model_id == "all-MiniLM-L6-v2@fake-fast"
    assert embedder.batch_size == 7  # the chosen backend's own CPU batch size
    assert embedder.encode(["hello"]).shape == (1, DIMENSION)
    [file] = tmp_path.glob("*.auto-cpu.json")
    saved = json.loads(file.read_text())
    assert saved["backend"] == "fake-fast"
    assert {t["backend"] for t in saved["trials"]} == {"torch", "fake-fast", "fake-wrong"}
    assert saved["fingerprint"]["flags"] and saved["fingerprint"]["versions"]["torch"] != "-"

    loads = {name: b.loads for name, b in fakes.items()}
    loading._CHOICES.clear()  # a new process: the disk cache answers, nothing is timed again
    assert resolve_backend("auto", cache_dir=tmp_path) == "fake-fast"
    assert {name: b.loads for name, b in fakes.items()} == loads


def test_the_cache_is_invalidated_when_cpu_flags_change(
    fakes: dict[str, FakeBackend], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    resolve_backend("auto", cache_dir=tmp_path)
    timed = fakes["torch"].loads
    loading._CHOICES.clear()
    monkeypatch.setattr(auto, "cpu_flags", lambda: {"sse2"})

    assert resolve_backend("auto", cache_dir=tmp_path) == "fake-fast"
    assert fakes["torch"].loads == timed + 1  # measured again


def test_the_cache_is_invalidated_when_amx_is_no_longer_granted(
    fakes: dict[str, FakeBackend], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(auto, "amx_granted", lambda: True)
    resolve_backend("auto", cache_dir=tmp_path)
    timed = fakes["torch"].loads
    loading._CHOICES.clear()
    # the same CPU and flags, but the kernel (or a container) now refuses AMX's tile state
    monkeypatch.setattr(auto, "amx_granted", lambda: False)

    assert resolve_backend("auto", cache_dir=tmp_path) == "fake-fast"
    assert fakes["torch"].loads == timed + 1  # measured again


def test_an_explicit_backend_wins_over_auto(fakes: dict[str, FakeBackend], tmp_path: Path):
    embedder = load_embedder(backend="torch", cache_dir=tmp_path, device="cpu")

    assert embedder.model_id == "all-MiniLM-L6-v2@torch"
    assert resolve_backend("fake-wrong", cache_dir=tmp_path) == "fake-wrong"
    assert fakes["fake-fast"].loads == 0  # nothing was timed
    assert not list(tmp_path.glob("*.auto-*.json"))
