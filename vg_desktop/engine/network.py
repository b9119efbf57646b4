"""A fully connected classifier in plain NumPy: forward, backward, the optimizer step (SGD,
RMSprop or Adam, see :mod:`.optimizers`), per-layer statistics.

Hidden layer l (1-indexed, input -> output)::

    z_l = h_{l-1} @ W_l + b_l          the linear output (its gradient is the "signal")
    u_l = norm(z_l)                    identity, batch norm or layer norm (γ, β learnable)
    a_l = f(u_l)                       the activation
    h_l = a_l,  or  h_{l-1} + a_l      with residual connections, for l >= 2 ("post-activation")

then ``logits = h_depth @ W_out + b_out`` and the loss is the mean softmax cross-entropy.

With ``residual_form="pre-activation"`` (He et al. 2016, "Identity Mappings in Deep Residual
Networks") layer 1 is as above and layers l >= 2 are::

    u_l = norm(h_{l-1})                the histogram shows u_l
    a_l = f(u_l)
    z_l = a_l @ W_l + b_l              the branch ends in a weight layer; dL/dz_l is the signal
    h_l = h_{l-1} + z_l

so dL/dz_l = dL/dh_l, and backward: dL/da_l = dL/dz_l W_lᵀ, dL/du_l = dL/da_l ⊙ f'(u_l),
dL/dW_l = a_lᵀ dL/dz_l, dL/dh_{l-1} = dL/dh_l + (dL/du_l through the norm's backward pass).

Backward, from dL/dlogits down, for each hidden layer l (⊙ is the element-wise product)::

    dL/du_l = dL/dh_l ⊙ f'(u_l)
    dL/dz_l = dL/du_l                  (through the norm's backward pass when there is one)
    dL/dW_l = h_{l-1}ᵀ dL/dz_l,   dL/db_l = Σ_batch dL/dz_l
    dL/dh_{l-1} = dL/dz_l W_lᵀ   (+ dL/dh_l when layer l is residual)

How it is made fast, in NumPy alone (benchmarks/NOTES.md has the measurements):

* One flat buffer holds every parameter (``params`` are views into it) and another every
  gradient: the optimizer step is a vector operation, and every layer's ‖W‖ comes from one pass.
* W_l and b_l are adjacent in that buffer, so together they are the (fan_in + 1, fan_out) matrix
  [W; b]. Each layer's input is stored with a trailing column of ones, [h, 1]; then
  ``[h, 1] @ [W; b] = h W + b`` is the forward pass in one matmul, and
  ``[h, 1]ᵀ @ dz = [dL/dW; dL/db]`` both gradients in one more.
* Every per-step array lives in a :class:`_Workspace` allocated once per batch size; the loops
  write into it with ``out=`` instead of allocating. What :class:`StepStats` receives is fresh
  (the pre-activations are written straight into a new stack each step, or only their first
  rows copied out when the caller asks for no more), so statistics already handed out never
  change.
* Activations run as in-place kernels (sigmoid as 1 / (1 + e^(−u)) in four operations), and
  f'(u) is computed in the backward pass from the stored output — σ' = a(1 − a),
  tanh' = 1 − a² — while a is still in cache, together with its mean and saturated count.
* The other statistics are vectorized over layers: ‖W‖ and ‖dL/dW‖ of all hidden layers come
  from one strided view of the flat buffers; in float64, ‖dL/dz_l‖ reuses the sum of squares
  the backward pass already took.
* The SGD update runs in cache-sized chunks.
* Gradients that fall below the smallest normal float are flushed to zero; see
  :meth:`Network._backward` for why, and for what that changes in what is reported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import get_activation
from .config import OPTIMIZERS, NetworkConfig
from .init import init_weights
from .normalization import (
    EPS,
    RUNNING_MOMENTUM,
    batch_norm_backward_into,
    normalize_backward_into,
    normalize_forward,
    normalize_forward_into,
)
from .optimizers import OptimizerState
from .stats import (
    SAFE_HIGH,
    SAFE_LOW,
    StepStats,
    chain_rule_prediction,
    norms_from_sums_of_squares,
    row_norms,
    safe_norm,
)


class LeanStep(NamedTuple):
    """What :meth:`Network.train_step_lean` reports instead of :class:`StepStats`."""

    loss: float
    accuracy: float
    finite: bool  # the loss and every parameter after the update
    zero_layers: int  # layers whose back-propagated gradient was exactly zero


@dataclass(frozen=True)
class DatasetEvaluation:
    """The network on a whole dataset in evaluation mode (:meth:`Network.evaluate_dataset`).

    Attributes
    ----------
    loss, accuracy
        Mean cross-entropy and the share classified correctly, over all ``samples``.
    samples
        How many samples were evaluated.
    dead_units
        (depth,) per hidden layer, the units whose |f'(u)| is below the saturation threshold
        (10 % of f's peak derivative) for *every* sample: for ReLU, u <= 0 on every input, the
        dead ReLU of the literature; such a unit passes no gradient to any weight before it,
        whatever the batch. (Inactive for one batch — about half of ReLU's units by design —
        is :attr:`StepStats.saturated_fractions`.)
    width
        Units per hidden layer, so ``dead_units == width`` names a layer that is all dead.
    """

    loss: float
    accuracy: float
    samples: int
    dead_units: np.ndarray
    width: int

    @property
    def all_dead_layers(self) -> np.ndarray:
        """0-based indices of the hidden layers whose every unit is dead."""
        return np.flatnonzero(self.dead_units == self.width)


def dataset_evaluation(
    loss_sum: float, correct: int, samples: int, dead: np.ndarray
) -> DatasetEvaluation:
    """A :class:`DatasetEvaluation` from sums over the chunks of a dataset."""
    counts = np.count_nonzero(dead, axis=1)
    counts.flags.writeable = False
    return DatasetEvaluation(
        float(loss_sum) / samples, correct / samples, samples, counts, dead.shape[1]
    )


class TrainingInterrupted(Exception):
    """Raised between layers when :attr:`Network.interrupt` asks to abandon the current pass.

    A pass can take seconds for the largest networks; the GUI worker uses this to stop or rebuild
    within a fraction of a second. Parameters are untouched (the update comes after the backward
    pass), but batch-norm running statistics may be partly updated: discard the network.
    """


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


_UPDATE_CHUNK = 1 << 15  # elements per update chunk: two chunks stay in the L2 cache
_DISTANCE_CHUNK = 1 << 15  # elements of W - W(0) formed at a time by distance_from_init


def _check_optimizer(optimizer: str, weight_decay: float, clip_norm: float | None) -> None:
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
    if not weight_decay >= 0.0:  # also refuses NaN
        raise ValueError(f"weight_decay must be at least 0; got {weight_decay!r}")
    if clip_norm is not None and not clip_norm > 0.0:
        raise ValueError(f"clip_norm must be None or above 0; got {clip_norm!r}")


class _Workspace:
    """Every array a training step writes, for one batch size: allocated once, then reused.

    Nothing here is handed out: :class:`StepStats` receives fresh arrays (the pre-activations are
    a new stack each step), so statistics from one step never change under a later one.
    """

    def __init__(self, net: Network, batch: int) -> None:
        cfg, dtype = net.config, net.dtype
        depth, width = cfg.depth, cfg.width
        shape = (batch, width)
        self.batch = batch
        # Layer inputs with their column of ones: x for layer 1, h_1 .. h_depth after it.
        self.x_aug = np.ones((batch, net.n_inputs + 1), dtype)
        self.x = self.x_aug[:, :-1]
        self.h_aug = np.ones((depth, batch, width + 1), dtype)
        self.h = self.h_aug[:, :, :width]
        if cfg.pre_activation:
            # Layers 2..depth multiply a_l = f(norm(h_{l-1})), with its column of ones; the
            # output layer multiplies h_depth.
            self.a_aug = np.ones((depth, batch, width + 1), dtype)
            self.a = self.a_aug[:, :, :width]
            self.inputs = [self.x_aug, *self.a_aug[1:], self.h_aug[-1]]
            self.z_branch = np.empty(shape, dtype)  # z_l of the layer being computed
            self.da = np.empty(shape, dtype)  # dL/da_l
            self.branch = np.empty(shape, dtype)  # dL/dh_{l-1} through the branch
        else:
            self.inputs = [self.x_aug, *self.h_aug]  # inputs[l] feeds layer l; [depth]: output
            # a_l = f(u_l): without residual connections h_l is a_l itself.
            self.a = np.empty((depth, *shape), dtype) if cfg.residual else self.h
        self.inputs_t = [m.T for m in self.inputs]
        self.dz = np.empty((depth, *shape), dtype)
        self.dz_rows = self.dz.reshape(depth, -1)
        # dL/dh_l of the layers whose Σ (dL/dh_l)² left the safe range (or all, in float32),
        # for the exact norm; the others need only the sum the backward pass takes.
        self.dh_stack = np.empty((depth, *shape), dtype)
        self.dh_rows = self.dh_stack.reshape(depth, -1)
        self.dh_sumsq = np.empty(depth)
        self.dh = (np.empty(shape, dtype), np.empty(shape, dtype))  # dL/dh, ping-pong
        self.fprime = np.empty(shape, dtype)  # f'(u_l) of the layer being back-propagated
        self.fprime_flat = self.fprime.reshape(-1)
        self.scratch = np.empty(shape, dtype)
        self.abs = np.empty(shape, dtype)
        self.mask = np.empty(shape, bool)
        # Per-layer sums the backward pass takes while each array is in cache (float64).
        self.fprime_sum = np.empty(depth)  # Σ f'(u_l)
        self.fprime_sumsq = np.empty(depth)  # Σ f'(u_l)², for the RMS of f'
        self.saturated_count = np.empty(depth)  # units with |f'(u_l)| below the threshold
        self.dz_sumsq = np.empty(depth)  # Σ (dL/dz_l)², in the network's dtype
        self.logits = np.empty((batch, net.n_classes), dtype)
        self.rows = np.arange(batch)
        self.u: np.ndarray | None = None  # u_l of steps without statistics (made on first use)
        self.zero_layers = 0  # layers whose dL/dz was exactly 0 in the last backward pass
        if net._norm_axis is not None:
            stat = (1, width) if net._norm_axis == 0 else (batch, 1)
            # z_l of the layer being normalized: only x̂_l is kept for the backward pass (a
            # stack of z was 200 MB at the largest settings).
            self.z = np.empty(shape, dtype)
            self.xhat = np.empty((depth, *shape), dtype)
            self.mean = np.empty((depth, *stat), dtype)
            self.var = np.empty((depth, *stat), dtype)
            self.inv_std = np.empty((depth, *stat), dtype)
            self.stat = (np.empty(stat, dtype), np.empty(stat, dtype))
            self.du = np.empty(shape, dtype)


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
        # Checked between layers; returning True abandons the pass (see TrainingInterrupted).
        self.interrupt: Callable[[], bool] | None = None
        self.n_inputs = n_inputs
        self.n_classes = n_classes
        self.dtype = np.dtype(config.dtype)
        self._float64 = self.dtype == np.float64
        self.activation = get_activation(config.activation)
        self._norm_axis = {"batch": 0, "layer": 1}.get(config.normalization)

        shapes = _layer_shapes(config, n_inputs, n_classes)
        sizes = [int(np.prod(s)) for entry in shapes for s in entry.values()]
        self._flat = np.zeros(sum(sizes), dtype=self.dtype)
        self._grad_flat = np.zeros_like(self._flat)
        # learning_rate × step, one cache-sized chunk at a time, before it is subtracted.
        self._update = np.empty(min(self._flat.size, _UPDATE_CHUNK), dtype=self.dtype)
        self._finite = np.empty(self._flat.size, dtype=bool)  # the lean step's NaN/inf check
        # What the optimizer remembers (velocity, running averages); made by the first step and
        # made anew when the optimizer changes.
        self._optimizer: OptimizerState | None = None
        self.params: list[dict[str, np.ndarray]] = []
        self.grads: list[dict[str, np.ndarray]] = []
        self._w_aug: list[np.ndarray] = []  # [W; b] of each layer, a view of the flat buffer
        self._g_aug: list[np.ndarray] = []  # [dL/dW; dL/db], a view of the gradient buffer
        w_starts, w_ends = [], []
        offset = 0
        for entry in shapes:
            p, g = {}, {}
            fan_in, fan_out = entry["W"]
            for name, shape in entry.items():
                size = int(np.prod(shape))
                p[name] = self._flat[offset : offset + size].reshape(shape)
                g[name] = self._grad_flat[offset : offset + size].reshape(shape)
                if name == "W":
                    w_starts.append(offset)
                    w_ends.append(offset + size)
                    aug = slice(offset, offset + size + fan_out)  # W, then b right after it
                    self._w_aug.append(self._flat[aug].reshape(fan_in + 1, fan_out))
                    self._g_aug.append(self._grad_flat[aug].reshape(fan_in + 1, fan_out))
                offset += size
            self.params.append(p)
            self.grads.append(g)
        self._w_t = [p["W"].T for p in self.params]

        self._w_starts = np.array(w_starts)
        self._w_ends = np.array(w_ends)
        self._w_blocks = self._weight_blocks(self._flat)
        self._g_blocks = self._weight_blocks(self._grad_flat)
        self._workspace: _Workspace | None = None

        rng = np.random.default_rng(config.seed)
        for p in self.params:
            fan_in, fan_out = p["W"].shape
            p["W"][...] = init_weights(config.init, fan_in, fan_out, config.init_gain, rng)
            if "gamma" in p:
                p["gamma"][...] = 1.0
        # Batch-norm running statistics, used in evaluation mode (predict / evaluate).
        self.running_mean = np.zeros((config.depth, config.width))
        self.running_var = np.ones((config.depth, config.width))
        # W_l(0), as built from the seed, for distance_from_init (loading weights keeps it).
        first, rows, last = self._w_blocks
        self._initial_weights = (
            first.copy(),
            None if rows is None else rows.copy(),
            last.copy(),
        )
        self._initial_norms = self._weight_norms(self._w_blocks)
        # Hidden layers 2..depth are differenced a few at a time, so W − W(0) stays in cache.
        self._distance_rows = 0 if rows is None else max(1, _DISTANCE_CHUNK // rows.shape[1])
        row_elements = 0 if rows is None else min(len(rows), self._distance_rows) * rows.shape[1]
        self._distance_scratch = np.empty(max(first.size, last.size, row_elements), self.dtype)

    # ------------------------------------------------------------------ forward / backward
    def _workspace_for(self, batch: int) -> _Workspace:
        if self._workspace is None or self._workspace.batch != batch:
            self._workspace = None  # free the old buffers before allocating the new ones
            self._workspace = _Workspace(self, batch)
        return self._workspace

    def _forward(
        self, ws: _Workspace, x: np.ndarray, update_running: bool, fresh: bool = True
    ) -> np.ndarray:
        """Training-mode forward pass into ``ws``; returns the stack of u_l.

        The stack is a fresh array that :class:`StepStats` can keep, or with ``fresh=False``
        the workspace's own (for a step whose statistics nobody will see).
        Leaves in ``ws``: every layer input [h, 1], a_l, the logits and, with a normalization,
        z_l, x̂_l and its statistics.
        """
        cfg = self.config
        residual, norm_axis = cfg.residual, self._norm_axis
        forward_into = self.activation.forward_into
        np.copyto(ws.x, x, casting="same_kind")
        if fresh:
            u_stack = np.empty((cfg.depth, ws.batch, cfg.width), dtype=self.dtype)
        else:
            if ws.u is None:
                ws.u = np.empty((cfg.depth, ws.batch, cfg.width), dtype=self.dtype)
            u_stack = ws.u
        interrupt = self.interrupt
        pre_activation = cfg.pre_activation
        for layer in range(cfg.depth):
            if interrupt is not None and interrupt():
                raise TrainingInterrupted
            u = u_stack[layer]
            if pre_activation and layer > 0:
                self._pre_activation_block(ws, layer, u)
                continue
            if norm_axis is None:
                np.matmul(ws.inputs[layer], self._w_aug[layer], out=u)  # z = h W + b
            else:
                z = ws.z
                np.matmul(ws.inputs[layer], self._w_aug[layer], out=z)
                xhat = ws.xhat[layer]
                normalize_forward_into(
                    z, norm_axis, xhat, ws.mean[layer], ws.var[layer], ws.inv_std[layer], ws.scratch
                )
                p = self.params[layer]
                np.multiply(xhat, p["gamma"], out=u)  # u = γ x̂ + β
                u += p["beta"]
            forward_into(u, ws.a[layer], ws.scratch)  # a = f(u)
            if pre_activation:
                np.copyto(ws.h[0], ws.a[0])  # layer 1 as in the plain stack
            elif residual:
                if layer > 0:
                    np.add(ws.h[layer - 1], ws.a[layer], out=ws.h[layer])  # h = h_prev + a
                else:
                    np.copyto(ws.h[0], ws.a[0])
        np.matmul(ws.inputs[-1], self._w_aug[-1], out=ws.logits)
        if update_running and norm_axis == 0:
            # running ← (1 − m)·running + m·batch statistic, every layer at once; the running
            # variance is the unbiased one, as in PyTorch.
            m, batch = RUNNING_MOMENTUM, ws.batch
            self.running_mean *= 1 - m
            self.running_mean += m * ws.mean[:, 0, :]
            self.running_var *= 1 - m
            self.running_var += (m * batch / max(batch - 1, 1)) * ws.var[:, 0, :]
        return u_stack

    def _pre_activation_block(self, ws: _Workspace, layer: int, u: np.ndarray) -> None:
        """Forward through pre-activation layer ``layer`` (>= 1): u = norm(h_prev), a = f(u),
        z = a W + b, h = h_prev + z; the norm's statistics are kept as for any layer."""
        h_prev = ws.h[layer - 1]
        norm_axis = self._norm_axis
        if norm_axis is None:
            np.copyto(u, h_prev)
        else:
            xhat = ws.xhat[layer]
            normalize_forward_into(
                h_prev,
                norm_axis,
                xhat,
                ws.mean[layer],
                ws.var[layer],
                ws.inv_std[layer],
                ws.scratch,
            )
            p = self.params[layer]
            np.multiply(xhat, p["gamma"], out=u)  # u = γ x̂ + β
            u += p["beta"]
        self.activation.forward_into(u, ws.a[layer], ws.scratch)  # a = f(u)
        np.matmul(ws.inputs[layer], self._w_aug[layer], out=ws.z_branch)  # z = [a, 1] [W; b]
        np.add(h_prev, ws.z_branch, out=ws.h[layer])  # h = h_prev + z

    def _backward(
        self, ws: _Workspace, u_stack: np.ndarray, y: np.ndarray, statistics: bool = True
    ) -> tuple[float, float]:
        """Fill ``self.grads``, ``ws.dz`` and the per-layer sums in ``ws``; return (loss, accuracy).

        Without ``statistics`` the sums of f' and f'² and the saturated counts are not taken.

        f'(u_l) is computed here, one layer at a time, rather than stored by the forward pass:
        for sigmoid and tanh it comes from a_l, which without residual connections is h_l, the
        input the layer above has just multiplied, so still in cache; no (depth, batch, width)
        stack of f' goes through memory. Its sum and saturated count are taken on the spot.

        Subnormal gradients. Below the smallest normal float (2.2e-308 in float64, 1.2e-38 in
        float32) every arithmetic operation whose result is subnormal takes the CPU a slow
        microcode path: a matmul whose results land there is 60–160 times slower (``python -m
        benchmarks.engine`` measures it). Deep sigmoid networks get there in two ways: a whole
        layer's signal vanishes (float32 at depth ~70 with Xavier init, float64 at depth ~150
        with 'small' init), or single units saturate so far that dL/dz of those units is tiny
        (float32 residual stacks, whose pre-activations grow with depth: 2 % of the entries,
        steps 2–3 times slower). So:

        * subnormal entries of dL/dz are set to zero — in float32 in every layer, in float64
          (where single units rarely get there) in the layers whose ‖dL/dz‖² is itself below
          the smallest normal number (‖dL/dz‖ below ~1e-154). What that changes: such an
          entry, and what it would have propagated, is reported as 0 instead of a value below
          2.2e-308 (1.2e-38 in float32); the views draw 0 below the axis. Normal numbers are
          never changed, however small.
        * in a layer whose ‖dL/dz‖² is below the smallest normal number, the two matmuls
          multiply dL/dz · 2^k instead (k = 511 in float64, 63 in float32: exact, and no
          product lands in the subnormal range), and scale the results back by 2^−k, which
          rounds each one once (exact unless it is itself subnormal).
        * a layer whose dL/dz is exactly zero passes exactly zero on: dL/dW = dL/db = 0 and
          the layer adds nothing to dL/dh below it, without multiplying.
        """
        cfg = self.config
        depth, residual, norm_axis = cfg.depth, cfg.residual, self._norm_axis
        activation = self.activation
        derivative_into = activation.derivative_into
        tiny = np.finfo(self.dtype).tiny
        flush_every_layer = self.dtype == np.float32
        up = self.dtype.type(2.0 ** (-np.finfo(self.dtype).minexp // 2))
        down = self.dtype.type(1.0) / up
        fprime, mask = ws.fprime, ws.mask

        logits = ws.logits
        loss, probs = softmax_cross_entropy(logits, y)
        accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
        d_logits = probs  # dL/dlogits = (softmax − one_hot(y)) / batch
        d_logits[ws.rows, y] -= 1.0
        d_logits /= ws.batch
        np.matmul(ws.inputs_t[depth], d_logits, out=self._g_aug[depth])
        which = 0
        dh = ws.dh[which]
        np.matmul(d_logits, self._w_t[depth], out=dh)

        ws.zero_layers = 0
        interrupt = self.interrupt
        top = depth - 1
        if cfg.pre_activation:
            dh = self._backward_pre_activation(ws, u_stack, dh, statistics)
            top = 0  # layer 1 is a plain layer
        for layer in range(top, -1, -1):
            if interrupt is not None and interrupt():
                raise TrainingInterrupted
            # f'(u_l), its sums and how many units are saturated (|f'| below the threshold).
            derivative_into(u_stack[layer], ws.a[layer], fprime)
            if statistics:
                self._layer_statistics(ws, layer, dh)

            dz = ws.dz[layer]
            if norm_axis is None:
                np.multiply(dh, fprime, out=dz)  # dL/dz = dL/dh ⊙ f'(u)
            else:
                np.multiply(dh, fprime, out=ws.du)  # dL/du, then through the norm
                self._normalize_backward(ws, layer, dz)
            rows = ws.dz_rows[layer]
            scale = None
            sumsq = ws.dz_sumsq[layer] = np.dot(rows, rows)
            vanished = sumsq < tiny  # see the docstring
            if vanished or flush_every_layer:  # subnormal entries of dL/dz -> 0
                np.abs(dz, out=ws.abs)
                np.less(ws.abs, tiny, out=mask)
                np.copyto(dz, 0.0, where=mask)
            if vanished:
                if not dz.any():
                    ws.zero_layers += 1
                    self._g_aug[layer].fill(0.0)
                    if layer > 0 and not residual:
                        dh.fill(0.0)  # dL/dh_{l-1} = 0 W_lᵀ; with residual it stays dL/dh_l
                    continue
                np.multiply(dz, up, out=ws.scratch)
                scale, dz = down, ws.scratch

            g_aug = self._g_aug[layer]
            np.matmul(ws.inputs_t[layer], dz, out=g_aug)  # [dL/dW; dL/db] = [h, 1]ᵀ dz
            if scale is not None:
                g_aug *= scale
            if layer > 0:
                which = 1 - which
                dh_below = ws.dh[which]
                np.matmul(dz, self._w_t[layer], out=dh_below)  # dL/dh_{l-1} = dz Wᵀ
                if scale is not None:
                    dh_below *= scale
                if residual:
                    dh_below += dh  # ... + dL/dh_l through the identity path
                dh = dh_below
        return loss, accuracy

    def _layer_statistics(self, ws: _Workspace, layer: int, dh: np.ndarray) -> None:
        """Layer ``layer``'s sums for :meth:`_statistics`, taken while f'(u_l) (in
        ``ws.fprime``) and dL/dh_l are in cache: Σ f', Σ f'², how many units are saturated
        (|f'| below the activation's threshold) and Σ (dL/dh_l)². dL/dh_l itself is kept only
        where that sum cannot give the norm exactly (see :func:`norms_from_sums_of_squares`).
        One helper for both backward loops (plain/post-activation and pre-activation)."""
        if self._float64:
            flat = dh.reshape(-1)
            total = float(np.dot(flat, flat))
            ws.dh_sumsq[layer] = total
            if not SAFE_LOW < total < SAFE_HIGH:  # plain floats: a NumPy scalar test costs more
                np.copyto(ws.dh_stack[layer], dh)
        else:
            np.copyto(ws.dh_stack[layer], dh)
        fprime, fprime_flat, mask = ws.fprime, ws.fprime_flat, ws.mask
        ws.fprime_sum[layer] = np.add.reduce(fprime_flat, dtype=np.float64)
        ws.fprime_sumsq[layer] = np.dot(fprime_flat, fprime_flat)
        activation = self.activation
        if activation.nonnegative_derivative:
            np.less(fprime, activation.saturation_threshold, out=mask)
        else:
            np.abs(fprime, out=ws.abs)
            np.less(ws.abs, activation.saturation_threshold, out=mask)
        ws.saturated_count[layer] = np.count_nonzero(mask)

    def _backward_pre_activation(
        self, ws: _Workspace, u_stack: np.ndarray, dh: np.ndarray, statistics: bool
    ) -> np.ndarray:
        """Backward through pre-activation layers depth..2, from dh = dL/dh_depth; returns
        dL/dh_1. Subnormal dL/dz entries are handled as in :meth:`_backward` (dL/dz_l is
        dL/dh_l itself here, so the flushed values are what the identity path carries on)."""
        norm_axis = self._norm_axis
        activation = self.activation
        derivative_into = activation.derivative_into
        tiny = np.finfo(self.dtype).tiny
        flush_every_layer = self.dtype == np.float32
        up = self.dtype.type(2.0 ** (-np.finfo(self.dtype).minexp // 2))
        down = self.dtype.type(1.0) / up
        fprime, mask = ws.fprime, ws.mask
        which = 0 if dh is ws.dh[0] else 1
        interrupt = self.interrupt
        for layer in range(self.config.depth - 1, 0, -1):
            if interrupt is not None and interrupt():
                raise TrainingInterrupted
            dz = ws.dz[layer]
            np.copyto(dz, dh)  # dL/dz_l = dL/dh_l: h_l = h_{l-1} + z_l
            derivative_into(u_stack[layer], ws.a[layer], fprime)
            if statistics:
                self._layer_statistics(ws, layer, dh)
            rows = ws.dz_rows[layer]
            sumsq = ws.dz_sumsq[layer] = np.dot(rows, rows)
            vanished = sumsq < tiny
            if vanished or flush_every_layer:  # subnormal entries of dL/dz -> 0
                np.abs(dz, out=ws.abs)
                np.less(ws.abs, tiny, out=mask)
                np.copyto(dz, 0.0, where=mask)
            src, scale = dz, None
            if vanished:
                if not dz.any():
                    # Nothing reaches this layer or any below it: every gradient is 0.
                    ws.zero_layers += 1
                    self._g_aug[layer].fill(0.0)
                    if norm_axis is not None:
                        self.grads[layer]["gamma"].fill(0.0)
                        self.grads[layer]["beta"].fill(0.0)
                    dh = dz
                    continue
                np.multiply(dz, up, out=ws.scratch)
                src, scale = ws.scratch, down
            g_aug = self._g_aug[layer]
            np.matmul(ws.inputs_t[layer], src, out=g_aug)  # [dL/dW; dL/db] = [a, 1]ᵀ dz
            np.matmul(src, self._w_t[layer], out=ws.da)  # dL/da = dz Wᵀ
            if scale is not None:
                g_aug *= scale
                ws.da *= scale
            if norm_axis is None:
                np.multiply(ws.da, fprime, out=ws.branch)  # dL/du = dL/dh_{l-1} via the branch
            else:
                np.multiply(ws.da, fprime, out=ws.du)
                self._normalize_backward(ws, layer, ws.branch)
            which = 1 - which
            dh_below = ws.dh[which]
            np.add(dz, ws.branch, out=dh_below)  # identity path + branch
            dh = dh_below
        return dh

    def _normalize_backward(self, ws: _Workspace, layer: int, dz: np.ndarray) -> None:
        """dL/dz_l from dL/du_l (in ``ws.du``); fills dL/dγ_l and dL/dβ_l on the way."""
        gamma = self.params[layer]["gamma"]
        d_gamma, d_beta = self.grads[layer]["gamma"], self.grads[layer]["beta"]
        xhat, inv_std = ws.xhat[layer], ws.inv_std[layer]
        if self._norm_axis == 0:
            batch_norm_backward_into(
                ws.du, xhat, inv_std, gamma, d_gamma, d_beta, dz, ws.scratch, ws.stat[0]
            )
            return
        np.multiply(ws.du, xhat, out=ws.scratch)
        np.add.reduce(ws.scratch, axis=0, out=d_gamma)  # dγ = Σ_b du·x̂
        np.add.reduce(ws.du, axis=0, out=d_beta)  # dβ = Σ_b du
        ws.du *= gamma  # dL/dx̂ = γ·du
        normalize_backward_into(ws.du, xhat, inv_std, 1, dz, ws.scratch, ws.stat[0], ws.stat[1])

    # ------------------------------------------------------------------ statistics
    def _weight_blocks(self, flat: np.ndarray) -> tuple:
        """(W_1, hidden W rows, W_out) as views of ``flat`` (parameters, gradients or velocity).

        Hidden layers 2..depth have equal sizes, so their W blocks sit at a constant stride in
        the flat buffer: one strided view holds them all as the rows of one matrix.
        """
        starts, ends = self._w_starts, self._w_ends
        hidden = len(starts) - 2
        rows = None
        if hidden > 0:
            stride = int(starts[1] - starts[0]) if hidden == 1 else int(starts[2] - starts[1])
            rows = np.lib.stride_tricks.as_strided(
                flat[starts[1] :],
                shape=(hidden, int(ends[1] - starts[1])),
                strides=(stride * flat.itemsize, flat.itemsize),
                writeable=False,
            )
        return flat[starts[0] : ends[0]], rows, flat[starts[-1] : ends[-1]]

    def _weight_norms(self, blocks: tuple) -> np.ndarray:
        """‖W_l‖ of every layer from :meth:`_weight_blocks`: the hidden ones in one pass."""
        first, rows, last = blocks
        norms = np.empty(self.config.depth + 1)
        norms[0], norms[-1] = safe_norm(first), safe_norm(last)
        if rows is not None:
            norms[1:-1] = row_norms(rows)
        return norms

    def _statistics(
        self,
        ws: _Workspace,
        u_stack: np.ndarray,
        loss: float,
        accuracy: float,
        weight_norms: np.ndarray,
        grad_norms: np.ndarray,
        update_ratios: np.ndarray,
        preactivation_rows: int | None = None,
    ) -> StepStats:
        width = self.config.width
        if self.dtype == np.float64:  # the backward pass already summed the squares
            signal = norms_from_sums_of_squares(ws.dz_sumsq, ws.dz_rows)
        else:  # ... in float32, where they underflow: sum again in float64
            signal = row_norms(ws.dz)
        if self.dtype == np.float64:
            stream = norms_from_sums_of_squares(ws.dh_sumsq, ws.dh_rows)
        else:
            stream = row_norms(ws.dh_stack)
        units = ws.batch * width
        mean_deriv = ws.fprime_sum / units
        rms_deriv = np.sqrt(ws.fprime_sumsq / units)
        saturated = ws.saturated_count / units
        # Gain of W_{l+1} for l = 1..depth-1: ‖W‖_F / sqrt(fan_out) (hidden layers are square).
        gains = weight_norms[1:-1] / np.sqrt(width)
        predicted = chain_rule_prediction(float(signal[-1]), rms_deriv, gains)
        return StepStats(
            loss=loss,
            accuracy=accuracy,
            weight_grad_norms=grad_norms,
            signal_grad_norms=signal,
            update_ratios=update_ratios,
            weight_norms=weight_norms,
            mean_derivatives=mean_deriv,
            rms_derivatives=rms_deriv,
            saturated_fractions=saturated,
            predicted_signal_norms=predicted,
            stream_grad_norms=stream,
            distance_from_init=self.distance_from_init(),
            preactivations=(
                list(u_stack)
                if preactivation_rows is None
                else [u[:preactivation_rows].copy() for u in u_stack]
            ),
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

    @staticmethod
    def _ratios(learning_rate: float, step_norms: np.ndarray, weight_norms: np.ndarray):
        return learning_rate * step_norms / np.where(weight_norms > 0, weight_norms, np.inf)

    # ------------------------------------------------------------------ public API
    def gradients(
        self,
        x: np.ndarray,
        y: np.ndarray,
        learning_rate: float | None = None,
        momentum: float = 0.0,
        *,
        optimizer: str = "sgd",
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        preactivation_rows: int | None = None,
    ) -> StepStats:
        """Forward and backward pass on (x, y); parameters and optimizer state are unchanged.

        The gradients are left in :attr:`grads` (unclipped). With ``learning_rate``,
        ``update_ratios`` is the ratio the next :meth:`train_step` with these settings would
        produce (on this batch); without it, NaN. ``preactivation_rows`` as in
        :meth:`train_step`.
        """
        _check_optimizer(optimizer, weight_decay, clip_norm)
        x, y = self._check_batch(x, y)
        ws = self._workspace_for(x.shape[0])
        with np.errstate(all="ignore"):
            u_stack = self._forward(ws, x, update_running=False, fresh=preactivation_rows is None)
            loss, accuracy = self._backward(ws, u_stack, y)
            weight_norms = self._weight_norms(self._w_blocks)
            grad_norms = self._weight_norms(self._g_blocks)
            if learning_rate is None:
                ratios = np.full(self.config.depth + 1, np.nan)
            elif optimizer == "sgd" and momentum <= 0 and weight_decay == 0 and clip_norm is None:
                ratios = self._ratios(learning_rate, grad_norms, weight_norms)  # no copy needed
            else:
                state = self._optimizer
                if state is None or state.kind != optimizer:
                    state = OptimizerState(optimizer, self._flat.size, self.dtype)
                else:
                    state = copy.deepcopy(state)
                direction, step_size = state.direction(
                    self._grad_flat.copy(),
                    self._flat,
                    learning_rate,
                    momentum,
                    weight_decay,
                    clip_norm,
                )
                ratios = self._ratios(
                    step_size, self._weight_norms(self._weight_blocks(direction)), weight_norms
                )
            return self._statistics(
                ws, u_stack, loss, accuracy, weight_norms, grad_norms, ratios, preactivation_rows
            )

    def train_step(
        self,
        x: np.ndarray,
        y: np.ndarray,
        learning_rate: float,
        momentum: float = 0.0,
        *,
        optimizer: str = "sgd",
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        preactivation_rows: int | None = None,
    ) -> StepStats:
        """One optimizer step; returns its statistics.

        ``optimizer`` is ``"sgd"`` (heavy-ball momentum when ``momentum`` > 0), ``"rmsprop"``
        or ``"adam"``; ``weight_decay`` is coupled L2 and ``clip_norm`` clips the total
        gradient norm first, all exactly as PyTorch (see :mod:`.optimizers`). Changing the
        optimizer starts its state afresh.

        The statistics describe the parameters *before* the update: the gradients that were
        computed (before clipping) and the pre-activations that produced them; the update
        ratios are those of the update actually applied. With ``preactivation_rows`` the
        statistics keep only the first that many rows (samples) of each layer's
        pre-activations: the window draws no more, and the whole (depth, batch, width) stack
        was 200 MB at the largest settings. Every other statistic still covers the whole batch.
        """
        _check_optimizer(optimizer, weight_decay, clip_norm)
        x, y = self._check_batch(x, y)
        ws = self._workspace_for(x.shape[0])
        with np.errstate(all="ignore"):
            u_stack = self._forward(ws, x, update_running=True, fresh=preactivation_rows is None)
            loss, accuracy = self._backward(ws, u_stack, y)
            weight_norms = self._weight_norms(self._w_blocks)
            grad_norms = self._weight_norms(self._g_blocks)
            direction, step_size = self._optimizer_step(
                learning_rate, momentum, optimizer, weight_decay, clip_norm
            )
            if direction is self._grad_flat and clip_norm is None:
                step_norms = grad_norms
            else:
                step_norms = self._weight_norms(self._weight_blocks(direction))
            ratios = self._ratios(step_size, step_norms, weight_norms)
            stats = self._statistics(
                ws, u_stack, loss, accuracy, weight_norms, grad_norms, ratios, preactivation_rows
            )
            self._apply(direction, step_size)
        return stats

    def train_step_lean(
        self,
        x: np.ndarray,
        y: np.ndarray,
        learning_rate: float,
        momentum: float = 0.0,
        *,
        optimizer: str = "sgd",
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> LeanStep:
        """The same step as :meth:`train_step` (the same parameters and optimizer state after
        it, bit for bit), without the per-layer statistics.

        The window draws statistics about 30 times a second and keeps a history that thins out
        as it grows, so most steps' statistics would never be seen: the app trains those with
        this method (see :class:`~vg_desktop.training_loop.TrainingLoop`). What it returns is
        enough to notice what must not wait for the next step with statistics: a divergence,
        and gradients that became exactly zero.
        """
        _check_optimizer(optimizer, weight_decay, clip_norm)
        x, y = self._check_batch(x, y)
        ws = self._workspace_for(x.shape[0])
        with np.errstate(all="ignore"):
            u_stack = self._forward(ws, x, update_running=True, fresh=False)
            loss, accuracy = self._backward(ws, u_stack, y, statistics=False)
            direction, step_size = self._optimizer_step(
                learning_rate, momentum, optimizer, weight_decay, clip_norm
            )
            self._apply(direction, step_size)
            # An infinite or NaN gradient leaves infinite or NaN parameters after the update.
            finite = bool(np.isfinite(loss) and np.isfinite(self._flat, out=self._finite).all())
        return LeanStep(loss, accuracy, finite, ws.zero_layers)

    def _optimizer_step(
        self,
        learning_rate: float,
        momentum: float,
        optimizer: str,
        weight_decay: float,
        clip_norm: float | None,
    ) -> tuple[np.ndarray, float]:
        """Advance the optimizer (fresh state when the optimizer changed): (direction, size)."""
        if self._optimizer is None or self._optimizer.kind != optimizer:
            self._optimizer = OptimizerState(optimizer, self._flat.size, self.dtype)
        return self._optimizer.direction(
            self._grad_flat, self._flat, learning_rate, momentum, weight_decay, clip_norm
        )

    @property
    def optimizer_kind(self) -> str | None:
        """The optimizer whose state the network holds (None before the first step)."""
        return None if self._optimizer is None else self._optimizer.kind

    def _apply(self, step: np.ndarray, learning_rate: float) -> None:
        """θ ← θ − lr·step, in chunks that stay in cache between the two operations."""
        lr, update, chunk = self.dtype.type(learning_rate), self._update, self._update.size
        for start in range(0, self._flat.size, chunk):
            part = slice(start, start + chunk)
            n = min(chunk, self._flat.size - start)
            np.multiply(step[part], lr, out=update[:n])
            self._flat[part] -= update[:n]

    def _forward_eval(
        self, x: np.ndarray, dead: np.ndarray | None = None, stop_at: int | None = None
    ) -> np.ndarray:
        """Evaluation-mode logits: the same layers, batch norm with its running statistics.

        Nothing is kept for a backward pass, so two alternating buffers hold the activations
        whatever the depth (the decision-region grid can be thousands of points). With
        ``dead`` (a (depth, width) bool array), each unit's entry is cleared unless the unit
        is saturated for every row of ``x``. With ``stop_at`` (a 0-based hidden layer), the pass
        stops there and returns a copy of that layer's a = f(u) instead of the logits.
        """
        cfg = self.config
        n, width = x.shape[0], cfg.width
        forward_into = self.activation.forward_into
        h = np.ones((n, self.n_inputs + 1), self.dtype)
        np.copyto(h[:, :-1], x, casting="same_kind")
        buffers = [np.ones((n, width + 1), self.dtype) for _ in range(2)]
        u = np.empty((n, width), self.dtype)
        a = np.empty((n, width), self.dtype)
        scratch = np.empty((n, width), self.dtype)
        pre_activation = cfg.pre_activation
        a_aug = np.ones((n, width + 1), self.dtype) if pre_activation else None
        interrupt = self.interrupt
        for layer in range(cfg.depth):
            if interrupt is not None and interrupt():
                raise TrainingInterrupted
            p = self.params[layer]
            pre_block = pre_activation and layer > 0
            if pre_block:
                np.copyto(u, h[:, :width])  # u = norm(h_prev), then a = f(u), z = a W + b
            else:
                np.matmul(h, self._w_aug[layer], out=u)  # z = h W + b
            if self._norm_axis == 0:
                inv_std = 1.0 / np.sqrt(self.running_var[layer] + EPS)
                np.copyto(u, (u - self.running_mean[layer]) * inv_std, casting="same_kind")
            elif self._norm_axis == 1:
                u[...] = normalize_forward(u, 1)[0]
            if self._norm_axis is not None:
                u *= p["gamma"]
                u += p["beta"]
            forward_into(u, a, scratch)
            if layer == stop_at:
                return a.copy()
            if dead is not None:
                self.activation.derivative_into(u, a, scratch)
                dead[layer] &= np.all(self.activation.saturated(scratch), axis=0)
            out = buffers[layer % 2]
            if pre_block:
                np.copyto(a_aug[:, :width], a)
                np.matmul(a_aug, self._w_aug[layer], out=scratch)
                np.add(h[:, :width], scratch, out=out[:, :width])
            elif cfg.residual and layer > 0:
                np.add(h[:, :width], a, out=out[:, :width])
            else:
                np.copyto(out[:, :width], a)
            h = out
        return h @ self._w_aug[-1]

    def unit_outputs(self, x: np.ndarray, layer: int) -> np.ndarray:
        """(n, width) a_l = f(u_l) of hidden layer ``layer`` (1-indexed) for the inputs ``x``.

        What each unit of the layer computes: the features the layer has learned, or the ones it
        started with. Evaluation mode (batch norm uses its running statistics, as
        :meth:`predict_proba` does), and the parameters are left unchanged. For the
        pre-activation residual block (l >= 2), u_l = norm(h_{l-1}) and a_l = f(u_l) is what
        feeds the branch's weight layer.
        """
        depth = self.config.depth
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise ValueError(f"layer must be an integer from 1 to {depth}; got {layer!r}")
        if not 1 <= layer <= depth:
            raise ValueError(f"layer must be an integer from 1 to {depth}; got {layer}")
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (n, {self.n_inputs}); got {x.shape}")
        with np.errstate(all="ignore"):
            return self._forward_eval(x, stop_at=int(layer) - 1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities in evaluation mode (batch norm uses its running statistics)."""
        with np.errstate(all="ignore"):
            logits = self._forward_eval(np.asarray(x))
            return softmax_cross_entropy(logits, np.zeros(len(x), dtype=int))[1]

    def evaluate_dataset(self, x: np.ndarray, y: np.ndarray) -> DatasetEvaluation:
        """Loss, accuracy and dead units over all of (x, y), in evaluation mode, in one pass
        (parameters untouched). Costs a forward pass over every sample: the training loop
        takes it a chunk at a time (:meth:`evaluate_chunk`) within a share of its time."""
        dead = np.ones((self.config.depth, self.config.width), dtype=bool)
        loss_sum, correct = self.evaluate_chunk(x, y, dead)
        return dataset_evaluation(loss_sum, correct, len(y), dead)

    def evaluate_chunk(self, x: np.ndarray, y: np.ndarray, dead: np.ndarray) -> tuple[float, int]:
        """(summed cross-entropy, number correct) over the chunk (x, y) in evaluation mode.

        ``dead`` is a (depth, width) bool array: a unit's entry is cleared unless its |f'| is
        below the saturation threshold for every sample of the chunk, so ANDed over the chunks
        of a dataset it marks the units dead on all of it.
        """
        x, y = np.asarray(x), np.asarray(y)
        with np.errstate(all="ignore"):
            logits = self._forward_eval(x, dead)
            loss, _ = softmax_cross_entropy(logits, y)
        return loss * len(y), int(np.count_nonzero(np.argmax(logits, axis=1) == y))

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(loss, accuracy) in evaluation mode, without touching any parameter."""
        x, y = np.asarray(x), np.asarray(y)
        with np.errstate(all="ignore"):
            logits = self._forward_eval(x)
            loss, _ = softmax_cross_entropy(logits, y)
        return loss, float(np.mean(np.argmax(logits, axis=1) == y))

    def initial_weights(self, layer: int) -> np.ndarray:
        """A copy of W_l(0) of layer ``layer`` (1-indexed; depth + 1 is the output layer): the
        weights the network was built with from its seed."""
        if not 1 <= layer <= self.config.depth + 1:
            raise ValueError(f"layer must be from 1 to {self.config.depth + 1}; got {layer}")
        first, rows, last = self._initial_weights
        shape = self.params[layer - 1]["W"].shape
        if layer == 1:
            return first.reshape(shape).copy()
        if layer == self.config.depth + 1:
            return last.reshape(shape).copy()
        return rows[layer - 2].reshape(shape).copy()

    def distance_from_init(self) -> np.ndarray:
        """(depth + 1,) float64 ‖W_l − W_l(0)‖_F / ‖W_l(0)‖_F per layer, output layer last.

        W_l(0) are the weights the network was built with from its seed (loading saved weights
        does not change them), so this is 0 before the first step and says how far each layer
        has moved since: a layer the gradient never reaches stays near 0. Weights only (biases,
        γ and β are left out). NaN for a layer whose initial weights are all zero.
        """
        first0, rows0, last0 = self._initial_weights
        first, rows, last = self._w_blocks
        scratch = self._distance_scratch
        diffs = np.empty(self.config.depth + 1)
        with np.errstate(all="ignore"):
            for k, (now, then) in ((0, (first, first0)), (-1, (last, last0))):
                d = scratch[: now.size]
                np.subtract(now, then, out=d)
                diffs[k] = safe_norm(d)
            if rows is not None:
                per = self._distance_rows
                for start in range(0, len(rows), per):
                    part = slice(start, start + per)
                    n = len(rows[part])
                    d = scratch[: n * rows.shape[1]].reshape(n, -1)
                    np.subtract(rows[part], rows0[part], out=d)
                    diffs[1 + start : 1 + start + n] = row_norms(d)
            return diffs / np.where(self._initial_norms > 0, self._initial_norms, np.nan)

    # ------------------------------------------------------------------ state
    def state_arrays(self, optimizer: bool = False) -> dict[str, np.ndarray]:
        """Copies of every parameter (and batch-norm running statistic), for saving as .npz;
        with ``optimizer``, also the optimizer's state (``optimizer_*``, see
        :meth:`.OptimizerState.arrays`; none before the first step or for plain SGD)."""
        out = {}
        for layer, p in enumerate(self.params):
            for name, value in p.items():
                out[f"layer{layer}_{name}"] = value.copy()
        out["running_mean"] = self.running_mean.copy()
        out["running_var"] = self.running_var.copy()
        if optimizer and self._optimizer is not None:
            out.update(self._optimizer.arrays())
        return out

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Load what :meth:`state_arrays` wrote; every shape is checked before anything changes.

        Optimizer state (``optimizer_*``), when present, is loaded too; without it the
        optimizer starts fresh, as after a rebuild.
        """
        expected = self.state_arrays()
        missing = set(expected) - set(arrays)
        if missing:
            raise ValueError(f"the weights file lacks {', '.join(sorted(missing))}")
        for key, value in expected.items():
            if np.shape(arrays[key]) != value.shape:
                raise ValueError(f"{key} has shape {np.shape(arrays[key])}, expected {value.shape}")
        optimizer = OptimizerState.from_arrays(arrays, self._flat.size, self.dtype)
        self._optimizer = optimizer
        for layer, p in enumerate(self.params):
            for name in p:
                p[name][...] = arrays[f"layer{layer}_{name}"]
        self.running_mean[...] = arrays["running_mean"]
        self.running_var[...] = arrays["running_var"]
