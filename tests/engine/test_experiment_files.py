"""Experiment files: exact round trips, strict reading with clear messages, atomic writing."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest

from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    ExperimentFileError,
    NetworkConfig,
    TrainConfig,
    load_experiment,
    save_experiment,
)

CUSTOM = ExperimentConfig(
    network=NetworkConfig(
        depth=37,
        width=48,
        activation="leaky_relu",
        normalization="layer",
        residual=True,
        init="he",
        init_gain=1.25,
        dtype="float32",
        seed=123456,
        residual_form="pre-activation",
    ),
    data=DataConfig(name="xor", n_samples=1000, noise=0.35, n_classes=2, seed=77),
    train=TrainConfig(
        learning_rate=0.0123,
        momentum=0.9,
        batch_size=100,
        optimizer="adam",
        weight_decay=0.0005,
        clip_norm=2.5,
    ),
)


def valid_document() -> dict:
    return {"format": "vg-desktop-experiment", "version": 4, **CUSTOM.to_dict()}


SGD_TRAIN = {"optimizer": "sgd", "weight_decay": 0.0, "clip_norm": None}  # what v1 and v2 ran


def write_json(path, document) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.parametrize("config", [ExperimentConfig(), CUSTOM], ids=["defaults", "custom"])
def test_round_trip_is_exact(tmp_path, config):
    path = tmp_path / "run.json"
    save_experiment(config, path)
    loaded = load_experiment(path)
    assert loaded == config
    assert (
        type(loaded.network.init_gain) is float
        or loaded.network.init_gain == config.network.init_gain
    )


def test_saved_file_is_versioned_json(tmp_path):
    path = tmp_path / "run.json"
    save_experiment(CUSTOM, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == valid_document()


def test_a_hand_written_valid_file_loads(tmp_path):
    path = tmp_path / "hand.json"
    write_json(path, valid_document())
    assert load_experiment(path) == CUSTOM


def test_a_version_1_file_still_opens_with_the_block_it_ran(tmp_path):
    """Version 1 predates residual_form: its residual networks were post-activation blocks."""
    document = valid_document()
    document["version"] = 1
    del document["network"]["residual_form"]
    del document["data"]["points"]
    for name in SGD_TRAIN:
        del document["train"][name]
    path = tmp_path / "old.json"
    write_json(path, document)
    loaded = load_experiment(path)
    assert loaded.network.residual_form == "post-activation"
    assert loaded == replace(
        CUSTOM,
        network=replace(CUSTOM.network, residual_form="post-activation"),
        train=replace(CUSTOM.train, **SGD_TRAIN),
    )
    save_experiment(loaded, path)  # saved again, it is a current-version file
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 4


def test_a_version_2_file_still_opens_with_plain_sgd(tmp_path):
    """Version 2 predates the optimizer settings: its runs were SGD (with their momentum),
    without weight decay or clipping."""
    document = valid_document()
    document["version"] = 2
    del document["data"]["points"]
    for name in SGD_TRAIN:
        del document["train"][name]
    path = tmp_path / "v2.json"
    write_json(path, document)
    loaded = load_experiment(path)
    assert loaded == replace(CUSTOM, train=replace(CUSTOM.train, **SGD_TRAIN))
    assert loaded.train.momentum == 0.9
    document["train"]["optimizer"] = "adam"
    write_json(path, document)
    with pytest.raises(ExperimentFileError, match="train has optimizer, which version 2"):
        load_experiment(path)


def _corrupt(mutate):
    document = valid_document()
    mutate(document)
    return document


# (id, file content as bytes or a JSON document, text the message must contain)
BAD_FILES = [
    ("empty", b"", "the file is empty"),
    ("whitespace", b"  \n\t\n", "the file is empty"),
    ("truncated", json.dumps(valid_document()).encode()[:60], "not valid JSON"),
    ("binary", bytes(range(256)) * 4, "not text"),
    ("png-header", b"\x89PNG\r\n\x1a\n" + bytes(100), "not text"),
    ("json-list", [1, 2, 3], "does not hold a JSON object"),
    ("json-string", "experiment", "does not hold a JSON object"),
    ("foreign-json", {"name": "my notes"}, "not a Vanishing Gradient Lab experiment"),
    (
        "wrong-format",
        _corrupt(lambda d: d.update(format="other-app")),
        "not a Vanishing Gradient Lab experiment",
    ),
    ("future-version", _corrupt(lambda d: d.update(version=5)), "version 5 is not supported"),
    ("version-zero", _corrupt(lambda d: d.update(version=0)), "version 0 is not supported"),
    (
        "v1-with-v2-field",
        _corrupt(lambda d: d.update(version=1)),
        "network has residual_form, which version 1 files do not have",
    ),
    ("string-version", _corrupt(lambda d: d.update(version="1")), "version '1' is not supported"),
    ("bool-version", _corrupt(lambda d: d.update(version=True)), "version True is not supported"),
    ("missing-version", _corrupt(lambda d: d.pop("version")), "version None is not supported"),
    ("missing-section", _corrupt(lambda d: d.pop("train")), "'train' section is missing"),
    ("section-not-object", _corrupt(lambda d: d.update(data=[1])), "'data' section is missing"),
    ("missing-field", _corrupt(lambda d: d["network"].pop("depth")), "network lacks depth"),
    ("extra-top-field", _corrupt(lambda d: d.update(weights=[])), "unexpected field(s): weights"),
    (
        "extra-field",
        _corrupt(lambda d: d["train"].update(nesterov=True)),
        "train has unknown nesterov",
    ),
    (
        "wrong-type",
        _corrupt(lambda d: d["network"].update(depth="20")),
        "network: depth must be an integer from 1 to 200",
    ),
    (
        "bool-as-int",
        _corrupt(lambda d: d["data"].update(n_classes=True)),
        "data: n_classes must be an integer from 2 to 8",
    ),
    (
        "float-as-int",
        _corrupt(lambda d: d["train"].update(batch_size=64.0)),
        "train: batch_size must be an integer from 1 to 512",
    ),
    (
        "out-of-range",
        _corrupt(lambda d: d["network"].update(width=1000)),
        "network: width must be an integer from 2 to 256",
    ),
    (
        "unknown-choice",
        _corrupt(lambda d: d["network"].update(activation="swish")),
        "network: activation must be one of",
    ),
    (
        "nan-learning-rate",
        json.dumps(valid_document())
        .replace('"learning_rate": 0.0123', '"learning_rate": NaN')
        .encode(),
        "the field 'learning_rate' holds NaN",  # refused as it is read, as in lessons
    ),
    (
        "bad-combination",
        _corrupt(
            lambda d: (d["network"].update(normalization="batch"), d["train"].update(batch_size=1))
        ),
        "batch normalization needs a batch size of at least 3",
    ),
    (
        "batch-over-samples",
        _corrupt(lambda d: d["train"].update(batch_size=512) or d["data"].update(n_samples=100)),
        "cannot exceed the number of samples",
    ),
    ("huge", json.dumps(valid_document()).encode() + b" " * 16_100_000, "under 16 MB"),
    ("deeply-nested", b"[" * 200_000, ""),
    (
        "gigantic-integer",
        b'{"format": "vg-desktop-experiment", "version": ' + b"9" * 5000 + b"}",
        "",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_file_raises_experiment_file_error_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_json(path, content)
    with pytest.raises(ExperimentFileError) as excinfo:
        load_experiment(path)
    assert message in str(excinfo.value)
    assert str(excinfo.value).strip(), "the message must say something"


def test_truncated_file_message_says_where(tmp_path):
    path = tmp_path / "cut.json"
    path.write_bytes(json.dumps(valid_document(), indent=2).encode()[:-40])
    with pytest.raises(ExperimentFileError, match=r"line \d+, column \d+.*truncated"):
        load_experiment(path)


def test_missing_file_and_directory_raise_experiment_file_error(tmp_path):
    with pytest.raises(ExperimentFileError, match=r"cannot read nothing\.json"):
        load_experiment(tmp_path / "nothing.json")
    with pytest.raises(ExperimentFileError, match="cannot read"):
        load_experiment(tmp_path)


def test_experiment_file_error_is_a_value_error():
    assert issubclass(ExperimentFileError, ValueError)


# ---------------------------------------------------------------- atomic save
OLD = ExperimentConfig(network=NetworkConfig(depth=3))


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name != "run.json")


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "run.json"
    save_experiment(OLD, path)
    return path, path.read_bytes()


def test_failed_fsync_keeps_the_old_file_and_leaves_no_temp_file(saved, monkeypatch):
    path, old_bytes = saved

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        save_experiment(CUSTOM, path)
    assert path.read_bytes() == old_bytes
    assert _leftovers(path.parent) == []


class _HalfWriter:
    """A binary file whose write() stores half the payload, then fails like a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def write(self, data):
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)


