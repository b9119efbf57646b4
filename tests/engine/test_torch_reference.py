"""The engine against PyTorch autograd (float64), for every residual form and normalization.

PyTorch is not an app dependency: this module is skipped where it is not installed (CI installs
it). The finite-difference checks in ``test_gradients_fd.py`` cover the same contract without it.

The network is rebuilt in PyTorch from the engine's own parameters, written out from the
contract in DESIGN.md with ``torch.nn.functional`` (batch norm in training mode with PyTorch's
running statistics, layer norm, the activations), and differentiated by autograd. Compared: the
loss, ‖dL/dW_l‖ of every layer, ‖dL/dz_l‖ (the signal) and the batch-norm running statistics,
all to 1e-8 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import Network, NetworkConfig, make_dataset

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-8
EPS = 1e-5
FORMS = ("plain", "post-activation", "pre-activation")
NORMALIZATIONS = ("none", "batch", "layer")


def _activation(name):
    return {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "gelu": lambda t: F.gelu(t, approximate="tanh"),
    }[name]


def torch_pass(net: Network, x: np.ndarray, y: np.ndarray, training: bool = True):
    """(loss, [dL/dW_l], [dL/dz_l], [dL/dh_l], running_mean, running_var) by autograd; with
    ``training=False`` the loss in evaluation mode (batch norm on its running statistics)."""
    cfg = net.config
    f = _activation(cfg.activation)
    ws = [torch.tensor(p["W"], dtype=torch.float64, requires_grad=True) for p in net.params]
    bs = [torch.tensor(p["b"], dtype=torch.float64) for p in net.params]
    hidden = [p for p in net.params[:-1] if "gamma" in p]
    gammas = [torch.tensor(p["gamma"], dtype=torch.float64) for p in hidden]
    betas = [torch.tensor(p["beta"], dtype=torch.float64) for p in hidden]
    running_mean = torch.tensor(net.running_mean.copy())
    running_var = torch.tensor(net.running_var.copy())

    def norm(layer, v):
        if cfg.normalization == "batch":
            return F.batch_norm(
                v,
                running_mean[layer],
                running_var[layer],
                gammas[layer],
                betas[layer],
                training=training,
                momentum=0.1,
                eps=EPS,
            )
        if cfg.normalization == "layer":
            return F.layer_norm(v, (cfg.width,), gammas[layer], betas[layer], eps=EPS)
        return v

    pre = cfg.residual and cfg.residual_form == "pre-activation"
    h = torch.tensor(x, dtype=torch.float64)
    zs, hs = [], []
    for layer in range(cfg.depth):
        if pre and layer > 0:
            z = f(norm(layer, h)) @ ws[layer] + bs[layer]
            z.retain_grad()
            h = h + z
        else:
            z = h @ ws[layer] + bs[layer]
            z.retain_grad()
            a = f(norm(layer, z))
            h = h + a if (cfg.residual and layer > 0) else a
        h.retain_grad()
        zs.append(z)
        hs.append(h)
    logits = h @ ws[-1] + bs[-1]
    loss = F.cross_entropy(logits, torch.tensor(y))
    if not training:
        return float(loss.detach())
    loss.backward()
    return (
        float(loss.detach()),
        [w.grad.numpy() for w in ws],
        [z.grad.numpy() for z in zs],
        [hh.grad.numpy() for hh in hs],
        running_mean.numpy(),
        running_var.numpy(),
    )


CASES = [
    (act, norm, form)
    for form in FORMS
    for norm in NORMALIZATIONS
    for act in (("tanh", "relu", "sigmoid", "gelu") if form == "pre-activation" else ("tanh",))
]


@pytest.mark.parametrize(("activation", "normalization", "form"), CASES)
def test_engine_matches_autograd(activation, normalization, form):
    x, y = make_dataset("spiral", n=48, noise=0.1, seed=1)
    config = NetworkConfig(
        depth=8,
        width=12,
        activation=activation,
        normalization=normalization,
        residual=form != "plain",
        residual_form="post-activation" if form == "plain" else form,
        init="he" if activation == "relu" else "xavier",
        seed=5,
    )
    net = Network(config)
    rng = np.random.default_rng(9)
    for p in net.params:  # a generic point: biases, gamma and beta off their initial values
        p["b"][...] = 0.1 * rng.standard_normal(p["b"].shape)
        if "gamma" in p:
            p["gamma"][...] = 1.0 + 0.2 * rng.standard_normal(p["gamma"].shape)
            p["beta"][...] = 0.1 * rng.standard_normal(p["beta"].shape)
    loss, dws, dzs, _, running_mean, running_var = torch_pass(net, x, y)
    stats = net.train_step(x, y, learning_rate=0.0)  # lr 0: statistics and running stats only

    assert stats.loss == pytest.approx(loss, rel=RTOL)
    np.testing.assert_allclose(stats.weight_grad_norms, [np.linalg.norm(g) for g in dws], rtol=RTOL)
    np.testing.assert_allclose(stats.signal_grad_norms, [np.linalg.norm(g) for g in dzs], rtol=RTOL)
    for engine_grad, reference in zip(net.grads, dws, strict=True):
        np.testing.assert_allclose(engine_grad["W"], reference, rtol=1e-7, atol=1e-12)
    if normalization == "batch":
        np.testing.assert_allclose(net.running_mean, running_mean, rtol=RTOL, atol=1e-14)
        np.testing.assert_allclose(net.running_var, running_var, rtol=RTOL)
    # Evaluation mode (the decision regions, the whole-dataset loss): the same layers, batch
    # norm on the running statistics the step just updated.
    eval_loss, _ = net.evaluate(x, y)
    assert eval_loss == pytest.approx(torch_pass(net, x, y, training=False), rel=RTOL)


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("form", FORMS)
def test_residual_stream_gradient_matches_autograd(normalization, form):
    """StepStats.stream_grad_norms = ‖dL/dh_l‖ per hidden layer, against autograd."""
    x, y = make_dataset("spiral", n=48, noise=0.1, seed=2)
    config = NetworkConfig(
        depth=10,
        width=12,
        activation="sigmoid",
        normalization=normalization,
        residual=form != "plain",
        residual_form="post-activation" if form == "plain" else form,
        seed=3,
    )
    net = Network(config)
    _, _, _, dhs, _, _ = torch_pass(net, x, y)
    stats = net.gradients(x, y)
    np.testing.assert_allclose(stats.stream_grad_norms, [np.linalg.norm(g) for g in dhs], rtol=RTOL)
    if form == "pre-activation":  # h_l = h_{l-1} + z_l: the same gradient for l >= 2
        np.testing.assert_allclose(
            stats.stream_grad_norms[1:], stats.signal_grad_norms[1:], rtol=1e-14
        )
