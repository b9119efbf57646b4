"""Faults through the real window: numbers that explode or underflow, NaN/Inf injected into the
data or the weights, bad experiment/lesson/weights files, saves that fail midway, and a corrupt
settings store at start. Each one is survived: the run pauses and the window says why, Reset
recovers, a bad file changes nothing, a failed save keeps the previous file.

NaN/Inf injection goes through the engine's own seams, patched for the test: the minibatch stream
(``TrainingRun.next_batch``, for the data) and the network's parameters (``load_state_arrays``
just before a step, for the weights). The worker thread runs the patched code itself, between
steps, exactly where a real fault would appear.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from vg_desktop import files
from vg_desktop.engine import DataConfig, ExperimentConfig, NetworkConfig, TrainConfig
from vg_desktop.engine.experiment import MAX_FILE_BYTES as MAX_EXPERIMENT_BYTES
from vg_desktop.engine.experiment import VERSION as EXPERIMENT_VERSION
from vg_desktop.engine.experiment import experiment_to_dict, load_experiment, save_experiment
from vg_desktop.engine.run import TrainingRun
from vg_desktop.lessons import builtin_lessons, load_lesson


def wait_snapshot(qtbot, run, predicate, timeout=10_000):
    qtbot.waitUntil(lambda: run.latest is not None and predicate(run.latest), timeout=timeout)
    return run.latest


def wait_drawn(qtbot, window):
    qtbot.waitUntil(lambda: window.run_a.drawn is window.run_a.latest, timeout=5000)
    return window.run_a.drawn


def visible_boxes(window) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def close_boxes(window) -> None:
    for box in visible_boxes(window):
        box.close()


@pytest.fixture
def worker_errors(window):
    errors: list[str] = []
    window.run_a.controller.errorOccurred.connect(lambda summary, _details: errors.append(summary))
    return errors


# ---------------------------------------------------------------- exploding gradients
EXPLODING = {
    "large-gain": ExperimentConfig(
        network=NetworkConfig(activation="relu", init="normal", init_gain=20.0)
    ),
    "large-learning-rate": ExperimentConfig(
        network=NetworkConfig(depth=10, activation="relu", init="he"),
        train=TrainConfig(learning_rate=10.0),
    ),
}


@pytest.mark.parametrize("name", list(EXPLODING))
def test_exploding_gradients_pause_say_why_and_reset_recovers(qtbot, window, worker_errors, name):
    window.bars.set_animated(False)
    window.apply_config(EXPLODING[name])
    window.play()
    snap = wait_snapshot(qtbot, window.run_a, lambda s: s.diverged)
    assert "NaN or infinite" in snap.message and "Reset" in snap.message
    qtbot.waitUntil(lambda: not window.controller.playing, timeout=3000)
    assert window.controls.play_button.text() == "Play"
    wait_drawn(qtbot, window)
    assert "DIVERGED" in window.status_label.text()
    assert window.bars.diverged_text().startswith("DIVERGED")
    # Play cannot revive a diverged network: it stays paused and keeps saying why.
    window.play()
    qtbot.waitUntil(lambda: window.controller.state == "diverged", timeout=3000)
    # Reset: the same settings again from their seed, finite at step 0.
    window.reset()
    fresh = wait_snapshot(qtbot, window.run_a, lambda s: s.run_id > snap.run_id)
    assert fresh.step == 0 and not fresh.diverged
    assert np.all(np.isfinite(fresh.signal_grad_norms))
    wait_drawn(qtbot, window)
    assert not window.bars.diverged_text()
    # Sane settings train on.
    window.apply_config(
        replace(
            EXPLODING[name],
            train=TrainConfig(learning_rate=0.01),
            network=replace(EXPLODING[name].network, init="he", init_gain=1.0),
        )
    )
    window.play()
    trained = wait_snapshot(
        qtbot, window.run_a, lambda s: s.step >= 10 and s.config == window.run_a.config
    )
    assert not trained.diverged
    window.pause()
    assert not worker_errors and not visible_boxes(window)


# ---------------------------------------------------------------- injected NaN / Inf
class Injector:
    """Arms a one-off fault that the worker thread applies before its next step."""

    def __init__(self, monkeypatch, where: str, value: float) -> None:
        self.armed = threading.Event()
        self.fired = 0
        self.value = value
        if where == "data":
            real = TrainingRun.next_batch

            def next_batch(run):
                x, y = real(run)
                if self.armed.is_set():
                    self.armed.clear()
                    self.fired += 1
                    x = np.array(x, copy=True)
                    x[0, 0] = self.value
                return x, y

            monkeypatch.setattr(TrainingRun, "next_batch", next_batch)
        else:
            real_step = TrainingRun.step

            def step(run, *args):
                if self.armed.is_set():
                    self.armed.clear()
                    self.fired += 1
                    arrays = run.network.state_arrays()
                    key = next(k for k in arrays if k.endswith("_W"))
                    arrays[key] = np.array(arrays[key], copy=True)
                    arrays[key].flat[0] = self.value
                    run.network.load_state_arrays(arrays)
                return real_step(run, *args)

            monkeypatch.setattr(TrainingRun, "step", step)


@pytest.mark.in_process_training
@pytest.mark.parametrize(
    "where, value",
    [("data", np.nan), ("data", np.inf), ("weights", np.nan), ("weights", -np.inf)],
    ids=["nan-data", "inf-data", "nan-weights", "inf-weights"],
)
def test_injected_nan_or_inf_pauses_says_why_and_reset_recovers(
    qtbot, window, worker_errors, monkeypatch, where, value
):
    injector = Injector(monkeypatch, where, value)
    window.bars.set_animated(False)
    window.play()
    healthy = wait_snapshot(qtbot, window.run_a, lambda s: s.step >= 5)
    injector.armed.set()
    snap = wait_snapshot(qtbot, window.run_a, lambda s: s.diverged)
    assert injector.fired == 1
    assert snap.run_id == healthy.run_id and snap.step > healthy.step
    assert "NaN or infinite" in snap.message
    qtbot.waitUntil(lambda: not window.controller.playing, timeout=3000)
    wait_drawn(qtbot, window)
    assert "DIVERGED" in window.status_label.text()
    assert window.bars.diverged_text().startswith("DIVERGED")
    # The loss curve and heatmap survive the NaN row (no exception, no warning).
    assert len(window.run_a.history) > 0
    window.reset()
    fresh = wait_snapshot(qtbot, window.run_a, lambda s: s.run_id > snap.run_id)
    assert fresh.step == 0 and not fresh.diverged
    window.play()
    trained = wait_snapshot(
        qtbot, window.run_a, lambda s: s.run_id == fresh.run_id and s.step >= 10
    )
    assert not trained.diverged and np.all(np.isfinite(trained.signal_grad_norms))
    window.pause()
    assert not worker_errors and not visible_boxes(window)


# ---------------------------------------------------------------- underflow to exactly zero
UNDERFLOW = ExperimentConfig(network=NetworkConfig(depth=200, width=32, dtype="float32"))


def test_float32_underflow_pauses_once_says_why_and_zero_bars_sit_below_the_axis(
    qtbot, window, worker_errors
):
    window.bars.set_animated(False)
    window.apply_config(UNDERFLOW)
    window.step()
    snap = wait_snapshot(qtbot, window.run_a, lambda s: s.config == UNDERFLOW and s.step == 1)
    zero = np.flatnonzero(snap.signal_grad_norms == 0)
    assert zero.size > 10, "float32 at depth 200 should underflow to exactly 0"
    assert not snap.diverged
    assert "exactly 0" in snap.message and "float32" in snap.message
    wait_drawn(qtbot, window)
    assert "exactly 0" in window.status_label.text()
    assert "DIVERGED" not in window.status_label.text()
    assert not window.bars.diverged_text()
    for quantity in ("signal", "weight", "update"):
        window.set_quantity(quantity)
        values = {
            "signal": snap.signal_grad_norms,
            "weight": snap.weight_grad_norms,
            "update": snap.update_ratios,
        }[quantity]
        markers = window.bars.markers()
        heights = window.bars.heights()
        assert len(heights) == len(values), "a bar for every layer: none goes missing"
        assert np.all(np.isfinite(heights))
        zeros = np.flatnonzero(values == 0)
        assert set(zeros) <= set(markers["below"]), "a zero is drawn below the axis (▼)"
        assert np.all(heights[zeros] == window.bars.bounds()[0])
        assert markers["nan"].size == 0
    window.set_quantity("signal")
    # Paused once, with the reason; Play goes on, and it does not pause again for this network.
    window.play()
    trained = wait_snapshot(qtbot, window.run_a, lambda s: s.step >= 15 and s.playing)
    assert not trained.diverged
    window.pause()
    window.reset()
    wait_snapshot(qtbot, window.run_a, lambda s: s.run_id > snap.run_id and s.step == 0)
    assert not worker_errors and not visible_boxes(window)


def test_underflow_in_float64_by_tiny_weights_is_also_survived(qtbot, window, worker_errors):
    config = ExperimentConfig(
        network=NetworkConfig(
            depth=200, width=16, activation="linear", init="small", init_gain=0.01
        )
    )
    window.bars.set_animated(False)
    window.apply_config(config)
    window.step()
    snap = wait_snapshot(qtbot, window.run_a, lambda s: s.config == config and s.step == 1)
    assert np.any(snap.signal_grad_norms == 0) and not snap.diverged
    wait_drawn(qtbot, window)
    assert np.all(np.isfinite(window.bars.heights()))
    assert not worker_errors and not visible_boxes(window)


# ---------------------------------------------------------------- bad files through the window
CUSTOM = ExperimentConfig(
    network=NetworkConfig(depth=7, width=24, activation="tanh", seed=3),
    data=DataConfig(name="moons", seed=3),
    train=TrainConfig(learning_rate=0.05, batch_size=32),
)


def _doc(change) -> bytes:
    document = experiment_to_dict(ExperimentConfig())
    change(document)
    return json.dumps(document).encode()


def _lesson_doc(change) -> bytes:
    document = json.loads(builtin_lessons()[0].read_text(encoding="utf-8"))
    change(document)
    return json.dumps(document).encode()


VALID = json.dumps(experiment_to_dict(ExperimentConfig()), indent=2).encode()
VALID_LESSON = builtin_lessons()[0].read_bytes()
BAD_OPEN = {
    "empty.vgx": b"",
    "blank.vgx": b"  \n ",
    "cut-early.vgx": VALID[:20],
    "cut-middle.vgx": VALID[: len(VALID) // 2],
    "cut-late.vgx": VALID[:-2],
    "random.vgx": bytes(np.random.default_rng(1).integers(0, 256, 2048, dtype=np.uint8)),
    "nul.vgx": b"\x00" * 100,
    "utf16.vgx": VALID.decode().encode("utf-16"),
    "version-future.vgx": _doc(lambda d: d.update(version=EXPERIMENT_VERSION + 1)),
    "version-text.vgx": _doc(lambda d: d.update(version="1")),
    "no-version.vgx": _doc(lambda d: d.pop("version")),
    "no-network.vgx": _doc(lambda d: d.pop("network")),
    "no-depth.vgx": _doc(lambda d: d["network"].pop("depth")),
    "extra-top.vgx": _doc(lambda d: d.update(colour="red")),
    "extra-field.vgx": _doc(
        lambda d: d["train"].update(optimiser="adam")
    ),  # British spelling: unknown
    "repeated-key.vgx": VALID.replace(b'"depth"', b'"depth": 200, "depth"', 1),
    "version-1.0.vgx": _doc(lambda d: d.update(version=1.0)),
    "lesson-repeated-key.vglesson": VALID_LESSON.replace(b'"title"', b'"title": "x", "title"', 1),
    "lesson-version-1.0.vglesson": _lesson_doc(lambda d: d.update(version=1.0)),
    "depth-5000.vgx": _doc(lambda d: d["network"].update(depth=5000)),
    "lr-50.vgx": _doc(lambda d: d["train"].update(learning_rate=50)),
    "gain-nan.vgx": _doc(lambda d: d["network"].update(init_gain=float("nan"))),
    "batch-norm-batch-1.vgx": _doc(
        lambda d: (d["network"].update(normalization="batch"), d["train"].update(batch_size=1))
    ),
    "root-list.vgx": b"[1, 2]",
    "foreign.json": b'{"name": "something else"}',
    "huge.vgx": VALID + b" " * MAX_EXPERIMENT_BYTES,  # one past the limit (16 MB with own points)
    "deep-nesting.vgx": b"[" * 100_000,
    "huge-number.vgx": b'{"format": "vg-desktop-experiment", "version": ' + b"9" * 5000 + b"}",
    "lesson-cut.vglesson": VALID_LESSON[: len(VALID_LESSON) // 3],
    "lesson-binary.vglesson": b"\x89PNG\r\n\x1a\n" + bytes(300),
    "lesson-version-9.vglesson": _lesson_doc(lambda d: d.update(version=9)),
    "lesson-no-steps.vglesson": _lesson_doc(lambda d: d.pop("steps")),
    "lesson-extra.vglesson": _lesson_doc(lambda d: d.update(colour="red")),
    "lesson-depth-999.vglesson": _lesson_doc(
        lambda d: (
            d["steps"][0].setdefault("settings", {}).setdefault("network", {}).update(depth=999)
        )
    ),
    "lesson-huge.vglesson": VALID_LESSON + b" " * 1_100_000,
    "missing.vgx": None,  # does not exist
    "a-folder.vgx": "dir",
}


def _session(window) -> tuple:
    return (
        window.run_a.config,
        window.controls.config(),
        window.current_file,
        tuple(window.settings.recent_files()),
        window.windowTitle(),
        window.lesson_panel.lesson(),
        window.lesson_panel.step_index(),
    )


def test_every_bad_file_gives_a_clear_message_and_changes_nothing(qtbot, window, tmp_path):
    window.apply_config(CUSTOM)
    good = tmp_path / "good.vgx"
    assert files.save_to(window, good)
    window.open_lesson(builtin_lessons()[1])
    before = _session(window)
    tried = 0
    for name, payload in BAD_OPEN.items():
        path = tmp_path / name
        if payload == "dir":
            path.mkdir()
        elif payload is not None:
            path.write_bytes(payload)
        window.last_error = ""
        assert not window.open_path(path), name
        tried += 1
        boxes = visible_boxes(window)
        assert len(boxes) == 1, name
        text = boxes[0].text()
        assert name in text and "Nothing in the current session was changed" in text, text
        assert len(text) < 1200, f"{name}: the message is {len(text)} characters long"
        assert _session(window) == before, name
        close_boxes(window)
    assert tried == len(BAD_OPEN)
    wait_snapshot(qtbot, window.run_a, lambda s: s.config == CUSTOM)


def test_a_byte_order_mark_does_not_stop_a_file_from_opening(qtbot, window, tmp_path):
    experiment = tmp_path / "bom.vgx"
    experiment.write_bytes(b"\xef\xbb\xbf" + json.dumps(experiment_to_dict(CUSTOM)).encode())
    assert window.open_path(experiment), getattr(window, "last_error", "")
    assert window.run_a.config == CUSTOM
    lesson = tmp_path / "bom.vglesson"
    lesson.write_bytes(b"\xef\xbb\xbf" + VALID_LESSON)
    assert window.open_path(lesson), getattr(window, "last_error", "")
    assert window.lesson_panel.lesson() == load_lesson(builtin_lessons()[0])


# ---------------------------------------------------------------- bad weights files
def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _bomb(template: dict[str, np.ndarray]) -> bytes:
    """A .npz whose first array claims a shape of a terabyte (its header only)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (key, array) in enumerate(template.items()):
            if index == 0:
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header, {"descr": "<f8", "fortran_order": False, "shape": (2**20, 2**17)}
                )
                archive.writestr(key + ".npy", header.getvalue())
            else:
                one = io.BytesIO()
                np.save(one, array)
                archive.writestr(key + ".npy", one.getvalue())
    return buffer.getvalue()


