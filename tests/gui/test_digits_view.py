"""The digits dataset in the real window: chosen in the Data controls, trained in the training
process, its data view showing held-out test digits with the network's answers."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from vg_desktop import files
from vg_desktop.engine import TrainingRun


def choose_digits(qtbot, win):
    box = win.controls.dataset
    box.setCurrentIndex(box.findData("digits"))
    qtbot.waitUntil(
        lambda: win._drawn is not None and win._drawn.config.data.name == "digits", timeout=10000
    )


def test_choosing_digits_trains_on_64_inputs_and_shows_test_answers(qtbot, window, tmp_path):
    window.docks["dataset"].raise_()  # views behind another tab are drawn when they come forward
    choose_digits(qtbot, window)
    config = window.controller.config
    assert (config.data.n_samples, config.data.n_classes, config.data.noise) == (1797, 10, 0.0)
    assert not window.controls.noise.isEnabled()
    assert window.data_view is window.digits_view
    assert window.docks["dataset"].windowTitle() == "Test digits and predictions"
    window.controller.step()
    qtbot.waitUntil(
        lambda: window._drawn.test is not None and window._drawn.test.step == 1, timeout=10000
    )
    qtbot.waitUntil(lambda: window.digits_view._result is window._drawn.test, timeout=3000)
    snap = window._drawn
    shown = len(snap.data_x)
    assert snap.data_x.shape == (shown, 64) and shown == 30
    # The answers the view writes are the training process's predictions, and a wrong one
    # is marked.
    labels = window.digits_view.predicted_labels
    assert len(labels) == shown
    for text, p, y in zip(labels, snap.test.predicted, snap.data_y, strict=True):
        assert text == (str(p) if p == y else f"{p} ✗")
    assert f"{snap.test.accuracy:.1%}" in window.digits_view.title
    # ... and they equal the engine's own answers for the same network state.
    run = TrainingRun(config)
    run.step()
    expected = np.argmax(run.network.predict_proba(run.x_test[:shown]), axis=1)
    np.testing.assert_array_equal(snap.test.predicted, expected)
    assert snap.test.accuracy == run.test_accuracy()
    assert files.export_to(window, "data_view", tmp_path / "digits.png")
    assert not QImage(str(tmp_path / "digits.png")).isNull()


def test_back_to_a_2d_dataset_restores_the_decision_view(qtbot, window):
    choose_digits(qtbot, window)
    box = window.controls.dataset
    box.setCurrentIndex(box.findData("moons"))
    qtbot.waitUntil(lambda: window._drawn.config.data.name == "moons", timeout=10000)
    assert window.controller.config.data.n_classes == 2
    assert window.controls.noise.isEnabled()
    qtbot.waitUntil(lambda: window.data_view is window.dataset_plot, timeout=3000)
    assert window.docks["dataset"].windowTitle() == "Data and decision regions"
