"""Array ops: reshaping, joining, padding, and tensors of a given shape, value or range.

Slicing, gather, split and unstack live in ``ops/slicing.py`` and are re-exported here.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.reshape(fg.range(6), [2, -1])
...     y = fg.concat([x, fg.zeros_like(x)], axis=1)
...     print(y.shape)
...     fg.Session().run(fg.transpose(y))
[2,6]
array([[0, 3],
       [1, 4],
       [2, 5],
       [0, 0],
       [0, 0],
       [0, 0]], dtype=int32)
"""

from __future__ import annotations

import builtins
import operator
from math import ceil, prod

from flowgraph.errors import DTypeError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype, dtype_of_python_value
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import rules
from flowgraph.ops.convert import convert_to_tensor, to_numpy_value
from flowgraph.ops.math import add, cast
from flowgraph.ops.registry import REQUIRED, apply_op, define_op
from flowgraph.ops.rules import same_as_input
from flowgraph.ops.slicing import gather, split, strided_slice, unstack
from flowgraph.ops.slicing import getitem as getitem  # Tensor.__getitem__; not a TF name

# This module defines the ``range`` op (TF's name), so its own loops use the builtin by this name.
_irange = builtins.range

__all__ = [
    "concat", "expand_dims", "fill", "gather", "identity", "one_hot", "ones", "ones_like",
    "pad", "range", "rank", "reshape", "shape", "size", "split", "squeeze", "stack",
    "stop_gradient", "strided_slice", "tile", "transpose", "unstack", "zeros", "zeros_like",
]  # fmt: skip


# ---- helpers ------------------------------------------------------------------------------


def _xp_fn(xp, standard: str, legacy: str):
    # The array-API standard renamed some functions (concat, permute_dims); NumPy 2 has both
    # spellings, CuPy and older NumPy only the legacy one.
    return getattr(xp, standard, None) or getattr(xp, legacy)


