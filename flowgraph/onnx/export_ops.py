"""How each flowgraph op type is written in ONNX: one rule per op type, in :data:`EXPORTERS`.

A rule is ``rule(ctx, op, inputs, outputs)``: it adds ONNX nodes through ``ctx`` (an
:class:`flowgraph.onnx.exporter.ExportContext`) that compute the op's ``outputs`` (ONNX names)
from its ``inputs``. Where TF1's meaning differs from the ONNX op of the same name, the rule
spells TF1's out:

- Conv2D / MaxPool / AvgPool: ONNX is NCHW, so NHWC tensors are transposed around the op and
  HWIO filters to OIHW. TF's ``SAME`` pads ``total // 2`` before and the rest after; with
  static spatial sizes the rule writes those pads, otherwise ONNX's ``SAME_UPPER`` (the same
  split). AvgPool's SAME divides by the in-window count (``count_include_pad=0``).
- FloorDiv / FloorMod: ONNX ``Div`` truncates integers and ``Mod`` on floats needs
  ``fmod=1`` (C's sign); TF floors, so integers use ``Mod(fmod=0)`` (the divisor's sign) and
  floats ``a - floor(a / b) * b``.
- OneHot: ONNX wraps negative indices (``-1`` is the last class); TF gives an all-off row, so
  negative indices are moved out of range first.
- Reshape: a 0 in the shape means "size 0" in TF and "copy that dim" in ONNX (``allowzero=1``).
- Print / CheckNumerics / StopGradient are the identity in an inference model.

>>> sorted(EXPORTERS)[:5]
['Abs', 'Add', 'AddN', 'All', 'Any']
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from flowgraph.onnx.errors import ONNXExportError

EXPORTERS: dict = {}
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def rule(*op_types):
    def register(fn):
        for t in op_types:
            EXPORTERS[t] = fn
        return fn

    return register


def _elem(dtype) -> int:
    from flowgraph.onnx.exporter import elem_type

    return elem_type(dtype)


def _rank(op, i=0) -> int:
    rank = op.inputs[i].shape.rank
    if rank is None:
        raise ONNXExportError(f"input {i} has an unknown rank, which this translation needs")
    return rank


def _ints(ctx, values, hint) -> str:
    return ctx.const(np.asarray(values, dtype=np.int64).reshape(-1), hint=hint)


def _scalar(ctx, value, dtype, hint="c") -> str:
    return ctx.const(np.asarray(value, dtype=dtype.as_numpy_dtype), hint=hint)


# ---- one ONNX op per flowgraph op -----------------------------------------------------------

_SAME = {
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Maximum": "Max", "Minimum": "Min", "Pow": "Pow",
    "Equal": "Equal", "Greater": "Greater", "GreaterEqual": "GreaterOrEqual", "Less": "Less",
    "LessEqual": "LessOrEqual", "LogicalAnd": "And", "LogicalOr": "Or", "LogicalNot": "Not",
    "Neg": "Neg", "Abs": "Abs", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Sin": "Sin",
    "Cos": "Cos", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu", "Elu": "Elu",
    "Selu": "Selu", "Softplus": "Softplus", "Sign": "Sign", "Identity": "Identity",
    "StopGradient": "Identity", "Select": "Where", "AddN": "Sum",
}  # fmt: skip


def _same(onnx_type):
    def translate(ctx, op, ins, outs):
        ctx.node(onnx_type, ins, outs)

    return translate


for _fg, _onnx in _SAME.items():
    EXPORTERS[_fg] = _same(_onnx)


@rule("Print", "CheckNumerics")
def _pass_through(ctx, op, ins, outs):
    ctx.node("Identity", ins[:1], outs)


@rule("PlaceholderWithDefault")
def _placeholder_default(ctx, op, ins, outs):
    ctx.node("Identity", ins[:1], outs)


@rule("Const")
def _const(ctx, op, ins, outs):
    ctx.const(np.asarray(op.attrs["value"]), name=outs[0])


@rule("Fill")
def _fill(ctx, op, ins, outs):
    if ins:
        raise ONNXExportError("a Fill with a run-time shape is not exported")
    value = np.full(op.attrs["shape"], op.attrs["value"], dtype=op.attrs["dtype"].as_numpy_dtype)
    ctx.const(value, name=outs[0])


@rule("RealDiv")
def _real_div(ctx, op, ins, outs):
    out = op.outputs[0].dtype
    if op.inputs[0].dtype != out:  # int / int is a float in TF; ONNX Div would truncate
        ins = [ctx.node("Cast", [i], hint=op.name, to=_elem(out))[0] for i in ins]
    ctx.node("Div", ins, outs)


@rule("FloorDiv")
def _floor_div(ctx, op, ins, outs):
    a, b = ins
    if op.inputs[0].dtype.is_floating:
        q = ctx.node("Div", [a, b], hint=op.name)[0]
        ctx.node("Floor", [q], outs)
    else:  # (a - a mod b) / b is exact, and Mod(fmod=0) takes the divisor's sign, as floor does
        m = ctx.node("Mod", [a, b], hint=op.name, fmod=0)[0]
        d = ctx.node("Sub", [a, m], hint=op.name)[0]
        ctx.node("Div", [d, b], outs)


@rule("FloorMod")
def _floor_mod(ctx, op, ins, outs):
    a, b = ins
    if not op.inputs[0].dtype.is_floating:
        ctx.node("Mod", [a, b], outs, fmod=0)
        return
    q = ctx.node("Floor", ctx.node("Div", [a, b], hint=op.name), hint=op.name)[0]
    ctx.node("Sub", [a, ctx.node("Mul", [q, b], hint=op.name)[0]], outs)


@rule("NotEqual")
def _not_equal(ctx, op, ins, outs):
    ctx.node("Not", ctx.node("Equal", ins, hint=op.name), outs)


@rule("Square")
def _square(ctx, op, ins, outs):
    ctx.node("Mul", [ins[0], ins[0]], outs)


@rule("SquaredDifference")
def _squared_difference(ctx, op, ins, outs):
    d = ctx.node("Sub", ins, hint=op.name)[0]
    ctx.node("Mul", [d, d], outs)


@rule("Rsqrt")
def _rsqrt(ctx, op, ins, outs):
    ctx.node("Reciprocal", ctx.node("Sqrt", ins, hint=op.name), outs)


@rule("Log1p")
def _log1p(ctx, op, ins, outs):
    one = _scalar(ctx, 1, op.inputs[0].dtype)
    ctx.node("Log", ctx.node("Add", [ins[0], one], hint=op.name), outs)


@rule("Relu6")
def _relu6(ctx, op, ins, outs):
    dt = op.inputs[0].dtype
    ctx.node("Clip", [ins[0], _scalar(ctx, 0, dt), _scalar(ctx, 6, dt)], outs)


@rule("LeakyRelu")
def _leaky_relu(ctx, op, ins, outs):
    ctx.node("LeakyRelu", ins, outs, alpha=float(op.attrs["alpha"]))


@rule("ClipByValue")
def _clip(ctx, op, ins, outs):
    x, lo, hi = ins  # TF broadcasts tensor bounds; ONNX Clip takes scalars only
    ctx.node("Max", [ctx.node("Min", [x, hi], hint=op.name)[0], lo], outs)


@rule("Cast")
def _cast(ctx, op, ins, outs):
    ctx.node("Cast", ins, outs, to=_elem(op.attrs["dtype"]))


@rule("Softmax", "LogSoftmax")
def _softmax(ctx, op, ins, outs):
    ctx.node(op.type, ins, outs, axis=int(op.attrs["axis"]))


# ---- linear algebra, convolution, pooling ---------------------------------------------------


@rule("MatMul")
def _matmul(ctx, op, ins, outs):
    ins = list(ins)
    for i, flag in enumerate(("transpose_a", "transpose_b")):
        if op.attrs[flag]:
            r = _rank(op, i)
            perm = [*range(r - 2), r - 1, r - 2]
            ins[i] = ctx.node("Transpose", [ins[i]], hint=op.name, perm=perm)[0]
    ctx.node("MatMul", ins, outs)


@rule("BiasAdd")
def _bias_add(ctx, op, ins, outs):
    x, b = ins
    r = _rank(op)
    if op.attrs["data_format"] == "NCHW" and r > 2:  # the bias runs along axis 1
        b = ctx.node("Unsqueeze", [b, _ints(ctx, range(1, r - 1), "axes")], hint=op.name)[0]
    ctx.node("Add", [x, b], outs)


def _tf_pads(op, x, kernel, strides, dilations, nchw):
    """ONNX pads for TF's padding of input ``x``: explicit when sizes are static."""
    if op.attrs["padding"] == "VALID":
        return {"pads": [0, 0, 0, 0]}
    from flowgraph.ops.pooling import _output_and_pads

    dims = x.shape.dims
    if dims is None:
        return {"auto_pad": "SAME_UPPER"}
    hw = dims[2:4] if nchw else dims[1:3]
    if None in hw:
        return {"auto_pad": "SAME_UPPER"}  # ONNX's SAME_UPPER splits the padding as TF does
    geo = [_output_and_pads(*a, "SAME") for a in zip(hw, kernel, strides, dilations)]
    return {"pads": [geo[0][1], geo[1][1], geo[0][2], geo[1][2]]}


