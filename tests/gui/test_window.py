"""The real main window, driven as a user would: controls, play, step, reset, views."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from vg_desktop.engine import ACTIVATION_FUNCTIONS, ExperimentConfig

CONTROL_LABELS = [
    "Depth",
    "Width",
    "Activation",
    "Normalization",
    "Residual connections",
    "Initialization",
    "Gain",
    "Learning rate",
    "Batch size",
    "Dataset",
    "Noise",
    "Seed",
    "Play",
    "Step",
    "Reset",
]


def control(win, name: str) -> QWidget:
    """The window's control named ``name`` (the lesson panel repeats Play/Step/Reset)."""
    lesson = win.lesson_panel
    found = [
        w
        for w in win.findChildren(QWidget)
        if w.accessibleName() == name and not lesson.isAncestorOf(w)
    ]
    assert len(found) == 1, f"expected one control named {name!r}, found {len(found)}"
    return found[0]


def latest(win):
    return win._latest


def wait_for_step(qtbot, win, predicate, timeout=5000):
    qtbot.waitUntil(lambda: latest(win) is not None and predicate(latest(win)), timeout=timeout)
    return latest(win)


def wait_drawn(qtbot, win):
    """Wait until the frame timer has drawn the newest snapshot."""
    qtbot.waitUntil(lambda: win._drawn is win._latest, timeout=3000)
    return win._drawn


def test_every_control_has_label_name_and_tooltip(window):
    for name in CONTROL_LABELS:
        w = control(window, name)
        assert w.toolTip().strip(), f"{name} has no tooltip"
        if isinstance(w, (QAbstractButton,)) and not isinstance(w, QCheckBox):
            assert w.text() in (name, "Pause"), w.text()
        elif isinstance(w, QCheckBox):
            assert w.text() == name
        else:
            buddies = [lab for lab in window.findChildren(QLabel) if lab.buddy() is w]
            assert buddies and buddies[0].text() == name, f"{name} has no visible label"


def test_opens_on_a_deep_sigmoid_network_showing_the_problem(window):
    snap = window._drawn
    net = snap.config.network
    assert net.activation == "sigmoid" and net.depth >= 10
    ratio = snap.signal_grad_norms[0] / snap.signal_grad_norms[-1]
    assert ratio < 1e-6, "the default should show the first layers starving"
    assert "Step 0" in window.status_label.text()


def test_play_trains_and_draws_frames_then_pause_stops(qtbot, window):
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    assert window.controller.playing
    wait_for_step(qtbot, window, lambda s: s.step >= 30)
    frames = window.frames_drawn
    qtbot.waitUntil(lambda: window.frames_drawn > frames + 3, timeout=3000)
    assert "steps/s" in window.status_label.text()
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    assert not window.controller.playing
    assert control(window, "Play").text() == "Play"
    # The worker confirms the pause with a snapshot of exactly where it stopped.
    stopped_at = wait_for_step(qtbot, window, lambda s: not s.playing).step
    qtbot.wait(200)
    assert window._latest.step == stopped_at


def test_step_trains_exactly_one_step_and_reset_returns_to_zero(qtbot, window):
    for expected in (1, 2, 3):
        qtbot.mouseClick(control(window, "Step"), Qt.MouseButton.LeftButton)
        wait_for_step(qtbot, window, lambda s, e=expected: s.step == e)
    assert len(window.history) == 3
    qtbot.mouseClick(control(window, "Reset"), Qt.MouseButton.LeftButton)
    snap = wait_for_step(qtbot, window, lambda s: s.step == 0 and s.run_id > 1)
    assert len(window.history) == 0
    assert snap.history.steps.size == 0


def test_bar_heights_are_log10_of_the_snapshot_norms(qtbot, window):
    window.bars.set_animated(False)
    qtbot.mouseClick(control(window, "Step"), Qt.MouseButton.LeftButton)
    wait_for_step(qtbot, window, lambda s: s.step == 1)
    snap = wait_drawn(qtbot, window)
    np.testing.assert_allclose(window.bars.heights(), np.log10(snap.signal_grad_norms))

    quantity = control(window, "Gradient quantity")
    for index, field in [(1, "weight_grad_norms"), (2, "update_ratios")]:
        quantity.setCurrentIndex(index)
        np.testing.assert_allclose(window.bars.heights(), np.log10(getattr(snap, field)))
    label = window.bars.getPlotItem().getAxis("left").labelText
    assert "ΔW" in label


