"""``onnx``: ONNX Runtime in float32, on a local export of the model made once and reused.

The ONNX backends need the ``onnx`` extra (``onnxruntime`` and ``onnx``). They do not use
sentence-transformers' own ``backend="onnx"``, which needs ``optimum-onnx``: its only release
(0.1.0) requires transformers < 4.58 and fails to import with transformers 5. Tokenization,
pooling and normalisation stay sentence-transformers' own.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.backends.base import LoadRequest, load_sentence_transformer, register_backend
from models.cache import model_cache_folder, replace_atomically
from models.machine import library_versions
from models.paths import ModelSettingError

if TYPE_CHECKING:
    import onnxruntime
    import torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

ONNX_EXTRA_HINT = "pip install 'hasslemap[onnx]' (or: pip install onnxruntime onnx)"
# Bump when the ONNX export or a quantization recipe changes (3: avx2 int8 per channel).
EXPORT_FORMAT = "3"
CPU_BATCH_SIZE = 64
"""ONNX Runtime on 3,000 real tweet sentences, with AMX refused, two rounds, texts/s at 64 and
128: int8 958, 961 and 943, 823; float32 585, 576 and 529, 514 (``bench/batch_sizes.py``)."""
_WEIGHT_FILES = ("*.safetensors", "*.bin", "config.json", "modules.json")


class OnnxBackend:
    """The transformer exported to ONNX (float32) and run by ONNX Runtime."""

    name = "onnx"
    requires = ("onnxruntime", "onnx")
    install_hint = ONNX_EXTRA_HINT
    cpu_batch_size = CPU_BATCH_SIZE

    def runs_on(self, device: str) -> bool:
        """CPU always; CUDA where onnxruntime has its CUDA provider."""
        return device == "cpu" or has_cuda_provider()

    def load(self, request: LoadRequest) -> Any:
        """Load the model with its transformer swapped for an ONNX Runtime session."""
        model = load_sentence_transformer(request.path, request.device)
        onnx_file = export_file(model, request)
        use_onnx_runtime(model, onnx_file, request.device)
        return model


def has_cuda_provider() -> bool:
    """Whether the installed onnxruntime can run on CUDA."""
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def export_file(st_model: SentenceTransformer, request: LoadRequest) -> Path:
    """Return the cached float32 ONNX file of the model, exporting it first if new."""
    fp32 = onnx_cache_folder(request.path, "onnx", request.cache_dir, request.label) / "model.onnx"
    if not fp32.exists():
        logger.info("exporting %s to ONNX in %s (once)", request.path, fp32.parent)
        write_export(fp32, lambda target: export_onnx(st_model, target))
    return fp32


def onnx_cache_folder(path: str, backend: str, cache_dir: Path, name: str | None = None) -> Path:
    """Return the cache folder of one model + backend: ``cache_dir/<name>-<key>/<backend>``.

    The key hashes the model folder's absolute path and the size and modification time of its
    weight and config files, so a model replaced in place is exported again.

    Args:
        path: The model folder (from :func:`resolve_model_path`).
        backend: ``onnx``, ``onnx-int8`` or ``onnx-int8-mixed``.
        cache_dir: The root of the export cache.
        name: Readable prefix of the folder name; defaults to the model folder's name.
    """
    folder = Path(path).resolve()
    files = [file for pattern in _WEIGHT_FILES for file in sorted(folder.glob(pattern))]
    return model_cache_folder(folder, files, [EXPORT_FORMAT], cache_dir, name) / backend


def write_export(target: Path, write: Callable[[Path], None]) -> None:
    """Write an ONNX export with :func:`models.cache.replace_atomically`, then its ``export.json``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(target, write)
    versions = library_versions(("torch", "onnx", "onnxruntime"))
    meta = {"file": target.name, "format": EXPORT_FORMAT, "versions": versions}
    (target.parent / "export.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def export_onnx(st_model: SentenceTransformer, target: Path) -> None:
    """Export the transformer of ``st_model`` (float32, on CPU) to ``target`` and check it."""
    import torch

    hf_model = st_model[0].model.float().cpu().eval()
    if hasattr(hf_model, "set_attn_implementation"):
        hf_model.set_attn_implementation("eager")  # plain ops, no SDPA branches in the trace
    tokenizer = st_model.tokenizer
    sample = tokenizer(
        ["a short text", "a somewhat longer text, so that the batch needs padding"],
        padding=True,
        return_tensors="pt",
    )
    names = list(sample.keys())

    class _Wrapper(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and legacy-exporter deprecation chatter
        torch.onnx.export(
            _Wrapper(hf_model).eval(),
            tuple(sample[name] for name in names),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript; the tracer is enough here
        )
    _check_export(hf_model, tokenizer, target)


def _check_export(hf_model: Any, tokenizer: Any, onnx_file: Path) -> None:
    """Compare the export with torch on a batch of another shape; raise if they disagree."""
    import numpy as np
    import torch

    batch = tokenizer(
        ["no padding at all in this row, it is the longest one here", "short", "a bit longer"],
        padding=True,
        return_tensors="pt",
    )
    session = ort_session(onnx_file, "cpu")
    (got,) = session.run(["last_hidden_state"], {k: v.numpy() for k, v in batch.items()})
    with torch.no_grad():
        want = hf_model(**batch).last_hidden_state.numpy()
    mask = batch["attention_mask"].numpy().astype(bool)
    error = float(np.abs(got - want)[mask].max())
    if error > 1e-3:
        raise RuntimeError(f"ONNX export of the embedding model is wrong (max error {error:.2g})")


def ort_session(onnx_file: Path, device: str) -> onnxruntime.InferenceSession:
    """Open an ONNX Runtime session on ``onnx_file`` with torch's thread count."""
    import onnxruntime
    import torch

    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise ModelSettingError(
                "models.backend is an ONNX backend and models.device is CUDA, but this "
                "onnxruntime has no CUDA provider. Use `models.backend: torch-bf16` on GPUs "
                "(or install onnxruntime-gpu)."
            )
        providers.insert(0, "CUDAExecutionProvider")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    # Spinning workers would keep both cores busy between runs, slowing torch's pooling.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(onnx_file), options, providers=providers)


def use_onnx_runtime(st_model: SentenceTransformer, onnx_file: Path, device: str) -> None:
    """Swap the PyTorch transformer inside ``st_model`` for an ONNX Runtime session.

    Tokenization, pooling and normalisation stay sentence-transformers' own.
    """
    module = st_model[0]
    session = ort_session(onnx_file, device)
    module.model = _onnx_transformer(session, module.model.config)
    st_model.to("cpu")


def _onnx_transformer(session: onnxruntime.InferenceSession, config: Any) -> torch.nn.Module:
    """Return a module that stands in for the Hugging Face model and runs ``session``."""
    import torch

    input_names = [node.name for node in session.get_inputs()]

    class OnnxTransformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.session = session
            self.config = config  # sentence-transformers reads a few fields from it

        def forward(self, **features: Any) -> dict[str, Any]:
            feeds = {name: features[name].cpu().numpy() for name in input_names}
            (hidden,) = self.session.run(["last_hidden_state"], feeds)
            return {"last_hidden_state": torch.from_numpy(hidden)}

    return OnnxTransformer()


register_backend(OnnxBackend())
