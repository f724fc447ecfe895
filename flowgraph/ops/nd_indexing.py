"""Ops that address tensors by position: running sums along an axis, N-d gather and scatter,
and top-k. Each op's kernel, shape rule and gradient live here.

- ``Cumsum`` — running sums along an axis (exclusive / reverse); its gradient is the running
  sum of the gradient in the other direction;
- ``GatherNd`` / ``ScatterNd`` — index with (or add into) the last axis of ``indices`` as
  coordinates; each one's gradient is the other;
- ``TopKV2`` — the ``k`` largest entries along the last axis and their indices; the values'
  gradient goes back to the chosen positions (a ScatterNd), the indices get none.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
...     values, indices = top_k(x, k=2)
...     sess = fg.Session()
...     print(sess.run(cumsum(x, axis=1)).tolist(), sess.run(indices).tolist())
...     print(sess.run(gather_nd(x, [[0, 1], [1, 2]])).tolist())
[[1.0, 6.0, 9.0], [4.0, 6.0, 12.0]] [[1, 2], [2, 0]]
[5.0, 6.0]
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, math, namespace, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import python_scalar, static_value
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = ["TopKV2", "cumsum", "gather_nd", "scatter_nd", "top_k"]


# ---- Cumsum ----------------------------------------------------------------------------------


def _cumsum_infer(inputs, attrs):
    rules.require_kind(inputs[0], "numeric", "x")
    rules.normalize_axis(attrs["axis"], inputs[0].shape.rank)
    return rules.same_as_input(inputs, attrs)


def _cumsum_kernel(xp, x, *, axis, exclusive, reverse):
    axis %= max(x.ndim, 1)
    if reverse:
        x = xp.flip(x, axis=axis)
    out = namespace.fn(xp, "cumulative_sum", "cumsum")(x, axis=axis, dtype=x.dtype)
    if exclusive:  # shift by one: the sum of the entries strictly before each one
        head = [slice(None)] * x.ndim
        head[axis] = slice(0, 1)
        body = list(head)
        body[axis] = slice(0, -1)
        parts = [xp.zeros_like(x[tuple(head)]), out[tuple(body)]]
        out = namespace.fn(xp, "concat", "concatenate")(parts, axis=axis)
    return xp.flip(out, axis=axis) if reverse else out


define_op(
    "Cumsum",
    _cumsum_infer,
    kernel=_cumsum_kernel,
    attrs={"axis": 0, "exclusive": False, "reverse": False},
)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running sums of ``x`` along ``axis``: ``[a, a+b, a+b+c]``; ``exclusive`` gives
    ``[0, a, a+b]``, ``reverse`` sums from the end.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(cumsum([1, 2, 3], exclusive=True, reverse=True))
    array([5, 3, 0], dtype=int32)
    """
    attrs = {
        "axis": int(python_scalar(axis, "cumsum axis")),
        "exclusive": bool(exclusive),
        "reverse": bool(reverse),
    }
    return apply_op("Cumsum", [convert_to_tensor(x)], attrs, name=name or "Cumsum")


@gradient("Cumsum")
def _cumsum_grad(op, grad):
    """dx = cumsum(g) in the opposite direction (same exclusive flag)."""
    a = op.attrs
    return [cumsum(grad, a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])]


# ---- GatherNd and ScatterNd ------------------------------------------------------------------


def _index_depth(indices) -> int:
    rules.require_kind(indices, "int", "indices")
    if indices.shape.rank == 0:
        raise ShapeError("indices must have rank at least 1")
    depth = indices.shape[-1] if indices.shape.rank is not None else None
    if depth is None:
        raise ShapeError("the last dimension of indices must be known when building the graph")
    return depth


def _joined(head: TensorShape, tail_dims) -> TensorShape:
    """``head`` without its last dim, followed by ``tail_dims`` (None: unknown rank)."""
    if head.rank is None or tail_dims is None:
        return TensorShape(None)
    return TensorShape(tuple(head.dims[:-1]) + tuple(tail_dims))


def _gather_nd_infer(inputs, attrs):
    params, indices = inputs
    depth = _index_depth(indices)
    if params.shape.rank is not None and depth > params.shape.rank:
        raise ShapeError(f"indices index {depth} dims into params of rank {params.shape.rank}")
    tail = None if params.shape.rank is None else params.shape.dims[depth:]
    return [(params.dtype, _joined(indices.shape, tail))]