def test_axis_label_names_the_quantity(window):
    quantity = control(window, "Gradient quantity")
    labels = []
    for index in range(3):
        quantity.setCurrentIndex(index)
        labels.append(window.bars.getPlotItem().getAxis("left").labelText)
    assert "∂z" in labels[0] and "∂W" in labels[1] and "ΔW" in labels[2]


def test_bounds_do_not_autoscale_frame_to_frame(qtbot, window):
    before = window.bars.bounds()
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    wait_for_step(qtbot, window, lambda s: s.step >= 20)
    assert window.bars.bounds() == before
    window.controls.gain.setValue(3.0)  # a very different network
    wait_for_step(qtbot, window, lambda s: s.config.network.init_gain == 3.0)
    wait_drawn(qtbot, window)
    assert window.bars.bounds() == before


def test_picking_a_layer_shows_its_preactivation_histogram(qtbot, window):
    qtbot.mouseClick(control(window, "Step"), Qt.MouseButton.LeftButton)
    wait_for_step(qtbot, window, lambda s: s.step == 1)
    layer_box = control(window, "Layer")
    for layer in (1, 7, window._latest.depth):
        layer_box.setValue(layer)
        snap = wait_drawn(qtbot, window)
        counts, edges = window.activation_plot.histogram()
        clipped = np.clip(snap.preactivations[layer - 1], edges[0], edges[-1])
        expected, _ = np.histogram(clipped, bins=edges)
        np.testing.assert_array_equal(counts, expected)
    # Clicking a bar picks the layer too.
    window.bars.layerClicked.emit(4)
    assert layer_box.value() == 5


def test_every_control_reaches_the_engine(qtbot, window):
    c = window.controls
    changes = [
        (lambda: c.depth_box.setValue(12), lambda n: n.network.depth == 12),
        (lambda: c.width_box.setValue(20), lambda n: n.network.width == 20),
        (
            lambda: c.activation.setCurrentIndex(c.activation.findData("relu")),
            lambda n: n.network.activation == "relu",
        ),
        (
            lambda: c.normalization.setCurrentIndex(c.normalization.findData("layer")),
            lambda n: n.network.normalization == "layer",
        ),
        (lambda: c.residual.setChecked(True), lambda n: n.network.residual),
        (lambda: c.init.setCurrentIndex(c.init.findData("he")), lambda n: n.network.init == "he"),
        (lambda: c.gain.setValue(0.8), lambda n: n.network.init_gain == 0.8),
        (
            lambda: c.precision.setCurrentIndex(c.precision.findData("float32")),
            lambda n: n.network.dtype == "float32",
        ),
        (lambda: c.batch_size.setValue(32), lambda n: n.train.batch_size == 32),
        (
            lambda: c.dataset.setCurrentIndex(c.dataset.findData("moons")),
            lambda n: n.data.name == "moons",
        ),
        (lambda: c.noise.setValue(0.3), lambda n: n.data.noise == 0.3),
        (lambda: c.seed.setValue(7), lambda n: n.network.seed == 7 and n.data.seed == 7),
        (lambda: c.learning_rate.setValue(0.05), lambda n: n.train.learning_rate == 0.05),
        (lambda: c.momentum.setValue(0.5), lambda n: n.train.momentum == 0.5),
    ]
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    for change, check in changes:
        change()
        assert check(window.controller.config)
        # The snapshots the worker sends come from the new configuration.
        wait_for_step(qtbot, window, lambda s, chk=check: chk(s.config))
    snap = wait_for_step(qtbot, window, lambda s: s.step > 0)
    assert snap.depth == 12 and snap.preactivations[0].size > 0
    assert window.activation_plot.activation_name() == "relu"
    assert window.controller.config == window.controls.config()


def test_learning_rate_applies_without_rebuilding(qtbot, window):
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    snap = wait_for_step(qtbot, window, lambda s: s.step >= 10)
    run_id = snap.run_id
    window.controls.learning_rate.setValue(0.02)
    later = wait_for_step(qtbot, window, lambda s: s.config.train.learning_rate == 0.02)
    assert later.run_id == run_id and later.step > snap.step


def test_batch_norm_with_batch_size_one_is_prevented_with_an_explanation(qtbot, window):
    c = window.controls
    c.batch_size.setValue(1)
    assert window.controller.config.train.batch_size == 1
    c.normalization.setCurrentIndex(c.normalization.findData("batch"))
    assert window.controller.config.network.normalization == "batch"
    assert window.controller.config.train.batch_size >= 3
    assert c.batch_size.minimum() == 3
    assert "±1" in c.hint.text()
    c.batch_size.setValue(2)  # the spin box refuses 2 as well: two samples normalize to ±1
    assert window.controller.config.train.batch_size == 3
    assert "batch normalization" in c.hint.text().lower()


