"""TF1 ops that flowgraph's op families lacked: composites of existing ops, and a few new ops.

Composites, built only from public ops (so their gradients come from those ops' rules):
``reduce_logsumexp`` (stable: the maximum is subtracted first), ``reciprocal``, ``eye``,
``boolean_mask`` (where + gather) and ``embedding_lookup`` (gather on axis 0, sharded too).

New ops, each with its kernel, shape rule and gradient here:

- ``Cumsum`` — running sums along an axis (exclusive / reverse); its gradient is the running
  sum of the gradient in the other direction;
- ``GatherNd`` / ``ScatterNd`` — index with (or add into) the last axis of ``indices`` as
  coordinates; each one's gradient is the other;
- ``TopKV2`` — the ``k`` largest entries along the last axis and their indices; the values'
  gradient goes back to the chosen positions (a ScatterNd), the indices get none;
- ``Assert`` — a stateful op that raises InvalidArgumentError when its condition is false;
- ``IsVariableInitialized`` / ``ReportUninitializedVariables`` — read which variables the
  session holds, without reading (so without failing on) their values.

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

import operator
from collections import namedtuple

import numpy as np

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.context import get_default_graph
from flowgraph.graph.dtypes import DType, as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, math, namespace, reduce, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import python_scalar, static_value
from flowgraph.ops.gradient_ops import stop_gradient
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient, no_gradient
from flowgraph.ops.state import global_variables

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
        bad = rows[int(xp.argmax(outside))]
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


def _scatter_nd_kernel(xp, indices, updates, shape):
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


define_op("ScatterNd", _scatter_nd_infer, kernel=_scatter_nd_kernel)


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
    params, indices = op.inputs
    return [scatter_nd(indices, grad, _shape_of(params)), None]


@gradient("ScatterNd")
def _scatter_nd_grad(op, grad):
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


# ---- Assert and variable-state queries -------------------------------------------------------


def _assert_kernel(ctx, condition, *data, template, summarize):
    if bool(ctx.xp.all(condition)):
        return None
    values = iter(data)
    parts = []
    for item in template:
        if item is None:  # a tensor's place: its first `summarize` values
            flat = np.asarray(ctx.to_host(next(values))).ravel()
            parts.append(str(flat[:summarize].tolist()))
        else:
            parts.append(item)
    raise InvalidArgumentError(message="assertion failed: " + " ".join(f"[{p}]" for p in parts))


define_op(
    "Assert",
    lambda inputs, attrs: rules.require_kind(inputs[0], "bool", "condition") or [],
    kernel=_assert_kernel,
    attrs={"template": (), "summarize": 3},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF1's spelling
    """An op that raises InvalidArgumentError, listing ``data``, when ``condition`` (all of it)
    is false. Run it, or make other ops depend on it with ``control_dependencies``.
    ``data`` mixes tensors and strings.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None])
    ...     check = Assert(fg.reduce_all(x > 0.0), ["x must be positive:", x])
    ...     with fg.control_dependencies([check]):
    ...         y = fg.log(x)
    ...     try:
    ...         fg.Session().run(y, {x: [1.0, -2.0]})
    ...     except fg.errors.InvalidArgumentError as e:
    ...         print(str(e).splitlines()[0])
    Assert op 'Assert' failed: assertion failed: [x must be positive:] [[1.0, -2.0]]
    """
    template, tensors = [], []
    for item in data:
        if isinstance(item, str):
            template.append(item)
        else:
            template.append(None)
            tensors.append(convert_to_tensor(item))
    attrs = {"template": tuple(template), "summarize": 3 if summarize is None else int(summarize)}
    inputs = [convert_to_tensor(condition)] + tensors
    return apply_op("Assert", inputs, attrs, name=name or "Assert")


class _StringDType(DType):
    """Names as bytes: flowgraph has no string tensors, except this op's output."""

    __slots__ = ()

    @property
    def is_numeric(self) -> bool:
        return False

    @property
    def as_numpy_dtype(self):
        return np.dtype("S")


string = _StringDType("string", "string", 0)


def _variable_name(var) -> str:
    ref = getattr(var, "_ref", var)
    if getattr(ref, "op", None) is None or ref.op.type != "VariableV2":
        raise TypeError(f"Expected a Variable, got {var!r}")
    return ref.op.attrs["var_name"]


define_op(
    "IsVariableInitialized",
    lambda inputs, attrs: [(dtypes.bool_, TensorShape([]))],
    kernel=lambda ctx, *, var_name: ctx.xp.asarray(var_name in ctx.variables),
    attrs={"var_name": REQUIRED},
    stateful=True,  # its answer changes as the session runs: never folded or merged
    differentiable=False,
    needs_context=True,
    ref_inputs=(0,),  # names the variable without reading it
)


def is_variable_initialized(variable, name=None):
    """A bool scalar: whether the running session holds a value for ``variable``."""
    ref = getattr(variable, "_ref", variable)
    attrs = {"var_name": _variable_name(variable)}
    return apply_op("IsVariableInitialized", [ref], attrs, name=name or "IsVariableInitialized")


def _report_kernel(ctx, *, var_names):
    missing = [n.encode() for n in var_names if n not in ctx.variables]
    return np.array(missing, dtype="S") if missing else np.zeros([0], dtype="S")


define_op(
    "ReportUninitializedVariables",
    lambda inputs, attrs: [(string, TensorShape([None]))],
    kernel=_report_kernel,
    attrs={"var_names": REQUIRED},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D tensor of the names (bytes) of the variables in ``var_list`` (default: all
    global variables) that the running session has no value for yet."""
    var_list = global_variables() if var_list is None else var_list
    attrs = {"var_names": tuple(_variable_name(v) for v in var_list)}
    return apply_op("ReportUninitializedVariables", [], attrs, name=name)


for _type in ("Assert", "IsVariableInitialized", "ReportUninitializedVariables"):
    no_gradient(_type)
