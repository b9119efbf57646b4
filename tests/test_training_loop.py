"""The training loop without Qt: what it sends is what the engine computes.

The loop trains most steps without per-layer statistics (nobody would see them: the window
draws ~30 snapshots a second and its history thins out as it grows). What reaches the window
must not change because of that.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from vg_desktop.engine import ExperimentConfig, NetworkConfig, RunHistory, TrainingRun
from vg_desktop.engine.history import FIELDS_PER_LAYER
from vg_desktop.training_loop import TrainingLoop

STEPS = 6000  # past the history's capacity (4096): it halves once, and steps go lean


def _train_with_loop(config: ExperimentConfig) -> tuple[RunHistory, list]:
    snapshots = []
    done = threading.Event()

    def send(kind, *payload):
        if kind == "snapshot":
            snapshots.append(payload[0])
            if payload[0].step >= STEPS and not payload[0].playing:
                done.set()

    loop = TrainingLoop(config, send)
    loop.set_stop_conditions(STEPS, None)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        loop.play()
        assert done.wait(120), "the loop did not stop at its stop condition"
    finally:
        loop.request_stop()
        thread.join(10)
    history = RunHistory(config.network.depth)
    for snap in snapshots:
        snap.history.append_to(history)
    return history, snapshots


def test_the_window_receives_the_history_of_a_run_with_statistics_every_step(monkeypatch):
    lean_steps = []
    step_lean = TrainingRun.step_lean

    def counted(run):
        lean_steps.append(run.step_count + 1)
        return step_lean(run)

    monkeypatch.setattr(TrainingRun, "step_lean", counted)
    config = replace(ExperimentConfig(), network=NetworkConfig(depth=3, width=8, seed=5))
    received, snapshots = _train_with_loop(config)
    # Statistics were skipped, and only for steps the thinned-out history drops.
    assert len(lean_steps) > 500 and min(lean_steps) > 4096
    assert not set(lean_steps) & set(received.steps.tolist())

    reference = RunHistory(config.network.depth)
    run = TrainingRun(config)
    for _ in range(STEPS):
        stats = run.step()
        reference.append(
            run.step_count,
            stats.loss,
            stats.accuracy,
            signal_grad_norm=stats.signal_grad_norms,
            weight_grad_norm=stats.weight_grad_norms,
            update_ratio=stats.update_ratios,
            saturated_fraction=stats.saturated_fractions,
            mean_derivative=stats.mean_derivatives,
            stream_grad_norm=stats.stream_grad_norms,
            distance_from_init=stats.distance_from_init,
        )
    assert reference.stride == 2 and received.stride == 2
    assert received.steps.tolist() == reference.steps.tolist()
    assert np.array_equal(received.loss, reference.loss)
    assert np.array_equal(received.accuracy, reference.accuracy)
    for name in FIELDS_PER_LAYER:
        assert np.array_equal(received.layer_field(name), reference.layer_field(name), True)
    # The last snapshot (the stop condition's) shows step 6000 with its own statistics.
    last = snapshots[-1]
    assert last.step == STEPS and last.loss == stats.loss
    assert np.array_equal(last.signal_grad_norms, stats.signal_grad_norms)


class _Loop:
    """A TrainingLoop in a thread, with what it sent."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.snapshots: list = []
        self.states: list[str] = []
        self.loop = TrainingLoop(config, self._send)
        self.thread = threading.Thread(target=self.loop.run)
        self.thread.start()

    def _send(self, kind, *payload):
        if kind == "snapshot":
            self.snapshots.append(payload[0])
        elif kind == "state":
            self.states.append(payload[0])

    def wait(self, predicate, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for snap in list(self.snapshots):
                if predicate(snap):
                    return snap
            time.sleep(0.01)
        raise AssertionError("no such snapshot arrived")

    def stop(self) -> None:
        self.loop.request_stop()
        self.thread.join(10)


def test_a_pause_after_a_step_without_statistics_shows_a_measured_step():
    """Past the history's capacity most steps go lean; the paused frame must still show the
    statistics of the step it names (update ratios with momentum included)."""
    train = replace(ExperimentConfig().train, momentum=0.9)
    config = replace(
        ExperimentConfig(), network=NetworkConfig(depth=3, width=8, seed=6), train=train
    )
    loop = _Loop(config)
    try:
        loop.loop.play()
        loop.wait(lambda s: s.step > 5000)
        loop.loop.pause()
        paused = loop.wait(lambda s: not s.playing and s.step > 5000)
    finally:
        loop.stop()
    run = TrainingRun(config)
    for _ in range(paused.step):
        stats = run.step()
    assert paused.loss == stats.loss
    assert np.array_equal(paused.update_ratios, stats.update_ratios)
    assert np.array_equal(paused.signal_grad_norms, stats.signal_grad_norms)


def test_a_step_without_statistics_that_diverges_is_caught_at_that_step(monkeypatch):
    """An infinite weight behind a saturating sigmoid can leave the loss finite: a lean step
    checks the parameters too, and the divergence is reported at the step it happened."""
    step_lean = TrainingRun.step_lean
    broken_at = []

    def breaking(run):  # the first step without statistics after step 5000
        if run.step_count >= 5000 and not broken_at:
            run.network.params[0]["W"][0, 0] = -np.inf
            broken_at.append(run.step_count + 1)
        return step_lean(run)

    monkeypatch.setattr(TrainingRun, "step_lean", breaking)
    config = replace(ExperimentConfig(), network=NetworkConfig(depth=3, width=8, seed=7))
    loop = _Loop(config)
    try:
        loop.loop.play()
        diverged = loop.wait(lambda s: s.diverged)
    finally:
        loop.stop()
    assert diverged.step == broken_at[0]
    assert "diverged" in loop.states
    assert "NaN or infinite" in diverged.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_commands_never_lose_a_setting(seed):
    """Rebuilds, resets, steps, speed and training-setting changes in random order and at
    random moments: every 25 commands, the newest snapshot must show the commanded settings.
    (A rebuild interrupted by a newer command once lost training settings that had arrived
    with it: the network kept its old batch size, and said so in every snapshot.)"""
    rng = random.Random(seed)
    config = replace(ExperimentConfig(), network=NetworkConfig(depth=3, width=8))
    loop = _Loop(config)
    try:
        for i in range(1500):
            action = rng.random()
            if action < 0.15:
                loop.loop.play()
            elif action < 0.3:
                loop.loop.pause()
            elif action < 0.4:
                loop.loop.request_step()
            elif action < 0.5:
                network = replace(config.network, depth=rng.randint(1, 6))
                config = replace(config, network=network)
                loop.loop.set_config(config)
            elif action < 0.55:
                loop.loop.request_reset()
            elif action < 0.8:
                train = replace(config.train, batch_size=rng.choice([2, 10, 64, 325]))
                config = replace(config, train=train)
                loop.loop.set_train(train)
            elif action < 0.9:
                loop.loop.set_steps_per_frame(rng.choice([None, 1, 5]))
            else:
                time.sleep(rng.random() * 0.02)
            if i % 25 == 24:
                deadline = time.monotonic() + 10
                while not (loop.snapshots and loop.snapshots[-1].config == config):
                    assert time.monotonic() < deadline, f"command {i + 1}: {config.train} lost"
                    time.sleep(0.005)
    finally:
        loop.stop()


def test_training_settings_that_arrive_with_an_interrupted_rebuild_are_kept(monkeypatch):
    """A rebuild takes the newest training settings with it; when a newer command (here a
    reset) interrupts that rebuild, the settings must reach the network that replaces it."""
    config = replace(ExperimentConfig(), network=NetworkConfig(depth=3, width=8))
    loop = _Loop(config)
    probe = TrainingRun.probe
    armed = threading.Event()

    def interrupted_probe(run, *args):
        if armed.is_set():
            armed.clear()
            loop.loop.request_reset()  # arrives while the new network is being measured
        return probe(run, *args)

    monkeypatch.setattr(TrainingRun, "probe", interrupted_probe)
    try:
        loop.wait(lambda s: s.config == config)
        rebuilt = replace(config, network=replace(config.network, depth=4))
        train = replace(config.train, batch_size=10)
        armed.set()
        with loop.loop._lock:  # both arrive before the loop looks (they could in the app)
            loop.loop._pending_config = rebuilt
            loop.loop._pending_train = train
        loop.loop._wake.set()
        loop.wait(lambda s: s.config == replace(rebuilt, train=train), 10)
        assert not armed.is_set(), "the rebuild was not interrupted"
    finally:
        loop.stop()


def test_paused_snapshots_carry_the_whole_datasets_figures_of_that_step():
    """Paused, the loop evaluates every sample (evaluation mode) at exactly the paused step;
    while training, a share of its time keeps the figures a few steps fresh."""
    from vg_desktop.engine import DataConfig

    config = replace(
        ExperimentConfig(),
        network=NetworkConfig(depth=30, width=32, activation="relu", init="he", seed=0),
        data=DataConfig(seed=0),
    )
    snapshots = []
    paused = threading.Event()

    def send(kind, *payload):
        if kind == "snapshot":
            snap = payload[0]
            snapshots.append(snap)
            figures = snap.dataset
            exact = figures is not None and snap.step == figures.first_step == figures.step
            if exact and not snap.playing and snap.step == 300:
                paused.set()

    loop = TrainingLoop(config, send)
    loop.set_stop_conditions(300, None)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        loop.play()
        assert paused.wait(60), "no paused snapshot with the step's dataset figures"
    finally:
        loop.request_stop()
        thread.join(10)
    last = snapshots[-1]
    run = TrainingRun(config)
    for _ in range(300):
        run.step()
    expected = run.network.evaluate_dataset(run.x, run.y)
    figures = last.dataset
    assert figures.samples == 512 and figures.width == 32
    assert figures.loss == pytest.approx(expected.loss, rel=1e-12)
    assert figures.accuracy == expected.accuracy
    assert figures.dead_units.tolist() == expected.dead_units.tolist()
    assert figures.dead_units.sum() > 0  # ReLU units dead on every sample of the spiral
    # While training, figures arrived too, each from steps at or before its snapshot's.
    playing = [s for s in snapshots if s.playing and s.dataset is not None]
    assert playing and all(s.dataset.step <= s.step for s in playing)
    # ... and every finished evaluation reached the window's history, for the curves.
    history = RunHistory(config.network.depth)
    for snap in snapshots:
        snap.history.append_to(history)
    assert len(history.dataset_steps) >= 2
    assert history.dataset_steps[-1] == 300
    assert history.dataset_loss[-1] == figures.loss
