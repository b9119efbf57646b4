"""The training loop: builds, trains and measures one network, with no Qt at all.

It runs in the training process (:mod:`vg_desktop.training_process`) or, for tests that inject
faults into the engine, in a thread of the app's own process. Commands reach it through
thread-safe state (``threading.Event`` flags and a lock-protected mailbox) from another thread of
the same process; it reports through a ``send`` callback: immutable
:class:`~vg_desktop.snapshot.Snapshot` objects, at most ~30 per second while training.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable

import numpy as np

from .engine import (
    ExperimentConfig,
    HistoryStride,
    StepStats,
    TrainingInterrupted,
    TrainingRun,
    dataset_evaluation,
)
from .layer_features import layer_features
from .snapshot import (
    DatasetFigures,
    DecisionGrid,
    HistoryRecorder,
    LayerFeatures,
    TestResult,
    frozen,
    preactivation_rows,
    snapshot_from_stats,
)
from .status_text import layer_list

EMIT_INTERVAL = 1.0 / 30.0  # seconds between snapshots while training (the frame rate)
FRAME_INTERVAL = 1.0 / 30.0  # the pace of "steps per frame" speeds (the frame rate)
DECISION_RESOLUTION = 48  # grid points per axis for the decision regions
DECISION_SHARE = 0.05  # the decision grid may use at most this share of the training time
SHOWN_TEST_IMAGES = 30  # test images the data view draws (their pixels travel in snapshots)
DATASET_SHARE = 0.02  # the whole-dataset loss, accuracy and dead units: a few passes a second
DATASET_INTERVAL = 0.25  # s, at least, between whole-dataset passes while training (readable)


def all_finite(stats: StepStats) -> bool:
    """The loss, every gradient norm and every weight norm finite.

    The weights are checked too: an infinite weight behind a saturating activation (sigmoid of
    ±inf is 0 or 1) can leave the loss and the gradients finite while the network is broken.
    """
    return stats.finite and bool(np.all(np.isfinite(stats.weight_norms)))


class DecisionGridBuilder:
    """Evaluates the network on a grid over the data a chunk at a time.

    For a 200-layer, 256-wide network one full grid costs as much as dozens of training steps, so
    the worker interleaves chunks with training (and can stop between chunks) instead of blocking.
    """

    def __init__(self, run: TrainingRun, resolution: int = DECISION_RESOLUTION) -> None:
        lo = run.x.min(axis=0) - 0.5
        hi = run.x.max(axis=0) + 0.5
        self.xs = np.linspace(lo[0], hi[0], resolution)
        self.ys = np.linspace(lo[1], hi[1], resolution)
        gx, gy = np.meshgrid(self.xs, self.ys)
        self.points = np.column_stack([gx.ravel(), gy.ravel()])
        self.resolution = resolution
        self._probs = np.empty((len(self.points), run.network.n_classes))
        self._cursor = 0
        # Points per chunk: about 20 MFLOP of matmuls, a few milliseconds.
        cfg = run.config.network
        flops_per_point = 2 * cfg.depth * cfg.width * cfg.width + 1
        self.chunk = int(np.clip(2e7 / flops_per_point, 16, len(self.points)))

    def advance(self, run: TrainingRun) -> DecisionGrid | None:
        """Evaluate the next chunk; return the finished grid once every point is done."""
        end = min(self._cursor + self.chunk, len(self.points))
        self._probs[self._cursor : end] = run.network.predict_proba(self.points[self._cursor : end])
        self._cursor = end
        if end < len(self.points):
            return None
        self._cursor = 0
        probs = np.nan_to_num(self._probs, nan=1.0 / self._probs.shape[1])
        shape = (self.resolution, self.resolution)
        return DecisionGrid(
            frozen(self.xs),
            frozen(self.ys),
            frozen(np.argmax(probs, axis=1).reshape(shape), np.int64),
            frozen(np.max(probs, axis=1).reshape(shape)),
        )


class TestSetEvaluator:
    """For image datasets: the network's answers on the held-out test split, a chunk at a time
    (the same interface as :class:`DecisionGridBuilder`, which needs 2-D inputs)."""

    def __init__(self, run: TrainingRun) -> None:
        self._predicted = np.empty(len(run.y_test), dtype=np.int64)
        self._cursor = 0
        self._step = run.step_count
        cfg = run.config.network
        flops_per_point = 2 * cfg.depth * cfg.width * cfg.width + 1
        self.chunk = int(np.clip(2e7 / flops_per_point, 16, max(len(run.y_test), 16)))

    def advance(self, run: TrainingRun) -> TestResult | None:
        if self._cursor == 0:
            self._step = run.step_count
        end = min(self._cursor + self.chunk, len(run.y_test))
        probs = run.network.predict_proba(run.x_test[self._cursor : end])
        # A NaN row (a diverged network) predicts no class: -1, never counted as right.
        predicted = np.where(np.isfinite(probs).all(axis=1), np.argmax(probs, axis=1), -1)
        self._predicted[self._cursor : end] = predicted
        self._cursor = end
        if end < len(run.y_test):
            return None
        self._cursor = 0
        return TestResult(
            predicted=frozen(self._predicted[:SHOWN_TEST_IMAGES], np.int64),
            accuracy=float(np.mean(self._predicted == run.y_test)),
            n_test=len(run.y_test),
            step=self._step,
        )


def evaluator_for(run: TrainingRun) -> DecisionGridBuilder | TestSetEvaluator:
    """What the data view needs at the history cadence: 2-D decision regions or test answers."""
    if run.x.shape[1] == 2 and not len(run.y_test):
        return DecisionGridBuilder(run)
    return TestSetEvaluator(run)


class DatasetEvaluator:
    """Loss, accuracy and dead units on the whole dataset, in evaluation mode, a chunk at a time.

    The status bar shows these instead of one minibatch's figures (which, for the same stalled
    network, read anywhere from 39 % to 61 %). A pass is one forward pass over every sample —
    at depth 200, width 256 and 4,096 samples as much as dozens of training steps — so, like
    the decision grid, it is taken in chunks of about 20 MFLOP between steps, within a share of
    the training time. While training, a pass of several chunks spans a few steps; its figures
    say which (``first_step`` .. ``step``). Paused, a pass is always of the paused step.
    """

    def __init__(self, run: TrainingRun) -> None:
        cfg = run.config.network
        flops_per_point = 2 * cfg.depth * cfg.width * cfg.width + 1
        self.chunk = int(np.clip(2e7 / flops_per_point, 16, len(run.x)))
        self._cursor = 0
        self._start(run)

    def _start(self, run: TrainingRun) -> None:
        cfg = run.config.network
        self._cursor = 0
        self._loss_sum = 0.0
        self._correct = 0
        self._dead = np.ones((cfg.depth, cfg.width), dtype=bool)
        self._first_step = run.step_count

    def advance(self, run: TrainingRun, exact: bool = False) -> DatasetFigures | None:
        """Evaluate the next chunk; return the figures once every sample is done. ``exact``
        restarts a pass that began at an earlier step (paused: the figures are the step's)."""
        if exact and self._first_step != run.step_count:
            self._start(run)
        end = min(self._cursor + self.chunk, len(run.x))
        part = slice(self._cursor, end)
        loss_sum, correct = run.network.evaluate_chunk(run.x[part], run.y[part], self._dead)
        self._loss_sum += loss_sum
        self._correct += correct
        self._cursor = end
        if end < len(run.x):
            return None
        evaluation = dataset_evaluation(self._loss_sum, self._correct, len(run.x), self._dead)
        figures = DatasetFigures.of(evaluation, self._first_step, run.step_count)
        self._start(run)
        return figures


def decision_grid(run: TrainingRun, resolution: int = DECISION_RESOLUTION) -> DecisionGrid:
    """The network's predicted class and its probability on a grid covering the data."""
    builder = DecisionGridBuilder(run, resolution)
    while (grid := builder.advance(run)) is None:
        pass
    return grid


Send = Callable[..., None]


class TrainingLoop:
    """Trains until stopped; controlled through thread-safe methods, reports through ``send``.

    ``send(kind, *payload)`` is called from the loop's thread only, with ``kind`` one of
    ``"snapshot"`` (a :class:`Snapshot`), ``"state"`` (``"playing"``, ``"paused"`` or
    ``"diverged"``), ``"error"`` (summary, traceback) and ``"weights"`` (a dict of arrays).
    """

    def __init__(self, config: ExperimentConfig, send: Send, first_run_id: int = 1) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._playing = threading.Event()
        self._wake = threading.Event()
        # Set by stop, rebuild and reset: the network checks it between layers (a step of a
        # 200-layer, 256-wide network can take seconds, and those must not wait for it). One
        # flag read per layer instead of three conditions: ~3 % of a depth-100 step.
        self._abandon = threading.Event()
        self._pending_config: ExperimentConfig | None = config
        self._pending_train = None
        self._reset_requested = False
        self._single_steps = 0
        self._steps_per_frame: int | None = None  # None: as fast as the machine allows
        self._max_steps: int | None = None  # stop conditions (None: never)
        self._target_loss: float | None = None
        self._weights_requested = False
        self._pending_weights: dict | None = None
        self._run: TrainingRun | None = None
        self._run_id = first_run_id - 1  # each rebuild or reset is a new run id
        self._emitted_step = -1
        self._diverged_message = ""  # set when the current network diverged; cleared by rebuilds
        self._stop_message = ""  # why a stop condition paused the run; cleared by the next step
        self._underflow_noted = False  # paused once for gradients that became exactly 0
        # The hidden layer the window's "Layer features" view shows (None: the view is hidden,
        # nothing is computed), and its features, computed at the decision grid's cadence.
        self._feature_layer: int | None = None
        self._features: LayerFeatures | None = None
        self._figures: DatasetFigures | None = None  # the newest whole-dataset evaluation

    # ---------------------------------------------------------------- thread-safe commands
    def play(self) -> None:
        self._playing.set()
        self._wake.set()

    def pause(self) -> None:
        self._playing.clear()
        self._wake.set()

    def request_step(self) -> None:
        with self._lock:
            self._single_steps += 1
        self._wake.set()

    def request_reset(self) -> None:
        with self._lock:
            self._reset_requested = True
            self._abandon.set()
        self._wake.set()

    def set_config(self, config: ExperimentConfig) -> None:
        """Rebuild the network from ``config`` (at the next step boundary; playing continues)."""
        with self._lock:
            self._pending_config = config
            # The new config carries its own training settings; an older pending change (say
            # batch size 1) applied after it could contradict it (batch norm needs 2).
            self._pending_train = None
            self._abandon.set()
        self._wake.set()

    def set_train(self, train) -> None:
        """Apply learning rate, momentum or batch size to the running network."""
        with self._lock:
            self._pending_train = train
        self._wake.set()

    def set_steps_per_frame(self, steps: int | None) -> None:
        with self._lock:
            self._steps_per_frame = steps
        self._wake.set()

    def set_stop_conditions(self, max_steps: int | None, target_loss: float | None) -> None:
        """Pause by itself after ``max_steps`` steps or once the loss is at most ``target_loss``."""
        with self._lock:
            self._max_steps, self._target_loss = max_steps, target_loss
        self._wake.set()

    def set_feature_layer(self, layer: int | None) -> None:
        """Compute the units of hidden layer ``layer`` (1-indexed) for the features view; None
        stops computing them (the view is hidden)."""
        with self._lock:
            self._feature_layer = layer
        self._wake.set()

    def _features_stale(self, run: TrainingRun) -> bool:
        """The layer on screen has no features for the network as it is now."""
        layer = self._feature_layer
        if layer is None:
            return False
        shown = self._features
        return (
            shown is None
            or shown.layer != min(layer, run.config.network.depth)
            or shown.step != run.step_count
        )

    def request_weights(self) -> None:
        """Ask for a copy of the current parameters; they arrive by ``weightsReady``."""
        with self._lock:
            self._weights_requested = True
        self._wake.set()

    def set_config_with_weights(self, config: ExperimentConfig, weights: dict) -> None:
        """Rebuild from ``config`` and load ``weights`` (already validated) into it."""
        with self._lock:
            self._pending_config = config
            self._pending_train = None  # superseded, as in set_config
            self._pending_weights = weights
            self._abandon.set()
        self._wake.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._abandon.set()
        self._wake.set()

    @property
    def playing(self) -> bool:
        return self._playing.is_set()

    # ---------------------------------------------------------------- the loop
    def run(self) -> None:
        """Train until :meth:`request_stop`; weights asked for and not yet sent go out last."""
        self._loop()
        with self._lock:
            want_weights, self._weights_requested = self._weights_requested, False
        if want_weights and self._run is not None:
            self._send("weights", self._run.network.state_arrays(optimizer=True))

    def _loop(self) -> None:
        recorder = HistoryRecorder()
        kept = HistoryStride()  # the steps the window's history will keep
        builder: DecisionGridBuilder | TestSetEvaluator | None = None
        grid: DecisionGrid | TestResult | None = None
        grid_stale = False  # the network changed since the last finished grid
        features_due = False  # a grid finished since the layer features were computed
        evaluator: DatasetEvaluator | None = None
        next_eval_at = 0.0
        last_stats: StepStats | None = None  # of the step numbered stats_step
        stats_step = -1
        measure_next = False  # train the next step with statistics
        last_step_time = 0.0  # how long the last training step took
        last_emit = 0.0
        next_chunk_at = 0.0
        step_times: deque[float] = deque(maxlen=240)
        frame_started = time.perf_counter()
        steps_this_frame = 0
        was_playing = False
        while not self._stop.is_set():
            want_weights = False
            try:
                with self._lock:
                    config, self._pending_config = self._pending_config, None
                    train, self._pending_train = self._pending_train, None
                    reset, self._reset_requested = self._reset_requested, False
                    single = self._single_steps > 0
                    if single:
                        self._single_steps -= 1
                    speed = self._steps_per_frame
                    max_steps, target_loss = self._max_steps, self._target_loss
                    weights, self._pending_weights = self._pending_weights, None
                    want_weights, self._weights_requested = self._weights_requested, False
                    if not self._stop.is_set():
                        self._abandon.clear()  # what asked for it is being handled now
                if reset and config is None and self._run is not None:
                    config = self._run.config
                if config is not None:
                    self._run = TrainingRun(config)
                    if train is not None:
                        # The newest training settings, before anything below can be
                        # interrupted by a newer command: they must not be lost with this pass.
                        self._run.set_train(train)
                        train = None
                    self._run.network.interrupt = self._abandon.is_set
                    self._diverged_message = self._stop_message = ""
                    self._underflow_noted = False
                    if weights is not None:
                        self._run.network.load_state_arrays(weights)
                    self._run_id += 1
                    recorder.take(config.network.depth)
                    kept = HistoryStride()
                    step_times.clear()
                    builder, grid, grid_stale = evaluator_for(self._run), None, True
                    self._features = None
                    evaluator, self._figures, next_eval_at = DatasetEvaluator(self._run), None, 0.0
                    last_stats, stats_step = self._probe(self._run), self._run.step_count
                    # The first frame of a new network goes out at once; its grid follows.
                    self._emit(last_stats, recorder, None, 0.0)
                    last_emit = time.perf_counter()
                    if not all_finite(last_stats):
                        self._diverge(last_stats, recorder, None)
                        continue
                if train is not None and self._run is not None:
                    self._run.set_train(train)
                    self._emitted_step = -1  # paused: still confirm the new settings at once
                if want_weights and self._run is not None:
                    self._send("weights", self._run.network.state_arrays(optimizer=True))
                    want_weights = False
                run = self._run
                if run is None:
                    self._idle()
                    continue
                if self._diverged_message and (self._playing.is_set() or single):
                    # A diverged network only produces NaN: it needs a reset, not more steps.
                    self._playing.clear()
                    self._send("state", "diverged")
                    continue
                if not (self._playing.is_set() or single) and stats_step != run.step_count:
                    # Paused right after a step trained without statistics: train one more,
                    # with them, so the paused frame shows a step's own numbers (as if the
                    # pause had arrived a step later; it arrives mid-step anyway).
                    single = measure_next = True
                if not (self._playing.is_set() or single):
                    if self._emitted_step != run.step_count or was_playing:
                        # Just paused: show exactly where training stopped, at once.
                        self._emit(last_stats, recorder, grid, 0.0)
                        was_playing = False
                        continue
                    figures = self._figures
                    if (
                        evaluator is not None
                        and all_finite(last_stats)
                        and (figures is None or figures.first_step != run.step_count)
                    ):
                        # Paused: the whole dataset's figures of exactly this step, first.
                        finished = evaluator.advance(run, exact=True)
                        if finished is not None:
                            self._figures = finished
                            recorder.add_dataset(finished)
                            self._emit(last_stats, recorder, grid, 0.0)
                        continue
                    if grid_stale and builder is not None and all_finite(last_stats):
                        # Paused: finish the decision regions chunk by chunk, then show them.
                        finished = builder.advance(run)
                        if finished is not None:
                            grid, grid_stale = finished, False
                            self._emit(last_stats, recorder, grid, 0.0)
                        continue
                    if self._features_stale(run):
                        # Paused, or the layer on screen changed: show its units now.
                        self._features = layer_features(run, self._feature_layer)
                        self._emit(last_stats, recorder, grid, 0.0)
                        continue
                    self._idle()
                    continue

                # Pace "steps per frame" speeds: after the frame's quota, wait for the next frame.
                now = time.perf_counter()
                if speed is not None and not single:
                    if now - frame_started >= FRAME_INTERVAL:
                        frame_started, steps_this_frame = now, 0
                    if steps_this_frame >= speed:
                        self._wake.wait(max(0.0, FRAME_INTERVAL - (now - frame_started)))
                        self._wake.clear()
                        continue
                    steps_this_frame += 1

                # Per-layer statistics only for a step someone will see: the next snapshot
                # (due by the time this step ends), a step the history keeps, or one a stop
                # condition may show. The others train without them (the same step, bit for
                # bit): most steps once the history has thinned out.
                step = run.step_count + 1
                emit_due = single or now + last_step_time - last_emit >= EMIT_INTERVAL
                keep = kept.keeps(step)
                if (
                    keep
                    or emit_due
                    or measure_next
                    or target_loss is not None
                    or (max_steps is not None and step >= max_steps)
                ):
                    last_stats, stats_step = run.step(self._rows(run)), step
                    finite = all_finite(last_stats)
                    measure_next = False
                else:
                    lean = run.step_lean()
                    finite = lean.finite
                    if not finite:  # show the network as it is now: NaN or inf somewhere
                        last_stats, stats_step = self._probe(run), step
                    # Gradients exactly zero: a pause and an explanation are due, if they stay
                    # so; the next step, with statistics, finds out.
                    measure_next = lean.zero_layers > 0 and not self._underflow_noted
                self._stop_message = ""
                was_playing = self._playing.is_set()
                grid_stale = True
                if keep:
                    recorder.add(step, last_stats)
                    kept.add(step)
                last_step_time = time.perf_counter() - now
                now = time.perf_counter()
                step_times.append(now)
                if not finite:
                    self._diverge(last_stats, recorder, grid)
                    continue
                measured = stats_step == step  # this step has statistics
                if not measured:
                    stop_reason = ""
                elif max_steps is not None and run.step_count >= max_steps:
                    stop_reason = f"Stopped after {run.step_count:,} steps (stop condition)."
                elif target_loss is not None and last_stats.loss <= target_loss:
                    stop_reason = (
                        f"Stopped at step {run.step_count:,}: the loss reached "
                        f"{last_stats.loss:.4f} ≤ {target_loss:g} (stop condition)."
                    )
                else:
                    stop_reason = self._underflow_reason(last_stats, run)
                if stop_reason:
                    self._playing.clear()
                    self._stop_message = stop_reason
                    self._emit(last_stats, recorder, grid, 0.0)
                    self._send("state", "paused")
                    last_emit = now
                    continue
                if now >= next_chunk_at:
                    # The data view's evaluation and the layer on screen's features share one
                    # budget (DECISION_SHARE of the training time): the features are refreshed
                    # once per finished grid, or at once when the layer on screen changed.
                    shown = self._features
                    layer = self._feature_layer
                    if layer is not None and (
                        features_due
                        or shown is None
                        or shown.layer != min(layer, run.config.network.depth)
                    ):
                        self._features = layer_features(run, layer)
                        features_due = False
                    else:
                        finished = builder.advance(run)
                        if finished is not None:
                            grid, grid_stale = finished, False
                            features_due = True
                    cost = time.perf_counter() - now
                    next_chunk_at = now + cost / DECISION_SHARE
                if now >= next_eval_at:
                    started = time.perf_counter()
                    finished = evaluator.advance(run)
                    done = time.perf_counter()
                    next_eval_at = done + (done - started) / DATASET_SHARE
                    if finished is not None:
                        self._figures = finished
                        recorder.add_dataset(finished)
                        next_eval_at = max(next_eval_at, started + DATASET_INTERVAL)
                if measured and (single or now - last_emit >= EMIT_INTERVAL):
                    rate = 0.0
                    if len(step_times) > 1:
                        rate = (len(step_times) - 1) / max(step_times[-1] - step_times[0], 1e-9)
                    self._emit(last_stats, recorder, grid, rate)
                    last_emit = now
            except TrainingInterrupted:
                if want_weights:  # still owed: to the network that replaces this one
                    with self._lock:
                        self._weights_requested = True
                continue  # a stop, rebuild or reset arrived mid-step: the loop's top handles it
            except Exception as exc:  # shown to the user; the app keeps running
                self._playing.clear()
                grid_stale = False  # do not retry the failing work in a loop
                self._send("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
                self._send("state", "paused")
                self._idle()

    def _underflow_reason(self, stats: StepStats, run: TrainingRun) -> str:
        """Pause once per network when a layer's gradient underflows to exactly 0.

        Those layers can no longer learn: a numerical fault worth a pause and an explanation.
        Play continues (the class may want to watch it); the bars mark them ▼ below the axis.
        """
        if self._underflow_noted:
            return ""
        zero = np.flatnonzero(np.asarray(stats.signal_grad_norms) == 0)
        if zero.size == 0:
            return ""
        self._underflow_noted = True
        depth = len(stats.signal_grad_norms)
        layers = (
            f"layers 1–{zero.size}"
            if zero[-1] == zero.size - 1 and zero.size > 1
            else f"{zero.size} of {depth} layers"
        )
        dead = run.network.evaluate_dataset(run.x, run.y).all_dead_layers
        word = run.network.activation.dead_word
        # Not underflow: whole layers pass nothing back. Only units whose slope is exactly 0
        # (ReLU's "dead") do that; saturated sigmoid or leaky units still pass a little.
        if dead.size and word == "dead":
            return (
                f"Paused at step {run.step_count:,}: the gradient reaching {layers} is exactly 0 "
                f"because {layer_list(dead)} {'is' if dead.size == 1 else 'are'} {word} on "
                f"every one of the {len(run.x):,} samples: no unit passes a gradient (dead "
                "units, not underflow). Press Play to go on. Wider layers avoid it."
            )
        if run.config.network.dtype == "float32":
            why = (
                "every entry fell below float32's smallest normal number, about 1.2e-38, "
                "and the engine flushes those to 0"
            )
            cure = "Switch Precision to float64, or try a cure (ReLU, residual, batch norm)."
        else:
            why = (
                "below float64's smallest normal number, about 2.2e-308, or no unit passes a "
                "gradient"
            )
            cure = "A cure (ReLU, residual, batch norm, another initialization) brings it back."
        return (
            f"Paused at step {run.step_count:,}: the gradient reaching {layers} is exactly 0 "
            f"({why}), so they stop learning. Press Play to go on. {cure}"
        )

    @staticmethod
    def _rows(run: TrainingRun) -> int:
        """Rows of each layer's pre-activations to keep: what a snapshot shows, no more."""
        return preactivation_rows(run.config.train.batch_size, run.config.network.width)

    def _probe(self, run: TrainingRun) -> StepStats:
        return run.probe(self._rows(run))

    def _idle(self) -> None:
        self._wake.wait(0.1)
        self._wake.clear()

    def _emit(
        self, stats: StepStats, recorder: HistoryRecorder, grid, rate: float, message: str = ""
    ) -> None:
        run = self._run
        diverged = bool(self._diverged_message)
        message = self._diverged_message or message or self._stop_message
        snap = snapshot_from_stats(
            stats,
            run_id=self._run_id,
            step=run.step_count,
            config=run.config,
            data_x=self._frozen_data()[0],
            data_y=self._frozen_data()[1],
            history=recorder.take(run.config.network.depth),
            decision=grid if isinstance(grid, DecisionGrid) else None,
            test=grid if isinstance(grid, TestResult) else None,
            features=self._features,
            steps_per_second=rate,
            diverged=diverged,
            message=message,
            playing=self._playing.is_set(),
            dataset=self._figures,
        )
        self._emitted_step = run.step_count
        self._send("snapshot", snap)

    def _frozen_data(self) -> tuple[np.ndarray, np.ndarray]:
        run = self._run
        cached = getattr(run, "_frozen_data", None)
        if cached is None:
            if len(run.y_test):  # images: only the test images the data view draws
                shown = slice(0, SHOWN_TEST_IMAGES)
                cached = (frozen(run.x_test[shown]), frozen(run.y_test[shown], np.int64))
            else:
                cached = (frozen(run.x), frozen(run.y, np.int64))
            run._frozen_data = cached
        return cached

    def _diverge(self, stats: StepStats, recorder: HistoryRecorder, grid) -> None:
        self._playing.clear()
        step = self._run.step_count
        message = (
            f"at step {step} the loss, a gradient or a weight became NaN or infinite: the "
            "gradients exploded. Lower the gain or the learning rate, then press Reset."
        )
        self._diverged_message = message
        self._emit(stats, recorder, grid, 0.0)
        self._send("state", "diverged")
