"""The training loop without Qt: what it sends is what the engine computes.

The loop trains most steps without per-layer statistics (nobody would see them: the window
draws ~30 snapshots a second and its history thins out as it grows). What reaches the window
must not change because of that.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

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
        chunk = snap.history
        for i in range(len(chunk)):
            history.append(
                int(chunk.steps[i]),
                float(chunk.loss[i]),
                float(chunk.accuracy[i]),
                signal_grad_norm=chunk.signal_grad_norms[i],
                weight_grad_norm=chunk.weight_grad_norms[i],
                update_ratio=chunk.update_ratios[i],
                saturated_fraction=chunk.saturated_fractions[i],
                mean_derivative=chunk.mean_derivatives[i],
            )
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
