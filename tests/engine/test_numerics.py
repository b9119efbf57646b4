"""Numerical care: huge logits, tiny and huge norms, NaN propagation, float32 underflow."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from vg_desktop.engine import Network, NetworkConfig, make_dataset, safe_norm, softmax_cross_entropy
from vg_desktop.engine.stats import row_norms, segment_norms


# ---------------------------------------------------------------- softmax cross-entropy
def test_cross_entropy_of_ordinary_logits():
    loss, probs = softmax_cross_entropy(
        np.array([[0.0, 0.0], [math.log(3.0), 0.0]]), np.array([0, 1])
    )
    # Row 1: p = (1/2, 1/2); row 2: p = (3/4, 1/4). Loss = (ln 2 + ln 4) / 2.
    assert loss == pytest.approx((math.log(2.0) + math.log(4.0)) / 2.0, rel=1e-14)
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.75, 0.25]], rtol=1e-14)


def test_cross_entropy_of_logits_near_the_float_limit_is_finite():
    logits = np.array([[1e300, 0.0], [-1e300, 5.0]])
    # Wrong class in both rows: −log p = logsumexp − logit = 1e300 − 0 and 5 − (−1e300).
    loss, probs = softmax_cross_entropy(logits, np.array([1, 0]))
    assert loss == pytest.approx(1e300, rel=1e-12)
    np.testing.assert_array_equal(probs, [[1.0, 0.0], [0.0, 1.0]])
    # Right class in both rows: −log p = log(1 + e^(−1e300)) = 0.
    loss, _ = softmax_cross_entropy(logits, np.array([0, 1]))
    assert loss == 0.0


def test_cross_entropy_of_moderately_large_logits_is_exact():
    loss, _ = softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0, rel=1e-15)


def test_cross_entropy_propagates_nan():
    loss, _ = softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))
    assert math.isnan(loss)


def test_exploding_network_with_huge_logits_reports_a_finite_loss():
    """ReLU with N(0, 20²) weights multiplies the signal by ~80 per layer: logits ~1e38."""
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    cfg = NetworkConfig(depth=20, width=32, activation="relu", init="normal", init_gain=20.0)
    stats = Network(cfg).gradients(x, y)
    assert 1e30 < stats.loss < np.inf  # the loss is the logit gap, so the logits are ≥ 1e30
    assert stats.finite
    assert np.all(np.isfinite(stats.weight_grad_norms))


# ---------------------------------------------------------------- safe norms
NORMS = {
    "safe_norm": lambda a: np.array([safe_norm(a)]),
    "row_norms": lambda a: row_norms(a.reshape(1, -1)),
    "segment_norms": lambda a: segment_norms(a.ravel(), np.array([0]), np.array([a.size])),
}


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
@pytest.mark.parametrize(
    ("value", "dtype"),
    [(1e-30, np.float32), (1e-20, np.float32), (1e-200, np.float64), (1e-310, np.float64)],
    ids=["f32-1e-30", "f32-1e-20", "f64-1e-200", "f64-subnormal"],
)
def test_norm_of_tiny_entries_is_not_zero(norm, value, dtype):
    n = 1000
    a = np.full(n, value, dtype=dtype)
    expected = float(dtype(value)) * math.sqrt(n)  # the stored value, times sqrt(n)
    assert norm(a)[0] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
def test_norm_of_huge_entries_does_not_overflow(norm):
    a = np.full(400, 1e200)
    with np.errstate(over="ignore"):
        assert norm(a)[0] == pytest.approx(1e200 * 20.0, rel=1e-12)


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
def test_norm_of_huge_entries_emits_no_overflow_warning(norm):
    """A safe norm handles overflow itself, so it must not warn about it (pytest turns warnings
    into errors, and the GUI would print one per step while a run explodes)."""
    a = np.full(400, 1e200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm(a)


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200])
def test_nan_propagates(norm, scale):
    a = np.full(10, scale)
    a[3] = np.nan
    with np.errstate(over="ignore"):
        assert math.isnan(norm(a)[0])


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
def test_infinity_gives_infinity(norm):
    a = np.ones(10)
    a[5] = -np.inf
    with np.errstate(over="ignore"):
        assert norm(a)[0] == np.inf


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
def test_zero_and_ordinary_norms(norm):
    assert norm(np.zeros(7))[0] == 0.0
    assert norm(np.array([3.0, 4.0]))[0] == 5.0


def test_safe_norm_of_a_matrix_is_the_frobenius_norm():
    a = np.arange(12.0).reshape(3, 4)
    assert safe_norm(a) == pytest.approx(math.sqrt(sum(v * v for v in range(12))), rel=1e-15)
    assert safe_norm(np.empty(0)) == 0.0


def test_segment_norms_handles_mixed_scales_per_segment():
    tiny, normal, huge = np.full(5, 1e-200), np.array([3.0, 4.0]), np.full(4, 1e200)
    gap = np.ones(3)  # entries between segments must not leak into either
    flat = np.concatenate([tiny, gap, normal, gap, huge])
    starts = np.array([0, 8, 13])
    ends = np.array([5, 10, 17])
    with np.errstate(over="ignore"):
        norms = segment_norms(flat, starts, ends)
    np.testing.assert_allclose(norms, [1e-200 * math.sqrt(5), 5.0, 2e200], rtol=1e-12)


def test_segment_norms_with_a_trailing_gap():
    flat = np.array([1.0, 2.0, 2.0, 9.0, 9.0])
    np.testing.assert_allclose(segment_norms(flat, np.array([0, 1]), np.array([1, 3])), [1, 8**0.5])


def test_row_norms_of_a_stack():
    stack = np.zeros((3, 2, 2))
    stack[0] = 1e-200
    stack[1] = [[1.0, 2.0], [2.0, 4.0]]
    stack[2] = 1e200
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(row_norms(stack), [2e-200, 5.0, 2e200], rtol=1e-12)


# ---------------------------------------------------------------- float32 networks
def test_float32_network_reports_gradients_below_float32_sum_of_squares_range():
    """sigmoid + 'small' init attenuates by 0.25 · 0.01 · sqrt(32) ≈ 0.014 per layer: at depth
    12 the first layer's gradient is ~1e-23, whose float32 sum of squares underflows to 0."""
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    settings = dict(depth=12, width=32, activation="sigmoid", init="small", seed=0)
    net32 = Network(NetworkConfig(dtype="float32", **settings))
    net64 = Network(NetworkConfig(dtype="float64", **settings))
    s32, s64 = net32.gradients(x, y), net64.gradients(x, y)

    assert net32.grads[0]["W"].dtype == np.float32
    assert s32.preactivations[0].dtype == np.float32
    grad = net32.grads[0]["W"]
    assert np.sum(grad * grad) == 0.0  # the naive float32 norm would report exactly zero
    assert 0.0 < s32.weight_grad_norms[0] < 1e-19
    assert 0.0 < s32.signal_grad_norms[0] < 1e-19
    assert s32.weight_grad_norms[0] == pytest.approx(
        np.linalg.norm(grad.astype(np.float64)), rel=1e-12
    )
    # The float32 run measures the same physics as the float64 one.
    np.testing.assert_allclose(s32.signal_grad_norms, s64.signal_grad_norms, rtol=1e-4)
    np.testing.assert_allclose(s32.weight_grad_norms, s64.weight_grad_norms, rtol=1e-4)


