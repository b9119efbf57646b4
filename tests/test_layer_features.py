"""The layer features the training process computes for the "Layer features" view: exactly the
engine's unit outputs (or layer-1 weights), for the layer on screen only."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from vg_desktop.engine import DataConfig, ExperimentConfig, NetworkConfig, TrainingRun
from vg_desktop.layer_features import (
    FEATURE_RESOLUTION,
    FEATURE_UNITS,
    layer_features,
    plane_extent,
    sample_digits,
)
from vg_desktop.training_loop import DecisionGridBuilder, TrainingLoop


def test_plane_features_are_the_unit_outputs_over_the_decision_views_extent():
    run = TrainingRun(replace(ExperimentConfig(), network=NetworkConfig(depth=4, width=24)))
    for _ in range(5):
        run.step()
    f = layer_features(run, 3)
    assert (f.kind, f.layer, f.step, f.width) == ("plane", 3, 5, 24)
    assert f.values.shape == (FEATURE_UNITS, FEATURE_RESOLUTION, FEATURE_RESOLUTION)
    assert f.units.tolist() == list(range(1, 17))
    x0, x1, y0, y1 = f.extent
    assert (x0, x1, y0, y1) == plane_extent(run)
    # Point (row i, column j) of unit k is a_3[k] at (xs[j], ys[i]).
    xs, ys = np.linspace(x0, x1, FEATURE_RESOLUTION), np.linspace(y0, y1, FEATURE_RESOLUTION)
    for i, j in [(0, 0), (5, 17), (23, 23)]:
        expected = run.network.unit_outputs(np.array([[xs[j], ys[i]]]), 3)[0, :16]
        np.testing.assert_allclose(f.values[:, i, j], expected, rtol=1e-6)
    narrow = TrainingRun(replace(ExperimentConfig(), network=NetworkConfig(depth=2, width=6)))
    assert layer_features(narrow, 9).layer == 2  # clamped to the depth
    assert layer_features(narrow, 1).values.shape[0] == 6  # all units of a narrow layer


def test_digit_features_are_layer_1_weights_then_outputs_on_sample_digits():
    data = DataConfig().with_dataset("digits")
    run = TrainingRun(ExperimentConfig(network=NetworkConfig(depth=3, width=32), data=data))
    first = layer_features(run, 1)
    assert first.kind == "weights" and first.values.shape == (16, 8, 8)
    np.testing.assert_allclose(
        first.values.reshape(16, 64), run.network.params[0]["W"][:, :16].T, rtol=1e-6
    )
    deeper = layer_features(run, 2)
    samples, labels = sample_digits(run)
    assert deeper.kind == "samples" and labels.tolist() == list(range(10))
    np.testing.assert_allclose(
        deeper.values, run.network.unit_outputs(samples, 2)[:, :16], rtol=1e-6
    )
    np.testing.assert_array_equal(deeper.sample_labels, labels)


def test_the_loop_sends_features_for_the_layer_on_screen_only():
    snapshots = []
    got = threading.Condition()

    def send(kind, *payload):
        if kind == "snapshot":
            with got:
                snapshots.append(payload[0])
                got.notify_all()

    def wait_for(predicate, timeout=20):
        with got:
            assert got.wait_for(lambda: any(predicate(s) for s in snapshots), timeout)

    config = replace(ExperimentConfig(), network=NetworkConfig(depth=5, width=8))
    loop = TrainingLoop(config, send)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        wait_for(lambda s: s.step == 0)
        assert all(s.features is None for s in snapshots)  # no view on screen: none computed
        loop.set_feature_layer(4)
        wait_for(lambda s: s.features is not None and s.features.layer == 4)
        loop.play()
        wait_for(lambda s: s.features is not None and s.features.step >= 50)
        loop.set_feature_layer(2)
        wait_for(lambda s: s.features is not None and s.features.layer == 2 and s.step > 100)
        loop.pause()
    finally:
        loop.request_stop()
        thread.join(10)
    layers = {s.features.layer for s in snapshots if s.features is not None}
    assert layers == {2, 4}


def test_unit_outputs_are_computed_only_while_the_view_is_on_screen_at_the_grids_cadence(
    monkeypatch,
):
    """Counted, not timed: no unit outputs while the view is hidden, and while it is on screen
    at most one computation per finished decision grid (plus one for each layer change)."""
    import vg_desktop.training_loop as training_loop

    counts = {"features": 0, "grids": 0}
    real_features, real_advance = training_loop.layer_features, DecisionGridBuilder.advance

    def counted_features(run, layer):
        counts["features"] += 1
        return real_features(run, layer)

    def counted_advance(self, run):
        grid = real_advance(self, run)
        counts["grids"] += grid is not None
        return grid

    monkeypatch.setattr(training_loop, "layer_features", counted_features)
    monkeypatch.setattr(DecisionGridBuilder, "advance", counted_advance)
    snapshots = []
    got = threading.Condition()

    def send(kind, *payload):
        if kind == "snapshot":
            with got:
                snapshots.append(payload[0])
                got.notify_all()

    def wait_for(predicate, timeout=30):
        with got:
            assert got.wait_for(predicate, timeout)

    config = replace(ExperimentConfig(), network=NetworkConfig(depth=4, width=8))
    loop = TrainingLoop(config, send)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        loop.play()
        wait_for(lambda: counts["grids"] >= 3)  # hidden: grids finish, no unit outputs
        assert counts["features"] == 0
        grids_shown = counts["grids"]
        loop.set_feature_layer(3)
        wait_for(lambda: counts["grids"] >= grids_shown + 3)
        shown = counts["features"]
        assert 1 <= shown <= counts["grids"] - grids_shown + 1
        loop.set_feature_layer(None)  # hidden again
        grids_hidden = counts["grids"]
        wait_for(lambda: counts["grids"] >= grids_hidden + 3)
        assert counts["features"] <= shown + 1  # at most the one under way when it was hidden
        loop.pause()
    finally:
        loop.request_stop()
        thread.join(10)
