"""Control fuzzing: thousands of random actions on the real window, invariants after each one.

Every action is something a user can do: set any control to any value its widget allows
(extremes included), play, pause, step, reset, pick a layer (spin box or a click on a bar),
toggle A/B, edit A or B, copy A to B, set up a lesson step, change the view. After each action:

* the GUI thread answers a zero-delay timer within 200 ms;
* exactly one training process runs per run (1, or 2 with A/B on), each with its receiver;
* the controls show the edited run's configuration;
* no Qt warning, Python exception or error log has appeared;

and every ``CATCH_UP_EVERY`` actions the workers must catch up: each run's newest snapshot comes
from that run's configuration.

Deterministic for a seed: ``--fuzz-seed N`` (``--fuzz-seed random`` picks one and prints it) and
``--fuzz-actions N``. A failure names the seed and the last actions, so it can be replayed.

Cost: one SGD step of a 200-layer, 256-wide network on a 512 batch takes seconds (a known engine
limit: steps are not interruptible yet), so the fuzzer keeps depth x width² x batch under a budget.
Each dimension still reaches its own extreme (depth 200, width 256, batch 512), only not all
three at once. A second test runs every other action with all three at once, at the largest
values the controls allow, and Compare A/B turning on and off (a training process of that
size started or retired each time), with the same checks and the same 200 ms bound.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import multiprocessing
import random
import re
import time
from collections import Counter, deque
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEventLoop, Qt, QTimer, QtMsgType
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from vg_desktop.lessons import builtin_lessons, load_lesson
from vg_desktop.worker import retiring_workers, running_workers

DEFAULT_SEED = 20240601
DEFAULT_ACTIONS = 2500  # about a minute on a busy two-core machine
RESPONSE_LIMIT_MS = 200.0  # the bound for "the GUI thread answers"
CATCH_UP_EVERY = 25
CATCH_UP_TIMEOUT_MS = 20_000
LARGEST_ACTIONS = 120  # at depth 200 x width 256 x batch 512: each catch-up waits for seconds
LARGEST_CATCH_UP_TIMEOUT_MS = 90_000  # a new network of that size builds and measures in ~5-15 s
COST_BUDGET = 200 * 32 * 32 * 64  # depth x width² x batch: ~10 ms per step here
QT_PROBLEMS = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)


class _Problems(logging.Handler):
    """Collects warnings and errors the app logs (worker errors, crash reports)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _runqueue_wait_s() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (0 where unknown)."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def gui_round_trip_ms() -> tuple[float, float]:
    """How long the GUI thread takes to run a zero-delay timer: (wall clock, answered) in ms.

    "Answered" leaves out the time the operating system kept the thread waiting for a CPU
    (Linux schedstat): on a shared two-core machine other processes take turns with the app,
    and that is not the app failing to answer. Time spent painting, handling snapshots or
    waiting for the GIL still counts.
    """
    loop = QEventLoop()
    waited = _runqueue_wait_s()
    started = time.perf_counter()
    QTimer.singleShot(0, loop.quit)
    loop.exec()
    wall = time.perf_counter() - started
    return wall * 1000.0, max(0.0, wall - (_runqueue_wait_s() - waited)) * 1000.0