def _is_tensor_like(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_tensor")


def _static_value(t: Tensor):
    """The NumPy value of ``t`` when it is a graph constant, else None."""
    return t.op.attrs["value"] if t.op.type == "Const" else None


def _python_scalar(value, what: str):
    """A static scalar attr as a plain Python value (attrs stay hashable and printable)."""
    if _is_tensor_like(value):
        value = _static_value(convert_to_tensor(value))
        if value is None:
            raise TypeError(f"{what} must be a static value, not a computed tensor")
    value = value.item() if hasattr(value, "item") else value
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{what} must be a Python number, got {value!r}")
    return value


def _check_fits(value, dtype, what: str) -> None:
    if value == 0:
        return  # zero is every dtype's fill (False for bool)
    try:
        to_numpy_value(value, dtype)
    except TypeError as e:
        raise DTypeError(f"{what}={value!r} does not fit dtype {dtype.name}: {e}") from None


def _convert_all(values, op_type: str) -> list[Tensor]:
    """Tensors for ``values``; Python values take the dtype of the first tensor among them."""
    if not values:
        raise ValueError(f"{op_type} needs at least one input tensor")
    dtype = next((convert_to_tensor(v).dtype for v in values if _is_tensor_like(v)), None)
    return [convert_to_tensor(v, None if _is_tensor_like(v) else dtype) for v in values]


def _names(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}[{i}]" for i in _irange(n))


def _shapes(inputs) -> str:
    return ", ".join(str(t.shape) for t in inputs)


# ---- shape arguments: static lists or int tensors -----------------------------------------


def _shape_arg(shape, what: str):
    """``(static dims, dims tensor or None)`` for a shape given as ints, a TensorShape, an int
    tensor, or a list mixing ints and scalar tensors. Static dims hold None where only the run
    knows the size; they are None altogether when even the rank is unknown."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"{what}: shape {shape} must be fully defined")
        return tuple(shape.dims), None
    if _is_tensor_like(shape):
        tensor = convert_to_tensor(shape)
        value = _static_value(tensor)
        if value is not None and value.dtype.kind in "iu" and value.ndim == 1:
            return tuple(int(d) for d in value), None  # else the op reports dtype or rank
        n = tensor.shape[0] if tensor.shape.rank == 1 else None
        return (None if n is None else (None,) * n), tensor
    items = list(shape) if hasattr(shape, "__iter__") else [shape]
    if any(_is_tensor_like(d) for d in items):
        # e.g. reshape(x, [fg.shape(x)[0], -1]): pack the entries into one dims tensor.
        dims = stack(items)
        return tuple(None if _is_tensor_like(d) else operator.index(d) for d in items), dims
    return tuple(operator.index(d) for d in items), None


def _check_dims_input(extra: list[Tensor]) -> None:
    for t in extra:
        rules.require_kind(t, "int", "shape")
        rules.require_rank(t, 1, "shape")


def _dims(static, dynamic: tuple):
    # A run-time dims tensor wins; its values come back to the host as Python ints.
    return tuple(int(d) for d in dynamic[0]) if dynamic else static


# ---- Identity, Reshape, Transpose, ExpandDims, Squeeze ------------------------------------

define_op("Identity", same_as_input, kernel=lambda xp, x: x)


def identity(input, name=None):
    """The same value as ``input``, as a new op (a place to hang control dependencies).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.identity([1.5, 2.5]))
    array([1.5, 2.5], dtype=float32)
    """
    return apply_op("Identity", [convert_to_tensor(input)], name=name or "Identity")


# Not differentiable: the autodiff driver sends no gradient through it.
define_op("StopGradient", same_as_input, kernel=lambda xp, x: x, differentiable=False)


def stop_gradient(input, name=None):
    """The same value as ``input``, but gradients do not flow back through it.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     y = fg.stop_gradient(fg.constant([1.0, 2.0]))
    ...     y.op.type, fg.Session().run(y)
    ('StopGradient', array([1., 2.], dtype=float32))
    """
    return apply_op("StopGradient", [convert_to_tensor(input)], name=name or "StopGradient")


def _reshape_infer(inputs, attrs):
    x, target = inputs[0], attrs["shape"]
    _check_dims_input(inputs[1:])
    if target is None:
        return [(x.dtype, TensorShape(None))]
    if target.count(-1) > 1 or any(d is not None and d < -1 for d in target):
        raise ShapeError(f"shape {list(target)} may hold one -1 and no other negative size")
    size = x.shape.num_elements()
    known = prod(d for d in target if d is not None and d != -1)
    checkable = size is not None and None not in target
    if -1 in target:
        if checkable and (known == 0 or size % known):
            raise ShapeError(f"Cannot reshape a tensor of {size} elements to shape {list(target)}")
        missing = size // known if checkable else None
        target = tuple(missing if d == -1 else d for d in target)
    elif checkable and size != known:
        raise ShapeError(f"Cannot reshape a tensor of {size} elements to shape {list(target)}")
    return [(x.dtype, TensorShape(target))]


def _reshape_kernel(xp, x, *dims, shape):
    return xp.reshape(x, _dims(shape, dims))


define_op("Reshape", _reshape_infer, kernel=_reshape_kernel, attrs={"shape": REQUIRED})


def reshape(tensor, shape, name=None):
    """``tensor``'s elements in a new ``shape``: a list of ints with at most one -1 (the size
    that makes the element counts match), or a 1-D int tensor.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 2, 3])
    ...     print(fg.reshape(x, [-1, 6]).shape, fg.reshape(x[0], [3, -1]).shape)
    [?,6] [3,2]
    """
    tensor = convert_to_tensor(tensor)
    static, dims = _shape_arg(shape, "reshape")
    inputs = [tensor] if dims is None else [tensor, dims]
    return apply_op("Reshape", inputs, {"shape": static}, name=name or "Reshape")


def _transpose_infer(inputs, attrs):
    x, perm = inputs[0], attrs["perm"]
    dims = x.shape.dims
    if perm is None:
        return [(x.dtype, TensorShape(None if dims is None else dims[::-1]))]
    n = len(perm)
    if dims is not None and len(dims) != n:
        raise ShapeError(f"perm {list(perm)} has {n} entries, but the input has rank {len(dims)}")
    if sorted(p % n if -n <= p < n else p for p in perm) != list(_irange(n)):
        raise ShapeError(f"perm {list(perm)} is not a permutation of the axes 0..{n - 1}")
    return [(x.dtype, TensorShape([None] * n if dims is None else [dims[p] for p in perm]))]


def _transpose_kernel(xp, a, *, perm):
    axes = tuple(_irange(a.ndim))[::-1] if perm is None else tuple(p % a.ndim for p in perm)
    return _xp_fn(xp, "permute_dims", "transpose")(a, axes)


define_op("Transpose", _transpose_infer, kernel=_transpose_kernel, attrs={"perm": None})


def transpose(a, perm=None, name=None):
    """``a`` with its axes permuted: axis i of the result is axis ``perm[i]`` of ``a``;
    without ``perm`` the axes are reversed.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.transpose(fg.zeros([2, 3, 4]), perm=[1, 2, 0]).shape)
    [3,4,2]
    """
    perm = None if perm is None else tuple(operator.index(p) for p in perm)
    return apply_op("Transpose", [convert_to_tensor(a)], {"perm": perm}, name=name or "transpose")


def _expand_dims_infer(inputs, attrs):
    x = inputs[0]
    if x.shape.rank is None:
        return [(x.dtype, TensorShape(None))]
    dims = list(x.shape.dims)
    dims.insert(rules.normalize_axis(attrs["axis"], len(dims) + 1), 1)
    return [(x.dtype, TensorShape(dims))]


define_op(
    "ExpandDims",
    _expand_dims_infer,
    kernel=lambda xp, x, *, axis: xp.expand_dims(x, axis=axis),
    attrs={"axis": REQUIRED},
)


def expand_dims(input, axis, name=None):
    """``input`` with a new axis of size 1 at ``axis`` (negative counts from the end).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.expand_dims(fg.zeros([2, 3]), -1).shape)
    [2,3,1]
    """
    attrs = {"axis": operator.index(axis)}
    return apply_op("ExpandDims", [convert_to_tensor(input)], attrs, name=name or "ExpandDims")


def _squeeze_infer(inputs, attrs):
    x, axes = inputs[0], attrs["axis"]
    dims = x.shape.dims
    if dims is None or (axes is None and None in dims):
        return [(x.dtype, TensorShape(None))]  # which dims are 1 is known only at run time
    if axes is None:
        return [(x.dtype, TensorShape([d for d in dims if d != 1]))]
    drop = {rules.normalize_axis(a, len(dims)) for a in axes}
    for a in sorted(drop):
        if dims[a] not in (1, None):
            raise ShapeError(f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]}")
    return [(x.dtype, TensorShape([d for i, d in enumerate(dims) if i not in drop]))]


def _squeeze_kernel(xp, x, *, axis):
    if axis is None:  # the array-API squeeze needs the axes spelled out
        axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
    return xp.squeeze(x, axis=axis)


define_op("Squeeze", _squeeze_infer, kernel=_squeeze_kernel, attrs={"axis": None})


def squeeze(input, axis=None, name=None):
    """``input`` without the size-1 dimensions listed in ``axis`` (all of them by default).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.zeros([1, 2, 1, 3])
    ...     print(fg.squeeze(x).shape, fg.squeeze(x, [-2]).shape)
    [2,3] [1,2,3]
    """
    if axis is not None:
        axis = tuple(axis) if hasattr(axis, "__iter__") else (axis,)
        axis = tuple(operator.index(a) for a in axis) or None  # TF reads [] as "all"
    return apply_op("Squeeze", [convert_to_tensor(input)], {"axis": axis}, name=name or "Squeeze")


# ---- joining, tiling, padding -------------------------------------------------------------


def _merge_dims(column, what: str):
    known = {d for d in column if d is not None}
    if len(known) > 1:
        raise ShapeError(what)
    return known.pop() if known else None


def _concat_infer(inputs, attrs):
    rules.same_dtypes(inputs, _names("values", len(inputs)))
    shapes = [t.shape.dims for t in inputs if t.shape.rank is not None]
    if not shapes:
        return [(inputs[0].dtype, TensorShape(None))]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ShapeError(f"concat inputs must all have the same rank, got {_shapes(inputs)}")
    if rank == 0:
        raise ShapeError("cannot concatenate scalars (rank-0 tensors); use stack")
    axis = rules.normalize_axis(attrs["axis"], rank)
    dims = []
    for i, column in enumerate(zip(*shapes)):
        if i == axis:  # the sum is known only if every input's size on the axis is
            whole = len(shapes) == len(inputs) and None not in column
            dims.append(sum(column) if whole else None)
        else:
            what = f"Dimension {i} of the inputs must match (axis is {axis}): {_shapes(inputs)}"
            dims.append(_merge_dims(column, what))
    return [(inputs[0].dtype, TensorShape(dims))]


define_op(
    "ConcatV2",
    _concat_infer,
    kernel=lambda xp, *values, axis: _xp_fn(xp, "concat", "concatenate")(values, axis=axis),
    attrs={"axis": REQUIRED},
)


def concat(values, axis, name=None):
    """The tensors ``values`` joined along the existing ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 3])
    ...     print(fg.concat([x, fg.zeros([2, 3])], 0).shape, fg.concat([x, x], -1).shape)
    [?,3] [?,6]
    """
    values = _convert_all(list(values), "ConcatV2")
    attrs = {"axis": operator.index(axis)}
    return apply_op("ConcatV2", values, attrs, name=name or "concat")


def _stack_infer(inputs, attrs):
    rules.same_dtypes(inputs, _names("values", len(inputs)))
    shape = TensorShape(None)
    for t in inputs:
        try:
            shape = shape.merge_with(t.shape)
        except ValueError:
            raise ShapeError(f"stack inputs must have one shape, got {_shapes(inputs)}") from None
    if shape.rank is None:
        return [(inputs[0].dtype, TensorShape(None))]
    dims = list(shape.dims)
    dims.insert(rules.normalize_axis(attrs["axis"], len(dims) + 1), len(inputs))
    return [(inputs[0].dtype, TensorShape(dims))]


define_op(
    "Pack",
    _stack_infer,
    kernel=lambda xp, *values, axis: xp.stack(values, axis=axis),
    attrs={"axis": 0},
)


def stack(values, axis=0, name=None):
    """The same-shaped tensors ``values`` joined along a new ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.stack([[1, 2], [3, 4]], axis=1))
    array([[1, 3],
           [2, 4]], dtype=int32)
    """
    values = _convert_all(list(values), "Pack")
    return apply_op("Pack", values, {"axis": operator.index(axis)}, name=name or "stack")


def _per_dim_rule(x, entries, what: str):
    """``x``'s dims, one per entry of a per-dimension attr (tile multiples, paddings)."""
    dims = x.shape.dims
    if dims is None:
        return (None,) * len(entries)
    if len(dims) != len(entries):
        raise ShapeError(f"{what} has {len(entries)} entries, but the input has rank {len(dims)}")
    return dims


