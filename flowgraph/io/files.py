"""Atomic file writes: a reader sees either the old file or the complete new one, never half.

Each file is written to a temporary file in the same directory, flushed and fsynced, then
moved over the target with ``os.replace`` (atomic on POSIX and Windows). If anything fails
before the move, the temporary file is removed and the target is untouched.

>>> import os, tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     path = os.path.join(d, "note.txt")
...     atomic_write_bytes(path, b"hello")
...     print(open(path).read(), os.listdir(d))
hello ['note.txt']
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable


def write_temp(path: str, write: Callable) -> str:
    """Call ``write(file)`` on a new temporary file next to ``path``; fsync it; return its path.

    The caller moves it into place with ``os.replace`` (or removes it with :func:`discard`).
    On failure the temporary file is removed and the exception propagates.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory
    )
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        discard(tmp)
        raise
    return tmp


def discard(path: str) -> None:
    """Remove ``path`` if it exists (cleanup after a failed write)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def fsync_directory(directory: str) -> None:
    """Make renames in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(moves: list[tuple[str, str]]) -> None:
    """``os.replace`` each (temporary, target) pair in order; on failure remove leftovers."""
    try:
        for tmp, target in moves:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in moves:
            discard(tmp)
        raise
    if moves:
        fsync_directory(os.path.dirname(os.path.abspath(moves[0][1])))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    tmp = write_temp(path, lambda f: f.write(data))
    commit([(tmp, path)])
