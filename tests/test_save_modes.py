"""Atomic saves keep what the user set up (issue 16, item 7): a new file gets the umask's mode
(not mkstemp's 0600), an overwritten file keeps its mode, and a symlink is written through to
its target (not replaced by a plain file). Every writer goes through atomic_write_bytes:
experiments, lessons, history exports, the weights pair; plot and window exports too."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from vg_desktop.engine import ExperimentConfig, Network, NetworkConfig
from vg_desktop.engine.experiment import experiment_bytes, load_experiment, save_experiment
from vg_desktop.lessons import builtin_lessons, load_lesson, save_lesson
from vg_desktop.weights_file import encode_weights, load_weights, save_pair, weights_path

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and symlinks")

OLD = ExperimentConfig(network=NetworkConfig(depth=3, width=4))
NEW = ExperimentConfig(network=NetworkConfig(depth=4, width=4))


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _arrays(config):
    return Network(config.network, n_inputs=2, n_classes=config.data.n_classes).state_arrays()


def save_lesson_file(path):
    save_lesson(load_lesson(builtin_lessons()[0]), path)


def save_weights_pair(path):
    save_pair(path, experiment_bytes(NEW), encode_weights(_arrays(NEW), NEW))


WRITERS = {
    "experiment": (lambda p: save_experiment(NEW, p), ".vgx"),
    "lesson": (save_lesson_file, ".vglesson"),
    "weights-pair": (save_weights_pair, ".vgx"),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_a_new_file_gets_the_umask_mode(tmp_path, umask_022, writer):
    save, suffix = WRITERS[writer]
    path = tmp_path / f"new{suffix}"
    save(path)
    assert mode(path) == 0o644, oct(mode(path))
    if writer == "weights-pair":
        assert mode(weights_path(path)) == 0o644


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("old_mode", [0o644, 0o664, 0o600, 0o640])
def test_an_overwritten_file_keeps_its_mode(tmp_path, umask_022, writer, old_mode):
    save, suffix = WRITERS[writer]
    path = tmp_path / f"old{suffix}"
    save(path)
    path.chmod(old_mode)
    if writer == "weights-pair":
        weights_path(path).chmod(old_mode)
    save(path)
    assert mode(path) == old_mode, oct(mode(path))
    if writer == "weights-pair":
        assert mode(weights_path(path)) == old_mode


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_is_written_through_to_its_target(tmp_path, umask_022, writer):
    save, suffix = WRITERS[writer]
    real = tmp_path / "elsewhere"
    real.mkdir()
    target = real / f"target{suffix}"
    save(target)
    target.chmod(0o644)
    link = tmp_path / f"link{suffix}"
    link.symlink_to(target)
    if writer == "weights-pair":
        weights_path(link).symlink_to(weights_path(target))
    before = target.read_bytes()
    if writer == "experiment":
        save_experiment(OLD, link)
    else:
        os.utime(target, (0, 0))
        save(link)
    assert link.is_symlink() and link.resolve() == target, "the link stays a link"
    assert mode(target) == 0o644
    if writer == "experiment":
        assert target.read_bytes() != before and load_experiment(link) == OLD
    else:
        assert target.stat().st_mtime > 0, "the target was rewritten"
    if writer == "weights-pair":
        assert weights_path(link).is_symlink()
        loaded = load_weights(weights_path(link), load_experiment(link))
        assert all(np.array_equal(loaded[k], v) for k, v in _arrays(NEW).items())
    # Nothing else appeared in either folder (no temporary file, no plain copy).
    names = sorted(p.name for p in tmp_path.iterdir())
    assert all(n in ("elsewhere", link.name, weights_path(link).name) for n in names), names


def test_a_dangling_symlink_creates_its_target(tmp_path, umask_022):
    link = tmp_path / "link.vgx"
    link.symlink_to(tmp_path / "not-yet.vgx")
    save_experiment(NEW, link)
    assert link.is_symlink() and load_experiment(tmp_path / "not-yet.vgx") == NEW
    assert mode(tmp_path / "not-yet.vgx") == 0o644


def test_another_umask_is_respected(tmp_path):
    previous = os.umask(0o077)
    try:
        save_experiment(NEW, tmp_path / "private.vgx")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "private.vgx") == 0o600


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-null", "folder"])
def test_a_save_never_replaces_a_device_pipe_or_folder(tmp_path, kind):
    """Writing through a link must not turn /dev/null (as root) or a pipe into a plain file."""
    path = tmp_path / "x.vgx"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/null")
    with pytest.raises(OSError, match="not a file"):
        save_experiment(NEW, path)
    with pytest.raises(OSError, match="not a file"):
        save_weights_pair(path)
    assert not stat.S_ISREG(os.stat(path).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.vgx"]


def test_a_drive_that_refuses_modes_still_saves(tmp_path, monkeypatch):
    """FAT USB sticks and some shares refuse chmod (EPERM): the file is saved all the same."""
    from vg_desktop.engine import atomic_write

    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic_write.os, "fchmod", refuse, raising=False)
    monkeypatch.setattr(atomic_write.os, "chmod", refuse)
    save_experiment(NEW, tmp_path / "stick.vgx")
    save_weights_pair(tmp_path / "pair.vgx")
    monkeypatch.undo()
    assert load_experiment(tmp_path / "stick.vgx") == NEW
    assert load_weights(tmp_path / "pair.npz", load_experiment(tmp_path / "pair.vgx"))
