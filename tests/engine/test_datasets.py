"""Built-in datasets: deterministic, correctly shaped and typed, labels in range, noise matters."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import DATASETS, DataConfig, dataset_from_config, make_dataset
from vg_desktop.engine.config import POINT_DATASETS


def test_the_documented_datasets_are_offered():
    generated = {"spiral", "circles", "moons", "xor", "blobs", "sine", "checkerboard"}
    assert set(DATASETS) == generated | {"digits", "custom"}
    assert set(POINT_DATASETS) == generated


@pytest.mark.parametrize("name", POINT_DATASETS)
def test_shapes_dtypes_and_labels(name):
    x, y = make_dataset(name, n=300, noise=0.1, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float64
    assert y.shape == (300,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert np.all(np.isfinite(x))
    # Standardized per feature, so every dataset starts the first layer in the same range.
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1.0, rtol=1e-9)


@pytest.mark.parametrize("name", POINT_DATASETS)
def test_same_arguments_give_identical_arrays(name):
    x1, y1 = make_dataset(name, n=100, noise=0.2, seed=7)
    x2, y2 = make_dataset(name, n=100, noise=0.2, seed=7)
    assert x1.tobytes() == x2.tobytes()
    assert y1.tobytes() == y2.tobytes()


@pytest.mark.parametrize("name", POINT_DATASETS)
def test_seed_and_noise_change_the_data(name):
    base, _ = make_dataset(name, n=100, noise=0.1, seed=0)
    other_seed, _ = make_dataset(name, n=100, noise=0.1, seed=1)
    noisier, _ = make_dataset(name, n=100, noise=0.5, seed=0)
    assert not np.allclose(base, other_seed)
    assert not np.allclose(base, noisier)


@pytest.mark.parametrize("name", POINT_DATASETS)
def test_zero_noise_works(name):
    x, y = make_dataset(name, n=64, noise=0.0, seed=0)
    assert np.all(np.isfinite(x))
    assert y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize("n_classes", [3, 5, 8])
@pytest.mark.parametrize("name", POINT_DATASETS)
def test_more_than_two_classes_uses_every_class(name, n_classes):
    x, y = make_dataset(name, n=400, noise=0.1, seed=0, n_classes=n_classes)
    assert x.shape == (400, 2)
    assert y.min() >= 0 and y.max() < n_classes
    assert set(np.unique(y)) == set(range(n_classes)), f"{name} leaves classes empty"


def test_dataset_from_config_matches_make_dataset():
    cfg = DataConfig(name="circles", n_samples=80, noise=0.3, n_classes=3, seed=9)
    x1, y1 = dataset_from_config(cfg)
    x2, y2 = make_dataset("circles", n=80, noise=0.3, seed=9, n_classes=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "mnist"}, "dataset must be one of spiral, circles, moons, xor, blobs"),
        ({"name": "spiral", "n": 8}, "n_samples must be an integer from 16 to 4096"),
        ({"name": "spiral", "noise": 1.5}, "noise must be a number from 0 to 1"),
        ({"name": "spiral", "noise": float("nan")}, "noise must be a number from 0 to 1"),
        ({"name": "spiral", "n_classes": 1}, "n_classes must be an integer from 2 to 8"),
        ({"name": "spiral", "seed": -1}, "seed must be an integer from 0 to"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_allowed_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_dataset(**kwargs)
