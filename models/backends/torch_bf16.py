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


class NativeBf16Only:
    """Mixin of the bfloat16 backends: ``auto`` times them on a CPU only where bf16 is native.

    Any other device torch sees is timed. Emulated, bfloat16 never beats float32 and costs
    minutes to time (the support tweets' enrich took 599 s in torch-bf16-jit on an AVX2-only
    AMD EPYC, their whole night 165-184 s in onnx). Set by name in ``models.backend`` it still
    loads.
    """

    def runs_on(self, device: str) -> bool:
        """False on a CPU without native bfloat16; True elsewhere."""
        return device != "cpu" or native_bf16()


class TorchBf16Backend(NativeBf16Only, TorchBackendBase):
    """The model's weights and activations in bfloat16 (``auto`` times it where bf16 is native)."""

    name = "torch-bf16"

    def load(self, request: LoadRequest) -> Any:
        """Load the model and cast it to bfloat16."""
        import torch

        warn_without_native_bf16(request.device, self.name)
        model = load_sentence_transformer(request.path, request.device)
        model.to(torch.bfloat16)
        return model


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
