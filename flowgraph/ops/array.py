"""Array ops: reshaping and joining, with their gradients.

Slicing and gather live in ``ops/slicing.py``; split and unstack in ``ops/splitting.py``; tile
and pad in ``ops/tiling.py``; shapes and tensors of a given shape, value or range (``shape``,
``zeros``, ``fill``, ``range``, ``one_hot``, ...) in ``ops/creation.py``. This module
re-exports them all, so ``flowgraph.ops.array`` names every array op.

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
from math import prod

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import creation, namespace, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import *  # noqa: F403 - re-exported: see __all__ below
from flowgraph.ops.gradient_ops import stop_gradient  # StopGradient is defined there
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient
from flowgraph.ops.rules import same_as_input
from flowgraph.ops.slicing import gather, getitem, strided_slice  # noqa: F401 - getitem too
from flowgraph.ops.splitting import split, split_like, unstack
from flowgraph.ops.tiling import pad, pad_grad, tile, tile_grad  # noqa: F401 - the grads too

__all__ = [
    "concat", "expand_dims", "gather", "identity", "pad", "reshape", "split", "squeeze", "stack",
    "stop_gradient", "strided_slice", "tile", "transpose", "unstack",
]  # fmt: skip
__all__ += creation.__all__  # fill, one_hot, ones, ones_like, range, rank, shape, size, zeros...
# getitem (Tensor.__getitem__) is importable from here too, but is not a TF name: not exported.

# creation.py defines the ``range`` op (TF's name), imported above; loops use the builtin.
_irange = builtins.range


# ---- helpers ------------------------------------------------------------------------------


def _convert_all(values, op_type: str) -> list[Tensor]:
    """Tensors for ``values``; Python values take the dtype of the first tensor among them."""
    if not values:
        raise ValueError(f"{op_type} needs at least one input tensor")
    dtype = next((convert_to_tensor(v).dtype for v in values if creation.is_tensor_like(v)), None)
    return [convert_to_tensor(v, None if creation.is_tensor_like(v) else dtype) for v in values]


def _names(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}[{i}]" for i in _irange(n))


def _shapes(inputs) -> str:
    return ", ".join(str(t.shape) for t in inputs)


# ---- Identity, Reshape, Transpose, ExpandDims, Squeeze ------------------------------------
# Gradients (TensorFlow's array_grad.py) follow each op, built from ops so they differentiate
# again; they return the gradient at the op's input shape and never unbroadcast.

define_op("Identity", same_as_input, kernel=lambda xp, x: x)


def identity(input, name=None):
    """The same value as ``input``, as a new op (a place to hang control dependencies).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.identity([1.5, 2.5]))
    array([1.5, 2.5], dtype=float32)
    """
    return apply_op("Identity", [convert_to_tensor(input)], name=name or "Identity")


@gradient("Identity")
def _identity_grad(op, grad):
    """dx = g."""
    return [grad]


def _reshape_infer(inputs, attrs):
    x, target = inputs[0], attrs["shape"]
    creation.check_dims_input(inputs[1:])
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
    return xp.reshape(x, creation.run_time_dims(shape, dims))


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
    static, dims = creation.shape_arg(shape, "reshape")
    inputs = [tensor] if dims is None else [tensor, dims]
    return apply_op("Reshape", inputs, {"shape": static}, name=name or "Reshape")


def _reshape_to_shape_of(t, like):
    """``t`` reshaped to ``like``'s run-time shape, keeping what is known of it statically."""
    if like.shape.is_fully_defined():
        return reshape(t, like.shape.dims)
    static = None if like.shape.rank is None else tuple(like.shape.dims)
    return apply_op("Reshape", [t, creation.shape(like)], {"shape": static}, name="Reshape")


@gradient("Reshape")
def _reshape_grad(op, grad):
    """dx = reshape(g, shape of x); none for the shape."""
    return [_reshape_to_shape_of(grad, op.inputs[0])] + [None] * (len(op.inputs) - 1)


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
    return namespace.fn(xp, "permute_dims", "transpose")(a, axes)


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