def _coordinates(xp, indices, shape, what):
    """The index tuple for ``indices``' last axis, after checking each lies inside ``shape``."""
    depth = indices.shape[-1]
    bounds = xp.asarray(shape[:depth], dtype=indices.dtype)
    rows = xp.reshape(indices, (-1, depth))
    outside = xp.any((rows < 0) | (rows >= bounds), axis=1)
    if bool(xp.any(outside)):
        bad = rows[int(xp.argmax(namespace.astype(xp, outside, xp.int8))), ...]  # (numbers)
        raise InvalidArgumentError(
            message=f"{what}: index {[int(i) for i in bad]} is not inside shape {list(shape)}"
        )
    return tuple(indices[..., i] for i in range(depth))


def _gather_nd_kernel(xp, params, indices):
    where = _coordinates(xp, indices, params.shape, "GatherNd")
    if namespace.numpy_like(xp):
        return params[where]
    # The array API indexes with integer arrays only on every axis: take rows of the
    # leading axes flattened into one.
    depth, shape = len(where), params.shape
    flat = xp.zeros(indices.shape[:-1], dtype=indices.dtype)
    for axis in range(depth):
        flat = flat * shape[axis] + where[axis]
    rows = xp.reshape(params, (int(np.prod(shape[:depth])),) + shape[depth:])
    taken = xp.take(rows, xp.reshape(flat, (-1,)), axis=0)
    return xp.reshape(taken, indices.shape[:-1] + shape[depth:])


define_op("GatherNd", _gather_nd_infer, kernel=_gather_nd_kernel)


def gather_nd(params, indices, name=None, batch_dims=0):
    """``params`` indexed by the rows of ``indices``: the last axis of ``indices`` holds
    coordinates into the first dims of ``params``; the rest of ``params`` comes along.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(gather_nd([[1, 2], [3, 4]], [[1], [0]]))
    array([[3, 4],
           [1, 2]], dtype=int32)
    """
    if batch_dims:
        raise NotImplementedError("gather_nd: batch_dims is not supported")
    inputs = [convert_to_tensor(params), convert_to_tensor(indices)]
    return apply_op("GatherNd", inputs, name=name or "GatherNd")


def _scatter_nd_infer(inputs, attrs):
    indices, updates, shape = inputs
    depth = _index_depth(indices)
    rules.require_kind(shape, "int", "shape")
    rules.require_rank(shape, 1, "shape")
    value = static_value(shape)
    if value is not None:
        out = TensorShape([int(d) for d in value])
    else:
        out = TensorShape(None if shape.shape[0] is None else [None] * shape.shape[0])
    if out.rank is not None:
        if depth > out.rank:
            raise ShapeError(f"indices index {depth} dims into a shape of rank {out.rank}")
        expected = _joined(indices.shape, out.dims[depth:])
        if not updates.shape.is_compatible_with(expected):
            raise ShapeError(f"updates must have shape {expected}, got {updates.shape}")
    return [(updates.dtype, out)]


def scatter_nd_kernel(xp, indices, updates, shape):
    """ScatterNd's kernel (also the gradient of GatherNd): ``updates`` added into zeros
    of ``shape`` at ``indices``, repeated indices summed."""
    shape = tuple(int(d) for d in shape)
    where = _coordinates(xp, indices, shape, "ScatterNd")
    out = xp.zeros(shape, dtype=updates.dtype)
    add_at = getattr(xp.add, "at", None)  # NumPy's and CuPy's ufunc.at; not array-API
    if add_at is not None:
        add_at(out, where, updates)  # unbuffered: repeated indices add up
        return out
    # Another array-API namespace: the scatter-add as a one-hot product over flat positions.
    depth = len(where)
    rows = int(np.prod(shape[:depth]))
    flat = xp.zeros(indices.shape[:-1], dtype=indices.dtype)
    for axis in range(depth):
        flat = flat * shape[axis] + where[axis]
    hot = namespace.astype(xp, xp.reshape(flat, (-1, 1)) == xp.arange(rows), updates.dtype)
    values = xp.reshape(updates, (hot.shape[0], -1))
    return xp.reshape(xp.matmul(hot.T, values), shape)


define_op("ScatterNd", _scatter_nd_infer, kernel=scatter_nd_kernel)


