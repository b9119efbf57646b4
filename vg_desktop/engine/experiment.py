"""Experiments as versioned JSON: every setting needed to reproduce a run.

A file looks like ``{"format": "vg-desktop-experiment", "version": 3, "network": {...},
"data": {...}, "train": {...}}``. Version 2 added ``network.residual_form``; version 3 added
``train.optimizer``, ``train.weight_decay`` and ``train.clip_norm``; version 4 added
``data.points``: null, or a teacher's own points ``{"class_names": [...], "rows": [[x1, x2,
label], ...]}`` (the ``"custom"`` dataset; floats written exactly, one row per point on a single
line). Older files still open, with the values that reproduce what they ran (the post-activation
block; SGD without weight decay or clipping; no custom points).

Reading is strict — an unknown format or version, a missing or unexpected field, a wrong type or
an out-of-range value raises :class:`ExperimentFileError` with a message a user can act on — and
writing is atomic, so a failed save never destroys the old file.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

from .atomic_write import atomic_write_bytes
from .bounded_read import FileTooLarge, NotARegularFile, read_bounded
from .config import CustomPoints, DataConfig, ExperimentConfig, NetworkConfig, TrainConfig
from .strict_json import loads_strict

FORMAT = "vg-desktop-experiment"
VERSION = 4
# Fields each older version lacks (all of them, up to VERSION), and the value that reproduces
# what that version ran.
_TRAIN_ADDED_IN_3 = {"optimizer": "sgd", "weight_decay": 0.0, "clip_norm": None}
_DATA_ADDED_IN_4 = {"points": None}
_ADDED_SINCE = {
    1: {
        "network": {"residual_form": "post-activation"},
        "train": _TRAIN_ADDED_IN_3,
        "data": _DATA_ADDED_IN_4,
    },
    2: {"train": _TRAIN_ADDED_IN_3, "data": _DATA_ADDED_IN_4},
    3: {"data": _DATA_ADDED_IN_4},
}
# An experiment is a few hundred bytes; with 100,000 custom points about 5 MB. Refuse more.
MAX_FILE_BYTES = 16_000_000
MAX_FILE_TEXT = "16 MB"
_POINTS_KEYS = {"class_names", "rows"}

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


def experiment_to_dict(config: ExperimentConfig, version: int = VERSION) -> dict:
    """The file's content; an older ``version`` only for a config that version can express
    (e.g. what a version 1 file of this config held), otherwise ValueError."""
    document = {"format": FORMAT, "version": version, **config.to_dict()}
    points = config.data.points
    document["data"]["points"] = (
        None if points is None else {"class_names": list(points.class_names), "rows": points.rows()}
    )
    for section, added in _ADDED_SINCE.get(version, {}).items():
        for name, value in added.items():
            if document[section].pop(name) != value:
                raise ValueError(f"version {version} files cannot hold {section}.{name}")
    return document


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
    if type(version) is not int or not 1 <= version <= VERSION:
        raise ExperimentFileError(
            f"experiment version {_value(version)} is not supported (this app reads versions "
            f"1 to {VERSION})"
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
        added = _ADDED_SINCE.get(version, {}).get(section, {})
        if added:
            if set(added) & set(values):
                raise ExperimentFileError(
                    f"{section} has {_names(set(added) & set(values))}, which version "
                    f"{version} files do not have"
                )
            values = {**values, **added}
        if section == "data" and values.get("points") is not None:
            values = {**values, "points": _points_from_json(values["points"])}
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


def _points_from_json(value: object) -> CustomPoints:
    """The ``data.points`` object of a file, checked row by row; ExperimentFileError."""
    if not isinstance(value, dict) or set(value) != _POINTS_KEYS:
        raise ExperimentFileError('data.points must be null or {"class_names": ..., "rows": ...}')
    rows = value["rows"]
    if not isinstance(rows, list):
        raise ExperimentFileError("data.points.rows must be a list of [x1, x2, label]")
    for number, row in enumerate(rows, start=1):
        if (
            not isinstance(row, list)
            or len(row) != 3
            or not all(type(v) in (int, float) for v in row[:2])
            or type(row[2]) is not int
        ):
            raise ExperimentFileError(
                f"data.points.rows: point {number:,} is not [x1, x2, label] with a whole-number "
                "label"
            )
    try:
        x = [row[:2] for row in rows]
        y = [row[2] for row in rows]
        return CustomPoints(x, y, value["class_names"])
    except ValueError as exc:
        raise ExperimentFileError(f"data.points: {exc}") from None


def experiment_bytes(config: ExperimentConfig) -> bytes:
    """The file content of an experiment (UTF-8 JSON, indented for people who read it; custom
    points one per line)."""
    document = experiment_to_dict(config)
    points = document["data"]["points"]
    if points is None:
        return (json.dumps(document, indent=2) + "\n").encode("utf-8")
    marker = "@@points-rows@@"
    document["data"]["points"] = {**points, "rows": marker}
    rows = ",\n        ".join(json.dumps(row, allow_nan=False) for row in points["rows"])
    # The last occurrence: "rows" follows "class_names", which could spell the marker too.
    head, _, tail = json.dumps(document, indent=2).rpartition(json.dumps(marker))
    return (head + "[\n        " + rows + "\n      ]" + tail + "\n").encode("utf-8")


def save_experiment(config: ExperimentConfig, path: str | os.PathLike) -> None:
    atomic_write_bytes(path, experiment_bytes(config))


def load_experiment(path: str | os.PathLike) -> ExperimentConfig:
    """Read an experiment file; raises ExperimentFileError (never anything else for bad files)."""
    path = Path(path)
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except FileTooLarge:
        raise ExperimentFileError(
            f"the file is over {MAX_FILE_BYTES:,} bytes; an experiment is under {MAX_FILE_TEXT}"
        ) from None
    except NotARegularFile as exc:
        raise ExperimentFileError(f"cannot read {path.name}: {exc}") from None
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise ExperimentFileError("the file is empty")
    try:
        # A byte-order mark (Windows editors) is fine; a repeated key is not (as in lessons).
        data = loads_strict(raw.decode("utf-8-sig"), ExperimentFileError, "an experiment")
    except UnicodeDecodeError:
        raise ExperimentFileError("the file is not text (it may be binary or corrupt)") from None
    except json.JSONDecodeError as exc:
        raise ExperimentFileError(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated"
        ) from None
    except ExperimentFileError:
        raise
    except (ValueError, RecursionError):  # absurd nesting or numbers: not an experiment
        raise ExperimentFileError("the file is not a readable experiment") from None
    return experiment_from_dict(data)