def _spatial(four, nchw):
    return [int(four[2]), int(four[3])] if nchw else [int(four[1]), int(four[2])]


def _to_nchw(ctx, op, name, nchw):
    return name if nchw else ctx.node("Transpose", [name], hint=op.name, perm=[0, 3, 1, 2])[0]


def _from_nchw(ctx, op, name, outs, nchw):
    if nchw:
        ctx.node("Identity", [name], outs)
    else:
        ctx.node("Transpose", [name], outs, perm=[0, 2, 3, 1])


@rule("Conv2D")
def _conv2d(ctx, op, ins, outs):
    nchw = op.attrs["data_format"] == "NCHW"
    x, f = ins
    fshape = op.inputs[1].shape.dims
    if fshape is None or None in fshape[:2]:
        raise ONNXExportError("the filter's spatial size must be known")
    strides, dilations = _spatial(op.attrs["strides"], nchw), _spatial(op.attrs["dilations"], nchw)
    pads = _tf_pads(op, op.inputs[0], fshape[:2], strides, dilations, nchw)
    w = ctx.node("Transpose", [f], hint=op.name, perm=[3, 2, 0, 1])[0]  # HWIO -> OIHW
    y = ctx.node(
        "Conv",
        [_to_nchw(ctx, op, x, nchw), w],
        hint=op.name,
        kernel_shape=list(fshape[:2]),
        strides=strides,
        dilations=dilations,
        **pads,
    )[0]
    _from_nchw(ctx, op, y, outs, nchw)


