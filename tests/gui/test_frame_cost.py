"""What a frame draws: only the views on screen, and the curves' legend once per change.

A new run's first frame used to draw every history view, those behind other tabs too, and the
curves rebuilt their legend once per setter (up to five times): 100-140 ms of the GUI thread
with A/B at depth 100 (the fuzz test's GUI-answer bound is 200 ms). No test here times anything:
they check what was drawn.
"""

from __future__ import annotations

import numpy as np

from vg_desktop.engine import ExperimentConfig, NetworkConfig
from vg_desktop.plots.training_curves import TrainingCurvesPlot


def test_a_view_behind_another_tab_is_not_drawn_and_is_current_when_its_tab_is_chosen(
    qtbot, window
):
    heatmap_panel = window.docks["heatmap"]
    window.docks["curves"].raise_()
    # At the window's default size the history views share tabs; the curves are in front.
    assert not window._view_on_screen("heatmap") and not window._view_on_screen("dataset")
    drawn_before = window.heatmap.image_shape()
    window.apply_config(ExperimentConfig(network=NetworkConfig(depth=9, width=8)))
    for _ in range(4):
        window.step()
    qtbot.waitUntil(
        lambda: (
            window.run_a.drawn is not None
            and window.run_a.drawn.depth == 9
            and window.run_a.drawn.step == 4
            and window.run_a.drawn.decision is not None
        ),
        timeout=10_000,
    )
    qtbot.wait(100)  # frames go on meanwhile
    assert window.heatmap.image_shape() == drawn_before, "a hidden view was drawn"
    heatmap_panel.raise_()  # no event is processed before the check: drawn as it came forward
    history = window.run_a.history
    assert window._view_on_screen("heatmap")
    assert window.heatmap.image_shape() == (len(history.steps), 9)
    # The data view, likewise: the newest decision regions the moment its tab is chosen.
    assert window._decision_shown is not window.run_a.drawn.decision
    window.docks["dataset"].raise_()
    assert window._decision_shown is window.run_a.drawn.decision
    assert window.dataset_plot.decision_image() is not None


def test_the_data_tab_is_titled_for_the_data_while_behind_another_tab(qtbot, window):
    window.docks["curves"].raise_()
    assert not window._view_on_screen("dataset")
    window.controls.dataset.setCurrentIndex(window.controls.dataset.findData("digits"))
    qtbot.waitUntil(
        lambda: window.run_a.drawn is not None and window.run_a.drawn.config.data.name == "digits",
        timeout=10_000,
    )
    assert window.docks["dataset"].windowTitle() == "Test digits and predictions"


def test_the_curves_legend_is_rebuilt_once_per_change(qtbot):
    curves = TrainingCurvesPlot()
    qtbot.addWidget(curves)
    steps = np.arange(1, 11)
    loss, accuracy = np.linspace(1, 0.5, 10), np.linspace(0.3, 0.9, 10)
    builds = curves.legend_builds
    with curves.batch():  # what a new run's first frame with A/B sets: four legend changes
        curves.set_history(steps, loss, accuracy)
        curves.set_dataset(steps[::5], loss[::5], accuracy[::5])
        curves.set_history_b(steps, loss, accuracy)
        curves.set_run_labels("A: sigmoid + Xavier", "B: ReLU + He")
        curves.set_chance_level(0.5)
    assert curves.legend_builds == builds + 1
    texts = curves.legend_texts()
    assert any(t.startswith("A: sigmoid") for t in texts) and any("guessing" in t for t in texts)
    with curves.batch():  # the next frames: the same state, no rebuild
        curves.set_history(steps, loss, accuracy)
        curves.set_dataset(steps[::5], loss[::5], accuracy[::5])
        curves.set_history_b(steps, loss, accuracy)
        curves.set_chance_level(0.5)
    curves.set_history(steps, loss, accuracy)  # outside a batch: no change, no rebuild
    assert curves.legend_builds == builds + 1
    curves.set_history_b(None)  # outside a batch, a change shows at once
    assert curves.legend_builds == builds + 2
    assert not any(t.startswith("A: sigmoid") for t in curves.legend_texts())


def test_frames_of_a_training_run_do_not_rebuild_the_legend(qtbot, window):
    window.set_compare(True)
    window.play()
    # Until both runs have whole-dataset dots, the legend still gains entries.
    qtbot.waitUntil(
        lambda: all(
            r.drawn is not None and r.drawn.step > 3 and len(r.history.dataset_steps) > 0
            for r in window.runs()
        ),
        timeout=10_000,
    )
    qtbot.wait(300)
    builds, frames = window.curves.legend_builds, window.frames_drawn
    qtbot.waitUntil(lambda: window.frames_drawn >= frames + 5, timeout=10_000)
    window.pause()
    assert window.curves.legend_builds == builds


def test_exporting_a_view_behind_another_tab_exports_current_data(qtbot, window, tmp_path):
    from vg_desktop import files

    window.docks["curves"].raise_()
    assert not window._view_on_screen("heatmap")
    window.apply_config(ExperimentConfig(network=NetworkConfig(depth=6, width=8)))
    for _ in range(3):
        window.step()
    qtbot.waitUntil(
        lambda: window.run_a.drawn is not None and window.run_a.drawn.step == 3, timeout=10_000
    )
    assert window.heatmap.image_shape()[1] != 6  # not drawn while hidden
    assert files.export_to(window, "heatmap", tmp_path / "heatmap.png")
    assert window.heatmap.image_shape() == (len(window.run_a.history.steps), 6)


def test_a_legend_rebuilt_with_many_entries_is_laid_out_once(qtbot):
    from vg_desktop.plots.theme import LIGHT, Swatch, add_entry, make_legend, swatch_size

    legend = make_legend(LIGHT, columns=4)
    before = legend.layouts_done
    with legend.rebuilding():
        legend.clear()
        for k in range(5):
            add_entry(legend, Swatch(lambda p, r: None, swatch_size(LIGHT)), f"entry {k}", "e")
    assert legend.layouts_done == before + 1
    assert [label.text for _, label in legend.items] == [f"entry {k}" for k in range(5)]
    add_entry(legend, Swatch(lambda p, r: None, swatch_size(LIGHT)), "one more")  # at once
    assert legend.layouts_done == before + 2


def test_compare_on_draws_nothing_until_run_b_has_a_snapshot(qtbot, window):
    """Turning Compare A/B on changed nothing drawn, yet drew every view of run A again (40-50
    ms of the click at depth 200); run B's first snapshot is drawn the moment it arrives."""
    frames = window.frames_drawn
    window.set_compare(True)
    assert window.frames_drawn == frames
    qtbot.waitUntil(lambda: window.run_b.drawn is not None, timeout=10_000)
    assert len(window.bars.legend_texts()) > 0
    assert any(t.startswith("B") for t in window.bars.legend_texts())
