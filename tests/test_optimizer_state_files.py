"""The optimizer's state travels with the trained weights (``Save With Trained Weights``): the
weights pair's .npz holds it beside the parameters, and a network loaded from it trains on
exactly as the one that was saved would have."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vg_desktop.engine import ExperimentConfig, ExperimentFileError, TrainConfig, TrainingRun
from vg_desktop.engine.experiment import experiment_bytes
from vg_desktop.weights_file import decode_weights, encode_weights, load_weights, save_pair

CONFIG = ExperimentConfig(
    train=TrainConfig(learning_rate=0.01, optimizer="adam", weight_decay=0.001, clip_norm=1.0)
)


def _trained(config: ExperimentConfig, steps: int = 5) -> TrainingRun:
    run = TrainingRun(config)
    for _ in range(steps):
        run.step()
    return run


def test_a_saved_pair_restores_the_optimizer_and_training_goes_on_identically(tmp_path):
    run = _trained(CONFIG)
    arrays = run.network.state_arrays(optimizer=True)
    assert {"optimizer_exp_avg", "optimizer_exp_avg_sq", "optimizer_step"} <= set(arrays)
    path = tmp_path / "adam.vgx"
    save_pair(path, experiment_bytes(CONFIG), encode_weights(arrays, CONFIG))
    loaded = load_weights(path.with_suffix(".npz"), CONFIG)
    assert loaded.keys() == arrays.keys()
    assert int(loaded["optimizer_step"]) == 5
    restored = TrainingRun(CONFIG)
    restored.network.load_state_arrays(loaded)
    for _ in range(5):  # the same batches: the stream position is not part of the weights
        x, y = run.next_batch()
        a = run.network.train_step(x, y, 0.01, **CONFIG.train.optimizer_arguments())
        b = restored.network.train_step(x, y, 0.01, **CONFIG.train.optimizer_arguments())
        assert a.loss == b.loss
    for key, value in run.network.state_arrays(optimizer=True).items():
        assert np.array_equal(value, restored.network.state_arrays(optimizer=True)[key]), key


def test_weights_without_optimizer_state_still_load():
    """Pairs saved before the optimizers existed (or with plain SGD) hold parameters only."""
    plain = replace(CONFIG, train=TrainConfig())
    arrays = _trained(plain).network.state_arrays(optimizer=True)
    assert not any(k.startswith("optimizer_") for k in arrays)
    assert decode_weights(encode_weights(arrays, plain), plain).keys() == arrays.keys()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("optimizer_step"), "optimizer state cannot be used"),
        (lambda a: a.update(optimizer_exp_avg=np.zeros(7)), "does not fit"),
        (lambda a: a.update(optimizer_step=np.array(2.5)), "does not fit"),
        (lambda a: a.update(optimizer_velocity=a["optimizer_exp_avg"]), "cannot be used"),
    ],
)
def test_broken_optimizer_state_is_refused_with_a_reason(change, message):
    arrays = _trained(CONFIG, 2).network.state_arrays(optimizer=True)
    change(arrays)
    with pytest.raises(ExperimentFileError, match=message):
        decode_weights(_encode_unchecked(arrays, CONFIG), CONFIG)


def _encode_unchecked(arrays, config):
    """encode_weights refuses a wrong shape itself; write such a file the way a hand or
    another program would, with the right pair record."""
    try:
        return encode_weights(arrays, config)
    except ValueError:
        import io

        from vg_desktop import weights_file

        buffer = io.BytesIO()
        np.savez(buffer, **arrays, **{weights_file.PAIR_KEY: weights_file._pair_record(config)})
        return buffer.getvalue()


def test_encoding_refuses_optimizer_state_of_another_network():
    arrays = _trained(CONFIG, 2).network.state_arrays(optimizer=True)
    arrays["optimizer_exp_avg"] = np.zeros(7)
    with pytest.raises(ValueError, match="do not belong to these settings"):
        encode_weights(arrays, CONFIG)


def _loop_snapshots(config, actions):
    """Drive a TrainingLoop thread through ``actions`` (callables taking the loop, each followed
    by waiting for the snapshot it causes); return the snapshot after each action."""
    import threading

    from vg_desktop.training_loop import TrainingLoop

    snapshots, arrived = [], threading.Event()

    def send(kind, *payload):
        if kind == "snapshot":
            snapshots.append(payload[0])
            arrived.set()

    loop = TrainingLoop(config, send)
    thread = threading.Thread(target=loop.run)
    thread.start()
    results = []
    try:
        assert arrived.wait(10)
        for action, done in actions:
            arrived.clear()
            action(loop)
            deadline = 100
            while not (snapshots and done(snapshots[-1])) and deadline:
                arrived.wait(0.1)
                arrived.clear()
                deadline -= 1
            assert deadline, "the loop did not answer"
            results.append(snapshots[-1])
    finally:
        loop.request_stop()
        thread.join(10)
    return results


def test_reset_and_rebuild_start_the_optimizer_afresh():
    """After five Adam steps, Reset: the next step is exactly a fresh network's first step
    (Adam's bias correction and averages start over), as after a rebuild."""
    fresh = TrainingRun(CONFIG).step()
    actions = [(lambda loop: loop.request_step(), lambda s, n=n: s.step == n) for n in range(1, 6)]
    actions += [
        (lambda loop: loop.request_reset(), lambda s: s.step == 0 and s.run_id == 2),
        (lambda loop: loop.request_step(), lambda s: s.step == 1 and s.run_id == 2),
    ]
    after = _loop_snapshots(CONFIG, actions)
    fifth, first_after_reset = after[4], after[-1]
    assert not np.array_equal(fifth.update_ratios, fresh.update_ratios)
    np.testing.assert_array_equal(first_after_reset.update_ratios, fresh.update_ratios)
