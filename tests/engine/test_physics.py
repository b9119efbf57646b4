"""The qualitative physics the app teaches, measured at depth 30, width 32, on the spiral (n=256).

Thresholds are far from the measured values (see the comments) so that they test the
phenomenon, not a particular floating-point history.
"""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    Network,
    NetworkConfig,
    TrainConfig,
    TrainingRun,
    make_dataset,
)

DEPTH, WIDTH = 30, 32


@pytest.fixture(scope="module")
def spiral():
    return make_dataset("spiral", n=256, noise=0.1, seed=0)


def measure(spiral, **settings):
    x, y = spiral
    cfg = NetworkConfig(depth=DEPTH, width=WIDTH, seed=0, **settings)
    return Network(cfg, n_inputs=2, n_classes=2).gradients(x, y)


@pytest.fixture(scope="module")
def plain_sigmoid(spiral):
    return measure(spiral, activation="sigmoid", init="xavier")


def test_sigmoid_signal_vanishes_toward_the_input(plain_sigmoid):
    signal = plain_sigmoid.signal_grad_norms
    assert signal.shape == (DEPTH,)
    assert np.all(signal > 0)
    # Measured ≈ 6e-19: each layer pays its mean σ′ (≤ 0.25) times the weight gain.
    assert signal[0] / signal[-1] < 1e-6
    # The decay is steady, not one bad layer: every third of the stack loses an order or more.
    thirds = signal[[0, 10, 20, 29]]
    assert np.all(thirds[:-1] / thirds[1:] < 0.1)


def test_sigmoid_mean_derivative_never_exceeds_a_quarter(plain_sigmoid):
    factors = plain_sigmoid.mean_derivatives
    assert np.all(factors <= 0.25)
    assert np.all(factors > 0.15)  # xavier keeps u near 0, where σ′ ≈ 0.2–0.25


def test_relu_with_he_init_keeps_the_signal_within_an_order_of_magnitude(spiral):
    signal = measure(spiral, activation="relu", init="he").signal_grad_norms
    assert 0.1 < signal[0] / signal[-1] < 10  # measured ≈ 0.24


@pytest.mark.parametrize(
    "cure", [{"normalization": "batch"}, {"residual": True}], ids=["batch-norm", "residual"]
)
def test_batch_norm_and_residual_lift_the_first_layer_signal(spiral, plain_sigmoid, cure):
    cured = measure(spiral, activation="sigmoid", init="xavier", **cure)
    lift = cured.signal_grad_norms[0] / plain_sigmoid.signal_grad_norms[0]
    assert lift >= 1e4  # measured ≈ 1e21 (batch norm) and ≈ 3e18 (residual)
    # And the cure leaves layer 1 within a few orders of the last hidden layer.
    ratio = cured.signal_grad_norms[0] / cured.signal_grad_norms[-1]
    assert 1e-3 < ratio < 1e4


def test_chain_rule_prediction_tracks_the_measurement_for_plain_sigmoid(plain_sigmoid):
    predicted = plain_sigmoid.predicted_signal_norms
    measured = plain_sigmoid.signal_grad_norms
    assert predicted.shape == (DEPTH,)
    assert predicted[-1] == measured[-1]  # the prediction starts from the measured top layer
    assert np.all(np.abs(np.log10(predicted / measured)) < 1.0)  # measured within ±0.3


def test_chain_rule_prediction_is_the_product_of_the_documented_factors(plain_sigmoid, spiral):
    """pred_l = pred_(l+1) · RMS f′(u_l) · ‖W_(l+1)‖_F / sqrt(width), from the top down."""
    s = plain_sigmoid
    gains = s.weight_norms[1:DEPTH] / np.sqrt(WIDTH)
    expected = np.empty(DEPTH)
    expected[-1] = s.signal_grad_norms[-1]
    for layer in range(DEPTH - 2, -1, -1):
        expected[layer] = expected[layer + 1] * s.rms_derivatives[layer] * gains[layer]
    np.testing.assert_allclose(s.predicted_signal_norms, expected, rtol=1e-10)