@rule("MaxPool", "AvgPool")
def _pool(ctx, op, ins, outs):
    nchw = op.attrs["data_format"] == "NCHW"
    kernel, strides = _spatial(op.attrs["ksize"], nchw), _spatial(op.attrs["strides"], nchw)
    pads = _tf_pads(op, op.inputs[0], kernel, strides, (1, 1), nchw)
    extra = {"count_include_pad": 0} if op.type == "AvgPool" else {}
    onnx_type = "MaxPool" if op.type == "MaxPool" else "AveragePool"
    y = ctx.node(
        onnx_type,
        [_to_nchw(ctx, op, ins[0], nchw)],
        hint=op.name,
        kernel_shape=kernel,
        strides=strides,
        **pads,
        **extra,
    )[0]
    _from_nchw(ctx, op, y, outs, nchw)


# ---- shapes and layout ----------------------------------------------------------------------


@rule("Reshape")
def _reshape(ctx, op, ins, outs):
    if len(ins) > 1:  # a run-time shape tensor
        shape = ctx.node("Cast", [ins[1]], hint=op.name, to=TensorProto.INT64)[0]
        ctx.node("Reshape", [ins[0], shape], outs)
        return
    dims = list(op.attrs["shape"])
    if any(not isinstance(d, int | np.integer) for d in dims):
        raise ONNXExportError(f"shape {dims} is not all ints")
    ctx.node("Reshape", [ins[0], _ints(ctx, dims, "shape")], outs, allowzero=int(0 in dims))


@rule("Transpose")
def _transpose(ctx, op, ins, outs):
    perm = op.attrs["perm"]
    perm = list(reversed(range(_rank(op)))) if perm is None else [int(p) for p in perm]
    ctx.node("Transpose", ins, outs, perm=perm)


@rule("ConcatV2")
def _concat(ctx, op, ins, outs):
    ctx.node("Concat", ins, outs, axis=int(op.attrs["axis"]))


@rule("Pack")
def _pack(ctx, op, ins, outs):
    axes = _ints(ctx, [op.attrs["axis"]], "axes")
    parts = [ctx.node("Unsqueeze", [i, axes], hint=op.name)[0] for i in ins]
    ctx.node("Concat", parts, outs, axis=int(op.attrs["axis"]))


