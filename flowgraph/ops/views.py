"""TF1's ``tf.slice``, ``tf.reverse``, ``tf.matrix_transpose`` and ``tf.linspace``, built on
strided slicing, transposes and ranges (so their gradients are those ops').

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

__all__ = ["linspace", "matrix_transpose", "reverse", "slice"]


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
