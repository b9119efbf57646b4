"""Finite-difference checks of every gradient the engine reports.

Every parameter array (W, b, gamma, beta of every hidden layer and W, b of the output layer) is
checked for every activation × normalization × residual setting, and the back-propagated signal
dL/dz_l is checked against finite differences of z_l itself, taken through the independent
re-implementation in ``reference.py``.

Comparison rule (per parameter array, a = analytic, n = numerical)::

    error = ‖a − n‖ / max(‖a‖, ‖n‖, FLOOR)   must be below TOLERANCE = 1e-6

i.e. a relative error, except for arrays whose gradient norm is below FLOOR = 1e-4, where it
becomes the absolute bound ‖a − n‖ < 1e-10. Those are the arrays whose true gradient is 0 (hidden
biases under batch norm, which the mean subtraction cancels exactly); their finite difference is
pure round-off, about 1e-11 here.

The numerical derivative is the 5-point central stencil with h = 1e-4: its truncation error is
O(h⁴) ≈ 1e-16 and its round-off about 1e-12, so true relative errors sit near 1e-9, three decades
below the tolerance. (The 2-point stencil with h = 1e-6 has round-off near 1e-10 per entry, which
is not far enough below 1e-6 for gradients of size 1e-4.) For the piecewise activations, the data
seed is chosen so that no pre-activation lies within 1e-2 of the kink at 0, and every perturbed
evaluation asserts that no pre-activation changed sign, so no difference straddles a kink.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vg_desktop.engine import ACTIVATIONS, NORMALIZATIONS, Network, NetworkConfig

from .reference import five_point_derivative, forward

LEAKY_SLOPE = 0.01
TOLERANCE = 1e-6
FLOOR = 1e-4
STEP = 1e-4
KINK_MARGIN = 1e-2
KINKED = {"relu", "leaky_relu", "elu"}  # elu: f′ is continuous at 0 but f″ jumps there

DEPTH, WIDTH, BATCH, CLASSES = 3, 5, 10, 3

# False: a plain stack; otherwise the residual block's form.
RESIDUAL = (False, "post-activation", "pre-activation")
ALL_SETTINGS = list(itertools.product(ACTIVATIONS, NORMALIZATIONS, RESIDUAL))


def _ids(setting):
    act, norm, res = setting
    return f"{act}-{norm}-{res or 'plain'}"


def _build(activation, normalization, residual, seed):
    """A small float64 network at a generic point: biases, gamma and beta moved off 0 and 1."""
    cfg = NetworkConfig(
        depth=DEPTH,
        width=WIDTH,
        activation=activation,
        normalization=normalization,
        residual=bool(residual),
        residual_form=residual or "post-activation",
        init="xavier",
        init_gain=1.5,
        dtype="float64",
        seed=seed,
    )
    net = Network(cfg, n_inputs=2, n_classes=CLASSES)
    rng = np.random.default_rng(1000 + seed)
    x = rng.standard_normal((BATCH, 2))
    y = rng.integers(0, CLASSES, BATCH)
    for p in net.params:
        p["b"][...] = 0.1 * rng.standard_normal(p["b"].shape)
        if "gamma" in p:
            p["gamma"][...] = 1.0 + 0.2 * rng.standard_normal(p["gamma"].shape)
            p["beta"][...] = 0.1 * rng.standard_normal(p["beta"].shape)
    return net, x, y


def _network_away_from_kinks(activation, normalization, residual):
    """The first seed whose pre-activations all keep KINK_MARGIN away from 0.

    Pre-activation blocks without a norm take u_l = h_{l-1} itself: a ReLU's exact zeros stay
    exactly 0 under every perturbation (their input stays negative, which the sign check of
    the layer below asserts), so they are no kink to straddle; and leaky ReLU's negative side
    is 100x smaller, so the margin is too.
    """
    raw_stream = residual == "pre-activation" and normalization == "none"
    margin = KINK_MARGIN * (LEAKY_SLOPE if raw_stream else 1.0)
    for seed in range(200):
        net, x, y = _build(activation, normalization, residual, seed)
        u = np.concatenate([a.ravel() for a in net.gradients(x, y).preactivations])
        if raw_stream:
            u = u[u != 0.0]
        if np.abs(u).min() > margin:
            return net, x, y
    raise AssertionError("no seed keeps every pre-activation away from the kink")


def _error(analytic, numeric):
    a, n = np.linalg.norm(analytic), np.linalg.norm(numeric)
    return np.linalg.norm(analytic - numeric) / max(a, n, FLOOR)


@pytest.mark.parametrize("setting", ALL_SETTINGS, ids=_ids)
def test_every_parameter_gradient_matches_finite_differences(setting):
    activation, normalization, _ = setting
    net, x, y = _network_away_from_kinks(*setting)
    net.gradients(x, y)
    analytic = [{name: g.copy() for name, g in grads.items()} for grads in net.grads]
    signs = [np.sign(u) for u in net.gradients(x, y).preactivations]

    expected_names = {"W", "b"} | ({"gamma", "beta"} if normalization != "none" else set())
    assert len(net.params) == DEPTH + 1
    assert all(set(p) == expected_names for p in net.params[:-1])
    assert set(net.params[-1]) == {"W", "b"}

    errors = {}
    for layer, params in enumerate(net.params):
        for name, array in params.items():
            numeric = np.empty_like(array)
            for index in np.ndindex(array.shape):
                original = array[index]

                def loss_at(delta, array=array, index=index, original=original):
                    array[index] = original + delta
                    stats = net.gradients(x, y)
                    array[index] = original
                    if activation in KINKED:
                        crossed = [
                            not np.array_equal(np.sign(u), s)
                            for u, s in zip(stats.preactivations, signs, strict=True)
                        ]
                        assert not any(crossed), "a finite difference straddled a kink"
                    return stats.loss

                numeric[index] = five_point_derivative(loss_at, STEP)
            errors[f"layer {layer + 1} {name}"] = _error(analytic[layer][name], numeric)

    worst = max(errors, key=errors.get)
    assert errors[worst] < TOLERANCE, f"{worst}: error {errors[worst]:.2e}; all: {errors}"


@pytest.mark.parametrize("setting", ALL_SETTINGS, ids=_ids)
def test_forward_pass_is_the_documented_one(setting):
    """The engine's loss and pre-activations equal the contract's, computed independently."""
    activation, normalization, residual = setting
    net, x, y = _build(activation, normalization, residual, seed=0)
    stats = net.gradients(x, y)
    loss, _, us = forward(net.params, x, y, activation, normalization, residual)
    assert stats.loss == pytest.approx(loss, rel=1e-12)
    assert len(stats.preactivations) == DEPTH
    for engine_u, reference_u in zip(stats.preactivations, us, strict=True):
        np.testing.assert_allclose(engine_u, reference_u, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("setting", ALL_SETTINGS, ids=_ids)
def test_signal_gradient_matches_finite_differences_of_z(setting):
    """‖dL/dz_l‖ against finite differences of z_l itself, entry by entry.

    z_l is perturbed inside the reference forward pass, so this checks the back-propagated
    signal independently of the engine's parameter gradients. The column sums of dL/dz_l are
    also dL/db_l, which ties the signal to the bias gradient the engine reports.
    """
    activation, normalization, residual = setting
    net, x, y = _network_away_from_kinks(*setting)
    stats = net.gradients(x, y)
    signs = [np.sign(u) for u in stats.preactivations]

    for layer in range(DEPTH):
        dz = np.empty((BATCH, WIDTH))
        for i, j in np.ndindex(dz.shape):

            def loss_at(delta, layer=layer, i=i, j=j):
                offset = np.zeros((BATCH, WIDTH))
                offset[i, j] = delta
                loss, _, us = forward(
                    net.params, x, y, activation, normalization, residual, {layer: offset}
                )
                if activation in KINKED:
                    crossed = [
                        not np.array_equal(np.sign(u), s) for u, s in zip(us, signs, strict=True)
                    ]
                    assert not any(crossed), "a finite difference straddled a kink"
                return loss

            dz[i, j] = five_point_derivative(loss_at, STEP)
        measured = stats.signal_grad_norms[layer]
        assert measured == pytest.approx(np.linalg.norm(dz), rel=TOLERANCE), f"layer {layer + 1}"
        bias_error = _error(net.grads[layer]["b"], dz.sum(axis=0))
        assert bias_error < TOLERANCE, f"layer {layer + 1}: dL/db ≠ Σ_batch dL/dz"


# Not ReLU into a pre-activation block without a norm: there u_2 = h_1 holds ReLU's exact
# zeros, and perturbing h_1 itself moves them across the kink (no two-sided derivative).
STREAM_SETTINGS = [
    s
    for s in itertools.product(("tanh", "relu"), NORMALIZATIONS, RESIDUAL)
    if s != ("relu", "none", "pre-activation")
]


@pytest.mark.parametrize("setting", STREAM_SETTINGS, ids=_ids)
def test_stream_gradient_matches_finite_differences_of_h(setting):
    """‖dL/dh_l‖ (StepStats.stream_grad_norms) against finite differences of each layer's
    output h_l, perturbed inside the reference forward pass."""
    activation, normalization, residual = setting
    net, x, y = _network_away_from_kinks(*setting)
    stats = net.gradients(x, y)
    signs = [np.sign(u) for u in stats.preactivations]
    for layer in range(DEPTH):
        dh = np.empty((BATCH, WIDTH))
        for i, j in np.ndindex(dh.shape):

            def loss_at(delta, layer=layer, i=i, j=j):
                offset = np.zeros((BATCH, WIDTH))
                offset[i, j] = delta
                loss, _, us = forward(
                    net.params, x, y, activation, normalization, residual, h_offsets={layer: offset}
                )
                if activation in KINKED:
                    crossed = [
                        not np.array_equal(np.sign(u), s) for u, s in zip(us, signs, strict=True)
                    ]
                    assert not any(crossed), "a finite difference straddled a kink"
                return loss

            dh[i, j] = five_point_derivative(loss_at, STEP)
        measured = stats.stream_grad_norms[layer]
        assert measured == pytest.approx(np.linalg.norm(dh), rel=TOLERANCE), f"layer {layer + 1}"
