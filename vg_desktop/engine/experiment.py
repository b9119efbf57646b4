"""Experiments as versioned JSON: every setting needed to reproduce a run.

A file looks like ``{"format": "vg-desktop-experiment", "version": 1, "network": {...},
"data": {...}, "train": {...}}``. Reading is strict — an unknown format or version, a missing or
unexpected field, a wrong type or an out-of-range value raises :class:`ExperimentFileError` with a
message a user can act on — and writing is atomic, so a failed save never destroys the old file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import fields
from pathlib import Path

from .config import DataConfig, ExperimentConfig, NetworkConfig, TrainConfig

FORMAT = "vg-desktop-experiment"
VERSION = 1
MAX_FILE_BYTES = 1_000_000  # an experiment is a few hundred bytes; refuse anything huge

_SECTIONS = {"network": NetworkConfig, "data": DataConfig, "train": TrainConfig}


class ExperimentFileError(ValueError):
    """A file that is not a readable experiment; the message says why."""


def _value(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _names(keys: set) -> str:
    """A few field names for a message (a file may hold thousands, or absurdly long ones)."""
    shown = [str(k) if len(str(k)) <= 40 else str(k)[:39] + "…" for k in sorted(keys, key=str)]
    more = f" and {len(shown) - 5:,} more" if len(shown) > 5 else ""
    return ", ".join(shown[:5]) + more


def experiment_to_dict(config: ExperimentConfig) -> dict:
    return {"format": FORMAT, "version": VERSION, **config.to_dict()}


def experiment_from_dict(data: object) -> ExperimentConfig:
    """Validate and convert a parsed JSON object; raises ExperimentFileError."""
    if not isinstance(data, dict):
        raise ExperimentFileError("the file does not hold a JSON object")
    if data.get("format") != FORMAT:
        raise ExperimentFileError(
            "this is not a Vanishing Gradient Lab experiment "
            f"(format is {_value(data.get('format'))})"
        )
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        raise ExperimentFileError(
            f"experiment version {_value(version)} is not supported (this app reads version "
            f"{VERSION})"
        )
    extra = set(data) - {"format", "version", *_SECTIONS}
    if extra:
        raise ExperimentFileError(f"unexpected field(s): {_names(extra)}")
    parts = {}
    for section, cls in _SECTIONS.items():
        values = data.get(section)
        if not isinstance(values, dict):
            raise ExperimentFileError(f"the {section!r} section is missing or not an object")
        names = {f.name for f in fields(cls)}
        missing, unknown = names - set(values), set(values) - names
        if missing:
            raise ExperimentFileError(f"{section} lacks {_names(missing)}")
        if unknown:
            raise ExperimentFileError(f"{section} has unknown {_names(unknown)}")
        try:
            parts[section] = cls(**values)
        except (TypeError, ValueError) as exc:
            raise ExperimentFileError(f"{section}: {exc}") from None
    try:
        return ExperimentConfig(**parts)
    except ValueError as exc:
        raise ExperimentFileError(str(exc)) from None


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_experiment(config: ExperimentConfig, path: str | os.PathLike) -> None:
    text = json.dumps(experiment_to_dict(config), indent=2) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def load_experiment(path: str | os.PathLike) -> ExperimentConfig:
    """Read an experiment file; raises ExperimentFileError (never anything else for bad files)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ExperimentFileError(f"the file is {size:,} bytes; an experiment is under 1 MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise ExperimentFileError("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark (Windows editors) is fine
    except UnicodeDecodeError:
        raise ExperimentFileError("the file is not text (it may be binary or corrupt)") from None
    except json.JSONDecodeError as exc:
        raise ExperimentFileError(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated"
        ) from None
    except (ValueError, RecursionError):  # absurd nesting or numbers: not an experiment
        raise ExperimentFileError("the file is not a readable experiment") from None
    return experiment_from_dict(data)