@rule("Unpack")
def _unpack(ctx, op, ins, outs):
    axis, axes = int(op.attrs["axis"]), _ints(ctx, [op.attrs["axis"]], "axes")
    parts = ctx.node("Split", ins, len(outs), hint=op.name, axis=axis, num_outputs=len(outs))
    for part, out in zip(parts, outs):
        ctx.node("Squeeze", [part, axes], [out])


@rule("Split")
def _split(ctx, op, ins, outs):
    axis = int(op.attrs["axis"])
    sizes = [t.shape.dims[axis] for t in op.outputs] if op.outputs[0].shape.rank else [None]
    if None in sizes:
        ctx.node("Split", ins, outs, axis=axis, num_outputs=len(outs))
    else:
        ctx.node("Split", [ins[0], _ints(ctx, sizes, "split")], outs, axis=axis)


@rule("ExpandDims")
def _expand_dims(ctx, op, ins, outs):
    ctx.node("Unsqueeze", [ins[0], _ints(ctx, [op.attrs["axis"]], "axes")], outs)


@rule("Squeeze")
def _squeeze(ctx, op, ins, outs):
    axis = op.attrs["axis"]
    if axis is None:
        ctx.node("Squeeze", ins, outs)
    else:
        axes = [axis] if isinstance(axis, int) else list(axis)
        ctx.node("Squeeze", [ins[0], _ints(ctx, axes, "axes")], outs)


@rule("Tile")
def _tile(ctx, op, ins, outs):
    ctx.node("Tile", [ins[0], _ints(ctx, op.attrs["multiples"], "repeats")], outs)


@rule("Pad")
def _pad(ctx, op, ins, outs):
    mode = {"CONSTANT": "constant", "REFLECT": "reflect"}.get(op.attrs["mode"].upper())
    if mode is None:  # ONNX's "edge" repeats the border once; TF's SYMMETRIC mirrors it
        raise ONNXExportError(f"padding mode {op.attrs['mode']!r} has no ONNX equivalent")
    paddings = np.asarray(op.attrs["paddings"], dtype=np.int64).reshape(-1, 2)
    pads = _ints(ctx, np.concatenate([paddings[:, 0], paddings[:, 1]]), "pads")
    value = _scalar(ctx, op.attrs["constant_values"], op.inputs[0].dtype)
    ctx.node("Pad", [ins[0], pads, value], outs, mode=mode)


@rule("Shape", "Size", "Rank")
def _shape(ctx, op, ins, outs):
    if op.type == "Rank":
        shape = ctx.node("Shape", ins, hint=op.name)[0]
        ctx.node("Cast", ctx.node("Size", [shape], hint=op.name), outs, to=TensorProto.INT32)
        return
    got = ctx.node(op.type, ins, hint=op.name)[0]
    ctx.node("Cast", [got], outs, to=_elem(op.attrs["out_type"]))


@rule("ZerosLike", "OnesLike")
def _like(ctx, op, ins, outs):
    dt = op.outputs[0].dtype
    value = helper.make_tensor("value", _elem(dt), [1], [0 if op.type == "ZerosLike" else 1])
    ctx.node("ConstantOfShape", ctx.node("Shape", ins, hint=op.name), outs, value=value)


# ---- indexing -------------------------------------------------------------------------------


@rule("GatherV2")
def _gather(ctx, op, ins, outs):
    ctx.node("Gather", ins, outs, axis=int(op.attrs["axis"]))


@rule("GatherNd")
def _gather_nd(ctx, op, ins, outs):
    indices = ctx.node("Cast", ins[1:], hint=op.name, to=TensorProto.INT64)[0]  # int64 only
    ctx.node("GatherND", [ins[0], indices], outs)


