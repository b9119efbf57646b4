"""Plot widgets: what they draw is what the numbers say (pytest-qt, offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QObject, Qt

from vg_desktop import health
from vg_desktop.engine import get_activation
from vg_desktop.plots import (
    DARK,
    LIGHT,
    PRESENTATION,
    ActivationPlot,
    DatasetPlot,
    GradientBarsPlot,
    GradientHeatmap,
    TrainingCurvesPlot,
    configure_pyqtgraph,
    settle,
)
from vg_desktop.plots.activation_plot import BINS, EDGES, X_RANGE, clipped_histogram, peak_label
from vg_desktop.plots.gradient_bars import QUANTITY_LABELS, decade_label, decade_ticks
from vg_desktop.plots.training_curves import MAX_POINTS, moving_average, nice_ceiling, subsample
from vg_desktop.snapshot import DecisionGrid

configure_pyqtgraph()


@pytest.fixture
def bars(qtbot) -> GradientBarsPlot:
    w = GradientBarsPlot()
    qtbot.addWidget(w)
    w.resize(900, 500)
    return w


# ---------------------------------------------------------------- health classification
def test_health_relative_to_last_hidden_layer_for_signal() -> None:
    values = np.array([0.0, 1e-3, 1e-2, 0.011, 0.5, 99.0, 100.0, np.nan, np.inf, 1.0])
    codes = health.classify(values, "signal")
    V, H, E = health.VANISHING, health.HEALTHY, health.EXPLODING
    assert codes.tolist() == [V, V, V, H, H, H, E, E, E, H]


def test_health_weight_uses_last_hidden_not_output_layer() -> None:
    # the last entry is the output layer; the reference is the one before it (1e-2)
    values = np.array([1e-4, 1e-3, 1e-2, 50.0])
    codes = health.classify(values, "weight")
    assert codes.tolist() == [health.VANISHING, health.HEALTHY, health.HEALTHY, health.EXPLODING]


def test_health_absolute_limit_and_fixed_update_thresholds() -> None:
    # a 1e7 gradient explodes even when the reference is as large
    assert health.classify(np.array([2e7, 1e7]), "signal").tolist() == [2, 2]
    update = np.array([0.0, 9e-6, 1e-5, 1e-3, 0.1, 0.11, np.nan])
    assert health.classify(update, "update").tolist() == [0, 0, 1, 1, 1, 2, 2]
    assert health.thresholds(np.array([1e-3, 1.0]), "signal") == pytest.approx((1e-2, 1e2))
    assert (
        health.thresholds(np.zeros(3), "signal")[0] != health.thresholds(np.zeros(3), "signal")[0]
    )
    with pytest.raises(ValueError, match="quantity"):
        health.classify(np.ones(2), "speed")


def test_health_labels_state_the_thresholds() -> None:
    assert "1/100" in health.describe("signal")[health.VANISHING]
    assert "10⁻⁵" in health.describe("update")[health.VANISHING]
    assert health.label(health.EXPLODING) == "exploding"


# ---------------------------------------------------------------- gradient bars
def test_decade_labels_and_ticks() -> None:
    assert decade_label(-12) == "10⁻¹²"
    assert decade_label(0) == "10⁰"
    step, ticks = decade_ticks(-24, 2, max_ticks=10)
    assert len(ticks) <= 10 and all(t % step == 0 for t in ticks)
    assert 0 in ticks


def test_bar_heights_are_log10_of_values_without_animation(bars: GradientBarsPlot) -> None:
    bars.set_animated(False)
    values = np.logspace(-18, -1, 12)
    bars.show_values(values)
    np.testing.assert_allclose(bars.heights(), np.log10(values))
    np.testing.assert_allclose(bars.target_heights(), np.log10(values))
    x, heights = bars._bars_a.getData()
    lo, _ = bars.bounds()
    np.testing.assert_allclose(heights + lo, np.log10(values))  # bars start at the axis bottom
    np.testing.assert_allclose(x, np.arange(1, 13))  # input layer at the left


def test_bars_animate_toward_targets_and_converge(bars: GradientBarsPlot) -> None:
    values = np.logspace(-10, -1, 8)
    bars.show_values(values)
    lo, _ = bars.bounds()
    np.testing.assert_allclose(bars.heights(), lo)  # a new network grows from the bottom
    bars.advance_animation()
    expected = lo + 0.35 * (np.log10(values) - lo)
    np.testing.assert_allclose(bars.heights(), expected)
    for _ in range(60):
        if not bars.advance_animation():
            break
    np.testing.assert_array_equal(bars.heights(), bars.target_heights())
    assert bars.advance_animation() is False


def test_zero_and_nan_values_get_markers_and_diverged_text(bars: GradientBarsPlot) -> None:
    bars.set_animated(False)
    bars.show_values(np.array([0.0, 1e-30, 1e-3, np.nan, 1e5, 1e-1]))
    markers = bars.markers()
    assert markers["below"].tolist() == [0, 1]
    assert markers["nan"].tolist() == [3]
    assert markers["above"].tolist() == [4]
    lo, hi = bars.bounds()
    assert bars.heights()[0] == lo and bars.heights()[4] == hi
    assert len(bars._markers.data) == 4
    assert "DIVERGED" in bars.diverged_text()  # NaN alone shows the banner
    bars.show_values(np.array([1e-3, 1e-2]))
    assert bars.diverged_text() is None
    bars.set_diverged("loss is NaN at step 12")
    assert bars.diverged_text() == "DIVERGED — loss is NaN at step 12"
    bars.set_diverged(None)
    assert bars.diverged_text() is None


def test_bounds_never_follow_the_data(bars: GradientBarsPlot) -> None:
    before = bars.bounds()
    y_range = bars._vb.viewRange()[1]
    for values in (np.logspace(-40, -30, 5), np.logspace(3, 9, 5), np.full(5, 1e-3)):
        bars.show_values(values)
        assert bars.bounds() == before
        np.testing.assert_allclose(bars._vb.viewRange()[1], y_range)


def test_fit_to_sets_enclosing_decades_unless_locked(bars: GradientBarsPlot, qtbot) -> None:
    with qtbot.waitSignal(bars.boundsChanged) as blocker:
        bars.fit_to(np.array([3e-31, 0.0, np.nan, 2e-5]))
    assert bars.bounds() == (-32, -3)
    assert blocker.args == [-32, -3]
    np.testing.assert_allclose(bars._vb.viewRange()[1], (-32, -3), atol=1e-9)
    bars.set_locked(True)
    bars.fit_to(np.array([1e-3, 1e2]))
    assert bars.bounds() == (-32, -3)
    bars.set_bounds(-10, 1)  # explicit bounds still apply
    assert bars.bounds() == (-10, 1)
    with pytest.raises(ValueError):
        bars.set_bounds(2, 2)


def test_quantity_switch_changes_axis_label_and_bounds(bars: GradientBarsPlot) -> None:
    assert bars.axis_label() == QUANTITY_LABELS["signal"]
    bars.set_bounds(-12, 0)
    bars.set_quantity("update")
    assert bars.axis_label() == "‖ΔW‖/‖W‖ update ratio (log₁₀)"
    assert bars.bounds() == (-24, 0)
    bars.set_quantity("weight")
    assert "weight gradient" in bars.axis_label()
    bars.set_quantity("signal")
    assert bars.bounds() == (-12, 0)  # each quantity keeps its own bounds
    with pytest.raises(ValueError, match="quantity"):
        bars.set_quantity("loss")


def test_output_layer_is_labelled_out_for_weight_gradients(bars: GradientBarsPlot) -> None:
    bars.set_quantity("weight")
    bars.show_values(np.logspace(-6, -1, 5))
    axis = bars._bottom_axis
    assert axis.tickStrings([1.0, 5.0], 1, 1) == ["1", "out"]


def test_clicking_a_bar_emits_its_layer(bars: GradientBarsPlot, qtbot) -> None:
    bars.set_animated(False)
    bars.show_values(np.logspace(-8, -1, 10))
    bars.show()
    qtbot.waitExposed(bars)
    pos = bars.mapFromScene(bars.bar_center(6))
    with qtbot.waitSignal(bars.layerClicked, timeout=2000) as blocker:
        qtbot.mouseClick(bars.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [6]
    assert bars.selected_layer() == 6
    assert bars.layer_at(0.2) is None and bars.layer_at(10.4) == 9


def test_prediction_overlay_only_for_the_signal(bars: GradientBarsPlot) -> None:
    values = np.logspace(-10, -1, 6)
    bars.show_values(values, predicted=values * 2)
    _, y = bars._prediction.getData()
    np.testing.assert_allclose(y, np.log10(values * 2))
    bars.set_overlay(False)
    assert not bars._prediction.isVisible()
    bars.set_overlay(True)
    bars.set_quantity("weight")
    bars.show_values(values, predicted=values)
    assert not bars._prediction.isVisible()


def test_prediction_note_replaces_the_line_where_the_model_does_not_hold(bars) -> None:
    """Batch norm / residual: a note says why, instead of a line 10¹⁵ below the bars."""
    from vg_desktop.engine import chain_rule_model_note

    values = np.logspace(-3, -1, 6)
    bars.show_values(values, predicted=values * 1e-15, prediction_note="")
    assert bars._prediction.isVisible() and bars.prediction_note_text() is None
    assert any(t.startswith("chain-rule estimate: ∏ RMS f′") for t in bars.legend_texts())
    note = chain_rule_model_note("batch", False)
    bars.show_values(values, predicted=values * 1e-15, prediction_note=note)
    assert not bars._prediction.isVisible()
    assert bars.prediction_note_text() == note
    # Said in the legend above the plot (a note over the bars would hide them), the reason in
    # the entry's tooltip.
    from vg_desktop.plots.gradient_bars import PREDICTION_NOT_SHOWN

    assert PREDICTION_NOT_SHOWN in bars.legend_texts()
    assert not any("∏ RMS" in t for t in bars.legend_texts())
    bars.set_overlay(False)
    assert bars.prediction_note_text() is None
    bars.set_overlay(True)
    bars.set_quantity("weight")
    bars.show_values(values, prediction_note=note)
    assert bars.prediction_note_text() is None  # the estimate is of the signal only
    bars.set_quantity("signal")
    bars.show_values(values, predicted=values, prediction_note="")
    assert bars._prediction.isVisible() and bars.prediction_note_text() is None


def test_ab_comparison_draws_side_by_side(bars: GradientBarsPlot) -> None:
    bars.set_animated(False)
    a, b = np.logspace(-12, -1, 4), np.logspace(-3, -1, 4)
    bars.show_values(a, values_b=b)
    np.testing.assert_allclose(bars.heights_b(), np.log10(b))
    xa, _ = bars._bars_a.getData()
    xb, _ = bars._bars_b.getData()
    assert np.all(xa < xb) and np.all(np.abs(xb - xa - 0.42) < 1e-9)
    bars.show_values(a)
    assert bars.heights_b().size == 0


@pytest.mark.parametrize("depth", [1, 2, 200])
def test_any_depth_draws_and_thins_ticks(bars: GradientBarsPlot, depth: int) -> None:
    bars.show()
    bars.show_values(np.logspace(-20, -1, depth))
    assert bars.heights().shape == (depth,)
    levels = bars._bottom_axis.tickValues(0.5, depth + 0.5, 800)
    ticks = levels[0][1] if levels else []
    assert 1.0 in ticks and float(depth) in ticks
    assert len(ticks) <= 20


def test_selected_layer_is_outlined(bars: GradientBarsPlot) -> None:
    bars.show_values(np.logspace(-5, -1, 5))
    bars.set_selected_layer(2)
    x, _ = bars._outline.getData()
    assert list(x) == [3.0]
    bars.set_selected_layer(None)
    assert len(bars._outline.getData()[0]) == 0


# ---------------------------------------------------------------- activation plot
def test_histogram_matches_numpy_with_documented_clipping(qtbot) -> None:
    w = ActivationPlot()
    qtbot.addWidget(w)
    rng = np.random.default_rng(0)
    u = np.concatenate([rng.normal(0, 3, 1000), [-50.0, 9.0, np.inf, np.nan]])
    w.show_layer(6, u, 0.207, 0.031)
    counts, edges = w.histogram()
    finite = u[~np.isnan(u)]
    expected, expected_edges = np.histogram(np.clip(finite, -8, 8), bins=BINS, range=X_RANGE)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(edges, expected_edges)
    np.testing.assert_allclose(EDGES, np.linspace(-8, 8, 65))
    assert counts.sum() == len(u) - 1
    text = w.info_text()
    assert text.startswith("Layer 7 — mean f′ = 0.207  ·  saturated 3.1 %")
    w.show_layer(6, u, 0.207, 0.031, rms_derivative=0.212)
    assert w.info_text().startswith("Layer 7 — mean f′ = 0.207  ·  RMS f′ = 0.212  ·  saturated")
    assert "outside ±8" in text and "1 NaN" in text


def test_clipped_histogram_counts_outside() -> None:
    counts, _, outside, dropped = clipped_histogram(np.array([-9.0, 0.0, 8.0, 8.5, np.nan]))
    assert counts[0] == 1 and counts[-1] == 2 and outside == 2 and dropped == 1


def test_activation_curves_band_and_peak(qtbot) -> None:
    w = ActivationPlot()
    qtbot.addWidget(w)
    w.set_activation("sigmoid")
    x, y = w._df.getData()
    np.testing.assert_allclose(y, get_activation("sigmoid").grad(x))
    assert peak_label("sigmoid") == "max σ′ = 0.25"
    lo, hi = w._band.getRegion()
    assert lo == pytest.approx(-1.76, abs=0.01) and hi == pytest.approx(1.76, abs=0.01)
    w.set_activation("relu")
    assert w._band.getRegion() == pytest.approx((0.0, 8.0), abs=1e-3)
    w.show_layer(0, np.array([-1.0, 1.0]), 0.5, 0.5)
    assert "inactive 50.0 % of this batch" in w.info_text()
    with pytest.raises(ValueError):
        w.set_activation("softmax")


# ---------------------------------------------------------------- curves, heatmap, dataset
def test_training_curves_subsample_and_gap_non_finite(qtbot) -> None:
    w = TrainingCurvesPlot()
    qtbot.addWidget(w)
    n = 10_000
    steps = np.arange(n)
    loss = np.linspace(2, 0.1, n)
    loss[5] = np.inf
    w.set_history(steps, loss, np.full(n, 0.5))
    x, _ = w.curve_data()["loss"]
    assert len(x) <= MAX_POINTS and x[-1] == n - 1
    _, acc = w.curve_data()["accuracy"]
    np.testing.assert_allclose(acc, 50.0)
    w.set_history(steps[:10], loss[:10], np.full(10, 0.5))
    assert np.isnan(w.curve_data()["loss"][1][5])
    w.set_history_b(steps[:10], loss[:10] * 2, np.full(10, 0.7))
    assert len(w.curve_data()["loss_b"][0]) == 10
    assert len(w.curve_data()["loss_b_trend"][0]) == 10
    w.set_history_b(None)
    w.clear()
    assert all(len(x) == 0 for x, _ in w.curve_data().values())
    assert len(subsample(5)) == 5 and nice_ceiling(0.73) == pytest.approx(0.8)


def test_moving_average_is_centered_and_keeps_gaps() -> None:
    np.testing.assert_allclose(moving_average(np.arange(10.0), 3)[1:-1], np.arange(1.0, 9.0))
    y = np.ones(20)
    y[8:14] = np.nan
    avg = moving_average(y, 4)
    assert np.isnan(avg[10]) and avg[0] == 1.0 and avg[-1] == 1.0
    np.testing.assert_array_equal(moving_average(y, 1)[:8], 1.0)


def test_heatmap_image_shape_levels_and_missing_values(qtbot) -> None:
    w = GradientHeatmap()
    qtbot.addWidget(w)
    w.set_levels(-24, 2)
    data = np.linspace(-20, 0, 40 * 7).reshape(40, 7)
    data[3, 2] = np.nan
    data[4, 4] = -np.inf
    w.set_data(np.arange(0, 400, 10), data)
    assert w.image_shape() == (40, 7)
    assert w.levels() == (-24.0, 2.0)
    assert tuple(w._image.levels) == (-24.0, 2.0)
    image = w.image_data()
    assert np.isnan(image[3, 2]) and image[4, 4] < -24
    rect = w._image.mapRectToParent(w._image.boundingRect())
    assert rect.left() == pytest.approx(-5) and rect.right() == pytest.approx(395)
    assert rect.top() == pytest.approx(0.5) and rect.bottom() == pytest.approx(7.5)
    with pytest.raises(ValueError):
        w.set_data(np.arange(3), np.zeros((4, 7)))
    w.clear()
    assert w.image_shape() == (0, 0)


def test_dataset_decision_image_shape_and_tint(qtbot) -> None:
    w = DatasetPlot()
    qtbot.addWidget(w)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 2))
    y = (x[:, 0] > 0).astype(int)
    w.set_data(x, y)
    xs, ys = np.linspace(-3, 3, 30), np.linspace(-2, 2, 20)
    predicted = np.zeros((20, 30), dtype=int)
    predicted[:, 15:] = 1
    confidence = np.full((20, 30), 0.5)
    confidence[:, -1] = 1.0
    w.show_decision(DecisionGrid(xs, ys, predicted, confidence))
    image = w.decision_image()
    assert image.shape == (20, 30, 4) and image.dtype == np.uint8
    # a confident cell is more strongly tinted (further from white) than a chance-level one
    assert image[0, -1, :3].astype(int).sum() < image[0, 16, :3].astype(int).sum()
    w.show_decision(None)
    assert w.decision_image() is None


# ---------------------------------------------------------------- themes
@pytest.mark.parametrize("theme", [LIGHT, DARK, PRESENTATION])
def test_every_plot_takes_every_theme(qtbot, theme) -> None:
    for cls in (GradientBarsPlot, ActivationPlot, TrainingCurvesPlot, GradientHeatmap, DatasetPlot):
        w = cls()
        qtbot.addWidget(w)
        w.apply_theme(theme)
    assert LIGHT.tick_font_pt >= 11 and PRESENTATION.tick_font_pt >= 16
    assert pg.getConfigOption("useOpenGL") is False


def _light_pixels(image, center, half_width: int = 3, half_height: int = 15) -> int:
    """Pixels in a small block around ``center`` light in every channel (the hatch lines)."""
    count = 0
    for x in range(int(center.x()) - half_width, int(center.x()) + half_width + 1):
        for y in range(int(center.y()) - half_height, int(center.y()) + half_height + 1):
            color = image.pixelColor(x, y)
            count += min(color.red(), color.green(), color.blue()) > 190
    return count


@pytest.mark.parametrize("depth", [4, 200])
def test_vanishing_and_exploding_bars_are_hatched_and_healthy_ones_are_not(qtbot, depth):
    """The second cue besides color: hatching, drawn in device pixels (one clipped fill per
    pattern), must land inside exactly the bars it marks, at any depth."""
    bars = GradientBarsPlot()
    qtbot.addWidget(bars)
    bars.resize(900, 500)
    bars.show()
    bars.set_animated(False)
    values = np.ones(depth)
    values[0] = 1e-12  # vanishing: far below the last hidden layer
    values[1] = 1e4  # exploding: at least 100x the last hidden layer
    bars.show_values(values)
    qtbot.wait(20)
    image = bars.grab().toImage()
    centers = [bars.mapFromScene(bars.bar_center(i)) for i in range(3)]
    vanishing, exploding, healthy = (_light_pixels(image, c, half_width=0) for c in centers)
    assert list(bars.health()[:3]) == [health.VANISHING, health.EXPLODING, health.HEALTHY]
    assert vanishing > 0 and exploding > 0
    assert healthy == 0


# ------------------------------------------------------- paint cost (behaviour, not timing)
def test_marker_symbols_are_rendered_once_not_every_frame(bars) -> None:
    """pyqtgraph caches rendered symbols by pen/brush identity: the ▼ markers must reuse the
    same objects frame after frame, or every marker is rendered anew and cached again."""
    bars.set_animated(False)
    values = np.full(60, 1e-30)  # every layer below the axis: 60 ▼ markers
    for _ in range(5):
        bars.show_values(values * np.random.default_rng(0).uniform(0.5, 2, 60))
    atlas = bars._markers.fragmentAtlas
    assert 0 < len(atlas) <= 2  # one rendered ▼ (and at most one more for a new size)


@pytest.mark.parametrize("theme", [LIGHT, DARK])
def test_grid_lines_are_opaque_behind_the_data_in_the_grid_color(qtbot, theme) -> None:
    """Grid lines are filled in the color a translucent line has over the background (Qt
    blends translucent lines slowly), and lie behind the data: a bar covers them."""
    bars = GradientBarsPlot(theme=theme)
    qtbot.addWidget(bars)
    bars.resize(900, 500)
    bars.show()
    bars.set_animated(False)
    bars.show_values(np.array([1e-1, 1e-1, 1e-1]))
    qtbot.wait(20)
    image = bars.grab().toImage()
    axis = bars._left_axis
    assert axis.zValue() < bars._vb.zValue()
    background, line = theme.color("background"), theme.color("foreground")
    a = theme.grid_alpha
    expected = [
        round(255 * (c * a + b * (1 - a)))
        for c, b in zip(line.getRgbF()[:3], background.getRgbF()[:3], strict=True)
    ]
    # the 10^-12 grid line: in the empty gap right of the last bar, and through bar 2
    gap = bars.mapFromScene(bars._vb.mapViewToScene(pg.Point(3.45, -12.0)))
    bar = bars.mapFromScene(bars._vb.mapViewToScene(pg.Point(2.0, -12.0)))
    rows = range(gap.y() - 2, gap.y() + 3)
    found = [image.pixelColor(gap.x(), y).getRgb()[:3] for y in rows]
    assert any(max(abs(c - e) for c, e in zip(f, expected, strict=True)) <= 2 for f in found)
    fill = theme.color("healthy").getRgb()[:3]
    assert all(image.pixelColor(bar.x(), y).getRgb()[:3] == fill for y in rows)


class _PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, obj, event) -> bool:
        self.paints += event.type() == QEvent.Type.Paint
        return False


def test_a_history_refresh_paints_each_view_once(qtbot) -> None:
    """pyqtgraph settles auto-ranges while painting, and a range that changes there costs a
    second paint; ``settle`` applies the change first, so a refresh is one paint."""
    curves, heatmap = TrainingCurvesPlot(), GradientHeatmap()
    counters = {}
    for name, view in (("curves", curves), ("heatmap", heatmap)):
        qtbot.addWidget(view)
        view.resize(800, 300)
        view.show()
        counters[name] = _PaintCounter()
        view.viewport().installEventFilter(counters[name])
    rng = np.random.default_rng(1)
    for n in (100, 200, 400, 800):  # the first refresh also lays out legends and axes
        steps = np.arange(n)
        qtbot.wait(60)
        for counter in counters.values():
            counter.paints = 0
        curves.set_history(steps, rng.random(n), rng.random(n))
        heatmap.set_data(steps, -10 * rng.random((n, 20)))
        settle(curves)
        settle(heatmap)
        qtbot.wait(60)
    assert {name: c.paints for name, c in counters.items()} == {"curves": 1, "heatmap": 1}


def test_curves_say_their_figures_are_per_batch(qtbot) -> None:
    w = TrainingCurvesPlot()
    qtbot.addWidget(w)
    w.set_history(np.arange(1, 11), np.linspace(1, 0.5, 10), np.linspace(0.5, 0.9, 10))
    assert "thin: each step (one minibatch) · thick: moving average" in w.legend_texts()


def test_activation_readout_counts_units_dead_on_every_sample(qtbot) -> None:
    from vg_desktop.snapshot import DatasetFigures

    w = ActivationPlot()
    qtbot.addWidget(w)
    w.set_activation("relu")
    figures = DatasetFigures(0.69, 0.5, 512, np.array([3, 32]), 32, 10, 10)
    w.show_layer(0, np.array([-1.0, 1.0]), 0.5, 0.5, dataset=figures)
    assert "inactive 50.0 % of this batch" in w.info_text()
    assert "dead on every one of the 512 samples: 3 of 32 units" in w.info_text()
    w.show_layer(1, np.array([-1.0, -2.0]), 0.0, 1.0, dataset=figures)
    assert "ALL 32 units dead on every one of the 512 samples" in w.info_text()


def test_curves_draw_the_whole_dataset_as_dots(qtbot) -> None:
    w = TrainingCurvesPlot()
    qtbot.addWidget(w)
    w.set_dataset(np.array([0, 50]), np.array([0.7, 0.5]), np.array([0.5, 0.75]))
    x, y = w.dataset_data()["accuracy"]
    assert list(x) == [0, 50] and list(y) == [50.0, 75.0]
    assert "dots: all samples (evaluation mode)" in w.legend_texts()
    w.set_dataset(None)
    assert "dots: all samples (evaluation mode)" not in w.legend_texts()
