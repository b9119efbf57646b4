"""Classroom features through the real window: lessons, A/B, files, export, keys, themes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from vg_desktop import files
from vg_desktop.engine import DataConfig, ExperimentConfig, NetworkConfig, TrainConfig
from vg_desktop.engine.experiment import save_experiment
from vg_desktop.exporting import HISTORY_COLUMNS
from vg_desktop.lessons import builtin_lessons, load_lesson

ROOT = Path(__file__).resolve().parents[2]


def wait_snapshot(qtbot, run, predicate, timeout=8000):
    qtbot.waitUntil(lambda: run.latest is not None and predicate(run.latest), timeout=timeout)
    return run.latest


def error_boxes(win) -> list[QMessageBox]:
    return [b for b in win.findChildren(QMessageBox) if b.isVisible()]


def trained_window(qtbot, window, steps=5):
    for _ in range(steps):
        window.step()
    wait_snapshot(qtbot, window.run_a, lambda s: s.step == steps)
    qtbot.waitUntil(lambda: window.run_a.drawn is window.run_a.latest, timeout=3000)


# ---------------------------------------------------------------- lessons
def test_every_builtin_lesson_step_applies_its_settings(qtbot, window):
    paths = builtin_lessons()
    assert len(paths) >= 2
    for path in paths:
        assert window.open_lesson(path)
        assert window.docks["lesson"].isVisible()
        lesson = load_lesson(path)
        for index, step in enumerate(lesson.steps):
            window.lesson_panel.go_to(index)
            window.apply_lesson_step(step)
            assert window.controller.config == step.settings
            assert window.controls.config() == step.settings
            if step.view.quantity:
                assert window.quantity.currentData() == step.view.quantity
            if step.view.layer:
                assert window.layer.value() == step.view.layer
            wait_snapshot(qtbot, window.run_a, lambda s, c=step.settings: s.config == c)
        window.pause()


def test_set_up_button_in_the_lesson_panel_applies_the_step(qtbot, window):
    window.open_lesson(builtin_lessons()[0])
    window.lesson_panel.go_to(1)
    step = window.lesson_panel.current_step()
    button = next(
        w
        for w in window.lesson_panel.findChildren(QWidget)
        if w.accessibleName() == "Set up this experiment"
    )
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.controller.config == step.settings


def test_a_broken_lesson_file_changes_nothing(qtbot, window, tmp_path):
    before = window.controller.config
    bad = tmp_path / "broken.vglesson"
    bad.write_text('{"format": "vg-desktop-lesson", "version": 1, "title": ')
    assert not window.open_path(bad)
    assert error_boxes(window)
    assert window.controller.config == before


# ---------------------------------------------------------------- A/B comparison
def test_compare_trains_both_runs_and_draws_both(qtbot, window):
    window.compare.setChecked(True)
    assert window.run_b is not None and window.compare_tools.isVisible()
    window.edit_b.setChecked(True)
    c = window.controls
    c.activation.setCurrentIndex(c.activation.findData("relu"))
    c.init.setCurrentIndex(c.init.findData("he"))
    assert window.run_b.config.network.activation == "relu"
    assert window.run_a.config.network.activation == "sigmoid"
    assert window.run_b.config.data == window.run_a.config.data  # same data and seed
    window.bars.set_animated(False)
    window.play()
    a = wait_snapshot(qtbot, window.run_a, lambda s: s.step >= 20)
    b = wait_snapshot(
        qtbot, window.run_b, lambda s: s.step >= 20 and s.config.network.activation == "relu"
    )
    qtbot.waitUntil(
        lambda: window.run_b.drawn is not None and window.run_b.drawn.step >= 20, timeout=3000
    )
    window.pause()
    assert len(window.bars.heights_b()) == b.depth
    # While training, the loss curves refresh ~8 times a second; the paused frame draws them.
    qtbot.waitUntil(
        lambda: any(
            len(v[0]) > 0 for k, v in window.curves.curve_data().items() if "b" in k.lower()
        ),
        timeout=3000,
    )
    assert a.config.network.activation == "sigmoid"
    # One click copies A to B.
    qtbot.mouseClick(window.copy_a_to_b, Qt.MouseButton.LeftButton)
    assert window.run_b.config == window.run_a.config
    assert window.controls.config() == window.run_a.config  # the panel edits B, now equal to A
    window.compare.setChecked(False)
    assert window.run_b is None


# ---------------------------------------------------------------- save and open
def custom_config() -> ExperimentConfig:
    return ExperimentConfig(
        network=NetworkConfig(
            depth=17,
            width=24,
            activation="tanh",
            normalization="layer",
            residual=True,
            init="he",
            init_gain=1.3,
            dtype="float32",
            seed=11,
        ),
        data=DataConfig(name="moons", n_samples=512, noise=0.25, n_classes=2, seed=11),
        train=TrainConfig(learning_rate=0.037, momentum=0.5, batch_size=48),
    )


def test_save_change_open_restores_every_setting(qtbot, window, tmp_path):
    config = custom_config()
    window.apply_config(config)
    path = tmp_path / "lesson-a.vgx"
    assert files.save_to(window, path)
    window.apply_config(ExperimentConfig())
    assert window.controller.config != config
    assert window.open_path(path)
    assert window.controller.config == config
    assert window.controls.config() == config
    snap = wait_snapshot(qtbot, window.run_a, lambda s: s.config == config)
    assert snap.depth == 17
    assert window.settings.recent_files()[0] == path.resolve()


def test_save_with_weights_restores_the_trained_network(qtbot, window, tmp_path):
    trained_window(qtbot, window, steps=5)
    trained = window.run_a.latest
    path = tmp_path / "trained.vgx"
    with qtbot.waitSignal(window.file_jobs.finished, timeout=5000):
        files.save_to(window, path, with_weights=True)
    qtbot.waitUntil(lambda: path.with_suffix(".npz").exists(), timeout=3000)
    window.reset()
    fresh = wait_snapshot(qtbot, window.run_a, lambda s: s.run_id > trained.run_id)
    assert window.open_path(path)
    reopened = wait_snapshot(qtbot, window.run_a, lambda s: s.run_id > fresh.run_id)
    assert reopened.step == 0
    # Both snapshots probe the same fixed batch: only the weights differ. The reopened network is
    # the trained one, so its statistics are not those of a fresh build from the seed.
    assert not np.allclose(reopened.signal_grad_norms, fresh.signal_grad_norms, rtol=1e-9)
    with np.load(path.with_suffix(".npz")) as npz:
        assert npz["layer0_W"].shape == (2, 32)


BAD_FILES = {
    "empty.vgx": b"",
    "truncated.vgx": b'{"format": "vg-desktop-experiment", "version": 1, "network": {"dep',
    "binary.vgx": bytes(range(256)) * 4,
    "foreign.vgx": b'{"name": "something else"}',
    "future.vgx": b'{"format": "vg-desktop-experiment", "version": 99}',
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_corrupt_files_give_an_error_dialog_and_change_nothing(qtbot, window, tmp_path, name):
    config = custom_config()
    window.apply_config(config)
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    assert not window.open_path(path)
    boxes = error_boxes(window)
    assert boxes and name in boxes[0].text()
    assert window.controller.config == config
    assert window.controls.config() == config


def test_out_of_range_value_in_file_is_refused(qtbot, window, tmp_path):
    path = tmp_path / "deep.vgx"
    save_experiment(ExperimentConfig(), path)
    data = json.loads(path.read_text())
    data["network"]["depth"] = 5000
    path.write_text(json.dumps(data))
    before = window.controller.config
    assert not window.open_path(path)
    assert "depth" in window.last_error and "200" in window.last_error
    assert window.controller.config == before


def test_mismatched_weights_file_is_refused(qtbot, window, tmp_path):
    path = tmp_path / "x.vgx"
    save_experiment(custom_config(), path)
    np.savez(path.with_suffix(".npz"), layer0_W=np.zeros((3, 3)))
    before = window.controller.config
    assert not window.open_path(path)
    assert "weights" in window.last_error
    assert window.controller.config == before


# ---------------------------------------------------------------- export
@pytest.mark.parametrize("target", ["bars", "activation_plot", "curves", "heatmap", "dataset_plot"])
def test_plot_exports_parse(qtbot, window, tmp_path, target):
    trained_window(qtbot, window, steps=3)
    png, svg = tmp_path / f"{target}.png", tmp_path / f"{target}.svg"
    assert files.export_to(window, target, png)
    assert files.export_to(window, target, svg)
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 200
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")


def test_window_png_and_history_csv_json(qtbot, window, tmp_path):
    trained_window(qtbot, window, steps=6)
    assert files.export_to(window, "window", tmp_path / "window.png")
    assert not QImage(str(tmp_path / "window.png")).isNull()
    depth = window.run_a.config.network.depth
    assert files.export_to(window, "history", tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(HISTORY_COLUMNS)
    assert len(rows) == 6 * (depth + 1)  # one row per step and layer (output layer included)
    assert {int(r["step"]) for r in rows} == set(range(1, 7))
    assert files.export_to(window, "history", tmp_path / "h.json")
    data = json.loads((tmp_path / "h.json").read_text())
    assert len(data["rows"]) == 6 * (depth + 1)
    assert data["experiment"]["network"]["depth"] == depth


# ---------------------------------------------------------------- keyboard
def test_shortcuts_fire_their_actions(qtbot, window):
    window.activateWindow()
    window.bars.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_S)
    wait_snapshot(qtbot, window.run_a, lambda s: s.step == 1)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    wait_snapshot(qtbot, window.run_a, lambda s: s.step == 2)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.controller.playing
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.controller.playing
    qtbot.keyClick(window, Qt.Key.Key_R)
    wait_snapshot(qtbot, window.run_a, lambda s: s.step == 0 and s.run_id > 1)
    qtbot.keyClick(window, Qt.Key.Key_7)
    assert window.layer.value() == 7
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert window.layer.value() == 8
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert window.layer.value() == 7
    zoom = window.zoom
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom > zoom
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom == pytest.approx(zoom)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.full_screen_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.full_screen_action.isChecked()
    for action, keys in [
        (window.save_action, "Ctrl+S"),
        (window.open_action, "Ctrl+O"),
        (window.export_action, "Ctrl+E"),
    ]:
        assert keys in [s.toString() for s in action.shortcuts()]


def test_typing_digits_in_a_spin_box_does_not_pick_layers(qtbot, window):
    window.layer.setValue(2)
    box = window.controls.depth_box
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box.lineEdit(), "12")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert box.value() == 12
    assert window.layer.value() == 2


def test_every_control_is_reachable_by_tab(qtbot, window):
    names = [
        "Depth",
        "Width",
        "Activation",
        "Normalization",
        "Residual connections",
        "Initialization",
        "Gain",
        "Precision",
        "Learning rate",
        "Momentum",
        "Batch size",
        "Speed",
        "Stop after",
        "Stop at loss",
        "Dataset",
        "Noise",
        "Seed",
        "Play",
        "Step",
        "Reset",
        "Compare A/B",
        "Gradient quantity",
        "Chain-rule estimate",
        "Lock axis",
        "Fit axis",
        "Layer",
        "Show advanced controls",
    ]
    window.set_advanced(True)  # simple mode (the default) keeps some behind this one switch
    window.controls.depth_box.setFocus()
    seen = set()
    for _ in range(200):
        focused = QApplication.focusWidget()
        if focused is not None:
            name = focused.accessibleName() or (
                focused.parent().accessibleName() if focused.parent() else ""
            )
            seen.add(name)
        window.focusNextChild()
    missing = [n for n in names if n not in seen]
    assert not missing, f"not reachable by Tab: {missing}"


def test_shortcut_sheet_lists_the_keys(qtbot, window):
    from vg_desktop.widgets.shortcuts import SHORTCUTS, ShortcutsDialog

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    text = " ".join(k for k, _ in SHORTCUTS)
    for key in ("Space", "F11", "Ctrl+E", "Ctrl+S", "Ctrl+O"):
        assert key in text


# ---------------------------------------------------------------- presentation and themes
def test_themes_and_presentation_mode(qtbot, window):
    for name in ("dark", "presentation", "light"):
        window.theme_actions[name].trigger()
        assert window.theme_name == name
    window.theme_actions["presentation"].trigger()
    assert QApplication.instance().font().pointSizeF() >= 14
    window.theme_actions["light"].trigger()


def test_presentation_type_never_clips_the_controls(qtbot, window):
    """The control panel widens with the type (its size hints grow only once the new fonts
    have reached the widgets, after the theme switch returns)."""
    window.resize(1920, 1080)
    page = window.controls_scroll.widget()
    light = page.sizeHint().width()
    window.theme_actions["presentation"].trigger()
    qtbot.waitUntil(lambda: page.sizeHint().width() > light, timeout=3000)

    def fits():
        viewport = window.controls_scroll.viewport()
        button = window.controls.reset_button
        right = button.mapTo(viewport, button.rect().topRight()).x()
        return viewport.width() >= page.sizeHint().width() and right < viewport.width()

    qtbot.waitUntil(fits, timeout=3000)
    window.theme_actions["light"].trigger()


# ---------------------------------------------------------------- stop conditions
def test_stop_after_n_steps(qtbot, window):
    window.controls.stop_after.setValue(25)
    window.play()
    snap = wait_snapshot(qtbot, window.run_a, lambda s: not s.playing and s.step >= 25)
    assert snap.step == 25
    assert "Stopped after 25 steps" in snap.message
    qtbot.waitUntil(lambda: not window.controller.playing, timeout=2000)


def test_stop_at_target_loss(qtbot, window):
    window.apply_config(
        replace(ExperimentConfig(), network=NetworkConfig(depth=3, activation="relu", init="he"))
    )
    window.controls.stop_at_loss.setValue(0.6)
    window.play()
    snap = wait_snapshot(qtbot, window.run_a, lambda s: not s.playing and s.step > 0, timeout=20000)
    assert snap.loss <= 0.6 and "loss reached" in snap.message


# ---------------------------------------------------------------- settings
def test_last_settings_are_restored_at_start(qtbot, tmp_path):
    from vg_desktop.app import MainWindow

    config = custom_config()
    first = MainWindow()
    qtbot.addWidget(first)
    first.apply_config(config)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.controller.config == config
    second.close()


def test_a_broken_settings_store_is_ignored(qtbot, tmp_path):
    from vg_desktop.app import MainWindow

    store = QSettings(os.environ["VG_DESKTOP_SETTINGS_FILE"], QSettings.Format.IniFormat)
    store.setValue("experiment/last", "{not json")
    store.setValue("files/recent", "[[[")
    store.setValue("view/theme", "neon")
    store.setValue("view/zoom", "huge")
    store.sync()
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.controller.config == ExperimentConfig()
    assert win.theme_name == "light" and win.zoom == 1.0
    assert win.settings.warnings
    win.close()


def test_open_file_given_on_the_command_line(tmp_path):
    path = tmp_path / "cli.vgx"
    save_experiment(custom_config(), path)
    script = (
        "import sys; from PySide6.QtCore import QTimer; from PySide6.QtWidgets import "
        "QApplication\n"
        "from vg_desktop import app as appmod, files\n"
        # Read on a thread, then shown on the GUI thread by _apply_opened.
        "orig = files._apply_opened\n"
        "def opened(self, p, read):\n"
        "    ok = orig(self, p, read)\n"
        "    print('OPENED', ok, self.controller.config.network.depth, flush=True)\n"
        "    QTimer.singleShot(100, QApplication.instance().quit)\n"
        "    return ok\n"
        "files._apply_opened = opened\n"
        f"sys.exit(appmod.main([{str(path)!r}]))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "OPENED True 17" in result.stdout
