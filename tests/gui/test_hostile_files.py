"""Hostile and special files through the real window (issue 16): File › Open, Lessons › Open
and ``vg-desktop FILE`` refuse a device, a pipe or a symlink to one at once, with the "Cannot open"
dialog, and nothing in the session changes.

The loaders' own tests (every loader, the CLI, the settings store) are in
tests/test_special_files.py.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from vg_desktop import files
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
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


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


def app_env(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        VG_DESKTOP_DATA_DIR=str(tmp_path),
        VG_DESKTOP_SETTINGS_FILE=str(tmp_path / "settings.ini"),
        PYTHONPATH=str(ROOT),
    )


def wait_for_log(proc, log: Path, needle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline and needle not in text:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.05)
        text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert needle in text, text[-3000:]
    return text


def test_vg_desktop_FILE_with_a_pipe_shows_the_error_and_still_quits(tmp_path):
    """``vg-desktop pipe.vgx``: before, the app blocked reading the pipe and ignored SIGTERM."""
    fifo = special_files(tmp_path, "exp", ".vgx")["link-to-fifo"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vg_desktop", str(fifo)],
        cwd=ROOT,
        env=app_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "vg-desktop.log"
    try:
        text = wait_for_log(proc, log, "Cannot open the file")
        assert "a pipe, not a file" in text, text[-3000:]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


# ---------------------------------------------------------------- hostile lesson text (items 1, 2)
class FifoProbe:
    """A named pipe that tells whether anyone opened it to read, without ever blocking us: a
    shell opens it for writing again and again (each open returns only once a reader opens
    it), leaving a flag and closing at once, so every reader sees the end of the file. A child
    process, not a thread: a thread would need the GIL that a blocked GUI thread may hold."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.flag = path.with_name(path.name + ".opened")
        os.mkfifo(path)
        script = 'while :; do exec 3>"$1"; : > "$2"; exec 3>&-; done'
        self._writer = subprocess.Popen(["sh", "-c", script, "sh", str(path), str(self.flag)])

    def was_opened(self) -> bool:
        return self.flag.exists()

    def close(self) -> None:
        self._writer.kill()  # it waits in open(): a signal ends it
        self._writer.wait(10)


