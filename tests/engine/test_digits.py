"""The shipped handwritten digits: loaded offline, checked like a hostile file, split honestly."""

from __future__ import annotations

import gzip
import hashlib
import os

import numpy as np
import pytest

from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    TrainConfig,
    TrainingRun,
    make_dataset,
)
from vg_desktop.engine.datasets import balanced_choice, split_train_test
from vg_desktop.engine.digits import DigitsFileError, digits_path, load_digits, parse_digits

SHIPPED_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def test_the_shipped_file_is_the_scikit_learn_copy_and_documented():
    path = digits_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHIPPED_SHA256
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    for must in ("CC BY 4.0", "Alpaydin", "Kaynak", SHIPPED_SHA256, "10.24432/C50P49"):
        assert must in readme


def test_all_digits_load_with_the_right_shapes_and_classes():
    x, y = make_dataset("digits", n=1797, noise=0.0, seed=0)
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    # The whole file, in a seeded order: the same images as in the file, each once.
    pixels, labels = load_digits()
    order = np.lexsort(np.column_stack([pixels / 16.0, labels]).T)
    mine = np.lexsort(np.column_stack([x, y]).T)
    np.testing.assert_array_equal(x[mine], pixels[order] / 16.0)
    np.testing.assert_array_equal(y[mine], labels[order])
    # Known values from the file: the first image is a 0 (scikit-learn's digits.images[0]).
    assert labels[0] == 0 and list(pixels[0, :8]) == [0, 0, 5, 13, 9, 1, 0, 0]
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_a_smaller_n_is_a_seeded_class_balanced_subset():
    x, y = make_dataset("digits", n=250, noise=0.0, seed=7)
    assert x.shape == (250, 64)
    assert np.bincount(y, minlength=10).tolist() == [25] * 10
    x2, y2 = make_dataset("digits", n=250, noise=0.0, seed=7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = make_dataset("digits", n=250, noise=0.0, seed=8)
    assert not np.array_equal(x, x3)
    counts = np.bincount(make_dataset("digits", n=1795, noise=0.0, seed=1)[1])
    assert counts.sum() == 1795 and counts.max() - counts.min() <= 183 - 174


def test_balanced_choice_fills_small_classes_completely():
    y = np.array([0] * 3 + [1] * 50 + [2] * 50)
    chosen = balanced_choice(y, 60, np.random.default_rng(0))
    assert len(np.unique(chosen)) == 60
    assert np.bincount(y[chosen]).tolist() == [3, 29, 28] or np.bincount(y[chosen]).tolist() == [
        3,
        28,
        29,
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 99}, "n_samples must be an integer from 100 to 1797"),
        ({"n_samples": 1798}, "n_samples must be an integer from 100 to 1797"),
        ({"noise": 0.1}, "noise must be 0 for the digits"),
        ({"n_classes": 2}, "n_classes must be 10 for the digits"),
    ],
)
def test_digits_config_refuses_what_the_data_cannot_be(kwargs, message):
    base = {"name": "digits", "n_samples": 1797, "noise": 0.0, "n_classes": 10, "seed": 0}
    with pytest.raises(ValueError, match=message):
        DataConfig(**{**base, **kwargs})


def test_switching_dataset_adapts_size_classes_and_noise():
    spiral = DataConfig(seed=5)
    digits = spiral.with_dataset("digits")
    assert (digits.n_samples, digits.n_classes, digits.noise, digits.seed) == (1797, 10, 0.0, 5)
    back = digits.with_dataset("moons")
    assert back == DataConfig(name="moons", seed=5)
    assert spiral.with_dataset("xor") == DataConfig(name="xor", seed=5)


def test_the_training_run_holds_out_a_balanced_test_split():
    data = DataConfig().with_dataset("digits")
    run = TrainingRun(ExperimentConfig(network=NetworkConfig(depth=2, width=8), data=data))
    assert run.network.n_inputs == 64 and run.network.n_classes == 10
    assert len(run.y_test) == data.n_test == 359 and len(run.y) == data.n_train == 1438
    assert np.bincount(run.y_test).min() >= 35
    # Nothing held out is trained on: split sample indices, the two parts are disjoint.
    _, y = make_dataset("digits", 1797, 0.0, 0)
    index = np.arange(1797)[:, None]
    train_index, _, test_index, test_y = split_train_test(index, y, 359, 0)
    assert not set(train_index.ravel()) & set(test_index.ravel())
    assert len(train_index) + len(test_index) == 1797
    assert np.bincount(test_y).tolist() == np.bincount(run.y_test).tolist()
    for _ in range(3):
        xb_batch, _ = run.next_batch()
        assert xb_batch.shape == (64, 64)
    assert 0.0 <= run.test_accuracy() <= 1.0


def test_batch_size_is_bounded_by_the_training_split():
    data = DataConfig(name="digits", n_samples=100, noise=0.0, n_classes=10)
    with pytest.raises(ValueError, match=r"training samples \(80; 20 are held out"):
        ExperimentConfig(data=data, train=TrainConfig(batch_size=81))
    ExperimentConfig(data=data, train=TrainConfig(batch_size=80))


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode("ascii"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip at all", "not a readable gzip file"),
        (gzip.compress(b"1,2,3\n")[:-6], "truncated"),
        (_gz("1,2,3\n"), "shape"),
        (_gz("a,b\n"), "comma-separated integers"),
        (_gz(("17," + "0," * 63 + "1\n") * 1797), "pixel lies outside"),
        (_gz(("0," * 64 + "10\n") * 1797), "class lies outside"),
        (gzip.compress(b"0" * 3_000_000), "more than"),
    ],
)
def test_a_damaged_file_is_refused_with_a_reason(content, message):
    with pytest.raises(DigitsFileError, match=message):
        parse_digits(content)


def test_special_and_missing_files_are_refused(tmp_path):
    with pytest.raises(DigitsFileError, match="cannot read"):
        load_digits(tmp_path / "missing.csv.gz")
    with pytest.raises(DigitsFileError, match="not a file"):
        load_digits(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        with pytest.raises(DigitsFileError, match="pipe"):
            load_digits(fifo)
    big = tmp_path / "big.csv.gz"
    big.write_bytes(b"\0" * 1_000_001)
    with pytest.raises(DigitsFileError, match="larger than"):
        load_digits(big)


def test_the_cli_trains_on_digits_and_reports_test_accuracy(tmp_path, capsys):
    from vg_desktop import cli

    out = tmp_path / "digits.csv"
    args = ["--dataset", "digits", "--depth", "2", "--width", "16", "--steps", "5"]
    code = cli.main([*args, "--csv", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "test accuracy on the 359 held-out samples:" in text
    assert len(out.read_text().splitlines()) == 1 + 5 * 3
