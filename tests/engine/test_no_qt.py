"""The engine and the headless CLI import no Qt (DESIGN.md: dependencies point downward only)."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
QT_ROOTS = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2", "qtpy")
ENGINE_SOURCES = sorted((REPO_ROOT / "vg_desktop" / "engine").glob("*.py"))
# The training process runs these: it must start without loading Qt (memory, start-up time).
TRAINING_SOURCES = [
    REPO_ROOT / "vg_desktop" / name
    for name in ("training_process.py", "training_loop.py", "snapshot.py")
]
HEADLESS_SOURCES = [*ENGINE_SOURCES, REPO_ROOT / "vg_desktop" / "cli.py", *TRAINING_SOURCES]


def _qt_modules_after(run_python, imports):
    code = (
        f"import json, sys, {imports}; "
        f"roots = {QT_ROOTS!r}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in roots)))"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_engine_and_cli_loads_no_qt_module(run_python):
    assert _qt_modules_after(run_python, "vg_desktop.engine, vg_desktop.cli") == []


def test_the_training_process_loads_no_qt_module(run_python):
    assert _qt_modules_after(run_python, "vg_desktop.training_process") == []


def test_the_import_check_detects_qt(run_python):
    """The check above can fail: with PySide6 imported, it reports it."""
    if importlib.util.find_spec("PySide6") is None:
        pytest.skip("PySide6 is not installed")
    assert "PySide6" in _qt_modules_after(run_python, "vg_desktop.engine, PySide6")


def _imported_roots(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            yield from (a.value.split(".")[0] for a in node.args if isinstance(a, ast.Constant))


@pytest.mark.parametrize("path", HEADLESS_SOURCES, ids=lambda p: p.name)
def test_headless_sources_import_no_qt(path):
    qt = [root for root in _imported_roots(path) if root in QT_ROOTS]
    assert qt == [], f"{path.name} imports {qt}"


def test_engine_sources_were_found():
    names = {p.name for p in HEADLESS_SOURCES}
    assert {"network.py", "activations.py", "stats.py", "cli.py"} <= names


def test_engine_imports_only_numpy_and_the_standard_library():
    import sys

    allowed = {"numpy", "__future__"} | set(sys.stdlib_module_names)
    for path in ENGINE_SOURCES:
        foreign = set(_imported_roots(path)) - allowed
        assert not foreign, f"{path.name} imports {sorted(foreign)}"
