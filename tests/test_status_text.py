"""The status bar's sentence: whole-dataset figures first, the batch's labelled as such."""

from __future__ import annotations

import numpy as np

from vg_desktop.engine import DataConfig, ExperimentConfig, NetworkConfig, TrainingRun
from vg_desktop.snapshot import DatasetFigures, HistoryChunk, snapshot_from_stats
from vg_desktop.status_text import layer_list, run_status


def _snapshot(config: ExperimentConfig, step_of_figures: int | None = 0, playing=False):
    run = TrainingRun(config)
    stats = run.probe()
    figures = None
    if step_of_figures is not None:
        evaluation = run.network.evaluate_dataset(run.x, run.y)
        figures = DatasetFigures.of(evaluation, step_of_figures, step_of_figures)
    return snapshot_from_stats(
        stats,
        run_id=1,
        step=0,
        config=config,
        data_x=run.x,
        data_y=run.y,
        history=HistoryChunk.empty(config.network.depth),
        dataset=figures,
        playing=playing,
        steps_per_second=500.0,
    )


def test_status_names_whole_dataset_and_batch_figures_and_all_dead_layers():
    config = ExperimentConfig(
        network=NetworkConfig(depth=30, width=2, activation="relu", init="he", seed=0),
        data=DataConfig(seed=0),
    )
    snap = _snapshot(config)
    text = run_status(snap)
    d = snap.dataset
    assert text.startswith(
        f"Step 0  ·  all 512 samples: loss {d.loss:.4f}, accuracy {d.accuracy:.1%}"
        f"  ·  this batch: loss {snap.loss:.4f}, accuracy {snap.accuracy:.1%}"
    )
    first = int(d.all_dead_layers[0]) + 1
    assert f"layers {first}–30 all dead on every sample" in text
    assert text.endswith("paused")


def test_status_before_the_first_pass_and_with_older_figures():
    config = ExperimentConfig(network=NetworkConfig(depth=4))
    assert "all 512 samples" not in run_status(_snapshot(config, None))
    assert "this batch: loss" in run_status(_snapshot(config, None))
    older = _snapshot(config, 0)
    older = type(older)(**{**older.__dict__, "step": 40})
    assert "all 512 samples (step 0): loss" in run_status(older)
    assert "all dead" not in run_status(older)


def test_layer_list():
    assert layer_list(np.array([3])) == "layer 4"
    assert layer_list(np.array([3, 4, 5])) == "layers 4–6"
    assert layer_list(np.array([1, 4, 8])) == "layers 2, 5, 9"


def test_dead_layers_take_the_headline_from_the_vanishing_story():
    from vg_desktop.status_text import dead_headline

    dead = _snapshot(
        ExperimentConfig(
            network=NetworkConfig(depth=30, width=2, activation="relu", init="he", seed=0),
            data=DataConfig(seed=0),
        )
    )
    first = int(dead.dataset.all_dead_layers[0]) + 1
    assert dead_headline(dead) == (
        f"Layers {first}–30 are dead on every sample — dead units, not a vanishing product"
    )
    assert dead_headline(_snapshot(ExperimentConfig())) == ""


def test_saturated_sigmoid_layers_are_not_called_dead_units():
    """A sigmoid unit saturated on every sample still passes σ′ > 0: its layer may be named as
    saturated, but the zero-gradient story ('dead units, not a vanishing product') is ReLU's.
    Lesson 01's depth-200 residual sigmoid network has 35 such layers."""
    from vg_desktop.lessons import builtin_lessons, load_lesson
    from vg_desktop.status_text import dead_headline

    story = load_lesson(builtin_lessons()[0])
    step = next(s for s in story.steps if s.id == "residual-stream")
    snap = _snapshot(step.settings)
    assert snap.dataset.all_dead_layers.size > 0
    assert "all saturated on every sample" in run_status(snap)
    assert dead_headline(snap) == ""