@rule("StridedSlice")
def _strided_slice(ctx, op, ins, outs):
    key = op.attrs["key"]
    if any(d[0] == "ellipsis" for d in key):
        i = next(i for i, d in enumerate(key) if d[0] == "ellipsis")
        used = sum(d[0] in ("int", "slice") for d in key)
        fill = (("slice", None, None, None),) * (_rank(op) - used)
        key = key[:i] + fill + key[i + 1 :]
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for d in key:
        if d[0] == "newaxis":
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if any(not isinstance(v, int | type(None)) for v in d[1:]):
            raise ONNXExportError(f"slice bounds {d[1:]} are not all static ints")
        if d[0] == "int":
            i = d[1]
            starts.append(i), ends.append(INT64_MAX if i == -1 else i + 1), steps.append(1)
            squeeze.append(axis)
        else:
            start, stop, step = d[1], d[2], 1 if d[3] is None else d[3]
            starts.append((0 if step > 0 else INT64_MAX) if start is None else start)
            ends.append((INT64_MAX if step > 0 else INT64_MIN) if stop is None else stop)
            steps.append(step)
            out_axis += 1
        axes.append(axis)
        axis += 1
    y = ins[0]
    if axes:
        args = [_ints(ctx, v, n) for v, n in zip((starts, ends, axes, steps), "seas")]
        y = ctx.node("Slice", [y, *args], hint=op.name)[0]
    if squeeze:
        y = ctx.node("Squeeze", [y, _ints(ctx, squeeze, "axes")], hint=op.name)[0]
    if unsqueeze:
        y = ctx.node("Unsqueeze", [y, _ints(ctx, unsqueeze, "axes")], hint=op.name)[0]
    ctx.node("Identity", [y], outs)


@rule("OneHot")
def _one_hot(ctx, op, ins, outs):
    depth, dt = int(op.attrs["depth"]), op.outputs[0].dtype
    idx = ctx.node("Cast", ins, hint=op.name, to=TensorProto.INT64)[0]  # what runtimes take
    negative = ctx.node("Less", [idx, _ints(ctx, 0, "zero")], hint=op.name)[0]
    idx = ctx.node("Where", [negative, _ints(ctx, depth, "depth"), idx], hint=op.name)[0]
    values = ctx.const(
        np.asarray([op.attrs["off_value"], op.attrs["on_value"]], dtype=dt.as_numpy_dtype)
    )
    ctx.node("OneHot", [idx, _ints(ctx, [depth], "depth"), values], outs, axis=op.attrs["axis"])


@rule("Where")
def _where_indices(ctx, op, ins, outs):
    ctx.node("Transpose", ctx.node("NonZero", ins, hint=op.name), outs, perm=[1, 0])


@rule("TopKV2")
def _top_k(ctx, op, ins, outs):
    k = _ints(ctx, [op.attrs["k"]], "k")
    values, indices = ctx.node("TopK", [ins[0], k], 2, hint=op.name, axis=-1, largest=1, sorted=1)
    ctx.node("Identity", [values], outs[:1])
    ctx.node("Cast", [indices], outs[1:], to=_elem(op.outputs[1].dtype))


@rule("Cumsum")
def _cumsum(ctx, op, ins, outs):
    axis = _ints(ctx, op.attrs["axis"], "axis")
    ctx.node(
        "CumSum",
        [ins[0], axis],
        outs,
        exclusive=int(op.attrs["exclusive"]),
        reverse=int(op.attrs["reverse"]),
    )


# ---- reductions -----------------------------------------------------------------------------

_REDUCE = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin",
           "Prod": "ReduceProd"}  # fmt: skip


def _reduce_inputs(ctx, op, x):
    axis = op.attrs["axis"]
    if axis is None:
        return [x]
    return [x, _ints(ctx, [axis] if isinstance(axis, int) else list(axis), "axes")]


@rule(*_REDUCE)
def _reduce(ctx, op, ins, outs):
    keep = int(bool(op.attrs["keepdims"]))
    ctx.node(_REDUCE[op.type], _reduce_inputs(ctx, op, ins[0]), outs, keepdims=keep)


@rule("All", "Any")
def _all_any(ctx, op, ins, outs):
    as_int = ctx.node("Cast", ins, hint=op.name, to=TensorProto.INT32)[0]
    keep = int(bool(op.attrs["keepdims"]))
    kind = "ReduceMin" if op.type == "All" else "ReduceMax"
    r = ctx.node(kind, _reduce_inputs(ctx, op, as_int), hint=op.name, keepdims=keep)[0]
    ctx.node("Cast", [r], outs, to=TensorProto.BOOL)


@rule("ArgMax", "ArgMin")
def _arg(ctx, op, ins, outs):
    got = ctx.node(op.type, ins, hint=op.name, axis=int(op.attrs["axis"]), keepdims=0)[0]
    ctx.node("Cast", [got], outs, to=_elem(op.attrs["output_type"]))


@rule("L2Loss")
def _l2_loss(ctx, op, ins, outs):
    s = ctx.node("ReduceSumSquare", ins, hint=op.name, keepdims=0)[0]
    ctx.node("Mul", [s, _scalar(ctx, 0.5, op.outputs[0].dtype)], outs)
