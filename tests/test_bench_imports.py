"""Every project name a bench script imports still exists (a reshape must not break bench/)."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"config", "flows", "models", "nlp", "warehouse"}
SCRIPTS = sorted((ROOT / "bench").glob("*.py"))


def project_imports(script: Path) -> list[tuple[str, str]]:
    """``(module, name)`` for each ``from <project module> import name`` in ``script``."""
    found = []
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] in PACKAGES
        ):
            found += [(node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_bench_script_imports_resolve(script: Path):
    missing = []
    for module_name, name in project_imports(script):
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            try:
                importlib.import_module(f"{module_name}.{name}")  # a submodule
            except ModuleNotFoundError:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"{script.name} imports names that no longer exist: {missing}"
