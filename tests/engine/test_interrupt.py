"""Abandoning a pass between layers: how the GUI stops a multi-second step at once."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import Network, NetworkConfig, TrainingInterrupted, make_dataset


@pytest.mark.parametrize("normalization", ["none", "batch"])
def test_interrupt_abandons_the_step_and_leaves_parameters_untouched(normalization):
    x, y = make_dataset("spiral", n=64, seed=0)
    net = Network(NetworkConfig(depth=12, width=8, normalization=normalization))
    before = [{k: v.copy() for k, v in p.items()} for p in net.params]
    calls = []

    def interrupt() -> bool:
        calls.append(1)
        return len(calls) > 5  # part-way through the forward pass

    net.interrupt = interrupt
    with pytest.raises(TrainingInterrupted):
        net.train_step(x, y, learning_rate=0.1)
    assert len(calls) == 6
    for old, new in zip(before, net.params, strict=True):
        for name in old:
            np.testing.assert_array_equal(old[name], new[name])


def test_interrupt_during_the_backward_pass_and_the_evaluation_pass():
    x, y = make_dataset("moons", n=32, seed=1)
    net = Network(NetworkConfig(depth=6, width=8))
    calls = []
    net.interrupt = lambda: calls.append(1) or len(calls) > 8  # 6 forward + 3 backward checks
    with pytest.raises(TrainingInterrupted):
        net.gradients(x, y)
    net.interrupt = lambda: True
    with pytest.raises(TrainingInterrupted):
        net.predict_proba(x)
    net.interrupt = None
    assert np.isfinite(net.gradients(x, y).loss)
