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

_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)
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


@dataclass(frozen=True)
class Activation:
    """An activation: f, f', its formulas and the regions the derivative plot marks."""

    name: str
    label: str
    formula: str
    derivative_formula: str
    fn: Callable[[Array], Array]
    grad: Callable[[Array], Array]
    peak_derivative: float
    healthy_band: tuple[float, float]
    dead_word: str = "saturated"

    def __call__(self, x: Array) -> Array:
        return self.fn(x)

    def saturated(self, derivative: Array) -> Array:
        """Boolean mask of units whose |f'| is below 10 % of the peak derivative."""
        return np.abs(derivative) < SATURATION_FRACTION * self.peak_derivative


def _band(grad: Callable[[Array], Array], peak: float) -> tuple[float, float]:
    """The x interval where f'(x) >= peak/2, found on a fine grid (clipped to +-50)."""
    xs = np.linspace(-50.0, 50.0, 200_001)
    inside = xs[grad(xs) >= HEALTHY_FRACTION * peak]
    return float(inside.min()), float(inside.max())


def _peak(grad: Callable[[Array], Array]) -> float:
    xs = np.linspace(-50.0, 50.0, 200_001)
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
    return Activation(name, label, formula, dformula, fn, grad, peak, _band(grad, peak), dead_word)


ACTIVATION_FUNCTIONS: dict[str, Activation] = {name: _build(name) for name in ACTIVATIONS}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; raises ValueError naming the allowed values."""
    try:
        return ACTIVATION_FUNCTIONS[name]
    except KeyError:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}"
        ) from None
