"""The embedding backends, one module each, registered in :data:`BACKENDS` on import.

``auto`` times every one of them that runs on the device; ``torch`` (float32) is the
reference the others' vectors are compared with.
"""

from models.backends import (
    onnx_fp32,
    onnx_int8,
    onnx_int8_mixed,
    torch_bf16,
    torch_bf16_jit,
    torch_fp32,
)
from models.backends.base import (
    BACKENDS,
    EmbeddingBackend,
    LoadRequest,
    get_backend,
    missing_requirements,
    register_backend,
)

__all__ = [
    "BACKENDS",
    "EmbeddingBackend",
    "LoadRequest",
    "get_backend",
    "missing_requirements",
    "onnx_fp32",
    "onnx_int8",
    "onnx_int8_mixed",
    "register_backend",
    "torch_bf16",
    "torch_bf16_jit",
    "torch_fp32",
]
