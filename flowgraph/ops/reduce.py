"""Reductions: sum, mean, max, min, prod, any, all over some axes, and argmax / argmin.

``axis`` is an int, a list/tuple of ints (negative counts from the end) or ``None`` for all
axes; it is stored on the op as a tuple (or ``None``). ``keepdims`` keeps reduced axes as size 1.
The result keeps the input's dtype, as in TensorFlow: integer sums wrap around in the input
dtype and the mean of an integer tensor is an integer (the sum divided by the count, truncated
toward zero like TF's C++ division).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 3])
...     total = fg.reduce_sum(x, axis=1, keepdims=True)
...     print(total.shape)
...     fg.Session().run(total, feed_dict={x: [[1, 2, 3], [4, 5, 6]]})
[?,1]
array([[ 6.],
       [15.]], dtype=float32)
"""

from __future__ import annotations

import operator
from math import prod

from flowgraph.errors import DTypeError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import math, namespace, rules
from flowgraph.ops.broadcast import broadcast_to_shape_of
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.gradient_ops import keep_reduced_dims, mean_grad, prod_of_others
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "argmax",
    "argmin",
    "reduce_all",
    "reduce_any",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_sum",
]


# ---- shape rules ------------------------------------------------------------------------


def _normalized_axes(axis: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """``axis`` as non-negative axes of a rank-``rank`` tensor; ShapeError when out of range."""
    out = []
    for a in axis:
        if not -rank <= a < rank:
            valid = f"[{-rank}, {rank})" if rank else "none (the input is a scalar)"
            raise ShapeError(
                f"axis {a} is out of range for a tensor of rank {rank}; valid axes: {valid}"
            )
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise ShapeError(f"axis {list(axis)} names the same dimension more than once")
    return tuple(out)


def _reduced_shape(shape: TensorShape, axis, keepdims: bool) -> TensorShape:
    if axis is not None and len(set(axis)) != len(axis):
        raise ShapeError(f"axis {list(axis)} has duplicate entries")
    if shape.rank is None:
        # Without keepdims a full reduction is a scalar whatever the input's rank.
        return TensorShape([]) if axis is None and not keepdims else TensorShape(None)
    axes = range(shape.rank) if axis is None else _normalized_axes(axis, shape.rank)
    if keepdims:
        return TensorShape(1 if i in axes else d for i, d in enumerate(shape.dims))
    return TensorShape(d for i, d in enumerate(shape.dims) if i not in axes)


def _reduction_infer(kind: str, out_dtype=None):
    """The rule of a reduction over inputs of dtype ``kind`` ("numeric" or "bool")."""

    def infer(inputs, attrs):
        """The input's dtype (or the op's output dtype), its shape without the reduced axes
        (kept as size 1 with ``keepdims``); the input must be of the reduction's kind."""
        x = inputs[0]
        rules.require_kind(x, kind, "input_tensor")
        shape = _reduced_shape(x.shape, attrs["axis"], attrs["keepdims"])
        return [(out_dtype or x.dtype, shape)]

    return infer


def _arg_infer(inputs, attrs):
    x = inputs[0]
    rules.require_kind(x, "numeric", "input")
    out_dtype = attrs["output_type"]
    if out_dtype not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"output_type must be int32 or int64, not {out_dtype.name}")
    if x.shape.rank is None:
        return [(out_dtype, TensorShape(None))]
    (axis,) = _normalized_axes((attrs["axis"],), x.shape.rank)
    return [(out_dtype, TensorShape(d for i, d in enumerate(x.shape.dims) if i != axis))]


# ---- kernels (only through the array namespace ``xp``) ---------------------------------


def _sum(xp, x, *, axis, keepdims):
    return xp.sum(x, axis=axis, dtype=x.dtype, keepdims=keepdims)


def _prod(xp, x, *, axis, keepdims):
    return xp.prod(x, axis=axis, dtype=x.dtype, keepdims=keepdims)


def _is_floating(xp, dtype) -> bool:
    names = ("float16", "float32", "float64")
    return any(dtype == getattr(xp, n) for n in names if hasattr(xp, n))


