"""Hostile and special files through the real window (issue 16): File › Open, Lessons › Open
and ``vg-desktop FILE`` refuse a device, a pipe or a symlink to one at once, with the "Cannot open"
dialog, and nothing in the session changes.

The loaders' own tests (every loader, the CLI, the settings store) are in
tests/test_special_files.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from vg_desktop.engine import ExperimentConfig, NetworkConfig, save_experiment
from vg_desktop.lessons import builtin_lessons

ROOT = Path(__file__).resolve().parents[2]
LIMIT_S = 1.0
CUSTOM = ExperimentConfig(network=NetworkConfig(depth=5, width=12, activation="tanh"))

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/zero") or not hasattr(os, "mkfifo"),
    reason="needs /dev/zero, /dev/urandom and named pipes (POSIX)",
)


def special_files(folder: Path, stem: str, suffix: str) -> dict[str, Path]:
    """The devices, a FIFO and a symlink to each, all named ``stem-…suffix``."""
    fifo = folder / f"{stem}-pipe{suffix}"
    os.mkfifo(fifo)
    out = {}
    for name, target in (("zero", "/dev/zero"), ("urandom", "/dev/urandom"), ("fifo", fifo)):
        link = folder / f"{stem}-link-to-{name}{suffix}"
        link.symlink_to(target)
        out[f"link-to-{name}"] = link
    out["fifo"] = fifo
    return out


def boxes(window) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def close_boxes(window) -> None:
    for box in window.findChildren(QMessageBox):
        box.close()
        box.deleteLater()


def session(window) -> tuple:
    return (
        window.run_a.config,
        window.current_file,
        tuple(window.settings.recent_files()),
        window.lesson_panel.lesson(),
        window.lesson_panel.step_index(),
    )


def test_special_files_are_refused_by_file_open_and_lessons_open(window, tmp_path):
    window.apply_config(CUSTOM)
    window.open_lesson(builtin_lessons()[0])
    cases = []
    for suffix in (".vgx", ".vglesson", ".json"):
        for path in special_files(tmp_path, suffix[1:], suffix).values():
            cases += [("File › Open", window.open_path, path)]
    for path in special_files(tmp_path, "lesson", ".vglesson").values():
        cases += [("Lessons › Open", window.open_lesson, path)]
    timings = []
    for entry, call, path in cases:
        before = session(window)
        started = time.perf_counter()
        assert not call(path), (entry, path.name)
        timings.append(time.perf_counter() - started)
        shown = boxes(window)
        assert len(shown) == 1, (entry, path.name)
        text = shown[0].text()
        assert "not a file" in text and "Nothing in the current session was changed" in text, text
        assert session(window) == before, (entry, path.name)
        close_boxes(window)
    assert max(timings) < LIMIT_S, f"slowest refusal {max(timings):.2f} s"
    print(f"{len(cases)} special files refused, slowest {max(timings) * 1000:.0f} ms")


def test_weights_beside_an_experiment_may_be_any_special_file(window, tmp_path):
    for name, weights in special_files(tmp_path, "w", ".npz").items():
        experiment = weights.with_suffix(".vgx")
        save_experiment(CUSTOM, experiment)
        started = time.perf_counter()
        assert not window.open_path(experiment), name
        assert time.perf_counter() - started < LIMIT_S
        assert "weights file" in window.last_error and "not a file" in window.last_error
        close_boxes(window)


def test_vg_desktop_FILE_with_a_pipe_shows_the_error_and_still_quits(tmp_path):
    """``vg-desktop pipe.vgx``: before, the app blocked reading the pipe and ignored SIGTERM."""
    fifo = special_files(tmp_path, "exp", ".vgx")["link-to-fifo"]
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        VG_DESKTOP_DATA_DIR=str(tmp_path),
        VG_DESKTOP_SETTINGS_FILE=str(tmp_path / "settings.ini"),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "vg_desktop", str(fifo)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "vg-desktop.log"
    try:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and "Cannot open the file" not in text:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(0.05)
            text = log.read_text(encoding="utf-8") if log.exists() else ""
        assert "Cannot open the file" in text and "a pipe, not a file" in text, text[-3000:]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
