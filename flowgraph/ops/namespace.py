"""Helpers for kernels written against any array namespace ``xp``.

Kernels call the array-API standard's functions on the ``xp`` they are handed. Where NumPy and
CuPy spell a function differently from the standard (``concatenate`` / ``concat``), or have one
the standard lacks (``pad``, ``ufunc.at``), these helpers pick what ``xp`` has and fall back to
standard building blocks otherwise; NumPy keeps its fast paths.

>>> import numpy as np
>>> pad(np, np.array([1, 2, 3]), ((2, 1),), mode="REFLECT").tolist()
[3, 2, 1, 2, 3, 2]
>>> matrix_transpose(np, np.ones((2, 3, 4))).shape
(2, 4, 3)
"""

from __future__ import annotations

_NUMPY_LIKE = frozenset({"numpy", "cupy"})


def numpy_like(xp) -> bool:
    """Whether ``xp`` is NumPy or CuPy: NumPy's full indexing (out-of-bounds slice bounds,
    ``None`` in assignments) and ufuncs with ``out``; other namespaces get the standard's."""
    return getattr(xp, "__name__", None) in _NUMPY_LIKE


def in_bounds(index: tuple, shape: tuple) -> tuple:
    """A basic index (ints, slices, None, one Ellipsis) with every slice's bounds clipped to
    its axis, as the array-API standard requires (NumPy clips them itself).

    >>> in_bounds((slice(-100, 100), None, slice(None, None, -1), Ellipsis), (3, 2))
    (slice(0, 3, 1), None, slice(1, None, -1), Ellipsis)
    """
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis)
    axis, out = 0, []
    for item in index:
        if item is Ellipsis:
            axis += len(shape) - consumed
        elif item is not None:
            if isinstance(item, slice):
                item = _clipped(item, shape[axis])
            axis += 1
        out.append(item)
    return tuple(out)


def _clipped(s: slice, n: int) -> slice:
    start, stop, step = s.indices(n)
    if not len(range(start, stop, step)):
        return slice(0, 0, 1)
    if step < 0 and stop < 0:
        stop = None  # -1 from indices() means "before the first element", not "the last"
    return slice(start, stop, step)


def fn(xp, standard: str, legacy: str):
    """``xp.<standard>`` (the array-API name), else ``xp.<legacy>`` (NumPy 1, CuPy)."""
    return getattr(xp, standard, None) or getattr(xp, legacy)


def concat(xp, arrays, axis: int = 0):
    return fn(xp, "concat", "concatenate")(arrays, axis=axis)


def permute_dims(xp, x, axes):
    return fn(xp, "permute_dims", "transpose")(x, tuple(axes))


def matrix_transpose(xp, x):
    """``x`` with its last two axes swapped.

    >>> import numpy as np
    >>> matrix_transpose(np, np.arange(6).reshape(2, 3)).shape
    (3, 2)
    """
    if getattr(x, "ndim", None) == 2:
        # A matrix's ``.T`` (NumPy, CuPy and the array API standard all have it): a view made
        # without a function call, ~1 us less than xp.matrix_transpose; the seed step's
        # backward pass transposes three times.
        return x.T
    transpose = getattr(xp, "matrix_transpose", None)
    if transpose is not None:
        return transpose(x)
    return xp.swapaxes(x, -1, -2)


def astype(xp, x, dtype):
    """``x`` as ``dtype`` (a namespace dtype); array-API namespaces have ``xp.astype``, CuPy
    only the method."""
    convert = getattr(xp, "astype", None)
    return convert(x, dtype) if convert is not None else x.astype(dtype)


def dtype_of(xp, dtype):
    """The namespace's dtype object for a flowgraph DType (``xp.float32``); TypeError naming
    the namespace when it has no such dtype (the strict array API has no float16)."""
    found = getattr(xp, dtype.name, None)
    if found is None:
        found = getattr(xp, dtype.name + "_", None)  # ``bool_`` where there is no ``bool``
    if found is None:
        name = getattr(xp, "__name__", type(xp).__name__)
        raise TypeError(f"The array namespace {name} has no dtype {dtype.name}")
    return found


def copy(xp, x):
    """A new array equal to ``x`` (never a view)."""
    array = getattr(xp, "array", None)  # NumPy, CuPy (whose asarray takes no ``copy``)
    return array(x, copy=True) if array is not None else xp.asarray(x, copy=True)


ALIGNMENT = 64  # bytes: a cache line, and the widest vector load (TF's allocator aligns so too)


def aligned_empty(xp, shape: tuple, dtype):
    """An uninitialized array whose data starts on an :data:`ALIGNMENT` boundary on NumPy
    (whose own allocator gives 16 bytes; vector loops over large arrays run ~5% faster
    aligned); other namespaces' ``empty``, whose allocators align already.

    >>> import numpy as np
    >>> aligned_empty(np, (3, 5), np.float32).ctypes.data % ALIGNMENT
    0
    """
    if getattr(xp, "__name__", None) != "numpy":
        return xp.empty(shape, dtype=dtype)
    dtype = xp.dtype(dtype)
    size = 1
    for n in shape:
        size *= n
    raw = xp.empty(size * dtype.itemsize + ALIGNMENT, dtype=xp.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start : start + size * dtype.itemsize].view(dtype).reshape(shape)


def aligned_copy(xp, x):
    """:func:`copy`, aligned as :func:`aligned_empty` for numeric NumPy arrays of a page or
    more (what a variable stores: the optimizers then update aligned arrays)."""
    if getattr(x, "nbytes", 0) < 4096 or getattr(xp, "__name__", None) != "numpy":
        return copy(xp, x)
    if x.dtype.kind not in "biufc":
        return copy(xp, x)
    out = aligned_empty(xp, x.shape, x.dtype)
    xp.copyto(out, x)
    return out


def is_floating(xp, dtype) -> bool:
    """Whether the namespace dtype ``dtype`` is a real floating-point type."""
    kind = getattr(dtype, "kind", None)  # NumPy and CuPy dtypes
    if kind is not None:
        return kind == "f"
    return xp.isdtype(dtype, "real floating")


def pad(xp, x, widths, mode: str = "CONSTANT", value=0):
    """``x`` padded by ``widths[i] = (before, after)`` on each axis: with ``value``
    (CONSTANT), or mirrored without (REFLECT) or with (SYMMETRIC) the edge element. Uses
    ``xp.pad`` where the namespace has it (NumPy, CuPy), concatenation otherwise."""
    native = getattr(xp, "pad", None)
    if native is not None:
        widths = tuple(tuple(w) for w in widths)
        if mode == "CONSTANT":
            return native(x, widths, mode="constant", constant_values=value)
        return native(x, widths, mode=mode.lower())
    for axis, (before, after) in enumerate(widths):
        if before or after:
            x = _pad_axis(xp, x, axis, before, after, mode, value)
    return x


def _pad_axis(xp, x, axis, before, after, mode, value):
    head = (slice(None),) * axis
    n = x.shape[axis]
    if mode == "CONSTANT":

        def block(count):
            shape = x.shape[:axis] + (count,) + x.shape[axis + 1 :]
            return xp.full(shape, value, dtype=x.dtype)

        parts = [block(before), x, block(after)]
    else:
        skip = 1 if mode == "REFLECT" else 0
        left = x[head + (slice(skip, skip + before), ...)]
        right = x[head + (slice(n - skip - after, n - skip), ...)]
        parts = [xp.flip(left, axis=axis), x, xp.flip(right, axis=axis)]
    return concat(xp, [p for p in parts if p.shape[axis]], axis=axis)