def lesson_file(path: Path, *texts: str) -> Path:
    steps = [
        {"id": f"s{i}", "title": f"Step {i}", "text": t, "question": "Why?", "settings": {}}
        for i, t in enumerate(texts)
    ]
    document = {
        "format": "vg-desktop-lesson",
        "version": 1,
        "title": "Hostile",
        "author": "",
        "description": "",
        "steps": steps,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


NESTED = {
    "tables-30": "<b>" + "<table><tr><td>" * 30,  # the 668-byte lesson of the issue
    "tables-30-closed": "<table><tr><td>" * 30 + "x" + "</td></tr></table>" * 30,
    "lists-200": "<ul><li>" * 200 + "deep",
    "emphasis-1800": "<b><i>" * 900 + "deep",
    "blockquotes-300": "<blockquote>" * 300 + "<table><tr><td>" * 20,
}


def show_step_and_lay_out(window) -> None:
    """Open, then make Qt lay the text out and paint it (where nested tables froze)."""
    text = window.lesson_panel.text
    text.document().size()
    text.viewport().grab()
    QApplication.processEvents()


@pytest.mark.parametrize("name", NESTED)
def test_deeply_nested_lesson_html_opens_at_once(window, tmp_path, name):
    path = lesson_file(tmp_path / f"{name}.vglesson", NESTED[name], "<p>Next <b>step</b></p>")
    started = time.perf_counter()
    assert window.open_lesson(path), window.last_error
    show_step_and_lay_out(window)
    window.lesson_panel.next()
    show_step_and_lay_out(window)
    elapsed = time.perf_counter() - started
    assert elapsed < LIMIT_S, f"{name}: {elapsed:.2f} s"
    assert "Next step" in window.lesson_panel.text.toPlainText()
    print(f"{name}: opened, laid out and painted in {elapsed * 1000:.0f} ms")


def test_vg_desktop_FILE_with_the_nested_table_lesson_starts_and_quits(tmp_path):
    """``vg-desktop hostile.vglesson``: before, the window froze for good at 100 % CPU."""
    lesson = lesson_file(tmp_path / "hostile.vglesson", NESTED["tables-30"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "vg_desktop", str(lesson)],
        cwd=ROOT,
        env=app_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "vg-desktop.log"
    try:
        # The file is opened by the first event-loop pass, before "started" is logged.
        wait_for_log(proc, log, "started (pid")
        time.sleep(0.5)  # a few frames: the lesson text is painted
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert "Cannot open" not in log.read_text(encoding="utf-8")


def test_lesson_text_reads_no_file_and_no_device(window, tmp_path):
    """``<img>``, style sheets and links naming devices, system files, files outside the lesson's
    folder (pipes here, which tell if anyone opens them): nothing is opened, nothing is asked."""
    outside = FifoProbe(tmp_path / "outside.png")
    (tmp_path / "lesson").mkdir()
    inside = FifoProbe(tmp_path / "lesson" / "inside.png")
    refs = [
        "file:///dev/zero",
        "/dev/urandom",
        "file:///etc/passwd",
        "/etc/hostname",
        "../outside.png",
        f"file://{outside.path}",
        str(outside.path),
        "inside.png",
        "./inside.png",
        "https://example.org/x.png",
    ]
    browser = window.lesson_panel.text
    texts = []
    for ref in refs:
        texts.append(f'<p>An image: <img src="{ref}" width="10"></p>')
        texts.append(f'<link rel="stylesheet" href="{ref}"><p style="background: url({ref})">s</p>')
        texts.append(f'<a href="{ref}">a link</a> <b style="background-image: url({ref})">b</b>')
    try:
        path = lesson_file(tmp_path / "lesson" / "images.vglesson", *texts)
        started = time.perf_counter()
        assert window.open_lesson(path), window.last_error
        for _ in texts:
            show_step_and_lay_out(window)
            window.lesson_panel.next()
        elapsed = time.perf_counter() - started
        assert not outside.was_opened() and not inside.was_opened()
        assert list(browser.refused_resources) == [], "the sanitized text names no resource"
        assert elapsed < LIMIT_S * 3, f"{len(texts)} steps in {elapsed:.2f} s"
        window.lesson_panel.go_to(0)
        assert '<img src="file:///dev/zero" width="10">' in browser.toPlainText()

        # The second wall: even raw HTML in the browser loads nothing.
        raw = "".join(
            f'<link rel="stylesheet" href="{ref}"><img src="{ref}">'
            f'<p style="background-image: url({ref})">p</p>'
            for ref in refs
        )
        started = time.perf_counter()
        browser.setHtml(raw)
        browser.viewport().grab()
        assert time.perf_counter() - started < LIMIT_S
        asked = {url for _, url in browser.refused_resources}
        assert "file:///dev/zero" in asked and "../outside.png" in asked, asked
        assert not outside.was_opened() and not inside.was_opened()
    finally:
        browser.clear()  # before the probes go: a regression would read them again
        outside.close()
        inside.close()


# ---------------------------------------------------------------- corrupt weights (item 4)
TINY = ExperimentConfig(network=NetworkConfig(depth=2, width=3))


def save_pair_through_the_window(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.file_jobs.finished, timeout=10_000):
        assert files.save_to(window, path, with_weights=True)
    assert "and its weights" in window.statusBar().currentMessage(), window.last_error


def test_every_single_byte_corruption_of_saved_weights_gives_the_open_error(
    qtbot, window, tmp_path
):
    """File › Open of an experiment whose .npz has one byte flipped: the "Cannot open the file"
    dialog, or the very weights that were saved; never an exception. Every 9th byte here (a
    dialog each: ~50 ms); every byte goes through the same loader in tests/test_weights_file.py."""
    window.apply_config(TINY)
    path = tmp_path / "tiny.vgx"
    save_pair_through_the_window(qtbot, window, path)
    raw = files.weights_path(path).read_bytes()
    saved = files.load_weights(files.weights_path(path), TINY)
    outcomes = {"refused": 0, "opened": 0}
    loaded: list = []
    window.run_a.controller.load = lambda config, weights=None: loaded.append(weights)
    started = time.perf_counter()
    flipped = range(0, len(raw), 9)
    for index in flipped:
        corrupt = bytearray(raw)
        corrupt[index] ^= 0xFF
        files.weights_path(path).write_bytes(corrupt)
        loaded.clear()
        if window.open_path(path):
            assert all(np.array_equal(loaded[0][k], saved[k]) for k in saved), index
            outcomes["opened"] += 1
            continue
        shown = boxes(window)
        assert len(shown) == 1 and shown[0].windowTitle() == "Cannot open the file", index
        assert "the weights in tiny.npz cannot be used" in shown[0].text(), shown[0].text()
        outcomes["refused"] += 1
        close_boxes(window)
    elapsed = time.perf_counter() - started
    assert sum(outcomes.values()) == len(flipped) and outcomes["refused"] > len(flipped) // 2
    print(f"{len(flipped)} corruptions through File › Open: {outcomes} in {elapsed:.1f} s")


# ---------------------------------------------------------------- stale pairs (item 5)
def test_a_stale_pair_is_refused_on_open_with_a_clear_message(qtbot, window, tmp_path):
    """Weights left beside an experiment of other settings (the full-disk case of issue 16:
    sigmoid weights beside a ReLU experiment) are refused, not loaded into the wrong network."""
    window.apply_config(TINY)
    path = tmp_path / "pair.vgx"
    save_pair_through_the_window(qtbot, window, path)
    before = session(window)
    for changed in (
        replace(TINY, network=replace(TINY.network, activation="relu")),
        replace(TINY, network=replace(TINY.network, depth=4)),
    ):
        save_experiment(changed, path)  # the experiment changed, the weights did not
        assert not window.open_path(path)
        assert "saved with other settings" in window.last_error, window.last_error
        assert session(window) == before
        close_boxes(window)
    save_pair_through_the_window(qtbot, window, path)
    assert window.open_path(path) and "with its trained weights" in (
        window.statusBar().currentMessage()
    )


# ---------------------------------------------------------------- modes and symlinks (item 7)
def test_saves_and_exports_keep_modes_and_symlinks(qtbot, window, tmp_path):
    """File › Save, Save With Weights and Export through the window: a new file has the umask's
    mode, an existing one keeps its own, and a symlink keeps pointing at its rewritten target."""
    previous = os.umask(0o022)
    try:
        real = tmp_path / "real"
        real.mkdir()
        cases = {
            "experiment.vgx": lambda p: files.save_to(window, p),
            "pair.vgx": lambda p: save_pair_through_the_window(qtbot, window, p),
            "window.png": lambda p: files.export_to(window, "window", p),
            "bars.svg": lambda p: files.export_to(window, "bars", p),
            "history.csv": lambda p: files.export_to(window, "history", p),
        }
        for name, save in cases.items():
            target = real / name
            save(target)
            assert stat.S_IMODE(target.stat().st_mode) == 0o644, name
            target.chmod(0o664)
            link = tmp_path / name
            link.symlink_to(target)
            if name == "pair.vgx":
                (tmp_path / "pair.npz").symlink_to(real / "pair.npz")
                (real / "pair.npz").chmod(0o664)
            os.utime(target, (0, 0))
            save(link)
            assert link.is_symlink() and target.stat().st_mtime > 0, name
            assert stat.S_IMODE(target.stat().st_mode) == 0o664, name
        assert (tmp_path / "pair.npz").is_symlink()
        assert stat.S_IMODE((real / "pair.npz").stat().st_mode) == 0o664
        assert sorted(p.name for p in real.iterdir()) == sorted([*cases, "pair.npz"])
    finally:
        os.umask(previous)


def test_a_file_name_or_value_that_looks_like_html_loads_nothing_in_the_error_dialog(
    window, tmp_path
):
    """The "Cannot open" dialog quotes the file's name and values from it: shown as rich text,
    an ``<img>`` there made Qt read the file it names (here a pipe that tells)."""
    probe = FifoProbe(tmp_path / "probe.png")
    ref = str(probe.path).replace("/", "&#47;")
    try:
        named = tmp_path / f"<img src={ref}>.vgx"
        named.write_bytes(b"not json")
        valued = tmp_path / "valued.vglesson"
        valued.write_text(json.dumps({"format": f'<img src="{probe.path}">'}), encoding="utf-8")
        for path in (named, valued):
            started = time.perf_counter()
            assert not window.open_path(path)
            shown = boxes(window)
            assert len(shown) == 1 and shown[0].textFormat() == Qt.TextFormat.PlainText
            shown[0].grab()
            assert time.perf_counter() - started < LIMIT_S
            assert not probe.was_opened(), path.name
            close_boxes(window)
    finally:
        close_boxes(window)  # before the probe goes: a regression would read it again
        probe.close()
