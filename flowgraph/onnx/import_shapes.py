"""ONNX import rules: shapes, layout, constants, indexing and slicing (see
:mod:`flowgraph.onnx.import_ops` for the table and the differences from TF1).
"""

from __future__ import annotations

import numpy as np
import onnx

import flowgraph as fg
from flowgraph.onnx.errors import ONNXImportError
from flowgraph.onnx.import_ops import (
    StaticInputNeeded,
    axes_input,
    axes_list,
    flatten_shape,
    known_rank,
    numpy_dtype,
    refuse_unsupported,
    rule,
)

# ---- shapes and layout ----------------------------------------------------------------------


@rule("Flatten")
def _flatten(ctx, node, ins, attrs):
    x = ins[0]
    axis = attrs.get("axis", 1)
    if axis < 0:
        axis += known_rank(x, "Flatten")
    return fg.reshape(x, flatten_shape(x, axis))


@rule("Reshape")
def _reshape(ctx, node, ins, attrs):
    x = ins[0]
    allowzero = attrs.get("allowzero", 0)
    try:
        shape = axes_list(ctx.static(node, 1, "shape"))
    except StaticInputNeeded as needed:  # a fed shape: a run-time reshape where possible
        try:
            return _dynamic_reshape(x, ins[1], allowzero)
        except ONNXImportError:
            raise needed from None
    except ONNXImportError:
        return _dynamic_reshape(x, ins[1], allowzero)
    if not allowzero and 0 in shape:
        dims = x.shape.dims
        for i, d in enumerate(shape):
            if d == 0:
                if dims is None or i >= len(dims) or dims[i] is None:
                    return _dynamic_reshape(x, fg.constant(np.asarray(shape, np.int64)), 0)
                shape[i] = dims[i]
    return fg.reshape(x, shape)


def _dynamic_reshape(x, shape, allowzero):
    shape = fg.cast(shape, fg.int64)
    if allowzero:
        return fg.reshape(x, shape)
    n = shape.shape.dims[0] if shape.shape.rank == 1 else None
    if n is None or x.shape.rank is None:
        raise ONNXImportError("a run-time shape with 0 (copy) entries needs known ranks")
    r = min(n, x.shape.rank)  # a 0 copies the input's dim at its index, so only there
    head = shape[:r]
    copied = fg.where(fg.equal(head, fg.zeros_like(head)), fg.shape(x, out_type=fg.int64)[:r], head)
    return fg.reshape(x, fg.concat([copied, shape[r:]], 0) if r < n else copied)


@rule("Transpose")
def _transpose(ctx, node, ins, attrs):
    perm = attrs.get("perm")
    return fg.transpose(ins[0], None if perm is None else list(perm))


@rule("Concat")
def _concat(ctx, node, ins, attrs):
    return fg.concat(list(ins), axis=attrs["axis"])


@rule("Unsqueeze")
def _unsqueeze(ctx, node, ins, attrs):
    x = ins[0]
    axes = axes_input(ctx, node, attrs)
    rank = known_rank(x, "Unsqueeze") + len(axes)
    for a in sorted(a % rank for a in axes):
        x = fg.expand_dims(x, a)
    return fg.identity(x)


@rule("Squeeze")
def _squeeze(ctx, node, ins, attrs):
    axes = axes_input(ctx, node, attrs)
    return fg.squeeze(ins[0], axis=axes if axes else None)


@rule("Gather")
def _gather(ctx, node, ins, attrs):
    return fg.gather(ins[0], ins[1], axis=attrs.get("axis", 0))


@rule("GatherND")
def _gather_nd(ctx, node, ins, attrs):
    refuse_unsupported(attrs, {"batch_dims": 0})
    return fg.gather_nd(ins[0], ins[1])


@rule("Shape")
def _shape(ctx, node, ins, attrs):
    x = ins[0]
    dims = x.shape.dims
    start, end = attrs.get("start", 0), attrs.get("end")
    if dims is not None and None not in dims:  # static: a constant later rules can read
        return fg.constant(np.asarray(dims[start:end], dtype=np.int64))
    return fg.shape(x, out_type=fg.int64)[start:end]


@rule("Size")
def _size(ctx, node, ins, attrs):
    return fg.size(ins[0], out_type=fg.int64)


