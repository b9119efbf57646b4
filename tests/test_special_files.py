"""Special files (issue 16, item 3): an endless device, a named pipe, or a symlink to either, is
refused at once by every loader, with a message, instead of filling memory or blocking forever.

``stat`` says 0 bytes for all of them, so a size check before reading let ``/dev/zero`` through
(12 GB in 12 s) and opening a pipe blocked. Each loader here is called on each special file and
must refuse it in under a second. The window's side (the error dialog) is in
tests/gui/test_faults.py; the CLI's is below.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vg_desktop import cli
from vg_desktop.engine import ExperimentConfig, NetworkConfig
from vg_desktop.engine.bounded_read import FileTooLarge, NotARegularFile, read_bounded
from vg_desktop.engine.experiment import ExperimentFileError, load_experiment
from vg_desktop.lessons import LessonFileError, load_lesson

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 1.0
DEVICES = ["/dev/zero", "/dev/urandom"]

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(d) for d in DEVICES) or not hasattr(os, "mkfifo"),
    reason="needs /dev/zero, /dev/urandom and named pipes (POSIX)",
)


def special_files(folder: Path, suffix: str) -> dict[str, Path]:
    """Name -> path: the devices, a FIFO, and a symlink (with ``suffix``) to each."""
    fifo = folder / f"pipe{suffix}"
    if not fifo.exists():
        os.mkfifo(fifo)
    out = {"dev-zero": Path("/dev/zero"), "dev-urandom": Path("/dev/urandom"), "fifo": fifo}
    for name, target in list(out.items()):
        link = folder / f"link-to-{name}{suffix}"
        if not link.is_symlink():
            link.symlink_to(target)
        out[f"link-to-{name}"] = link
    folder_link = folder / f"a-folder{suffix}"
    folder_link.mkdir(exist_ok=True)
    out["folder"] = folder_link
    return out


NAMES = [
    "dev-zero",
    "dev-urandom",
    "fifo",
    "link-to-dev-zero",
    "link-to-dev-urandom",
    "link-to-fifo",
    "folder",
]


def timed(call):
    started = time.perf_counter()
    try:
        call()
    except BaseException as exc:
        return time.perf_counter() - started, exc
    return time.perf_counter() - started, None


@pytest.mark.parametrize("name", NAMES)
def test_read_bounded_refuses_special_files(tmp_path, name):
    path = special_files(tmp_path, ".vgx")[name]
    elapsed, exc = timed(lambda: read_bounded(path, 1_000_000))
    assert isinstance(exc, NotARegularFile), exc
    assert elapsed < LIMIT_S, f"{name}: {elapsed:.2f} s"
    kind = {"fifo": "a pipe", "folder": "a folder"}.get(name.removeprefix("link-to-"), "a device")
    assert kind in str(exc)


def test_read_bounded_reads_at_most_the_limit(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(FileTooLarge):
        read_bounded(path, 1000)
    assert read_bounded(path, 1001) == b"x" * 1001
    link = tmp_path / "link"
    link.symlink_to(path)
    assert read_bounded(link, 2000) == b"x" * 1001


@pytest.mark.parametrize("name", NAMES)
def test_experiment_and_lesson_loaders_refuse_special_files(tmp_path, name):
    for suffix, load, error in (
        (".vgx", load_experiment, ExperimentFileError),
        (".vglesson", load_lesson, LessonFileError),
    ):
        path = special_files(tmp_path, suffix)[name]
        elapsed, exc = timed(lambda p=path, f=load: f(p))
        assert isinstance(exc, error), (suffix, exc)
        assert elapsed < LIMIT_S, f"{name}{suffix}: {elapsed:.2f} s"
        assert "not a file" in str(exc) and path.name in str(exc), str(exc)


@pytest.mark.parametrize("name", NAMES)
def test_file_kind_and_weights_loaders_refuse_special_files(tmp_path, name):
    from vg_desktop.files import read_file_kind
    from vg_desktop.weights_file import load_weights

    path = special_files(tmp_path, ".vgx")[name]
    elapsed, exc = timed(lambda: read_file_kind(path))
    assert isinstance(exc, ExperimentFileError), exc
    assert elapsed < LIMIT_S and "not a file" in str(exc), (elapsed, str(exc))
    weights = special_files(tmp_path, ".npz")[name]
    config = ExperimentConfig(network=NetworkConfig(depth=3, width=8))
    elapsed, exc = timed(lambda: load_weights(weights, config))
    assert isinstance(exc, ExperimentFileError), exc
    assert elapsed < LIMIT_S and "not a file" in str(exc), (elapsed, str(exc))


@pytest.mark.parametrize("name", NAMES)
def test_cli_config_refuses_special_files_in_one_line(tmp_path, capsys, name):
    path = special_files(tmp_path, ".vgx")[name]
    elapsed, exc = timed(lambda: cli.main(["--config", str(path), "--steps", "1"]))
    assert isinstance(exc, SystemExit) and exc.code == 2, exc
    assert elapsed < LIMIT_S, f"{name}: {elapsed:.2f} s"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot use" in err and "not a file" in err, err


def test_cli_config_fifo_end_to_end(tmp_path):
    """``vg-desktop run --config FIFO`` in a fresh interpreter: rc 2, one line, no traceback."""
    path = special_files(tmp_path, ".vgx")["link-to-fifo"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "vg_desktop", "run", "--config", str(path), "--steps", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "link-to-fifo.vgx" in result.stderr and "a pipe, not a file" in result.stderr


@pytest.mark.parametrize("name", ["fifo", "link-to-fifo", "link-to-dev-zero"])
def test_settings_store_on_a_special_file_starts_without_blocking(
    qapp, tmp_path, monkeypatch, name
):
    from vg_desktop.settings_store import SettingsStore

    path = special_files(tmp_path, ".ini")[name]
    monkeypatch.setenv("VG_DESKTOP_SETTINGS_FILE", str(path))
    started = time.perf_counter()
    store = SettingsStore()
    store.save_experiment(ExperimentConfig())
    assert store.last_experiment() == ExperimentConfig()
    assert time.perf_counter() - started < LIMIT_S
    assert any("not a file" in w for w in store.warnings), store.warnings
