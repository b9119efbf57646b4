"""The public API as the issue shows it, and what SGD does to the parameters."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import Network, NetworkConfig, StepStats, make_dataset


def test_issue_snippet_runs_as_written():
    from vg_desktop.engine import Network, NetworkConfig, make_dataset

    cfg = NetworkConfig(
        depth=20,
        width=32,
        activation="sigmoid",
        normalization="none",
        residual=False,
        init="xavier",
        init_gain=1.0,
        dtype="float64",
        seed=0,
    )
    net = Network(cfg, n_inputs=2, n_classes=2)
    x, y = make_dataset("spiral", n=256, noise=0.1, seed=0)
    s = net.gradients(x, y)
    assert isinstance(s.loss, float) and np.isfinite(s.loss)
    assert s.weight_grad_norms.shape == (21,)
    assert s.signal_grad_norms.shape == (20,)
    assert isinstance(s.preactivations, list) and len(s.preactivations) == 20
    assert all(u.shape == (256, 32) for u in s.preactivations)
    assert isinstance(net.params, list) and len(net.params) == 21
    assert all(set(p) == {"W", "b"} for p in net.params)
    s2 = net.train_step(x, y, learning_rate=0.1)
    assert isinstance(s2, StepStats)


def test_step_stats_shapes_and_types():
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=7, width=10, normalization="batch"), n_classes=2)
    s = net.train_step(x, y, learning_rate=0.1)
    for name in ("weight_grad_norms", "update_ratios", "weight_norms"):
        assert getattr(s, name).shape == (8,), name
    for name in ("signal_grad_norms", "mean_derivatives", "saturated_fractions"):
        assert getattr(s, name).shape == (7,), name
    assert s.predicted_signal_norms.shape == (7,)
    assert s.depth == 7
    assert 0.0 <= s.accuracy <= 1.0
    assert np.all((s.saturated_fractions >= 0) & (s.saturated_fractions <= 1))
    assert s.finite


@pytest.mark.parametrize("normalization", ["none", "batch", "layer"])
def test_smallest_network_works(normalization):
    """depth 1, width 2: one hidden layer, the output layer, and a one-entry prediction."""
    x, y = make_dataset("blobs", n=16, noise=0.1, seed=0, n_classes=3)
    net = Network(NetworkConfig(depth=1, width=2, normalization=normalization), n_classes=3)
    s = net.train_step(x, y, learning_rate=0.1)
    assert s.weight_grad_norms.shape == (2,) and s.signal_grad_norms.shape == (1,)
    assert s.predicted_signal_norms[0] == s.signal_grad_norms[0]
    assert s.finite


def test_params_layout_with_normalization_and_more_classes():
    net = Network(NetworkConfig(depth=3, width=6, normalization="layer"), n_inputs=4, n_classes=5)
    assert [p["W"].shape for p in net.params] == [(4, 6), (6, 6), (6, 6), (6, 5)]
    assert all(set(p) == {"W", "b", "gamma", "beta"} for p in net.params[:-1])
    assert set(net.params[-1]) == {"W", "b"}
    # Initial state from the contract: biases 0, gamma 1, beta 0.
    for p in net.params[:-1]:
        np.testing.assert_array_equal(p["b"], 0.0)
        np.testing.assert_array_equal(p["gamma"], 1.0)
        np.testing.assert_array_equal(p["beta"], 0.0)
    for p, g in zip(net.params, net.grads, strict=True):
        assert {k: v.shape for k, v in p.items()} == {k: v.shape for k, v in g.items()}


@pytest.mark.parametrize(
    ("init", "gain", "std"),
    [
        ("normal", 1.0, lambda fi, fo: 1.0),
        ("small", 1.0, lambda fi, fo: 0.01),
        ("xavier", 1.0, lambda fi, fo: np.sqrt(2.0 / (fi + fo))),  # U(±a) has variance a²/3
        ("he", 1.0, lambda fi, fo: np.sqrt(2.0 / fi)),
        ("he", 3.0, lambda fi, fo: 3.0 * np.sqrt(2.0 / fi)),
    ],
)
def test_initializers_have_the_documented_scale(init, gain, std):
    net = Network(NetworkConfig(depth=4, width=200, init=init, init_gain=gain, seed=1))
    w = net.params[2]["W"]  # 200 × 200: 40 000 draws, relative error of the std ~0.4 %
    assert w.std() == pytest.approx(std(200, 200), rel=0.02)
    assert abs(w.mean()) < 0.05 * std(200, 200)
    if init == "xavier":
        assert np.abs(w).max() <= np.sqrt(6.0 / 400)


def test_gradients_leave_parameters_unchanged():
    x, y = make_dataset("moons", n=64, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=4, width=8, normalization="batch"))
    before = net.state_arrays()
    net.gradients(x, y, learning_rate=0.5)
    for key, value in net.state_arrays().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def _flat_copy(dicts):
    return [{k: v.copy() for k, v in d.items()} for d in dicts]


@pytest.mark.parametrize("normalization", ["none", "batch"])
def test_sgd_step_is_minus_learning_rate_times_gradient(normalization):
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=4, width=8, normalization=normalization))
    lr = 0.3
    before = _flat_copy(net.params)
    net.gradients(x, y)
    grads = _flat_copy(net.grads)
    stats = net.train_step(x, y, learning_rate=lr)
    for layer, p in enumerate(net.params):
        for name, value in p.items():
            expected = before[layer][name] - lr * grads[layer][name]
            np.testing.assert_allclose(value, expected, rtol=1e-13, atol=1e-15)
    # The statistics describe the step just taken: lr·‖dW‖/‖W‖ with W before the update.
    expected_ratios = [
        lr * np.linalg.norm(g["W"]) / np.linalg.norm(p["W"])
        for g, p in zip(grads, before, strict=True)
    ]
    np.testing.assert_allclose(stats.update_ratios, expected_ratios, rtol=1e-12)
    np.testing.assert_allclose(
        stats.weight_norms, [np.linalg.norm(p["W"]) for p in before], rtol=1e-12
    )
    np.testing.assert_allclose(
        stats.weight_grad_norms, [np.linalg.norm(g["W"]) for g in grads], rtol=1e-12
    )


def test_gradients_report_update_ratios_only_with_a_learning_rate():
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=3, width=8))
    assert np.all(np.isnan(net.gradients(x, y).update_ratios))
    probe = net.gradients(x, y, learning_rate=0.2)
    step = net.train_step(x, y, learning_rate=0.2)
    np.testing.assert_allclose(probe.update_ratios, step.update_ratios, rtol=1e-14)


def test_heavy_ball_momentum_follows_v_equals_mu_v_plus_g():
    """v₁ = g₁, θ₁ = θ₀ − lr·v₁; v₂ = μ·v₁ + g₂, θ₂ = θ₁ − lr·v₂ (g₂ taken at θ₁)."""
    x, y = make_dataset("circles", n=64, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=3, width=8, activation="tanh"))
    lr, mu = 0.2, 0.9
    theta0 = _flat_copy(net.params)
    net.gradients(x, y)
    g1 = _flat_copy(net.grads)
    net.train_step(x, y, learning_rate=lr, momentum=mu)
    theta1 = _flat_copy(net.params)
    net.gradients(x, y)
    g2 = _flat_copy(net.grads)
    stats = net.train_step(x, y, learning_rate=lr, momentum=mu)
    for layer, p in enumerate(net.params):
        for name, value in p.items():
            v1 = g1[layer][name]
            np.testing.assert_allclose(
                theta1[layer][name], theta0[layer][name] - lr * v1, rtol=1e-13, atol=1e-15
            )
            v2 = mu * v1 + g2[layer][name]
            np.testing.assert_allclose(value, theta1[layer][name] - lr * v2, rtol=1e-13, atol=1e-15)
    # With momentum the ratio is that of the step actually taken, lr·‖v‖/‖W‖.
    expected = [
        lr * np.linalg.norm(mu * a["W"] + b["W"]) / np.linalg.norm(t["W"])
        for a, b, t in zip(g1, g2, theta1, strict=True)
    ]
    np.testing.assert_allclose(stats.update_ratios, expected, rtol=1e-12)


def test_training_reduces_the_loss():
    x, y = make_dataset("moons", n=128, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=3, width=16, activation="tanh"))
    first = net.train_step(x, y, learning_rate=0.5).loss
    for _ in range(100):
        last = net.train_step(x, y, learning_rate=0.5).loss
    assert last < 0.5 * first


def test_batch_norm_running_statistics_follow_the_pytorch_convention():
    """running ← 0.9·running + 0.1·batch statistic; the running variance is unbiased."""
    x, y = make_dataset("blobs", n=32, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=2, width=5, normalization="batch"))
    z = x @ net.params[0]["W"] + net.params[0]["b"]
    net.train_step(x, y, learning_rate=0.1)
    np.testing.assert_allclose(net.running_mean[0], 0.1 * z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(net.running_var[0], 0.9 + 0.1 * z.var(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("normalization", ["none", "batch", "layer"])
def test_evaluation_mode_treats_each_sample_on_its_own(normalization):
    """predict_proba of one sample equals its row in a batch prediction (no batch statistics)."""
    x, y = make_dataset("spiral", n=64, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=3, width=8, normalization=normalization))
    for _ in range(3):
        net.train_step(x, y, learning_rate=0.1)
    probs = net.predict_proba(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(net.predict_proba(x[5:6]), probs[5:6], rtol=1e-10)
    loss, accuracy = net.evaluate(x, y)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(64), y])), rel=1e-10)
    assert accuracy == np.mean(probs.argmax(axis=1) == y)


def test_state_arrays_round_trip():
    x, y = make_dataset("xor", n=64, noise=0.1, seed=0)
    cfg = NetworkConfig(depth=3, width=8, normalization="batch")
    trained = Network(cfg)
    for _ in range(3):
        trained.train_step(x, y, learning_rate=0.1)
    fresh = Network(cfg)
    fresh.load_state_arrays(trained.state_arrays())
    assert fresh.gradients(x, y).loss == trained.gradients(x, y).loss
    assert fresh.evaluate(x, y) == trained.evaluate(x, y)


def test_load_state_arrays_checks_everything_before_changing_anything():
    net = Network(NetworkConfig(depth=2, width=4))
    before = net.state_arrays()
    arrays = net.state_arrays()
    arrays["layer0_W"] = arrays["layer0_W"] + 1.0  # a valid change...
    arrays["layer2_W"] = np.zeros((3, 3))  # ...and a wrong shape later on
    with pytest.raises(ValueError, match="layer2_W has shape"):
        net.load_state_arrays(arrays)
    for key, value in net.state_arrays().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    del arrays["layer2_W"]
    with pytest.raises(ValueError, match="lacks layer2_W"):
        net.load_state_arrays(arrays)
