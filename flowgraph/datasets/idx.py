"""A small reader for the IDX file format that MNIST is distributed in, gzipped or not.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the data in
C order. The magic number is ``0x00 0x00 <type code> <number of dims>``, so MNIST image files
(unsigned bytes, 3 dims) start with 2051 and label files (unsigned bytes, 1 dim) with 2049.

Every problem is reported as an :class:`IDXError` (a ``ValueError``) naming the file and what is
wrong with it, because "cannot reshape array of size 7 into shape (28,28)" does not tell a
student which of four downloads is broken.

>>> import numpy as np
>>> raw = to_idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
>>> print(idx_magic(raw))
2050
>>> parse_idx(raw, "example").tolist()
[[0, 1, 2], [3, 4, 5]]
"""

from __future__ import annotations

import gzip
import struct
import zlib
from os import PathLike
from pathlib import Path

import numpy as np

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "IDXError",
    "idx_magic",
    "parse_idx",
    "read_idx",
    "to_idx_bytes",
]

IMAGES_MAGIC = 2051  # unsigned bytes, 3 dims: [count, rows, cols]
LABELS_MAGIC = 2049  # unsigned bytes, 1 dim: [count]

# IDX type code -> big-endian NumPy dtype, as in LeCun's description of the format.
_TYPE_CODES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An IDX file is unreadable: corrupt, truncated, or not the kind of file expected."""


def idx_magic(data: bytes) -> int:
    """The magic number at the start of uncompressed IDX ``data`` (2051 images, 2049 labels).

    >>> print(idx_magic(bytes([0, 0, 8, 1, 0, 0, 0, 0])))
    2049
    """
    if len(data) < 4:
        raise IDXError(f"only {len(data)} bytes: too short for an IDX magic number")
    return struct.unpack(">I", data[:4])[0]


def parse_idx(data: bytes, name: str, expected_magic: int | None = None) -> np.ndarray:
    """Parse the bytes of an IDX file (gzipped or not) into a NumPy array of its shape.

    ``name`` is used in error messages only (a file name or path). With ``expected_magic``,
    a file of another kind (e.g. a label file where images were expected) is rejected.
    The result is a writable native-byte-order array that owns its memory.

    >>> arr = parse_idx(to_idx_bytes(np.zeros((4, 2, 2), np.uint8), compress=True), "x.gz")
    >>> arr.shape, arr.dtype.name
    ((4, 2, 2), 'uint8')
    >>> parse_idx(b"\\0\\0\\x08\\x01\\0\\0\\0\\x05\\1\\2", "short")
    Traceback (most recent call last):
    ...
    flowgraph.datasets.idx.IDXError: short: truncated: the header promises 5 items (5 bytes) ...
    """
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except EOFError as e:  # the deflate stream stops early
            raise IDXError(f"{name}: truncated gzip stream ({e})") from e
        except (OSError, zlib.error) as e:
            raise IDXError(f"{name}: corrupt gzip data ({e})") from e
    if len(data) < 4:
        raise IDXError(f"{name}: truncated: only {len(data)} bytes, not even a magic number")
    magic = idx_magic(data)
    zero, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(
            f"{name}: wrong magic number {magic}{_kind(magic)}, "
            f"expected {expected_magic}{_kind(expected_magic)}"
        )
    if zero != 0 or type_code not in _TYPE_CODES:
        raise IDXError(f"{name}: bad magic number {magic:#010x}: not an IDX file")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IDXError(
            f"{name}: truncated header: {ndim} dimensions need {header_len} bytes, "
            f"file has {len(data)}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _TYPE_CODES[type_code]
    count = int(np.prod(dims, dtype=np.int64))
    expected = count * dtype.itemsize
    got = len(data) - header_len
    shape = "x".join(map(str, dims))
    if got < expected:
        raise IDXError(
            f"{name}: truncated: the header promises {count} items ({expected} bytes) "
            f"for dims {shape}, but only {got} bytes follow"
        )
    if got > expected:
        raise IDXError(
            f"{name}: dims {shape} do not match the data length: "
            f"{got} bytes of data, {expected} expected ({got - expected} extra)"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header_len)
    return arr.reshape(dims).astype(dtype.newbyteorder("="))  # copies: writable, owned


def read_idx(path: str | PathLike[str], expected_magic: int | None = None) -> np.ndarray:
    """Read the IDX file at ``path`` (``.gz`` or not: gzip is detected from the content).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> _ = open(path, "wb").write(to_idx_bytes(np.array([3, 1, 4], np.uint8)))
    >>> read_idx(path, LABELS_MAGIC).tolist()
    [3, 1, 4]
    """
    path = Path(path)
    return parse_idx(path.read_bytes(), str(path), expected_magic)


def to_idx_bytes(array: np.ndarray, compress: bool = False) -> bytes:
    """Encode ``array`` as IDX bytes (gzipped with ``compress``): the inverse of :func:`parse_idx`.

    Handy for writing test files and small custom data sets in MNIST's format.

    >>> to_idx_bytes(np.array([7], np.uint8))
    b'\\x00\\x00\\x08\\x01\\x00\\x00\\x00\\x01\\x07'
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in _TYPE_CODES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(
            f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, "
            "int16, int32, float32, float64"
        )
    header = struct.pack(">BBBB", 0, 0, codes[native], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    return gzip.compress(raw, mtime=0) if compress else raw


def _kind(magic: int) -> str:
    return {IMAGES_MAGIC: " (an image file)", LABELS_MAGIC: " (a label file)"}.get(magic, "")
