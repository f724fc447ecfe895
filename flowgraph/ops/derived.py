"""Ops derived from other ops, so their gradients come from those ops' rules: the stable
``reduce_logsumexp`` (the maximum is subtracted first), ``reciprocal``, the identity matrix
``eye``, and TF1's cast shorthands ``to_float`` / ``to_double`` / ``to_int32`` / ``to_int64``.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     fg.Session().run(reciprocal(to_float(fg.constant([2, 4]))))
array([0.5 , 0.25], dtype=float32)
"""

from __future__ import annotations

from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.dtypes import as_dtype
from flowgraph.ops import array, math, reduce
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.gradient_ops import stop_gradient

__all__ = [
    "eye",
    "reciprocal",
    "reduce_logsumexp",
    "to_double",
    "to_float",
    "to_int32",
    "to_int64",
]


def _scope(name, default):
    return get_default_graph().name_scope(name or default)


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