def _mean(xp, x, *, axis, keepdims):
    if _is_floating(xp, x.dtype):
        return namespace.astype(xp, xp.mean(x, axis=axis, keepdims=keepdims), x.dtype)
    # Integer mean as TF computes it: the sum in the input dtype divided by the count,
    # truncating toward zero (C++ division). Dividing in 64 bits keeps a count larger than the
    # input dtype can hold from overflowing.
    total = xp.sum(x, axis=axis, dtype=x.dtype, keepdims=keepdims)
    count = prod(x.shape) if axis is None else prod(x.shape[a] for a in axis)
    wide = namespace.astype(xp, total, xp.int64 if xp.iinfo(x.dtype).min < 0 else xp.uint64)
    return namespace.astype(xp, xp.abs(wide) // max(count, 1) * xp.sign(wide), x.dtype)


def _max(xp, x, *, axis, keepdims):
    return xp.max(x, axis=axis, keepdims=keepdims)


def _min(xp, x, *, axis, keepdims):
    return xp.min(x, axis=axis, keepdims=keepdims)


def _any(xp, x, *, axis, keepdims):
    return xp.any(x, axis=axis, keepdims=keepdims)


def _all(xp, x, *, axis, keepdims):
    return xp.all(x, axis=axis, keepdims=keepdims)


def _argmax(xp, x, *, axis, output_type):
    return namespace.astype(xp, xp.argmax(x, axis=axis), namespace.dtype_of(xp, output_type))


def _argmin(xp, x, *, axis, output_type):
    return namespace.astype(xp, xp.argmin(x, axis=axis), namespace.dtype_of(xp, output_type))


_REDUCE_ATTRS = {"axis": None, "keepdims": False}
define_op(
    "Sum",
    _reduction_infer("numeric"),
    kernel=_sum,
    attrs=_REDUCE_ATTRS,
    specs_only_infer=True,
)
define_op(
    "Mean",
    _reduction_infer("numeric"),
    kernel=_mean,
    attrs=_REDUCE_ATTRS,
    specs_only_infer=True,
)
define_op(
    "Max",
    _reduction_infer("numeric"),
    kernel=_max,
    attrs=_REDUCE_ATTRS,
    specs_only_infer=True,
)
define_op(
    "Min",
    _reduction_infer("numeric"),
    kernel=_min,
    attrs=_REDUCE_ATTRS,
    specs_only_infer=True,
)
define_op(
    "Prod",
    _reduction_infer("numeric"),
    kernel=_prod,
    attrs=_REDUCE_ATTRS,
    specs_only_infer=True,
)
define_op(
    "Any",
    _reduction_infer("bool", dtypes.bool_),
    kernel=_any,
    attrs=_REDUCE_ATTRS,
    differentiable=False,
)
define_op(
    "All",
    _reduction_infer("bool", dtypes.bool_),
    kernel=_all,
    attrs=_REDUCE_ATTRS,
    differentiable=False,
)
_ARG_ATTRS = {"axis": 0, "output_type": dtypes.int64}
define_op("ArgMax", _arg_infer, kernel=_argmax, attrs=_ARG_ATTRS, differentiable=False)
define_op("ArgMin", _arg_infer, kernel=_argmin, attrs=_ARG_ATTRS, differentiable=False)


# ---- public functions -------------------------------------------------------------------


def _one_of(new, new_name: str, old, old_name: str):
    """TF's deprecated-argument lookup: either spelling, never both."""
    if old is not None:
        if new is not None:
            raise ValueError(f"Cannot specify both {new_name!r} and {old_name!r}")
        return old
    return new


def _is_int(value) -> bool:
    return hasattr(value, "__index__") and not isinstance(value, (bool, Tensor))


def _axis_attr(axis) -> tuple[int, ...] | None:
    """``axis`` as the op stores it: None, or a tuple of Python ints."""
    if axis is None:
        return None
    if hasattr(axis, "tolist"):  # a NumPy integer or array of axes
        axis = axis.tolist()
    items = (axis,) if _is_int(axis) else axis
    if not isinstance(items, (list, tuple, range)) or not all(_is_int(a) for a in items):
        raise TypeError(f"axis must be an int, a list or tuple of ints, or None; got {axis!r}")
    return tuple(operator.index(a) for a in items)


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    axis = _one_of(axis, "axis", reduction_indices, "reduction_indices")
    keepdims = _one_of(keepdims, "keepdims", keep_dims, "keep_dims")
    attrs = {"axis": _axis_attr(axis), "keepdims": bool(keepdims)}
    return apply_op(op_type, [convert_to_tensor(input_tensor)], attrs, name=name or op_type)


def reduce_sum(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Sum of elements across ``axis`` (all axes when None), in the input's dtype.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.reduce_sum(fg.constant([[1, 2], [3, 4]]), axis=0))
    array([4, 6], dtype=int32)
    """
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Mean of elements across ``axis``; an integer tensor's mean is an integer, as in TF.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(*fg.Session().run([fg.reduce_mean([1.0, 2.0]), fg.reduce_mean([1, 2])]))
    1.5 1
    """
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Maximum of elements across ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.reduce_max(fg.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1))
    array([5., 3.], dtype=float32)
    """
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Minimum of elements across ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.reduce_min(fg.constant([[1.0, 5.0], [3.0, 2.0]]), axis=-1))
    array([1., 2.], dtype=float32)
    """
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Product of elements across ``axis``, in the input's dtype.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.reduce_prod(fg.constant([[1, 2], [3, 4]]), keepdims=True))
    array([[24]], dtype=int32)
    """
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Logical or of a bool tensor's elements across ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.reduce_any(fg.constant([[True, False], [False, False]]), 1))
    array([ True, False])
    """
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(
    input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
):
    """Logical and of a bool tensor's elements across ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.reduce_all(fg.constant([[True, False], [True, True]]), 1))
    array([False,  True])
    """
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def _arg(op_type, input, axis, name, dimension, output_type):
    axis = _one_of(axis, "axis", dimension, "dimension")
    axis = 0 if axis is None else axis  # TF1's default
    if not _is_int(axis):
        raise TypeError(f"{op_type}: axis must be a single int, not {axis!r}")
    attrs = {"axis": operator.index(axis), "output_type": as_dtype(output_type)}
    return apply_op(op_type, [convert_to_tensor(input)], attrs, name=name or op_type)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """Index of the largest value along ``axis`` (0 when None, as in TF1); the first on ties.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.argmax(fg.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1))
    array([1, 0])
    """
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """Index of the smallest value along ``axis`` (0 when None, as in TF1); the first on ties.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.argmin([[1, 5], [3, 2]], output_type=fg.int32))
    array([0, 1], dtype=int32)
    """
    return _arg("ArgMin", input, axis, name, dimension, output_type)


# ---- gradients ----------------------------------------------------------------------------
# Each rule returns a gradient of the input's full shape: the output gradient gets its reduced
# axes back (as size 1) and is broadcast over them.


def _with_kept_dims(op, t):
    """``t`` (shaped like ``op``'s output) with the reduced axes present as size 1."""
    if op.attrs["keepdims"]:
        return t
    return keep_reduced_dims(t, op.inputs[0], op.attrs["axis"])


@gradient("Sum")
def _sum_grad(op, grad):
    """dx = g broadcast back over the reduced axes."""
    return [broadcast_to_shape_of(_with_kept_dims(op, grad), op.inputs[0])]


@gradient("Mean")
def _mean_grad(op, grad):
    """dx = g divided by the number of elements averaged, broadcast over the reduced axes
    (one MeanGrad op)."""
    x = op.inputs[0]
    if not x.dtype.is_floating:
        return [None]
    return [mean_grad(grad, x, op.attrs["axis"])]


def _min_or_max_grad(op, grad):
    """The gradient goes to the elements equal to the result, split equally among ties (TF)."""
    x = op.inputs[0]
    if not x.dtype.is_floating:
        return [None]
    y, grad = _with_kept_dims(op, op.outputs[0]), _with_kept_dims(op, grad)
    selected = math.cast(math.equal(y, x), grad.dtype)
    ties = reduce_sum(selected, axis=op.attrs["axis"], keepdims=True)
    return [math.multiply(math.real_div(selected, ties), grad)]


gradient("Max")(_min_or_max_grad)
gradient("Min")(_min_or_max_grad)


@gradient("Prod")
def _prod_grad(op, grad):
    """dx = g * (product of the other reduced elements), exact at zeros."""
    # prod_of_others divides nothing, so zeros in x get exact gradients, as TF's cumprod-based
    # rule gives: in [2, 0, 3] only the 0 gets a nonzero gradient (6).
    x = op.inputs[0]
    return [math.multiply(_with_kept_dims(op, grad), prod_of_others(x, op.attrs["axis"]))]
