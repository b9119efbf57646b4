"""Activation functions and derivatives against values derived from the math.

Closed forms used below: σ′(x) = σ(x)(1 − σ(x)) = 1 / (4 cosh²(x/2)) and tanh′(x) = 1 / cosh²(x).
So σ′(x) = c·0.25 ⇔ cosh²(x/2) = 1/c, and tanh′(x) = c ⇔ cosh²(x) = 1/c.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from vg_desktop.engine import ACTIVATIONS, Network, NetworkConfig, get_activation

from .reference import ACTIVATIONS as REFERENCE
from .reference import five_point_derivative

KINKED = {"relu", "leaky_relu", "elu"}


def sigmoid_prime(x):
    return 1.0 / (4.0 * np.cosh(x / 2.0) ** 2)


def reference_derivative(name, x, h=1e-3):
    """f′ of the textbook f (reference.py), by the 5-point stencil: error ~1e-12."""
    f = REFERENCE[name]
    return five_point_derivative(lambda d: f(x + d), h)


def golden_max(fn, lo, hi, tol=1e-10):
    """argmax of a unimodal function on [lo, hi]."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    while b - a > tol:
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if fn(c) > fn(d):
            b = d
        else:
            a = c
    return (a + b) / 2.0


def bisect(fn, lo, hi, tol=1e-12):
    """The root of fn on [lo, hi], given a sign change."""
    f_lo = fn(lo)
    while hi - lo > tol:
        mid = (lo + hi) / 2.0
        if (fn(mid) > 0) == (f_lo > 0):
            lo, f_lo = mid, fn(mid)
        else:
            hi = mid
    return (lo + hi) / 2.0


def gaussian_expectation(fn, degree=120):
    """E[fn(Z)], Z ~ N(0, 1), by Gauss–Hermite quadrature (probabilists' weight e^(−x²/2))."""
    nodes, weights = hermegauss(degree)
    return float(weights @ fn(nodes) / math.sqrt(2.0 * math.pi))


# ---------------------------------------------------------------- point values
def test_sigmoid_derivative_at_zero_is_a_quarter():
    assert get_activation("sigmoid").grad(np.array([0.0]))[0] == 0.25
    assert get_activation("sigmoid").fn(np.array([0.0]))[0] == 0.5


def test_tanh_derivative_at_zero_is_one():
    assert get_activation("tanh").grad(np.array([0.0]))[0] == 1.0


