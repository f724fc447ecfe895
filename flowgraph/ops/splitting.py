"""Splitting tensors into several: Split (equal pieces or listed sizes), SplitLike (pieces as
long as other tensors are at run time: ConcatV2's gradient) and Unpack (``unstack``), with
their gradients, which join the pieces again with ``concat`` and ``stack`` (zeros for a piece
that got no gradient). ``flowgraph.ops.array`` re-exports the public functions.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.int32, [None, 4])
...     left, right = fg.split(x, 2, axis=1)
...     print(left.shape)
...     fg.Session().run(fg.unstack(right, axis=1), feed_dict={x: [[1, 2, 3, 4]]})
[?,2]
[array([3], dtype=int32), array([4], dtype=int32)]
"""

from __future__ import annotations

import operator

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import zeros_like
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient
from flowgraph.ops.rules import normalize_axis

# ---- Split and Unpack: multi-output ops ---------------------------------------------------
# The executor unpacks a tuple only for ops with several outputs, so a kernel with one output
# returns the bare array; the public functions always return a list.


def _one_or_tuple(parts: tuple):
    return parts[0] if len(parts) == 1 else parts  # () for no outputs


def _outputs(result) -> list:
    if isinstance(result, Tensor):
        return [result]
    return list(result) if isinstance(result, tuple) else []  # an Operation: no outputs


def _resolve_sizes(num_split, size_splits, dim):
    """The piece sizes along the split axis; None entries where ``dim`` is unknown."""
    if num_split is not None:
        if dim is not None and dim % num_split:
            raise ShapeError(f"dimension of size {dim} cannot be split into {num_split} pieces")
        return [None if dim is None else dim // num_split] * num_split
    known = sum(s for s in size_splits if s != -1)
    if dim is not None and (known > dim or (-1 not in size_splits and known != dim)):
        raise ShapeError(f"size_splits {list(size_splits)} do not add up to the dimension {dim}")
    rest = None if dim is None else dim - known
    return [rest if s == -1 else s for s in size_splits]


def _split_infer(inputs, attrs):
    x, num_split, size_splits = inputs[0], attrs["num_split"], attrs["size_splits"]
    if num_split is not None and num_split < 1:
        raise ShapeError(f"num_split must be at least 1, got {num_split}")
    if size_splits is not None and (size_splits.count(-1) > 1 or min(size_splits, default=0) < -1):
        raise ShapeError(f"size_splits {list(size_splits)} must be >= 0, except one -1 at most")
    n = num_split if num_split is not None else len(size_splits)
    if x.shape.rank is None:
        return [(x.dtype, TensorShape(None))] * n
    dims = list(x.shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims))
    specs = []
    for size in _resolve_sizes(num_split, size_splits, dims[axis]):
        specs.append((x.dtype, TensorShape(dims[:axis] + [size] + dims[axis + 1 :])))
    return specs


def _pieces(value, axis: int, sizes):
    head, parts, start = (slice(None),) * axis, [], 0
    for size in sizes:
        parts.append(value[head + (slice(start, start + size), Ellipsis)])
        start += size
    return _one_or_tuple(tuple(parts))


def _split_kernel(xp, value, *, num_split, size_splits, axis):
    axis %= value.ndim
    sizes = _resolve_sizes(num_split, size_splits, value.shape[axis])  # checks at run time too
    return _pieces(value, axis, sizes)


define_op(
    "Split",
    _split_infer,
    kernel=_split_kernel,
    attrs={"num_split": None, "size_splits": None, "axis": 0},
)


def split(value, num_or_size_splits, axis=0, name=None):
    """A list of pieces of ``value`` along ``axis``: ``num_or_size_splits`` equal pieces, or
    pieces of the listed sizes (one may be -1: the rest).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     a, b = fg.split(fg.range(5), [2, -1])
    ...     print(b.shape)
    ...     fg.Session().run([a, b])
    [3]
    [array([0, 1], dtype=int32), array([2, 3, 4], dtype=int32)]
    """
    value = convert_to_tensor(value)
    attrs = {"axis": operator.index(axis)}
    if hasattr(num_or_size_splits, "__index__"):
        attrs["num_split"] = operator.index(num_or_size_splits)
    else:
        attrs["size_splits"] = tuple(operator.index(s) for s in num_or_size_splits)
    return _outputs(apply_op("Split", [value], attrs, name=name or "split"))


