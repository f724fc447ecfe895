"""TF1 ops that flowgraph's op families lacked: composites of existing ops, and re-exports of
the few new ops that came with them.

Composites, built only from public ops (so their gradients come from those ops' rules):
``reduce_logsumexp`` (stable: the maximum is subtracted first), ``reciprocal``, ``eye``,
``boolean_mask`` (where + gather), ``embedding_lookup`` (gather on axis 0, sharded too) and the
``to_float`` / ``to_double`` / ``to_int32`` / ``to_int64`` casts.

The new ops live in their own families, and are re-exported here:

- :mod:`flowgraph.ops.nd_indexing` — ``cumsum``, ``gather_nd``, ``scatter_nd``, ``top_k``;
- :mod:`flowgraph.ops.checks` — ``Assert``, ``is_variable_initialized``,
  ``report_uninitialized_variables``.
"""

from __future__ import annotations

import operator

import numpy as np

from flowgraph.graph import dtypes
from flowgraph.graph.context import get_default_graph
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, math, reduce, rules
from flowgraph.ops.checks import (  # noqa: F401 - re-exported
    Assert,
    is_variable_initialized,
    report_uninitialized_variables,
    string,
)
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.gradient_ops import stop_gradient
from flowgraph.ops.nd_indexing import (  # noqa: F401 - re-exported
    TopKV2,
    cumsum,
    gather_nd,
    scatter_nd,
    scatter_nd_kernel,
    top_k,
)

__all__ = [
    "Assert",
    "boolean_mask",
    "cumsum",
    "embedding_lookup",
    "eye",
    "gather_nd",
    "is_variable_initialized",
    "reciprocal",
    "reduce_logsumexp",
    "report_uninitialized_variables",
    "scatter_nd",
    "to_double",
    "to_float",
    "to_int32",
    "to_int64",
    "top_k",
]


def _scope(name, default):
    return get_default_graph().name_scope(name or default)


# ---- composites ------------------------------------------------------------------------------


