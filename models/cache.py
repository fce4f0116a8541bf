"""The on-disk model cache: folders keyed on a model's files, and the frozen bf16 trace.

A cache folder is ``cache_dir/<name>-<key>``, where the key hashes the model folder, the
size and modification time of its files and whatever else the cached thing depends on
(library versions, a recipe version), so a model changed in place is cached anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.machine import library_versions

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

TRACE_LIBRARIES = ("torch", "transformers", "sentence-transformers", "tokenizers")


def model_cache_folder(
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
    folder = Path(path).resolve()
    versions = library_versions(TRACE_LIBRARIES)
    extra = [_TRACE_FORMAT, *(f"{lib}={v}" for lib, v in versions.items())]
    files = sorted(f for f in folder.rglob("*") if f.is_file())
    return model_cache_folder(folder, files, extra, cache_dir, name) / "torch-bf16-jit"


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

    def token_counts(self, sentences: list[str]) -> list[int]:
        """How many tokens (special tokens included, truncated) the model reads of each."""
        return [sum(e.attention_mask) for e in self.tokenizer.encode_batch(sentences)]

    def encode(self, sentences: Sequence[str], **_: Any) -> torch.Tensor:
        """Embed ``sentences`` as one batch; bf16 rows of unit length, in input order."""
        import torch

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
    import torch

    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        frozen = torch.jit.load(str(model_file), map_location="cpu")
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
    import torch

    module = st_model[0]
    tokenizer = getattr(st_model, "tokenizer", None)
    frozen = getattr(getattr(module, "model", None), "frozen", None)
    if frozen is None or tokenizer is None or not (Path(path) / "tokenizer.json").is_file():
        return False
    try:
        # sentence-transformers 6 renamed the method (the old name warns); 5 has only the old.
        dimension_of = getattr(st_model, "get_embedding_dimension", None)
        dimension = int((dimension_of or st_model.get_sentence_embedding_dimension)())
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
        replace_atomically(folder / "model.pt", lambda target: torch.jit.save(frozen, str(target)))
        # What later runs load is the saved copy: check that one too. trace.json is written
        # last, so a cache without it (a crash in between) is never used.
        saved = torch.jit.load(str(folder / "model.pt"), map_location="cpu").eval()
        if not torch.equal(
            CachedTraceModel(saved, fast.tokenizer, dimension).encode(probe), expected
        ):
            logger.info("models: the saved trace does not match this model exactly; not cached")
            return False
        replace_atomically(
            folder / "trace.json",
            lambda target: target.write_text(json.dumps(meta, indent=2), encoding="utf-8"),
        )
    except Exception as exc:  # caching is an optimisation; never fail a run over it
        logger.warning("could not cache the model trace in %s: %s", folder, exc)
        return False
    return True


def replace_atomically(target: Path, write: Callable[[Path], Any]) -> None:
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
