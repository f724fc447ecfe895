"""How each ONNX op is built from flowgraph ops: one rule per ONNX op type, in :data:`IMPORTERS`.

A rule is ``rule(ctx, node, inputs, attrs) -> Tensor or [Tensor, ...]`` (one per ONNX output);
``inputs`` are flowgraph Tensors (``None`` for an omitted optional input) and ``attrs`` the
node's attributes as Python values. Inputs that flowgraph needs at build time (a Reshape's
shape is dynamic, but reduction axes, slice bounds, pads and repeats are attributes in
flowgraph) must be constants: initializers or Constant nodes, read with ``ctx.static``.

Where ONNX and TF1 mean different things by the same op, the rule maps ONNX's meaning
explicitly (see also :mod:`flowgraph.onnx.export_ops` for the other direction):

- Div on integers truncates toward zero (TF's FloorDiv floors): built from floordiv and a
  correction where the signs differ and the remainder is not zero.
- Mod: ``fmod=0`` is TF's FloorMod (the divisor's sign); ``fmod=1`` is C's fmod (the
  dividend's sign), ``a - trunc(a / b) * b``.
- Conv / MaxPool / AveragePool are NCHW with explicit (possibly asymmetric) ``pads``; TF has
  only SAME/VALID. ``SAME_UPPER`` is TF's SAME; other pads pad the input explicitly and run
  VALID, MaxPool padding with -inf, AveragePool dividing by the count of real elements unless
  ``count_include_pad=1``.
- Reshape: a 0 copies the input's dimension unless ``allowzero=1``.
- Softmax / LogSoftmax before opset 13 flatten to 2-D at ``axis`` (one softmax over all the
  trailing dims); from 13 they act along one axis, as TF does.
- ArgMax/ArgMin ``select_last_index=1`` take the last extreme (TF the first): computed on the
  reversed axis.
- Pow takes an exponent of another dtype (TF needs one dtype): it is cast to the base's.
- Gemm's ``alpha``/``beta``, Flatten, Clip with omitted bounds, Sum/Mean/Max/Min over any
  number of inputs, BatchNormalization (inference) are composed from several ops.

>>> len(IMPORTERS) > 60
True
"""

from __future__ import annotations

import numpy as np
import onnx

import flowgraph as fg
from flowgraph.graph.tensor import Tensor
from flowgraph.onnx.errors import ONNXImportError

IMPORTERS: dict = {}
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}


def numpy_dtype(elem_type: int, what: str) -> np.dtype:
    """The NumPy dtype of ONNX element type ``elem_type``, if flowgraph has it."""
    try:
        dt = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:  # an unknown or non-numeric element type
        dt = None
    if dt is None or dt.name not in _DTYPES:
        name = (
            onnx.TensorProto.DataType.Name(elem_type)
            if elem_type in onnx.TensorProto.DataType.values()
            else elem_type
        )
        raise ONNXImportError(f"{what} has element type {name}, which flowgraph has no dtype for")
    return dt


