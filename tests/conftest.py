"""Shared test set-up: headless Qt, and guards that fail a test leaving threads or timers behind."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")  # as the app does (vg_desktop.limit_blas_threads)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_leaked_python_threads():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"test left threads running: {leaked}"


def pytest_addoption(parser):
    group = parser.getgroup("vg-desktop", "Vanishing Gradient Lab reliability tests")
    group.addoption(
        "--fuzz-seed",
        default="20240601",
        help="seed of tests/gui/test_fuzz.py (an integer, or 'random' to pick one and print it)",
    )
    group.addoption(
        "--fuzz-actions",
        type=int,
        default=None,
        help="how many random actions the fuzz test performs (default: about a minute's worth)",
    )
    group.addoption(
        "--soak-minutes",
        type=float,
        default=None,
        help="run tests/gui/test_soak.py this long (default: a ~25 s CI version)",
    )


def pytest_collection_modifyitems(config, items):
    """A long soak (--soak-minutes) needs more than the default per-test timeout."""
    minutes = config.getoption("--soak-minutes", None)
    if minutes:
        for item in items:
            if item.name.startswith("test_soak"):
                item.add_marker(pytest.mark.timeout(minutes * 60 + 300))