# Estimate ÷ measurement at layer 1, seeds 0/1/2, spiral n = 256 (whole batch), measured with
# RMS f′: ReLU + He depth 20 → 2.0–2.6, depth 30 → 1.4–5.6, depth 30 width 64 → 0.74–0.90;
# GELU + He depth 20 → 0.24–0.53; sigmoid N(0, 1) width 256 → 1.0–1.2; tanh + Xavier depth 30
# → 0.76–1.35; sigmoid + Xavier depth 30 → 0.90–1.5. With the mean of f′ (the old estimate)
# ReLU + He depth 20 gave 2e-3 to 5e-3 and sigmoid N(0, 1) width 256 about 1e-6.
PLAIN_STACKS = {
    "relu-he-20": dict(activation="relu", init="he", depth=20, width=32),
    "relu-he-30": dict(activation="relu", init="he", depth=30, width=32),
    "relu-he-30-w64": dict(activation="relu", init="he", depth=30, width=64),
    "gelu-he-20": dict(activation="gelu", init="he", depth=20, width=32),
    "sigmoid-normal-w256": dict(activation="sigmoid", init="normal", depth=30, width=256),
    "tanh-xavier-30": dict(activation="tanh", init="xavier", depth=30, width=32),
    "sigmoid-xavier-30": dict(activation="sigmoid", init="xavier", depth=30, width=32),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("stack", list(PLAIN_STACKS))
def test_chain_rule_estimate_lands_within_10x_of_layer_1_on_plain_stacks(spiral, stack, seed):
    x, y = spiral
    s = Network(NetworkConfig(seed=seed, **PLAIN_STACKS[stack])).gradients(x, y)
    ratio = s.predicted_signal_norms[0] / s.signal_grad_norms[0]
    assert 0.1 < ratio < 10, ratio
    # The mean of f′ misses ReLU's by far: it predicts a vanishing the network does not have.
    if stack == "relu-he-20":
        gains = s.weight_norms[1:-1] / np.sqrt(s.preactivations[0].shape[1])
        with_mean = s.signal_grad_norms[-1] * np.prod(s.mean_derivatives[:-1] * gains)
        assert with_mean / s.signal_grad_norms[0] < 0.02  # measured 2e-3 to 5e-3


@pytest.mark.parametrize(
    ("normalization", "residual"), [("batch", False), ("layer", False), ("none", True)]
)
def test_chain_rule_model_note_names_what_the_estimate_leaves_out(normalization, residual):
    from vg_desktop.engine import chain_rule_model_note

    assert chain_rule_model_note("none", False) == ""
    note = chain_rule_model_note(normalization, residual)
    assert note.startswith("Chain-rule estimate not shown")
    assert ("residual" in note) == residual and (normalization in note) == (normalization != "none")


@pytest.mark.parametrize(
    ("width", "low", "high"),
    [(16, 0.0, 1e-5), (256, 1.0, np.inf)],  # measured ≈ 5e-8 and ≈ 230
)
def test_sigmoid_with_unit_normal_weights_vanishes_narrow_and_explodes_wide(width, low, high):
    """DESIGN.md: with N(0, 1) weights the outcome depends on width as well as depth
    (layer-1 / output weight-gradient ratio at depth 30). 64 samples keep width 256 fast."""
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    cfg = NetworkConfig(depth=DEPTH, width=width, activation="sigmoid", init="normal", seed=0)
    grads = Network(cfg).gradients(x, y).weight_grad_norms
    assert low < grads[0] / grads[-1] < high


def test_residual_relu_stack_with_he_init_diverges_without_raising():
    """Unscaled residual ReLU stacks blow up within a few SGD steps: a lesson, not a crash."""
    config = ExperimentConfig(
        network=NetworkConfig(
            depth=DEPTH, width=WIDTH, activation="relu", init="he", residual=True
        ),
        data=DataConfig(n_samples=256),
        train=TrainConfig(learning_rate=0.1, batch_size=64),
    )
    run = TrainingRun(config)
    first = run.step()
    assert first.finite
    finite = [run.step().finite for _ in range(20)]
    assert not all(finite)  # measured: diverges at step 3


# Batch norm at initialization (Yang et al. 2019, "A Mean Field Theory of Batch Normalization"):
# in deep plain stacks it makes the back-propagated signal *grow* toward the input. Measured
# ‖dz₁‖ / ‖dz_L‖ on the frame the app shows at step 0 (TrainingRun.probe: default data, spiral
# n = 512, batch 64, width 32), seeds 0 / 1 / 2:
#   sigmoid + Xavier + BN, depth 20:   128, 52, 71
#   sigmoid + Xavier + BN, depth 30:   207, 198, 203
#   sigmoid + Xavier + BN, depth 100:  7.6e3, 3.1e3, 3.0e3
#   ReLU + He + BN, depth 50:          6.4e4, 2.4e5, 4.3e4
# (after the first SGD step: 140/83/115, 146/164/167, 2.9e3/3.7e3/2.7e3, 3.8e4/1.3e5/5.2e4).
# The bounds below are about 2.5× outside the measured spread on either side.
BN_EXPLOSION = {
    "sigmoid-20": (dict(activation="sigmoid", init="xavier", depth=20), 20, 400),
    "sigmoid-30": (dict(activation="sigmoid", init="xavier", depth=30), 60, 800),
    "sigmoid-100": (dict(activation="sigmoid", init="xavier", depth=100), 1e3, 2e4),
    "relu-he-50": (dict(activation="relu", init="he", depth=50), 1.5e4, 6e5),
}


def _step0_ratio(seed: int, **network) -> float:
    config = ExperimentConfig(
        network=NetworkConfig(seed=seed, width=32, **network), data=DataConfig(seed=seed)
    )
    s = TrainingRun(config).probe()
    return float(s.signal_grad_norms[0] / s.signal_grad_norms[-1])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", list(BN_EXPLOSION))
def test_batch_norm_makes_the_signal_explode_toward_the_input_at_initialization(case, seed):
    network, low, high = BN_EXPLOSION[case]
    ratio = _step0_ratio(seed, normalization="batch", **network)
    assert low < ratio < high, ratio


def test_batch_norm_explosion_grows_with_depth_and_is_batch_norms_doing():
    """Deeper sigmoid + BN stacks explode more; the same ReLU + He stack without BN does not
    (measured ‖dz₁‖ / ‖dz_L‖ = 0.047 / 0.15 / 0.097 for seeds 0 / 1 / 2 without it)."""
    ratios = [
        _step0_ratio(0, normalization="batch", activation="sigmoid", init="xavier", depth=d)
        for d in (20, 30, 100)
    ]
    assert ratios[0] < ratios[1] < ratios[2]
    plain = _step0_ratio(0, normalization="none", activation="relu", init="he", depth=50)
    assert 0.01 < plain < 1
    with_bn = _step0_ratio(0, normalization="batch", activation="relu", init="he", depth=50)
    assert with_bn / plain > 1e5  # measured 1.4e6


# Dead units (issue 12): a ReLU unit whose input is <= 0 for *every* sample passes no gradient,
# whatever the batch. At width 2, ReLU + He depth 30 kills whole layers at initialization:
# measured (default data, spiral n = 512), the first all-dead layer is layer 4, 5, 4, 2, 5 for
# seeds 0-4, every layer above it is all dead too (its input is 0), and every bar is exactly 0:
# dead units, not a vanishing product. Per batch, ~50 % of ReLU units are inactive by design.
@pytest.mark.parametrize("seed", range(5))
def test_narrow_relu_stack_has_all_dead_layers_and_zero_bars(seed):
    config = ExperimentConfig(
        network=NetworkConfig(depth=30, width=2, activation="relu", init="he", seed=seed),
        data=DataConfig(seed=seed),
    )
    run = TrainingRun(config)
    evaluation = run.network.evaluate_dataset(run.x, run.y)
    assert evaluation.samples == 512 and evaluation.dead_units.shape == (30,)
    dead_layers = evaluation.all_dead_layers
    assert dead_layers.size > 0 and dead_layers[0] <= 5
    assert np.array_equal(dead_layers, np.arange(dead_layers[0], 30))  # and all above it
    stats = run.probe()
    assert np.all(stats.signal_grad_norms == 0.0)
    # The loss and accuracy are the whole dataset's, in evaluation mode.
    loss, accuracy = run.network.evaluate(run.x, run.y)
    assert evaluation.loss == pytest.approx(loss, rel=1e-12) and evaluation.accuracy == accuracy


def test_dead_units_are_dead_for_every_sample_not_for_one_batch():
    """Width 32: about half the units are inactive in a batch (measured 49 %), about a quarter
    on every sample of the 2-D spiral (measured 26 %: 253 of 960, none in layer 1); the count
    equals an independent recount of u <= 0 over the whole dataset."""
    from .reference import forward

    config = ExperimentConfig(
        network=NetworkConfig(depth=30, width=32, activation="relu", init="he", seed=0)
    )
    run = TrainingRun(config)
    evaluation = run.network.evaluate_dataset(run.x, run.y)
    _, _, us = forward(run.network.params, run.x, run.y, "relu", "none", False)
    recount = [int(np.count_nonzero(np.all(u <= 0, axis=0))) for u in us]
    assert evaluation.dead_units.tolist() == recount
    assert evaluation.all_dead_layers.size == 0
    share_dead = evaluation.dead_units.sum() / (30 * 32)
    batch_inactive = run.probe().saturated_fractions
    assert 0.1 < share_dead < 0.4 and 0.4 < np.mean(batch_inactive) < 0.6
    # Dead on every sample implies inactive in every batch, never the other way round.
    assert np.all(batch_inactive >= evaluation.dead_units / 32)
