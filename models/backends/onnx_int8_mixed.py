"""``onnx-int8-mixed``: ``onnx-int8`` with the layers int8 hurts most left in float32.

On a CPU without AMX, plain int8 is the fastest backend (2.0-2.6x a plain encode), but its
vectors miss ``auto``'s bar on short texts (5th percentile of cosines to fp32 0.976 on the
probe), so ``auto`` fell back to float32 ONNX. Measured on all-MiniLM-L6-v2 (docs/benchmarks.md,
"Per CPU kind, and a CPU without AMX"): the feed-forward down-projections (1536 -> 384, whose
inputs after GELU have the widest range) and the first layer cost most of the loss. Only
MatMuls are quantized (the embedding lookup stays float32), and those stay float32 too.

The nodes are found by name in the export (BERT-style ``/layer.<n>/output/dense/MatMul`` and
``/layer.0/``); a model whose export names them otherwise is quantized whole (with a warning),
and ``auto``'s cosine check decides whether it may be used. Changing :func:`keeps_float32`
changes the cached file: bump ``EXPORT_FORMAT`` in :mod:`models.backends.onnx_fp32`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from models.backends.base import register_backend
from models.backends.onnx_int8 import OnnxInt8Backend

logger = logging.getLogger(__name__)


class OnnxInt8MixedBackend(OnnxInt8Backend):
    """int8 MatMuls, except those :meth:`float32_nodes` names; CPU only."""

    name = "onnx-int8-mixed"
    recipe = "qint8_mixed"
    op_types = ("MatMul",)

    def float32_nodes(self, onnx_file: Path) -> list[str]:
        """The MatMuls of the first layer and every feed-forward down-projection."""
        import onnx

        graph = onnx.load(str(onnx_file), load_external_data=False).graph
        keep = [n.name for n in graph.node if n.op_type == "MatMul" and keeps_float32(n.name)]
        if not keep:
            logger.warning(
                "%s: no MatMul named like a BERT layer's; %s is plain int8 for this model",
                onnx_file,
                self.name,
            )
        return keep


def keeps_float32(node_name: str) -> bool:
    """Whether a MatMul of a BERT-style export stays float32 in the mixed recipe."""
    down_projection = "/output/dense/" in node_name and "/attention/" not in node_name
    return down_projection or "/layer.0/" in node_name


register_backend(OnnxInt8MixedBackend())
