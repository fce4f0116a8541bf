"""``torch``: float32 PyTorch, the reference every other backend is measured against."""

from __future__ import annotations

from typing import Any

from models.backends.base import (
    LoadRequest,
    TorchBackendBase,
    load_sentence_transformer,
    register_backend,
)


class TorchBackend(TorchBackendBase):
    """sentence-transformers as it comes: float32 on the chosen device."""

    name = "torch"

    def load(self, request: LoadRequest) -> Any:
        """Load the model in float32."""
        return load_sentence_transformer(request.path, request.device)


register_backend(TorchBackend())
