"""Bad experiment and lesson files, systematically: each is refused with a clear message (and
nothing else is raised), and a save that fails midway — a full disk, an interrupt, the process
killed — never destroys the previous file. Qt-free: the engine and lessons modules only.

The window's side (an error dialog, nothing in the session changed) is in tests/gui/test_faults.py.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest

from vg_desktop.engine import ExperimentConfig, NetworkConfig
from vg_desktop.engine.config import DataConfig, TrainConfig
from vg_desktop.engine.experiment import (
    ExperimentFileError,
    experiment_to_dict,
    load_experiment,
    save_experiment,
)
from vg_desktop.lessons import LessonFileError, builtin_lessons, load_lesson, save_lesson

ROOT = Path(__file__).resolve().parent.parent
MAX_MESSAGE = 400  # a message a user reads in a dialog, not a dump of the file

VALID = experiment_to_dict(ExperimentConfig(network=NetworkConfig(depth=7, width=12)))
VALID_TEXT = json.dumps(VALID, indent=2)
SECTIONS = {"network": NetworkConfig, "data": DataConfig, "train": TrainConfig}

# Values that no field accepts, whatever its type (JSON has no NaN; Python's json reads it).
BAD_VALUES = {
    "null": None,
    "list": [],
    "object": {},
    "nan": float("nan"),
    "inf": float("inf"),
    "-inf": float("-inf"),
    "huge-int": 10**400,
    "text": "x" * 10_000,
}
RANGE_VALUES = {  # field -> out-of-range values of the right type
    "depth": [0, -1, 201, 10**9],
    "width": [1, 257],
    "activation": ["swish", ""],
    "normalization": ["group"],
    "residual": [0, 1, "true"],
    "init": ["zeros"],
    "init_gain": [0, 0.001, 20.01, -1],
    "dtype": ["float16"],
    "seed": [-1, 2**31],
    "name": ["mnist"],
    "n_samples": [15, 4097],
    "noise": [-0.1, 1.01],
    "n_classes": [1, 9],
    "learning_rate": [0, 1e-6, 10.5],
    "momentum": [-0.1, 1.0],
    "batch_size": [0, 513],
    "optimizer": ["adagrad", "Adam", ""],
    "weight_decay": [-0.001, 1.5],
    "clip_norm": [0, -1, 0.0001, 1001],
}
NULLABLE = {"clip_norm", "points"}  # null is valid there (no clipping; no custom points)


def binary_payloads() -> dict[str, bytes]:
    rng = random.Random(7)
    return {
        "random-bytes": bytes(rng.randrange(256) for _ in range(4096)),
        "nul-bytes": b"\x00" * 512,
        "png-header": b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(200)),
        "utf16": VALID_TEXT.encode("utf-16"),
        "latin1-garbage": "ÿþ é à ü".encode("latin-1") * 50,
        "nul-inside": VALID_TEXT[:40].encode() + b"\x00" + VALID_TEXT[40:].encode(),
        "gzip": b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(300)),
    }


def experiment_variants() -> dict[str, bytes]:
    """Name -> file content. Every one of them must be refused."""
    out: dict[str, bytes] = {"empty": b"", "blank": b" \n\t\r\n "}
    for i in range(1, 40):  # truncated at 39 points through the file
        cut = len(VALID_TEXT) * i // 40
        out[f"truncated-{cut}"] = VALID_TEXT[:cut].encode()
    out.update({f"binary-{k}": v for k, v in binary_payloads().items()})

    def doc(change) -> bytes:
        d = copy.deepcopy(VALID)
        change(d)
        return json.dumps(d).encode()

    for version in (0, 5, 99, -1, "1", 1.0, True, None, [1]):
        out[f"version-{version!r}"] = doc(lambda d, v=version: d.update(version=v))
    out["version-missing"] = doc(lambda d: d.pop("version"))
    for fmt in ("vg-desktop-lesson", "", None, "VG-DESKTOP-EXPERIMENT"):
        out[f"format-{fmt!r}"] = doc(lambda d, f=fmt: d.update(format=f))
    out["format-missing"] = doc(lambda d: d.pop("format"))
    out["format-long"] = doc(lambda d: d.update(format="x" * 10_000))
    out["version-long"] = doc(lambda d: d.update(version="9" * 10_000))
    out["extra-long-name"] = doc(lambda d: d.update({"k" * 10_000: 1}))
    for section, cls in SECTIONS.items():
        out[f"missing-section-{section}"] = doc(lambda d, s=section: d.pop(s))
        out[f"section-{section}-is-list"] = doc(lambda d, s=section: d.update({s: []}))
        out[f"extra-in-{section}"] = doc(lambda d, s=section: d[s].update(colour="red"))
        for f in fields(cls):
            out[f"missing-{section}.{f.name}"] = doc(lambda d, s=section, n=f.name: d[s].pop(n))
            for label, value in BAD_VALUES.items():
                if value is None and f.name in NULLABLE:
                    continue
                out[f"{section}.{f.name}={label}"] = doc(
                    lambda d, s=section, n=f.name, v=value: d[s].update({n: v})
                )
            for value in RANGE_VALUES.get(f.name, []):
                out[f"{section}.{f.name}={value!r}"] = doc(
                    lambda d, s=section, n=f.name, v=value: d[s].update({n: v})
                )
    out["extra-top-level"] = doc(lambda d: d.update(optimizer="adam"))
    out["batch-norm-batch-1"] = doc(
        lambda d: (d["network"].update(normalization="batch"), d["train"].update(batch_size=1))
    )
    out["batch-above-samples"] = doc(
        lambda d: (d["data"].update(n_samples=16), d["train"].update(batch_size=64))
    )
    for root in ("[]", '"text"', "42", "null", "true"):
        out[f"root-{root}"] = root.encode()
    # huge: past the 16 MB limit, absurd nesting, absurd numbers
    out["huge-padded"] = VALID_TEXT.encode() + b" " * 16_000_001
    out["huge-nesting"] = b"[" * 200_000 + b"]" * 200_000
    out["huge-number"] = VALID_TEXT.replace('"depth": 7', '"depth": ' + "9" * 5000).encode()
    out["huge-keys"] = json.dumps(VALID | {f"k{i}": i for i in range(20_000)}).encode()
    return out


EXPERIMENTS = experiment_variants()


def lesson_variants() -> dict[str, bytes]:
    text = builtin_lessons()[0].read_text(encoding="utf-8")
    valid = json.loads(text)
    out: dict[str, bytes] = {"empty": b"", "blank": b"\n \n"}
    for i in range(1, 30):
        cut = len(text) * i // 30
        out[f"truncated-{cut}"] = text[:cut].encode()
    out.update({f"binary-{k}": v for k, v in binary_payloads().items()})

    def doc(change) -> bytes:
        d = copy.deepcopy(valid)
        change(d)
        return json.dumps(d).encode()

    for version in (0, 2, "1", 1.5, None):
        out[f"version-{version!r}"] = doc(lambda d, v=version: d.update(version=v))
    out["version-missing"] = doc(lambda d: d.pop("version"))
    out["an-experiment"] = VALID_TEXT.encode()
    for key in ("title", "steps"):
        out[f"missing-{key}"] = doc(lambda d, k=key: d.pop(k))
    out["extra-top-level"] = doc(lambda d: d.update(colour="red"))
    out["extra-in-step"] = doc(lambda d: d["steps"][0].update(answer="42"))
    out["step-missing-text"] = doc(lambda d: d["steps"][0].pop("text"))
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            for label, value in BAD_VALUES.items():
                if value is None and f.name in NULLABLE:
                    continue
                out[f"step.{section}.{f.name}={label}"] = doc(
                    lambda d, s=section, n=f.name, v=value: (
                        d["steps"][0].setdefault("settings", {}).setdefault(s, {}).update({n: v})
                    )
                )
            for value in RANGE_VALUES.get(f.name, []):
                out[f"step.{section}.{f.name}={value!r}"] = doc(
                    lambda d, s=section, n=f.name, v=value: (
                        d["steps"][0].setdefault("settings", {}).setdefault(s, {}).update({n: v})
                    )
                )
    out["view-layer-beyond-depth"] = doc(
        lambda d: d["steps"][0].setdefault("view", {}).update(layer=10_000)
    )
    out["too-many-steps"] = doc(lambda d: d.update(steps=d["steps"] * 60))
    out["huge-padded"] = text.encode() + b" " * 1_000_001
    out["huge-nesting"] = b"[" * 200_000
    out["huge-text"] = doc(lambda d: d["steps"][0].update(text="word " * 190_000))
    return out


LESSONS = lesson_variants()


def files_tried() -> int:
    """How many bad files this module feeds to the readers (reported in the closing note)."""
    return len(EXPERIMENTS) + len(LESSONS)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_a_bad_experiment_file_is_refused_with_a_clear_message(tmp_path, name):
    path = tmp_path / "bad.vgx"
    path.write_bytes(EXPERIMENTS[name])
    with pytest.raises(ExperimentFileError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.strip() and len(message) <= MAX_MESSAGE, message[:1000]
    field_name = name.split("=")[0].split(".")[-1] if "=" in name else None
    if field_name in RANGE_VALUES and not name.endswith(("=null", "=list", "=object")):
        assert field_name in message or "dataset" in message or "seed" in message, message


@pytest.mark.parametrize("name", list(LESSONS))
def test_a_bad_lesson_file_is_refused_with_a_clear_message(tmp_path, name):
    path = tmp_path / "bad.vglesson"
    path.write_bytes(LESSONS[name])
    with pytest.raises(LessonFileError) as info:
        load_lesson(path)
    message = str(info.value)
    assert message.strip() and len(message) <= MAX_MESSAGE, message[:1000]


def test_the_variants_are_many_and_the_valid_originals_load(tmp_path):
    assert files_tried() >= 400
    path = tmp_path / "ok.vgx"
    path.write_text(VALID_TEXT)
    assert load_experiment(path).network.depth == 7
    for lesson in builtin_lessons():
        assert load_lesson(lesson).steps


# ---------------------------------------------------------------- atomic saves
OLD = ExperimentConfig(network=NetworkConfig(depth=3))
NEW = ExperimentConfig(network=NetworkConfig(depth=9, width=40, activation="relu"))


class _FailingWriter:
    """A binary file whose write() stores part of the payload, then raises ``error``."""

    def __init__(self, fh, error: BaseException, share: float = 0.5):
        self._fh, self._error, self._share = fh, error, share

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def write(self, data):
        self._fh.write(data[: int(len(data) * self._share)])
        self._fh.flush()
        raise self._error

    def __getattr__(self, name):
        return getattr(self._fh, name)


def _others(directory: Path, keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != keep)


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device"),
        OSError(5, "Input/output error"),
        KeyboardInterrupt(),
        MemoryError(),
    ],
    ids=["disk-full", "io-error", "interrupt", "memory"],
)
@pytest.mark.parametrize("share", [0.0, 0.5, 0.99])
def test_an_experiment_save_failing_midway_keeps_the_previous_file(
    tmp_path, monkeypatch, error, share
):
    path = tmp_path / "lesson-a.vgx"
    save_experiment(OLD, path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        os, "fdopen", lambda fd, *a, **k: _FailingWriter(real_fdopen(fd, *a, **k), error, share)
    )
    with pytest.raises(type(error)):
        save_experiment(NEW, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_experiment(path) == OLD
    assert _others(tmp_path, path.name) == [], "the temporary file must be removed"


def test_a_lesson_save_failing_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    lesson = load_lesson(builtin_lessons()[0])
    path = tmp_path / "mine.vglesson"
    save_lesson(lesson, path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        os,
        "fdopen",
        lambda fd, *a, **k: _FailingWriter(real_fdopen(fd, *a, **k), OSError(28, "disk full")),
    )
    with pytest.raises(OSError, match="disk full"):
        save_lesson(lesson, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _others(tmp_path, path.name) == []


KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from vg_desktop.engine import ExperimentConfig, NetworkConfig
    from vg_desktop.engine.experiment import save_experiment

    real_fdopen = os.fdopen

    class Dies:
        def __init__(self, fh):
            self.fh = fh
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False
        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            os._exit(9)  # the process dies midway: no cleanup, no finally
        def __getattr__(self, name):
            return getattr(self.fh, name)

    os.fdopen = lambda fd, *a, **k: Dies(real_fdopen(fd, *a, **k))
    save_experiment(ExperimentConfig(network=NetworkConfig(depth=9)), sys.argv[1])
    """
)