def test_batch_norm_over_two_samples_is_degenerate():
    """Why the config refuses batch size 2 with batch norm: the two samples' x̂ are mirror
    images, ±d / sqrt(d² + eps) with d = (z₁ − z₂) / 2: ±1 unless |d| is near √eps ≈ 0.003."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 2)), np.array([0, 1])
    net = Network(NetworkConfig(depth=3, width=8, normalization="batch", activation="linear"))
    s = net.gradients(x, y)
    # gamma = 1, beta = 0 at start: u = x̂ of each layer.
    for u in s.preactivations:
        np.testing.assert_allclose(u[0], -u[1], atol=1e-12)
        assert np.all(np.abs(u) < 1.0)
    assert np.median(np.abs(np.array(s.preactivations))) > 0.99


def test_float32_flushes_signal_entries_below_the_smallest_normal_float32():
    """The smallest gradient float32 shows: every entry of dL/dz below 2⁻¹²⁶ ≈ 1.1755e-38 is
    set to 0 (subnormal arithmetic is 60-160x slower), so a layer's ‖dL/dz‖ is 0 or at least
    1.1755e-38 — never the 1.4e-45 float32 could hold. In practice a whole layer reads 0 once
    its norm is ~1e-36: measured, the smallest non-zero ‖dL/dz‖ of deep sigmoid stacks is
    5e-37 to 3e-35 (Xavier and 'small' init, depth 60-150, width 32); float64 still resolves
    those layers."""
    x, y = make_dataset("spiral", n=256, noise=0.1, seed=0)
    settings = dict(depth=100, width=32, activation="sigmoid", init="xavier", seed=0)
    s32 = Network(NetworkConfig(dtype="float32", **settings)).gradients(x, y)
    s64 = Network(NetworkConfig(dtype="float64", **settings)).gradients(x, y)
    tiny = float(np.finfo(np.float32).tiny)
    assert tiny == 2.0**-126
    signal = s32.signal_grad_norms
    zero = signal == 0
    assert zero.any() and not zero.all()
    assert np.all(signal[~zero] >= tiny)
    assert np.all(s64.signal_grad_norms > 0)  # float64 sees what float32 flushed
    assert s64.signal_grad_norms[zero].max() < 1e-30


@pytest.mark.parametrize("normalization", ["none", "batch", "layer"])
def test_float32_training_keeps_float32_parameters(normalization):
    x, y = make_dataset("moons", n=64, noise=0.1, seed=0)
    cfg = NetworkConfig(depth=4, width=8, normalization=normalization, dtype="float32")
    net = Network(cfg)
    for _ in range(3):
        stats = net.train_step(x, y, learning_rate=0.1, momentum=0.9)
    assert stats.finite
    assert all(v.dtype == np.float32 for p in net.params for v in p.values())
    loss, accuracy = net.evaluate(x, y)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
