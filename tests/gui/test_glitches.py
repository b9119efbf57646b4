"""The glitches a new teacher found (issue 11), each pinned by a test that fails if it returns."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QFontMetricsF

from vg_desktop.plots import GradientBarsPlot, configure_pyqtgraph

configure_pyqtgraph()


def _layer_ticks(axis, n: int, size: float) -> list[int]:
    axis.n_layers = n
    levels = axis.tickValues(0.5, n + 0.5, size)
    return [round(v) for v in levels[0][1]] if levels else []


@pytest.mark.parametrize("size", [120, 200, 330, 480, 640, 900, 1500])
def test_layer_ticks_count_evenly_from_layer_one(qtbot, size) -> None:
    """Ticks read 1, 3, 5 … or 1, 5, 10 …, never "1, 4, 6": after layer 1 they step evenly,
    and the first gap is never wider than the step (only the last, at n, may be narrower, and
    only among round numbers: "… 15, 17, 20" reads as a missing label)."""
    bars = GradientBarsPlot()
    qtbot.addWidget(bars)
    axis = bars._bottom_axis
    metrics = QFontMetricsF(axis.style["tickFont"] or axis.font())
    label_px = metrics.horizontalAdvance("000") + 10
    for n in range(2, 201):
        ticks = _layer_ticks(axis, n, size)
        assert ticks == sorted(ticks) and ticks[-1] == n, (n, ticks)
        px = size / n
        gaps = np.diff(ticks)
        assert np.all(gaps * px >= label_px - 1e-6), (n, size, ticks)  # no two labels overlap
        body = ticks[:-1]  # the ticks before the last one (n)
        if len(body) >= 3:
            step = body[2] - body[1]
            assert body[0] == 1, (n, size, ticks)
            assert body[1] - body[0] <= step, f"depth {n} at {size} px: {ticks}"
            assert np.all(np.diff(body[1:]) == step), f"depth {n} at {size} px: {ticks}"
            if step <= 2:  # counting by 2, never "… 15, 17, 20": the last gap is a step too
                assert ticks[-1] - body[-1] == step, f"depth {n} at {size} px: {ticks}"


def test_ctrl_q_quits(qtbot, window) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence

    assert QKeySequence("Ctrl+Q") in window.quit_action.shortcuts()
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    assert window.controller.is_finished()


def _with_depth(config, depth):
    from dataclasses import replace

    return replace(config, network=replace(config.network, depth=depth))


def test_heatmap_follows_a_lesson_that_sets_fewer_layers(qtbot, window) -> None:
    window.docks["heatmap"].raise_()  # views behind another tab are drawn when they come forward
    window.apply_config(_with_depth(window.controller.config, 30))
    for _ in range(3):
        window.step()
    qtbot.waitUntil(
        lambda: (
            window.run_a.drawn is not None
            and window.run_a.drawn.depth == 30
            and window.heatmap.image_shape()[1] == 30
        ),
        timeout=8000,
    )
    assert window.heatmap.layer_range() == (0.5, 30.5)
    window.apply_config(_with_depth(window.controller.config, 20))  # as "Set up" does: no Play
    qtbot.waitUntil(
        lambda: window.run_a.drawn is not None and window.run_a.drawn.depth == 20, timeout=8000
    )
    qtbot.waitUntil(lambda: window.heatmap.layer_range() == (0.5, 20.5), timeout=3000)
    assert window.heatmap._layer_axis.n_layers == 20


def _luminance(rgb) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(v)) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _pixels(widget, rect=None) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = widget.grab(rect) if rect is not None else widget.grab()
    image = image.toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).astype(float)


@pytest.mark.parametrize("theme", ["dark", "light", "presentation"])
def test_an_empty_check_box_and_a_pressed_play_stand_out(qtbot, window, theme) -> None:
    """WCAG asks 3:1 for the outline of a control; the dark theme's empty boxes had ~1.2:1."""
    from PySide6.QtWidgets import QStyle, QStyleOptionButton

    window.apply_theme(theme)
    box = window.overlay  # on screen in simple mode too
    box.setChecked(False)
    assert box.isVisible()
    option = QStyleOptionButton()
    option.initFrom(box)
    indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    pixels = _pixels(box, indicator).reshape(-1, 3)
    background = box.palette().color(box.backgroundRole())
    bg = (background.red(), background.green(), background.blue())
    assert max(_contrast(p, bg) for p in pixels) >= 3.0

    play = window.controls.play_button
    window.pause()
    play.setChecked(False)
    off = _pixels(play).mean(axis=(0, 1))
    play.setChecked(True)
    on = _pixels(play).mean(axis=(0, 1))
    play.setChecked(False)
    assert np.abs(on - off).max() >= 25, (off, on)  # pressed is visibly different


def test_check_boxes_grow_with_presentation_type(qtbot, window) -> None:
    from PySide6.QtWidgets import QStyle

    def side() -> int:
        box = window.overlay
        return box.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, box)

    window.apply_theme("light")
    small = side()
    window.apply_theme("presentation")
    qtbot.waitUntil(lambda: side() >= small * 1.25, timeout=2000)  # fonts arrive by event
    window.apply_theme("light")
    qtbot.waitUntil(lambda: side() == small, timeout=2000)


