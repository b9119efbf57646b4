"""Immutable snapshots: what the training worker sends the window (Qt-free, NumPy only).

A snapshot crosses threads, so every array in it is a private copy marked read-only: the worker
can keep training while the GUI draws, and neither can change what the other sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .engine import DatasetEvaluation, ExperimentConfig, RunHistory, StepStats

# At most this many pre-activation values per layer travel in a snapshot; the engine's mean
# derivative and saturated fraction are still computed on the whole batch.
PREACTIVATION_SAMPLE = 1024


def frozen(a: np.ndarray, dtype=np.float64) -> np.ndarray:
    """A read-only copy of ``a``."""
    out = np.array(a, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class HistoryChunk:
    """Per-step records for the steps trained since the previous snapshot (k rows)."""

    steps: np.ndarray  # (k,) int
    loss: np.ndarray  # (k,)
    accuracy: np.ndarray  # (k,)
    signal_grad_norms: np.ndarray  # (k, depth)
    weight_grad_norms: np.ndarray  # (k, depth + 1)
    update_ratios: np.ndarray  # (k, depth + 1)
    saturated_fractions: np.ndarray  # (k, depth)
    mean_derivatives: np.ndarray  # (k, depth)
    stream_grad_norms: np.ndarray  # (k, depth)
    distance_from_init: np.ndarray  # (k, depth + 1)
    # Whole-dataset evaluations finished since the previous snapshot: rows (step, loss, accuracy)
    dataset: np.ndarray = field(default_factory=lambda: frozen(np.zeros((0, 3))))

    def __len__(self) -> int:
        return len(self.steps)

    def append_to(self, history: RunHistory) -> None:
        """Record these rows in ``history`` (which keeps the ones on its stride)."""
        for i in range(len(self)):
            history.append(
                int(self.steps[i]),
                float(self.loss[i]),
                float(self.accuracy[i]),
                signal_grad_norm=self.signal_grad_norms[i],
                weight_grad_norm=self.weight_grad_norms[i],
                update_ratio=self.update_ratios[i],
                saturated_fraction=self.saturated_fractions[i],
                mean_derivative=self.mean_derivatives[i],
                stream_grad_norm=self.stream_grad_norms[i],
                distance_from_init=self.distance_from_init[i],
            )
        for step, loss, accuracy in self.dataset:
            history.append_dataset(int(step), float(loss), float(accuracy))

    @staticmethod
    def empty(depth: int) -> HistoryChunk:
        return HistoryChunk(
            steps=frozen(np.zeros(0), np.int64),
            loss=frozen(np.zeros(0)),
            accuracy=frozen(np.zeros(0)),
            signal_grad_norms=frozen(np.zeros((0, depth))),
            weight_grad_norms=frozen(np.zeros((0, depth + 1))),
            update_ratios=frozen(np.zeros((0, depth + 1))),
            saturated_fractions=frozen(np.zeros((0, depth))),
            mean_derivatives=frozen(np.zeros((0, depth))),
            stream_grad_norms=frozen(np.zeros((0, depth))),
            distance_from_init=frozen(np.zeros((0, depth + 1))),
        )


class HistoryRecorder:
    """Collects per-step rows in the worker until the next snapshot takes them.

    It keeps only the per-layer vectors the history needs, never the step's
    :class:`StepStats`: those hold every layer's pre-activations (1.6 MB a step at depth 100),
    and keeping a few steps of them alive made each new step allocate fresh pages, about 10 %
    slower.
    """

    FIELDS = (
        "signal_grad_norms",
        "weight_grad_norms",
        "update_ratios",
        "saturated_fractions",
        "mean_derivatives",
        "stream_grad_norms",
        "distance_from_init",
    )

    def __init__(self) -> None:
        self._rows: list[tuple] = []
        self._dataset: list[tuple[int, float, float]] = []

    def add_dataset(self, figures: DatasetFigures) -> None:
        """A finished whole-dataset evaluation, for the curves."""
        self._dataset.append((figures.step, figures.loss, figures.accuracy))

    def add(self, step: int, stats: StepStats) -> None:
        self._rows.append(
            (step, stats.loss, stats.accuracy, *(getattr(stats, f) for f in self.FIELDS))
        )

    def take(self, depth: int) -> HistoryChunk:
        rows, self._rows = self._rows, []
        dataset, self._dataset = self._dataset, []
        table = frozen(np.array(dataset, dtype=np.float64).reshape(-1, 3))
        if not rows:
            return replace(HistoryChunk.empty(depth), dataset=table)
        columns = list(zip(*rows, strict=True))
        return HistoryChunk(
            steps=frozen(columns[0], np.int64),
            loss=frozen(columns[1]),
            accuracy=frozen(columns[2]),
            **{name: frozen(columns[3 + i]) for i, name in enumerate(self.FIELDS)},
            dataset=table,
        )


@dataclass(frozen=True)
class DatasetFigures:
    """Loss, accuracy and dead units on the whole dataset, in evaluation mode (batch norm on its
    running statistics), evaluated over steps ``first_step`` .. ``step`` (one step when paused,
    or when the pass fits one chunk; see :class:`~vg_desktop.training_loop.DatasetEvaluator`).
    """

    loss: float
    accuracy: float
    samples: int
    dead_units: np.ndarray  # (depth,) int: units saturated (ReLU: u <= 0) on every sample
    width: int
    first_step: int
    step: int

    @staticmethod
    def of(evaluation: DatasetEvaluation, first_step: int, step: int) -> DatasetFigures:
        return DatasetFigures(
            loss=float(evaluation.loss),
            accuracy=float(evaluation.accuracy),
            samples=int(evaluation.samples),
            dead_units=frozen(evaluation.dead_units, np.int64),
            width=int(evaluation.width),
            first_step=int(first_step),
            step=int(step),
        )

    @property
    def all_dead_layers(self) -> np.ndarray:
        """0-based indices of the hidden layers whose every unit is dead."""
        return np.flatnonzero(self.dead_units == self.width)


@dataclass(frozen=True)
class DecisionGrid:
    """The network's prediction on a regular grid over the data, in evaluation mode."""

    xs: np.ndarray  # (nx,) grid x coordinates
    ys: np.ndarray  # (ny,) grid y coordinates
    predicted: np.ndarray  # (ny, nx) int: the class with the highest probability
    confidence: np.ndarray  # (ny, nx) that class's probability, in [1/C, 1]