class Fuzzer:
    def __init__(self, window, qtbot, rng: random.Random) -> None:
        self.win = window
        self.qtbot = qtbot
        self.rng = rng
        self.counts: Counter[str] = Counter()
        self.extremes = 0  # spin boxes set to their minimum or maximum
        self.recent: deque[str] = deque(maxlen=25)
        self.lessons = [load_lesson(p) for p in builtin_lessons()]
        c = window.controls
        # control -> (typical low, typical high): most values are cheap ones
        self.spins = {
            c.depth_box: (1, 12),
            c.width_box: (2, 32),
            c.batch_size: (1, 96),
            c.gain: (0.5, 2.0),
            c.learning_rate: (1e-3, 1.0),
            c.momentum: (0.0, 0.9),
            c.noise: (0.0, 0.5),
            c.seed: (0, 40),
            c.stop_after: (1, 300),
            c.stop_at_loss: (0.05, 1.0),
        }
        self.combos = [
            c.activation,
            c.normalization,
            c.init,
            c.precision,
            c.dataset,
            c.speed,
            window.quantity,
        ]
        self.actions = [
            (self.spin, 40),
            (self.combo, 18),
            (self.residual, 3),
            (self.play_pause, 6),
            (self.step, 5),
            (self.reset, 3),
            (self.layer, 5),
            (self.bar_click, 2),
            (self.view_toggle, 3),
            (self.compare, 2),
            (self.edit_target, 3),
            (self.copy_a_to_b, 1),
            (self.batch_one_with_batch_norm, 1),
            (self.lesson_step, 2),
            (self.other_lesson, 0.3),
        ]
        self._weights = [w for _, w in self.actions]

    # ---------------------------------------------------------------- bookkeeping
    def did(self, kind: str, text: str) -> None:
        self.counts[kind] += 1
        self.recent.append(text)

    def random_action(self) -> None:
        action = self.rng.choices([a for a, _ in self.actions], weights=self._weights)[0]
        action()

    # ---------------------------------------------------------------- cost budget
    def _cost(self, **override: int) -> int:
        c = self.win.controls
        depth = override.get("depth", c.depth_box.value())
        width = override.get("width", c.width_box.value())
        batch = override.get("batch", c.batch_size.value())
        return depth * width * width * batch

    def _fit_budget(self, box: QSpinBox, value: int) -> None:
        """Before ``box`` takes ``value``, shrink the other size controls to stay in budget."""
        c = self.win.controls
        name = {c.depth_box: "depth", c.width_box: "width", c.batch_size: "batch"}.get(box)
        if name is None:
            return
        others = [(c.depth_box, 4), (c.width_box, 16), (c.batch_size, 32)]
        for other, small in others:
            if other is box or self._cost(**{name: value}) <= COST_BUDGET:
                continue
            other.setValue(max(small, other.minimum()))
            self.did("spin", f"{other.objectName()} = {other.value()} (budget)")

    # ---------------------------------------------------------------- actions
    def spin(self) -> None:
        box = self.rng.choice(list(self.spins))
        lo, hi = box.minimum(), box.maximum()
        typical_lo, typical_hi = self.spins[box]
        r = self.rng.random()
        if r < 0.05:
            steps = self.rng.choice([-10, -3, -1, 1, 3, 10])
            before = box.value()
            box.stepBy(steps)  # what arrow keys and Page Up/Down do
            self.did("spin", f"{box.objectName()} stepBy({steps}) from {before}")
            return
        if r < 0.75:
            lo, hi = max(lo, typical_lo), min(hi, typical_hi)
        if r >= 0.90:
            value = self.rng.choice([box.minimum(), box.maximum()])  # extremes
        elif isinstance(box, QDoubleSpinBox):
            if box is self.win.controls.learning_rate:
                value = float(10 ** self.rng.uniform(np.log10(lo), np.log10(hi)))
            else:
                value = self.rng.uniform(lo, hi)
        else:
            value = self.rng.randint(lo, max(lo, hi))
        if isinstance(box, QSpinBox):
            self._fit_budget(box, value)
            if self._cost(**{self._dim(box): value}) > COST_BUDGET:
                return
        box.setValue(value)
        self.did("spin", f"{box.objectName()} = {value!r} -> {box.value()!r}")
        if value in (box.minimum(), box.maximum()):
            self.extremes += 1

    def _dim(self, box) -> str:
        c = self.win.controls
        return {c.depth_box: "depth", c.width_box: "width", c.batch_size: "batch"}.get(box, "x")

    def combo(self) -> None:
        box: QComboBox = self.rng.choice(self.combos)
        index = self.rng.randrange(box.count())
        box.setCurrentIndex(index)
        self.did("combo", f"{box.objectName() or box.accessibleName()} = {box.itemData(index)}")

    def batch_one_with_batch_norm(self) -> None:
        """Batch size 1 with batch norm must be refused (raised to 2, with a hint)."""
        c = self.win.controls
        if self.rng.random() < 0.5:
            c.batch_size.setValue(1)
            c.normalization.setCurrentIndex(c.normalization.findData("batch"))
        else:
            c.normalization.setCurrentIndex(c.normalization.findData("batch"))
            c.batch_size.setValue(1)
        config = self.win.edited_run.config
        assert config.network.normalization == "batch" and config.train.batch_size >= 3
        assert c.batch_size.value() >= 3
        self.did("refused", f"batch 1 with batch norm -> batch {config.train.batch_size}")

    def residual(self) -> None:
        self.win.controls.residual.click()
        self.did("toggle", f"residual -> {self.win.controls.residual.isChecked()}")

    def play_pause(self) -> None:
        self.win.controls.play_button.click()
        self.did("run", f"play/pause -> playing={self.win.controller.playing}")

    def step(self) -> None:
        self.win.controls.step_button.click()
        self.did("run", "step")

    def reset(self) -> None:
        self.win.controls.reset_button.click()
        self.did("run", "reset")

    def layer(self) -> None:
        box = self.win.layer
        value = self.rng.randint(box.minimum(), box.maximum())
        box.setValue(value)
        self.did("layer", f"layer = {value}")

    def bar_click(self) -> None:
        bars = self.win.bars
        n = self.win.edited_run.config.network.depth
        index = self.rng.randrange(n)
        pos = bars.mapFromScene(bars.bar_center(index))
        self.qtbot.mouseClick(bars.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        self.did("layer", f"click bar {index + 1} -> layer {self.win.layer.value()}")

    def view_toggle(self) -> None:
        widget = self.rng.choice([self.win.overlay, self.win.lock_axis, self.win.fit_axis])
        widget.click()
        self.did("view", f"click {widget.accessibleName()}")

    def compare(self) -> None:
        self.win.compare.click()
        self.did("ab", f"compare -> {self.win.compare.isChecked()}")

    def edit_target(self) -> None:
        if self.win.run_b is None:
            return self.compare()
        button = self.rng.choice([self.win.edit_a, self.win.edit_b])
        button.click()
        self.did("ab", f"edit {self.win.editing}")
        return None

    def copy_a_to_b(self) -> None:
        if self.win.run_b is None:
            return self.compare()
        self.win.copy_a_to_b.click()
        self.did("ab", "copy A -> B")
        return None

    def lesson_step(self) -> None:
        panel = self.win.lesson_panel
        if panel.lesson() is None:
            return self.other_lesson()
        panel.go_to(self.rng.randrange(len(panel.lesson().steps)))
        panel.apply_button.click()
        self.did("lesson", f"lesson step {panel.step_index() + 1}: {panel.current_step().id}")
        return None

    def other_lesson(self) -> None:
        lesson = self.rng.choice(self.lessons)
        self.win.lesson_panel.set_lesson(lesson, 0)
        self.win.docks["lesson"].show()
        self.did("lesson", f"lesson {lesson.title!r}")


def _run_states(window) -> str:
    """What each run is doing, for a failure message."""
    states = []
    for run in window.runs():
        latest = run.latest
        if latest is None:
            states.append(f"run {run.name}: no snapshot yet")
            continue
        diff = {
            f"{section}.{k}": (v, getattr(getattr(latest.config, section), k))
            for section in ("network", "train", "data")
            for k, v in dataclasses.asdict(getattr(run.config, section)).items()
            if getattr(getattr(latest.config, section), k) != v
        }
        states.append(
            f"run {run.name}: playing={run.controller.playing}, "
            f"running={run.controller.is_running()}, latest step {latest.step}, "
            f"config vs latest snapshot's: {diff or 'equal'}"
        )
    return "; ".join(states)


@pytest.fixture
def fuzz_seed(request, capsys) -> int:
    raw = str(request.config.getoption("--fuzz-seed", str(DEFAULT_SEED)))
    seed = random.SystemRandom().randrange(2**31) if raw == "random" else int(raw)
    if raw == "random":
        with capsys.disabled():
            print(f"\ntest_fuzz: --fuzz-seed {seed}")
    return seed


def test_thousands_of_random_actions_keep_the_window_healthy(
    qtbot, window, qtlog, request, capsys, fuzz_seed
):
    count = request.config.getoption("--fuzz-actions", None) or DEFAULT_ACTIONS
    fuzz = Fuzzer(window, qtbot, random.Random(fuzz_seed))
    window.open_lesson(builtin_lessons()[0])
    drive(fuzz, count, fuzz_seed, qtbot, qtlog, request, capsys, CATCH_UP_TIMEOUT_MS)


class LargestFuzzer(Fuzzer):
    """Every action but the sizes: depth, width and batch stay at the largest values their
    controls allow (200 × 256 × 512, one step takes seconds), and Compare A/B toggles often,
    each time starting or retiring a training process of that size."""

    def __init__(self, window, qtbot, rng: random.Random) -> None:
        super().__init__(window, qtbot, rng)
        c = window.controls
        self.sizes = (c.depth_box, c.width_box, c.batch_size)
        for box in self.spins_kept_out():
            del self.spins[box]
        self.actions = [
            (self.spin, 10),
            (self.combo, 12),
            (self.residual, 3),
            (self.play_pause, 5),
            (self.step, 4),
            (self.reset, 3),
            (self.layer, 4),
            (self.bar_click, 2),
            (self.view_toggle, 3),
            (self.compare, 8),
            (self.edit_target, 4),
            (self.copy_a_to_b, 2),
        ]
        self._weights = [w for _, w in self.actions]
        self.largest()

    def _cost(self, **override: int) -> int:
        return 0  # no budget: the sizes are the point here (and stay at their maximum)

    def spins_kept_out(self) -> tuple:
        return (*self.sizes, self.win.controls.stop_after)  # a stop would end the stress early

    def largest(self) -> None:
        """Every size control of the edited run at its maximum (the maximum batch follows the
        samples, so it is read again after the others)."""
        for box in self.sizes:
            box.setValue(box.maximum())
        self.did("spin", "depth, width, batch = " + " x ".join(str(b.value()) for b in self.sizes))

    def compare(self) -> None:
        super().compare()
        self.largest()  # B starts as a copy of A; editing A again after B is off

    def edit_target(self) -> None:
        super().edit_target()
        self.largest()

    def at_largest(self) -> bool:
        return all(box.value() == box.maximum() for box in self.sizes)


def test_the_largest_network_with_compare_toggling_keeps_the_window_healthy(
    qtbot, window, qtlog, request, capsys, fuzz_seed
):
    """The same checks, the same GUI-answer bound, at depth 200 × width 256 × batch 512 with
    Compare A/B turning on and off (issue 16: 1.9 s and 0.9 s stalls there)."""
    count = request.config.getoption("--fuzz-actions", None) or LARGEST_ACTIONS
    fuzz = LargestFuzzer(window, qtbot, random.Random(fuzz_seed))
    c = window.controls
    assert (c.depth_box.maximum(), c.width_box.maximum(), c.batch_size.maximum()) == (200, 256, 512)
    window.play()
    drive(fuzz, count, fuzz_seed, qtbot, qtlog, request, capsys, LARGEST_CATCH_UP_TIMEOUT_MS)
    assert fuzz.counts["ab"] >= count // 20, fuzz.counts
    assert fuzz.at_largest()


def drive(fuzz, count, fuzz_seed, qtbot, qtlog, request, capsys, catch_up_timeout_ms) -> None:
    """``count`` random actions of ``fuzz``, the invariants checked after each one."""
    window = fuzz.win
    ignore = [re.compile(p) for p in request.config.getini("qt_log_ignore")]
    problems = _Problems()
    logging.getLogger("vg_desktop").addHandler(problems)
    window.bars.set_animated(False)
    round_trips: list[float] = []  # answered
    walls: list[float] = []  # wall clock, reported
    started = time.perf_counter()

    def where(i: int) -> str:
        return f"seed {fuzz_seed}, action {i + 1} of {count}; last actions:\n  " + "\n  ".join(
            fuzz.recent
        )

    def caught_up() -> bool:
        # ... and every run turned off has ended, its process gone.
        return not retiring_workers() and all(
            r.latest is not None and r.latest.config == r.config for r in window.runs()
        )

    # The answer measured is the app's: objects the earlier tests of this process left (torch
    # from the reference tests, hundreds of windows' wrappers) are moved out of the collector's
    # reach first. A full collection that scans them took 225-313 ms in a run of tests/gui
    # (the app's own heap: ~25 ms) and is charged to whichever action it hits; one CI run
    # measured 737 ms at action 2, the first Compare A/B, which answers in 11-46 ms in a fresh
    # window (most likely such a collection).
    gc.collect()
    gc.freeze()
    try:
        with qtbot.capture_exceptions() as exceptions:
            for i in range(count):
                fuzz.random_action()
                wall, rt = gui_round_trip_ms()
                round_trips.append(rt)
                walls.append(wall)
                assert rt < RESPONSE_LIMIT_MS, f"GUI thread took {rt:.0f} ms ({where(i)})"
                assert window.controls.config() == window.edited_run.config, where(i)
                workers = running_workers()
                assert len(workers) == len(window.runs()), f"{len(workers)} workers: {where(i)}"
                assert all(r.controller.is_running() for r in window.runs()), where(i)
                # A run B just turned off ends in the background (a reaper thread waits for
                # it, not the GUI thread): its process is not one of the runs'.
                ending = {c.pid for c in retiring_workers()}
                children = [p for p in multiprocessing.active_children() if p.pid not in ending]
                # A run whose receiver thread is still starting its process has none yet.
                starting = sum(r.controller.starting for r in window.runs())
                assert len(window.runs()) - starting <= len(children) <= len(window.runs()), (
                    f"{children}, {starting} starting: {where(i)}"
                )
                warnings = [
                    r.message
                    for r in qtlog.records
                    if r.type in QT_PROBLEMS and not any(p.search(r.message) for p in ignore)
                ]
                assert not warnings, f"Qt warned {warnings} ({where(i)})"
                assert not exceptions, f"exception {exceptions[0][1]!r} ({where(i)})"
                assert not problems.records, (
                    f"logged {problems.records[0].getMessage()[:500]} ({where(i)})"
                )
                if (i + 1) % CATCH_UP_EVERY == 0 or i + 1 == count:
                    try:
                        qtbot.waitUntil(caught_up, timeout=catch_up_timeout_ms)
                    except qtbot.TimeoutError:
                        pytest.fail(f"workers did not catch up: {_run_states(window)} ({where(i)})")
                    assert window.edited_run.latest.config == window.controls.config(), where(i)
    finally:
        gc.unfreeze()
        logging.getLogger("vg_desktop").removeHandler(problems)
        window.pause()
    elapsed = time.perf_counter() - started
    summary = (
        f"{type(fuzz).__name__}: {count} actions with seed {fuzz_seed} in {elapsed:.1f} s "
        f"({dict(sorted(fuzz.counts.items()))}, {fuzz.extremes} at a control's minimum or "
        f"maximum); GUI answered in median "
        f"{np.median(round_trips):.1f} ms, p99 {np.percentile(round_trips, 99):.1f} ms, "
        f"max {max(round_trips):.1f} ms (wall clock incl. waiting for a CPU: median "
        f"{np.median(walls):.1f}, p99 {np.percentile(walls, 99):.1f}, max {max(walls):.1f} ms)"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert sum(fuzz.counts.values()) >= count
