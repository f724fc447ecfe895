"""Tensors made from shapes and values: a tensor's run-time shape, size and rank; tensors of a
given shape and value (``zeros``, ``ones``, ``fill``, ``zeros_like``, ``ones_like``); ranges and
one-hot encodings. ``flowgraph.ops.array`` re-exports the public functions.

None of these ops is differentiable: their outputs depend on their inputs' shapes, or on integer
indices and bounds, never smoothly on float values. The helpers reading static shape and value
arguments (ints, TensorShapes, constants or int tensors) live here and serve ``array.py`` too.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 2])
...     y = fg.fill(fg.shape(x), 0.5) + fg.one_hot(fg.range(2), 2)
...     fg.Session().run(y, feed_dict={x: [[1, 2], [3, 4]]})
array([[1.5, 0.5],
       [0.5, 1.5]], dtype=float32)
"""

from __future__ import annotations

import operator
from math import ceil, prod

from flowgraph.errors import DTypeError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype, dtype_of_python_value
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import namespace, rules
from flowgraph.ops.convert import convert_to_tensor, to_numpy_value
from flowgraph.ops.math import add, cast
from flowgraph.ops.registry import REQUIRED, apply_op, define_op

__all__ = [
    "fill", "one_hot", "ones", "ones_like", "range", "rank", "shape", "size", "zeros", "zeros_like",
]  # fmt: skip


# ---- static arguments, shared with array.py (not public API) -------------------------------


