"""The same config and seed give the same numbers, bit for bit; different seeds differ."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    Network,
    NetworkConfig,
    StepStats,
    TrainConfig,
    TrainingRun,
    make_dataset,
)

CONFIGS = {
    "sigmoid-plain": NetworkConfig(depth=6, width=16, activation="sigmoid"),
    "relu-batch-residual": NetworkConfig(
        depth=6, width=16, activation="relu", normalization="batch", residual=True, init="he"
    ),
    "tanh-batch-preact": NetworkConfig(
        depth=6,
        width=16,
        activation="tanh",
        normalization="batch",
        residual=True,
        residual_form="pre-activation",
    ),
    "gelu-layer-float32": NetworkConfig(
        depth=6, width=16, activation="gelu", normalization="layer", dtype="float32"
    ),
}


def assert_stats_identical(a: StepStats, b: StepStats) -> None:
    for f in fields(StepStats):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "preactivations":
            assert len(va) == len(vb)
            for ua, ub in zip(va, vb, strict=True):
                assert ua.dtype == ub.dtype
                assert ua.tobytes() == ub.tobytes()
        else:
            np.testing.assert_array_equal(va, vb, err_msg=f.name, strict=True)


def train(cfg: NetworkConfig, steps: int) -> tuple[Network, list[StepStats]]:
    x, y = make_dataset("spiral", n=128, noise=0.1, seed=0)
    net = Network(cfg)
    history = [net.train_step(x, y, learning_rate=0.05, momentum=0.9) for _ in range(steps)]
    return net, history


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_same_config_and_seed_give_bit_identical_statistics(cfg):
    net_a, stats_a = train(cfg, steps=5)
    net_b, stats_b = train(cfg, steps=5)
    for a, b in zip(stats_a, stats_b, strict=True):
        assert_stats_identical(a, b)
    for pa, pb in zip(net_a.params, net_b.params, strict=True):
        for name in pa:
            assert pa[name].tobytes() == pb[name].tobytes()


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_different_seeds_give_different_networks(cfg):
    _, stats_a = train(cfg, steps=2)
    _, stats_b = train(replace(cfg, seed=1), steps=2)
    assert stats_a[-1].loss != stats_b[-1].loss
    assert not np.array_equal(stats_a[-1].weight_grad_norms, stats_b[-1].weight_grad_norms)


def test_float32_and_float64_start_from_the_same_weights():
    a = Network(NetworkConfig(dtype="float64", seed=5))
    b = Network(NetworkConfig(dtype="float32", seed=5))
    for pa, pb in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(pa["W"].astype(np.float32), pb["W"])


EXPERIMENT = ExperimentConfig(
    network=NetworkConfig(depth=5, width=12, activation="tanh", normalization="batch"),
    data=DataConfig(name="moons", n_samples=200, noise=0.2, seed=3),
    train=TrainConfig(learning_rate=0.1, momentum=0.5, batch_size=32),
)


def losses(config: ExperimentConfig, steps: int = 20) -> list[float]:
    run = TrainingRun(config)
    return [run.step().loss for _ in range(steps)]


def test_training_run_is_reproducible():
    # 20 steps of 32 cross the epoch boundary (200 samples), so reshuffling is covered too.
    first, second = losses(EXPERIMENT), losses(EXPERIMENT)
    assert first == second
    assert len(set(first)) > 1


@pytest.mark.parametrize(
    "changed",
    [
        replace(EXPERIMENT, network=replace(EXPERIMENT.network, seed=1)),
        replace(EXPERIMENT, data=replace(EXPERIMENT.data, seed=4)),
    ],
    ids=["network-seed", "data-seed"],
)
def test_training_run_with_another_seed_differs(changed):
    assert losses(EXPERIMENT) != losses(changed)


def test_training_run_counts_steps_and_probe_does_not_train():
    run = TrainingRun(EXPERIMENT)
    before = run.network.state_arrays()
    probe = run.probe()
    assert run.step_count == 0
    for key, value in run.network.state_arrays().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert np.all(np.isfinite(probe.update_ratios))
    run.step()
    run.step()
    assert run.step_count == 2


def test_training_run_batches_have_the_configured_size_and_cover_an_epoch():
    run = TrainingRun(EXPERIMENT)
    batches = [run.next_batch() for _ in range(200 // 32)]
    assert all(x.shape == (32, 2) and y.shape == (32,) for x, y in batches)
    seen = np.concatenate([x for x, _ in batches])
    # One epoch draws without replacement: no sample twice.
    assert len(np.unique(seen, axis=0)) == len(seen)


def test_set_train_changes_optimizer_settings_and_refuses_bad_combinations():
    run = TrainingRun(EXPERIMENT)
    run.set_train(TrainConfig(learning_rate=0.01, momentum=0.0, batch_size=8))
    assert run.next_batch()[0].shape == (8, 2)
    with pytest.raises(ValueError, match="cannot exceed the number of samples"):
        run.set_train(TrainConfig(batch_size=500))
    assert run.config.train.batch_size == 8  # a refused change leaves the run as it was
