"""Trained weights beside an experiment (``a.vgx`` + ``a.npz``), written and read as a pair.

The .npz is a NumPy archive (``np.load`` reads it) of the network's arrays, the optimizer's
state when it has one (``optimizer_*``: SGD's velocity, RMSprop's or Adam's running averages and
Adam's step count; weights without it load with a fresh optimizer), plus one record,
``vg_pair``: the SHA-256 of the experiment's settings the weights were trained with. Opening
checks the record, so weights left over from an earlier save (a full disk, a crash between the
two renames, a file copied by hand) are refused with a message instead of being loaded into a
network they do not belong to.

Reading trusts nothing in the file: the archive is parsed member by member (stored or deflated
only, no encryption), every array's shape and type come from its header and must be exactly what
the network expects *before* its data is read, no read is larger than that, and every error a
corrupt archive can raise becomes :class:`ExperimentFileError`. Writing puts both files in
temporary files, flushes them to disk, then renames the weights and the experiment; if anything
fails, the previous pair is put back.

NumPy and the standard library only: no Qt here.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import hashlib
import io
import json
import math
import os
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .engine import ExperimentConfig, ExperimentFileError, Network
from .engine.atomic_write import replace_durably, write_target, write_temporary
from .engine.bounded_read import FileTooLarge, NotARegularFile, read_bounded
from .engine.experiment import VERSION as EXPERIMENT_VERSION
from .engine.experiment import experiment_to_dict
from .engine.optimizers import STATE_BUFFERS, OptimizerState

PAIR_KEY = "vg_pair"
_OPTIMIZER_BUFFERS = sorted({name for names in STATE_BUFFERS.values() for name in names})
PAIR_FORMAT = "vg-desktop-weights"
_MAX_HEADER = 10_000  # a .npy header is ~128 bytes; numpy's own default bound
_ARCHIVE_SLACK = 1_000_000  # zip directory, .npy headers, the record

# Everything a corrupt archive can raise from zipfile, zlib, struct and numpy's header parser.
_CORRUPT = (
    OSError,
    ValueError,  # includes UnicodeDecodeError and numpy's header errors
    KeyError,
    EOFError,
    IndexError,
    TypeError,
    OverflowError,
    SyntaxError,  # numpy parses the header dict with ast.literal_eval
    NotImplementedError,  # an unknown compression method
    RuntimeError,  # the "encrypted" flag
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    binascii.Error,
)


def weights_path(path: Path) -> Path:
    """Trained weights travel beside the experiment: ``lesson.vgx`` -> ``lesson.npz``."""
    return Path(path).with_suffix(".npz")


def settings_digest(config: ExperimentConfig, version: int = EXPERIMENT_VERSION) -> str:
    """What the weights belong to: the SHA-256 of the experiment's settings, canonically, as
    an experiment file of ``version`` holds them."""
    document = experiment_to_dict(config, version)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=8)
def _accepted_digests(config: ExperimentConfig) -> frozenset[str]:
    """This config's digest as written by this app and by every older experiment version that
    can express it (weights saved before a version bump still belong to their experiment)."""
    digests = set()
    for version in range(1, EXPERIMENT_VERSION + 1):
        with contextlib.suppress(ValueError):
            digests.add(settings_digest(config, version))
    return frozenset(digests)


def _pair_record(config: ExperimentConfig) -> np.ndarray:
    record = {"format": PAIR_FORMAT, "version": 1, "settings_sha256": settings_digest(config)}
    return np.frombuffer(json.dumps(record).encode("ascii"), dtype=np.uint8)


@functools.lru_cache(maxsize=8)
def _expected_layout(config: ExperimentConfig) -> dict[str, np.ndarray]:
    """Stand-ins (a scalar broadcast: no memory) with the shape and dtype of every array of
    ``config``'s network (cached: building the largest network allocates 106 MB)."""
    probe = Network(config.network, n_inputs=config.data.n_inputs, n_classes=config.data.n_classes)
    return {
        key: np.broadcast_to(np.zeros((), a.dtype), a.shape)
        for key, a in probe.state_arrays().items()
    }


def _expected_arrays(config: ExperimentConfig) -> dict[str, np.ndarray]:
    return _expected_layout(config)


