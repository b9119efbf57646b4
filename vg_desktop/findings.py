"""The finding of a frame, in words and numbers, for the headline above the gradient bars.

"Layer 1 receives about 3 × 10⁻¹⁵ of the last hidden layer's gradient — vanishing" says
what the bars show to someone at the back of the room who cannot read a log axis. The numbers are
the snapshot's own, rounded to one significant figure (hence "about"), and the verdict is the
bars' own rule (:mod:`vg_desktop.health`), so the headline and the bar colors never disagree.

NumPy only: no Qt here.
"""

from __future__ import annotations

import math

import numpy as np

from . import health

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float) -> str:
    """'3 × 10⁻¹⁵' for 3.2e-15, '10⁸' for 1.04e8: one significant figure, in words a class reads."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    mantissa, exponent = f"{abs(value):.0e}".split("e")
    sign = "−" if value < 0 else ""
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return f"{sign}{power}" if mantissa == "1" else f"{sign}{mantissa} × {power}"


def ratio_text(ratio: float) -> str:
    """A ratio as a class reads it: '0.42', '3.1', or a power of ten beyond 0.01 … 100."""
    if 10 <= ratio < 100:
        return f"{ratio:.0f}"
    if 0.01 <= ratio < 10:
        return f"{ratio:.2g}"
    return power_of_ten(ratio)


# An exact 0 is an underflow, or a layer none of whose units passes a gradient (dead ReLUs).
EXACT_ZERO = "exactly 0: it underflowed, or no unit passes one"


def headline(values: np.ndarray, quantity: str) -> str:
    """One sentence stating what the bars of ``quantity`` show for ``values`` (input first)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return ""
    if not np.all(np.isfinite(v)):
        return "A gradient is NaN or infinite: the run diverged (the gradients exploded)"
    code = int(health.classify(v, quantity)[0])
    verdict = health.label(code)
    if quantity == "update":
        amount = power_of_ten(float(v[0]))
        meaning = {
            health.VANISHING: "too little to learn (below 10⁻⁵)",
            health.HEALTHY: "healthy (10⁻⁵ … 10⁻¹)",
            health.EXPLODING: "too much (above 10⁻¹)",
        }[code]
        return f"One step changes layer 1's weights by about {amount} of their size — {meaning}"
    if quantity == "distance":
        return _distance_headline(v, code)
    what = {"signal": "gradient", "stream": "residual-stream gradient"}.get(
        quantity, "weight gradient"
    )
    ref_index = health.reference_index(v.size, quantity)
    if ref_index == 0:
        return f"One hidden layer: its {what} is about {power_of_ten(float(v[0]))}"
    first, ref = abs(float(v[0])), abs(float(v[ref_index]))
    if ref == 0:
        return f"The last hidden layer receives no {what} at all ({EXACT_ZERO})"
    if first == 0:
        return f"Layer 1 receives no {what} at all ({EXACT_ZERO}) — vanishing"
    ratio = first / ref
    theirs = f"the last hidden layer's {what}"
    if ratio >= 100:
        amount = f"{power_of_ten(ratio)} times {theirs}"
    elif ratio >= 0.01:
        amount = f"{ratio_text(ratio)} × {theirs}"
    else:
        amount = f"{power_of_ten(ratio)} of {theirs}"
    sentence = f"Layer 1 receives about {amount} — {verdict}"
    if code == health.EXPLODING and ratio < health.EXPLODING_RATIO:
        sentence += " (gradients above 10⁶)"
    return sentence


def _size_text(value: float) -> str:
    """A relative distance as a class reads it: '3 %' from 1 % up, else a power of ten."""
    if value >= 0.01:
        return f"{value:.0%}" if value < 10 else f"{value:.2g} times"
    return power_of_ten(value)


def _distance_headline(v: np.ndarray, code: int) -> str:
    """How far layer 1's weights moved from their initial values, against the last hidden one."""
    first = float(v[0])
    if not np.any(v):
        return "No layer has moved yet: every weight is still its initial value"
    if v.size == 1:
        return f"The weights moved {_size_text(first)} of their initial size"
    ref = float(v[health.reference_index(v.size, "distance")])
    if first == 0:
        return "Layer 1's weights have not moved at all from their initial values — stuck"
    verdict = {
        health.VANISHING: "layer 1 is stuck",
        health.HEALTHY: "both are learning",
        health.EXPLODING: "layer 1 moved far more",
    }[code]
    return (
        f"Layer 1's weights moved {_size_text(first)} of their initial size, the last hidden "
        f"layer's {_size_text(ref)} — {verdict}"
    )
