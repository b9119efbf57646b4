"""Read a user-chosen file safely: regular files only, and never more than a limit.

``stat`` says 0 bytes for ``/dev/zero``, ``/dev/urandom`` and a named pipe, so a size check
before reading lets an endless device fill memory, and opening a pipe blocks until someone writes
to it. Here the file is opened without blocking (``O_NONBLOCK``: a pipe opens at once), the
*opened* file is checked to be regular (so a symlink is judged by what it points to, and nothing
can swap the file between the check and the read), and at most ``limit + 1`` bytes are read, so
a file that grows, or whose size lies, is still refused.

Standard library only (the engine stays NumPy-only).
"""

from __future__ import annotations

import os
import stat

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHUNK = 1 << 20


class UnsuitableFile(OSError):
    """Not a regular file, or larger than the caller's limit; ``str()`` says which."""


class NotARegularFile(UnsuitableFile):
    pass


class FileTooLarge(UnsuitableFile):
    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def read_bounded(path: str | os.PathLike, limit: int) -> bytes:
    """The whole content of the regular file at ``path`` (symlinks followed), at most ``limit``
    bytes; raises :class:`NotARegularFile`, :class:`FileTooLarge` or another ``OSError``."""
    fd = os.open(os.fspath(path), _FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(f"it is {_kind(mode)}, not a file")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileTooLarge(f"it is larger than {limit:,} bytes", limit)
        return b"".join(chunks)
    finally:
        os.close(fd)