def _optimizer_members(config: ExperimentConfig, expected: dict) -> dict[str, tuple]:
    """The optional members: the optimizer's state (see Network.state_arrays), as
    {key: (shape, dtype)}. Weights saved without it load with a fresh optimizer."""
    size = sum(v.size for k, v in expected.items() if k.startswith("layer"))
    dtype = np.dtype(config.network.dtype)
    members = {f"optimizer_{name}": ((size,), dtype) for name in _OPTIMIZER_BUFFERS}
    members["optimizer_step"] = ((), np.dtype(np.int64))
    return members


def encode_weights(arrays: dict[str, np.ndarray], config: ExperimentConfig) -> bytes:
    """The .npz bytes of ``arrays`` (which must fit ``config``) with their pair record."""
    expected = _expected_arrays(config)
    optional = _optimizer_members(config, expected)
    extra = set(arrays) - set(expected)
    if (
        not set(expected) <= set(arrays)
        or not extra <= set(optional)
        or any(np.shape(arrays[k]) != v.shape for k, v in expected.items())
        or any(np.shape(arrays[k]) != optional[k][0] for k in extra)
    ):
        raise ValueError("the weights do not belong to these settings")
    buffer = io.BytesIO()
    # Stored, not compressed: trained floats compress by ~6 %, and deflating the largest
    # network (106 MB) took 6.8 s against 0.18 s stored, on the GUI thread.
    np.savez(buffer, **arrays, **{PAIR_KEY: _pair_record(config)})
    return buffer.getvalue()


# ---------------------------------------------------------------------------- reading
def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_npy(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_items: int
) -> tuple[tuple[int, ...], np.dtype, bool, bytes]:
    """Header, then at most the data it announces (no more than ``max_items`` elements)."""
    with archive.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, _MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, _MAX_HEADER)
        else:
            raise ValueError(f"it uses .npy format {version}, which is not supported")
        shape = tuple(int(n) for n in shape)
        if dtype.kind not in "fiu" or dtype.hasobject or dtype.itemsize > 16:
            raise ExperimentFileError(f"unexpected type {dtype} for {_short(info.filename)}")
        if any(n < 0 for n in shape) or math.prod(shape) > max_items:
            raise ExperimentFileError(f"{_short(info.filename)} claims shape {_short(str(shape))}")
        size = math.prod(shape) * dtype.itemsize
        data = fh.read(size + 1)  # bounded: a lying header or a bomb cannot make us read more
        if len(data) != size:
            raise ValueError(f"{_short(info.filename)} holds {len(data)} bytes, not {size}")
    return shape, dtype, fortran, data


def decode_weights(raw: bytes, config: ExperimentConfig) -> dict[str, np.ndarray]:
    """The arrays of an .npz written by :func:`encode_weights` for ``config``.

    Raises ExperimentFileError (a short reason, without the file name) for anything else.
    """
    expected = _expected_arrays(config)
    optional = _optimizer_members(config, expected)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members: dict[str, zipfile.ZipInfo] = {}
            most = len(expected) + len(optional)  # and the pair record
            for info in archive.infolist():
                if not info.filename.endswith(".npy") or len(members) > most:
                    raise ExperimentFileError(f"unexpected member {_short(info.filename)}")
                key = info.filename[:-4]
                if key in members:
                    raise ExperimentFileError(f"{_short(key)} appears twice")
                if info.flag_bits & 0x1:
                    raise ExperimentFileError("the archive is encrypted")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ExperimentFileError("the archive uses an unknown compression")
                members[key] = info
            # What they belong to first: stale weights get that message, not a missing array.
            if PAIR_KEY not in members:
                raise ExperimentFileError(
                    "it does not say which experiment it belongs to (not saved by this app?)"
                )
            _, dtype, _, record = _read_npy(archive, members.pop(PAIR_KEY), 4096)
            if dtype != np.uint8:
                raise ExperimentFileError("its pair record is not readable")
            pair = json.loads(record.decode("ascii"))
            if not isinstance(pair, dict) or pair.get("format") != PAIR_FORMAT:
                raise ExperimentFileError("its pair record is not readable")
            if pair.get("settings_sha256") not in _accepted_digests(config):
                raise ExperimentFileError(
                    "they were saved with other settings than this experiment file holds (left "
                    "from an earlier save, or the file was edited)"
                )
            unexpected = sorted(set(members) - set(expected) - set(optional))
            if unexpected:
                raise ExperimentFileError(f"unexpected member {_short(unexpected[0])}")
            missing = sorted(set(expected) - set(members))
            if missing:
                raise ExperimentFileError(f"it lacks {', '.join(map(_short, missing[:5]))}")
            arrays = {}
            for key, want in expected.items():
                shape, dtype, fortran, data = _read_npy(archive, members[key], want.size)
                if shape != want.shape:
                    raise ExperimentFileError(
                        f"{_short(key)} has shape {shape}, expected {want.shape}"
                    )
                array = np.frombuffer(data, dtype=dtype).reshape(
                    shape, order="F" if fortran else "C"
                )
                arrays[key] = np.array(array, dtype=want.dtype)  # a writable copy, network's type
            for key in sorted(set(members) & set(optional)):
                want_shape, want_dtype = optional[key]
                shape, dtype, fortran, data = _read_npy(
                    archive, members[key], math.prod(want_shape)
                )
                if shape != want_shape or (want_dtype.kind == "i" and dtype.kind not in "iu"):
                    raise ExperimentFileError(f"its optimizer state ({_short(key)}) does not fit")
                array = np.frombuffer(data, dtype=dtype).reshape(
                    shape, order="F" if fortran else "C"
                )
                arrays[key] = np.array(array, dtype=want_dtype)
            if set(members) & set(optional):
                (size,), dtype = optional["optimizer_velocity"]
                try:  # one optimizer's complete state, or none
                    OptimizerState.from_arrays(arrays, size, dtype)
                except ValueError as exc:
                    raise ExperimentFileError(
                        f"its optimizer state cannot be used: {exc}"
                    ) from None
    except ExperimentFileError:
        raise
    except _CORRUPT as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise ExperimentFileError(f"it is corrupt ({_short(reason, 160)})") from None
    if not all(np.all(np.isfinite(a)) for a in arrays.values()):
        raise ExperimentFileError("they contain NaN or infinity")
    return arrays