def scatter_nd(indices, updates, shape, name=None):
    """Zeros of ``shape`` with ``updates`` added at the coordinates ``indices`` (repeated
    coordinates add up): the adjoint of :func:`gather_nd`.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(scatter_nd([[1], [3], [1]], [1.0, 2.0, 4.0], [4]))
    array([0., 5., 0., 2.], dtype=float32)
    """
    inputs = [convert_to_tensor(indices), convert_to_tensor(updates), convert_to_tensor(shape)]
    return apply_op("ScatterNd", inputs, name=name or "ScatterNd")


def _shape_of(t):
    """``t``'s shape as a constant when fully known (keeps shapes static), else at run time."""
    if t.shape.is_fully_defined():
        return t.shape.as_list()
    return array.shape(t)


@gradient("GatherNd")
def _gather_nd_grad(op, grad):
    """dparams = scatter_nd(indices, g, shape of params) (repeats add up); none for indices."""
    params, indices = op.inputs
    return [scatter_nd(indices, grad, _shape_of(params)), None]


@gradient("ScatterNd")
def _scatter_nd_grad(op, grad):
    """dupdates = gather_nd(g, indices); none for indices and shape."""
    return [None, gather_nd(grad, op.inputs[0]), None]


# ---- TopKV2 ----------------------------------------------------------------------------------


TopKV2 = namedtuple("TopKV2", ["values", "indices"])


def _top_k_infer(inputs, attrs):
    x, k = inputs[0], attrs["k"]
    rules.require_kind(x, "numeric", "input")
    if x.shape.rank == 0:
        raise ShapeError("input must have rank at least 1")
    if k < 0:
        raise ShapeError(f"k must be non-negative, got {k}")
    if x.shape.rank is None:
        return [(x.dtype, TensorShape(None)), (dtypes.int32, TensorShape(None))]
    if x.shape[-1] is not None and x.shape[-1] < k:
        raise ShapeError(f"input must have at least k={k} columns, has {x.shape[-1]}")
    out = TensorShape(x.shape.dims[:-1] + (k,))
    return [(x.dtype, out), (dtypes.int32, out)]


def _top_k_kernel(xp, x, *, k, sorted):
    n = x.shape[-1]
    # Sort the reversed row ascending (stable) and read it backwards: descending order with
    # ties in index order, as TF; no negation, so unsigned and extreme values are safe.
    flipped = xp.flip(x, axis=-1)
    try:
        order = xp.argsort(flipped, axis=-1, stable=True)
    except TypeError:  # namespaces without the keyword sort stably by default
        order = xp.argsort(flipped, axis=-1)
    indices = (n - 1) - xp.flip(order, axis=-1)[..., :k]
    values = xp.take_along_axis(x, indices, axis=-1)
    return values, namespace.astype(xp, indices, xp.int32)


define_op("TopKV2", _top_k_infer, kernel=_top_k_kernel, attrs={"k": 1, "sorted": True})


def top_k(input, k=1, sorted=True, name=None):
    """The ``k`` largest entries of each row (last axis) of ``input``, largest first, and
    their int32 indices (ties: the lower index first). Returns ``(values, indices)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     values, indices = top_k([[3.0, 1.0, 3.0, 7.0]], k=3)
    ...     fg.Session().run([values, indices])
    [array([[7., 3., 3.]], dtype=float32), array([[3, 0, 2]], dtype=int32)]
    """
    attrs = {"k": int(python_scalar(k, "top_k k")), "sorted": bool(sorted)}
    values, indices = apply_op("TopKV2", [convert_to_tensor(input)], attrs, name=name or "TopKV2")
    return TopKV2(values, indices)


@gradient("TopKV2")
def _top_k_grad(op, grad_values, grad_indices):
    """dx = the values' g scattered back to the positions of the top k; none for indices."""
    if grad_values is None:
        return [None]
    x, indices = op.inputs[0], op.outputs[1]
    k = op.attrs["k"]
    n = x.shape[-1] if x.shape.rank is not None and x.shape[-1] is not None else array.shape(x)[-1]
    total = array.size(x)
    # Each row's chosen positions, as flat offsets into x: row * n + index.
    rows = array.reshape(indices, [-1, k])
    starts = array.expand_dims(array.range(0, total, n), 1)
    flat = array.reshape(math.add(rows, starts), [-1, 1])
    updates = array.reshape(grad_values, [-1])
    dx = scatter_nd(flat, updates, array.reshape(total, [1]))
    return [array.reshape(dx, _shape_of(x))]
