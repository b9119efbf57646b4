"""Per-step statistics and the numerically careful norms they are made of.

Vanishing gradients live where naive arithmetic fails: a float32 sum of squares underflows to zero
for entries below ~1e-19, and a float64 one below ~1e-154. Norms here are taken in float64 and,
whenever the plain sum of squares would leave the safe range, rescaled by the power of two just
above the largest entry (exactly), so a 1e-200 gradient is reported as 1e-200, not 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Inside this range a float64 sum of squares has lost nothing to underflow or overflow.
SAFE_LOW = _SAFE_LOW = 1e-280
SAFE_HIGH = _SAFE_HIGH = 1e280


def safe_norm(a: np.ndarray) -> float:
    """Euclidean (Frobenius) norm of ``a`` without underflow or overflow; NaN if ``a`` has NaN."""
    flat = np.asarray(a).ravel()
    if flat.size == 0:
        return 0.0
    flat = flat.astype(np.float64, copy=False)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ss = float(np.dot(flat, flat))
    if _SAFE_LOW < ss < _SAFE_HIGH:
        return float(np.sqrt(ss))
    return float(_scaled_row_norms(flat.reshape(1, -1))[0])


def segment_norms(flat: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Norms of the segments ``flat[starts[k]:ends[k]]``, in one pass over ``flat``.

    The fast path sums squares per segment with one ``reduceat``; any segment whose sum left the
    safe range is recomputed with :func:`safe_norm`.
    """
    flat64 = flat.astype(np.float64, copy=False)
    bounds = np.empty(2 * len(starts), dtype=np.intp)
    bounds[0::2] = starts
    bounds[1::2] = ends
    with np.errstate(over="ignore", under="ignore"):
        squares = flat64 * flat64
    if bounds[-1] >= flat64.size:
        # reduceat needs every index inside the array; sum the tail segment separately.
        sums = np.add.reduceat(squares, bounds[:-1])[0::2]
    else:
        sums = np.add.reduceat(squares, bounds)[0::2]
    norms = np.sqrt(sums)
    unsafe = ~((sums > _SAFE_LOW) & (sums < _SAFE_HIGH))
    for k in np.flatnonzero(unsafe):
        norms[k] = safe_norm(flat64[starts[k] : ends[k]])
    return norms


def row_norms(stack: np.ndarray) -> np.ndarray:
    """Norm of each ``stack[k]`` (any trailing shape), safe as :func:`safe_norm`.

    ``stack`` may be a strided view (the network passes every hidden layer's weights at once as
    rows of one view into its flat parameter buffer). Squares are summed in float64 whatever the
    dtype, without converting the whole stack first; rows whose sum left the safe range are
    recomputed, all together, by :func:`_scaled_row_norms`.
    """
    rows = stack.reshape(stack.shape[0], -1)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        sums = np.einsum("ij,ij->i", rows, rows, dtype=np.float64)
    return norms_from_sums_of_squares(sums, rows)


def is_safe_sum(sums: np.ndarray) -> np.ndarray:
    """Where a float64 sum of squares lost nothing to underflow or overflow (False for NaN)."""
    return (sums > _SAFE_LOW) & (sums < _SAFE_HIGH)


