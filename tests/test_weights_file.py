"""Weights files (issue 16, items 4-5): a corrupt or stale .npz is refused with the user's
message, never an unexpected exception; a claimed terabyte is refused before it is allocated;
a pair is saved whole or not at all. Qt-free; the window's side is in
tests/gui/test_hostile_files.py."""

from __future__ import annotations

import collections
import errno
import io
import os
import time
import tracemalloc
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from vg_desktop.engine import ExperimentConfig, ExperimentFileError, Network, NetworkConfig
from vg_desktop.engine.experiment import experiment_bytes, load_experiment
from vg_desktop.weights_file import (
    PAIR_KEY,
    encode_weights,
    load_weights,
    save_pair,
    weights_path,
)

SMALL = ExperimentConfig(network=NetworkConfig(depth=2, width=3))


def trained_arrays(config: ExperimentConfig, seed: int = 0) -> dict[str, np.ndarray]:
    arrays = Network(config.network, n_inputs=2, n_classes=config.data.n_classes).state_arrays()
    rng = np.random.default_rng(seed)
    return {k: v + rng.normal(size=v.shape) for k, v in arrays.items()}


def test_a_round_trip_is_exact_and_np_load_still_reads_the_file(tmp_path):
    arrays = trained_arrays(SMALL)
    path = tmp_path / "w.npz"
    path.write_bytes(encode_weights(arrays, SMALL))
    loaded = load_weights(path, SMALL)
    assert loaded.keys() == arrays.keys()
    assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays)
    with np.load(path) as npz:  # still a plain NumPy archive for anyone's scripts
        assert set(npz.files) == {*arrays, PAIR_KEY}


def test_every_single_byte_corruption_is_refused_or_loads_the_same_weights(tmp_path):
    """Each byte of an app-written .npz flipped (b ^ 0xFF), one at a time: the loader gives
    ExperimentFileError or the original weights, never anything else."""
    arrays = trained_arrays(SMALL)
    raw = encode_weights(arrays, SMALL)
    path = tmp_path / "w.npz"
    outcomes: collections.Counter = collections.Counter()
    started = time.perf_counter()
    for index in range(len(raw)):
        corrupt = bytearray(raw)
        corrupt[index] ^= 0xFF
        path.write_bytes(corrupt)
        try:
            loaded = load_weights(path, SMALL)
        except ExperimentFileError as exc:
            assert str(exc).startswith("the weights in w.npz cannot be used: "), str(exc)
            assert len(str(exc)) < 400
            outcomes["refused"] += 1
            continue
        assert loaded.keys() == arrays.keys(), index
        assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays), index
        outcomes["identical"] += 1
    elapsed = time.perf_counter() - started
    assert sum(outcomes.values()) == len(raw)
    assert outcomes["refused"] > len(raw) // 2
    print(f"{len(raw)} corruptions: {dict(outcomes)} in {elapsed:.1f} s")


def _claiming(shape: tuple[int, ...], template: dict[str, np.ndarray], config) -> bytes:
    """An app-like .npz whose first array's header claims ``shape`` (the data is absent)."""
    real = io.BytesIO(encode_weights(template, config))
    out = io.BytesIO()
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(out, "w") as dst:
        for index, info in enumerate(src.infolist()):
            if index == 0:
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header, {"descr": "<f8", "fortran_order": False, "shape": shape}
                )
                dst.writestr(info.filename, header.getvalue())
            else:
                dst.writestr(info.filename, src.read(info))
    return out.getvalue()


@pytest.mark.parametrize(
    "shape", [(2**20, 2**17), (2**40,), (3, 2**62)], ids=["1TiB", "8TiB-flat", "overflow"]
)
def test_a_header_claiming_a_terabyte_is_refused_before_allocating(tmp_path, shape):
    arrays = trained_arrays(SMALL)
    path = tmp_path / "w.npz"
    path.write_bytes(_claiming(shape, arrays, SMALL))
    tracemalloc.start()
    try:
        with pytest.raises(ExperimentFileError, match="claims shape"):
            load_weights(path, SMALL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak:,} bytes allocated"


