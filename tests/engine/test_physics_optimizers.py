"""What Adam does to a vanishing gradient (the physics behind the lesson "Does Adam fix it?").

Adam divides each parameter's step by √v̂ + ε (ε = 1e-8): a gradient entry well above ε gets a
step of about the learning rate whatever its size (a factor |g| / (|g| + ε) of it), one far
below ε gets about lr·g/ε. In a sigmoid stack of depth 10 layer 1's gradient entries are still
of the order of ε or above (RMS 1.2-4.3e-8), so its update ratio ‖ΔW‖/‖W‖ recovers to that of
the last hidden layer; at depth 30 they are ~1e-20, and layer 1 moves about 1e-12 as much as
the last layer. Measured at the app's settings (spiral, width 32,
Xavier, batch 64) with Adam at lr 0.01, for three network seeds.

At the app's default learning rate of 0.1, Adam recovers layer 1 of depth 10 only at first:
the large steps saturate the sigmoids, layer 1's gradient falls below ε, and its update ratio
drops to ~1e-3 of the last layer's within 200 steps (measured); hence lr 0.01 here and in the
lesson.
"""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import ExperimentConfig, NetworkConfig, TrainConfig, TrainingRun
from vg_desktop.engine.optimizers import OPTIMIZER_EPS

STEPS = 200
SEEDS = (0, 1, 2)


def _ratios(depth: int, seed: int) -> tuple[np.ndarray, list]:
    """Layer 1's update ratio over the last hidden layer's, per step; and step 1's stats."""
    config = ExperimentConfig(
        network=NetworkConfig(depth=depth, activation="sigmoid", seed=seed),
        train=TrainConfig(learning_rate=0.01, optimizer="adam"),
    )
    run = TrainingRun(config)
    ratios, first = [], None
    for _ in range(STEPS):
        stats = run.step()
        first = first or stats
        ratios.append(stats.update_ratios[0] / stats.update_ratios[depth - 1])
    return np.array(ratios), first


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_recovers_layer_1_of_a_depth_10_sigmoid_stack(seed):
    """Depth 10: layer 1's update ratio within 10x of the last hidden layer's at the first step
    (measured 0.31-0.55) and over training (median of 200 steps: 1.4-2.2; single steps swing
    further, 0.13-24, as the last layer's averaged gradient changes direction)."""
    ratios, first = _ratios(10, seed)
    assert 0.1 < ratios[0] < 10
    assert 0.1 < np.median(ratios) < 10
    # Why: layer 1's gradient entries are above ε (RMS 1.2-4.3e-8), so Adam's step is at least
    # about half of full size.
    rms_entry = first.weight_grad_norms[0] / np.sqrt(2 * 32)
    assert rms_entry > OPTIMIZER_EPS


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_cannot_recover_layer_1_of_a_depth_30_sigmoid_stack(seed):
    """Depth 30: below 1e-4 of the last layer's at every one of 200 steps (measured at most
    1.1e-11), because the gradient entries are ~1e-20 (RMS), far below ε: the step is lr·g/ε."""
    ratios, first = _ratios(30, seed)
    assert ratios.max() < 1e-4
    rms_entry = first.weight_grad_norms[0] / np.sqrt(2 * 32)
    assert rms_entry < 1e-6 * OPTIMIZER_EPS
    # At the first step m̂ = g and √v̂ = |g|, so ΔW = lr·g/(|g| + ε) ≈ lr·g/ε: ε decides.
    step = first.update_ratios[0] * first.weight_norms[0]
    assert step == pytest.approx(0.01 * first.weight_grad_norms[0] / OPTIMIZER_EPS, rel=1e-6)
