"""GUI fixtures: a real MainWindow, closed (worker stopped) after each test."""

from __future__ import annotations

import pytest


@pytest.fixture
def window(qtbot):
    from vg_desktop.app import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    # The worker builds the network and sends its first snapshot straight away.
    qtbot.waitUntil(lambda: win.frames_drawn > 0, timeout=5000)
    yield win
    thread = win.controller.thread
    win.close()
    assert thread.isFinished(), "closing the window must stop the worker thread"


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Each test gets its own settings store: no test sees another's remembered experiment."""
    monkeypatch.setenv("VG_DESKTOP_SETTINGS_FILE", str(tmp_path / "settings.ini"))


@pytest.fixture(autouse=True)
def _no_running_worker_threads():
    yield
    from vg_desktop.worker import running_worker_threads

    running = running_worker_threads()
    assert not running, f"test left worker threads running: {running}"
