"""ONNX export rules: matrix products, convolution, pooling, reductions (see
:mod:`flowgraph.onnx.export_ops` for the table and the differences from ONNX).
"""

from __future__ import annotations

from onnx import TensorProto

from flowgraph.onnx.errors import ONNXExportError
from flowgraph.onnx.export_ops import input_rank, int_constant, onnx_elem, rule, scalar_constant

# ---- linear algebra, convolution, pooling ---------------------------------------------------


@rule("MatMul")
def _matmul(ctx, op, ins, outs):
    ins = list(ins)
    for i, flag in enumerate(("transpose_a", "transpose_b")):
        if op.attrs[flag]:
            r = input_rank(op, i)
            perm = [*range(r - 2), r - 1, r - 2]
            ins[i] = ctx.node("Transpose", [ins[i]], hint=op.name, perm=perm)[0]
    ctx.node("MatMul", ins, outs)


@rule("BiasAdd")
def _bias_add(ctx, op, ins, outs):
    x, b = ins
    r = input_rank(op)
    if op.attrs["data_format"] == "NCHW" and r > 2:  # the bias runs along axis 1
        b = ctx.node("Unsqueeze", [b, int_constant(ctx, range(1, r - 1), "axes")], hint=op.name)[0]
    ctx.node("Add", [x, b], outs)


def _tf_pads(op, x, kernel, strides, dilations, nchw):
    """ONNX pads for TF's padding of input ``x``: explicit when sizes are static."""
    if op.attrs["padding"] == "VALID":
        return {"pads": [0, 0, 0, 0]}
    from flowgraph.ops.windows import output_and_pads

    dims = x.shape.dims
    if dims is None:
        return {"auto_pad": "SAME_UPPER"}
    hw = dims[2:4] if nchw else dims[1:3]
    if None in hw:
        return {"auto_pad": "SAME_UPPER"}  # ONNX's SAME_UPPER splits the padding as TF does
    geo = [output_and_pads(*a, "SAME") for a in zip(hw, kernel, strides, dilations)]
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


# ---- reductions -----------------------------------------------------------------------------

_REDUCE = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin",
           "Prod": "ReduceProd"}  # fmt: skip


def _reduce_inputs(ctx, op, x):
    axis = op.attrs["axis"]
    if axis is None:
        return [x]
    return [x, int_constant(ctx, [axis] if isinstance(axis, int) else list(axis), "axes")]


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
    axis = int(op.attrs["axis"])
    if op.attrs["output_type"].name == "int64":  # ONNX's own index type: no Cast needed
        ctx.node(op.type, ins, outs, axis=axis, keepdims=0)
        return
    got = ctx.node(op.type, ins, hint=op.name, axis=axis, keepdims=0)[0]
    ctx.node("Cast", [got], outs, to=onnx_elem(op.attrs["output_type"]))


@rule("L2Loss")
def _l2_loss(ctx, op, ins, outs):
    s = ctx.node("ReduceSumSquare", ins, hint=op.name, keepdims=0)[0]
    ctx.node("Mul", [s, scalar_constant(ctx, 0.5, op.outputs[0].dtype)], outs)
