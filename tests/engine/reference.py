"""An independent, deliberately plain re-implementation of the engine contract (DESIGN.md).

The finite-difference tests use it to perturb the linear outputs z_l directly, which the engine
gives no handle for, and to check that the engine's forward pass is the documented one. Nothing
here imports the engine's math: activations, normalization and the loss are written out from
their textbook formulas.
"""

from __future__ import annotations

import numpy as np

NORM_EPS = 1e-5  # DESIGN.md: batch and layer norm use eps 1e-5 and the biased variance
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, LEAKY_SLOPE * x),
    "elu": lambda x: np.where(x > 0, x, ELU_ALPHA * (np.exp(np.minimum(x, 0.0)) - 1.0)),
    # GELU, tanh approximation (Hendrycks & Gimpel 2016).
    "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: x * _sigmoid(x),
    "linear": lambda x: x,
}


def _normalize(z, axis):
    mean = z.mean(axis=axis, keepdims=True)
    var = ((z - mean) ** 2).mean(axis=axis, keepdims=True)
    return (z - mean) / np.sqrt(var + NORM_EPS)


def forward(params, x, y, activation, normalization, residual, z_offsets=None, h_offsets=None):
    """(loss, zs, us) of the contract's forward pass in training mode.

    ``params`` is the engine's list of dicts (read only). ``residual`` is False (plain), True or
    "post-activation" (h = h_prev + f(norm(h_prev W + b))), or "pre-activation" (He et al.
    2016: h = h_prev + f(norm(h_prev)) W + b for layers 2..depth). ``z_offsets`` maps a 0-based
    hidden layer index to an array added to that layer's z, which is how dL/dz is probed;
    ``h_offsets`` likewise adds to the layer's output h, which probes dL/dh.
    """
    f = ACTIVATIONS[activation]
    form = "post-activation" if residual is True else residual
    h = np.asarray(x, dtype=np.float64)
    zs, us = [], []

    def norm(p, v):
        if normalization == "none":
            return v
        return p["gamma"] * _normalize(v, 0 if normalization == "batch" else 1) + p["beta"]

    for layer, p in enumerate(params[:-1]):
        if form == "pre-activation" and layer >= 1:
            u = norm(p, h)
            z = f(u) @ p["W"] + p["b"]
            if z_offsets and layer in z_offsets:
                z = z + z_offsets[layer]
            h = h + z
        else:
            z = h @ p["W"] + p["b"]
            if z_offsets and layer in z_offsets:
                z = z + z_offsets[layer]
            u = norm(p, z)
            a = f(u)
            h = h + a if (form and layer >= 1) else a
        if h_offsets and layer in h_offsets:
            h = h + h_offsets[layer]
        zs.append(z)
        us.append(u)
    logits = h @ params[-1]["W"] + params[-1]["b"]
    top = logits.max(axis=1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].mean()
    return float(loss), zs, us


def five_point_derivative(fn, h):
    """f'(0) of a scalar function by the 5-point central stencil (error O(h⁴))."""
    return (fn(-2 * h) - 8 * fn(-h) + 8 * fn(h) - fn(2 * h)) / (12 * h)
