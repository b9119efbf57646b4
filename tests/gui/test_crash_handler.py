"""Errors the user must hear about: an exception inside the training worker (a dialog with the
details, the status bar, the log file; the app keeps running) and any unexpected exception
elsewhere — a slot, a timer, another thread (the crash dialog with its traceback and a working
"Copy details" button; the log file records it).

``crash.setup_logging()`` writes to the data folder, which ``VG_DESKTOP_DATA_DIR`` points at a
temporary one here. Tests that install the app's ``sys.excepthook`` turn off pytest-qt's own
exception capture for themselves (``qt_no_exception_capture``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox

from vg_desktop import crash, worker
from vg_desktop.engine.run import TrainingRun

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VG_DESKTOP_DATA_DIR", str(tmp_path / "data"))
    level = crash.log.level
    crash._seen.clear()
    path = crash.setup_logging()
    assert path == tmp_path / "data" / crash.LOG_NAME
    yield path
    for handler in list(crash.log.handlers):
        if getattr(handler, "_vg_desktop", False):
            crash.log.removeHandler(handler)
            handler.close()
    crash.log.setLevel(level)
    for dialog in list(crash._dialogs):
        dialog.close()
    crash._seen.clear()


@pytest.fixture
def app_hooks(monkeypatch):
    """The app's exception hooks, as main() installs them (restored afterwards)."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    crash.install_exception_hooks()
    assert sys.excepthook is crash.report_exception


def log_text(path: Path) -> str:
    for handler in crash.log.handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def open_crash_dialogs() -> list[crash.CrashDialog]:
    return [d for d in crash._dialogs if d.isVisible()]


# ---------------------------------------------------------------- worker exceptions
@pytest.mark.in_process_training
def test_an_exception_in_the_worker_is_shown_logged_and_survived(
    qtbot, window, log_file, monkeypatch
):
    real_step = TrainingRun.step
    failures = {"left": 1}

    def step_failing_once(run, *args):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("injected failure in the training step")
        return real_step(run, *args)

    monkeypatch.setattr(TrainingRun, "step", step_failing_once)
    with qtbot.waitSignal(window.run_a.controller.errorOccurred, timeout=5000) as blocker:
        window.play()
    summary, details = blocker.args
    assert "RuntimeError: injected failure" in summary
    assert "Traceback" in details and "step_failing_once" in details
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    assert "injected failure" in boxes[0].text()
    assert "step_failing_once" in boxes[0].detailedText()  # "Show Details..."
    assert "injected failure" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.controller.playing, timeout=3000)
    text = log_text(log_file)
    assert "worker error: RuntimeError: injected failure" in text
    assert "Traceback" in text and "step_failing_once" in text
    # The app keeps running: Reset, Play, and it trains.
    boxes[0].close()
    before = window.run_a.latest.run_id
    window.reset()
    window.play()
    qtbot.waitUntil(
        lambda: window.run_a.latest.run_id > before and window.run_a.latest.step > 10,
        timeout=10_000,
    )
    window.pause()


def test_a_training_process_that_dies_is_reported_replaced_and_trains_on(qtbot, window, log_file):
    """Killed from outside (out of memory, a task manager): the window says so, a new process
    takes over with the same settings and the class goes on."""
    controller = window.run_a.controller
    window.controls.stop_after.setValue(1500)  # a setting the new process must get again
    window.play()
    qtbot.waitUntil(lambda: window.run_a.latest.step > 5, timeout=10_000)
    old_pid, old_run = controller.pid, window.run_a.latest.run_id
    with qtbot.waitSignal(controller.errorOccurred, timeout=5000) as blocker:
        os.kill(old_pid, signal.SIGKILL)
    assert "training process stopped unexpectedly" in blocker.args[0]
    assert controller.pid not in (None, old_pid) and controller.is_running()
    assert not controller.playing
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "stopped unexpectedly" in boxes[0].text()
    assert "training process stopped unexpectedly" in log_text(log_file)
    boxes[0].close()
    window.play()
    qtbot.waitUntil(
        lambda: window.run_a.latest.run_id != old_run and window.run_a.latest.step > 5,
        timeout=10_000,
    )
    assert window.run_a.latest.config == window.run_a.config
    assert window.run_a.history.steps[0] <= 1, "the new run starts a new history"
    # The stop condition reached the new process: it pauses by itself at step 1500.
    qtbot.waitUntil(lambda: not controller.playing, timeout=30_000)
    assert window.run_a.latest.step == 1500


def test_a_replacement_that_cannot_start_leaves_training_off_with_a_reason(
    qtbot, window, log_file, monkeypatch
):
    from vg_desktop import training_process

    controller = window.run_a.controller
    # Replacements die before they say anything (sys.exit with the wrong arguments: exit 1).
    monkeypatch.setattr(training_process, "serve", sys.exit)
    # Recorded from before the kill, not waited for one at a time: the replacement dies within
    # milliseconds, and the report of its end can be delivered in the same pass of the event
    # loop as the report of the restart, before a second waitSignal would be listening.
    messages = []
    controller.errorOccurred.connect(lambda summary, details: messages.append(summary))
    os.kill(controller.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: len(messages) >= 2, timeout=5000)
    assert "restarted" in messages[0]
    assert "could not start" in messages[1]
    qtbot.wait(200)
    assert not controller.is_running() and not multiprocessing.active_children()
    assert "could not start" in log_text(log_file)
    for box in [b for b in window.findChildren(QMessageBox) if b.isVisible()]:
        box.close()
    window.play()  # harmless: nothing trains, and the button does not claim it does
    assert not controller.playing


