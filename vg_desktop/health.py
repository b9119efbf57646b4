"""Classify per-layer gradient quantities as vanishing, healthy or exploding (NumPy only, no Qt).

The rule is printed in the gradient-bar legend, so it has to be one a teacher can defend:

* **signal** (‖∂L/∂z_l‖) and **weight** (‖∂L/∂W_l‖) are compared with a *reference*: the value
  at the last hidden layer, which is where the loss gradient enters the hidden stack. What the
  lesson is about is how that gradient changes on its way toward the input, not its absolute size
  (the absolute size also depends on the loss, the batch and the learning problem). A layer that
  receives at most 1/100 of the reference (two decades less) is *vanishing*; at least 100 times the
  reference is *exploding*. Two decades is wide enough that ordinary layer-to-layer scatter of a
  healthy network (a factor 2–10) never trips it, and narrow enough that a sigmoid stack crosses it
  after a handful of layers (0.25³ ≈ 1/64, 0.25⁴ ≈ 1/256).
* Independently of the reference, a non-finite value (NaN, ±Inf) or an absolute value above 10⁶ is
  *exploding*: the run has diverged, or is about to.
* **update** (‖ΔW_l‖ / ‖W_l‖ of one SGD step) is already relative to the weights, so it uses fixed
  thresholds around the common ~10⁻³ rule of thumb: below 10⁻⁵ the layer effectively does not learn
  (*vanishing*: 100 000 steps to change its weights by their own size); above 10⁻¹ one step rewrites
  a tenth of the weights (*exploding*). Non-finite ratios are exploding.
* Zero counts as vanishing: no gradient arrived at all.

For "weight" and "update" the arrays hold depth + 1 values, the output layer last; the reference
for "weight" is then the second-to-last entry (the last *hidden* layer). For "signal" and "stream"
(‖∂L/∂h_l‖ of a residual network; depth values, hidden layers only) it is the last entry.
"""

from __future__ import annotations

import numpy as np

VANISHING = 0
HEALTHY = 1
EXPLODING = 2

QUANTITIES = ("signal", "weight", "update", "stream", "distance")
# Arrays of these quantities hold depth + 1 values, the output layer last.
WITH_OUTPUT_LAYER = ("weight", "update", "distance")

# Relative thresholds for "signal" and "weight", as a ratio to the reference layer.
VANISHING_RATIO = 1e-2
EXPLODING_RATIO = 1e2
# Any absolute value above this is exploding, whatever the reference says.
ABSOLUTE_LIMIT = 1e6
# Fixed thresholds for "update" (‖ΔW‖ / ‖W‖ per step).
UPDATE_VANISHING = 1e-5
UPDATE_EXPLODING = 1e-1

LABELS = {VANISHING: "vanishing", HEALTHY: "healthy", EXPLODING: "exploding"}


def _check_quantity(quantity: str) -> None:
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}; got {quantity!r}")


def reference_index(n_values: int, quantity: str) -> int:
    """Index of the last hidden layer in an array of ``n_values`` values of ``quantity``.

    "weight" arrays end with the output layer, so the last hidden layer is one before the end
    (with a single value there is nothing else to compare with, so it is its own reference).
    """
    _check_quantity(quantity)
    if quantity in ("weight", "distance") and n_values >= 2:
        return n_values - 2
    return n_values - 1


def reference_value(values: np.ndarray, quantity: str) -> float:
    """The reference value the relative rule compares with (NaN for "update" or empty input)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if quantity == "update" or values.size == 0:
        _check_quantity(quantity)
        return float("nan")
    return float(values[reference_index(values.size, quantity)])


def classify(values: np.ndarray, quantity: str) -> np.ndarray:
    """Health code (VANISHING, HEALTHY or EXPLODING) of each value; see the module docstring.

    Parameters
    ----------
    values
        Per-layer norms in input -> output order (1-D).
    quantity
        "signal", "weight" or "update".

    Returns
    -------
    numpy.ndarray
        int8 codes, same length as ``values``.
    """
    _check_quantity(quantity)
    v = np.asarray(values, dtype=np.float64).ravel()
    codes = np.full(v.shape, HEALTHY, dtype=np.int8)
    if v.size == 0:
        return codes
    finite = np.isfinite(v)
    magnitude = np.abs(v)
    with np.errstate(all="ignore"):
        if quantity == "update":
            codes[finite & (magnitude < UPDATE_VANISHING)] = VANISHING
            codes[finite & (magnitude > UPDATE_EXPLODING)] = EXPLODING
        else:
            ref = abs(v[reference_index(v.size, quantity)])
            if np.isfinite(ref) and ref > 0:
                ratio = magnitude / ref
                codes[finite & (ratio <= VANISHING_RATIO)] = VANISHING
                codes[finite & (ratio >= EXPLODING_RATIO)] = EXPLODING
            codes[finite & (magnitude > ABSOLUTE_LIMIT)] = EXPLODING
    codes[finite & (magnitude == 0)] = VANISHING
    codes[~finite] = EXPLODING
    return codes


def label(code: int) -> str:
    """The word for a health code: "vanishing", "healthy" or "exploding"."""
    return LABELS[int(code)]


def describe(quantity: str) -> dict[int, str]:
    """Legend text for each health code under ``quantity``: the threshold in words."""
    _check_quantity(quantity)
    if quantity == "distance":
        return {
            VANISHING: "stuck: moved ≤ 1/100 as far as last hidden",
            HEALTHY: "moving",
            EXPLODING: "moved ≥ 100× as far as last hidden, > 10⁶, NaN",
        }
    if quantity == "update":
        return {
            VANISHING: "vanishing: < 10⁻⁵ (barely learns)",
            HEALTHY: "healthy: 10⁻⁵ … 10⁻¹",
            EXPLODING: "exploding: > 10⁻¹, NaN",
        }
    return {
        VANISHING: "vanishing: ≤ 1/100 of last hidden",
        HEALTHY: "healthy",
        EXPLODING: "exploding: ≥ 100× last hidden, > 10⁶, NaN",
    }


def describe_plainly(quantity: str) -> dict[int, str]:
    """The same rules in plain words, for simple mode (the precise ones go in the tooltip)."""
    _check_quantity(quantity)
    if quantity == "distance":
        return {
            VANISHING: "stuck: still its initial weights",
            HEALTHY: "learning",
            EXPLODING: "moved 100× more, or broken",
        }
    if quantity == "update":
        return {
            VANISHING: "vanishing: barely learns",
            HEALTHY: "healthy",
            EXPLODING: "exploding: rewrites its weights",
        }
    return {
        VANISHING: "vanishing: 100× weaker than the last layer",
        HEALTHY: "healthy",
        EXPLODING: "exploding: 100× stronger, or broken",
    }


def thresholds(values: np.ndarray, quantity: str) -> tuple[float, float]:
    """(vanishing, exploding) threshold values in the units of ``values``, for drawing guides.

    NaN where no threshold applies (no positive finite reference).
    """
    _check_quantity(quantity)
    if quantity == "update":
        return UPDATE_VANISHING, UPDATE_EXPLODING
    ref = abs(reference_value(values, quantity))
    if not np.isfinite(ref) or ref == 0:
        return float("nan"), float("nan")
    return ref * VANISHING_RATIO, min(ref * EXPLODING_RATIO, ABSOLUTE_LIMIT)