def _tile_infer(inputs, attrs):
    x, multiples = inputs[0], attrs["multiples"]
    if any(m < 0 for m in multiples):
        raise ShapeError(f"multiples {list(multiples)} must be non-negative")
    dims = _per_dim_rule(x, multiples, f"multiples {list(multiples)}")
    out = [0 if m == 0 else None if d is None else d * m for d, m in zip(dims, multiples)]
    return [(x.dtype, TensorShape(out))]


def _tile_kernel(xp, x, *, multiples):
    if len(multiples) != x.ndim:  # xp.tile would quietly add axes
        raise ValueError(f"multiples {list(multiples)} do not match the input's rank {x.ndim}")
    return xp.tile(x, multiples)


define_op("Tile", _tile_infer, kernel=_tile_kernel, attrs={"multiples": REQUIRED})


def tile(input, multiples, name=None):
    """``input`` repeated ``multiples[i]`` times along each dimension i.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.tile([[1, 2]], [2, 2]))
    array([[1, 2, 1, 2],
           [1, 2, 1, 2]], dtype=int32)
    """
    attrs = {"multiples": tuple(operator.index(m) for m in multiples)}
    return apply_op("Tile", [convert_to_tensor(input)], attrs, name=name or "Tile")


# REFLECT mirrors without repeating the edge, so its pads must be smaller than the dimension;
# SYMMETRIC repeats the edge, so its pads may equal it.
_PAD_SLACK = {"CONSTANT": None, "REFLECT": 0, "SYMMETRIC": 1}