@pytest.mark.parametrize("theme_name", ["light", "presentation"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "gelu"])
def test_peak_label_never_overlaps_a_curve_nor_is_clipped(qtbot, theme_name, activation) -> None:
    from dataclasses import replace

    from PySide6.QtCore import QPointF

    from vg_desktop.engine import get_activation
    from vg_desktop.plots import THEMES, ActivationPlot
    from vg_desktop.plots.activation_plot import X_RANGE

    plot = ActivationPlot()
    qtbot.addWidget(plot)
    plot.show()
    act = get_activation(activation)
    shown = 0
    for zoom in (1.0, 1.6, 2.2):  # View > Zoom In scales every font
        base = THEMES[theme_name]
        theme = replace(
            base,
            **{k: round(getattr(base, k) * zoom) for k in ("tick_font_pt", "legend_font_pt")},
        )
        plot.apply_theme(theme)
        plot.set_activation(activation)
        for w, h in ((240, 200), (330, 260), (420, 330), (640, 420)):
            plot.resize(w, h)
            qtbot.waitUntil(lambda w=w: plot.width() == w, timeout=1000)
            rect = plot.peak_label_rect()
            if rect is None:
                continue
            shown += 1
            vb = plot._vb
            assert vb.sceneBoundingRect().contains(rect), (zoom, w, h)  # never clipped
            xs = np.linspace(*X_RANGE, 641)
            inner = rect.adjusted(2, 2, -2, -2)
            for ys in (act.fn(xs), act.grad(xs)):
                for x, y in zip(xs, ys, strict=True):
                    assert not inner.contains(vb.mapViewToScene(QPointF(x, y))), (zoom, w, h, x)
    assert shown >= 4  # it shows at usual sizes


# ---------------------------------------------------------------- decision regions (item 10)
@pytest.mark.parametrize("size", [(900, 200), (300, 520), (500, 400)])
def test_decision_regions_fill_a_fixed_view_around_the_data(qtbot, size) -> None:
    """The background covers the whole plot area, whatever the dock's shape, and the axes stay
    at the data's box plus a margin (a short dock stretched them to ±20 around a small box)."""
    from vg_desktop.engine import make_dataset
    from vg_desktop.plots import DatasetPlot
    from vg_desktop.plots.dataset_plot import GRID_MARGIN, POINT_ALPHA, point_size
    from vg_desktop.snapshot import DecisionGrid
    from vg_desktop.training_loop import DECISION_RESOLUTION

    plot = DatasetPlot()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    x, y = make_dataset("moons", n=512, noise=0.1, seed=0)
    plot.set_data(x, y)
    lo, hi = x.min(axis=0) - GRID_MARGIN, x.max(axis=0) + GRID_MARGIN
    # The grid as the training loop builds it (DecisionGridBuilder): the data's box ± 0.5.
    xs = np.linspace(lo[0], hi[0], DECISION_RESOLUTION)
    ys = np.linspace(lo[1], hi[1], DECISION_RESOLUTION)
    shape = (DECISION_RESOLUTION, DECISION_RESOLUTION)
    plot.show_decision(DecisionGrid(xs, ys, np.zeros(shape, int), np.full(shape, 0.9)))
    qtbot.wait(50)
    (x0, x1), (y0, y1) = plot._vb.viewRange()
    image = plot._image.mapRectToView(plot._image.boundingRect())
    assert image.left() <= x0 + 1e-9 and image.right() >= x1 - 1e-9, (image, x0, x1)
    assert image.top() <= y0 + 1e-9 and image.bottom() >= y1 - 1e-9, (image, y0, y1)
    span = hi - lo
    assert x1 - x0 <= span[0] * 1.1 and y1 - y0 <= span[1] * 1.1  # no ±20 axes
    scatter = plot._scatters[0]
    assert scatter.opts["size"] == point_size(plot._theme) <= 8
    assert scatter.opts["brush"].color().alphaF() == pytest.approx(POINT_ALPHA, abs=0.01)


def _text_rows(widget, height: int) -> int:
    """Rows of the top ``height`` pixels of ``widget`` that hold dark (text) pixels."""
    from PySide6.QtCore import QRect

    pixels = _pixels(widget, QRect(0, 0, min(widget.width(), 300), height))
    return int(np.count_nonzero((pixels.max(axis=2) < 90).any(axis=1)))


def test_panel_titles_grow_with_presentation_type(qtbot, window) -> None:
    title = window.docks["activation"].title_label  # the panel's title (it was a dock's)
    window.apply_theme("light")
    qtbot.wait(50)
    light = _text_rows(title, 40)
    window.apply_theme("presentation")
    qtbot.waitUntil(lambda: _text_rows(title, 40) >= 1.25 * light, timeout=3000)
    window.apply_theme("light")
    qtbot.waitUntil(lambda: _text_rows(title, 40) == light, timeout=3000)


@pytest.mark.parametrize("theme_name", ["light", "presentation"])
def test_the_bars_axis_title_never_runs_past_the_plot(qtbot, theme_name) -> None:
    """The y title is shortened when the plot is too short for it, as drawn (not as measured)."""
    from PySide6.QtWidgets import QApplication

    from vg_desktop.plots import THEMES

    bars = GradientBarsPlot(theme=THEMES[theme_name])
    qtbot.addWidget(bars)
    bars.show()
    for height in range(300, 700, 3):  # steps finer than the few pixels of overflow
        bars.resize(500, height)
        qtbot.waitUntil(lambda h=height: bars.height() == h, timeout=1000)
        QApplication.processEvents()
        if bars._vb.height() < 220:  # below the bars' minimum plot height (layout rules)
            continue
        drawn = bars._left_axis.label.boundingRect().width()
        assert drawn <= bars._vb.height() + 2, (height, bars._left_axis.labelText)