@gradient("Transpose")
def _transpose_grad(op, grad):
    """dx = transpose(g, inverse permutation)."""
    perm = op.attrs["perm"]
    if perm is None:
        return [transpose(grad)]  # reversing the axes undoes itself
    n = len(perm)
    return [transpose(grad, sorted(_irange(n), key=lambda i: perm[i] % n))]


def _expand_dims_infer(inputs, attrs):
    x = inputs[0]
    if x.shape.rank is None:
        return [(x.dtype, TensorShape(None))]
    dims = list(x.shape.dims)
    dims.insert(rules.normalize_axis(attrs["axis"], len(dims) + 1), 1)
    return [(x.dtype, TensorShape(dims))]


def _expand_dims(xp, x, *, axis):
    if not namespace.numpy_like(xp) or not -x.ndim - 1 <= axis <= x.ndim:
        return xp.expand_dims(x, axis=axis)  # (its error names a bad axis)
    # A reshape view, ten times faster than NumPy's expand_dims on small arrays.
    at = axis if axis >= 0 else axis + x.ndim + 1
    return x.reshape(x.shape[:at] + (1,) + x.shape[at:])


define_op(
    "ExpandDims",
    _expand_dims_infer,
    kernel=_expand_dims,
    attrs={"axis": REQUIRED},
    specs_only_infer=True,
)


def expand_dims(input, axis=None, name=None, dim=None):
    """``input`` with a new axis of size 1 at ``axis`` (negative counts from the end; ``dim``
    is TF1's older name for it).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.expand_dims(fg.zeros([2, 3]), -1).shape)
    [2,3,1]
    """
    if (axis is None) == (dim is None):
        raise ValueError("expand_dims needs exactly one of axis= and dim=")
    attrs = {"axis": operator.index(axis if axis is not None else dim)}
    return apply_op("ExpandDims", [convert_to_tensor(input)], attrs, name=name or "ExpandDims")


@gradient("ExpandDims")
def _expand_dims_grad(op, grad):
    """dx = squeeze(g, axis)."""
    # ``axis`` names the new axis in the output's (and so the gradient's) rank.
    return [squeeze(grad, [op.attrs["axis"]])]


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


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    """``input`` without the size-1 dimensions listed in ``axis`` (all of them by default;
    ``squeeze_dims`` is TF1's older name for ``axis``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.zeros([1, 2, 1, 3])
    ...     print(fg.squeeze(x).shape, fg.squeeze(x, [-2]).shape)
    [2,3] [1,2,3]
    """
    if squeeze_dims is not None:
        if axis is not None:
            raise ValueError("squeeze: give axis= or squeeze_dims=, not both")
        axis = squeeze_dims
    if axis is not None:
        axis = tuple(axis) if hasattr(axis, "__iter__") else (axis,)
        axis = tuple(operator.index(a) for a in axis) or None  # TF reads [] as "all"
    return apply_op("Squeeze", [convert_to_tensor(input)], {"axis": axis}, name=name or "Squeeze")


@gradient("Squeeze")
def _squeeze_grad(op, grad):
    """dx = reshape(g, shape of x)."""
    return [_reshape_to_shape_of(grad, op.inputs[0])]


# ---- joining: ConcatV2, Pack --------------------------------------------------------------


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
    kernel=lambda xp, *values, axis: namespace.fn(xp, "concat", "concatenate")(values, axis=axis),
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


@gradient("ConcatV2")
def _concat_grad(op, grad):
    """Each input gets its slice of g along the axis."""
    # The inputs' sizes along the axis may be known only at run time: split by them then.
    return split_like(grad, op.inputs, op.attrs["axis"])


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


@gradient("Pack")
def _stack_grad(op, grad):
    """Each input gets its slice of unstack(g, axis)."""
    return unstack(grad, num=len(op.inputs), axis=op.attrs["axis"])