def test_divergence_pauses_says_so_and_reset_recovers(qtbot, window):
    c = window.controls
    c.activation.setCurrentIndex(c.activation.findData("relu"))
    c.init.setCurrentIndex(c.init.findData("normal"))
    c.gain.setValue(20.0)
    c.learning_rate.setValue(10.0)
    qtbot.mouseClick(control(window, "Play"), Qt.MouseButton.LeftButton)
    snap = wait_for_step(qtbot, window, lambda s: s.diverged, timeout=10000)
    assert "exploded" in snap.message
    qtbot.waitUntil(lambda: not window.controller.playing, timeout=2000)
    wait_drawn(qtbot, window)
    assert "DIVERGED" in window.status_label.text()
    assert window.bars.diverged_text()
    c.gain.setValue(1.0)
    c.init.setCurrentIndex(c.init.findData("he"))
    c.learning_rate.setValue(0.01)
    qtbot.mouseClick(control(window, "Reset"), Qt.MouseButton.LeftButton)
    snap = wait_for_step(qtbot, window, lambda s: not s.diverged and s.step == 0)
    wait_drawn(qtbot, window)
    assert window.bars.diverged_text() is None or window.bars.diverged_text() == ""
    assert np.all(np.isfinite(snap.signal_grad_norms))


def test_closing_mid_run_stops_the_worker_promptly(qtbot):
    from vg_desktop.app import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.controls.depth_box.setValue(200)
    win.controls.width_box.setValue(128)
    win.controller.play()
    qtbot.waitUntil(lambda: win._latest is not None and win._latest.step > 2, timeout=10000)
    controller = win.controller
    started = time.perf_counter()
    win.close()
    elapsed = time.perf_counter() - started
    assert controller.is_finished()
    assert elapsed < 1.0, f"closing took {elapsed:.2f} s"


@pytest.mark.parametrize("name", list(ACTIVATION_FUNCTIONS))
def test_activation_plot_follows_the_activation(window, name):
    c = window.controls
    c.activation.setCurrentIndex(c.activation.findData(name))
    assert window.activation_plot.activation_name() == name


def test_config_roundtrip_through_panel(window):
    cfg = ExperimentConfig()
    window.controls.set_config(cfg)
    assert window.controls.config() == cfg
    assert isinstance(control(window, "Gain"), QDoubleSpinBox)
    assert isinstance(control(window, "Depth"), QSpinBox)
    assert isinstance(control(window, "Activation"), QComboBox)


def test_closing_during_a_multi_second_step_of_the_largest_network(qtbot):
    """Depth 200 × width 256 × batch 512: one step takes seconds; closing must not wait for it."""
    from vg_desktop.app import MainWindow
    from vg_desktop.engine import DataConfig, NetworkConfig, TrainConfig

    config = ExperimentConfig(
        network=NetworkConfig(depth=200, width=256),
        data=DataConfig(n_samples=1024),
        train=TrainConfig(batch_size=512),
    )
    win = MainWindow(config=config)
    qtbot.addWidget(win)
    win.show()
    win.controller.play()
    qtbot.wait(300)  # the worker is inside the rebuild's probe or a step by now
    controller = win.controller
    started = time.perf_counter()
    win.close()
    elapsed = time.perf_counter() - started
    assert controller.is_finished()
    assert elapsed < 1.0, f"closing took {elapsed:.2f} s"


def test_an_unchanged_decision_grid_arrives_as_the_same_object(qtbot, window):
    """The window redraws the decision regions when the grid object changes: a grid that came
    through the training process's pipe again, unchanged, must not look new."""
    from vg_desktop.worker import same_grid

    snapshots = []
    window.run_a.controller.snapshotReady.connect(snapshots.append)
    window.play()
    qtbot.waitUntil(
        lambda: len([s for s in snapshots if s.decision is not None]) > 30, timeout=20_000
    )
    window.pause()
    grids = [s.decision for s in snapshots if s.decision is not None]
    assert len({id(g) for g in grids}) < len(grids)
    for before, after in itertools.pairwise(grids):
        assert (before is after) == same_grid(before, after)
    assert not grids[-1].confidence.flags.writeable


