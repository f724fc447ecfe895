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
import re
import tempfile
import time
from collections.abc import Callable


def write_temp(path: str, write: Callable) -> str:
    """Call ``write(file)`` on a new temporary file next to ``path``; fsync it; return its path.

    The caller moves it into place with ``os.replace`` (or removes it with :func:`discard`).
    On failure the temporary file is removed and the exception propagates.
    """
    directory = os.path.dirname(os.path.abspath(path))
    # ``.<name>.<pid>.<random>.tmp``: the writer's pid lets a later writer tell a temporary
    # file left by a killed process from one still being written (remove_stale_temps).
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.{os.getpid()}.", suffix=".tmp", dir=directory
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


_TEMP = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)\.\w+\.tmp")
STALE_AFTER_S = 24 * 3600  # a temporary file this old is stale whoever wrote it


def remove_stale_temps(directory: str, is_target: Callable[[str], bool]) -> list[str]:
    """Remove the temporary files :func:`write_temp` left in ``directory`` for targets
    ``is_target(name)`` accepts, when their writer is gone (a killed save): its process no
    longer runs, or the file is a day old. Returns the names removed.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     dead = os.path.join(d, ".m.npz.999999999.abc.tmp")  # no such process
    ...     live = os.path.join(d, f".m.npz.{os.getpid()}.abc.tmp")
    ...     for p in (dead, live):
    ...         open(p, "w").close()
    ...     print(remove_stale_temps(d, lambda name: name.endswith(".npz")), len(os.listdir(d)))
    ['.m.npz.999999999.abc.tmp'] 1
    """
    removed = []
    now = time.time()
    for entry in os.scandir(directory):
        match = _TEMP.fullmatch(entry.name)
        if match is None or not is_target(match["target"]) or not entry.is_file():
            continue
        try:
            old = now - entry.stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if old or not _running(int(match["pid"])):
            discard(entry.path)
            removed.append(entry.name)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # someone else's process, or no way to tell: leave its files
        return True
    return True


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
