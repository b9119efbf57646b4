"""Invariants the engine's performance work relies on (see benchmarks/NOTES.md).

The training step reuses preallocated buffers, fuses the bias into the matmul through a column
of ones, takes the SGD step in chunks, and flushes subnormal gradients. None of that may leak
into what the API returns: statistics from one call never change under a later one, buffers
are never shared with what is handed out, results do not depend on the batch sizes seen
before, and flushing touches nothing above the subnormal range.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from vg_desktop.engine import Network, NetworkConfig, StepStats, make_dataset, safe_norm

SETTINGS = [
    dict(activation="sigmoid"),
    dict(activation="tanh", normalization="batch", residual=True),
    dict(activation="relu", normalization="layer", init="he"),
    dict(activation="gelu", dtype="float32"),
    dict(activation="tanh", normalization="batch", residual=True, residual_form="pre-activation"),
    dict(activation="relu", residual=True, residual_form="pre-activation", init="he"),
    dict(
        activation="sigmoid",
        normalization="layer",
        residual=True,
        residual_form="pre-activation",
        dtype="float32",
    ),
]
IDS = [
    "sigmoid",
    "tanh-batch-residual",
    "relu-layer",
    "gelu-float32",
    "tanh-batch-preact",
    "relu-preact",
    "sigmoid-layer-preact-float32",
]


def _arrays(stats: StepStats) -> dict[str, np.ndarray]:
    out = {}
    for f in fields(StepStats):
        value = getattr(stats, f.name)
        if f.name == "preactivations":
            for layer, u in enumerate(value):
                out[f"u{layer}"] = u
        elif isinstance(value, np.ndarray):
            out[f.name] = value
    return out


def _snapshot(stats: StepStats) -> dict[str, object]:
    return {
        "loss": stats.loss,
        "accuracy": stats.accuracy,
        **{k: v.copy() for k, v in _arrays(stats).items()},
    }


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_statistics_of_one_call_never_change_under_later_calls(settings):
    x, y = make_dataset("spiral", n=48, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=5, width=12, **settings))
    first = net.train_step(x, y, learning_rate=0.1, momentum=0.9)
    kept = _snapshot(first)
    probe = net.gradients(x, y, learning_rate=0.1)
    kept_probe = _snapshot(probe)
    for _ in range(3):
        net.train_step(x, y, learning_rate=0.1, momentum=0.9)
        net.gradients(x[:20], y[:20])  # another batch size: another workspace
    for stats, expected in ((first, kept), (probe, kept_probe)):
        assert stats.loss == expected["loss"] and stats.accuracy == expected["accuracy"]
        for name, value in _arrays(stats).items():
            assert value.tobytes() == expected[name].tobytes(), name


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_returned_arrays_share_no_memory_with_the_network_or_each_other(settings):
    x, y = make_dataset("moons", n=32, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=4, width=8, **settings))
    a = net.train_step(x, y, learning_rate=0.1)
    b = net.train_step(x, y, learning_rate=0.1)
    owned = [net._flat, net._grad_flat, net.running_mean, net.running_var]
    workspace = net._workspace
    owned += [v for v in vars(workspace).values() if isinstance(v, np.ndarray)]
    for name, value in _arrays(a).items():
        for buffer in owned:
            assert not np.shares_memory(value, buffer), name
        for other in _arrays(b).values():
            assert not np.shares_memory(value, other), name


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_results_do_not_depend_on_the_batch_sizes_seen_before(settings):
    x, y = make_dataset("circles", n=64, noise=0.1, seed=0)
    cfg = NetworkConfig(depth=4, width=10, **settings)
    fresh = Network(cfg).gradients(x, y, learning_rate=0.1)
    used = Network(cfg)
    used.gradients(x[:16], y[:16])
    used.gradients(x[:40], y[:40], learning_rate=0.3)
    again = used.gradients(x, y, learning_rate=0.1)
    for name, value in _arrays(fresh).items():
        np.testing.assert_array_equal(_arrays(again)[name], value, err_msg=name)
    assert again.loss == fresh.loss


def test_params_stay_views_of_the_flat_buffer_the_fused_matmul_reads():
    """W and b are one [W; b] block: changing b through ``params`` changes z = h W + b."""
    x, y = make_dataset("xor", n=16, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=2, width=4))
    u_before = net.gradients(x, y).preactivations[0].copy()
    net.params[0]["b"][...] += 0.5
    u_after = net.gradients(x, y).preactivations[0]
    np.testing.assert_allclose(u_after, u_before + 0.5, rtol=1e-12, atol=1e-12)


def test_chunked_sgd_step_on_a_network_larger_than_one_chunk():
    """256 × 256 hidden layers: more parameters than one update chunk holds."""
    x, y = make_dataset("spiral", n=32, noise=0.1, seed=0)
    net = Network(NetworkConfig(depth=3, width=256, normalization="batch"))
    assert net._flat.size > 2 * net._update.size
    before = net._flat.copy()
    net.gradients(x, y)
    grad = net._grad_flat.copy()
    net.train_step(x, y, learning_rate=0.25)
    np.testing.assert_array_equal(net._flat, before - np.float64(0.25) * grad)


def _plain_backprop(net: Network, x: np.ndarray, y: np.ndarray):
    """(dL/dz_l, dL/dW_l) of a plain sigmoid stack, written the obvious way: no flushing, no
    scaling."""
    hs, a = [], np.asarray(x, dtype=net.dtype)
    for p in net.params[:-1]:
        hs.append(a)
        a = 1.0 / (1.0 + np.exp(-(a @ p["W"] + p["b"])))
    hs.append(a)
    logits = a @ net.params[-1]["W"] + net.params[-1]["b"]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1.0
    dh = (probs / len(y)) @ net.params[-1]["W"].T
    dzs, dws, dhs = [], [], []
    for layer in range(len(net.params) - 2, -1, -1):
        a = hs[layer + 1]
        dhs.append(dh)
        dz = dh * a * (1.0 - a)
        dzs.append(dz)
        dws.append(hs[layer].T @ dz)
        dh = dz @ net.params[layer]["W"].T
    return dzs[::-1], dws[::-1], dhs[::-1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_subnormal_flush_changes_nothing_above_the_subnormal_range(dtype):
    """Deep sigmoid with 'small' init: the signal falls through the subnormal range (the
    engine flushes it there and multiplies tiny layers scaled by 2^k). Every layer whose plain
    signal stays comfortably normal is reported as the plain computation gives it; below, the
    report is that value or 0, never anything else."""
    x, y = make_dataset("spiral", n=32, noise=0.1, seed=0)
    depth = 160 if dtype == "float64" else 24
    net = Network(NetworkConfig(depth=depth, width=16, init="small", dtype=dtype))
    with np.errstate(all="ignore"):
        dzs, dws, dhs = _plain_backprop(net, x, y)
        plain_signal = [np.linalg.norm(dz.astype(np.float64)) for dz in dzs]
        plain_weight = [np.linalg.norm(dw.astype(np.float64)) for dw in dws]
        plain_stream = [safe_norm(dh) for dh in dhs]
    stats = net.gradients(x, y)
    tiny = np.finfo(dtype).tiny
    assert stats.signal_grad_norms[0] == 0.0 and plain_signal[-1] > 1e-10  # crosses the range
    rtol = 1e-9 if dtype == "float64" else 1e-4
    for reported, plain in (
        (stats.signal_grad_norms, plain_signal),
        (stats.weight_grad_norms[:-1], plain_weight),
        (stats.stream_grad_norms, plain_stream),  # below 1e-140: kept and rescaled exactly
    ):
        for layer, (got, want) in enumerate(zip(reported, plain, strict=True)):
            if want > 1e6 * tiny:
                assert got == pytest.approx(want, rel=rtol), layer
            else:
                assert got == 0.0 or got == pytest.approx(want, rel=1e-2), layer


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_step_without_statistics_is_the_same_step(settings, momentum):
    """train_step_lean skips only the per-layer statistics: mixed with full steps, the
    parameters, running statistics, losses and accuracies stay identical, bit for bit."""
    x, y = make_dataset("spiral", n=128, noise=0.1, seed=3)
    config = NetworkConfig(depth=6, width=12, seed=4, **settings)
    full, mixed = Network(config), Network(config)
    for i in range(12):
        batch = slice(16 * (i % 4), 16 * (i % 4) + 32)
        stats = full.train_step(x[batch], y[batch], 0.05, momentum)
        if i % 3:
            lean = mixed.train_step_lean(x[batch], y[batch], 0.05, momentum)
            assert lean.finite and lean.zero_layers == 0
            result = (lean.loss, lean.accuracy)
        else:
            other = mixed.train_step(x[batch], y[batch], 0.05, momentum)
            result = (other.loss, other.accuracy)
        assert result == (stats.loss, stats.accuracy)
    for a, b in zip(full.state_arrays().values(), mixed.state_arrays().values(), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("normalization", ["none", "batch"])
def test_pre_activation_gradients_through_the_subnormal_range(normalization):
    """Pre-activation blocks carry dL/dh_l down the identity path, so every layer's signal is
    about the size of the top one's. Scaling W_out by s scales every gradient below it by s
    (the logits barely move for tiny s): at s = 1e-300 the engine takes its scaled path in
    every layer (‖dz‖² below the smallest normal float) and must report s times what it
    reports at s = 1e-10; at s = 1e-320 every dL/dz entry is subnormal and reads 0."""
    x, y = make_dataset("spiral", n=32, noise=0.1, seed=0)
    config = NetworkConfig(
        depth=6,
        width=8,
        activation="tanh",
        normalization=normalization,
        residual=True,
        residual_form="pre-activation",
    )
    reports = {}
    for scale in (1e-10, 1e-300, 1e-320):
        net = Network(config)
        net.params[-1]["W"][...] *= scale
        stats = net.gradients(x, y)
        reports[scale] = (stats, [g["W"].copy() for g in net.grads[:-1]])
    normal, _ = reports[1e-10]
    tiny, tiny_w = reports[1e-300]
    np.testing.assert_allclose(
        tiny.signal_grad_norms / 1e-300, normal.signal_grad_norms / 1e-10, rtol=1e-6
    )
    np.testing.assert_allclose(
        tiny.weight_grad_norms[:-1] / 1e-300, normal.weight_grad_norms[:-1] / 1e-10, rtol=1e-6
    )
    assert all(np.all(np.isfinite(w)) for w in tiny_w)
    zero, zero_w = reports[1e-320]
    assert np.all(zero.signal_grad_norms == 0.0)
    assert all(not w.any() for w in zero_w)


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_keeping_only_the_shown_preactivation_rows_changes_no_statistic(settings):
    """The training loop asks for the first rows of each layer's pre-activations only (what a
    snapshot shows; the whole stack was 200 MB at the largest settings). Every statistic, the
    kept rows and the parameters after the step must be exactly those of the full call."""
    x, y = make_dataset("spiral", n=96, seed=3)
    config = NetworkConfig(depth=6, width=16, seed=5, **settings)
    full_net, lean_net = Network(config), Network(config)
    rows = 3
    for step in range(4):
        if step == 0:  # the probe the loop shows a new network with
            full = full_net.gradients(x[:64], y[:64], learning_rate=0.1)
            kept = lean_net.gradients(x[:64], y[:64], learning_rate=0.1, preactivation_rows=rows)
        else:
            full = full_net.train_step(x[:64], y[:64], 0.1, momentum=0.9)
            kept = lean_net.train_step(x[:64], y[:64], 0.1, momentum=0.9, preactivation_rows=rows)
        assert full.loss == kept.loss and full.accuracy == kept.accuracy
        for f in fields(StepStats):
            a, b = getattr(full, f.name), getattr(kept, f.name)
            if f.name == "preactivations":
                assert len(a) == len(b) == config.depth
                for u_full, u_kept in zip(a, b, strict=True):
                    np.testing.assert_array_equal(u_kept, u_full[:rows])
                    assert u_kept.shape == (rows, config.width)
            elif isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b, err_msg=f.name)
        np.testing.assert_array_equal(full_net._flat, lean_net._flat)
    # The kept rows are copies: the next step does not change them.
    before = [u.copy() for u in kept.preactivations]
    lean_net.train_step(x[:64], y[:64], 0.1, preactivation_rows=rows)
    for u, old in zip(kept.preactivations, before, strict=True):
        np.testing.assert_array_equal(u, old)