def norms_from_sums_of_squares(sums: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """sqrt(sums), where ``sums[k]`` is the float64 sum of squares of ``rows[k]``.

    Rows whose sum left the safe range (underflow, overflow, NaN) are recomputed from ``rows``.
    The squares of float32 (or narrower) entries can neither underflow nor overflow in float64,
    so for those the plain square root is already exact, zero rows, inf and NaN included.
    """
    norms = np.sqrt(sums)
    if rows.dtype.itemsize < 8:
        return norms
    unsafe = np.flatnonzero(~is_safe_sum(sums))
    if unsafe.size:
        norms[unsafe] = _scaled_row_norms(rows[unsafe])
    return norms


def _scaled_row_norms(rows: np.ndarray) -> np.ndarray:
    """Row norms as ‖r‖ = 2^e · ‖r · 2^(−e)‖, with 2^e just above the row's largest entry.

    Scaling by a power of two is exact, and works where 1/max would overflow (subnormal rows).
    Rows of zeros give 0, rows holding ±inf give inf, rows holding NaN give NaN.
    """
    rows64 = rows.astype(np.float64, copy=False)
    biggest = np.max(np.abs(rows64), axis=1)  # NaN if the row has NaN
    norms = biggest.copy()  # right as it is for zero, infinite and NaN rows
    ok = np.flatnonzero((biggest > 0) & np.isfinite(biggest))
    if ok.size:
        _, exponents = np.frexp(biggest[ok])
        with np.errstate(under="ignore"):
            scaled = np.ldexp(rows64[ok], -exponents[:, None])
            norms[ok] = np.ldexp(np.sqrt(np.einsum("ij,ij->i", scaled, scaled)), exponents)
    return norms


@dataclass(frozen=True)
class StepStats:
    """What one forward + backward pass measured, every per-layer array in input -> output order.

    Attributes
    ----------
    loss, accuracy
        Mean softmax cross-entropy and the fraction classified correctly, on this batch.
    weight_grad_norms
        (depth + 1,) ‖dL/dW_l‖ for each hidden layer, then the output layer.
    signal_grad_norms
        (depth,) ‖dL/dz_l‖, the back-propagated signal at hidden layer l's linear output
        z_l = h_{l-1} W_l + b_l (norm over the whole batch).
    update_ratios
        (depth + 1,) ‖ΔW_l‖ / ‖W_l‖ of the SGD step (for :meth:`Network.gradients`, the step
        plain SGD would take at the given learning rate; NaN when no learning rate was given).
    weight_norms
        (depth + 1,) ‖W_l‖ before the step.
    mean_derivatives
        (depth,) mean of f'(u_l) over the batch and units (0.2066 for sigmoid with
        u ~ N(0, 1); 0.5 for ReLU).
    rms_derivatives
        (depth,) root mean square √E[f'(u_l)²] over the batch and units: the factor by which
        layer l's activation scales the *norm* of the gradient passing through it, since
        ‖g ⊙ f'(u)‖ ≈ ‖g‖·√E[f'²] when g and f'(u) are independent (sigmoid under N(0, 1):
        0.2117; ReLU: 1/√2 = 0.707, which He's √2 weight gain exactly offsets).
    saturated_fractions
        (depth,) share of units whose |f'(u)| is below 10 % of f's peak derivative (for ReLU: the
        dead units, u <= 0).
    predicted_signal_norms
        (depth,) the chain-rule estimate of ‖dL/dz_l‖: start from the last hidden layer's measured
        value and multiply, layer by layer toward the input, by the RMS of f'(u_l) and the weight
        gain ‖W_{l+1}‖_F / sqrt(fan_out). It models a plain stack only (see
        :func:`chain_rule_model_note`): a normalization's backward pass and a residual path add
        factors it leaves out, and there it can miss by many orders of magnitude.
    preactivations
        list of depth arrays (batch, width): u_l, the inputs of each layer's activation.
    stream_grad_norms
        (depth,) ‖dL/dh_l‖, the gradient at hidden layer l's output h_l: in a residual network
        the gradient the identity path (the residual stream) carries down, which the branch
        gradient ‖dL/dz_l‖ can be far below while it stays healthy. In the pre-activation block
        dL/dz_l = dL/dh_l for l >= 2; in a plain stack h_l = a_l, so it is ‖dL/da_l‖.
    distance_from_init
        (depth + 1,) ‖W_l − W_l(0)‖_F / ‖W_l(0)‖_F before the step, output layer last: how far
        each layer's weights have moved from those the network was built with (see
        :meth:`Network.distance_from_init`).
    """

    loss: float
    accuracy: float
    weight_grad_norms: np.ndarray
    signal_grad_norms: np.ndarray
    update_ratios: np.ndarray
    weight_norms: np.ndarray
    mean_derivatives: np.ndarray
    rms_derivatives: np.ndarray
    saturated_fractions: np.ndarray
    predicted_signal_norms: np.ndarray
    preactivations: list[np.ndarray]
    stream_grad_norms: np.ndarray
    distance_from_init: np.ndarray

    @property
    def finite(self) -> bool:
        """False once the loss or any gradient norm is NaN or infinite (the run diverged)."""
        return bool(
            np.isfinite(self.loss)
            and np.all(np.isfinite(self.weight_grad_norms))
            and np.all(np.isfinite(self.signal_grad_norms))
        )

    @property
    def depth(self) -> int:
        return len(self.signal_grad_norms)


def chain_rule_prediction(
    last_signal_norm: float, rms_derivatives: np.ndarray, weight_gains: np.ndarray
) -> np.ndarray:
    """Chain-rule estimate of each hidden layer's ‖dL/dz_l‖ (see :class:`StepStats`).

    ``rms_derivatives[l]`` is √E[f'(u_l)²]; ``weight_gains[l]`` is the gain of the weights
    *above* hidden layer l (for l = 0..depth-2). Why RMS and not the mean: dL/dz_l = dL/dh_l ⊙
    f'(u_l), and the norm of an element-wise product with independent factors scales with the
    root mean square of f', not its mean (ReLU: 0.707 against 0.5 — over 20 layers the mean
    would predict a 1,000-fold vanishing where the gradient is flat).
    """
    depth = len(rms_derivatives)
    factors = np.abs(rms_derivatives[:-1]) * weight_gains
    pred = np.empty(depth)
    pred[-1] = last_signal_norm
    # pred[l] = pred[l + 1] * factor[l]: a reversed cumulative product.
    if depth > 1:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            pred[:-1] = last_signal_norm * np.cumprod(factors[::-1])[::-1]
    return pred


def chain_rule_model_note(normalization: str, residual: bool) -> str:
    """Why the chain-rule estimate does not describe this network ("" for a plain stack).

    The estimate multiplies one factor per layer: RMS f′ × weight gain. Batch and layer norm
    multiply each layer's gradient by γ/σ and project out two directions (at initialization in
    deep stacks this makes it grow toward the input); a residual path adds the gradient from
    above to each layer's. Neither is in the product, so there it misses by up to 10¹⁵ or more.
    """
    reasons = []
    if normalization != "none":
        reasons.append(f"{normalization} norm rescales each layer's gradient")
    if residual:
        reasons.append("the residual path adds the gradient from above")
    if not reasons:
        return ""
    return (
        "Chain-rule estimate not shown: it models a plain stack, and here "
        + " and ".join(reasons)
        + "."
    )
