"""The GUI thread never starts, joins, terminates or kills a training process, and never encodes,
writes, reads or decodes a weights file: each of those takes from 10 ms (a process start) to
seconds (106 MB of weights at depth 200 x width 256), and the window must keep answering.

Each test records which thread ran the patched call; no test times anything.
"""

from __future__ import annotations

import multiprocessing.process
import os
import signal
import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from vg_desktop import files, weights_file
from vg_desktop.engine import ExperimentConfig, NetworkConfig


class ThreadLog:
    """Wraps functions so that each call records (name, ran on the GUI thread?)."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[tuple[str, bool]] = []
        self._monkeypatch = monkeypatch
        self._gui = threading.get_ident()  # the tests run on the GUI thread

    def wrap(self, owner, name: str) -> None:
        real = getattr(owner, name)

        def recorded(*args, **kwargs):
            self.calls.append((name, threading.get_ident() == self._gui))
            return real(*args, **kwargs)

        self._monkeypatch.setattr(owner, name, recorded)

    def on_gui(self) -> list[str]:
        return [name for name, gui in self.calls if gui]

    def names(self) -> set[str]:
        return {name for name, _ in self.calls}


@pytest.fixture
def process_calls(monkeypatch) -> ThreadLog:
    log = ThreadLog(monkeypatch)
    for name in ("start", "join", "terminate", "kill"):
        log.wrap(multiprocessing.process.BaseProcess, name)
    return log


def test_training_processes_start_and_end_off_the_gui_thread(qtbot, process_calls):
    """Opening the window, Compare A/B on and off, and a crashed process's replacement: every
    process start, join, terminate and kill runs on another thread (the receiver, the reaper)."""
    from vg_desktop.app import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.frames_drawn > 0, timeout=10_000)
    window.compare.setChecked(True)
    qtbot.waitUntil(lambda: window.run_b is not None and window.run_b.latest is not None)
    window.compare.setChecked(False)
    controller = window.run_a.controller
    messages = []
    controller.errorOccurred.connect(lambda summary, details: messages.append(summary))
    old_pid = controller.pid
    os.kill(old_pid, signal.SIGKILL)
    qtbot.waitUntil(
        lambda: bool(messages) and controller.pid not in (None, old_pid), timeout=10_000
    )
    assert "restarted" in messages[0]
    for box in window.findChildren(QMessageBox):
        box.close()
    from vg_desktop.worker import retiring_workers

    qtbot.waitUntil(lambda: not retiring_workers(), timeout=10_000)
    assert process_calls.names() >= {"start", "join"}, process_calls.calls
    assert sum(name == "start" for name, _ in process_calls.calls) == 3  # A, B, A's replacement
    assert process_calls.on_gui() == [], f"on the GUI thread: {process_calls.calls}"
    window.close()  # closing may wait for the runs: the window is going away


def test_commands_given_before_the_process_has_started_reach_it_in_order(qtbot, monkeypatch):
    """The receiver thread starts the process; until it has, commands wait in the outbox."""
    from vg_desktop.app import MainWindow

    release = threading.Event()
    real_start = multiprocessing.process.BaseProcess.start

    def slow_start(process):
        release.wait(10)
        return real_start(process)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", slow_start)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    config = ExperimentConfig(network=NetworkConfig(depth=4, width=8))
    window.apply_config(config)  # given while the process cannot have started yet
    window.controls.stop_after.setValue(7)
    window.play()
    assert window.run_a.controller.pid is None
    release.set()
    qtbot.waitUntil(
        lambda: window.run_a.latest is not None and window.run_a.latest.step == 7, timeout=15_000
    )
    assert window.run_a.latest.config == config
    window.close()


@pytest.fixture
def file_calls(monkeypatch) -> ThreadLog:
    log = ThreadLog(monkeypatch)
    for name in ("encode_weights", "save_pair", "load_weights"):
        log.wrap(files, name)
    for name in ("decode_weights",):
        log.wrap(weights_file, name)
    return log


def test_save_with_weights_encodes_and_writes_off_the_gui_thread(
    qtbot, window, tmp_path, file_calls, monkeypatch
):
    """While the pair is written the window says "Saving…" and refuses a second save; then
    "Saved", the commands back, and both files hold what was saved."""
    writing, release = threading.Event(), threading.Event()
    real_save_pair = files.save_pair

    def held_save_pair(*args):
        writing.set()
        assert release.wait(10)
        return real_save_pair(*args)

    monkeypatch.setattr(files, "save_pair", held_save_pair)
    file_calls.wrap(files, "save_pair")
    path = tmp_path / "trained.vgx"
    assert files.save_to(window, path, with_weights=True)
    assert "Saving trained.vgx" in window.statusBar().currentMessage()
    # ... on screen: the run's status (which fills the bar) makes room for it meanwhile
    assert not window.status_label.isVisible()
    qtbot.waitUntil(writing.is_set, timeout=10_000)  # the GUI thread is free meanwhile
    assert window.file_jobs.busy("save") and files.saving(window)
    actions = (window.save_action, window.save_as_action, window.save_weights_action)
    assert not any(a.isEnabled() for a in actions)
    assert not files.save_to(window, tmp_path / "other.vgx")  # refused, not raced
    assert "Still saving" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.file_jobs.finished, timeout=20_000):
        release.set()
    assert "Saved trained.vgx and its weights" in window.statusBar().currentMessage()
    assert all(a.isEnabled() for a in actions)
    window.statusBar().clearMessage()
    assert window.status_label.isVisible()
    assert file_calls.names() == {"encode_weights", "save_pair"}
    assert file_calls.on_gui() == [], file_calls.calls
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".ini") == [
        "trained.npz",
        "trained.vgx",
    ]
    assert files.load_weights(path.with_suffix(".npz"), window.run_a.config)


def test_opening_weights_reads_and_decodes_them_off_the_gui_thread(
    qtbot, window, tmp_path, file_calls
):
    config = ExperimentConfig(network=NetworkConfig(depth=5, width=12))
    window.apply_config(config)
    qtbot.waitUntil(lambda: window.run_a.latest.config == config, timeout=10_000)
    path = tmp_path / "trained.vgx"
    with qtbot.waitSignal(window.file_jobs.finished, timeout=20_000):
        assert files.save_to(window, path, with_weights=True)
    window.apply_config(ExperimentConfig())
    with qtbot.waitSignal(window.file_jobs.finished, timeout=20_000):
        assert window.open_in_background(path)
        assert "Opening trained.vgx" in window.statusBar().currentMessage()
    assert window.run_a.config == config and window.controls.config() == config
    assert "with its trained weights" in window.statusBar().currentMessage()
    assert {"load_weights", "decode_weights"} <= file_calls.names()
    assert file_calls.on_gui() == [], file_calls.calls
    # A bad file: read on the thread too, reported on the GUI thread, nothing changed.
    bad = tmp_path / "bad.vgx"
    bad.write_bytes(b"\x00not json")
    with qtbot.waitSignal(window.file_jobs.finished, timeout=20_000):
        assert window.open_in_background(bad)
    assert "bad.vgx was not opened" in window.last_error
    assert "Opening" not in window.statusBar().currentMessage()
    assert window.run_a.config == config
    for box in window.findChildren(QMessageBox):
        box.close()


def test_closing_while_weights_are_being_written_finishes_the_pair(qtbot, tmp_path, monkeypatch):
    """The window closes while the pair's files are being written: the close waits for them, so
    both are complete (never a new .npz beside the old .vgx), and no temporary file is left."""
    from vg_desktop.app import MainWindow
    from vg_desktop.engine.experiment import load_experiment

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.frames_drawn > 0, timeout=10_000)
    path = tmp_path / "trained.vgx"
    with qtbot.waitSignal(window.file_jobs.finished, timeout=20_000):
        assert files.save_to(window, path, with_weights=True)  # the previous pair
    new = ExperimentConfig(network=NetworkConfig(depth=7, width=9))
    window.apply_config(new)
    qtbot.waitUntil(lambda: window.run_a.latest.config == new, timeout=10_000)
    writing, release = threading.Event(), threading.Event()
    real_save_pair = files.save_pair

    def held_save_pair(*args):
        writing.set()
        assert release.wait(10)
        return real_save_pair(*args)

    monkeypatch.setattr(files, "save_pair", held_save_pair)
    assert files.save_to(window, path, with_weights=True)
    qtbot.waitUntil(writing.is_set, timeout=10_000)
    releaser = threading.Timer(0.2, release.set)  # the write goes on while close() waits
    releaser.start()
    window.close()
    releaser.join()
    assert not any(t.is_alive() for t in window.file_jobs._started)
    assert load_experiment(path) == new
    assert files.load_weights(path.with_suffix(".npz"), new)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".ini") == [
        "trained.npz",
        "trained.vgx",
    ]
