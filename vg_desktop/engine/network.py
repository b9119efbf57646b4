"""A fully connected classifier in plain NumPy: forward, backward, SGD, per-layer statistics.

Hidden layer l (1-indexed, input -> output)::

    z_l = h_{l-1} @ W_l + b_l          the linear output (its gradient is the "signal")
    u_l = norm(z_l)                    identity, batch norm or layer norm (γ, β learnable)
    a_l = f(u_l)                       the activation
    h_l = a_l,  or  h_{l-1} + a_l      with residual connections, for l >= 2

then ``logits = h_depth @ W_out + b_out`` and the loss is the mean softmax cross-entropy.

All parameters live in one flat buffer (``params`` holds views into it), and so do their
gradients: an SGD step is one vector operation, and every per-layer norm comes from one pass.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .config import NetworkConfig
from .init import init_weights
from .normalization import RUNNING_MOMENTUM, normalize_backward, normalize_forward
from .stats import StepStats, chain_rule_prediction, row_norms, segment_norms


def _layer_shapes(cfg: NetworkConfig, n_inputs: int, n_classes: int) -> list[dict[str, tuple]]:
    shapes = []
    for layer in range(cfg.depth):
        fan_in = n_inputs if layer == 0 else cfg.width
        entry = {"W": (fan_in, cfg.width), "b": (cfg.width,)}
        if cfg.normalization != "none":
            entry.update(gamma=(cfg.width,), beta=(cfg.width,))
        shapes.append(entry)
    shapes.append({"W": (cfg.width, n_classes), "b": (n_classes,)})
    return shapes


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and the softmax probabilities, via log-sum-exp.

    Subtracting each row's maximum keeps exp() in range, so logits of 1e300 still give a finite
    loss; only NaN or infinite logits give a non-finite one.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(total)
    loss = -float(np.mean(log_probs[np.arange(len(y)), y]))
    return loss, exp / total


class Network:
    """A network built from a :class:`NetworkConfig`; deterministic for a given config.

    Parameters
    ----------
    config
        The architecture (validated when the config was made).
    n_inputs, n_classes
        Input features and output classes (2 and 2 for the built-in datasets).
    """

    def __init__(self, config: NetworkConfig, n_inputs: int = 2, n_classes: int = 2) -> None:
        if not isinstance(config, NetworkConfig):
            raise ValueError("config must be a NetworkConfig")
        if not (isinstance(n_inputs, int) and n_inputs >= 1):
            raise ValueError(f"n_inputs must be a positive integer; got {n_inputs!r}")
        if not (isinstance(n_classes, int) and n_classes >= 2):
            raise ValueError(f"n_classes must be an integer of at least 2; got {n_classes!r}")
        self.config = config
        self.n_inputs = n_inputs
        self.n_classes = n_classes
        self.dtype = np.dtype(config.dtype)
        self.activation = get_activation(config.activation)
        self._norm_axis = {"batch": 0, "layer": 1}.get(config.normalization)

        shapes = _layer_shapes(config, n_inputs, n_classes)
        sizes = [int(np.prod(s)) for entry in shapes for s in entry.values()]
        self._flat = np.zeros(sum(sizes), dtype=self.dtype)
        self._grad_flat = np.zeros_like(self._flat)
        self._velocity: np.ndarray | None = None
        self.params: list[dict[str, np.ndarray]] = []
        self.grads: list[dict[str, np.ndarray]] = []
        w_starts, w_ends = [], []
        offset = 0
        for entry in shapes:
            p, g = {}, {}
            for name, shape in entry.items():
                size = int(np.prod(shape))
                p[name] = self._flat[offset : offset + size].reshape(shape)
                g[name] = self._grad_flat[offset : offset + size].reshape(shape)
                if name == "W":
                    w_starts.append(offset)
                    w_ends.append(offset + size)
                offset += size
            self.params.append(p)
            self.grads.append(g)
        self._w_starts = np.array(w_starts)
        self._w_ends = np.array(w_ends)

        rng = np.random.default_rng(config.seed)
        for p in self.params:
            fan_in, fan_out = p["W"].shape
            p["W"][...] = init_weights(config.init, fan_in, fan_out, config.init_gain, rng)
            if "gamma" in p:
                p["gamma"][...] = 1.0
        # Batch-norm running statistics, used in evaluation mode (predict / evaluate).
        self.running_mean = np.zeros((config.depth, config.width))
        self.running_var = np.ones((config.depth, config.width))

    # ------------------------------------------------------------------ forward / backward
    def _forward(self, x: np.ndarray, training: bool, update_running: bool = False) -> dict:
        cfg = self.config
        depth, act = cfg.depth, self.activation
        batch = x.shape[0]
        h_prev = np.asarray(x, dtype=self.dtype)
        inputs = [h_prev]  # h_0 .. h_{depth-1}: each layer's input
        u_stack = np.empty((depth, batch, cfg.width), dtype=self.dtype)
        xhats, inv_stds = [], []
        for layer in range(depth):
            p = self.params[layer]
            z = h_prev @ p["W"]
            z += p["b"]
            if self._norm_axis is None:
                u_stack[layer] = z
            else:
                if self._norm_axis == 0 and not training:
                    inv_std = 1.0 / np.sqrt(self.running_var[layer] + 1e-5)
                    xhat = (z - self.running_mean[layer]) * inv_std
                else:
                    xhat, inv_std = normalize_forward(z, self._norm_axis)
                    if update_running and self._norm_axis == 0:
                        m = RUNNING_MOMENTUM
                        n = max(batch - 1, 1)  # running variance is unbiased, as in PyTorch
                        var = z.var(axis=0) * batch / n
                        self.running_mean[layer] = (1 - m) * self.running_mean[layer] + m * z.mean(
                            0
                        )
                        self.running_var[layer] = (1 - m) * self.running_var[layer] + m * var
                xhats.append(xhat)
                inv_stds.append(inv_std)
                np.multiply(xhat, p["gamma"], out=u_stack[layer])
                u_stack[layer] += p["beta"]
            a = act.fn(u_stack[layer])
            h = h_prev + a if (cfg.residual and layer > 0) else a
            h_prev = h.astype(self.dtype, copy=False)
            if layer < depth - 1:
                inputs.append(h_prev)
        out = self.params[-1]
        logits = h_prev @ out["W"] + out["b"]
        return {
            "inputs": inputs,
            "last_h": h_prev,
            "u": u_stack,
            "xhat": xhats,
            "inv_std": inv_stds,
            "logits": logits,
        }

    def _backward(self, cache: dict, y: np.ndarray) -> dict:
        """Fill ``self.grads`` and return the loss, accuracy and per-layer backward statistics."""
        cfg = self.config
        depth, act = cfg.depth, self.activation
        logits = cache["logits"]
        batch = logits.shape[0]
        with np.errstate(all="ignore"):
            loss, probs = softmax_cross_entropy(logits, y)
        accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
        d_logits = probs
        d_logits[np.arange(batch), y] -= 1.0
        d_logits /= batch
        d_logits = d_logits.astype(self.dtype, copy=False)

        out_p, out_g = self.params[-1], self.grads[-1]
        np.matmul(cache["last_h"].T, d_logits, out=out_g["W"])
        np.sum(d_logits, axis=0, out=out_g["b"])
        dh = d_logits @ out_p["W"].T

        u_stack = cache["u"]
        dz_stack = np.empty_like(u_stack)
        fprime = np.empty_like(u_stack)
        for layer in range(depth - 1, -1, -1):
            p, g = self.params[layer], self.grads[layer]
            fprime[layer] = act.grad(u_stack[layer])
            du = dh * fprime[layer]
            if self._norm_axis is None:
                dz = du
            else:
                xhat = cache["xhat"][layer]
                np.sum(du * xhat, axis=0, out=g["gamma"])
                np.sum(du, axis=0, out=g["beta"])
                dz = normalize_backward(
                    du * p["gamma"], xhat, cache["inv_std"][layer], self._norm_axis
                )
            dz_stack[layer] = dz
            np.matmul(cache["inputs"][layer].T, dz, out=g["W"])
            np.sum(dz, axis=0, out=g["b"])
            if layer > 0:
                dh_prev = dz @ p["W"].T
                if cfg.residual:
                    dh_prev += dh
                dh = dh_prev
        return {"loss": loss, "accuracy": accuracy, "dz": dz_stack, "fprime": fprime}

    def _statistics(self, back: dict, cache: dict, update_ratios: np.ndarray) -> StepStats:
        cfg = self.config
        weight_norms = segment_norms(self._flat, self._w_starts, self._w_ends)
        grad_norms = segment_norms(self._grad_flat, self._w_starts, self._w_ends)
        signal = row_norms(back["dz"])
        fprime = back["fprime"]
        mean_deriv = fprime.mean(axis=(1, 2), dtype=np.float64)
        saturated = self.activation.saturated(fprime).mean(axis=(1, 2), dtype=np.float64)
        # Gain of W_{l+1} for l = 1..depth-1: ‖W‖_F / sqrt(fan_out) (hidden layers are square).
        gains = weight_norms[1:-1] / np.sqrt(cfg.width)
        predicted = chain_rule_prediction(float(signal[-1]), mean_deriv, gains)
        return StepStats(
            loss=back["loss"],
            accuracy=back["accuracy"],
            weight_grad_norms=grad_norms,
            signal_grad_norms=signal,
            update_ratios=update_ratios,
            weight_norms=weight_norms,
            mean_derivatives=mean_deriv,
            saturated_fractions=saturated,
            predicted_signal_norms=predicted,
            preactivations=list(cache["u"]),
        )

    def _check_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        y = np.asarray(y)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (batch, {self.n_inputs}); got {x.shape}")
        if y.shape != (x.shape[0],):
            raise ValueError(f"y must have shape ({x.shape[0]},); got {y.shape}")
        if x.shape[0] < 1:
            raise ValueError("the batch is empty")
        if self._norm_axis == 0 and x.shape[0] < 2:
            raise ValueError("batch normalization needs a batch of at least 2 samples")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= self.n_classes:
            raise ValueError(f"y must hold integer labels in [0, {self.n_classes})")
        return x, y

    # ------------------------------------------------------------------ public API
    def gradients(
        self, x: np.ndarray, y: np.ndarray, learning_rate: float | None = None
    ) -> StepStats:
        """Forward and backward pass on (x, y); parameters are left unchanged.

        The gradients are left in :attr:`grads`. With ``learning_rate``, ``update_ratios`` is the
        ratio plain SGD would produce; without it, NaN.
        """
        x, y = self._check_batch(x, y)
        with np.errstate(all="ignore"):
            cache = self._forward(x, training=True)
            back = self._backward(cache, y)
            if learning_rate is None:
                ratios = np.full(self.config.depth + 1, np.nan)
                return self._statistics(back, cache, ratios)
            grad_norms = segment_norms(self._grad_flat, self._w_starts, self._w_ends)
            weight_norms = segment_norms(self._flat, self._w_starts, self._w_ends)
            ratios = learning_rate * grad_norms / np.where(weight_norms > 0, weight_norms, np.inf)
            return self._statistics(back, cache, ratios)

    def train_step(
        self, x: np.ndarray, y: np.ndarray, learning_rate: float, momentum: float = 0.0
    ) -> StepStats:
        """One SGD step (heavy-ball momentum when ``momentum`` > 0); returns its statistics.

        The statistics describe the parameters *before* the update: the gradients that were
        applied and the pre-activations that produced them.
        """
        x, y = self._check_batch(x, y)
        with np.errstate(all="ignore"):
            cache = self._forward(x, training=True, update_running=True)
            back = self._backward(cache, y)
            if momentum > 0.0:
                if self._velocity is None:
                    self._velocity = np.zeros_like(self._flat)
                self._velocity *= momentum
                self._velocity += self._grad_flat
                step = self._velocity
            else:
                step = self._grad_flat
            weight_norms = segment_norms(self._flat, self._w_starts, self._w_ends)
            step_norms = segment_norms(step, self._w_starts, self._w_ends)
            ratios = learning_rate * step_norms / np.where(weight_norms > 0, weight_norms, np.inf)
            stats = self._statistics(back, cache, ratios)
            self._flat -= self.dtype.type(learning_rate) * step
        return stats

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities in evaluation mode (batch norm uses its running statistics)."""
        with np.errstate(all="ignore"):
            cache = self._forward(np.asarray(x), training=False)
            return softmax_cross_entropy(cache["logits"], np.zeros(len(x), dtype=int))[1]

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(loss, accuracy) in evaluation mode, without touching any parameter."""
        x, y = np.asarray(x), np.asarray(y)
        with np.errstate(all="ignore"):
            cache = self._forward(x, training=False)
            loss, _ = softmax_cross_entropy(cache["logits"], y)
        return loss, float(np.mean(np.argmax(cache["logits"], axis=1) == y))

    # ------------------------------------------------------------------ state
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Copies of every parameter (and batch-norm running statistic), for saving as .npz."""
        out = {}
        for layer, p in enumerate(self.params):
            for name, value in p.items():
                out[f"layer{layer}_{name}"] = value.copy()
        out["running_mean"] = self.running_mean.copy()
        out["running_var"] = self.running_var.copy()
        return out

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Load what :meth:`state_arrays` wrote; every shape is checked before anything changes."""
        expected = self.state_arrays()
        missing = set(expected) - set(arrays)
        if missing:
            raise ValueError(f"the weights file lacks {', '.join(sorted(missing))}")
        for key, value in expected.items():
            if np.shape(arrays[key]) != value.shape:
                raise ValueError(f"{key} has shape {np.shape(arrays[key])}, expected {value.shape}")
        for layer, p in enumerate(self.params):
            for name in p:
                p[name][...] = arrays[f"layer{layer}_{name}"]
        self.running_mean[...] = arrays["running_mean"]
        self.running_var[...] = arrays["running_var"]
