"""ONNX export rules: shapes, layout, indexing and slicing (see
:mod:`flowgraph.onnx.export_ops` for the table and the differences from ONNX).
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from flowgraph.onnx.errors import ONNXExportError
from flowgraph.onnx.export_ops import (
    INT64_MAX,
    INT64_MIN,
    input_rank,
    int_constant,
    onnx_elem,
    rule,
    scalar_constant,
)

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
    ctx.node("Reshape", [ins[0], int_constant(ctx, dims, "shape")], outs, allowzero=int(0 in dims))


@rule("Transpose")
def _transpose(ctx, op, ins, outs):
    perm = op.attrs["perm"]
    perm = list(reversed(range(input_rank(op)))) if perm is None else [int(p) for p in perm]
    ctx.node("Transpose", ins, outs, perm=perm)


@rule("ConcatV2")
def _concat(ctx, op, ins, outs):
    ctx.node("Concat", ins, outs, axis=int(op.attrs["axis"]))


@rule("Pack")
def _pack(ctx, op, ins, outs):
    axes = int_constant(ctx, [op.attrs["axis"]], "axes")
    parts = [ctx.node("Unsqueeze", [i, axes], hint=op.name)[0] for i in ins]
    ctx.node("Concat", parts, outs, axis=int(op.attrs["axis"]))


@rule("Unpack")
def _unpack(ctx, op, ins, outs):
    axis, axes = int(op.attrs["axis"]), int_constant(ctx, [op.attrs["axis"]], "axes")
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
        ctx.node("Split", [ins[0], int_constant(ctx, sizes, "split")], outs, axis=axis)


@rule("ExpandDims")
def _expand_dims(ctx, op, ins, outs):
    ctx.node("Unsqueeze", [ins[0], int_constant(ctx, [op.attrs["axis"]], "axes")], outs)


@rule("Squeeze")
def _squeeze(ctx, op, ins, outs):
    axis = op.attrs["axis"]
    if axis is None:
        ctx.node("Squeeze", ins, outs)
    else:
        axes = [axis] if isinstance(axis, int) else list(axis)
        ctx.node("Squeeze", [ins[0], int_constant(ctx, axes, "axes")], outs)


@rule("Tile")
def _tile(ctx, op, ins, outs):
    ctx.node("Tile", [ins[0], int_constant(ctx, op.attrs["multiples"], "repeats")], outs)


@rule("Pad")
def _pad(ctx, op, ins, outs):
    mode = {"CONSTANT": "constant", "REFLECT": "reflect"}.get(op.attrs["mode"].upper())
    if mode is None:  # ONNX's "edge" repeats the border once; TF's SYMMETRIC mirrors it
        raise ONNXExportError(f"padding mode {op.attrs['mode']!r} has no ONNX equivalent")
    paddings = np.asarray(op.attrs["paddings"], dtype=np.int64).reshape(-1, 2)
    pads = int_constant(ctx, np.concatenate([paddings[:, 0], paddings[:, 1]]), "pads")
    value = scalar_constant(ctx, op.attrs["constant_values"], op.inputs[0].dtype)
    ctx.node("Pad", [ins[0], pads, value], outs, mode=mode)


@rule("Shape", "Size", "Rank")
def _shape(ctx, op, ins, outs):
    if op.type == "Rank":
        shape = ctx.node("Shape", ins, hint=op.name)[0]
        ctx.node("Cast", ctx.node("Size", [shape], hint=op.name), outs, to=TensorProto.INT32)
        return
    if op.attrs["out_type"].name == "int64":
        ctx.node(op.type, ins, outs)
        return
    got = ctx.node(op.type, ins, hint=op.name)[0]
    ctx.node("Cast", [got], outs, to=onnx_elem(op.attrs["out_type"]))


@rule("ZerosLike", "OnesLike")
def _like(ctx, op, ins, outs):
    dt = op.outputs[0].dtype
    value = helper.make_tensor("value", onnx_elem(dt), [1], [0 if op.type == "ZerosLike" else 1])
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
        fill = (("slice", None, None, None),) * (input_rank(op) - used)
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
        args = [int_constant(ctx, v, n) for v, n in zip((starts, ends, axes, steps), "seas")]
        y = ctx.node("Slice", [y, *args], hint=op.name)[0]
    if squeeze:
        y = ctx.node("Squeeze", [y, int_constant(ctx, squeeze, "axes")], hint=op.name)[0]
    if unsqueeze:
        y = ctx.node("Unsqueeze", [y, int_constant(ctx, unsqueeze, "axes")], hint=op.name)[0]
    ctx.node("Identity", [y], outs)


@rule("OneHot")
def _one_hot(ctx, op, ins, outs):
    depth, dt = int(op.attrs["depth"]), op.outputs[0].dtype
    idx = ctx.node("Cast", ins, hint=op.name, to=TensorProto.INT64)[0]  # what runtimes take
    negative = ctx.node("Less", [idx, int_constant(ctx, 0, "zero")], hint=op.name)[0]
    idx = ctx.node("Where", [negative, int_constant(ctx, depth, "depth"), idx], hint=op.name)[0]
    values = ctx.const(
        np.asarray([op.attrs["off_value"], op.attrs["on_value"]], dtype=dt.as_numpy_dtype)
    )
    ctx.node(
        "OneHot", [idx, int_constant(ctx, [depth], "depth"), values], outs, axis=op.attrs["axis"]
    )


@rule("Where")
def _where_indices(ctx, op, ins, outs):
    ctx.node("Transpose", ctx.node("NonZero", ins, hint=op.name), outs, perm=[1, 0])


@rule("TopKV2")
def _top_k(ctx, op, ins, outs):
    k = int_constant(ctx, [op.attrs["k"]], "k")
    values, indices = ctx.node("TopK", [ins[0], k], 2, hint=op.name, axis=-1, largest=1, sorted=1)
    ctx.node("Identity", [values], outs[:1])
    ctx.node("Cast", [indices], outs[1:], to=onnx_elem(op.outputs[1].dtype))


@rule("Cumsum")
def _cumsum(ctx, op, ins, outs):
    axis = int_constant(ctx, op.attrs["axis"], "axis")
    ctx.node(
        "CumSum",
        [ins[0], axis],
        outs,
        exclusive=int(op.attrs["exclusive"]),
        reverse=int(op.attrs["reverse"]),
    )
