"""ONNX import rules: convolution, pooling, normalization, reductions, top-k (see
:mod:`flowgraph.onnx.import_ops` for the table and the differences from TF1).
"""

from __future__ import annotations

import numpy as np

import flowgraph as fg
from flowgraph.onnx.errors import ONNXImportError
from flowgraph.onnx.import_ops import (
    IMPORTERS,
    axes_input,
    axes_list,
    known_rank,
    numpy_dtype,
    refuse_unsupported,
    rule,
)

# ---- convolution and pooling (2-D, NCHW) ----------------------------------------------------


def _explicit_pads(node, x, kernel, strides, dilations, attrs):
    """(TF padding string, [(before, after)] per spatial dim or None) for ONNX's padding."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "VALID":
        return "VALID", None
    if auto == "SAME_UPPER":
        return "SAME", None
    hw = x.shape.dims[2:] if x.shape.dims is not None else [None, None]
    if auto == "SAME_LOWER":
        if None in hw:
            raise ONNXImportError("SAME_LOWER padding needs static spatial sizes")
        pads = []
        for size, k, s, d in zip(hw, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total - total // 2, total // 2))
        return "VALID", pads
    p = list(attrs.get("pads", [0] * 4))
    if not any(p):
        return "VALID", None
    return "VALID", [(p[0], p[2]), (p[1], p[3])]


def _spatial_attrs(node, x, attrs, kernel):
    if x.shape.rank != 4:
        raise ONNXImportError(f"only 2-D {node.op_type} (rank-4 NCHW input) is supported")
    strides = [int(s) for s in attrs.get("strides", [1, 1])]
    dilations = [int(d) for d in attrs.get("dilations", [1, 1])]
    return strides, dilations


def _pad_nchw(x, pads, value=0.0):
    if pads is None:
        return x
    return fg.pad(x, [[0, 0], [0, 0], list(pads[0]), list(pads[1])], constant_values=value)


@rule("Conv")
def _conv(ctx, node, ins, attrs):
    x, w = ins[0], ins[1]
    if attrs.get("group", 1) != 1:
        raise ONNXImportError(f"group={attrs['group']} (grouped convolution) is not supported")
    if w.shape.rank != 4 or None in w.shape.dims[2:]:
        raise ONNXImportError("the weights must be rank 4 with static kernel size")
    kernel = list(w.shape.dims[2:])
    strides, dilations = _spatial_attrs(node, x, attrs, kernel)
    padding, pads = _explicit_pads(node, x, kernel, strides, dilations, attrs)
    f = fg.transpose(w, [2, 3, 1, 0])  # OIHW -> HWIO
    y = fg.nn.conv2d(
        _pad_nchw(x, pads), f, strides=[1, 1, *strides], padding=padding,
        data_format="NCHW", dilations=[1, 1, *dilations],
    )  # fmt: skip
    if len(ins) > 2 and ins[2] is not None:
        y = fg.nn.bias_add(y, ins[2], data_format="NCHW")
    return y


@rule("MaxPool", "AveragePool")
def _pool(ctx, node, ins, attrs):
    x = ins[0]
    kernel = [int(k) for k in attrs["kernel_shape"]]
    strides, dilations = _spatial_attrs(node, x, attrs, kernel)
    refuse_unsupported(attrs, {"storage_order": 0, "dilations": [1, 1]})
    if len(node.output) > 1 and node.output[1]:
        raise ONNXImportError("MaxPool's Indices output is not supported")
    padding, pads = _explicit_pads(node, x, kernel, strides, dilations, attrs)
    extra = None
    if attrs.get("ceil_mode", 0):
        if padding != "VALID":
            raise ONNXImportError("ceil_mode=1 with auto_pad SAME is not supported")
        pads = pads or [(0, 0), (0, 0)]
        extra = _ceil_extra(x, kernel, strides, pads)
    args = dict(
        ksize=[1, 1, *kernel], strides=[1, 1, *strides], padding=padding, data_format="NCHW"
    )
    full = pads if extra is None else [(b, e + x_) for (b, e), x_ in zip(pads, extra)]
    if node.op_type == "MaxPool":
        dt = x.dtype.as_numpy_dtype
        lowest = -np.inf if x.dtype.is_floating else np.iinfo(dt).min
        return fg.nn.max_pool(_pad_nchw(x, full, lowest), **args)
    y = fg.nn.avg_pool(_pad_nchw(x, full), **args)
    include = attrs.get("count_include_pad", 0)
    if full is None or (include and extra is None):
        return y
    # Divide by the elements each window counts: the real ones, plus the explicit pads when
    # count_include_pad=1, never the cells ceil_mode adds past the end.
    mask = fg.ones_like(x)
    if include:
        mask = _pad_nchw(mask, pads, 1.0)
        full = [(0, e) for e in extra]
    count = fg.nn.avg_pool(_pad_nchw(mask, full), **args)
    return y / count


def _ceil_extra(x, kernel, strides, pads) -> list[int]:
    """Cells to add after each spatial dim so VALID pooling gives ceil_mode's output size
    (a last window must start inside the input or its leading padding)."""
    dims = x.shape.dims[2:]
    if None in dims:
        raise ONNXImportError("ceil_mode=1 needs static spatial sizes")
    extra = []
    for size, k, s, (before, after) in zip(dims, kernel, strides, pads):
        span = size + before + after
        out = -(-(span - k) // s) + 1
        if (out - 1) * s >= size + before:
            out -= 1
        extra.append(max((out - 1) * s + k - span, 0))
    return extra


@rule("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(ctx, node, ins, attrs):
    x = ins[0]
    axes = list(range(2, known_rank(x, node.op_type)))
    fn = fg.reduce_mean if node.op_type == "GlobalAveragePool" else fg.reduce_max
    return fn(x, axis=axes, keepdims=True)


@rule("BatchNormalization")
def _batch_norm(ctx, node, ins, attrs):
    if attrs.get("training_mode", 0):
        raise ONNXImportError("training_mode=1 is not supported (inference only)")
    x, scale, bias, mean, var = ins[:5]
    shape = [1, -1] + [1] * (known_rank(x, node.op_type) - 2)
    eps = fg.constant(attrs.get("epsilon", 1e-5), dtype=x.dtype)
    inv = fg.reshape(scale * fg.rsqrt(var + eps), shape)
    return (x - fg.reshape(mean, shape)) * inv + fg.reshape(bias, shape)


# ---- reductions and indices -----------------------------------------------------------------


def _reduce_axes(ctx, node, attrs):
    axes = axes_input(ctx, node, attrs)
    if not axes:
        return "noop" if attrs.get("noop_with_empty_axes", 0) else None
    return axes


def _reduction(fn, pre=None, post=None, bool_as=None):
    def build(ctx, node, ins, attrs):
        x = ins[0]
        axes = _reduce_axes(ctx, node, attrs)
        if bool_as is not None and x.dtype == fg.bool and axes != "noop":
            return bool_as(x, axis=axes, keepdims=bool(attrs.get("keepdims", 1)))
        if axes == "noop":
            return fg.identity(x if pre is None else pre(x))
        y = fn(x if pre is None else pre(x), axis=axes, keepdims=bool(attrs.get("keepdims", 1)))
        return y if post is None else post(y)

    return build


IMPORTERS.update(
    ReduceSum=_reduction(fg.reduce_sum),
    ReduceMean=_reduction(fg.reduce_mean),
    ReduceMax=_reduction(fg.reduce_max, bool_as=fg.reduce_any),
    ReduceMin=_reduction(fg.reduce_min, bool_as=fg.reduce_all),
    ReduceProd=_reduction(fg.reduce_prod),
    ReduceSumSquare=_reduction(fg.reduce_sum, pre=fg.square),
    ReduceL1=_reduction(fg.reduce_sum, pre=fg.abs),
    ReduceL2=_reduction(fg.reduce_sum, pre=fg.square, post=fg.sqrt),
    ReduceLogSum=_reduction(fg.reduce_sum, post=fg.log),
    ReduceLogSumExp=_reduction(fg.reduce_logsumexp),
)


@rule("ArgMax", "ArgMin")
def _arg(ctx, node, ins, attrs):
    x, axis = ins[0], attrs.get("axis", 0)
    fn = fg.argmax if node.op_type == "ArgMax" else fg.argmin
    if attrs.get("select_last_index", 0):
        rank = known_rank(x, node.op_type)
        key = [slice(None)] * rank
        key[axis % rank] = slice(None, None, -1)
        last = fg.shape(x, out_type=fg.int64)[axis] - 1
        y = last - fn(x[tuple(key)], axis=axis)
    else:
        y = fn(x, axis=axis)
    return fg.expand_dims(y, axis) if attrs.get("keepdims", 1) else y


@rule("TopK")
def _top_k(ctx, node, ins, attrs):
    x = ins[0]
    k = int(axes_list(ctx.static(node, 1, "K"))[0])
    refuse_unsupported(attrs, {"sorted": 1})
    if not attrs.get("largest", 1):  # the k smallest: the k largest of -x (ties: lower index)
        values, indices = _top_k_largest(-x, k, attrs.get("axis", -1))
        return -values, indices
    return _top_k_largest(x, k, attrs.get("axis", -1))


def _top_k_largest(x, k, axis):
    rank = known_rank(x, "TopK")
    axis %= rank
    if axis != rank - 1:
        perm = [*range(axis), *range(axis + 1, rank), axis]
        values, indices = fg.top_k(fg.transpose(x, perm), k)
        back = list(np.argsort(perm))
        return fg.transpose(values, back), fg.cast(fg.transpose(indices, back), fg.int64)
    values, indices = fg.top_k(x, k)
    return values, fg.cast(indices, fg.int64)


@rule("CumSum")
def _cumsum(ctx, node, ins, attrs):
    axis = int(axes_list(ctx.static(node, 1, "axis"))[0])
    return fg.cumsum(
        ins[0],
        axis=axis,
        exclusive=bool(attrs.get("exclusive")),
        reverse=bool(attrs.get("reverse")),
    )


@rule("Dropout")
def _dropout(ctx, node, ins, attrs):
    training = ctx.static(node, 2, "training_mode")
    ratio = ctx.static(node, 1, "ratio")
    if training is not None and bool(np.asarray(training)):
        if ratio is None or float(np.asarray(ratio)) != 0.0:  # a zero ratio drops nothing
            raise ONNXImportError("training_mode=True (random dropout) is not supported")
    return fg.identity(ins[0]), fg.cast(fg.ones_like(ins[0]), fg.bool)


@rule("LpNormalization")
def _lp_normalization(ctx, node, ins, attrs):
    x, p = ins[0], attrs.get("p", 2)
    axis = attrs.get("axis", -1)
    if p == 1:
        norm = fg.reduce_sum(fg.abs(x), axis=axis, keepdims=True)
    elif p == 2:
        norm = fg.sqrt(fg.reduce_sum(x * x, axis=axis, keepdims=True))
    else:
        raise ONNXImportError(f"p={p} is not supported (1 or 2)")
    return fg.where(fg.equal(norm, fg.zeros_like(norm)), fg.zeros_like(x), x / norm)


@rule("MeanVarianceNormalization")
def _mean_variance_normalization(ctx, node, ins, attrs):
    x = ins[0]
    axes = list(attrs.get("axes", [0, 2, 3]))
    mean = fg.reduce_mean(x, axis=axes, keepdims=True)
    var = fg.reduce_mean(fg.square(x - mean), axis=axes, keepdims=True)
    return (x - mean) / (fg.sqrt(var) + fg.constant(1e-9, dtype=x.dtype))


@rule("InstanceNormalization")
def _instance_normalization(ctx, node, ins, attrs):
    x, scale, bias = ins
    rank = known_rank(x, "InstanceNormalization")
    axes = list(range(2, rank))
    shape = [1, -1] + [1] * (rank - 2)
    mean = fg.reduce_mean(x, axis=axes, keepdims=True)
    var = fg.reduce_mean(fg.square(x - mean), axis=axes, keepdims=True)
    eps = fg.constant(attrs.get("epsilon", 1e-5), dtype=x.dtype)
    return (x - mean) * fg.rsqrt(var + eps) * fg.reshape(scale, shape) + fg.reshape(bias, shape)


@rule("LayerNormalization")
def _layer_normalization(ctx, node, ins, attrs):
    x, scale = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    rank = known_rank(x, "LayerNormalization")
    axes = list(range(attrs.get("axis", -1) % rank, rank))
    stash = fg.as_dtype(numpy_dtype(attrs.get("stash_type", 1), "stash_type"))
    xs = fg.cast(x, stash) if x.dtype != stash else x  # statistics in the stash type
    mean = fg.reduce_mean(xs, axis=axes, keepdims=True)
    var = fg.reduce_mean(fg.square(xs - mean), axis=axes, keepdims=True)
    inv_std = fg.rsqrt(var + fg.constant(attrs.get("epsilon", 1e-5), dtype=stash))
    normalized = (xs - mean) * inv_std
    y = (normalized if stash == x.dtype else fg.cast(normalized, x.dtype)) * scale
    return [y if bias is None else y + bias, mean, inv_std]
