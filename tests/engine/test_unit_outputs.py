"""Network.unit_outputs: a hidden layer's a = f(u) in evaluation mode, checked against a forward
pass written out by hand here (not the engine's), for every normalization and residual form."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vg_desktop.engine import Network, NetworkConfig, get_activation, make_dataset

EPS = 1e-5


def hand_forward(net: Network, x: np.ndarray, layer: int) -> np.ndarray:
    """a_layer by the DESIGN.md contract, in evaluation mode, one obvious line at a time."""
    cfg = net.config
    f = get_activation(cfg.activation).fn

    def norm(v, k):
        p = net.params[k]
        if cfg.normalization == "none":
            return v
        if cfg.normalization == "batch":  # running statistics in evaluation mode
            mean, var = net.running_mean[k], net.running_var[k]
        else:  # layer norm: per sample, over features
            mean = v.mean(axis=1, keepdims=True)
            var = v.var(axis=1, keepdims=True)
        return p["gamma"] * (v - mean) / np.sqrt(var + EPS) + p["beta"]

    h = x
    for k in range(layer):
        p = net.params[k]
        if cfg.residual and cfg.residual_form == "pre-activation" and k > 0:
            u = norm(h, k)
            a = f(u)
            h = h + (a @ p["W"] + p["b"])
        else:
            u = norm(h @ p["W"] + p["b"], k)
            a = f(u)
            h = h + a if (cfg.residual and k > 0) else a
    return a


CASES = [
    NetworkConfig(
        depth=5, width=12, activation=act, normalization=norm, residual=res, residual_form=form
    )
    for (act, norm), (res, form) in itertools.product(
        [("sigmoid", "none"), ("tanh", "batch"), ("relu", "layer"), ("gelu", "batch")],
        [(False, "post-activation"), (True, "post-activation"), (True, "pre-activation")],
    )
]


@pytest.mark.parametrize(
    "cfg",
    CASES,
    ids=lambda c: f"{c.activation}-{c.normalization}-{c.residual_form if c.residual else 'plain'}",
)
def test_unit_outputs_equal_a_hand_written_forward_pass(cfg):
    net = Network(cfg, n_inputs=2, n_classes=3)
    x, y = make_dataset("blobs", n=90, noise=0.2, seed=3, n_classes=3)
    for i in range(12):  # move the weights and the batch-norm running statistics off their start
        rows = slice(30 * (i % 3), 30 * (i % 3) + 30)
        net.train_step(x[rows], y[rows], learning_rate=0.05)
    before = net.state_arrays()
    probe = np.random.default_rng(0).normal(size=(17, 2))
    for layer in range(1, cfg.depth + 1):
        got = net.unit_outputs(probe, layer)
        assert got.shape == (17, cfg.width)
        np.testing.assert_allclose(got, hand_forward(net, probe, layer), rtol=1e-12, atol=1e-14)
    for key, value in net.state_arrays().items():  # parameters unchanged
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_unit_outputs_use_evaluation_mode_not_the_batch():
    """Batch norm: one sample's outputs do not depend on the others sent with it."""
    cfg = NetworkConfig(depth=3, width=8, activation="tanh", normalization="batch")
    net = Network(cfg)
    x, y = make_dataset("moons", n=64, noise=0.1, seed=0)
    net.train_step(x, y, learning_rate=0.1)
    alone = net.unit_outputs(x[:1], 2)
    together = net.unit_outputs(x, 2)[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-13)


def test_the_last_hidden_layer_feeds_the_same_logits_as_predict():
    cfg = NetworkConfig(depth=4, width=10, activation="relu", init="he")
    net = Network(cfg)
    x, _ = make_dataset("spiral", n=40, noise=0.1, seed=0)
    a = net.unit_outputs(x, cfg.depth)
    logits = a @ net.params[-1]["W"] + net.params[-1]["b"]
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(shifted / shifted.sum(1, keepdims=True), net.predict_proba(x))


@pytest.mark.parametrize("bad", [0, 5, -1, 1.0, True, "1"])
def test_a_layer_outside_the_hidden_layers_is_refused(bad):
    net = Network(NetworkConfig(depth=4, width=4))
    with pytest.raises(ValueError, match="layer must be an integer from 1 to 4"):
        net.unit_outputs(np.zeros((2, 2)), bad)


def test_inputs_of_the_wrong_width_are_refused():
    net = Network(NetworkConfig(depth=2, width=4), n_inputs=64, n_classes=10)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 64\)"):
        net.unit_outputs(np.zeros((3, 2)), 1)
