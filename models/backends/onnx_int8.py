"""``onnx-int8``: ONNX Runtime on the export of ``onnx`` with dynamic int8 quantization.

The quantized file is made once, beside the float32 export, with the recipe for this CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.backends.base import LoadRequest, load_sentence_transformer, register_backend
from models.backends.onnx_fp32 import (
    CPU_BATCH_SIZE,
    ONNX_EXTRA_HINT,
    export_file,
    onnx_cache_folder,
    use_onnx_runtime,
    write_export,
)
from models.machine import cpu_flags

logger = logging.getLogger(__name__)


class OnnxInt8Backend:
    """The ONNX export with int8 weights and dynamically quantized activations; CPU only."""

    name = "onnx-int8"
    requires = ("onnxruntime", "onnx")
    install_hint = ONNX_EXTRA_HINT
    cpu_batch_size = CPU_BATCH_SIZE
    recipe = "qint8"
    op_types: tuple[str, ...] | None = None  # None: onnxruntime's default (MatMul, Gather, ...)

    def float32_nodes(self, onnx_file: Path) -> list[str]:
        """Nodes of the export to leave in float32: none, every MatMul is quantized."""
        return []

    def runs_on(self, device: str) -> bool:
        """CPU only: int8 dynamic quantization is a CPU recipe."""
        return device == "cpu"

    def load(self, request: LoadRequest) -> Any:
        """Load the model with its transformer swapped for a session on the int8 file."""
        model = load_sentence_transformer(request.path, request.device)
        fp32 = export_file(model, request)
        config = int8_config()
        folder = onnx_cache_folder(request.path, self.name, request.cache_dir, request.label)
        int8 = folder / f"model_{self.recipe}_{config}.onnx"
        if not int8.exists():
            logger.info("quantizing %s to int8 (%s) in %s (once)", fp32, config, int8.parent)
            keep = self.float32_nodes(fp32)
            write_export(int8, lambda target: quantize_int8(fp32, target, keep, self.op_types))
        use_onnx_runtime(model, int8, request.device)
        return model


def int8_config() -> str:
    """Pick the dynamic-quantization recipe for this CPU: avx512_vnni, else avx2."""
    return "avx512_vnni" if "avx512_vnni" in cpu_flags() else "avx2"


def quantize_int8(
    source: Path,
    target: Path,
    float32_nodes: Sequence[str] = (),
    op_types: Sequence[str] | None = None,
) -> None:
    """Dynamic int8 quantization, as optimum's ``AutoQuantizationConfig.<cpu>(is_static=False)``.

    Weights are quantized per channel on both: per tensor, avx2's vectors lost most of their
    agreement with float32 (mean cosine 0.930, "ok" 0.817, on an AMD EPYC; per channel 0.987).
    avx512_vnni: signed symmetric int8 weights; avx2: unsigned weights with reduced range (its
    u8 x s8 multiply can saturate with full-range weights). The nodes
    named in ``float32_nodes`` stay float32; ``op_types`` limits the kinds of node quantized.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    vnni = int8_config() == "avx512_vnni"
    root = logging.getLogger()
    hint = _DropMessages("Please consider to run pre-processing")  # ORT logs this via root
    root.addFilter(hint)
    try:
        quantize_dynamic(
            source,
            target,
            per_channel=True,
            reduce_range=not vnni,
            weight_type=QuantType.QInt8 if vnni else QuantType.QUInt8,
            extra_options={"WeightSymmetric": vnni, "ActivationSymmetric": False},
            nodes_to_exclude=list(float32_nodes),
            **({"op_types_to_quantize": list(op_types)} if op_types else {}),
        )
    finally:
        root.removeFilter(hint)


class _DropMessages(logging.Filter):
    """Drops log records whose message starts with a given prefix."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the unwanted ones."""
        return not str(record.msg).startswith(self.prefix)


register_backend(OnnxInt8Backend())
