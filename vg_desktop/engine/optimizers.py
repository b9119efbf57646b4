"""The update rules, exactly as PyTorch 2.x applies them to one parameter group holding every
parameter (W, b, γ, β), on the network's flat parameter and gradient buffers.

With g the gradient and θ the parameters, one step is:

1. Clipping (``clip_norm`` set), as ``torch.nn.utils.clip_grad_norm_``: the total norm
   ‖g‖ over all parameters, ``c = min(clip_norm / (‖g‖ + 1e-6), 1)``, g ← c·g (in place, as
   PyTorch clips ``.grad``).
2. Coupled weight decay (L2, as the ``weight_decay`` argument of all three): g' = g + λ·θ.
3. The optimizer, with t the step count (1 at the first step):

   * ``sgd``: d = g', or with momentum μ > 0 the velocity v ← μ·v + g', d = v; θ ← θ − lr·d.
   * ``rmsprop`` (α = 0.99, ε = 1e-8): s ← α·s + (1 − α)·g'²;  θ ← θ − lr·g' / (√s + ε).
   * ``adam`` (β₁ = 0.9, β₂ = 0.999, ε = 1e-8): m ← β₁·m + (1 − β₁)·g',
     v ← β₂·v + (1 − β₂)·g'²;  θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε),
     which is lr·m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).

Momentum is SGD's (PyTorch's ``momentum`` argument of ``torch.optim.SGD``); RMSprop runs with
PyTorch's default of none and Adam has its own, β₁. Why Adam does not cure a vanished gradient:
the step of a parameter whose gradient is far below ε is about lr·g/ε, not lr — ε decides.

The arithmetic follows PyTorch's single-tensor CPU code (``lerp`` for m, √v / √(1 − β₂ᵗ) + ε for
the denominator), chunk by chunk so the buffers stay in cache. Every operation is element-wise,
so the result does not depend on the chunking: the steps with and without statistics are the
same, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .stats import safe_norm

RMSPROP_ALPHA = 0.99
ADAM_BETAS = (0.9, 0.999)
OPTIMIZER_EPS = 1e-8  # ε of RMSprop and Adam, PyTorch's default
CLIP_EPS = 1e-6  # added to the total norm by torch.nn.utils.clip_grad_norm_
# What each optimizer remembers between steps, beside the step count (flat, like the params).
STATE_BUFFERS = {
    "sgd": ("velocity",),
    "rmsprop": ("square_avg",),
    "adam": ("exp_avg", "exp_avg_sq"),
}
CHUNK = 1 << 14  # elements per chunk: the few arrays a chunk touches stay in the L2 cache


def clip_coefficient(grad: np.ndarray, clip_norm: float) -> float:
    """``min(clip_norm / (‖g‖ + 1e-6), 1)`` over the whole gradient, as PyTorch computes it
    (NaN when the gradient holds NaN, 0 when its norm is infinite)."""
    total = safe_norm(grad)
    return min(clip_norm / (total + CLIP_EPS), 1.0) if not math.isnan(total) else math.nan


class OptimizerState:
    """The memory of one optimizer over a flat parameter buffer; made fresh for a new network
    and whenever the optimizer changes (as a new ``torch.optim`` object would be)."""

    def __init__(self, kind: str, size: int, dtype: np.dtype) -> None:
        if kind not in STATE_BUFFERS:
            raise ValueError(f"unknown optimizer {kind!r}")
        self.kind = kind
        self.step = 0  # steps taken (Adam's bias correction uses it)
        self.size, self.dtype = size, np.dtype(dtype)
        # SGD's velocity is made on first use with momentum (plain SGD keeps no state).
        self.buffers: dict[str, np.ndarray] = {
            name: np.zeros(size, self.dtype) for name in STATE_BUFFERS[kind] if kind != "sgd"
        }
        self._direction: np.ndarray | None = None  # the step direction, when it is its own array
        self._scratch = np.empty((3, min(size, CHUNK)), self.dtype)

    # ---------------------------------------------------------------- saving
    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the state, keyed ``optimizer_<name>`` (plus ``optimizer_step`` for Adam,
        whose bias correction needs it); empty for plain SGD, which remembers nothing."""
        out = {f"optimizer_{name}": value.copy() for name, value in self.buffers.items()}
        if self.kind == "adam":
            out["optimizer_step"] = np.array(self.step, dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], size: int, dtype) -> OptimizerState | None:
        """The state :meth:`arrays` wrote (None when it holds none); ValueError if it is not
        one optimizer's complete state for ``size`` parameters."""
        saved = {k[len("optimizer_") :] for k in arrays if k.startswith("optimizer_")}
        if not saved:
            return None
        for kind, names in STATE_BUFFERS.items():
            expected = set(names) | ({"step"} if kind == "adam" else set())
            if saved == expected:
                break
        else:
            raise ValueError(f"the optimizer state ({', '.join(sorted(saved))}) is incomplete")
        state = cls(kind, size, dtype)
        for name in names:
            value = np.asarray(arrays[f"optimizer_{name}"])
            if value.shape != (size,):
                raise ValueError(f"optimizer_{name} has shape {value.shape}, expected ({size},)")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"optimizer_{name} holds NaN or infinity")
            state.buffers[name] = np.array(value, dtype=state.dtype)
        if kind == "adam":
            step = np.asarray(arrays["optimizer_step"])
            if step.shape != () or step.dtype.kind not in "iu" or not 0 <= int(step) < 2**62:
                raise ValueError("optimizer_step is not a step count")
            state.step = int(step)
        return state

    # ---------------------------------------------------------------- the step
    def direction(
        self,
        grad: np.ndarray,
        params: np.ndarray,
        learning_rate: float,
        momentum: float,
        weight_decay: float,
        clip_norm: float | None,
    ) -> tuple[np.ndarray, float]:
        """Advance the state by one step; return (d, s) with θ ← θ − s·d the update.

        ``grad`` is clipped in place when ``clip_norm`` is set. d is ``grad`` itself for plain
        SGD without decay or clipping (nothing is copied), the velocity with momentum, else an
        array of this state's.
        """
        if clip_norm is not None:
            coef = clip_coefficient(grad, clip_norm)
            if coef != 1.0:  # PyTorch multiplies by 1.0 too: exact, so skipped
                grad *= self.dtype.type(coef)
        self.step += 1
        kind = self.kind
        if kind == "sgd" and momentum <= 0.0 and weight_decay == 0.0:
            return grad, learning_rate
        if kind == "sgd" and momentum > 0.0:
            out = self.buffers.get("velocity")
            if out is None:
                out = self.buffers["velocity"] = np.zeros(self.size, self.dtype)
        else:
            if self._direction is None:
                self._direction = np.empty(self.size, self.dtype)
            out = self._direction
        step_size = learning_rate
        if kind == "adam":
            beta1, beta2 = ADAM_BETAS
            step_size = learning_rate / (1.0 - beta1**self.step)
            bias2_sqrt = math.sqrt(1.0 - beta2**self.step)
        t = self.dtype.type
        wd = t(weight_decay)
        tmp, g_eff, _ = self._scratch
        for start in range(0, self.size, CHUNK):
            part = slice(start, start + CHUNK)
            n = min(CHUNK, self.size - start)
            g = grad[part]
            if weight_decay != 0.0:  # g' = g + λ·θ
                np.multiply(params[part], wd, out=g_eff[:n])
                g_eff[:n] += g
                g = g_eff[:n]
            d = out[part]
            if kind == "sgd":
                if momentum > 0.0:  # v ← μ·v + g'
                    d *= t(momentum)
                    d += g
                else:
                    np.copyto(d, g)
            elif kind == "rmsprop":
                s = self.buffers["square_avg"][part]
                s *= t(RMSPROP_ALPHA)  # s ← α·s + (1 − α)·g'²
                np.multiply(g, g, out=tmp[:n])
                tmp[:n] *= t(1.0 - RMSPROP_ALPHA)
                s += tmp[:n]
                np.sqrt(s, out=tmp[:n])  # d = g' / (√s + ε)
                tmp[:n] += t(OPTIMIZER_EPS)
                np.divide(g, tmp[:n], out=d)
            else:
                m, v = self.buffers["exp_avg"][part], self.buffers["exp_avg_sq"][part]
                np.subtract(g, m, out=tmp[:n])  # m ← m + (1 − β₁)(g' − m)  (torch lerp)
                tmp[:n] *= t(1.0 - beta1)
                m += tmp[:n]
                v *= t(beta2)  # v ← β₂·v + (1 − β₂)·g'²
                np.multiply(g, g, out=tmp[:n])
                tmp[:n] *= t(1.0 - beta2)
                v += tmp[:n]
                np.sqrt(v, out=tmp[:n])  # d = m / (√v / √(1 − β₂ᵗ) + ε)
                tmp[:n] /= t(bias2_sqrt)
                tmp[:n] += t(OPTIMIZER_EPS)
                np.divide(m, tmp[:n], out=d)
        return out, step_size
