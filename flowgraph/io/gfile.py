"""TF1's ``tf.gfile``: file-system helpers with TensorFlow's names and errors, over the local
file system only.

A missing file or directory is :class:`~flowgraph.errors.NotFoundError`, an existing target
that may not be overwritten :class:`~flowgraph.errors.AlreadyExistsError`, and a remote path
(``gs://``, ``hdfs://``, ``s3://``) :class:`~flowgraph.errors.UnimplementedError`, each naming
the path.

>>> import os, tempfile
>>> from flowgraph.io import gfile
>>> root = tempfile.mkdtemp()
>>> gfile.MakeDirs(os.path.join(root, "logs", "run1"))
>>> with gfile.GFile(os.path.join(root, "logs", "notes.txt"), "w") as f:
...     _ = f.write("hello")
>>> sorted(gfile.ListDirectory(os.path.join(root, "logs")))
['notes.txt', 'run1']
>>> gfile.Exists(os.path.join(root, "logs", "notes.txt")), gfile.Stat(
...     os.path.join(root, "logs", "notes.txt")).length
(True, 5)
>>> gfile.DeleteRecursively(os.path.join(root, "logs")); gfile.Exists(os.path.join(root, "logs"))
False
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
from dataclasses import dataclass

from flowgraph.errors import AlreadyExistsError, NotFoundError, UnimplementedError

__all__ = [
    "Copy",
    "DeleteRecursively",
    "Exists",
    "FastGFile",
    "GFile",
    "Glob",
    "IsDirectory",
    "ListDirectory",
    "MakeDirs",
    "Mkdir",
    "Open",
    "Remove",
    "Rename",
    "Stat",
    "Walk",
]


def _local(path) -> str:
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode()
    scheme, sep, _ = path.partition("://")
    if sep and scheme != "file":
        raise UnimplementedError(
            message=f"File system scheme '{scheme}' not implemented (file: {path!r}); "
            "flowgraph's gfile works on the local file system only"
        )
    return path[len("file://") :] if sep else path


def _not_found(path, what="") -> NotFoundError:
    return NotFoundError(message=f"{path}; No such file or directory{what}")


def Exists(filename) -> bool:
    """Whether ``filename`` (a file or directory) exists."""
    return os.path.exists(_local(filename))


def IsDirectory(dirname) -> bool:
    """Whether ``dirname`` is a directory."""
    return os.path.isdir(_local(dirname))


def MakeDirs(dirname) -> None:
    """Create ``dirname`` and its missing parents; an existing directory is fine."""
    path = _local(dirname)
    if os.path.exists(path) and not os.path.isdir(path):
        raise AlreadyExistsError(message=f"{path} exists and is not a directory")
    os.makedirs(path, exist_ok=True)


def Mkdir(dirname) -> None:
    """Create the directory ``dirname``; its parent must exist and it must not."""
    path = _local(dirname)
    if os.path.exists(path):
        raise AlreadyExistsError(message=f"{path}; File exists")
    try:
        os.mkdir(path)
    except FileNotFoundError:
        raise _not_found(os.path.dirname(path) or path, " (the parent directory)") from None


def DeleteRecursively(dirname) -> None:
    """Delete ``dirname`` and everything under it (a file is deleted too)."""
    path = _local(dirname)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
    else:
        raise _not_found(path)


def Remove(filename) -> None:
    """Delete the file ``filename``."""
    path = _local(filename)
    try:
        os.remove(path)
    except FileNotFoundError:
        raise _not_found(path) from None


def ListDirectory(dirname) -> list[str]:
    """The names (not paths) of the entries of ``dirname``, without ``.`` and ``..``."""
    path = _local(dirname)
    if not os.path.isdir(path):
        raise _not_found(path, " (not a directory)" if os.path.exists(path) else "")
    return os.listdir(path)


def Glob(filename) -> list[str]:
    """The paths matching the pattern ``filename`` (``*``, ``?``, ``[...]``), sorted."""
    return sorted(_glob.glob(_local(filename)))


def _move_or_copy(action, oldpath, newpath, overwrite):
    old, new = _local(oldpath), _local(newpath)
    if not os.path.exists(old):
        raise _not_found(old)
    if os.path.exists(new) and not overwrite:
        raise AlreadyExistsError(message=f"{new}; File exists (pass overwrite=True to replace it)")
    action(old, new)


def Rename(oldname, newname, overwrite=False) -> None:
    """Rename ``oldname`` to ``newname``; an existing ``newname`` only with ``overwrite``."""
    _move_or_copy(os.replace, oldname, newname, overwrite)


def Copy(oldpath, newpath, overwrite=False) -> None:
    """Copy the file ``oldpath`` to ``newpath``; an existing target only with ``overwrite``."""
    _move_or_copy(shutil.copyfile, oldpath, newpath, overwrite)


def Walk(top, in_order=True):
    """``(dirpath, subdirectory names, file names)`` for ``top`` and every directory under it,
    parents first (``in_order``) or last; nothing when ``top`` does not exist."""
    yield from os.walk(_local(top), topdown=in_order)


@dataclass(frozen=True)
class FileStatistics:
    """What :func:`Stat` returns: TF's ``length``, ``mtime_nsec`` and ``is_directory``."""

    length: int
    mtime_nsec: int
    is_directory: bool


def Stat(filename) -> FileStatistics:
    """Size, modification time (ns) and kind of ``filename``."""
    path = _local(filename)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _not_found(path) from None
    return FileStatistics(st.st_size, st.st_mtime_ns, os.path.isdir(path))


class GFile:
    """A file object (``tf.gfile.GFile(name, mode)``, also ``Open`` and ``FastGFile``):
    ``read``, ``readline``, ``readlines``, iteration, ``write``, ``seek``, ``tell``, ``size``,
    ``flush``, ``close`` and ``with``. Text in ``"r"``/``"w"``/``"a"``, bytes with ``"b"``.

    A missing file opened for reading is NotFoundError; so is writing into a missing directory.
    """

    def __init__(self, name, mode="r"):
        self.name = _local(name)
        self.mode = mode
        try:
            self._f = open(self.name, mode, encoding=None if "b" in mode else "utf-8")  # noqa: SIM115
        except FileNotFoundError:
            raise _not_found(self.name) from None
        except IsADirectoryError:
            raise NotFoundError(message=f"{self.name} is a directory, not a file") from None

    def read(self, n=-1):
        """Read ``n`` characters/bytes, or everything left when ``n`` is -1."""
        return self._f.read(n)

    def readline(self, size=-1):
        """The next line (with its newline), or ``""`` / ``b""`` at the end."""
        return self._f.readline(size)

    def readlines(self, hint=-1):
        """The remaining lines as a list."""
        return self._f.readlines(hint)

    def __iter__(self):
        return iter(self._f)

    def __next__(self):
        return next(self._f)

    def write(self, data):
        """Write ``data`` (str in text mode, bytes in binary mode)."""
        return self._f.write(data)

    def seek(self, offset, whence=0):
        """Move to ``offset`` (from the start, or as ``whence`` says)."""
        return self._f.seek(offset, whence)

    def tell(self):
        """The current position."""
        return self._f.tell()

    def size(self) -> int:
        """The file's current size in bytes."""
        self._f.flush()
        return os.path.getsize(self.name)

    def flush(self):
        """Write buffered data to the file."""
        self._f.flush()

    def close(self):
        """Close the file (``with`` does it for you)."""
        self._f.close()

    @property
    def closed(self) -> bool:
        """Whether the file is closed."""
        return self._f.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


Open = GFile
FastGFile = GFile
