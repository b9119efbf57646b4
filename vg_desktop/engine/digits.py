"""The shipped handwritten digits: 1,797 8×8 grey images of the digits 0–9.

The UCI "Optical Recognition of Handwritten Digits" test set, as distributed with scikit-learn
(source, licence and citation: ``resources/datasets/README.md``). The file is shipped with the
app, but it is read as carefully as a user's file: a regular file of bounded size, decompressed
with a bound, and every value checked (shape, integers 0–16, classes 0–9), so a damaged install
gives a clear error instead of a network trained on garbage.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from .bounded_read import read_bounded
from .config import DIGITS_CLASSES, DIGITS_PIXELS, DIGITS_SAMPLES

DIGITS_FILE = "digits.csv.gz"
MAX_COMPRESSED_BYTES = 1_000_000  # the file is 57 kB
MAX_TEXT_BYTES = 2_000_000  # its text is 0.5 MB: refuse a decompression bomb
PIXEL_MAX = 16  # each pixel counts the on-pixels of a 4x4 block


class DigitsFileError(ValueError):
    """The shipped digits file is missing or damaged; the message says which and where."""


def digits_path() -> Path:
    """Where the shipped file is: the app's ``resources/datasets`` folder (also when frozen)."""
    from ..paths import resource_path  # standard library only: the engine stays Qt-free

    return resource_path("datasets", DIGITS_FILE)


def parse_digits(compressed: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels, labels)`` from the gzip-compressed CSV: uint8 (1797, 64) in 0..16, int64 0..9.

    Raises :class:`DigitsFileError` for anything that is not exactly that.
    """
    try:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
        text = inflater.decompress(compressed, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise DigitsFileError(f"it is not a readable gzip file ({exc})") from None
    if len(text) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise DigitsFileError(f"it holds more than {MAX_TEXT_BYTES:,} bytes of text")
    if not inflater.eof:
        raise DigitsFileError("it is truncated")
    try:
        rows = text.decode("ascii").split()
        values = np.array([row.split(",") for row in rows], dtype=np.int64)
    except (UnicodeDecodeError, ValueError):
        raise DigitsFileError("it does not hold rows of 65 comma-separated integers") from None
    if values.shape != (DIGITS_SAMPLES, DIGITS_PIXELS + 1):
        raise DigitsFileError(
            f"it holds a table of shape {values.shape}, not ({DIGITS_SAMPLES}, {DIGITS_PIXELS + 1})"
        )
    pixels, labels = values[:, :-1], values[:, -1]
    if pixels.min() < 0 or pixels.max() > PIXEL_MAX:
        raise DigitsFileError(f"a pixel lies outside 0..{PIXEL_MAX}")
    if labels.min() < 0 or labels.max() >= DIGITS_CLASSES:
        raise DigitsFileError(f"a class lies outside 0..{DIGITS_CLASSES - 1}")
    return pixels.astype(np.uint8), labels


@lru_cache(maxsize=1)
def _load_cached(path: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        raw = read_bounded(path, MAX_COMPRESSED_BYTES)
    except OSError as exc:
        raise DigitsFileError(f"cannot read the digits file {path}: {exc}") from None
    try:
        pixels, labels = parse_digits(raw)
    except DigitsFileError as exc:
        raise DigitsFileError(f"the digits file {path} is damaged: {exc}") from None
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def load_digits(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images in file order: read-only uint8 pixels (1797, 64) and int64 labels.

    Read once per process and cached (a rebuild of the network does not re-read the file).
    """
    return _load_cached(str(path if path is not None else digits_path()))