@rule("Constant")
def _constant(ctx, node, ins, attrs):
    ((key, value),) = attrs.items()
    if key == "value":
        value = onnx.numpy_helper.to_array(node.attribute[0].t)
    elif key in ("value_float", "value_int"):
        value = np.asarray(value, dtype=np.float32 if key == "value_float" else np.int64)
    elif key in ("value_floats", "value_ints"):
        value = np.asarray(value, dtype=np.float32 if key == "value_floats" else np.int64)
    else:
        raise ONNXImportError(f"Constant's {key!r} is not supported")
    numpy_dtype(onnx.helper.np_dtype_to_tensor_dtype(value.dtype), "the constant")
    ctx.values[node.output[0]] = value
    return fg.constant(value)


@rule("ConstantOfShape")
def _constant_of_shape(ctx, node, ins, attrs):
    shape = axes_list(ctx.static(node, 0, "shape"))
    value = (
        np.zeros(1, np.float32)
        if "value" not in attrs
        else onnx.numpy_helper.to_array(attrs["value"])
    )
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=object)) > 1 << 26:
        raise ONNXImportError(f"shape {shape} is negative or too large to build as a constant")
    return fg.constant(np.full(shape, value.reshape(-1)[0], dtype=value.dtype))


@rule("Tile")
def _tile(ctx, node, ins, attrs):
    return fg.tile(ins[0], axes_list(ctx.static(node, 1, "repeats")))


@rule("Pad")
def _pad(ctx, node, ins, attrs):
    x = ins[0]
    mode = attrs.get("mode", b"constant")
    mode = (mode.decode() if isinstance(mode, bytes) else mode).upper()
    if mode not in ("CONSTANT", "REFLECT"):  # ONNX's edge/wrap have no TF mode
        raise ONNXImportError(f"pad mode {mode.lower()!r} is not supported")
    pads = attrs.get("pads")
    pads = axes_list(ctx.static(node, 1, "pads")) if pads is None else list(pads)
    value = ctx.static(node, 2, "constant_value") if "value" not in attrs else attrs["value"]
    rank = known_rank(x, "Pad")
    axes = ctx.static(node, 3, "axes")
    axes = list(range(rank)) if axes is None else [a % rank for a in axes_list(axes)]
    paddings = [[0, 0] for _ in range(rank)]
    for i, a in enumerate(axes):
        paddings[a] = [pads[i], pads[i + len(axes)]]
    if any(p < 0 for row in paddings for p in row):
        raise ONNXImportError(f"negative pads {pads} (cropping) are not supported")
    value = 0 if value is None else np.asarray(value).reshape(-1)[0].item()
    return fg.pad(x, paddings, mode=mode, constant_values=value)


@rule("Slice")
def _slice(ctx, node, ins, attrs):
    x = ins[0]
    rank = known_rank(x, "Slice")
    starts = axes_list(ctx.static(node, 1, "starts"))
    ends = axes_list(ctx.static(node, 2, "ends"))
    axes = ctx.static(node, 3, "axes")
    axes = list(range(len(starts))) if axes is None else axes_list(axes)
    steps = ctx.static(node, 4, "steps")
    steps = [1] * len(starts) if steps is None else axes_list(steps)
    key = [slice(None)] * rank
    for a, s, e, st in zip(axes, starts, ends, steps):
        key[a % rank] = slice(s, e, st)
    return fg.identity(x[tuple(key)])


@rule("Split")
def _split(ctx, node, ins, attrs):
    x, axis = ins[0], attrs.get("axis", 0)
    split = attrs.get("split")
    if split is None:
        split = ctx.static(node, 1, "split")
    n = len(node.output)
    if split is None:
        dim = x.shape.dims[axis] if x.shape.rank is not None else None
        if dim is None or dim % n == 0:
            return list(fg.split(x, n, axis=axis)) if n > 1 else [fg.identity(x)]
        size = -(-dim // n)  # ONNX 18: the last part is smaller
        split = [size] * (n - 1) + [dim - size * (n - 1)]
    parts = fg.split(x, axes_list(split), axis=axis)
    return list(parts) if isinstance(parts, list | tuple) else [parts]


@rule("Expand")
def _expand(ctx, node, ins, attrs):
    shape = axes_list(ctx.static(node, 1, "shape"))
    x = ins[0]
    return x * fg.ones(shape, dtype=x.dtype)  # broadcasting both ways, as ONNX's Expand


@rule("Range")
def _range(ctx, node, ins, attrs):
    return fg.range(ins[0], ins[1], ins[2], dtype=ins[0].dtype)
