"""Bad settings are refused with a ValueError whose message names the allowed values or range."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    Network,
    NetworkConfig,
    TrainConfig,
)

NAN, INF = float("nan"), float("inf")

ACTIVATION_LIST = "sigmoid, tanh, relu, leaky_relu, elu, gelu, silu, linear"

# (config class, field, bad value, text the message must contain)
BAD_VALUES = [
    (NetworkConfig, "depth", 0, "depth must be an integer from 1 to 200"),
    (NetworkConfig, "depth", 201, "depth must be an integer from 1 to 200"),
    (NetworkConfig, "depth", 3.0, "depth must be an integer from 1 to 200"),
    (NetworkConfig, "depth", "3", "depth must be an integer from 1 to 200"),
    (NetworkConfig, "depth", True, "depth must be an integer from 1 to 200"),
    (NetworkConfig, "width", 1, "width must be an integer from 2 to 256"),
    (NetworkConfig, "width", 257, "width must be an integer from 2 to 256"),
    (NetworkConfig, "width", None, "width must be an integer from 2 to 256"),
    (NetworkConfig, "activation", "swish", f"activation must be one of {ACTIVATION_LIST}"),
    (NetworkConfig, "activation", "Sigmoid", f"activation must be one of {ACTIVATION_LIST}"),
    (NetworkConfig, "normalization", "group", "normalization must be one of none, batch, layer"),
    (NetworkConfig, "normalization", None, "normalization must be one of none, batch, layer"),
    (NetworkConfig, "residual", 1, "residual must be true or false"),
    (NetworkConfig, "residual", "false", "residual must be true or false"),
    (NetworkConfig, "init", "kaiming", "init must be one of normal, small, xavier, he"),
    (NetworkConfig, "init_gain", 0.0, "init_gain must be a number from 0.01 to 20"),
    (NetworkConfig, "init_gain", 20.5, "init_gain must be a number from 0.01 to 20"),
    (NetworkConfig, "init_gain", NAN, "init_gain must be a number from 0.01 to 20"),
    (NetworkConfig, "init_gain", INF, "init_gain must be a number from 0.01 to 20"),
    (NetworkConfig, "init_gain", True, "init_gain must be a number from 0.01 to 20"),
    (NetworkConfig, "init_gain", "1.0", "init_gain must be a number from 0.01 to 20"),
    (NetworkConfig, "dtype", "float16", "dtype must be one of float64, float32"),
    (NetworkConfig, "seed", -1, "seed must be an integer from 0 to 2147483647"),
    (NetworkConfig, "seed", 2**31, "seed must be an integer from 0 to 2147483647"),
    (NetworkConfig, "seed", False, "seed must be an integer from 0 to 2147483647"),
    (DataConfig, "name", "mnist", "dataset must be one of spiral, circles, moons, xor, blobs"),
    (DataConfig, "n_samples", 15, "n_samples must be an integer from 16 to 4096"),
    (DataConfig, "n_samples", 4097, "n_samples must be an integer from 16 to 4096"),
    (DataConfig, "noise", -0.01, "noise must be a number from 0 to 1"),
    (DataConfig, "noise", 1.01, "noise must be a number from 0 to 1"),
    (DataConfig, "noise", NAN, "noise must be a number from 0 to 1"),
    (DataConfig, "n_classes", 1, "n_classes must be an integer from 2 to 8"),
    (DataConfig, "n_classes", 9, "n_classes must be an integer from 2 to 8"),
    (DataConfig, "n_classes", True, "n_classes must be an integer from 2 to 8"),
    (DataConfig, "seed", -5, "seed must be an integer from 0 to 2147483647"),
    (TrainConfig, "learning_rate", 0.0, "learning_rate must be a number from 1e-05 to 10"),
    (TrainConfig, "learning_rate", -0.1, "learning_rate must be a number from 1e-05 to 10"),
    (TrainConfig, "learning_rate", 10.5, "learning_rate must be a number from 1e-05 to 10"),
    (TrainConfig, "learning_rate", NAN, "learning_rate must be a number from 1e-05 to 10"),
    (TrainConfig, "learning_rate", INF, "learning_rate must be a number from 1e-05 to 10"),
    (TrainConfig, "learning_rate", True, "learning_rate must be a number from 1e-05 to 10"),
    (TrainConfig, "momentum", -0.1, "momentum must be a number from 0 to 0.99"),
    (TrainConfig, "momentum", 1.0, "momentum must be a number from 0 to 0.99"),
    (TrainConfig, "momentum", NAN, "momentum must be a number from 0 to 0.99"),
    (TrainConfig, "batch_size", 0, "batch_size must be an integer from 1 to 512"),
    (TrainConfig, "batch_size", 513, "batch_size must be an integer from 1 to 512"),
    (TrainConfig, "batch_size", 64.0, "batch_size must be an integer from 1 to 512"),
    (TrainConfig, "batch_size", True, "batch_size must be an integer from 1 to 512"),
    (TrainConfig, "optimizer", "adagrad", "optimizer must be one of sgd, rmsprop, adam"),
    (TrainConfig, "optimizer", None, "optimizer must be one of sgd, rmsprop, adam"),
    (TrainConfig, "weight_decay", -0.001, "weight_decay must be a number from 0 to 1"),
    (TrainConfig, "weight_decay", NAN, "weight_decay must be a number from 0 to 1"),
    (TrainConfig, "weight_decay", 2, "weight_decay must be a number from 0 to 1"),
    (TrainConfig, "clip_norm", 0.0, "clip_norm must be a number from 0.001 to 1000"),
    (TrainConfig, "clip_norm", INF, "clip_norm must be a number from 0.001 to 1000"),
    (TrainConfig, "clip_norm", NAN, "clip_norm must be a number from 0.001 to 1000"),
    (TrainConfig, "clip_norm", "1", "clip_norm must be a number from 0.001 to 1000"),
]


@pytest.mark.parametrize(
    ("cls", "field", "value", "message"),
    BAD_VALUES,
    ids=[f"{c.__name__}.{f}={v!r}" for c, f, v, _ in BAD_VALUES],
)
def test_bad_value_is_refused_with_the_allowed_range(cls, field, value, message):
    with pytest.raises(ValueError) as excinfo:
        cls(**{field: value})
    assert message in str(excinfo.value)
    assert repr(value) in str(excinfo.value)  # the message also says what was given


# (config class, field, boundary value that must be accepted)
GOOD_VALUES = [
    (NetworkConfig, "depth", 1),
    (NetworkConfig, "depth", 200),
    (NetworkConfig, "width", 2),
    (NetworkConfig, "width", 256),
    (NetworkConfig, "init_gain", 0.01),
    (NetworkConfig, "init_gain", 20),
    (NetworkConfig, "seed", 2**31 - 1),
    (DataConfig, "n_samples", 16),
    (DataConfig, "n_samples", 4096),
    (DataConfig, "noise", 0.0),
    (DataConfig, "noise", 1),
    (DataConfig, "n_classes", 8),
    (TrainConfig, "learning_rate", 1e-5),
    (TrainConfig, "learning_rate", 10),
    (TrainConfig, "momentum", 0.99),
    (TrainConfig, "batch_size", 1),
    (TrainConfig, "batch_size", 512),
    (TrainConfig, "optimizer", "adam"),
    (TrainConfig, "optimizer", "rmsprop"),
    (TrainConfig, "weight_decay", 0.0),
    (TrainConfig, "weight_decay", 1),
    (TrainConfig, "clip_norm", None),
    (TrainConfig, "clip_norm", 0.001),
    (TrainConfig, "clip_norm", 1000),
]


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    GOOD_VALUES,
    ids=[f"{c.__name__}.{f}={v!r}" for c, f, v in GOOD_VALUES],
)
def test_boundary_values_are_accepted(cls, field, value):
    assert getattr(cls(**{field: value}), field) == value


def test_defaults_are_valid_and_documented():
    cfg = NetworkConfig()
    assert (cfg.normalization, cfg.residual, cfg.dtype) == ("none", False, "float64")
    ExperimentConfig()


@pytest.mark.parametrize("cls", [NetworkConfig, DataConfig, TrainConfig, ExperimentConfig])
def test_configs_are_frozen(cls):
    cfg = cls()
    name = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cfg, name, getattr(cfg, name))


@pytest.mark.parametrize("batch_size", [1, 2])
def test_batch_norm_with_batch_size_one_or_two_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch normalization needs a batch size of at least 3"):
        ExperimentConfig(
            network=NetworkConfig(normalization="batch"), train=TrainConfig(batch_size=batch_size)
        )
    ExperimentConfig(network=NetworkConfig(normalization="batch"), train=TrainConfig(batch_size=3))
    # Layer norm normalizes each sample on its own, so a batch of one is fine there.
    ExperimentConfig(network=NetworkConfig(normalization="layer"), train=TrainConfig(batch_size=2))
    ExperimentConfig(network=NetworkConfig(normalization="layer"), train=TrainConfig(batch_size=1))


def test_batch_larger_than_the_dataset_is_refused():
    with pytest.raises(
        ValueError, match=r"batch_size \(100\) cannot exceed the number of samples \(64\)"
    ):
        ExperimentConfig(data=DataConfig(n_samples=64), train=TrainConfig(batch_size=100))
    ExperimentConfig(data=DataConfig(n_samples=64), train=TrainConfig(batch_size=64))


@pytest.mark.parametrize("section", ["network", "data", "train"])
def test_experiment_sections_must_be_config_objects(section):
    """A dict (e.g. straight from JSON) in place of a config object is refused cleanly, not with
    an AttributeError from deep inside the validation."""
    with pytest.raises((TypeError, ValueError), match=section):
        ExperimentConfig(**{section: {}})


def test_experiment_to_dict_has_every_field():
    d = ExperimentConfig().to_dict()
    assert set(d) == {"network", "data", "train"}
    assert set(d["network"]) == {f.name for f in dataclasses.fields(NetworkConfig)}
    assert set(d["data"]) == {f.name for f in dataclasses.fields(DataConfig)}
    assert set(d["train"]) == {f.name for f in dataclasses.fields(TrainConfig)}


# ---------------------------------------------------------------- Network arguments and batches
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"config": {"depth": 3}}, "config must be a NetworkConfig"),
        ({"n_inputs": 0}, "n_inputs must be a positive integer"),
        ({"n_inputs": 2.0}, "n_inputs must be a positive integer"),
        ({"n_classes": 1}, "n_classes must be an integer of at least 2"),
    ],
)
def test_network_arguments_are_checked(kwargs, message):
    args = {"config": NetworkConfig(depth=2, width=4), **kwargs}
    with pytest.raises(ValueError, match=message):
        Network(**args)


def _batch(n=8):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 2)), rng.integers(0, 2, n)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((4, 3)), np.zeros(4, dtype=int), r"x must have shape \(batch, 2\)"),
        (np.zeros(4), np.zeros(4, dtype=int), r"x must have shape \(batch, 2\)"),
        (np.zeros((4, 2)), np.zeros(5, dtype=int), r"y must have shape \(4,\)"),
        (np.zeros((0, 2)), np.zeros(0, dtype=int), "the batch is empty"),
        (np.zeros((4, 2)), np.array([0, 1, 2, 0]), r"y must hold integer labels in \[0, 2\)"),
        (np.zeros((4, 2)), np.array([0, -1, 1, 0]), r"y must hold integer labels in \[0, 2\)"),
        (
            np.zeros((4, 2)),
            np.array([0.0, 1.0, 1.0, 0.0]),
            r"y must hold integer labels in \[0, 2\)",
        ),
    ],
)
def test_bad_batches_are_refused(x, y, message):
    net = Network(NetworkConfig(depth=2, width=4))
    with pytest.raises(ValueError, match=message):
        net.gradients(x, y)
    with pytest.raises(ValueError, match=message):
        net.train_step(x, y, learning_rate=0.1)


def test_batch_norm_network_refuses_a_single_sample_batch():
    net = Network(NetworkConfig(depth=2, width=4, normalization="batch"))
    x, y = _batch(1)
    with pytest.raises(ValueError, match="batch normalization needs a batch of at least 2"):
        net.train_step(x, y, learning_rate=0.1)
    # Evaluation mode uses running statistics, so one sample is fine there.
    probs = net.predict_proba(x)
    assert probs.shape == (1, 2) and math.isclose(probs.sum(), 1.0)