def test_a_training_process_that_keeps_dying_is_not_restarted_forever(qtbot, window):
    controller = window.run_a.controller
    messages = []
    controller.errorOccurred.connect(lambda summary, details: messages.append(summary))
    for kill in range(worker.MAX_RESTARTS + 1):
        pid = controller.pid
        before = window.run_a.latest
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(lambda n=kill: len(messages) == n + 1, timeout=5000)
        if kill < worker.MAX_RESTARTS:
            assert "restarted" in messages[-1]
            # A snapshot from the replacement (its runs have new ids), not one the killed
            # process sent just before it died and that was still on its way.
            qtbot.waitUntil(lambda b=before: window.run_a.latest.run_id != b.run_id, timeout=5000)
    assert "kept stopping" in messages[-1]
    qtbot.wait(200)
    assert not controller.is_running() and not multiprocessing.active_children()
    for box in [b for b in window.findChildren(QMessageBox) if b.isVisible()]:
        box.close()


# ---------------------------------------------------------------- the crash dialog
def test_report_exception_shows_the_traceback_and_copies_it(qtbot, log_file):
    try:
        {}["missing key"]
    except KeyError:
        crash.report_exception(*sys.exc_info())
    dialogs = open_crash_dialogs()
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert "KeyError" in dialog.details and "Traceback" in dialog.details
    assert "test_report_exception_shows_the_traceback" in dialog.details
    labels = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert str(log_file) in labels, "the dialog says where the log is"
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == dialog.details
    assert dialog.copy_button.text() == "Copied"
    text = log_text(log_file)
    assert "unexpected exception" in text and "KeyError: 'missing key'" in text
    dialog.close()
    assert not open_crash_dialogs()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_opens_the_crash_dialog(qtbot, window, log_file, app_hooks):
    def broken_slot():
        raise ZeroDivisionError("a bug in a slot")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: len(open_crash_dialogs()) == 1, timeout=5000)
    dialog = open_crash_dialogs()[0]
    assert "ZeroDivisionError: a bug in a slot" in dialog.details
    assert "broken_slot" in dialog.details
    assert dialog.parent() is window, "the dialog belongs to the main window"
    assert "broken_slot" in log_text(log_file)
    # The app keeps running.
    window.step()
    qtbot.waitUntil(lambda: window.run_a.latest.step == 1, timeout=5000)


@pytest.mark.qt_no_exception_capture
def test_a_repeating_exception_opens_one_dialog_and_counts(qtbot, log_file, app_hooks):
    calls = {"n": 0}

    def broken_tick():
        calls["n"] += 1
        raise ValueError("a bug in a frame timer")

    timer = QTimer()
    timer.timeout.connect(broken_tick)
    timer.start(1)
    qtbot.waitUntil(lambda: calls["n"] >= 30, timeout=10_000)
    timer.stop()
    dialogs = open_crash_dialogs()
    assert len(dialogs) == 1, "one dialog, not one per tick"
    assert dialogs[0].repeats == calls["n"]
    assert f"{calls['n']:,} times" in dialogs[0].repeat_label.text()
    text = log_text(log_file)
    assert text.count("Traceback") == 1, "the traceback is logged once"
    assert "again (10 times)" in text


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_another_thread_reaches_the_dialog(qtbot, log_file, app_hooks):
    def work():
        raise OSError("a bug in a helper thread")

    thread = threading.Thread(target=work, name="helper")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(open_crash_dialogs()) == 1, timeout=5000)
    assert "OSError: a bug in a helper thread" in open_crash_dialogs()[0].details
    assert "in thread helper" in log_text(log_file)


def test_the_hook_never_raises_even_when_the_dialog_cannot_be_built(qtbot, log_file, monkeypatch):
    def broken_dialog(*args, **kwargs):
        raise RuntimeError("no dialog today")

    monkeypatch.setattr(crash, "CrashDialog", broken_dialog)
    try:
        raise LookupError("the original problem")
    except LookupError:
        crash.report_exception(*sys.exc_info())  # must not raise
    assert "LookupError: the original problem" in log_text(log_file)


def test_a_log_folder_that_cannot_be_created_is_not_fatal(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VG_DESKTOP_DATA_DIR", str(blocker / "data"))
    level = crash.log.level
    try:
        assert crash.setup_logging() is None
    finally:
        crash.log.setLevel(level)
    assert "cannot write the log file" in capsys.readouterr().err
    logging.getLogger("vg_desktop").error("still fine")  # logging to stderr only


CRASHING_APP = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from vg_desktop import app as appmod, crash

    real_show = appmod.MainWindow.show_on_screen

    def show(window):
        real_show(window)

        def bug():
            raise ZeroDivisionError("an unexpected bug")

        def report():
            print("CRASH_DIALOGS", len([d for d in crash._dialogs if d.isVisible()]),
                  flush=True)
            window.quit_action.trigger()

        QTimer.singleShot(100, bug)
        QTimer.singleShot(600, report)

    appmod.MainWindow.show_on_screen = show
    from vg_desktop.__main__ import main
    sys.exit(main([]))
    """
)


def test_the_real_app_shows_logs_and_survives_an_unexpected_exception(tmp_path):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        VG_DESKTOP_DATA_DIR=str(tmp_path),
        VG_DESKTOP_SETTINGS_FILE=str(tmp_path / "settings.ini"),
    )
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_APP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "CRASH_DIALOGS 1" in result.stdout
    log = (tmp_path / crash.LOG_NAME).read_text(encoding="utf-8")
    assert "unexpected exception" in log and "ZeroDivisionError: an unexpected bug" in log
    assert "quit (status 0)" in log