def is_tensor_like(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_tensor")


def static_value(t: Tensor):
    """The NumPy value of ``t`` when it is a graph constant, else None."""
    return t.op.attrs["value"] if t.op.type == "Const" else None


def python_scalar(value, what: str):
    """A static scalar attr as a plain Python value (attrs stay hashable and printable)."""
    if is_tensor_like(value):
        value = static_value(convert_to_tensor(value))
        if value is None:
            raise TypeError(f"{what} must be a static value, not a computed tensor")
    value = value.item() if hasattr(value, "item") else value
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{what} must be a Python number, got {value!r}")
    return value


def check_fits(value, dtype, what: str) -> None:
    if value == 0:
        return  # zero is every dtype's fill (False for bool)
    try:
        to_numpy_value(value, dtype)
    except TypeError as e:
        raise DTypeError(f"{what}={value!r} does not fit dtype {dtype.name}: {e}") from None


def shape_arg(shape, what: str):
    """``(static dims, dims tensor or None)`` for a shape given as ints, a TensorShape, an int
    tensor, or a list mixing ints and scalar tensors. Static dims hold None where only the run
    knows the size; they are None altogether when even the rank is unknown."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"{what}: shape {shape} must be fully defined")
        return tuple(shape.dims), None
    if is_tensor_like(shape):
        tensor = convert_to_tensor(shape)
        value = static_value(tensor)
        if value is not None and value.dtype.kind in "iu" and value.ndim == 1:
            return tuple(int(d) for d in value), None  # else the op reports dtype or rank
        source = tensor.op.inputs[0] if tensor.op.type == "Shape" else None
        if source is not None and source.shape.rank is not None:
            return tuple(source.shape.dims), tensor  # tf.shape(t): t's known dims stay known
        n = tensor.shape[0] if tensor.shape.rank == 1 else None
        return (None if n is None else (None,) * n), tensor
    items = list(shape) if hasattr(shape, "__iter__") else [shape]
    if any(is_tensor_like(d) for d in items):
        from flowgraph.ops.array import stack  # array.py builds on this module

        # e.g. reshape(x, [fg.shape(x)[0], -1]): pack the entries into one dims tensor.
        dims = stack(items)
        return tuple(None if is_tensor_like(d) else operator.index(d) for d in items), dims
    return tuple(operator.index(d) for d in items), None


def check_dims_input(extra: list[Tensor]) -> None:
    for t in extra:
        rules.require_kind(t, "int", "shape")
        rules.require_rank(t, 1, "shape")


def run_time_dims(static, dynamic: tuple):
    # A run-time dims tensor wins; its values come back to the host as Python ints.
    return tuple(int(d) for d in dynamic[0]) if dynamic else static


# ---- the run-time shape: Shape, Size, Rank ------------------------------------------------


def _index_type(out_type):
    if out_type not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"out_type must be int32 or int64, got {out_type.name}")
    return out_type


define_op(
    "Shape",
    lambda inputs, attrs: [(_index_type(attrs["out_type"]), TensorShape([inputs[0].shape.rank]))],
    kernel=lambda xp, x, *, out_type: xp.asarray(x.shape, dtype=namespace.dtype_of(xp, out_type)),
    attrs={"out_type": dtypes.int32},
    differentiable=False,
    shape_only_inputs=(0,),
)
define_op(
    "Size",
    lambda inputs, attrs: [(_index_type(attrs["out_type"]), TensorShape([]))],
    kernel=lambda xp, x, *, out_type: xp.asarray(
        prod(x.shape), dtype=namespace.dtype_of(xp, out_type)
    ),
    attrs={"out_type": dtypes.int32},
    differentiable=False,
    shape_only_inputs=(0,),
)
define_op(
    "Rank",
    lambda inputs, attrs: [(dtypes.int32, TensorShape([]))],
    kernel=lambda xp, x: xp.asarray(x.ndim, dtype=xp.int32),
    differentiable=False,
    shape_only_inputs=(0,),
)


def shape(input, name=None, out_type=dtypes.int32):
    """The shape of ``input`` when the graph runs, as a 1-D int tensor (``Tensor.shape`` is
    the static shape, which may have unknown dims).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 3])
    ...     fg.Session().run(fg.shape(x), feed_dict={x: [[1, 2, 3], [4, 5, 6]]})
    array([2, 3], dtype=int32)
    """
    attrs = {"out_type": as_dtype(out_type)}
    return apply_op("Shape", [convert_to_tensor(input)], attrs, name=name or "Shape")


def size(input, name=None, out_type=dtypes.int32):
    """The number of elements of ``input`` when the graph runs, as a scalar int tensor.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(fg.size(fg.zeros([2, 3]))))
    6
    """
    attrs = {"out_type": as_dtype(out_type)}
    return apply_op("Size", [convert_to_tensor(input)], attrs, name=name or "Size")


def rank(input, name=None):
    """The number of dimensions of ``input`` when the graph runs, as a scalar int32 tensor.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(fg.rank(fg.zeros([2, 3]))))
    2
    """
    return apply_op("Rank", [convert_to_tensor(input)], name=name or "Rank")


# ---- tensors of a given shape and value: Fill, ZerosLike, OnesLike ------------------------


def _fill_infer(inputs, attrs):
    check_dims_input(inputs)
    dims = attrs["shape"]
    if dims is not None and any(d is not None and d < 0 for d in dims):
        raise ShapeError(f"dims {list(dims)} must be non-negative")
    check_fits(attrs["value"], attrs["dtype"], "value")
    return [(attrs["dtype"], TensorShape(dims))]


def _fill_kernel(xp, *dims, shape, value, dtype):
    return xp.full(run_time_dims(shape, dims), value, dtype=namespace.dtype_of(xp, dtype))


define_op(
    "Fill",
    _fill_infer,
    kernel=_fill_kernel,
    attrs={"shape": REQUIRED, "value": REQUIRED, "dtype": REQUIRED},
    differentiable=False,
    fresh_output=True,
)


def _fill(dims, value, dtype, name):
    static, dims_tensor = shape_arg(dims, name)
    attrs = {"shape": static, "value": value, "dtype": dtype}
    return apply_op("Fill", [] if dims_tensor is None else [dims_tensor], attrs, name=name)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of ``shape`` (ints or a 1-D int tensor) filled with zeros.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.zeros([2], fg.int32))
    array([0, 0], dtype=int32)
    """
    dtype = as_dtype(dtype)
    return _fill(shape, False if dtype.is_bool else 0, dtype, name or "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of ``shape`` (ints or a 1-D int tensor) filled with ones.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.ones([2, 1]))
    array([[1.],
           [1.]], dtype=float32)
    """
    dtype = as_dtype(dtype)
    return _fill(shape, True if dtype.is_bool else 1, dtype, name or "ones")


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (whose dtype it takes).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.fill([2, 2], 7))
    array([[7, 7],
           [7, 7]], dtype=int32)
    """
    if is_tensor_like(value) and static_value(convert_to_tensor(value)) is None:
        value = convert_to_tensor(value)  # known only at run time: broadcast it onto zeros
        return add(zeros(dims, value.dtype), value, name=name or "Fill")
    if is_tensor_like(value):
        dtype = convert_to_tensor(value).dtype
    else:
        dtype = dtype_of_python_value(value)  # before python_scalar: np.int64 stays int64
    return _fill(dims, python_scalar(value, "fill: value"), dtype, name or "Fill")


def _like_kernel(fn_name: str):
    def kernel(xp, x, *, dtype):
        return getattr(xp, fn_name)(x, dtype=namespace.dtype_of(xp, dtype))

    return kernel


for _type, _fn in (("ZerosLike", "zeros_like"), ("OnesLike", "ones_like")):
    define_op(
        _type,
        lambda inputs, attrs: [(attrs["dtype"], inputs[0].shape)],
        kernel=_like_kernel(_fn),
        attrs={"dtype": REQUIRED},
        differentiable=False,
        fresh_output=True,
        shape_only_inputs=(0,),
        specs_only_infer=True,
    )


def zeros_like(tensor, dtype=None, name=None):
    """Zeros with the shape (at run time) and dtype (or ``dtype``) of ``tensor``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.zeros_like([[1, 2]], dtype=fg.float64))
    array([[0., 0.]])
    """
    tensor = convert_to_tensor(tensor)
    attrs = {"dtype": tensor.dtype if dtype is None else as_dtype(dtype)}
    return apply_op("ZerosLike", [tensor], attrs, name=name or "zeros_like")


def ones_like(tensor, dtype=None, name=None):
    """Ones with the shape (at run time) and dtype (or ``dtype``) of ``tensor``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.ones_like([True, False]))
    array([ True,  True])
    """
    tensor = convert_to_tensor(tensor)
    attrs = {"dtype": tensor.dtype if dtype is None else as_dtype(dtype)}
    return apply_op("OnesLike", [tensor], attrs, name=name or "ones_like")


# ---- Range --------------------------------------------------------------------------------


def _range_infer(inputs, attrs):
    for t, n in zip(inputs, ("start", "limit", "delta")):
        rules.require_kind(t, "numeric", n)
        rules.require_rank(t, 0, n)
    rules.same_dtypes(inputs, ("start", "limit", "delta"))
    values = [static_value(t) for t in inputs]
    length = None
    if all(v is not None for v in values):  # constant bounds: the length is known now
        start, limit, delta = (v.item() for v in values)
        if delta == 0:
            raise ShapeError("delta must not be zero")
        length = max(0, ceil((limit - start) / delta))
    return [(inputs[0].dtype, TensorShape([length]))]


def _range_kernel(xp, start, limit, delta, *, dtype):
    # arange wants Python numbers (a device array would not do on CuPy).
    py = float if dtype.is_floating else int
    if py(delta) == 0:
        raise ValueError("range: delta must not be zero")
    return xp.arange(py(start), py(limit), py(delta), dtype=namespace.dtype_of(xp, dtype))


define_op(
    "Range",
    _range_infer,
    kernel=_range_kernel,
    attrs={"dtype": REQUIRED},
    differentiable=False,
)


def range(start, limit=None, delta=1, dtype=None, name=None):  # noqa: A001 - TF's name
    """The numbers ``start, start + delta, ...`` before ``limit`` (``range(n)``: 0..n-1). The
    dtype is the widest of the arguments' (Python ints: int32, floats: float32) or ``dtype``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run([fg.range(4), fg.range(1, 2, 0.25)])
    [array([0, 1, 2, 3], dtype=int32), array([1.  , 1.25, 1.5 , 1.75], dtype=float32)]
    """
    if limit is None:
        start, limit = 0, start
    args = (start, limit, delta)
    if dtype is None:
        kinds = [convert_to_tensor(a).dtype if is_tensor_like(a) else dtype_of_python_value(a)
                 for a in args]  # fmt: skip
        dtype = max(kinds, key=lambda d: (d.is_floating, d.size))
    dtype = as_dtype(dtype)
    tensors = [
        cast(convert_to_tensor(a), dtype) if is_tensor_like(a) else convert_to_tensor(a, dtype)
        for a in args
    ]
    return apply_op("Range", tensors, {"dtype": dtype}, name=name or "range")


# ---- one_hot ------------------------------------------------------------------------------


def _one_hot_infer(inputs, attrs):
    indices, depth, axis, dtype = inputs[0], attrs["depth"], attrs["axis"], attrs["dtype"]
    rules.require_kind(indices, "int", "indices")
    if depth < 0:
        raise ShapeError(f"depth must be non-negative, got {depth}")
    for key in ("on_value", "off_value"):
        check_fits(attrs[key], dtype, key)
    dims = indices.shape.dims
    if dims is None:
        return [(dtype, TensorShape(None))]
    if not -1 <= axis <= len(dims):
        raise ShapeError(f"axis {axis} must be -1 or in [0, {len(dims)}] for indices {dims}")
    out = list(dims)
    out.insert(len(dims) if axis == -1 else axis, depth)
    return [(dtype, TensorShape(out))]


def _one_hot_kernel(xp, indices, *, depth, on_value, off_value, axis, dtype):
    hot = xp.expand_dims(indices, axis=-1) == xp.arange(depth)
    if axis != -1:
        hot = xp.moveaxis(hot, -1, axis)
    dt = namespace.dtype_of(xp, dtype)
    return xp.where(hot, xp.asarray(on_value, dtype=dt), xp.asarray(off_value, dtype=dt))


define_op(
    "OneHot",
    _one_hot_infer,
    kernel=_one_hot_kernel,
    attrs={"depth": REQUIRED, "on_value": 1, "off_value": 0, "axis": -1, "dtype": REQUIRED},
    differentiable=False,
)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """``on_value`` where the new axis (last by default, size ``depth``) equals ``indices``,
    ``off_value`` elsewhere; indices outside [0, depth) give an all-off row. float32 by default.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.one_hot([0, 2, -1], 3))
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]], dtype=float32)
    """
    if dtype is None:
        given = [v for v in (on_value, off_value) if v is not None]
        dtype = dtype_of_python_value(given[0]) if given else dtypes.float32
    dtype = as_dtype(dtype)
    on = (True if dtype.is_bool else 1) if on_value is None else on_value
    off = 0 if off_value is None else off_value
    attrs = {
        "depth": operator.index(depth),
        "on_value": python_scalar(on, "one_hot: on_value"),
        "off_value": python_scalar(off, "one_hot: off_value"),
        "axis": -1 if axis is None else operator.index(axis),
        "dtype": dtype,
    }
    return apply_op("OneHot", [convert_to_tensor(indices)], attrs, name=name or "one_hot")