def load_weights(path: Path, config: ExperimentConfig) -> dict[str, np.ndarray]:
    """Read and check the weights file at ``path`` against ``config``; raises
    ExperimentFileError naming the file."""
    path = Path(path)
    expected = _expected_arrays(config)
    # Parameters, plus at most two optimizer buffers of their size (Adam's), with room to spare.
    limit = 2 * 3 * sum(a.nbytes for a in expected.values()) + _ARCHIVE_SLACK
    try:
        raw = read_bounded(path, limit)
    except FileTooLarge:
        raise ExperimentFileError(
            f"the weights file {path.name} is larger than the weights of these settings can be"
        ) from None
    except NotARegularFile as exc:
        raise ExperimentFileError(f"cannot read the weights file {path.name}: {exc}") from None
    except OSError as exc:
        raise ExperimentFileError(
            f"cannot read the weights file {path.name}: {exc.strerror or exc}"
        ) from None
    try:
        return decode_weights(raw, config)
    except ExperimentFileError as exc:
        raise ExperimentFileError(f"the weights in {path.name} cannot be used: {exc}") from None


# ---------------------------------------------------------------------------- writing
def save_pair(path: Path, experiment_bytes: bytes, weights_bytes: bytes) -> None:
    """Replace ``path`` and its weights file together: afterwards both are new, or (on any
    error) both are what they were before. Raises OSError."""
    # Through symlinks, each to its own target; the weights are named after the path the user
    # chose (the one opening reads them beside), not after where its link points.
    npz = write_target(weights_path(path))
    path = write_target(path)
    tmp_npz = tmp_vgx = backup = None
    try:
        tmp_npz = write_temporary(npz, weights_bytes)
        tmp_vgx = write_temporary(path, experiment_bytes)
        if npz.exists():
            backup = _keep_previous(npz)
        replace_durably(tmp_npz, npz)
        tmp_npz = None
        try:
            replace_durably(tmp_vgx, path)
            tmp_vgx = None
        except BaseException:
            # The experiment could not be replaced: put the previous weights back (or remove the
            # new ones, if there were none), so the old pair stays a pair.
            if backup is not None:
                os.replace(backup, npz)
                backup = None
            else:
                with contextlib.suppress(OSError):
                    os.unlink(npz)
            raise
    finally:
        for leftover in (tmp_npz, tmp_vgx, backup):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)


def _keep_previous(npz: Path) -> Path:
    """A second name for the previous weights (a hard link: no copy), to restore them."""
    fd, name = tempfile.mkstemp(prefix=f".{npz.name}.", suffix=".previous", dir=npz.parent)
    os.close(fd)
    os.unlink(name)
    try:
        os.link(npz, name)
    except OSError:  # no hard links here (some network or FAT drives): copy instead
        with open(npz, "rb") as src, open(name, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    return Path(name)