class StaticInputNeeded(ONNXImportError):
    """A rule needs the value of graph input ``name`` at build time (a Reshape's shape, a
    Slice's bounds fed at run time): import again with ``bind={name: value}``."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


class ImportContext:
    """What an import rule sees: the tensors built so far (by ONNX name), constant values, the
    names of the graph's (unbound) inputs, and the model's opset."""

    def __init__(self, opset: int, values: dict, graph_inputs=()) -> None:
        self.opset = opset
        self.values = values
        self.graph_inputs = set(graph_inputs)
        self.tensors: dict[str, Tensor] = {}

    def tensor(self, name: str, what: str) -> Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise ONNXImportError(f"{what} reads {name!r}, which is not defined") from None

    def static(self, node, i: int, what: str):
        """The constant value of ``node``'s input ``i``; None when the input is omitted."""
        if i >= len(node.input) or not node.input[i]:
            return None
        name = node.input[i]
        if name in self.values:
            return self.values[name]
        t = self.tensors.get(name)
        if t is not None and t.op.type == "Const":
            return np.asarray(t.op.attrs["value"])
        source = name if name in self.graph_inputs else self._integer_input_upstream(t)
        if source is not None:
            raise StaticInputNeeded(
                f"its {what} (input {i}) depends on graph input {source!r}, whose value "
                f"flowgraph needs when the graph is built: pass bind={{{source!r}: value}} "
                "to import_model",
                source,
            )
        raise ONNXImportError(
            f"its {what} (input {i}, {name!r}) must be a constant (an initializer or a Constant "
            "node): flowgraph fixes it when the graph is built"
        )

    def _integer_input_upstream(self, t: Tensor | None) -> str | None:
        """The first integer graph input that ``t`` is computed from (a fed shape or index
        from which a model computes pads or axes); None when there is none."""
        if t is None:
            return None
        placeholders = {self.tensors[n].op: n for n in self.graph_inputs if n in self.tensors}
        seen, stack = set(), [t.op]
        while stack:
            op = stack.pop()
            if op in seen:
                continue
            seen.add(op)
            name = placeholders.get(op)
            if name is not None and op.outputs[0].dtype.is_integer:
                return name
            stack.extend(x.op for x in op.inputs)
        return None


def rule(*op_types):
    def register(fn):
        for t in op_types:
            IMPORTERS[t] = fn
        return fn

    return register


def _rank(t: Tensor, op: str) -> int:
    if t.shape.rank is None:
        raise ONNXImportError(f"{op} needs its input's rank, which the model leaves unknown")
    return t.shape.rank


def _axes_list(value) -> list[int]:
    return [int(a) for a in np.asarray(value).reshape(-1)]


def _no_unsupported(attrs: dict, defaults: dict) -> None:
    for key, default in defaults.items():
        if (
            key in attrs
            and attrs[key] != default
            and not (isinstance(default, list) and list(attrs[key]) == default)
        ):
            raise ONNXImportError(f"attribute {key}={attrs[key]!r} is not supported")


# ---- elementwise ------------------------------------------------------------------------------

_UNARY = {
    "Neg": fg.negative, "Abs": fg.abs, "Exp": fg.exp, "Log": fg.log, "Sqrt": fg.sqrt,
    "Sin": fg.sin, "Cos": fg.cos, "Tanh": fg.tanh, "Sigmoid": fg.sigmoid, "Relu": fg.nn.relu,
    "Softplus": fg.nn.softplus, "Sign": fg.sign, "Identity": fg.identity, "Not": fg.logical_not,
    "Reciprocal": fg.reciprocal,
}  # fmt: skip
_BINARY = {
    "Add": fg.add, "Sub": fg.subtract, "Mul": fg.multiply, "Equal": fg.equal,
    "Greater": fg.greater, "Less": fg.less, "GreaterOrEqual": fg.greater_equal,
    "LessOrEqual": fg.less_equal, "And": fg.logical_and, "Or": fg.logical_or,
}  # fmt: skip


def _unary(fn):
    return lambda ctx, node, ins, attrs: fn(ins[0])


def _binary(fn):
    return lambda ctx, node, ins, attrs: fn(ins[0], ins[1])


for _name, _fn in _UNARY.items():
    IMPORTERS[_name] = _unary(_fn)
for _name, _fn in _BINARY.items():
    IMPORTERS[_name] = _binary(_fn)


@rule("Xor")
def _xor(ctx, node, ins, attrs):
    return fg.not_equal(ins[0], ins[1])


def _trunc(x):
    return fg.sign(x) * fg.floordiv(fg.abs(x), fg.ones_like(x))


@rule("Floor")
def _floor(ctx, node, ins, attrs):
    return fg.floordiv(ins[0], fg.ones_like(ins[0]))


@rule("Ceil")
def _ceil(ctx, node, ins, attrs):
    return -fg.floordiv(-ins[0], fg.ones_like(ins[0]))


