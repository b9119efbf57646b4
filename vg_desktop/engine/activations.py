"""Activation functions f and their derivatives f', vectorized, with the formulas we teach.

Each activation also knows the two regions the views draw on its derivative curve:

* the *responsive* (healthy) band, where f'(x) is at least half its maximum — shaded green, as in
  the source article's derivative plot;
* the *saturated* region, where |f'(x)| is below a tenth of its maximum: a unit there passes back
  less than 10 % of the best-case gradient. For ReLU this is exactly the dead side (f' = 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import ACTIVATIONS

SATURATION_FRACTION = 0.1  # |f'| below this share of its peak counts as saturated
HEALTHY_FRACTION = 0.5  # f' at least this share of its peak counts as responsive

# Plain Python floats: a NumPy float64 scalar would promote float32 arrays to float64 (NEP 50).
_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
_GELU_C = 0.044715
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0

Array = np.ndarray


def _sigmoid(x: Array) -> Array:
    # exp of -|x| never overflows; the two branches are the same function.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_grad(x: Array) -> Array:
    s = _sigmoid(x)
    return s * (1.0 - s)


def _tanh(x: Array) -> Array:
    return np.tanh(x)


def _tanh_grad(x: Array) -> Array:
    t = np.tanh(x)
    return 1.0 - t * t


def _relu(x: Array) -> Array:
    return np.maximum(x, 0.0)


def _relu_grad(x: Array) -> Array:
    return (x > 0).astype(x.dtype)


def _leaky_relu(x: Array) -> Array:
    return np.where(x > 0, x, LEAKY_SLOPE * x)


def _leaky_relu_grad(x: Array) -> Array:
    return np.where(x > 0, 1.0, LEAKY_SLOPE).astype(x.dtype)


def _elu(x: Array) -> Array:
    return np.where(x > 0, x, ELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def _elu_grad(x: Array) -> Array:
    return np.where(x > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(x, 0.0))).astype(x.dtype)


def _gelu(x: Array) -> Array:
    inner = _SQRT_2_OVER_PI * (x + _GELU_C * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


def _gelu_grad(x: Array) -> Array:
    inner = _SQRT_2_OVER_PI * (x + _GELU_C * x**3)
    t = np.tanh(inner)
    d_inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * x * x)
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner


def _silu(x: Array) -> Array:
    return x * _sigmoid(x)


def _silu_grad(x: Array) -> Array:
    s = _sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def _linear(x: Array) -> Array:
    return x.copy()


def _linear_grad(x: Array) -> Array:
    return np.ones_like(x)


# ------------------------------------------------------------------ in-place kernels
# The network applies f and f' once per layer per training step. These kernels write into
# buffers the network preallocated (``out``, plus a ``scratch`` array of u's shape) instead of
# returning new arrays, and compute f' from the stored output a = f(u) where that is cheaper
# than from u. They give the values of fn and grad above, up to rounding in the last bit.


def _sigmoid_into(u: Array, out: Array, scratch: Array) -> None:
    """out = σ(u) = 1 / (1 + e^(−u)) in four array operations and no temporary.

    For u < −709 (−88 in float32) e^(−u) overflows to inf and 1/inf = 0, the correct limit; the
    network runs under ``np.errstate(all="ignore")``, so this raises no warning there.
    """
    np.negative(u, out=scratch)
    np.exp(scratch, out=scratch)
    scratch += 1.0
    np.divide(1.0, scratch, out=out)


def _sigmoid_derivative_into(u: Array, a: Array, out: Array) -> None:
    """σ′(u) = σ(u)(1 − σ(u)) = a(1 − a): from the stored output, no second exp."""
    np.subtract(1.0, a, out=out)
    out *= a


def _tanh_into(u: Array, out: Array, scratch: Array) -> None:
    np.tanh(u, out=out)


def _tanh_derivative_into(u: Array, a: Array, out: Array) -> None:
    """tanh′(u) = 1 − tanh²(u) = 1 − a²."""
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)


def _relu_into(u: Array, out: Array, scratch: Array) -> None:
    np.maximum(u, 0.0, out=out)


def _relu_derivative_into(u: Array, a: Array, out: Array) -> None:
    """1 where u > 0, else 0 (the comparison's booleans are written as 0.0 / 1.0)."""
    np.greater(u, 0.0, out=out)


def _leaky_relu_into(u: Array, out: Array, scratch: Array) -> None:
    """max(u, 0.01·u), which is u for u > 0 and 0.01·u otherwise (the slope is below 1)."""
    np.multiply(u, LEAKY_SLOPE, out=scratch)
    np.maximum(u, scratch, out=out)


def _linear_into(u: Array, out: Array, scratch: Array) -> None:
    np.copyto(out, u)


def _linear_derivative_into(u: Array, a: Array, out: Array) -> None:
    out.fill(1.0)


def _forward_into_from(fn: Callable[[Array], Array]) -> Callable[[Array, Array, Array], None]:
    """An in-place kernel for an activation that has none of its own: out = fn(u)."""

    def forward_into(u: Array, out: Array, scratch: Array) -> None:
        np.copyto(out, fn(u))

    return forward_into


def _derivative_into_from(grad: Callable[[Array], Array]) -> Callable[[Array, Array, Array], None]:
    def derivative_into(u: Array, a: Array, out: Array) -> None:
        np.copyto(out, grad(u))

    return derivative_into


# f' >= 0 everywhere except for GELU and SiLU, which dip below zero for negative inputs.
_NONNEGATIVE_DERIVATIVE = frozenset(ACTIVATIONS) - {"gelu", "silu"}

_KERNELS = {
    "sigmoid": (_sigmoid_into, _sigmoid_derivative_into),
    "tanh": (_tanh_into, _tanh_derivative_into),
    "relu": (_relu_into, _relu_derivative_into),
    "leaky_relu": (_leaky_relu_into, None),
    "linear": (_linear_into, _linear_derivative_into),
}


@dataclass(frozen=True)
class Activation:
    """An activation: f, f', its formulas and the regions the derivative plot marks.

    ``forward_into(u, out, scratch)`` and ``derivative_into(u, a, out)`` are the in-place forms
    the training loop uses (see the kernels above).
    """

    name: str
    label: str
    formula: str
    derivative_formula: str
    fn: Callable[[Array], Array]
    grad: Callable[[Array], Array]
    peak_derivative: float
    healthy_band: tuple[float, float]
    dead_word: str = "saturated"
    forward_into: Callable[[Array, Array, Array], None] | None = None
    derivative_into: Callable[[Array, Array, Array], None] | None = None

    def __post_init__(self) -> None:
        if self.forward_into is None:
            object.__setattr__(self, "forward_into", _forward_into_from(self.fn))
        if self.derivative_into is None:
            object.__setattr__(self, "derivative_into", _derivative_into_from(self.grad))

    def __call__(self, x: Array) -> Array:
        return self.fn(x)

    @property
    def nonnegative_derivative(self) -> bool:
        """True when f' >= 0 everywhere, so |f'| = f' (all but GELU and SiLU)."""
        return self.name in _NONNEGATIVE_DERIVATIVE

    @property
    def saturation_threshold(self) -> float:
        """|f'| below this (10 % of the peak derivative) counts as saturated."""
        return SATURATION_FRACTION * self.peak_derivative

    def saturated(self, derivative: Array) -> Array:
        """Boolean mask of units whose |f'| is below 10 % of the peak derivative."""
        if self.nonnegative_derivative:
            return derivative < self.saturation_threshold  # |f'| = f': one pass fewer
        return np.abs(derivative) < self.saturation_threshold


# The band edges and the GELU/SiLU peaks are found on a coarse grid over ±50, then on a fine
# grid (2.5e-4 apart) around what the coarse one found: a fine grid over all of ±50 took 66 ms
# of every launch for the eight activations.
_COARSE = np.linspace(-50.0, 50.0, 2_001)  # 0.05 apart
_FINE = 201  # points between two coarse neighbours


def _band(grad: Callable[[Array], Array], peak: float) -> tuple[float, float]:
    """The x interval where f'(x) >= peak/2 (clipped to ±50), to within 2.5e-4."""
    inside = np.flatnonzero(grad(_COARSE) >= HEALTHY_FRACTION * peak)
    first, last = int(inside[0]), int(inside[-1])
    lo, hi = float(_COARSE[first]), float(_COARSE[last])
    if first > 0:  # the first fine point inside, between the last coarse one outside and lo
        xs = np.linspace(_COARSE[first - 1], lo, _FINE)
        lo = float(xs[np.argmax(grad(xs) >= HEALTHY_FRACTION * peak)])
    if last < len(_COARSE) - 1:
        xs = np.linspace(hi, _COARSE[last + 1], _FINE)
        hi = float(xs[len(xs) - 1 - np.argmax(grad(xs[::-1]) >= HEALTHY_FRACTION * peak)])
    return lo, hi


def _peak(grad: Callable[[Array], Array]) -> float:
    """max |f'(x)| over ±50 (f' is smooth near its peak: refined around the coarse maximum)."""
    k = int(np.argmax(np.abs(grad(_COARSE))))
    xs = np.linspace(_COARSE[max(k - 1, 0)], _COARSE[min(k + 1, len(_COARSE) - 1)], 2 * _FINE)
    return float(np.max(np.abs(grad(xs))))


_SPECS = {
    "sigmoid": (
        "Sigmoid",
        "σ(x) = 1 / (1 + e^(−x))",
        "σ′(x) = σ(x)(1 − σ(x)) ≤ 0.25",
        _sigmoid,
        _sigmoid_grad,
        "saturated",
    ),
    "tanh": ("Tanh", "tanh(x)", "tanh′(x) = 1 − tanh²(x) ≤ 1", _tanh, _tanh_grad, "saturated"),
    "relu": ("ReLU", "max(0, x)", "1 if x > 0 else 0", _relu, _relu_grad, "dead"),
    "leaky_relu": (
        "Leaky ReLU",
        "x if x > 0 else 0.01·x",
        "1 if x > 0 else 0.01",
        _leaky_relu,
        _leaky_relu_grad,
        "nearly dead",
    ),
    "elu": ("ELU", "x if x > 0 else e^x − 1", "1 if x > 0 else e^x", _elu, _elu_grad, "saturated"),
    "gelu": (
        "GELU",
        "½x(1 + tanh(√(2/π)(x + 0.044715x³)))",
        "d/dx of the tanh form",
        _gelu,
        _gelu_grad,
        "saturated",
    ),
    "silu": ("SiLU", "x·σ(x)", "σ(x)(1 + x(1 − σ(x)))", _silu, _silu_grad, "saturated"),
    "linear": ("Linear", "x", "1", _linear, _linear_grad, "saturated"),
}


def _build(name: str) -> Activation:
    label, formula, dformula, fn, grad, dead_word = _SPECS[name]
    peak = (
        0.25 if name == "sigmoid" else (1.0 if name != "gelu" and name != "silu" else _peak(grad))
    )
    forward_into, derivative_into = _KERNELS.get(name, (None, None))
    return Activation(
        name,
        label,
        formula,
        dformula,
        fn,
        grad,
        peak,
        _band(grad, peak),
        dead_word,
        forward_into,
        derivative_into,
    )


ACTIVATION_FUNCTIONS: dict[str, Activation] = {name: _build(name) for name in ACTIVATIONS}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; raises ValueError naming the allowed values."""
    try:
        return ACTIVATION_FUNCTIONS[name]
    except KeyError:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}"
        ) from None