def test_a_process_killed_midway_through_a_save_leaves_the_previous_file(tmp_path):
    path = tmp_path / "lesson-a.vgx"
    save_experiment(OLD, path)
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 9, result.stderr
    assert path.read_bytes() == before
    assert load_experiment(path) == OLD
    # The half-written temporary file may remain (nothing could remove it), but it is hidden
    # and never mistaken for the experiment.
    assert all(name.startswith(".lesson-a.vgx.") for name in _others(tmp_path, path.name))


# ---------------------------------------------------------------- one rule for both file kinds
def _lesson_text() -> str:
    return builtin_lessons()[0].read_text(encoding="utf-8")


def _repeat(text: str, key: str, value: str) -> str:
    """``text`` with a second ``key`` before the first one."""
    return text.replace(f'"{key}"', f'"{key}": {value}, "{key}"', 1)


REPEATED_KEYS = {  # (file kind, text with a repeated key, the key the message must name)
    "experiment-top": ("experiment", _repeat(VALID_TEXT, "version", "1"), "version"),
    "experiment-nested": ("experiment", _repeat(VALID_TEXT, "depth", "200"), "depth"),
    "lesson-top": ("lesson", _repeat(_lesson_text(), "title", '"x"'), "title"),
    "lesson-step": ("lesson", _repeat(_lesson_text(), "question", '"?"'), "question"),
}