def test_failed_write_midway_keeps_the_old_file_and_leaves_no_temp_file(saved, monkeypatch):
    path, old_bytes = saved
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _HalfWriter(real_fdopen(fd, *a, **k)))
    with pytest.raises(OSError, match="No space left"):
        save_experiment(CUSTOM, path)
    assert path.read_bytes() == old_bytes
    assert load_experiment(path) == OLD
    assert _leftovers(path.parent) == []


def test_failed_rename_keeps_the_old_file_and_leaves_no_temp_file(saved, monkeypatch):
    path, old_bytes = saved

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        save_experiment(CUSTOM, path)
    assert path.read_bytes() == old_bytes
    assert _leftovers(path.parent) == []


def test_successful_save_replaces_the_file_and_leaves_nothing_else(saved):
    path, _ = saved
    save_experiment(CUSTOM, path)
    assert load_experiment(path) == CUSTOM
    assert _leftovers(path.parent) == []


def test_weights_saved_with_a_version_1_experiment_still_belong_to_it(monkeypatch):
    """A weights pair records the SHA-256 of its experiment's settings. Pairs written before
    version 2 hashed the version 1 document: they still load with that experiment (read now as
    a post-activation config), and never with a pre-activation one."""
    from vg_desktop import weights_file
    from vg_desktop.engine import Network
    from vg_desktop.weights_file import decode_weights, encode_weights, settings_digest

    old = replace(
        CUSTOM,
        network=replace(CUSTOM.network, residual_form="post-activation"),
        train=replace(CUSTOM.train, **SGD_TRAIN),
    )
    arrays = Network(old.network, n_classes=old.data.n_classes).state_arrays()
    assert settings_digest(old, version=1) != settings_digest(old)
    with monkeypatch.context() as m:  # write the pair record as before version 2
        m.setattr(weights_file, "settings_digest", lambda c: settings_digest(c, version=1))
        legacy = encode_weights(arrays, old)
    loaded = decode_weights(legacy, old)
    assert all(np.array_equal(loaded[k], v) for k, v in arrays.items())
    with pytest.raises(ExperimentFileError, match="other settings"):
        decode_weights(legacy, CUSTOM)  # the pre-activation twin is another experiment
    with pytest.raises(ValueError, match=r"version 1 files cannot hold network\.residual_form"):
        settings_digest(CUSTOM, version=1)
