"""The Optimizer, Weight decay and Clip gradient norm controls, driven in the real window.

"Reaches the engine" is checked by what the training process computes, not only by the settings
it echoes: each control leaves a fingerprint in the update ratios of the next step (the ratio of
the update actually applied) at the window's default network (depth 20 sigmoid, lr 0.1):

* Adam, fresh state: its first step moves each weight by about lr·g/(|g| + ε), so the last
  hidden layer's ratio is ~0.5 (plain SGD: below 0.01, measured 0.0028 at step 1).
* weight decay λ with SGD: layer 1's gradient has vanished (~1e-14 relative), so its update is
  lr·λ·W and its ratio is lr·λ.
* clipping at 0.001: the whole update is at most lr·0.001 long, so the last hidden layer's ratio
  falls below 1e-4 (measured 5e-6).
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from vg_desktop import files
from vg_desktop.engine import ExperimentConfig, TrainConfig
from vg_desktop.engine.history import RunHistory
from vg_desktop.exporting import history_json

DEPTH = ExperimentConfig().network.depth


def control(win, name: str) -> QWidget:
    found = [
        w
        for w in win.findChildren(QWidget)
        if w.accessibleName() == name and not win.lesson_panel.isAncestorOf(w)
    ]
    assert len(found) == 1, f"expected one control named {name!r}, found {len(found)}"
    return found[0]


def wait_for(qtbot, win, predicate, timeout=5000):
    qtbot.waitUntil(lambda: win._latest is not None and predicate(win._latest), timeout=timeout)
    return win._latest


def step_once(qtbot, win):
    before = win._latest
    qtbot.mouseClick(control(win, "Step"), Qt.MouseButton.LeftButton)
    return wait_for(qtbot, win, lambda s: s.run_id == before.run_id and s.step == before.step + 1)


def test_every_new_control_changes_the_running_engine(qtbot, window):
    c = window.controls
    c.set_advanced(True)
    run_id = window._latest.run_id
    sgd = step_once(qtbot, window)
    assert sgd.update_ratios[DEPTH - 1] < 0.01

    c.optimizer.setCurrentIndex(c.optimizer.findData("adam"))
    assert window.controller.config.train.optimizer == "adam"
    assert not c.momentum.isEnabled()  # SGD's alone
    message = window.statusBar().currentMessage()
    assert "Adam" in message and "afresh" in message
    adam = step_once(qtbot, window)
    assert adam.config.train.optimizer == "adam" and adam.run_id == run_id  # no rebuild
    assert adam.update_ratios[DEPTH - 1] > 0.1

    c.optimizer.setCurrentIndex(c.optimizer.findData("sgd"))
    c.weight_decay.setValue(0.5)
    assert window.controller.config.train.weight_decay == 0.5
    decayed = step_once(qtbot, window)
    lr = decayed.config.train.learning_rate
    assert decayed.update_ratios[0] == pytest.approx(lr * 0.5, rel=1e-3)

    c.weight_decay.setValue(0.0)
    unclipped = step_once(qtbot, window)
    assert unclipped.update_ratios[DEPTH - 1] > 1e-3
    c.clip_norm.setValue(0.001)
    assert window.controller.config.train.clip_norm == 0.001
    clipped = step_once(qtbot, window)
    assert clipped.update_ratios[DEPTH - 1] < 1e-4
    c.clip_norm.setValue(0.0)  # "off"
    assert window.controller.config.train.clip_norm is None
    assert clipped.run_id == run_id


def test_changing_the_optimizer_while_playing_does_not_rebuild(qtbot, window):
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    before = wait_for(qtbot, window, lambda s: s.step >= 10)
    c = window.controls
    c.optimizer.setCurrentIndex(c.optimizer.findData("rmsprop"))
    after = wait_for(qtbot, window, lambda s: s.config.train.optimizer == "rmsprop")
    assert after.run_id == before.run_id and after.step > before.step
    assert "RMSprop" in window.statusBar().currentMessage()


def custom() -> ExperimentConfig:
    train = TrainConfig(learning_rate=0.003, optimizer="adam", weight_decay=0.0005, clip_norm=2.5)
    return ExperimentConfig(train=train)


def test_save_and_open_restore_the_optimizer_settings(qtbot, window, tmp_path):
    config = custom()
    window.apply_config(config)
    path = tmp_path / "adam.vgx"
    assert files.save_to(window, path)
    assert json.loads(path.read_text(encoding="utf-8"))["train"]["optimizer"] == "adam"
    window.apply_config(ExperimentConfig())
    assert window.controller.config != config
    assert window.open_path(path)
    assert window.controller.config == config
    c = window.controls
    assert c.optimizer.currentData() == "adam"
    assert c.weight_decay.value() == pytest.approx(0.0005)
    assert c.clip_norm.value() == pytest.approx(2.5)
    assert wait_for(qtbot, window, lambda s: s.config == config)


def test_save_with_weights_keeps_the_optimizer_state(qtbot, window, tmp_path):
    import numpy as np

    window.apply_config(custom())
    for _ in range(3):
        step_once(qtbot, window)
    path = tmp_path / "trained.vgx"
    with qtbot.waitSignal(window.file_jobs.finished, timeout=5000):
        files.save_to(window, path, with_weights=True)
    qtbot.waitUntil(lambda: path.with_suffix(".npz").exists(), timeout=3000)
    with np.load(path.with_suffix(".npz")) as npz:
        assert int(npz["optimizer_step"]) == 3
        assert npz["optimizer_exp_avg"].shape == npz["optimizer_exp_avg_sq"].shape
    assert window.open_path(path)


def test_the_history_export_records_the_optimizer_settings():
    config = custom()
    payload = json.loads(history_json(RunHistory(config.network.depth), config))
    train = payload["experiment"]["train"]
    assert (train["optimizer"], train["weight_decay"], train["clip_norm"]) == ("adam", 5e-4, 2.5)