def _filled(op, grads) -> list:
    """The gradients of ``op``'s outputs, with zeros for any output that got none."""
    return [zeros_like(t) if g is None else g for g, t in zip(grads, op.outputs)]


@gradient("Split")
def _split_grad(op, *grads):
    """dx = concat of the pieces' gradients (zeros for pieces without one)."""
    from flowgraph.ops.array import concat  # array.py builds on this module

    return [concat(_filled(op, grads), op.attrs["axis"])]


def _split_like_infer(inputs, attrs):
    value, likes = inputs[0], inputs[1:]
    if value.shape.rank is None:
        return [(value.dtype, like.shape) for like in likes]
    dims = list(value.shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims))
    sizes = [None if like.shape.rank is None else like.shape[axis] for like in likes]
    return [(value.dtype, TensorShape(dims[:axis] + [n] + dims[axis + 1 :])) for n in sizes]


def _split_like_kernel(xp, value, *likes, axis):
    axis %= value.ndim
    return _pieces(value, axis, [like.shape[axis] for like in likes])


define_op("SplitLike", _split_like_infer, kernel=_split_like_kernel, attrs={"axis": REQUIRED})


def split_like(value, likes, axis, name=None):
    """ConcatV2's gradient: ``value`` split along ``axis`` into pieces as long as each of
    ``likes`` (the concatenated inputs) is on that axis when the graph runs."""
    inputs = [convert_to_tensor(value)] + [convert_to_tensor(t) for t in likes]
    attrs = {"axis": operator.index(axis)}
    return _outputs(apply_op("SplitLike", inputs, attrs, name=name or "SplitLike"))


@gradient("SplitLike")
def _split_like_grad(op, *grads):
    """dx = concat of the pieces' gradients (zeros for pieces without one)."""
    from flowgraph.ops.array import concat  # array.py builds on this module

    return [concat(_filled(op, grads), op.attrs["axis"])] + [None] * (len(op.inputs) - 1)


def _unstack_infer(inputs, attrs):
    x, num = inputs[0], attrs["num"]
    if x.shape.rank is None:
        return [(x.dtype, TensorShape(None))] * num
    dims = list(x.shape.dims)
    axis = normalize_axis(attrs["axis"], len(dims))
    if dims[axis] is not None and dims[axis] != num:
        raise ShapeError(f"num={num} does not match dimension {axis} of size {dims[axis]}")
    return [(x.dtype, TensorShape(dims[:axis] + dims[axis + 1 :]))] * num


def _unstack_kernel(xp, value, *, num, axis):
    axis %= value.ndim
    if value.shape[axis] != num:
        raise ValueError(f"expected {num} slices along axis {axis}, got {value.shape[axis]}")
    head = (slice(None),) * axis
    return _one_or_tuple(tuple(value[head + (i, Ellipsis)] for i in range(num)))


def _static_num(value, axis: int) -> int:
    rank = value.shape.rank
    if rank is not None and not -rank <= axis < rank:
        return 0  # the op's shape rule reports the bad axis, naming the op
    num = None if rank is None else value.shape[axis]
    if num is None:
        raise ValueError(
            f"Unpack: cannot infer num from shape {value.shape} of {value.name!r} along axis "
            f"{axis}; pass num="
        )
    return num


define_op("Unpack", _unstack_infer, kernel=_unstack_kernel, attrs={"num": REQUIRED, "axis": 0})


def unstack(value, num=None, axis=0, name=None):
    """The list of ``num`` slices of ``value`` along ``axis`` (each without that axis);
    ``num`` defaults to the static size of that axis.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     rows = fg.unstack(fg.constant([[1, 2], [3, 4]]), axis=1)
    ...     fg.Session().run(rows)
    [array([1, 3], dtype=int32), array([2, 4], dtype=int32)]
    """
    value = convert_to_tensor(value)
    num = _static_num(value, axis) if num is None else num
    attrs = {"num": operator.index(num), "axis": operator.index(axis)}
    return _outputs(apply_op("Unpack", [value], attrs, name=name or "unstack"))


@gradient("Unpack")
def _unstack_grad(op, *grads):
    """dx = stack of the pieces' gradients (zeros for pieces without one)."""
    from flowgraph.ops.array import stack  # array.py builds on this module

    return [stack(_filled(op, grads), op.attrs["axis"])]
