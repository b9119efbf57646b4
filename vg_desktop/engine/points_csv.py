"""A teacher's own 2-D points as CSV: ``x1, x2, label`` per line.

Reading treats the file as hostile: it goes through :func:`read_bounded` (regular files only,
never more than :data:`MAX_CSV_BYTES`), nothing is evaluated, and every problem is a
``ValueError`` naming the line and what is wrong with it. Writing uses ``repr`` of each float,
which Python reads back to the identical double, so export -> import is exact.
"""

from __future__ import annotations

import os
import re

import numpy as np

from .atomic_write import atomic_write_bytes
from .bounded_read import FileTooLarge, NotARegularFile, read_bounded
from .config import CLASSES_RANGE as _CLASSES
from .config import CUSTOM_SAMPLES_RANGE, CustomPoints

MAX_CSV_BYTES = 16_000_000  # 100,000 points of full-precision floats and long names: ~8 MB
MAX_LABEL_CHARS = 24
_DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER_CHARS = frozenset("0123456789+-.eE")


def _shown(text: str, limit: int = 30) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _number(field: str, line: int, column: str) -> float:
    # A plain decimal number only: float() alone would also take "1_000", "nan" and "inf".
    if not field or not _NUMBER_CHARS.issuperset(field):
        if _NOT_FINITE.fullmatch(field):
            raise ValueError(
                f"line {line}: {column} is {field}; only finite numbers can be plotted"
            )
        raise ValueError(f"line {line}: {column} is {_shown(field)}, not a number")
    try:
        value = float(field)
    except ValueError:  # "1e", "+-1", "1.2.3"
        raise ValueError(f"line {line}: {column} is {_shown(field)}, not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"line {line}: {column} {_shown(field)} is too large for a number")
    return value


def _unquoted(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].strip()
    return field


def _delimiter(first: str, line: int) -> str:
    for delimiter in _DELIMITERS:
        if len(first.split(delimiter)) == 3:
            return delimiter
    raise ValueError(
        f"line {line}: expected 3 columns (x1, x2, label) separated by commas, semicolons or "
        f"tabs; found {_shown(first)}"
    )


def _label(field: str, line: int) -> str:
    if not field:
        raise ValueError(f"line {line}: the label is empty")
    if len(field) > MAX_LABEL_CHARS:
        raise ValueError(
            f"line {line}: the label {_shown(field)} is longer than {MAX_LABEL_CHARS} characters"
        )
    if not field.isprintable():
        raise ValueError(f"line {line}: the label {_shown(field)} holds control characters")
    return field


def parse_points_csv(text: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(x, y, class_names)`` from the text of a points CSV; ValueError names the line."""
    lo, hi = CUSTOM_SAMPLES_RANGE
    rows: list[tuple[float, float]] = []
    labels: list[str] = []
    seen: dict[str, int] = {}
    delimiter = None
    header_line = last = 0
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.removesuffix("\r")
        if not line.strip():
            continue
        if delimiter is None:
            delimiter = _delimiter(line, number)
        fields = [_unquoted(f) for f in line.split(delimiter)]
        if len(fields) != 3:
            raise ValueError(
                f"line {number}: {len(fields)} columns, expected 3 (x1, x2, label) separated "
                f"by {_DELIMITERS[delimiter]}"
            )
        numeric = (_NUMBER.fullmatch(f) or _NOT_FINITE.fullmatch(f) for f in fields[:2])
        if not rows and not header_line and not any(numeric):
            header_line = number  # a header such as "x1,x2,label": skipped
            continue
        if len(rows) == hi:
            raise ValueError(f"line {number}: more than {hi:,} points; the limit is {hi:,}")
        x1 = _number(fields[0], number, "x1")
        x2 = _number(fields[1], number, "x2")
        label = _label(fields[2], number)
        if label not in seen:
            seen[label] = number
            if len(seen) > _CLASSES[1]:
                raise ValueError(
                    f"line {number}: label {_shown(label)} is a class beyond the {_CLASSES[1]} "
                    "allowed"
                )
        rows.append((x1, x2))
        labels.append(label)
        last = number
    if delimiter is None:
        raise ValueError("the file is empty (line 1: no points)")
    if not rows:
        raise ValueError(f"line {header_line}: the file has a header but no points")
    if len(rows) < lo:
        raise ValueError(
            f"line {last}: the file ends after {len(rows)} points; at least {lo} are needed"
        )
    if len(seen) < _CLASSES[0]:
        only = next(iter(seen))
        raise ValueError(
            f"line {last}: every point has the label {_shown(only)}: one class only; at "
            f"least {_CLASSES[0]} are needed"
        )
    if all(_INTEGER.fullmatch(label) for label in seen):
        by_value = {label: int(label) for label in seen}
        values: dict[int, str] = {}
        for label in sorted(seen, key=seen.get):  # in the order they first appear
            if by_value[label] in values:  # "1" and "01": one class, two spellings
                raise ValueError(
                    f"line {seen[label]}: label {_shown(label)} is another spelling of "
                    f"{values[by_value[label]]!r}; write each class one way"
                )
            values[by_value[label]] = label
        names = sorted(seen, key=by_value.get)
    else:
        names = sorted(seen)
    index = {name: k for k, name in enumerate(names)}
    x = np.array(rows, dtype=np.float64).reshape(-1, 2)
    y = np.array([index[label] for label in labels], dtype=np.int64)
    return x, y, tuple(names)


def load_points_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read a points CSV: ``(x, y, class_names)``, x float64 (n, 2), y int64 (n,) in
    [0, len(class_names)), the names in sorted order (integers numerically).

    Columns x1, x2, label (a header line is optional); commas, semicolons or tabs; a UTF-8 BOM
    and Windows line endings are fine. 2-8 classes and 4-100,000 points. Anything else raises
    ``ValueError`` saying which line holds what problem.
    """
    name = os.path.basename(os.fspath(path))
    try:
        raw = read_bounded(path, MAX_CSV_BYTES)
    except FileTooLarge:
        raise ValueError(
            f"{name} is larger than {MAX_CSV_BYTES // 1_000_000} MB; 100,000 points fit in "
            "under 10 MB (line 1 was not read)"
        ) from None
    except NotARegularFile as exc:
        raise ValueError(f"cannot read {name}: {exc}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {name}: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise ValueError(f"line {line}: {name} is not text (it holds binary bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"line {line}: {name} is not text (the bytes are not UTF-8; binary or corrupt)"
        ) from None
    return parse_points_csv(text)


def points_csv_bytes(points: CustomPoints) -> bytes:
    """The CSV of ``points`` (header ``x1,x2,label``; floats as ``repr``, so exact)."""
    names = points.class_names
    # Names read from a CSV never hold the delimiter they were read with: one of these is free.
    sep = next(d for d in _DELIMITERS if not any(d in name for name in names))
    lines = [sep.join(("x1", "x2", "label"))]
    lines += [
        f"{a!r}{sep}{b!r}{sep}{names[k]}"
        for (a, b), k in zip(points.x.tolist(), points.y.tolist(), strict=True)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def save_points_csv(points: CustomPoints, path: str | os.PathLike) -> None:
    """Write ``points`` as CSV atomically (a failed save leaves the old file)."""
    atomic_write_bytes(path, points_csv_bytes(points))
