"""``vg-desktop --self-test``: prove an installation works, headless, in under a minute.

Opens the real window offscreen, trains several configurations for a few hundred steps while the
frame timer draws, optionally saves a screenshot, closes the window and checks that the training
processes stopped. Any Qt warning, Python exception, missing frame or non-finite statistic makes it
exit non-zero with the reason. ``--duration SECONDS`` keeps training and drawing that long: some
binding-level defects (the PySide6 6.12.0 / Python 3.11 crash) only show after 10-20 s of emits.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .engine import ExperimentConfig, NetworkConfig

SELF_TEST_CONFIGS = [
    NetworkConfig(depth=30, activation="sigmoid", init="xavier"),
    NetworkConfig(depth=30, activation="relu", init="he"),
    NetworkConfig(depth=30, activation="sigmoid", normalization="batch"),
    NetworkConfig(depth=30, activation="sigmoid", residual=True),
    NetworkConfig(depth=10, activation="tanh", normalization="layer", dtype="float32"),
]


class SelfTestFailure(Exception):
    pass


def wait_until(app, predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Process Qt events until ``predicate()`` holds; raise SelfTestFailure after ``timeout`` s."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SelfTestFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.002)


def check_resources(window) -> str:
    """The shipped resources are where the app looks, and Qt can draw the SVG icon.

    In an installer build this proves the bundle carries ``resources/`` and Qt's SVG plugins."""
    from .paths import resource_dir, resource_path

    icon_file = resource_path("icons", "vg-desktop.svg")
    lessons = sorted(resource_path("lessons").glob("*.json"))
    if not icon_file.is_file():
        raise SelfTestFailure(f"the application icon is missing: {icon_file}")
    if not lessons:
        raise SelfTestFailure(f"no built-in lesson in {resource_path('lessons')}")
    if window.windowIcon().pixmap(32, 32).isNull():
        raise SelfTestFailure("the window icon cannot be drawn (Qt's SVG plugins are missing?)")
    return f"resources in {resource_dir()}: icon, {len(lessons)} lessons"


def run_self_test(screenshot: Path | None = None, duration: float = 0.0, steps: int = 200) -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    problems: list[str] = []

    def on_qt_message(mode, context, message):
        serious = mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        harmless = "propagateSizeHints" in message or "XDG_RUNTIME_DIR" in message
        if serious and not harmless:
            problems.append(f"Qt: {message}")

    qInstallMessageHandler(on_qt_message)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from PySide6.QtCore import QSettings

    from .app import MainWindow
    from .settings_store import SettingsStore

    started = time.monotonic()
    window = None
    report: list[str] = []
    # A throwaway settings file: the self-test of an installed app runs on a user's account and
    # must neither read nor overwrite their remembered experiment, recent files or theme.
    scratch = tempfile.TemporaryDirectory(prefix="vg-desktop-self-test-")
    settings = SettingsStore(
        QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
    )
    try:
        window = MainWindow(settings=settings)
        window.resize(1600, 960)
        window.show()
        wait_until(app, lambda: window.frames_drawn > 0, 20, "the first frame")
        first_frame = time.monotonic() - started
        report.append(f"first frame after {first_frame:.2f} s")
        pid = window.controller.pid
        if pid is None or pid == os.getpid() or not window.controller.is_running():
            raise SelfTestFailure("training is not running in a process of its own")
        report.append(f"training process {pid} (window process {os.getpid()})")
        report.append(check_resources(window))
        rounds = 0
        while True:
            for net in SELF_TEST_CONFIGS:
                config = replace(ExperimentConfig(), network=net)
                window.apply_config(config)
                window.controller.play()
                frames = window.frames_drawn
                wait_until(
                    app,
                    lambda n=net: (
                        window._latest is not None
                        and window._latest.config.network == n
                        and window._latest.step >= steps
                    ),
                    120,
                    f"{steps} steps of {net.activation} depth {net.depth}",
                )
                wait_until(app, lambda f=frames: window.frames_drawn > f + 5, 10, "frames")
                window.controller.pause()
                snap = window._latest
                if not snap.diverged and not (snap.loss == snap.loss):
                    raise SelfTestFailure(f"non-finite loss for {net}")
                if problems:
                    raise SelfTestFailure("; ".join(problems))
                if rounds == 0:
                    report.append(
                        f"{net.activation:>7} {net.normalization:>5} residual={net.residual!s:5}"
                        f" depth {net.depth}: {snap.step} steps, loss {snap.loss:.3f}, "
                        f"{snap.steps_per_second:,.0f} steps/s"
                    )
            rounds += 1
            if time.monotonic() - started >= duration:
                break
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(screenshot)):
                raise SelfTestFailure(f"could not save the screenshot to {screenshot}")
            report.append(f"screenshot saved to {screenshot}")
        controller = window.controller
        closed_at = time.monotonic()
        window.close()
        if not controller.is_finished():
            raise SelfTestFailure("a training process was still running after the window closed")
        report.append(f"closed cleanly in {time.monotonic() - closed_at:.2f} s")
        if problems:
            raise SelfTestFailure("; ".join(problems))
    except SelfTestFailure as exc:
        print(f"SELF-TEST FAILED: {exc}", file=sys.stderr)
        if window is not None:
            window.close()
        return 1
    except Exception:
        print("SELF-TEST FAILED with an exception:\n" + traceback.format_exc(), file=sys.stderr)
        if window is not None:
            window.close()
        return 1
    elapsed = time.monotonic() - started
    print("\n".join(report))
    print(
        f"SELF-TEST PASSED: {rounds} round(s) of {len(SELF_TEST_CONFIGS)} configurations, "
        f"{window.frames_drawn} frames drawn in {elapsed:.1f} s"
    )
    return 0