def test_training_draws_the_history_views_in_frames_of_their_own(qtbot, window, monkeypatch):
    """While training, a frame draws either the bars and the activation plot or the three
    history views, never all five plots; the history views still refresh several times a
    second, the live views in most frames."""
    frames: list[list[str]] = []
    for name in ("live", "history"):
        original = getattr(window, f"_draw_{name}_views")

        def wrapper(name=name, original=original):
            frames[-1].append(name)
            original()

        monkeypatch.setattr(window, f"_draw_{name}_views", wrapper)
    draw = window._draw

    def counted_draw():
        frames.append([])
        draw()

    monkeypatch.setattr(window, "_draw", counted_draw)
    speed = window.controls.speed
    speed.setCurrentIndex(speed.findData(None))  # full speed: a snapshot for every frame tick
    window.play()
    qtbot.waitUntil(lambda: len(frames) >= 45, timeout=10000)
    started = time.perf_counter()
    qtbot.waitUntil(lambda: len(frames) >= 75, timeout=10000)
    seconds = time.perf_counter() - started
    window.pause()
    ticks = frames[45:75]
    assert all(len(f) == 1 for f in ticks), ticks
    history = sum(f == ["history"] for f in ticks)
    assert history / seconds >= 3
    assert sum(f == ["live"] for f in ticks) > 2 * history


def test_chain_rule_overlay_is_replaced_by_a_note_for_batch_norm(qtbot, window):
    """Plain stack: the RMS estimate is drawn; batch norm: a note says why it is not."""
    window.overlay.setChecked(True)
    snap = wait_drawn(qtbot, window)
    assert window.bars.prediction_note_text() is None and window.bars._prediction.isVisible()
    assert "RMS f′ = " in window.activation_plot.info_text()
    c = window.controls
    c.normalization.setCurrentIndex(c.normalization.findData("batch"))
    wait_for_step(qtbot, window, lambda s: s.config.network.normalization == "batch")
    wait_drawn(qtbot, window)
    assert not window.bars._prediction.isVisible()
    assert "batch norm" in window.bars.prediction_note_text()
    assert snap.rms_derivatives.shape == (snap.depth,)


def test_residual_form_combo_is_enabled_with_residual_and_reaches_the_engine(qtbot, window):
    c = window.controls
    form = control(window, "Residual form")
    assert not c.residual.isChecked() and not form.isEnabled()
    c.residual.setChecked(True)
    assert form.isEnabled()
    form.setCurrentIndex(form.findData("pre-activation"))
    assert window.controller.config.network.pre_activation
    snap = wait_for_step(qtbot, window, lambda s: s.config.network.pre_activation)
    assert snap.depth == window.controller.config.network.depth
    buddies = [lab for lab in window.findChildren(QLabel) if lab.buddy() is form]
    assert buddies and buddies[0].text() == "Residual form" and form.toolTip()
    c.residual.setChecked(False)
    assert not form.isEnabled()
    assert not window.controller.config.network.residual
    c.set_config(window.controller.config)  # a loaded config sets the combo and its state
    assert not form.isEnabled() and form.currentData() == "pre-activation"


def test_residual_stream_quantity_is_offered_for_residual_networks_only(qtbot, window):
    q = window.quantity
    row = q.findData("stream")
    wait_drawn(qtbot, window)
    assert q.view().isRowHidden(row)  # the default plain stack has no residual stream
    c = window.controls
    c.residual.setChecked(True)
    wait_for_step(qtbot, window, lambda s: s.config.network.residual)
    wait_drawn(qtbot, window)
    assert not q.view().isRowHidden(row)
    window.set_quantity("stream")
    snap = wait_drawn(qtbot, window)
    assert window.bars.quantity() == "stream" and "‖∂L/∂h‖" in window.bars.axis_label()
    np.testing.assert_allclose(window.bars.target_heights(), np.log10(snap.stream_grad_norms))
    assert window.run_a.history.layer_field("stream_grad_norm").shape[1] == snap.depth + 1
    c.residual.setChecked(False)  # back to a plain stack: back to the signal
    wait_for_step(qtbot, window, lambda s: not s.config.network.residual)
    wait_drawn(qtbot, window)
    assert q.view().isRowHidden(row) and q.currentData() == "signal"
    assert window.bars.quantity() == "signal"


def test_status_bar_shows_the_whole_datasets_figures_and_labels_the_batchs(qtbot, window):
    qtbot.waitUntil(
        lambda: window._drawn is not None and window._drawn.dataset is not None, timeout=5000
    )
    wait_drawn(qtbot, window)
    text = window.status_label.text()
    snap = window._drawn
    d = snap.dataset
    assert f"all 512 samples: loss {d.loss:.4f}, accuracy {d.accuracy:.1%}" in text
    assert f"this batch: loss {snap.loss:.4f}" in text
    info = window.layer_info.text()
    assert "of this batch" in info and "on every one of the 512 samples" in info