@dataclass(frozen=True)
class TestResult:
    """The network's answers on an image dataset's held-out test split, in evaluation mode.

    ``predicted`` covers the samples the snapshot carries as ``data_x`` (the first test images,
    the ones the data view draws); ``accuracy`` is over the whole test split.
    """

    predicted: np.ndarray  # (k,) int: the predicted class of each shown test image
    accuracy: float  # over all n_test held-out samples
    n_test: int
    step: int  # the training step of the network that answered


@dataclass(frozen=True)
class LayerFeatures:
    """What one hidden layer has learned, for the "Layer features" view (the layer on screen only).

    ``kind`` says what ``values`` holds:

    * ``"plane"`` (2-D data): (units, ny, nx) each shown unit's output a = f(u) at every point of
      a grid over the decision view's extent (``extent`` = x0, x1, y0, y1);
    * ``"weights"`` (digits, layer 1): (units, 8, 8) each shown unit's incoming weights, one per
      pixel: the pattern the unit responds to; ``initial`` holds the same weights at step 0;
    * ``"samples"`` (digits, deeper layers): (k, units) each shown unit's output on the k fixed
      sample digits in ``samples`` (k, 64).
    """

    layer: int  # 1-indexed hidden layer
    kind: str
    values: np.ndarray  # float32, see above
    units: np.ndarray  # (units,) 1-indexed numbers of the units shown (the layer's first ones)
    width: int  # units in the layer
    step: int  # the training step of the network measured
    activation: str
    extent: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    samples: np.ndarray | None = None
    sample_labels: np.ndarray | None = None
    initial: np.ndarray | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything one frame draws. Per-layer arrays run input -> output (layer 1 first)."""

    run_id: int  # changes on every rebuild or reset: views drop what belongs to older runs
    step: int  # SGD steps taken so far (0 before the first)
    config: ExperimentConfig
    loss: float
    accuracy: float
    signal_grad_norms: np.ndarray  # (depth,) ‖dL/dz_l‖
    weight_grad_norms: np.ndarray  # (depth + 1,) ‖dL/dW_l‖, output layer last
    update_ratios: np.ndarray  # (depth + 1,) ‖ΔW_l‖ / ‖W_l‖
    mean_derivatives: np.ndarray  # (depth,) mean f'(u_l)
    rms_derivatives: np.ndarray  # (depth,) √mean f'(u_l)², the factor the gradient's norm pays
    saturated_fractions: np.ndarray  # (depth,)
    predicted_signal_norms: np.ndarray  # (depth,) ∏ RMS f′ × gain estimate of ‖dL/dz_l‖
    stream_grad_norms: np.ndarray  # (depth,) ‖dL/dh_l‖, the residual stream's gradient
    distance_from_init: np.ndarray  # (depth + 1,) ‖W_l − W_l(0)‖/‖W_l(0)‖, output layer last
    preactivations: tuple[np.ndarray, ...]  # depth 1-D samples of u_l
    data_x: np.ndarray  # (n, 2) the dataset; for images, (k, pixels) shown test images
    data_y: np.ndarray  # (n,)
    history: HistoryChunk = field(repr=False)
    decision: DecisionGrid | None = None
    test: TestResult | None = None  # image datasets: answers on the held-out test split
    features: LayerFeatures | None = None  # the layer on screen's units, at the history cadence
    diverged: bool = False
    message: str = ""  # why the run stopped, in words a student can read
    steps_per_second: float = 0.0
    playing: bool = False  # whether the worker was training when it sent this
    dataset: DatasetFigures | None = None  # whole-dataset figures (None until the first pass)

    @property
    def depth(self) -> int:
        return len(self.signal_grad_norms)


def preactivation_rows(batch: int, width: int, limit: int = PREACTIVATION_SAMPLE) -> int:
    """How many rows (samples) of a layer's (batch, width) pre-activations a snapshot shows.

    The training loop asks the engine to keep no more (the whole stack was 200 MB at the
    largest settings), so what the activation plot draws is unchanged."""
    return max(1, min(batch, limit // max(width, 1)))


def preactivation_sample(u: np.ndarray, limit: int = PREACTIVATION_SAMPLE) -> np.ndarray:
    """The first samples of the (batch, width) minibatch, flattened, at most ``limit`` values.

    Minibatches are drawn at random, so their first rows are an unbiased sample.
    """
    return frozen(u[: preactivation_rows(u.shape[0], u.shape[1], limit)].ravel())


def snapshot_from_stats(
    stats: StepStats,
    *,
    run_id: int,
    step: int,
    config: ExperimentConfig,
    data_x: np.ndarray,
    data_y: np.ndarray,
    history: HistoryChunk,
    decision: DecisionGrid | None = None,
    test: TestResult | None = None,
    features: LayerFeatures | None = None,
    steps_per_second: float = 0.0,
    diverged: bool = False,
    message: str = "",
    playing: bool = False,
    dataset: DatasetFigures | None = None,
) -> Snapshot:
    return Snapshot(
        run_id=run_id,
        step=step,
        config=config,
        loss=float(stats.loss),
        accuracy=float(stats.accuracy),
        signal_grad_norms=frozen(stats.signal_grad_norms),
        weight_grad_norms=frozen(stats.weight_grad_norms),
        update_ratios=frozen(stats.update_ratios),
        mean_derivatives=frozen(stats.mean_derivatives),
        rms_derivatives=frozen(stats.rms_derivatives),
        saturated_fractions=frozen(stats.saturated_fractions),
        predicted_signal_norms=frozen(stats.predicted_signal_norms),
        stream_grad_norms=frozen(stats.stream_grad_norms),
        distance_from_init=frozen(stats.distance_from_init),
        preactivations=tuple(preactivation_sample(u) for u in stats.preactivations),
        data_x=data_x,
        data_y=data_y,
        history=history,
        decision=decision,
        test=test,
        features=features,
        diverged=diverged,
        message=message,
        steps_per_second=steps_per_second,
        playing=playing,
        dataset=dataset,
    )
