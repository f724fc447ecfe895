"""TF1's ``tf.slice``, ``tf.reverse``, ``tf.matrix_transpose``, ``tf.linspace``, ``tf.sort``
and ``tf.argsort``, built on strided slicing, transposes, ranges and ``top_k`` (so their
gradients are those ops').

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([[1, 2, 3], [4, 5, 6]])
...     fg.Session().run([slice(x, [0, 1], [2, -1]), reverse(x, [1])])
[array([[2, 3],
       [5, 6]], dtype=int32), array([[3, 2, 1],
       [6, 5, 4]], dtype=int32)]
"""

from __future__ import annotations

import builtins
import numbers

from flowgraph.graph import dtypes
from flowgraph.ops import array, math
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.nd_indexing import top_k

__all__ = ["argsort", "linspace", "matrix_transpose", "reverse", "slice", "sort"]


def _ints(values, what: str) -> list[int]:
    if isinstance(values, numbers.Integral):
        values = [values]
    if not isinstance(values, (list, tuple)) or not all(
        isinstance(v, numbers.Integral) for v in values
    ):
        raise TypeError(f"{what} must be a list of Python ints here, got {values!r}")
    return [int(v) for v in values]


def slice(input_, begin, size, name=None):
    """``input_[begin[i] : begin[i] + size[i]]`` along each dimension; a size of -1 takes the
    rest of that dimension (``begin`` and ``size``: lists of ints).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(slice([1, 2, 3, 4], [1], [2]))
    array([2, 3], dtype=int32)
    """
    x = convert_to_tensor(input_)
    begin, size = _ints(begin, "slice: begin"), _ints(size, "slice: size")
    if len(begin) != len(size):
        raise ValueError(f"slice: begin {begin} and size {size} must have the same length")
    if x.shape.rank is not None and len(begin) != x.shape.rank:
        raise ValueError(
            f"slice: begin and size need one entry per dimension of the input ({x.shape.rank}, "
            f"shape {x.shape}), got {len(begin)}"
        )
    if any(s < -1 for s in size) or any(b < 0 for b in begin):
        raise ValueError(f"slice: begin must be >= 0 and size >= -1, got {begin} and {size}")
    key = tuple(builtins.slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return array.identity(x[key], name=name or "Slice")


def reverse(tensor, axis, name=None):
    """``tensor`` with the order of its elements reversed along each dimension in ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(reverse([1, 2, 3], [0]))
    array([3, 2, 1], dtype=int32)
    """
    x = convert_to_tensor(tensor)
    axes = _ints(axis, "reverse: axis")
    rank = x.shape.rank
    if rank is None:
        raise ValueError("reverse needs a tensor of known rank")
    bad = [a for a in axes if not -rank <= a < rank]
    if bad:
        raise ValueError(f"reverse: axis {bad} out of range for a tensor of rank {rank}")
    axes = {a % rank for a in axes}
    key = tuple(
        builtins.slice(None, None, -1) if i in axes else builtins.slice(None) for i in range(rank)
    )
    return array.identity(x[key], name=name or "ReverseV2")


def matrix_transpose(a, name="matrix_transpose"):
    """``a`` with its last two dimensions swapped (batch dimensions stay)."""
    a = convert_to_tensor(a)
    rank = a.shape.rank
    if rank is None or rank < 2:
        raise ValueError(f"matrix_transpose needs rank >= 2, got shape {a.shape}")
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    return array.transpose(a, perm, name=name)


def linspace(start, stop, num, name=None):
    """``num`` evenly spaced values from ``start`` to ``stop``, both included (TF1's
    ``tf.linspace`` / ``lin_space``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(linspace(0.0, 1.0, 5))
    array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    start = convert_to_tensor(start, None if hasattr(start, "dtype") else dtypes.float32)
    stop = math.cast(convert_to_tensor(stop), start.dtype)
    count = int(num)
    if count < 1:
        raise ValueError(f"linspace: num must be at least 1, got {num}")
    steps = math.cast(array.range(count), start.dtype)
    spacing = (stop - start) / float(builtins.max(count - 1, 1))
    return math.add(start, steps * spacing, name=name or "LinSpace")


def _sort_via_top_k(values, axis, direction, what):
    x = convert_to_tensor(values)
    rank = x.shape.rank
    if rank is None or x.shape.dims[axis] is None:
        raise ValueError(f"{what} needs a known size along axis {axis}, got shape {x.shape}")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(
            f"{what}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}"
        )
    axis %= rank
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = array.transpose(x, perm) if axis != rank - 1 else x
    n = x.shape.dims[axis]
    if direction == "DESCENDING":
        top, indices = top_k(moved, n)
    else:
        top, indices = top_k(-moved, n)
        top = -top
    if axis != rank - 1:
        top, indices = array.transpose(top, perm), array.transpose(indices, perm)
    return top, indices


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis`` (TF's ``tf.sort``; built on ``top_k``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(sort([3.0, 1.0, 2.0], direction="DESCENDING"))
    array([3., 2., 1.], dtype=float32)
    """
    top, _ = _sort_via_top_k(values, axis, direction, "sort")
    return array.identity(top, name=name or "sort")


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The indices that sort ``values`` along ``axis`` (int32; ties keep the lower index
    first when descending, as ``top_k`` does)."""
    _, indices = _sort_via_top_k(values, axis, direction, "argsort")
    return array.identity(indices, name=name or "argsort")
