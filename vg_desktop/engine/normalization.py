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