def test_a_plain_npy_claiming_a_terabyte_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**20, 2**17)}
    )
    path = tmp_path / "w.npz"
    path.write_bytes(b"\x93NUMPY" + header.getvalue()[6:])
    with pytest.raises(ExperimentFileError, match="cannot be used"):
        load_weights(path, SMALL)


def test_a_file_larger_than_these_weights_can_be_is_not_read(tmp_path):
    path = tmp_path / "w.npz"
    with open(path, "wb") as fh:
        fh.truncate(50_000_000)  # sparse: 50 MB of zeros for a network of ~100 numbers
    with pytest.raises(ExperimentFileError, match="larger than the weights"):
        load_weights(path, SMALL)


# ---------------------------------------------------------------- pairs (item 5)
STALE = {
    "activation": replace(SMALL, network=replace(SMALL.network, activation="relu")),
    "depth": replace(SMALL, network=replace(SMALL.network, depth=3)),
    "learning-rate": replace(SMALL, train=replace(SMALL.train, learning_rate=0.5)),
}


@pytest.mark.parametrize("changed", STALE)
def test_weights_of_other_settings_are_refused_as_stale(tmp_path, changed):
    path = tmp_path / "w.npz"
    path.write_bytes(encode_weights(trained_arrays(SMALL), SMALL))
    with pytest.raises(ExperimentFileError, match="saved with other settings"):
        load_weights(path, STALE[changed])


def test_weights_without_a_pair_record_are_refused(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, **trained_arrays(SMALL))  # what earlier versions wrote
    path = tmp_path / "w.npz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ExperimentFileError, match="does not say which experiment"):
        load_weights(path, SMALL)


OLD, NEW = SMALL, STALE["activation"]


def _write_old_pair(path):
    save_pair(path, experiment_bytes(OLD), encode_weights(trained_arrays(OLD, 1), OLD))
    return path.read_bytes(), weights_path(path).read_bytes()


def _fail_at(monkeypatch, stage: int) -> None:
    """Make the ``stage``-th write, fsync or rename inside save_pair raise ENOSPC."""
    from vg_desktop.engine import atomic_write

    count = {"n": 0}

    def failing(real):
        def call(*args, **kwargs):
            count["n"] += 1
            if count["n"] == stage:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(atomic_write.os, "fsync", failing(os.fsync))
    monkeypatch.setattr(atomic_write.os, "replace", failing(os.replace))
    monkeypatch.setattr(atomic_write.os, "fdopen", failing(os.fdopen))


@pytest.mark.parametrize("stage", range(1, 9))
def test_a_full_disk_at_any_stage_leaves_the_old_pair_or_the_new_pair(tmp_path, monkeypatch, stage):
    path = tmp_path / "trained.vgx"
    old = _write_old_pair(path)
    new_arrays = trained_arrays(NEW, 2)
    _fail_at(monkeypatch, stage)
    try:
        save_pair(path, experiment_bytes(NEW), encode_weights(new_arrays, NEW))
        failed = False
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
        failed = True
    monkeypatch.undo()
    now = (path.read_bytes(), weights_path(path).read_bytes())
    config = load_experiment(path)
    loaded = load_weights(weights_path(path), config)  # the pair on disk is a pair
    if failed:
        assert now == old and config == OLD, f"stage {stage}: not the old pair"
    else:
        assert config == NEW and all(np.array_equal(loaded[k], new_arrays[k]) for k in loaded)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trained.npz", "trained.vgx"]


def test_a_full_disk_on_the_first_save_leaves_nothing_or_the_new_pair(tmp_path, monkeypatch):
    path = tmp_path / "trained.vgx"
    arrays = trained_arrays(NEW)
    for stage in range(1, 9):
        _fail_at(monkeypatch, stage)
        try:
            save_pair(path, experiment_bytes(NEW), encode_weights(arrays, NEW))
        except OSError:
            monkeypatch.undo()
            assert list(tmp_path.iterdir()) == [], f"stage {stage}"
            continue
        monkeypatch.undo()
        loaded = load_weights(weights_path(path), load_experiment(path))
        assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["trained.npz", "trained.vgx"]
        path.unlink()
        weights_path(path).unlink()
