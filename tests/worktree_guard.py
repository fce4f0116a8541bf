"""A pytest plugin that fails the run when a test wrote into the working tree.

Tests write only under their temporary folders. A test that forgets (a default settings path
such as ``var/reports`` or ``var/models``) overwrites what the user's own ``make demo`` left
there, and nothing else would notice. The plugin notes every file of the checkout (size and
modification time) before the first test and again after the last, leaving out what Python,
git and the virtual environment own, and fails the run, naming each file, when they differ.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_OURS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
"""Folders written by tools, not by the code under test: not compared."""

_before: dict[str, tuple[int, int]] = {}


def snapshot_tree(root: Path) -> dict[str, tuple[int, int]]:
    """Return ``{relative path: (size, modification ns)}`` of every file below ``root``."""
    files: dict[str, tuple[int, int]] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [s for s in subfolders if s not in NOT_OURS]
        for name in names:
            path = Path(folder) / name
            try:
                stat = path.stat()
            except OSError:  # removed while walking
                continue
            files[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return files


def changed_files(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> list[str]:
    """Return the paths added, removed or changed between two snapshots, each marked."""
    added = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    removed = [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    changed = [
        f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]
    ]
    return added + removed + changed


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note the working tree before any test runs."""
    _before.update(snapshot_tree(ROOT))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run, naming the files, when a test wrote into the working tree."""
    if not _before:
        return
    written = changed_files(_before, snapshot_tree(ROOT))
    if not written:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "tests wrote into the working tree", red=True)
        for line in written[:50]:
            reporter.write_line(f"  {line}")
        reporter.write_line("Write under tmp_path (or a settings path pointing there) instead.")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
