"""The network picture draws each unit's shade and each layer's links, and a new step re-sets only
what changed (issue 13: cheap enough not to slow frames; counted here, timed in
``python -m benchmarks.gui --view network``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vg_desktop.engine import ExperimentConfig, NetworkConfig, TrainingRun, get_activation
from vg_desktop.plots.network_picture import MAX_UNITS, SHADES, NetworkPicture, unit_activity
from vg_desktop.plots.theme import DARK
from vg_desktop.snapshot import HistoryChunk, snapshot_from_stats


def _snapshot(depth=6, width=16, activation="sigmoid", steps=3, run_id=1):
    config = replace(
        ExperimentConfig(),
        network=NetworkConfig(depth=depth, width=width, activation=activation, seed=3),
    )
    run = TrainingRun(config)
    for _ in range(steps):
        run.step()
    return snapshot_from_stats(
        run.probe(),
        run_id=run_id,
        step=run.step_count,
        config=config,
        data_x=run.x,
        data_y=run.y,
        history=HistoryChunk.empty(depth),
    )


def _expected_shades(snap) -> np.ndarray:
    """The shades as the picture's rule defines them, written out layer by layer."""
    f = get_activation(snap.config.network.activation).fn
    width = snap.config.network.width
    hidden = np.array(
        [
            np.mean(np.abs(f(np.asarray(u).reshape(-1, width)[:, :MAX_UNITS])), axis=0)
            for u in snap.preactivations
        ]
    )
    shade = np.round(np.clip(hidden / hidden.max(), 0.0, 1.0) * (SHADES - 1)).astype(int)
    n_in, n_out = snap.data_x.shape[1], snap.config.data.n_classes
    return np.concatenate([np.zeros(n_in, int), shade.ravel(), np.zeros(n_out, int)])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "gelu", "elu"])
def test_unit_activity_is_each_layers_mean_absolute_output(activation):
    snap = _snapshot(activation=activation)
    f = get_activation(activation).fn
    got = unit_activity(snap, activation, MAX_UNITS)
    assert got.shape == (snap.depth, MAX_UNITS)
    for layer, u in enumerate(snap.preactivations):
        rows = np.asarray(u).reshape(-1, 16)[:, :MAX_UNITS]
        np.testing.assert_allclose(got[layer], np.mean(np.abs(f(rows)), axis=0), rtol=1e-12)


def test_units_are_drawn_in_their_shades_and_an_unchanged_picture_sets_nothing(qtbot):
    picture = NetworkPicture()
    qtbot.addWidget(picture)
    snap = _snapshot()
    picture.show_snapshot(snap, snap.signal_grad_norms, (-24.0, 2.0), "‖∂L/∂z‖")
    np.testing.assert_array_equal(picture.unit_shades(), _expected_shades(snap))
    first = picture.item_updates
    assert first >= 1
    # The next step with the same shades and link colours: nothing is set again.
    picture.show_snapshot(
        replace(snap, step=snap.step + 1), snap.signal_grad_norms, (-24.0, 2.0), "‖∂L/∂z‖"
    )
    assert picture.item_updates == first
    # One unit of layer 3 goes quiet (sigmoid(-50) = 0: the lightest shade), the busiest unit
    # stays: only that unit's old and new shade items are set again, not the links.
    n_in = snap.data_x.shape[1]
    unit = n_in + 2 * MAX_UNITS  # layer 3's first unit
    old_shade = picture.unit_shades()[unit]
    assert old_shade != 0
    layers = list(snap.preactivations)
    u = np.array(layers[2]).reshape(-1, 16)
    u[:, 0] = -50.0
    layers[2] = u.ravel()
    changed = replace(snap, step=snap.step + 2, preactivations=tuple(layers))
    assert _expected_shades(changed).max() == SHADES - 1  # the scale's top is unchanged
    picture.show_snapshot(changed, snap.signal_grad_norms, (-24.0, 2.0), "‖∂L/∂z‖")
    np.testing.assert_array_equal(picture.unit_shades(), _expected_shades(changed))
    assert picture.unit_shades()[unit] == 0
    assert picture.item_updates == first + 2
    # Other link colours: the links are set again, the units are not.
    before = picture.item_updates
    picture.show_snapshot(
        replace(changed, step=snap.step + 3), changed.signal_grad_norms * 1e-6, (-24.0, 2.0), "x"
    )
    assert picture.item_updates == before + 1
    np.testing.assert_allclose(picture.layer_levels(), np.log10(changed.signal_grad_norms * 1e-6))


def test_a_new_theme_or_shape_redraws_every_unit(qtbot):
    picture = NetworkPicture()
    qtbot.addWidget(picture)
    snap = _snapshot()
    picture.show_snapshot(snap, snap.signal_grad_norms, (-24.0, 2.0), "x")
    before = picture.item_updates
    picture.apply_theme(DARK)
    picture.show_snapshot(snap, snap.signal_grad_norms, (-24.0, 2.0), "x")
    assert picture.item_updates - before >= SHADES + 1  # every shade item and the links
    dark = [item.opts["brush"].color().name() for item in picture._shade_items]
    assert len(set(dark)) == SHADES
    deeper = _snapshot(depth=9, run_id=2)
    picture.show_snapshot(deeper, deeper.signal_grad_norms, (-24.0, 2.0), "x")
    np.testing.assert_array_equal(picture.unit_shades(), _expected_shades(deeper))
    assert picture.layer_levels().size == 9
