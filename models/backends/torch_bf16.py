"""``torch-bf16``: PyTorch in bfloat16; fast on CPUs with AVX512-BF16 or AMX, and on GPUs."""

from __future__ import annotations

import logging
from typing import Any

from models.backends.base import (
    LoadRequest,
    TorchBackendBase,
    load_sentence_transformer,
    register_backend,
)
from models.machine import cpu_flags, native_bf16

logger = logging.getLogger(__name__)


class TorchBf16Backend(TorchBackendBase):
    """The model's weights and activations in bfloat16 (``auto`` times it where bfloat16 is native)."""

    name = "torch-bf16"

    def runs_on(self, device: str) -> bool:
        """Any device torch sees, but a CPU only with native bfloat16 (:func:`bf16_runs_on`)."""
        return bf16_runs_on(device)

    def load(self, request: LoadRequest) -> Any:
        """Load the model and cast it to bfloat16."""
        import torch

        warn_without_native_bf16(request.device, self.name)
        model = load_sentence_transformer(request.path, request.device)
        model.to(torch.bfloat16)
        return model


def bf16_runs_on(device: str) -> bool:
    """Whether a bfloat16 backend is worth ``auto``'s timing on ``device``.

    Not on a CPU without native bfloat16: emulated, it never beats float32 and costs minutes to
    time (the support tweets' enrich took 599 s in torch-bf16-jit on an AVX2-only AMD EPYC,
    their whole night 165-184 s in onnx). Set by name in ``models.backend`` it still loads.
    """
    return device != "cpu" or native_bf16()


def warn_without_native_bf16(device: str, backend: str) -> None:
    """Log a warning when ``device`` is a CPU without bfloat16 instructions."""
    if device != "cpu":
        return
    if cpu_flags() and not native_bf16():
        logger.warning(
            "models.backend is %s but this CPU has no native bfloat16 (avx512_bf16/amx_bf16); "
            "it may be slower than float32. Consider `models.backend: auto`.",
            backend,
        )


register_backend(TorchBf16Backend())