def weight_variants(template: dict[str, np.ndarray]) -> dict[str, bytes]:
    first_w = next(k for k in template if k.endswith("_W"))
    first_b = next(k for k in template if k.endswith("_b"))

    def changed(key, value):
        arrays = dict(template)
        arrays[key] = value
        return _npz(**arrays)

    w = template[first_w]
    full = _npz(**template)
    missing = dict(template)
    missing.pop(first_b)
    return {
        "nan-weight": changed(
            first_w, np.where(np.arange(w.size).reshape(w.shape) == 0, np.nan, w)
        ),
        "inf-bias": changed(first_b, np.full_like(template[first_b], np.inf)),
        "wrong-shape": changed(first_w, np.zeros((3, 3))),
        "missing-array": _npz(**missing),
        "extra-array": _npz(**template, momentum=np.zeros(3)),
        "complex": changed(first_w, w.astype(np.complex128)),
        "text": changed(first_w, np.full(w.shape, "a")),
        "truncated": full[: len(full) // 2],
        "not-a-zip": b"this is not a zip file at all",
        "empty": b"",
        "zip-bomb-header": _bomb(template),
        "single-array": _npy(w),
        "pickled-objects": changed(first_w, np.array([{"evil": 1}], dtype=object)),
        "long-name": _npz(**template, **{"k" * 5000: np.zeros(2)}),
    }


def test_bad_weights_files_are_refused_and_change_nothing(qtbot, window, tmp_path):
    window.apply_config(CUSTOM)
    experiment = tmp_path / "trained.vgx"
    with qtbot.waitSignal(window.file_jobs.finished, timeout=5000):
        assert files.save_to(window, experiment, with_weights=True)
    qtbot.waitUntil(lambda: experiment.with_suffix(".npz").exists(), timeout=5000)
    with np.load(experiment.with_suffix(".npz")) as npz:
        template = {k: np.array(npz[k]) for k in npz.files}
    window.apply_config(ExperimentConfig())
    before = _session(window)
    for name, payload in weight_variants(template).items():
        path = tmp_path / f"{name}.vgx"
        save_experiment(CUSTOM, path)
        path.with_suffix(".npz").write_bytes(payload)
        assert not window.open_path(path), name
        assert "weights" in window.last_error, (name, window.last_error)
        assert len(window.last_error) < 1200, name
        assert _session(window) == before, name
        close_boxes(window)
    # The intact pair still opens, with its weights.
    assert window.open_path(experiment)
    assert "weights" in window.statusBar().currentMessage()


# ---------------------------------------------------------------- saves that fail midway
class _FailingWriter:
    def __init__(self, fh):
        self._fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def write(self, data):
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)