def reduce_logsumexp(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """``log(sum(exp(x)))`` over ``axis``, computed as ``m + log(sum(exp(x - m)))`` with ``m``
    the (finite) maximum, so large inputs do not overflow. The gradient is the softmax.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     y = reduce_logsumexp(fg.constant([[1000.0, 1000.0], [0.0, 0.0]]), axis=1)
    ...     print([round(float(v), 3) for v in fg.Session().run(y)])
    [1000.693, 0.693]
    """
    keep = bool(keepdims or keep_dims)
    axis = reduction_indices if axis is None else axis
    with _scope(name, "ReduceLogSumExp"):
        x = convert_to_tensor(input_tensor)
        raw_max = reduce.reduce_max(x, axis, keepdims=True)
        # An infinite maximum would give inf - inf = nan; shift by 0 there instead.
        finite = math.less(math.abs(raw_max), float("inf"))
        shift = stop_gradient(math.where(finite, raw_max, array.zeros_like(raw_max)))
        total = reduce.reduce_sum(math.exp(math.subtract(x, shift)), axis, keepdims=keep)
        return math.add(math.log(total), reduce.reduce_sum(shift, axis, keepdims=keep))


def reciprocal(x, name=None):
    """Elementwise ``1 / x`` for float tensors."""
    x = convert_to_tensor(x)
    return math.real_div(convert_to_tensor(1, x.dtype), x, name=name or "Reciprocal")


def to_float(x, name="ToFloat"):
    """``cast(x, float32)`` (TF1's shorthand)."""
    return math.cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    """``cast(x, float64)`` (TF1's shorthand)."""
    return math.cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    """``cast(x, int32)`` (TF1's shorthand)."""
    return math.cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    """``cast(x, int64)`` (TF1's shorthand)."""
    return math.cast(x, dtypes.int64, name=name)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix ``[num_rows, num_columns]`` (square by default), optionally repeated
    over ``batch_shape``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(eye(2, 3, dtype=fg.int32))
    array([[1, 0, 0],
           [0, 1, 0]], dtype=int32)
    """
    dtype = as_dtype(dtype)
    with _scope(name, "eye"):
        rows = array.expand_dims(array.range(num_rows), 1)
        cols = array.expand_dims(array.range(num_rows if num_columns is None else num_columns), 0)
        result = math.cast(math.equal(rows, cols), dtype)
        if batch_shape:
            result = math.multiply(result, array.ones(list(batch_shape) + [1, 1], dtype))
        return result


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The entries of ``tensor`` where ``mask`` is true: ``mask`` covers dims ``axis`` to
    ``axis + mask.rank`` of ``tensor``, which are flattened into one dim of the true count.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     t = fg.constant([[1, 2], [3, 4], [5, 6]])
    ...     fg.Session().run(boolean_mask(t, [True, False, True]))
    array([[1, 2],
           [5, 6]], dtype=int32)
    """
    with _scope(name, "boolean_mask"):
        tensor, mask = convert_to_tensor(tensor), convert_to_tensor(mask)
        rules.require_kind(mask, "bool", "mask")
        k = mask.shape.rank
        if k is None:
            raise ValueError(
                "Number of mask dimensions must be specified, even if some dimensions are None."
            )
        if k == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else operator.index(axis)
        dims = tensor.shape.dims
        if dims is None:
            raise ValueError("boolean_mask needs a tensor of known rank")
        if not TensorShape(dims[axis : axis + k]).is_compatible_with(mask.shape):
            raise ValueError(
                f"Shapes {TensorShape(dims[axis : axis + k])} and {mask.shape} are incompatible"
            )
        outer = list(dims[:axis]) + [-1] + list(dims[axis + k :])
        if None in outer:  # unknown dims: take the run-time shape there
            runtime = array.shape(tensor)
            outer = (
                [runtime[i] if d is None else d for i, d in enumerate(dims[:axis])]
                + [-1]
                + [
                    runtime[axis + k + i] if d is None else d
                    for i, d in enumerate(dims[axis + k :])
                ]
            )
        flat = array.reshape(tensor, outer)
        indices = array.squeeze(math.where(array.reshape(mask, [-1])), axis=[1])
        return array.gather(flat, indices, axis=axis)


def embedding_lookup(
    params, ids, partition_strategy="mod", name=None, validate_indices=True, max_norm=None
):
    """Rows ``ids`` of ``params`` (a gather on axis 0). ``params`` may be a list of shards of
    the table, split by ``partition_strategy`` ``"mod"`` (id ``i`` lives in shard ``i % n``)
    or ``"div"`` (contiguous blocks). With ``max_norm``, rows longer than it are scaled down.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     shards = [fg.constant([[0.0], [2.0]]), fg.constant([[1.0], [3.0]])]  # mod-sharded
    ...     fg.Session().run(embedding_lookup(shards, [3, 0, 2]))
    array([[3.],
           [0.],
           [2.]], dtype=float32)
    """
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("Need at least one param")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    with _scope(name, "embedding_lookup"):
        ids = convert_to_tensor(ids)
        shards = [convert_to_tensor(p) for p in shards]
        if len(shards) == 1:
            table = shards[0]
        else:
            table = array.concat(shards, axis=0)
            if partition_strategy == "mod":
                sizes = [p.shape[0] for p in shards]
                if None in sizes:
                    raise ValueError("embedding_lookup: 'mod' sharding needs shards of known size")
                offsets = convert_to_tensor(np.cumsum([0] + sizes[:-1]), ids.dtype)
                n = len(shards)
                ids = math.add(array.gather(offsets, math.floormod(ids, n)), math.floordiv(ids, n))
        result = array.gather(table, ids)
        if max_norm is not None:
            norm = math.sqrt(reduce.reduce_sum(math.square(result), -1, keepdims=True))
            limit = convert_to_tensor(max_norm, result.dtype)
            result = math.divide(math.multiply(result, limit), math.maximum(norm, limit))
        return result
