"""Batch and layer normalization: forward and backward passes.

Both compute x̂ = (z − μ) / sqrt(σ² + eps) with the biased variance, then u = γ·x̂ + β. Batch norm
takes μ, σ² over the batch (axis 0, per feature); layer norm over the features (axis 1, per
sample). Batch norm keeps running averages for evaluation mode (momentum 0.1, as in PyTorch).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-5
RUNNING_MOMENTUM = 0.1


def normalize_forward(z: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(x̂, 1/sqrt(σ² + eps)) with statistics taken along ``axis``."""
    mean = z.mean(axis=axis, keepdims=True)
    centered = z - mean
    var = np.mean(centered * centered, axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + EPS)
    return centered * inv_std, inv_std


def normalize_backward(
    d_xhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axis: int
) -> np.ndarray:
    """dL/dz from dL/dx̂ for x̂ = (z − mean(z)) / sqrt(var(z) + eps) along ``axis``.

    dz = inv_std · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), the means taken along ``axis``.
    """
    mean_d = d_xhat.mean(axis=axis, keepdims=True)
    mean_dx = np.mean(d_xhat * xhat, axis=axis, keepdims=True)
    return inv_std * (d_xhat - mean_d - xhat * mean_dx)


# ------------------------------------------------------------------ in-place forms
# The training loop calls these once per layer per step, with buffers it allocated once, so they
# write with ``out=`` instead of returning new arrays. A mean along an axis is ``np.add.reduce``
# then a division, which is what ``z.mean(axis)`` computes, bit for bit, minus its Python-level
# wrapper; statistics keep their reduced axis: (1, width) for batch norm, (batch, 1) for layer
# norm.


def mean_into(m: np.ndarray, axis: int, out: np.ndarray) -> None:
    """out = mean of ``m`` along ``axis`` (``out`` keeps that axis, with length 1)."""
    np.add.reduce(m, axis=axis, keepdims=True, out=out)
    np.divide(out, m.shape[axis], out=out)


def normalize_forward_into(
    z: np.ndarray,
    axis: int,
    xhat: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    inv_std: np.ndarray,
    scratch: np.ndarray,
) -> None:
    """:func:`normalize_forward` into buffers: x̂, and μ, the biased σ², 1/sqrt(σ² + eps)."""
    mean_into(z, axis, mean)
    np.subtract(z, mean, out=xhat)  # centred z
    np.multiply(xhat, xhat, out=scratch)
    mean_into(scratch, axis, var)
    np.add(var, EPS, out=inv_std)
    np.sqrt(inv_std, out=inv_std)
    np.divide(1.0, inv_std, out=inv_std)
    xhat *= inv_std


def batch_norm_backward_into(
    du: np.ndarray,
    xhat: np.ndarray,
    inv_std: np.ndarray,
    gamma: np.ndarray,
    d_gamma: np.ndarray,
    d_beta: np.ndarray,
    dz: np.ndarray,
    scratch: np.ndarray,
    scale: np.ndarray,
) -> None:
    """Batch norm's backward pass, u = γ·x̂ + β with statistics over the batch (axis 0).

    With dx̂ = γ·du, the two batch means in :func:`normalize_backward` are the parameter
    gradients again: mean(dx̂) = γ·dβ/B and mean(dx̂·x̂) = γ·dγ/B, where dβ = Σ_b du and
    dγ = Σ_b du·x̂. So::

        dz = γ·inv_std · (du − (dβ + x̂·dγ) / B)

    ``d_gamma`` and ``d_beta`` (the gradient buffers, shape (width,)) are filled on the way;
    ``scale`` is a (1, width) buffer.
    """
    batch = du.shape[0]
    np.multiply(du, xhat, out=scratch)
    np.add.reduce(scratch, axis=0, out=d_gamma)  # dγ = Σ_b du·x̂
    np.add.reduce(du, axis=0, out=d_beta)  # dβ = Σ_b du
    np.multiply(xhat, d_gamma, out=scratch)
    scratch += d_beta
    scratch *= 1.0 / batch
    np.subtract(du, scratch, out=dz)
    np.multiply(gamma, inv_std, out=scale)
    dz *= scale


def normalize_backward_into(
    d_xhat: np.ndarray,
    xhat: np.ndarray,
    inv_std: np.ndarray,
    axis: int,
    dz: np.ndarray,
    scratch: np.ndarray,
    mean_d: np.ndarray,
    mean_dx: np.ndarray,
) -> None:
    """:func:`normalize_backward` into ``dz``; ``mean_d``, ``mean_dx`` are statistic buffers."""
    mean_into(d_xhat, axis, mean_d)
    np.multiply(d_xhat, xhat, out=scratch)
    mean_into(scratch, axis, mean_dx)
    np.multiply(xhat, mean_dx, out=scratch)
    np.subtract(d_xhat, mean_d, out=dz)
    dz -= scratch
    dz *= inv_std