def _pad_infer(inputs, attrs):
    x, paddings, mode = inputs[0], attrs["paddings"], attrs["mode"]
    if any(p < 0 for pair in paddings for p in pair):
        raise ShapeError(f"paddings {[list(p) for p in paddings]} must be non-negative")
    dims = _per_dim_rule(x, paddings, "paddings")
    slack = _PAD_SLACK[mode]
    for i, (d, pair) in enumerate(zip(dims, paddings)):
        if slack is not None and d is not None and 0 < max(pair) >= d + slack:
            raise ShapeError(f"{mode} padding {list(pair)} is too large for dimension {i} of {d}")
    _check_fits(attrs["constant_values"], x.dtype, "constant_values")
    out = [None if d is None else d + before + after for d, (before, after) in zip(dims, paddings)]
    return [(x.dtype, TensorShape(out))]


def _pad_kernel(xp, x, *, paddings, mode, constant_values):
    slack = _PAD_SLACK[mode]  # checked here too for dims unknown at build time
    if slack is not None and any(0 < max(p) >= n + slack for n, p in zip(x.shape, paddings)):
        raise ValueError(f"{mode} paddings {list(paddings)} too large for shape {x.shape}")
    if not paddings:
        return x[...]  # a scalar: xp.pad rejects empty paddings
    if mode == "CONSTANT":
        return xp.pad(x, paddings, mode="constant", constant_values=constant_values)
    return xp.pad(x, paddings, mode=mode.lower())


