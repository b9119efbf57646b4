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
    controller = win.controller
    win.close()
    assert controller.is_finished(), "closing the window must stop the worker thread"


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Each test gets its own settings store: no test sees another's remembered experiment."""
    monkeypatch.setenv("VG_DESKTOP_SETTINGS_FILE", str(tmp_path / "settings.ini"))


@pytest.fixture(autouse=True)
def _training_isolation(request, monkeypatch):
    """Tests marked ``in_process_training`` inject faults by monkeypatching the engine, which
    only reaches a loop running in this process: theirs trains in a thread instead of a process
    (the same TrainingLoop; only the transport differs)."""
    if request.node.get_closest_marker("in_process_training"):
        from vg_desktop import worker

        monkeypatch.setattr(worker, "ISOLATION", "thread")


@pytest.fixture(autouse=True)
def _no_running_workers():
    yield
    from vg_desktop.worker import retiring_workers, running_workers

    running = running_workers() + retiring_workers()
    assert not running, f"test left training runs alive: {running}"
