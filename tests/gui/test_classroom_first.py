"""Classroom-first defaults and clarity (issue 11, item 7): pace, simple mode, headline,
threshold lines that move with the bars."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop import health
from vg_desktop.plots import GradientBarsPlot, configure_pyqtgraph

configure_pyqtgraph()


@pytest.fixture
def bars(qtbot) -> GradientBarsPlot:
    w = GradientBarsPlot()
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    return w


def _check_colors_against_lines(bars: GradientBarsPlot) -> None:
    lo_line, hi_line = bars.threshold_lines()
    heights, codes = bars.heights(), bars.health()
    ref = len(heights) - 1
    assert lo_line == pytest.approx(heights[ref] - 2, abs=1e-9)  # drawn from the bar as shown
    for i, (h, code) in enumerate(zip(heights, codes, strict=True)):
        if i == ref:
            continue
        if h <= lo_line - 1e-9:
            assert code == health.VANISHING, (i, h, lo_line)
        elif h >= hi_line + 1e-9:
            assert code == health.EXPLODING, (i, h, hi_line)
        elif lo_line + 1e-9 < h < hi_line - 1e-9:
            assert code == health.HEALTHY, (i, h, lo_line, hi_line)


def test_threshold_lines_move_with_the_bars_and_colors_agree_with_them(bars) -> None:
    rng = np.random.default_rng(1)
    first = np.logspace(-9, -1, 12)
    bars.show_values(first)
    while bars.advance_animation():
        _check_colors_against_lines(bars)
    np.testing.assert_array_equal(bars.health(), health.classify(first, "signal"))
    for _ in range(6):  # the last layer jumps by decades, as after a rebuild or a quantity switch
        values = first * 10.0 ** rng.uniform(-3, 3, first.size)
        values[-1] = 10.0 ** rng.uniform(-8, 0)
        bars.show_values(values)
        frames = 0
        while bars.advance_animation():
            frames += 1
            _check_colors_against_lines(bars)
        assert frames > 2  # it did animate
        _check_colors_against_lines(bars)
        np.testing.assert_array_equal(bars.health(), health.classify(values, "signal"))


# ---------------------------------------------------------------- the real window
def test_default_pace_can_be_talked_over_and_maximum_stays(qtbot, window) -> None:
    import time

    from vg_desktop.widgets.controls import DEFAULT_SPEED

    speed = window.controls.speed
    assert speed.currentData() == DEFAULT_SPEED == 10
    assert speed.findData(None) >= 0 and speed.itemText(speed.findData(None)) == "Maximum"
    start = window.run_a.latest.step
    started = time.perf_counter()
    window.play()
    qtbot.wait(1500)
    snap = window.run_a.latest
    elapsed = time.perf_counter() - started
    window.pause()
    # 30 frames per second × 10 steps: at most 300 steps/s (Maximum ran ~1,500 here).
    assert snap.step - start <= 300 * elapsed * 1.15 + 20, (snap.step, elapsed)
    assert snap.step - start >= 30  # and it does train


def test_simple_mode_by_default_hides_advanced_settings_and_is_remembered(qtbot, window):
    from vg_desktop.app import MainWindow
    from vg_desktop.widgets.controls import ADVANCED

    controls = window.controls
    shown = controls.visible_settings()
    assert not controls.is_advanced()
    assert not any(name in shown for name in ADVANCED), shown
    for name in ("Depth", "Activation", "Normalization", "Residual connections", "Speed"):
        assert name in shown
    assert not window.lock_axis.isVisible()
    update = window.quantity.findData("update")
    assert window.quantity.view().isRowHidden(update)
    assert "vanishing: ≤ 1/100 of last hidden" not in window.bars.legend_texts()  # plain words

    window.advanced_action.trigger()  # View › Advanced Controls: one switch
    assert controls.is_advanced() and controls.advanced.isChecked()
    shown = controls.visible_settings()
    assert all(name in shown for name in ADVANCED), shown
    assert window.lock_axis.isVisible() and not window.quantity.view().isRowHidden(update)
    assert window.bars.legend_texts()[0] in ("vanishing: ≤ 1/100 of last hidden", "vanishing")

    second = MainWindow(settings=window.settings)  # the next start remembers the choice
    qtbot.addWidget(second)
    try:
        assert second.controls.is_advanced() and second.advanced_action.isChecked()
        second.controls.advanced.setChecked(False)  # the switch in the panel does the same
        assert not second.advanced_action.isChecked()
        assert window.settings.text("view/advanced", "") == "simple"
    finally:
        second.close()


def test_plain_legend_keeps_the_precise_rules_in_its_tooltip(bars) -> None:
    bars.set_plain_language(True)
    bars.show_values(np.logspace(-9, -1, 12))
    tip = bars._legend.toolTip()
    assert "vanishing: ≤ 1/100 of last hidden" in tip and "exploding: ≥ 100× last hidden" in tip
    bars.resize(1600, 500)
    bars._legend.fit_width(1400)
    assert "vanishing: 100× weaker than the last layer" in bars.legend_texts()


def test_headline_states_the_finding_of_the_drawn_snapshot(qtbot, window) -> None:
    from vg_desktop.findings import headline

    window.step()
    qtbot.waitUntil(
        lambda: window.run_a.drawn is not None and window.run_a.drawn.step == 1, timeout=8000
    )
    snap = window.run_a.drawn
    expected = headline(snap.signal_grad_norms, "signal")
    qtbot.waitUntil(lambda: window.headline.text() == expected, timeout=3000)
    assert expected.startswith("Layer 1 receives about ") and expected.endswith("vanishing")
    assert window.headline.isVisible()
    window.set_quantity("weight")
    qtbot.waitUntil(
        lambda: window.headline.text() == headline(window.run_a.drawn.weight_grad_norms, "weight"),
        timeout=3000,
    )


def test_simple_mode_shows_an_advanced_setting_a_lesson_changed(qtbot, window) -> None:
    """The exploding-gradient step doubles the gain and asks to set it back: the gain shows."""
    from dataclasses import replace

    assert "Gain" not in window.controls.visible_settings()
    c = window.controller.config
    window.apply_config(replace(c, network=replace(c.network, init_gain=2.0)))
    assert not window.controls.is_advanced()
    assert "Gain" in window.controls.visible_settings()
    assert "Precision" not in window.controls.visible_settings()
    window.apply_config(c)
    assert "Gain" not in window.controls.visible_settings()