@pytest.mark.parametrize("name", REPEATED_KEYS)
def test_a_repeated_key_is_refused_by_both_file_kinds_naming_it(tmp_path, name):
    """Experiments let the last copy win while lessons refused (issue 16); now both refuse."""
    kind, text, key = REPEATED_KEYS[name]
    path = tmp_path / f"repeated.{kind}"
    path.write_text(text, encoding="utf-8")
    load, error = (
        (load_experiment, ExperimentFileError)
        if kind == "experiment"
        else (
            load_lesson,
            LessonFileError,
        )
    )
    with pytest.raises(error, match=f"the field '{key}' appears twice"):
        load(path)


@pytest.mark.parametrize("kind", ["experiment", "lesson"])
@pytest.mark.parametrize("version", [1.0, True, "1"])
def test_version_must_be_the_whole_number_1_in_both_file_kinds(tmp_path, kind, version):
    """Lessons accepted "version": 1.0 while experiments refused it (issue 16); both refuse:
    the version is a whole number, and 1.0 is what a tool that rewrote the file would write."""
    if kind == "experiment":
        document, load, error = dict(VALID), load_experiment, ExperimentFileError
    else:
        document, load, error = json.loads(_lesson_text()), load_lesson, LessonFileError
    document["version"] = version
    path = tmp_path / f"v.{kind}"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(error, match=r"version .* is not supported"):
        load(path)


@pytest.mark.parametrize("kind", ["experiment", "lesson"])
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_constants_are_refused_by_both_file_kinds(tmp_path, kind, constant):
    if kind == "experiment":
        text, load, error = VALID_TEXT, load_experiment, ExperimentFileError
        text = text.replace('"init_gain": 1.0', f'"init_gain": {constant}', 1)
        assert constant in text
    else:
        text, load, error = _lesson_text(), load_lesson, LessonFileError
        text = text.replace('"format"', f'"x": {constant}, "format"', 1)
    path = tmp_path / f"c.{kind}"
    path.write_text(text, encoding="utf-8")
    key = "init_gain" if kind == "experiment" else "x"
    with pytest.raises(error, match=f"the field '{key}' holds {constant}, which is not a number"):
        load(path)