define_op(
    "Pad",
    _pad_infer,
    kernel=_pad_kernel,
    attrs={"paddings": REQUIRED, "mode": "CONSTANT", "constant_values": 0},
)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """``tensor`` padded by ``paddings[i] = [before, after]`` entries on each dimension i, with
    ``constant_values`` (CONSTANT) or mirrored values (REFLECT without the edge, SYMMETRIC with).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.pad([1, 2, 3], [[2, 1]], mode="REFLECT"))
    array([3, 2, 1, 2, 3, 2], dtype=int32)
    """
    tensor = convert_to_tensor(tensor)
    if _is_tensor_like(paddings):
        paddings = _static_value(convert_to_tensor(paddings))
        if paddings is None:
            raise TypeError("Pad: paddings must be static (a list of pairs or a constant)")
    if mode.upper() not in _PAD_SLACK:
        raise ValueError(f"Pad: mode must be one of {list(_PAD_SLACK)}, got {mode!r}")
    pairs = tuple(tuple(operator.index(p) for p in pair) for pair in paddings)
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"Pad: paddings must be [before, after] pairs, got {paddings!r}")
    attrs = {
        "paddings": pairs,
        "mode": mode.upper(),
        "constant_values": _python_scalar(constant_values, "Pad: constant_values"),
    }
    return apply_op("Pad", [tensor], attrs, name=name or "Pad")


# ---- one_hot ------------------------------------------------------------------------------


def _one_hot_infer(inputs, attrs):
    indices, depth, axis, dtype = inputs[0], attrs["depth"], attrs["axis"], attrs["dtype"]
    rules.require_kind(indices, "int", "indices")
    if depth < 0:
        raise ShapeError(f"depth must be non-negative, got {depth}")
    for key in ("on_value", "off_value"):
        _check_fits(attrs[key], dtype, key)
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
    dt = getattr(xp, dtype.name)
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
        "on_value": _python_scalar(on, "one_hot: on_value"),
        "off_value": _python_scalar(off, "one_hot: off_value"),
        "axis": -1 if axis is None else operator.index(axis),
        "dtype": dtype,
    }
    return apply_op("OneHot", [convert_to_tensor(indices)], attrs, name=name or "one_hot")


