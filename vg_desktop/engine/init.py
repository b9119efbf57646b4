"""Weight initializers. Biases always start at zero.

The scale of the initial weights decides whether a deep network starts out vanishing, healthy or
exploding, so each scheme is written out with its variance.
"""

from __future__ import annotations

import numpy as np

from .config import INITS


def init_weights(
    scheme: str, fan_in: int, fan_out: int, gain: float, rng: np.random.Generator
) -> np.ndarray:
    """A (fan_in, fan_out) float64 weight matrix, multiplied by ``gain``.

    * ``normal``: N(0, 1) — ignores the layer size, so it vanishes or explodes with width;
    * ``small``: N(0, 0.01²) — signals shrink at every layer;
    * ``xavier``: Glorot uniform U(±sqrt(6 / (fan_in + fan_out))), variance 2 / (fan_in + fan_out);
    * ``he``: N(0, 2 / fan_in), which keeps ReLU activations' scale constant with depth.
    """
    shape = (fan_in, fan_out)
    if scheme == "normal":
        w = rng.standard_normal(shape)
    elif scheme == "small":
        w = 0.01 * rng.standard_normal(shape)
    elif scheme == "xavier":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, shape)
    elif scheme == "he":
        w = np.sqrt(2.0 / fan_in) * rng.standard_normal(shape)
    else:
        raise ValueError(f"init must be one of {', '.join(INITS)}; got {scheme!r}")
    return gain * w