def _fail_writes(monkeypatch, only: str = "") -> None:
    """Make atomic writes (of temporary files whose name contains ``only``) fail midway."""
    real_fdopen, real_mkstemp = os.fdopen, tempfile.mkstemp
    names: dict[int, str] = {}

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        names[fd] = name
        return fd, name

    def fdopen(fd, *args, **kwargs):
        fh = real_fdopen(fd, *args, **kwargs)
        return _FailingWriter(fh) if only in names.get(fd, "") else fh

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "fdopen", fdopen)


def test_a_save_failing_midway_says_so_and_keeps_the_previous_file(
    qtbot, window, tmp_path, monkeypatch
):
    (tmp_path / "saves").mkdir()
    path = tmp_path / "saves" / "lesson-a.vgx"
    assert files.save_to(window, path)
    before = path.read_bytes()
    window.apply_config(CUSTOM)
    _fail_writes(monkeypatch)
    assert not files.save_to(window, path)
    monkeypatch.undo()
    assert "No space left" in window.last_error and "unchanged" in window.last_error
    assert path.read_bytes() == before
    assert load_experiment(path) == ExperimentConfig()
    assert sorted(p.name for p in path.parent.iterdir()) == ["lesson-a.vgx"]


def test_a_weights_save_failing_midway_keeps_the_previous_pair(
    qtbot, window, tmp_path, monkeypatch
):
    """Save With Weights writes both files or neither: a full disk while writing the weights
    leaves the previous experiment *and* weights (issue 16: the .vgx used to be replaced)."""
    (tmp_path / "saves").mkdir()
    path = tmp_path / "saves" / "trained.vgx"
    with qtbot.waitSignal(window.file_jobs.finished, timeout=5000):
        files.save_to(window, path, with_weights=True)
    qtbot.waitUntil(lambda: path.with_suffix(".npz").exists(), timeout=5000)
    before = path.read_bytes(), path.with_suffix(".npz").read_bytes()
    window.apply_config(CUSTOM)
    for _ in range(3):
        window.step()
    wait_snapshot(qtbot, window.run_a, lambda s: s.config == CUSTOM and s.step == 3)
    _fail_writes(monkeypatch, only=".npz.")
    with qtbot.waitSignal(window.file_jobs.finished, timeout=5000):
        assert files.save_to(window, path, with_weights=True)  # started; fails on writing
    monkeypatch.undo()
    assert "No space left" in window.last_error and "unchanged" in window.last_error
    assert (path.read_bytes(), path.with_suffix(".npz").read_bytes()) == before
    assert load_experiment(path) == ExperimentConfig()
    assert sorted(p.name for p in path.parent.iterdir()) == ["trained.npz", "trained.vgx"]