@rule("Div")
def _div(ctx, node, ins, attrs):
    a, b = ins
    if a.dtype.is_floating:
        return fg.divide(a, b)
    q = fg.floordiv(a, b)  # floor; ONNX truncates, which is one more where signs differ
    inexact = fg.not_equal(fg.floormod(a, b), fg.zeros_like(a))
    differ = fg.not_equal(fg.less(a, fg.zeros_like(a)), fg.less(b, fg.zeros_like(b)))
    return fg.where(fg.logical_and(inexact, differ), q + fg.ones_like(q), q)


@rule("Mod")
def _mod(ctx, node, ins, attrs):
    a, b = ins
    if not attrs.get("fmod", 0):  # Python's %, the divisor's sign: TF's FloorMod
        return fg.floormod(a, b)
    if a.dtype.is_floating:
        return a - _trunc(a / b) * b
    return fg.sign(a) * fg.floormod(fg.abs(a), fg.abs(b))


@rule("Pow")
def _pow(ctx, node, ins, attrs):
    base, exponent = ins
    if exponent.dtype != base.dtype:
        exponent = fg.cast(exponent, base.dtype)
    return fg.pow(base, exponent)


@rule("Max", "Min", "Sum", "Mean")
def _variadic(ctx, node, ins, attrs):
    fn = {"Max": fg.maximum, "Min": fg.minimum}.get(node.op_type, fg.add)
    out = ins[0]
    for t in ins[1:]:
        out = fn(out, t)
    if node.op_type == "Mean":
        out = out / fg.constant(float(len(ins)), dtype=out.dtype)
    return out if len(ins) > 1 else fg.identity(out)


@rule("Where")
def _where(ctx, node, ins, attrs):
    return fg.where(ins[0], ins[1], ins[2])


@rule("Clip")
def _clip(ctx, node, ins, attrs):
    x = ins[0]
    lo = ins[1] if len(ins) > 1 else None
    hi = ins[2] if len(ins) > 2 else None
    if "min" in attrs:  # opset < 11
        lo = fg.constant(attrs["min"], dtype=x.dtype)
    if "max" in attrs:
        hi = fg.constant(attrs["max"], dtype=x.dtype)
    if lo is not None:
        x = fg.maximum(x, lo)
    if hi is not None:
        x = fg.minimum(x, hi)
    return fg.identity(x)


@rule("Cast")
def _cast(ctx, node, ins, attrs):
    return fg.cast(ins[0], fg.as_dtype(numpy_dtype(attrs["to"], "Cast's 'to'")))


@rule("Elu")
def _elu(ctx, node, ins, attrs):
    x, alpha = ins[0], attrs.get("alpha", 1.0)
    return fg.where(x > 0, x, fg.constant(alpha, dtype=x.dtype) * (fg.exp(x) - 1))


@rule("Selu")
def _selu(ctx, node, ins, attrs):
    x = ins[0]
    alpha = fg.constant(attrs.get("alpha", 1.67326319217681884765625), dtype=x.dtype)
    gamma = fg.constant(attrs.get("gamma", 1.05070102214813232421875), dtype=x.dtype)
    return gamma * fg.where(x > 0, x, alpha * (fg.exp(x) - 1))


@rule("LeakyRelu")
def _leaky_relu(ctx, node, ins, attrs):
    return fg.nn.leaky_relu(ins[0], alpha=attrs.get("alpha", 0.01))


@rule("PRelu")
def _prelu(ctx, node, ins, attrs):
    x, slope = ins
    return fg.where(x < 0, slope * x, x)


@rule("HardSigmoid")
def _hard_sigmoid(ctx, node, ins, attrs):
    x = ins[0]
    y = fg.constant(attrs.get("alpha", 0.2), dtype=x.dtype) * x + attrs.get("beta", 0.5)
    return fg.clip_by_value(y, fg.zeros_like(y), fg.ones_like(y))


