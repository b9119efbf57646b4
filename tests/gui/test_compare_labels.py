"""Compare A/B reads at a glance (issue 11, item 8): runs named by their setup everywhere,
fills that differ per run without color, side views that say which run they show."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vg_desktop import health
from vg_desktop.engine import ExperimentConfig
from vg_desktop.run_labels import run_labels, setup_label


def _config(**network) -> ExperimentConfig:
    c = ExperimentConfig()
    return replace(c, network=replace(c.network, **network))


def test_labels_name_activation_and_init_plus_what_differs() -> None:
    a = _config(activation="sigmoid", init="xavier")
    b = _config(activation="relu", init="he")
    assert run_labels(a, b) == {"A": "A: sigmoid + Xavier", "B": "B: ReLU + He"}
    bn = _config(activation="sigmoid", init="xavier", normalization="batch")
    assert run_labels(a, bn)["B"] == "B: sigmoid + Xavier + batch norm"
    assert run_labels(a, bn)["A"] == "A: sigmoid + Xavier + no norm"
    deep = _config(activation="sigmoid", init="xavier", depth=30, residual=True)
    assert run_labels(a, deep)["B"] == "B: sigmoid + Xavier + residual + depth 30"
    assert run_labels(a, a) == {"A": "A: sigmoid + Xavier", "B": "B: sigmoid + Xavier"}
    lr = replace(a, train=replace(a.train, learning_rate=0.5))
    assert run_labels(a, lr)["B"].endswith("lr 0.5")
    assert setup_label(_config(activation="leaky_relu")).startswith("Leaky ReLU")


def _luminance(color) -> float:
    return 0.2126 * color.redF() + 0.7152 * color.greenF() + 0.0722 * color.blueF()


@pytest.mark.parametrize("theme", ["light", "dark", "presentation"])
def test_compare_names_runs_everywhere_and_fills_differ_without_color(qtbot, window, theme):
    window.apply_theme(theme)
    window.resize(1920, 1080)
    window.set_compare(True)
    window.edit_b.setChecked(True)
    b = window.run_b.config
    window.apply_config(replace(b, network=replace(b.network, activation="relu", init="he")))
    window.step()
    qtbot.waitUntil(
        lambda: (
            window.run_b.drawn is not None
            and window.run_b.drawn.config.network.activation == "relu"
            and window.run_a.drawn is not None
            and window.run_a.drawn.step >= 1
            and window.run_b.drawn.step >= 1
        ),
        timeout=10000,
    )
    label_a, label_b = "A: sigmoid + Xavier", "B: ReLU + He"
    assert window.run_labels() == {"A": label_a, "B": label_b}
    legend = window.bars.legend_texts()
    assert any(t.startswith(label_a) for t in legend) and any(t.startswith(label_b) for t in legend)
    curves = window.curves.legend_texts()
    assert any(t.startswith(label_a) for t in curves) and any(t.startswith(label_b) for t in curves)
    for view in (window.bars, window.curves):  # a narrow legend says "A", its tooltip the rest
        assert label_a in view._legend.toolTip() and label_b in view._legend.toolTip()
    qtbot.waitUntil(lambda: label_b in window.status_label.text(), timeout=3000)
    assert label_a in window.status_label.text()
    lines = window.headline.text().splitlines()
    assert lines[0].startswith("A: Layer 1 receives") and lines[1].startswith("B: Layer 1 receives")
    # The side views say which run they show, and one click shows the other.
    from vg_desktop.app import SIDE_VIEWS

    for key in SIDE_VIEWS:
        assert window.docks[key].windowTitle().endswith(f"— {label_b}")
    # A title that shares its row with tools ends in "…" rather than mid-word; the whole
    # title is its tooltip.
    title = window.docks["activation"].title_label
    assert title.full_text().endswith(f"— {label_b}")
    shown = title.text()
    assert shown == title.full_text() or (
        shown.endswith("…") and title.toolTip() == title.full_text()
    )
    assert title.fontMetrics().horizontalAdvance(shown) <= title.width()
    assert window.show_other.isVisible() and window.show_other.text() == "Show run A"
    qtbot.waitUntil(lambda: window.layer_info.text().startswith(f"{label_b} · Layer"), timeout=3000)
    window.show_other.click()
    assert window.showing == "A" and window.editing == "B"  # showing is not editing
    for key in SIDE_VIEWS:
        assert window.docks[key].windowTitle().endswith(f"— {label_a}")
    assert window.activation_plot.activation_name() == "sigmoid"
    qtbot.waitUntil(lambda: window.run_a.drawn is not None, timeout=3000)
    assert window.show_other.text() == "Show run B"
    from PySide6.QtGui import QKeySequence

    assert QKeySequence("Ctrl+Shift+B") in window.show_other_action.shortcuts()
    window.show_other_action.trigger()  # Ctrl+Shift+B
    assert window.showing == "B" and window.activation_plot.activation_name() == "relu"
    # Fills: B is clearly lighter (dark theme: darker) than A for every health code, and its
    # outline dashed: a lightness cue and a pattern cue, not only a hue.
    for code in (health.VANISHING, health.HEALTHY, health.EXPLODING):
        fa, fb = window.bars.run_fill("A", code), window.bars.run_fill("B", code)
        assert abs(_luminance(fa) - _luminance(fb)) >= 0.12, (theme, code, fa.name(), fb.name())
    from PySide6.QtCore import Qt

    assert window.bars._run_pens[1].style() == Qt.PenStyle.DashLine
    assert window.bars._run_pens[0].style() == Qt.PenStyle.SolidLine
    window.set_compare(False)
    assert window.docks["heatmap"].windowTitle() == "Gradient flow over time"
    assert not window.show_other.isVisible()