# ---------------------------------------------------------------- corrupt settings store
CORRUPT_SETTINGS = {
    "binary": bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8)),
    "nul-bytes": b"[experiment]\nlast=\x00\x00\x00\n",
    "bad-syntax": b'[experiment\nlast="{unterminated\n[[[\n',
    "utf16": "[view]\ntheme=dark\n".encode("utf-16"),
    "huge": b"[view]\n" + b"x" * 5_000_000 + b"=1\n",
    "garbage-values": (
        b"[experiment]\nlast={not json\n[files]\nrecent=[[[\n[view]\ntheme=neon\nzoom=huge\n"
    ),
}


@pytest.mark.parametrize("kind", [*CORRUPT_SETTINGS, "a-folder"])
def test_a_corrupt_settings_store_is_reset_with_a_warning(qtbot, kind):
    from vg_desktop.app import MainWindow

    path = os.environ["VG_DESKTOP_SETTINGS_FILE"]
    if kind == "a-folder":
        os.mkdir(path)
    else:
        with open(path, "wb") as fh:
            fh.write(CORRUPT_SETTINGS[kind])
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.frames_drawn > 0, timeout=10_000)
    assert win.settings.warnings, "the user is told the settings were reset"
    assert "Settings:" in win.statusBar().currentMessage()
    assert win.run_a.config == ExperimentConfig()
    win.apply_config(CUSTOM)
    win.close()
    if kind != "a-folder":
        # Reset: the next start reads a clean store, with what this session saved.
        store = QSettings(path, QSettings.Format.IniFormat)
        assert store.status() == QSettings.Status.NoError
        again = MainWindow()
        qtbot.addWidget(again)
        assert again.run_a.config == CUSTOM
        assert not again.settings.warnings, again.settings.warnings
        again.close()
    if kind in ("binary", "nul-bytes", "utf16", "huge"):
        assert os.path.exists(path + ".corrupt"), "the unreadable file is kept for inspection"
