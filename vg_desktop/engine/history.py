"""A bounded record of a run, per step and per layer, for curves, the heatmap and exports.

Training can run for hours at thousands of steps per second, so the record keeps at most
``capacity`` rows: when it fills up it drops every other row and from then on records every
second step (then every fourth, ...). Memory stays flat, and the whole run stays visible at an
even resolution.
"""

from __future__ import annotations

import numpy as np

HISTORY_CAPACITY = 4096  # rows a RunHistory keeps before it thins out

FIELDS_PER_LAYER = (
    "signal_grad_norm",
    "weight_grad_norm",
    "update_ratio",
    "saturated_fraction",
    "mean_derivative",
    "stream_grad_norm",  # ‖dL/dh_l‖, the residual stream's gradient (hidden layers only)
    "distance_from_init",  # ‖W_l − W_l(0)‖/‖W_l(0)‖ (every layer, output last)
)


class RunHistory:
    """Step, loss, accuracy, and per-layer (depth) statistics for recorded steps."""

    def __init__(self, depth: int, capacity: int = HISTORY_CAPACITY) -> None:
        self.depth = depth
        self.capacity = max(16, capacity - capacity % 2)
        self.stride = 1
        self._first: int | None = None  # strides count from the first recorded step
        self._n = 0
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._loss = np.zeros(self.capacity)
        self._accuracy = np.zeros(self.capacity)
        # Per-layer arrays hold depth + 1 columns; signal and stream norms and saturation leave
        # the output layer's column NaN (it has no activation). Rows are written whole by
        # append() before they are read, so the arrays start uninitialized: at depth 200
        # filling them would touch 33+ MB of pages on the GUI thread for every new run (100 ms
        # to 1 s here).
        self._layers = {f: np.empty((self.capacity, depth + 1)) for f in FIELDS_PER_LAYER}

        # Whole-dataset evaluations (a few a second, at steps of their own): their own series,
        # thinned the same way (every other row kept once full).
        self._dataset = np.zeros((0, 3))  # rows (step, loss, accuracy)

    def __len__(self) -> int:
        return self._n

    def append_dataset(self, step: int, loss: float, accuracy: float) -> None:
        """Record a whole-dataset evaluation (evaluation mode) taken at ``step``."""
        rows = self._dataset
        if len(rows) >= self.capacity:
            rows = rows[::2]
        self._dataset = np.concatenate([rows, [[step, loss, accuracy]]])

    @property
    def dataset_steps(self) -> np.ndarray:
        return self._dataset[:, 0]

    @property
    def dataset_loss(self) -> np.ndarray:
        return self._dataset[:, 1]

    @property
    def dataset_accuracy(self) -> np.ndarray:
        return self._dataset[:, 2]

    def append(self, step: int, loss: float, accuracy: float, **layers: np.ndarray) -> None:
        """Record one step (skipped unless it falls on the current stride)."""
        if self._first is None:
            self._first = step
        if (step - self._first) % self.stride:
            return
        if self._n == self.capacity:
            self._halve()
            if (step - self._first) % self.stride:
                return
        i = self._n
        self._steps[i], self._loss[i], self._accuracy[i] = step, loss, accuracy
        for name, arr in self._layers.items():
            row = arr[i]
            row[:] = np.nan
            values = layers.get(name)
            if values is not None:
                row[: len(values)] = values
        self._n += 1

    def _halve(self) -> None:
        self.stride *= 2
        keep = np.flatnonzero((self._steps[: self._n] - self._first) % self.stride == 0)
        k = len(keep)
        self._steps[:k] = self._steps[keep]
        self._loss[:k] = self._loss[keep]
        self._accuracy[:k] = self._accuracy[keep]
        for arr in self._layers.values():
            arr[:k] = arr[keep]
        self._n = k

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._n]

    @property
    def loss(self) -> np.ndarray:
        return self._loss[: self._n]

    @property
    def accuracy(self) -> np.ndarray:
        return self._accuracy[: self._n]

    def layer_field(self, name: str) -> np.ndarray:
        """(rows, depth + 1) array of one per-layer field."""
        return self._layers[name][: self._n]

    def rows(self):
        """Long-format rows (step, layer, loss, accuracy, *fields) for CSV/JSON export.

        ``layer`` is 1-based; layer depth + 1 is the output layer.
        """
        for i in range(self._n):
            for layer in range(self.depth + 1):
                values = [float(self._layers[f][i, layer]) for f in FIELDS_PER_LAYER]
                yield (
                    int(self._steps[i]),
                    layer + 1,
                    float(self._loss[i]),
                    float(self._accuracy[i]),
                    *values,
                )

    def clear(self) -> None:
        self._dataset = np.zeros((0, 3))
        self._n = 0
        self.stride = 1
        self._first = None


class HistoryStride:
    """Which steps a :class:`RunHistory` will keep, known before the step is trained.

    The training loop computes a step's per-layer statistics only when someone will see them:
    for the snapshot the window draws next, and for the steps the window's history keeps. That
    history is fed every step the loop records, consecutive steps on its stride; fed the same
    steps, this mirror makes the same choices (``tests/engine/test_history.py``) from three
    numbers instead of the rows.
    """

    def __init__(self, capacity: int = HISTORY_CAPACITY) -> None:
        self.capacity = max(16, capacity - capacity % 2)
        self.stride = 1
        self._first: int | None = None
        self._n = 0

    def keeps(self, step: int) -> bool:
        """Whether the history will keep ``step`` (nothing changes)."""
        if self._first is None:
            return True
        offset = step - self._first
        if offset % self.stride:
            return False
        if self._n == self.capacity:  # full: it halves first, and keeps every other row
            return offset % (2 * self.stride) == 0
        return True

    def add(self, step: int) -> None:
        """Note that ``step`` was recorded (only for steps :meth:`keeps` accepts)."""
        if self._first is None:
            self._first = step
        if self._n == self.capacity:
            # The recorded steps are consecutive multiples of the stride from the first: the
            # halved history keeps every other one of them.
            self.stride *= 2
            self._n = (self._n + 1) // 2
        self._n += 1
