"""The embedding backends' own rules, without loading a model."""

from __future__ import annotations

import pytest

from models import machine
from models.backends import BACKENDS
from models.backends.onnx_int8_mixed import keeps_float32
from models.loading import default_batch_size


@pytest.mark.parametrize(
    ("node", "stays_float32"),
    [
        ("/model/encoder/layer.3/output/dense/MatMul", True),  # feed-forward down-projection
        ("/model/encoder/layer.0/attention/self/query/MatMul", True),  # first layer
        ("/model/encoder/layer.0/intermediate/dense/MatMul", True),
        ("/model/encoder/layer.3/attention/output/dense/MatMul", False),  # attention output
        ("/model/encoder/layer.3/intermediate/dense/MatMul", False),
        ("/model/encoder/layer.10/attention/self/key/MatMul", False),  # not layer.0
    ],
)
def test_the_mixed_recipe_keeps_down_projections_and_the_first_layer_float32(
    node: str, stays_float32: bool
):
    assert keeps_float32(node) is stays_float32


def test_every_backend_declares_a_cpu_batch_size():
    assert all(backend.cpu_batch_size > 0 for backend in BACKENDS.values())


@pytest.mark.parametrize(
    ("device", "backend", "expected"),
    [
        ("cpu", "torch-bf16-jit", 128),
        ("cpu", "torch", 128),
        ("cpu", "onnx", 64),  # ONNX Runtime measured faster at 64 on short texts
        ("cpu", "onnx-int8", 64),
        ("cpu", "onnx-int8-mixed", 64),  # inherited from onnx-int8
        ("cuda", "onnx", 256),
        ("cuda:1", "torch", 256),
    ],
)
def test_the_default_batch_size_is_the_backends_own_on_cpu(
    device: str, backend: str, expected: int
):
    assert default_batch_size(device, backend) == expected


def test_amx_is_not_granted_on_a_cpu_that_does_not_list_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})

    assert machine.amx_granted() is False


def test_amx_is_granted_only_when_linux_grants_the_tile_state(monkeypatch: pytest.MonkeyPatch):
    asked = []

    class FakeLibc:
        def syscall(self, *args: int) -> int:
            asked.append(args)
            return -1  # refused, as a seccomp profile or bench/no_amx.c refuses it

    monkeypatch.setattr(machine, "cpu_flags", lambda: {"amx_tile", "amx_bf16"})
    monkeypatch.setattr(machine.platform, "system", lambda: "Linux")
    monkeypatch.setattr(machine.ctypes, "CDLL", lambda *a, **k: FakeLibc())

    assert machine.amx_granted() is False
    assert asked == [(158, 0x1023, 18)]  # arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)
