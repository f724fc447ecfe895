"""Taking parts of tensors: indexing (``x[1:, None, ::-1]``), strided slices and gather, with
their gradients, which put the parts back: StridedSliceGrad and GatherGrad scatter a gradient
into zeros shaped like the input. Split, SplitLike and Unpack live in ``ops/splitting.py``.
``flowgraph.ops.array`` re-exports the public functions.

``tensor[key]`` becomes one StridedSlice op whose key is a static attribute, so the output's
static shape is known at build time wherever the input's is.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.int32, [None, 4])
...     y = x[:, ::-1][..., None]
...     print(y.shape)
...     fg.Session().run(y, feed_dict={x: [[1, 2, 3, 4]]})
[?,4,1]
array([[[4],
        [3],
        [2],
        [1]]], dtype=int32)
"""

from __future__ import annotations

import operator
from itertools import islice

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import namespace
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient
from flowgraph.ops.rules import normalize_axis, require_kind

# split, split_like and unstack moved to splitting.py; re-exported so they stay importable here.
from flowgraph.ops.splitting import split, split_like, unstack  # noqa: F401

# ---- StridedSlice: tensor[key] ------------------------------------------------------------
# The key is stored as a tuple of descriptors, not of slice objects, because slices are not
# hashable before Python 3.12 and attrs should be:
#   ("int", i)   ("slice", start, stop, step)   ("newaxis",)   ("ellipsis",)
# An index or bound given as a scalar int tensor (``x[i, :, 1:n]``, as TF1 allows) is the op's
# input ``k + 1``, written ("input", k) in its place and read when the op runs.


def _bad_key(item, tensor) -> TypeError:
    return TypeError(
        f"StridedSlice: cannot index tensor {tensor.name!r} of shape {tensor.shape} with "
        f"{item!r}; only ints, scalar int tensors, slices of them, None (newaxis) and Ellipsis "
        "are supported (use gather for a tensor of indices)"
    )


def _as_int(item, tensor, extra: list):
    if isinstance(item, Tensor) or hasattr(item, "_as_graph_tensor"):
        index = convert_to_tensor(item)
        if not index.dtype.is_integer or index.shape.rank not in (0, None):
            raise _bad_key(index, tensor)
        extra.append(index)
        return ("input", len(extra) - 1)
    # bool is an int subclass, but NumPy reads x[True] as a mask: refuse it rather than guess.
    if isinstance(item, bool) or not hasattr(item, "__index__"):
        raise _bad_key(item, tensor)
    return operator.index(item)


def _descriptor(item, tensor, extra: list) -> tuple:
    if item is None:
        return ("newaxis",)
    if item is Ellipsis:
        return ("ellipsis",)
    if isinstance(item, slice):
        bounds = (item.start, item.stop, item.step)
        return ("slice", *(None if b is None else _as_int(b, tensor, extra) for b in bounds))
    return ("int", _as_int(item, tensor, extra))


def _is_input(bound) -> bool:
    return isinstance(bound, tuple)


def _resolve(key: tuple, values) -> tuple:
    """The key with each ("input", k) replaced by the run's value of that input."""
    if not values:
        return key
    fill = lambda b: int(values[b[1]]) if _is_input(b) else b  # noqa: E731
    return tuple((d[0], *map(fill, d[1:])) if d[0] in ("int", "slice") else d for d in key)


def _python_index(descriptor):
    kind = descriptor[0]
    if kind == "int":
        return descriptor[1]
    if kind == "slice":
        return slice(*descriptor[1:])
    return None if kind == "newaxis" else Ellipsis


def _index(key: tuple) -> tuple:
    index = tuple(_python_index(d) for d in key)
    if ("ellipsis",) not in key:
        index += (Ellipsis,)  # a trailing ... makes NumPy return a 0-d array, never a scalar
    return index


