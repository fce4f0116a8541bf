"""``onnx-int8-mixed``: ``onnx-int8`` with the layers int8 hurts most left in float32.

On a CPU without AMX, plain int8 is the fastest backend (2.0-2.6x a plain encode), but its
vectors miss ``auto``'s bar on short texts (5th percentile of cosines to fp32 0.976 on the
probe), so ``auto`` fell back to float32 ONNX. Measured on all-MiniLM-L6-v2 (docs/benchmarks.md,
"int8 with float32 where it hurts"): the feed-forward down-projections (1536 -> 384, whose
inputs after GELU have the widest range) and the first layer cost most of the loss. Keeping
those in float32 gives a 5th percentile of 0.988 at 1.3x float32 ONNX's speed.

The nodes are found by name in the export (BERT-style ``/layer.<n>/output/dense/MatMul`` and
``/layer.0/``); a model whose export names them otherwise is quantized whole, and ``auto``'s
cosine check decides whether it may be used.
"""

from __future__ import annotations

from pathlib import Path

from models.backends.base import register_backend
from models.backends.onnx_int8 import OnnxInt8Backend


class OnnxInt8MixedBackend(OnnxInt8Backend):
    """int8 weights and activations, except the nodes :meth:`float32_nodes` names; CPU only."""

    name = "onnx-int8-mixed"
    recipe = "qint8_mixed"

    def float32_nodes(self, onnx_file: Path) -> list[str]:
        """The MatMuls of the first layer and every feed-forward down-projection."""
        import onnx

        graph = onnx.load(str(onnx_file), load_external_data=False).graph
        return [
            node.name
            for node in graph.node
            if node.op_type == "MatMul" and keeps_float32(node.name)
        ]


def keeps_float32(node_name: str) -> bool:
    """Whether a MatMul of a BERT-style export stays float32 in the mixed recipe."""
    down_projection = "/output/dense/" in node_name and "/attention/" not in node_name
    return down_projection or "/layer.0/" in node_name


register_backend(OnnxInt8MixedBackend())