def test_relu_derivative_on_both_sides():
    relu = get_activation("relu")
    x = np.array([-3.0, -1e-12, 1e-12, 2.5])
    np.testing.assert_array_equal(relu.grad(x), [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(relu.fn(x), [0.0, 0.0, 1e-12, 2.5])


def test_leaky_relu_slope_is_one_hundredth():
    leaky = get_activation("leaky_relu")
    x = np.array([-4.0, -1e-9, 1e-9, 3.0])
    np.testing.assert_array_equal(leaky.grad(x), [0.01, 0.01, 1.0, 1.0])
    np.testing.assert_allclose(leaky.fn(x), [-0.04, -1e-11, 1e-9, 3.0], rtol=1e-15)


def test_elu_derivative_is_exp_on_the_negative_side():
    elu = get_activation("elu")
    x = np.array([-5.0, -1.0, -0.25, 0.5, 4.0])
    np.testing.assert_allclose(elu.grad(x), [math.exp(-5), math.exp(-1), math.exp(-0.25), 1, 1])
    np.testing.assert_allclose(
        elu.fn(x), [math.expm1(-5), math.expm1(-1), math.expm1(-0.25), 0.5, 4]
    )


def test_closed_form_derivatives_on_a_grid():
    x = np.linspace(-8.0, 8.0, 321)
    np.testing.assert_allclose(get_activation("sigmoid").grad(x), sigmoid_prime(x), rtol=1e-12)
    np.testing.assert_allclose(
        get_activation("tanh").grad(x), 1.0 / np.cosh(x) ** 2, rtol=1e-9, atol=1e-15
    )
    np.testing.assert_array_equal(get_activation("linear").grad(x), np.ones_like(x))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_function_matches_its_formula(name):
    x = np.linspace(-6.0, 6.0, 241)
    np.testing.assert_allclose(
        get_activation(name).fn(x), REFERENCE[name](x), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_matches_finite_differences_of_f(name):
    """f′ against the 5-point difference of the engine's own f, away from any kink."""
    x = np.linspace(-6.0, 6.0, 241) + 0.013  # keeps every grid point 0.013 or more from 0
    activation = get_activation(name)
    numeric = five_point_derivative(lambda d: activation.fn(x + d), 1e-3)
    np.testing.assert_allclose(activation.grad(x), numeric, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_are_vectorized_and_shape_preserving(name):
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    activation = get_activation(name)
    assert activation.fn(x).shape == x.shape
    assert activation.grad(x).shape == x.shape
    assert activation(x).shape == x.shape


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_keep_float32(name):
    """A float32 network's activations must stay float32 (no silent float64 round trip)."""
    x = np.linspace(-3.0, 3.0, 13, dtype=np.float32)
    activation = get_activation(name)
    assert activation.fn(x).dtype == np.float32
    assert activation.grad(x).dtype == np.float32


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "silu", "elu", "gelu"])
def test_extreme_inputs_give_finite_limits_without_warnings(name):
    x = np.array([-700.0, -40.0, 40.0, 700.0])
    activation = get_activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, slopes = activation.fn(x), activation.grad(x)
    assert np.all(np.isfinite(values))
    # Far left every derivative is 0; far right it is 0 for the squashing functions, else 1.
    right = 0.0 if name in ("sigmoid", "tanh") else 1.0
    np.testing.assert_allclose(slopes[[0, 3]], [0.0, right], atol=1e-12)


def test_sigmoid_limits():
    sigmoid = get_activation("sigmoid")
    np.testing.assert_array_equal(sigmoid.fn(np.array([-800.0, 800.0])), [0.0, 1.0])
    assert sigmoid.fn(np.array([-30.0]))[0] == pytest.approx(math.exp(-30.0), rel=1e-12)


def test_unknown_activation_names_the_allowed_values():
    with pytest.raises(ValueError, match="sigmoid, tanh, relu, leaky_relu, elu, gelu, silu"):
        get_activation("swish")


# ---------------------------------------------------------------- the 0.2066 factor
def test_mean_sigmoid_derivative_under_standard_normal_is_0_2066():
    expected = gaussian_expectation(sigmoid_prime)
    assert expected == pytest.approx(0.2066, abs=5e-5)
    # The same quadrature, sanity-checked on moments it must get exactly.
    assert gaussian_expectation(lambda x: x**2) == pytest.approx(1.0, rel=1e-12)


def test_engine_sigmoid_derivative_averages_0_2066_over_a_gaussian_sample():
    n = 1_000_000
    z = np.random.default_rng(7).standard_normal(n)
    fprime = get_activation("sigmoid").grad(z)
    standard_error = fprime.std() / math.sqrt(n)  # ≈ 3e-5
    assert abs(fprime.mean() - gaussian_expectation(sigmoid_prime)) < 5 * standard_error


def test_step_stats_mean_derivative_is_0_2066_when_preactivations_are_standard_normal():
    """A 1-layer sigmoid net with batch norm, fed Gaussian inputs: every unit's u is an exactly
    standardized Gaussian sample, so StepStats.mean_derivatives[0] must be E[σ′(Z)]. With
    gamma = 4 the pre-activations are N(0, 16) and the saturated share is P(|4Z| > x_sat),
    where σ′(x_sat) = 0.025 ⇔ cosh²(x_sat/2) = 10."""
    net = Network(
        NetworkConfig(depth=1, width=16, activation="sigmoid", normalization="batch", seed=3)
    )
    x = np.random.default_rng(11).standard_normal((20_000, 2))
    y = np.zeros(20_000, dtype=np.int64)
    stats = net.gradients(x, y)
    assert stats.mean_derivatives.shape == (1,)
    assert stats.mean_derivatives[0] == pytest.approx(gaussian_expectation(sigmoid_prime), abs=1e-3)
    assert stats.saturated_fractions[0] < 1e-3  # P(|Z| > 3.64) = 2.8e-4

    net.params[0]["gamma"][...] = 4.0
    stats = net.gradients(x, y)
    x_sat = 2.0 * math.acosh(math.sqrt(10.0))
    expected_saturated = math.erfc(x_sat / 4.0 / math.sqrt(2.0))  # P(|Z| > x_sat / 4) ≈ 0.363
    assert stats.saturated_fractions[0] == pytest.approx(expected_saturated, abs=0.01)
    expected_mean = gaussian_expectation(lambda z: sigmoid_prime(4.0 * z))
    assert stats.mean_derivatives[0] == pytest.approx(expected_mean, abs=1e-3)


@pytest.mark.parametrize(
    ("name", "expected_rms", "expected_mean"),
    [("sigmoid", 0.21175, 0.2066), ("relu", math.sqrt(0.5), 0.5), ("tanh", None, None)],
)
def test_step_stats_rms_derivative_under_standard_normal(name, expected_rms, expected_mean):
    """RMS f′ = √E[f′(Z)²] for standardized pre-activations (batch norm, Gaussian inputs):
    sigmoid 0.21175 (mean 0.2066), ReLU 1/√2 = 0.707 (mean 0.5). The RMS is never below the
    mean (Jensen), and is the factor the gradient's *norm* pays (see StepStats)."""
    net = Network(NetworkConfig(depth=1, width=16, activation=name, normalization="batch", seed=3))
    x = np.random.default_rng(11).standard_normal((20_000, 2))
    stats = net.gradients(x, np.zeros(20_000, dtype=np.int64))
    fprime = get_activation(name).grad
    rms = math.sqrt(gaussian_expectation(lambda z: fprime(z) ** 2))
    if expected_rms is not None:
        assert rms == pytest.approx(expected_rms, abs=5e-5)
        assert gaussian_expectation(fprime) == pytest.approx(expected_mean, abs=5e-5)
    assert stats.rms_derivatives[0] == pytest.approx(rms, abs=2e-3)
    assert stats.rms_derivatives[0] >= stats.mean_derivatives[0]
    u = stats.preactivations[0]
    assert stats.rms_derivatives[0] == pytest.approx(np.sqrt(np.mean(fprime(u) ** 2)), rel=1e-12)


# ---------------------------------------------------------------- peaks, bands, saturation
def _reference_peak(name):
    if name == "sigmoid":
        return 0.25  # σ′ = 1 / (4 cosh²(x/2)) is largest at x = 0
    if name in ("gelu", "silu"):  # f′ overshoots 1 on the positive side; find its maximum
        arg = golden_max(lambda x: reference_derivative(name, x), 0.5, 4.0)
        return float(reference_derivative(name, arg))
    return 1.0  # tanh′(0) = 1; relu, leaky, elu, linear have slope 1 for x > 0


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_peak_derivative(name):
    assert get_activation(name).peak_derivative == pytest.approx(_reference_peak(name), rel=1e-6)


def test_silu_and_gelu_peaks_are_known_constants():
    assert _reference_peak("silu") == pytest.approx(1.0998, abs=1e-4)
    assert _reference_peak("gelu") == pytest.approx(1.1290, abs=1e-4)


def _reference_band(name):
    """Where f′ ≥ half its peak (the engine clips the grid at ±50)."""
    if name == "sigmoid":
        edge = 2.0 * math.acosh(math.sqrt(2.0))  # σ′ = 0.125 ⇔ cosh²(x/2) = 2; ≈ 1.7627
        return -edge, edge
    if name == "tanh":
        edge = math.acosh(math.sqrt(2.0))  # tanh′ = 0.5 ⇔ cosh²(x) = 2; ≈ 0.8814
        return -edge, edge
    if name in ("relu", "leaky_relu"):
        return 0.0, 50.0
    if name == "elu":
        return -math.log(2.0), 50.0  # e^x = 1/2
    if name == "linear":
        return -50.0, 50.0
    half = _reference_peak(name) / 2.0
    return bisect(lambda x: reference_derivative(name, x) - half, 0.0, 1.0), 50.0


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_healthy_band_is_where_the_derivative_is_at_least_half_its_peak(name):
    lo, hi = get_activation(name).healthy_band
    expected_lo, expected_hi = _reference_band(name)
    # The engine finds the band on a grid of spacing 5e-4.
    assert lo == pytest.approx(expected_lo, abs=1e-3)
    assert hi == pytest.approx(expected_hi, abs=1e-3)


def test_sigmoid_band_edge_value():
    assert 2.0 * math.acosh(math.sqrt(2.0)) == pytest.approx(1.7627, abs=1e-4)
    assert sigmoid_prime(2.0 * math.acosh(math.sqrt(2.0))) == pytest.approx(0.125, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "edge"),
    [
        ("sigmoid", 2.0 * math.acosh(math.sqrt(10.0))),  # σ′ = 0.025 ⇔ cosh²(x/2) = 10; ≈ 3.637
        ("tanh", math.acosh(math.sqrt(10.0))),  # tanh′ = 0.1 ⇔ cosh²(x) = 10; ≈ 1.818
    ],
)
def test_saturated_mask_starts_where_the_derivative_falls_below_a_tenth(name, edge):
    activation = get_activation(name)
    x = np.array([0.0, edge - 1e-3, -(edge - 1e-3), edge + 1e-3, -(edge + 1e-3), 20.0])
    mask = activation.saturated(activation.grad(x))
    np.testing.assert_array_equal(mask, [False, False, False, True, True, True])


def test_saturated_mask_for_piecewise_activations():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    relu, leaky, elu = (get_activation(n) for n in ("relu", "leaky_relu", "elu"))
    np.testing.assert_array_equal(relu.saturated(relu.grad(x)), [True, True, False, False])
    np.testing.assert_array_equal(leaky.saturated(leaky.grad(x)), [True, True, False, False])
    # elu′ = e^x < 0.1 ⇔ x < −ln 10 ≈ −2.303
    x = np.array([-2.4, -2.2, 0.0, 3.0])
    np.testing.assert_array_equal(elu.saturated(elu.grad(x)), [True, False, False, False])
    linear = get_activation("linear")
    assert not linear.saturated(linear.grad(np.linspace(-100, 100, 11))).any()