def _strided_slice_kernel(xp, x, *indices, key):
    key = _resolve(key, indices)
    if namespace.numpy_like(xp):
        return x[_index(key)]
    return x[namespace.in_bounds(_index(key), x.shape)]


def _check_index(i, axis: int, dim: int | None) -> None:
    if dim is not None and not _is_input(i) and not -dim <= i < dim:
        raise ShapeError(f"index {i} is out of bounds for dimension {axis} with size {dim}")


def _slice_length(bounds: tuple, dim: int | None) -> int | None:
    if dim is None or any(_is_input(b) for b in bounds):
        return None
    return len(range(*slice(*bounds).indices(dim)))


def _strided_slice_infer(inputs, attrs):
    x, key = inputs[0], attrs["key"]
    for t in inputs[1:]:
        require_kind(t, "int", "index")
        if t.shape.rank not in (0, None):
            raise ShapeError(f"a tensor index must be a scalar, got shape {t.shape}")
    kinds = [d[0] for d in key]
    if kinds.count("ellipsis") > 1:
        raise ShapeError("an index can only have a single ellipsis ('...')")
    if any(d[0] == "slice" and d[3] == 0 for d in key):
        raise ShapeError("slice step cannot be zero")
    dims = x.shape.dims
    if dims is None:
        return [(x.dtype, TensorShape(None))]
    used = sum(k in ("int", "slice") for k in kinds)  # dimensions the key consumes
    if used > len(dims):
        raise ShapeError(f"too many indices ({used}) for a tensor of rank {len(dims)}")
    remaining = iter(enumerate(dims))
    out = []
    for d in key:
        if d[0] == "newaxis":
            out.append(1)
        elif d[0] == "ellipsis":
            out.extend(dim for _, dim in islice(remaining, len(dims) - used))
        elif d[0] == "int":
            _check_index(d[1], *next(remaining))
        else:
            out.append(_slice_length(d[1:], next(remaining)[1]))
    out.extend(dim for _, dim in remaining)  # dimensions after the key are taken whole
    return [(x.dtype, TensorShape(out))]


define_op(
    "StridedSlice", _strided_slice_infer, kernel=_strided_slice_kernel, attrs={"key": REQUIRED}
)


def getitem(tensor, key, name=None):
    """``tensor[key]`` with ints (negative count from the end), slices (any step), None and
    Ellipsis, as in NumPy basic indexing; a scalar int tensor may stand for any int
    (``x[i, :, 1:n]``), and one alone as the key gathers along axis 0.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.constant([[1, 2, 3], [4, 5, 6]])
    ...     fg.Session().run(x[-1, ::-2])
    array([6, 4], dtype=int32)
    """
    tensor = convert_to_tensor(tensor)
    if isinstance(key, Tensor) or hasattr(key, "_as_graph_tensor"):
        index = convert_to_tensor(key)
        if index.dtype.is_integer and index.shape.rank == 0:
            return gather(tensor, index, axis=0, name=name)
        raise _bad_key(index, tensor)
    items = key if isinstance(key, tuple) else (key,)
    extra: list = []
    descriptors = tuple(_descriptor(item, tensor, extra) for item in items)
    attrs = {"key": descriptors}
    return apply_op("StridedSlice", [tensor, *extra], attrs, name=name or "strided_slice")