@rule("Softsign")
def _softsign(ctx, node, ins, attrs):
    return ins[0] / (fg.abs(ins[0]) + 1)


@rule("ThresholdedRelu")
def _thresholded_relu(ctx, node, ins, attrs):
    x = ins[0]
    return fg.where(x > fg.constant(attrs.get("alpha", 1.0), dtype=x.dtype), x, fg.zeros_like(x))


@rule("Softmax", "LogSoftmax")
def _softmax(ctx, node, ins, attrs):
    x = ins[0]
    fn = fg.nn.softmax if node.op_type == "Softmax" else fg.nn.log_softmax
    axis = attrs.get("axis", -1 if ctx.opset >= 13 else 1)
    if ctx.opset >= 13:
        return fn(x, axis=axis)
    rank = _rank(x, node.op_type)  # before 13: one softmax over the dims from axis on
    flat = fg.reshape(x, _flatten_shape(x, axis % rank if rank else 0))
    return fg.reshape(fn(flat, axis=1), fg.shape(x))


# ---- linear algebra -------------------------------------------------------------------------


@rule("MatMul")
def _matmul(ctx, node, ins, attrs):
    a, b = ins  # NumPy's rules: a 1-D operand gets a unit dim, removed again after
    a1, b1 = a.shape.rank == 1, b.shape.rank == 1
    y = fg.matmul(fg.expand_dims(a, 0) if a1 else a, fg.expand_dims(b, -1) if b1 else b)
    if b1:
        y = fg.squeeze(y, [-1])
    if a1:
        y = fg.squeeze(y, [-1 if b1 else -2])
    return y


@rule("Gemm")
def _gemm(ctx, node, ins, attrs):
    a, b = ins[0], ins[1]
    y = fg.matmul(
        a, b, transpose_a=bool(attrs.get("transA")), transpose_b=bool(attrs.get("transB"))
    )
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha != 1.0:
        y = y * fg.constant(alpha, dtype=y.dtype)
    if len(ins) > 2 and ins[2] is not None:
        c = ins[2] if beta == 1.0 else ins[2] * fg.constant(beta, dtype=y.dtype)
        y = y + c
    return y


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
    _no_unsupported(attrs, {"storage_order": 0, "dilations": [1, 1]})
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
    axes = list(range(2, _rank(x, node.op_type)))
    fn = fg.reduce_mean if node.op_type == "GlobalAveragePool" else fg.reduce_max
    return fn(x, axis=axes, keepdims=True)


@rule("BatchNormalization")
def _batch_norm(ctx, node, ins, attrs):
    if attrs.get("training_mode", 0):
        raise ONNXImportError("training_mode=1 is not supported (inference only)")
    x, scale, bias, mean, var = ins[:5]
    shape = [1, -1] + [1] * (_rank(x, node.op_type) - 2)
    eps = fg.constant(attrs.get("epsilon", 1e-5), dtype=x.dtype)
    inv = fg.reshape(scale * fg.rsqrt(var + eps), shape)
    return (x - fg.reshape(mean, shape)) * inv + fg.reshape(bias, shape)


# ---- shapes and layout ----------------------------------------------------------------------


def _flatten_shape(x, axis):
    """A run-time [prod(dims[:axis]), prod(dims[axis:])] for ``x``."""
    s = fg.shape(x, out_type=fg.int64)
    head = fg.reduce_prod(s[:axis]) if axis else fg.constant(1, dtype=fg.int64)
    return fg.stack([head, fg.reduce_prod(s[axis:])])


@rule("Flatten")
def _flatten(ctx, node, ins, attrs):
    x = ins[0]
    axis = attrs.get("axis", 1)
    if axis < 0:
        axis += _rank(x, "Flatten")
    return fg.reshape(x, _flatten_shape(x, axis))


@rule("Reshape")
def _reshape(ctx, node, ins, attrs):
    x = ins[0]
    allowzero = attrs.get("allowzero", 0)
    try:
        shape = _axes_list(ctx.static(node, 1, "shape"))
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


