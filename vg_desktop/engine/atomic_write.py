"""Saving without ever destroying the previous file, its permissions or its symlink.

The bytes go to a hidden temporary file beside the target, are flushed to disk, and the file is
renamed over the target (one atomic step): a full disk, an interrupt or a crash leaves the old
file. The new file keeps the target's mode (a new file gets the umask's, as any program's would;
``mkstemp`` alone would make it 0600), and a symlink is written through to the file it names.

Standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
from pathlib import Path

__all__ = ["atomic_write_bytes", "replace_durably", "write_target", "write_temporary"]


def write_target(path: str | os.PathLike) -> Path:
    """Where a save to ``path`` goes: through symlinks to the file they name (saving must not
    replace a link with a plain file and leave its target unchanged)."""
    return Path(os.path.realpath(path))


def _new_file_mode() -> int:
    """The mode a plainly created file gets: 0o666 less the umask (read without changing it
    where the system says it; the umask is process-wide, so changing it is a last resort)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


_UMASK_LOCK = threading.Lock()


def write_temporary(target: Path, payload: bytes) -> Path:
    """Write ``payload`` to a hidden temporary file beside ``target``, with the mode ``target``
    has (a new file: the umask's), flushed to disk. The caller renames or removes it."""
    target = Path(target)
    try:
        status = os.stat(target)
    except OSError:
        mode = _new_file_mode()
    else:
        if not stat.S_ISREG(status.st_mode):  # never replace a device, pipe or folder
            raise OSError(errno.EINVAL, "it is a device, pipe or folder, not a file", str(target))
        mode = stat.S_IMODE(status.st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            # Best effort: a FAT USB stick or a network share may refuse modes it cannot
            # store, and that must not stop the save.
            with contextlib.suppress(OSError):
                if hasattr(os, "fchmod"):
                    os.fchmod(fh.fileno(), mode)
                else:  # Windows: only the read-only bit exists
                    os.chmod(tmp, mode)
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def replace_durably(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target`` and flush the folder, so the rename survives a crash."""
    os.replace(tmp, target)
    if os.name == "posix":
        with contextlib.suppress(OSError):
            dir_fd = os.open(Path(target).parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``.

    A symlink is written through (its target is replaced), and the file keeps its mode.
    """
    target = write_target(path)
    tmp = write_temporary(target, payload)
    try:
        replace_durably(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