def strided_slice(
    input_,
    begin,
    end,
    strides=None,
    begin_mask=0,
    end_mask=0,
    ellipsis_mask=0,
    new_axis_mask=0,
    shrink_axis_mask=0,
    name=None,
):
    """TF's spelling of ``input_[begin:end:strides]``, one entry per indexed dimension; bit i
    of a mask marks entry i (begin/end ignored, an ellipsis, a new axis, or an int index).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.constant([[1, 2, 3], [4, 5, 6]])
    ...     fg.Session().run(fg.strided_slice(x, [0, 2], [2, 0], [1, -1]))
    array([[3, 2],
           [6, 5]], dtype=int32)
    """
    begin, end = _entries(begin, "begin"), _entries(end, "end")
    strides = [1] * len(begin) if strides is None else _entries(strides, "strides")
    if not len(begin) == len(end) == len(strides):
        raise ValueError("strided_slice: begin, end and strides must have the same length")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b)
        else:
            key.append(slice(None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return getitem(input_, tuple(key), name=name or "StridedSlice")


def _entries(values, what: str) -> list:
    """begin / end / strides as a list: a 1-D tensor of known length gives its elements."""
    if isinstance(values, Tensor) or hasattr(values, "_as_graph_tensor"):
        values = convert_to_tensor(values)
        if values.shape.rank != 1 or values.shape[0] is None:
            raise ValueError(
                f"strided_slice: {what} must be a list or a 1-D tensor of known length, got "
                f"{values.name!r} of shape {values.shape}"
            )
        return [getitem(values, i) for i in range(values.shape[0])]
    return list(values)


@gradient("StridedSlice")
def _strided_slice_grad(op, grad):
    """dx = g placed into zeros of x's shape at the slice (StridedSliceGrad)."""
    x, *indices = op.inputs
    sliced = _apply_key("StridedSliceGrad", [grad, x, *indices], op.attrs["key"])
    return [sliced] + [None] * len(indices)


def _apply_key(op_type: str, inputs: list, key: tuple):
    return apply_op(op_type, inputs, {"key": key}, name=op_type)


def _strided_slice_grad_infer(inputs, attrs):
    grad, like, *indices = inputs
    sliced = _strided_slice_infer([like, *indices], attrs)[0][1]
    if not grad.shape.is_compatible_with(sliced):
        raise ShapeError(f"the gradient's shape {grad.shape} is not the slice's shape {sliced}")
    return [(grad.dtype, like.shape)]


def _strided_slice_grad_kernel(xp, grad, like, *indices, key):
    key = _resolve(key, indices)
    out = xp.zeros(like.shape, dtype=grad.dtype)
    if namespace.numpy_like(xp):
        out[_index(key)] = grad  # basic indexing takes each element once: plain assignment
        return out
    # The array API allows no None (new axis) in an assignment: index without the new axes,
    # whose size-1 dims the gradient drops.
    index = tuple(i for i in namespace.in_bounds(_index(key), like.shape) if i is not None)
    out[index] = xp.reshape(grad, out[index].shape)
    return out


define_op(
    "StridedSliceGrad",
    _strided_slice_grad_infer,
    kernel=_strided_slice_grad_kernel,
    attrs={"key": REQUIRED},
)


def strided_slice_grad(grad, like, key, name=None):
    """StridedSlice's gradient: zeros shaped like ``like``, holding ``grad`` where
    ``like[key]`` took its elements (``key`` as in :func:`getitem`)."""
    grad, like = convert_to_tensor(grad), convert_to_tensor(like)
    items = key if isinstance(key, tuple) else (key,)
    extra: list = []
    descriptors = tuple(_descriptor(item, like, extra) for item in items)
    attrs = {"key": descriptors}
    inputs = [grad, like, *extra]
    return apply_op("StridedSliceGrad", inputs, attrs, name=name or "StridedSliceGrad")


@gradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, grad):
    """Placing into zeros is linear: its adjoint takes the same slice of gg."""
    # Placing into zeros is linear; its adjoint takes the same slice again.
    indices = op.inputs[2:]
    sliced = _apply_key("StridedSlice", [grad, *indices], op.attrs["key"])
    return [sliced, None] + [None] * len(indices)


# ---- GatherV2 -----------------------------------------------------------------------------


def _gather_infer(inputs, attrs):
    params, indices = inputs
    require_kind(indices, "int", "indices")
    p, i = params.shape.dims, indices.shape.dims
    if p is not None and not p:
        raise ShapeError("params must have rank at least 1, but is a scalar")
    if p is None or i is None:
        return [(params.dtype, TensorShape(None))]
    axis = normalize_axis(attrs["axis"], len(p))
    return [(params.dtype, TensorShape(p[:axis] + i + p[axis + 1 :]))]


def _gather_kernel(xp, params, indices, *, axis):
    axis %= params.ndim
    # The array-API take accepts only 1-D indices: take the flattened ones, then reshape.
    taken = xp.take(params, xp.reshape(indices, (-1,)), axis=axis)
    return xp.reshape(taken, params.shape[:axis] + indices.shape + params.shape[axis + 1 :])


define_op("GatherV2", _gather_infer, kernel=_gather_kernel, attrs={"axis": 0})


def gather(params, indices, axis=0, name=None):
    """Slices of ``params`` along ``axis`` at the int ``indices`` (any shape); the result's
    shape is ``params.shape[:axis] + indices.shape + params.shape[axis + 1:]``. Negative
    indices count from the end, as in NumPy.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.constant([[1, 2, 3], [4, 5, 6]])
    ...     fg.Session().run(fg.gather(x, [[2, 0]], axis=1))
    array([[[3, 1]],
    <BLANKLINE>
           [[6, 4]]], dtype=int32)
    """
    params, indices = convert_to_tensor(params), convert_to_tensor(indices)
    attrs = {"axis": operator.index(axis)}
    return apply_op("GatherV2", [params, indices], attrs, name=name or "GatherV2")


@gradient("GatherV2")
def _gather_grad(op, grad):
    """dparams = g's slices added at indices (GatherGrad); none for indices."""
    params, indices = op.inputs
    return [gather_grad(grad, indices, params, op.attrs["axis"]), None]


def _gather_grad_infer(inputs, attrs):
    grad, indices, like = inputs
    require_kind(indices, "int", "indices")
    gathered = _gather_infer([like, indices], attrs)[0][1]
    if not grad.shape.is_compatible_with(gathered):
        raise ShapeError(f"the gradient's shape {grad.shape} is not the gather's {gathered}")
    return [(grad.dtype, like.shape)]


def _gather_grad_kernel(xp, grad, indices, like, *, axis):
    axis %= like.ndim
    flat = xp.reshape(indices, (-1,))
    grad = xp.reshape(grad, like.shape[:axis] + flat.shape + like.shape[axis + 1 :])
    add_at = getattr(xp.add, "at", None)  # NumPy's and CuPy's ufunc.at; not array-API
    if add_at is None:  # another array-API namespace: the scatter-add as a one-hot product
        n = like.shape[axis]
        hot = namespace.astype(xp, xp.reshape(flat % n, (-1, 1)) == xp.arange(n), grad.dtype)
        return xp.moveaxis(xp.moveaxis(grad, axis, -1) @ hot, -1, axis)
    out = xp.zeros(like.shape, dtype=grad.dtype)
    add_at(out, (slice(None),) * axis + (flat,), grad)  # unbuffered: repeated indices add up
    return out


define_op("GatherGrad", _gather_grad_infer, kernel=_gather_grad_kernel, attrs={"axis": 0})


def gather_grad(grad, indices, like, axis=0, name=None):
    """GatherV2's gradient: zeros shaped like ``like`` (the params), with the slices of
    ``grad`` added at ``indices`` along ``axis``; a repeated index gets the sum.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(gather_grad([1.0, 2.0, 4.0], [2, 0, 2], fg.zeros([4])))
    array([2., 0., 5., 0.], dtype=float32)
    """
    inputs = [convert_to_tensor(t) for t in (grad, indices, like)]
    attrs = {"axis": operator.index(axis)}
    return apply_op("GatherGrad", inputs, attrs, name=name or "GatherGrad")


@gradient("GatherGrad")
def _gather_grad_grad(op, grad):
    """GatherGrad adds slices at indices (linear): its adjoint gathers them again."""
    # Adding slices at indices is linear; its adjoint gathers them again.
    return [gather(grad, op.inputs[1], op.attrs["axis"]), None, None]