def _axes(ctx, node, attrs, what="axes"):
    if "axes" in attrs:
        return list(attrs["axes"])
    value = ctx.static(node, 1, what)
    return None if value is None else _axes_list(value)


@rule("Unsqueeze")
def _unsqueeze(ctx, node, ins, attrs):
    x = ins[0]
    axes = _axes(ctx, node, attrs)
    rank = _rank(x, "Unsqueeze") + len(axes)
    for a in sorted(a % rank for a in axes):
        x = fg.expand_dims(x, a)
    return fg.identity(x)


@rule("Squeeze")
def _squeeze(ctx, node, ins, attrs):
    axes = _axes(ctx, node, attrs)
    return fg.squeeze(ins[0], axis=axes if axes else None)


@rule("Gather")
def _gather(ctx, node, ins, attrs):
    return fg.gather(ins[0], ins[1], axis=attrs.get("axis", 0))


@rule("GatherND")
def _gather_nd(ctx, node, ins, attrs):
    _no_unsupported(attrs, {"batch_dims": 0})
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
    shape = _axes_list(ctx.static(node, 0, "shape"))
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
    return fg.tile(ins[0], _axes_list(ctx.static(node, 1, "repeats")))


@rule("Pad")
def _pad(ctx, node, ins, attrs):
    x = ins[0]
    mode = attrs.get("mode", b"constant")
    mode = (mode.decode() if isinstance(mode, bytes) else mode).upper()
    if mode not in ("CONSTANT", "REFLECT"):  # ONNX's edge/wrap have no TF mode
        raise ONNXImportError(f"pad mode {mode.lower()!r} is not supported")
    pads = attrs.get("pads")
    pads = _axes_list(ctx.static(node, 1, "pads")) if pads is None else list(pads)
    value = ctx.static(node, 2, "constant_value") if "value" not in attrs else attrs["value"]
    rank = _rank(x, "Pad")
    axes = ctx.static(node, 3, "axes")
    axes = list(range(rank)) if axes is None else [a % rank for a in _axes_list(axes)]
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
    rank = _rank(x, "Slice")
    starts = _axes_list(ctx.static(node, 1, "starts"))
    ends = _axes_list(ctx.static(node, 2, "ends"))
    axes = ctx.static(node, 3, "axes")
    axes = list(range(len(starts))) if axes is None else _axes_list(axes)
    steps = ctx.static(node, 4, "steps")
    steps = [1] * len(starts) if steps is None else _axes_list(steps)
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
    parts = fg.split(x, _axes_list(split), axis=axis)
    return list(parts) if isinstance(parts, list | tuple) else [parts]


@rule("Expand")
def _expand(ctx, node, ins, attrs):
    shape = _axes_list(ctx.static(node, 1, "shape"))
    x = ins[0]
    return x * fg.ones(shape, dtype=x.dtype)  # broadcasting both ways, as ONNX's Expand


@rule("Range")
def _range(ctx, node, ins, attrs):
    return fg.range(ins[0], ins[1], ins[2], dtype=ins[0].dtype)


# ---- reductions and indices -----------------------------------------------------------------


def _reduce_axes(ctx, node, attrs):
    axes = _axes(ctx, node, attrs)
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
        rank = _rank(x, node.op_type)
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
    k = int(_axes_list(ctx.static(node, 1, "K"))[0])
    _no_unsupported(attrs, {"sorted": 1})
    if not attrs.get("largest", 1):  # the k smallest: the k largest of -x (ties: lower index)
        values, indices = _top_k_largest(-x, k, attrs.get("axis", -1))
        return -values, indices
    return _top_k_largest(x, k, attrs.get("axis", -1))


def _top_k_largest(x, k, axis):
    rank = _rank(x, "TopK")
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
    axis = int(_axes_list(ctx.static(node, 1, "axis"))[0])
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