# ---- the run-time shape: Shape, Size, Rank ------------------------------------------------


def _index_type(out_type):
    if out_type not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"out_type must be int32 or int64, got {out_type.name}")
    return out_type


define_op(
    "Shape",
    lambda inputs, attrs: [(_index_type(attrs["out_type"]), TensorShape([inputs[0].shape.rank]))],
    kernel=lambda xp, x, *, out_type: xp.asarray(x.shape, dtype=getattr(xp, out_type.name)),
    attrs={"out_type": dtypes.int32},
    differentiable=False,
)
define_op(
    "Size",
    lambda inputs, attrs: [(_index_type(attrs["out_type"]), TensorShape([]))],
    kernel=lambda xp, x, *, out_type: xp.asarray(prod(x.shape), dtype=getattr(xp, out_type.name)),
    attrs={"out_type": dtypes.int32},
    differentiable=False,
)
define_op(
    "Rank",
    lambda inputs, attrs: [(dtypes.int32, TensorShape([]))],
    kernel=lambda xp, x: xp.asarray(x.ndim, dtype=xp.int32),
    differentiable=False,
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
    _check_dims_input(inputs)
    dims = attrs["shape"]
    if dims is not None and any(d is not None and d < 0 for d in dims):
        raise ShapeError(f"dims {list(dims)} must be non-negative")
    _check_fits(attrs["value"], attrs["dtype"], "value")
    return [(attrs["dtype"], TensorShape(dims))]


def _fill_kernel(xp, *dims, shape, value, dtype):
    return xp.full(_dims(shape, dims), value, dtype=getattr(xp, dtype.name))


define_op(
    "Fill",
    _fill_infer,
    kernel=_fill_kernel,
    attrs={"shape": REQUIRED, "value": REQUIRED, "dtype": REQUIRED},
    differentiable=False,
)


def _fill(dims, value, dtype, name):
    static, dims_tensor = _shape_arg(dims, name)
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
    if _is_tensor_like(value) and _static_value(convert_to_tensor(value)) is None:
        value = convert_to_tensor(value)  # known only at run time: broadcast it onto zeros
        return add(zeros(dims, value.dtype), value, name=name or "Fill")
    if _is_tensor_like(value):
        dtype = convert_to_tensor(value).dtype
    else:
        dtype = dtype_of_python_value(value)  # before _python_scalar: np.int64 stays int64
    return _fill(dims, _python_scalar(value, "fill: value"), dtype, name or "Fill")


def _like_kernel(fn_name: str):
    def kernel(xp, x, *, dtype):
        return getattr(xp, fn_name)(x, dtype=getattr(xp, dtype.name))

    return kernel


for _type, _fn in (("ZerosLike", "zeros_like"), ("OnesLike", "ones_like")):
    define_op(
        _type,
        lambda inputs, attrs: [(attrs["dtype"], inputs[0].shape)],
        kernel=_like_kernel(_fn),
        attrs={"dtype": REQUIRED},
        differentiable=False,
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
    values = [_static_value(t) for t in inputs]
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
    return xp.arange(py(start), py(limit), py(delta), dtype=getattr(xp, dtype.name))


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
        kinds = [convert_to_tensor(a).dtype if _is_tensor_like(a) else dtype_of_python_value(a)
                 for a in args]  # fmt: skip
        dtype = max(kinds, key=lambda d: (d.is_floating, d.size))
    dtype = as_dtype(dtype)
    tensors = [
        cast(convert_to_tensor(a), dtype) if _is_tensor_like(a) else convert_to_tensor(a, dtype)
        for a in args
    ]
    return apply_op("Range", tensors, {"dtype": dtype}, name=name or "range")
