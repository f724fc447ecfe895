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

from flowgraph.onnx.errors import ONNXExportError

EXPORTERS: dict = {}
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def rule(*op_types):
    """Decorator registering a translation rule for flowgraph ``op_types``."""

    def register(fn):
        for t in op_types:
            EXPORTERS[t] = fn
        return fn

    return register


def onnx_elem(dtype) -> int:
    """The ONNX element type (TensorProto enum) of a flowgraph dtype."""
    from flowgraph.onnx.exporter import elem_type

    return elem_type(dtype)


def input_rank(op, i=0) -> int:
    """The static rank of ``op``'s input ``i``; ONNXExportError when unknown."""
    rank = op.inputs[i].shape.rank
    if rank is None:
        raise ONNXExportError(f"input {i} has an unknown rank, which this translation needs")
    return rank


def int_constant(ctx, values, hint) -> str:
    """An int64 vector initializer holding ``values``; its name."""
    return ctx.const(np.asarray(values, dtype=np.int64).reshape(-1), hint=hint)


def scalar_constant(ctx, value, dtype, hint="c") -> str:
    """A scalar initializer of ``dtype`` holding ``value``; its name."""
    return ctx.const(np.asarray(value, dtype=dtype.as_numpy_dtype), hint=hint)


# ---- one ONNX op per flowgraph op -----------------------------------------------------------

_SAME = {
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Maximum": "Max", "Minimum": "Min", "Pow": "Pow",
    "Equal": "Equal", "Greater": "Greater", "GreaterEqual": "GreaterOrEqual", "Less": "Less",
    "LessEqual": "LessOrEqual", "LogicalAnd": "And", "LogicalOr": "Or", "LogicalNot": "Not",
    "Neg": "Neg", "Abs": "Abs", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Sin": "Sin",
    "Cos": "Cos", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu", "Elu": "Elu",
    "Selu": "Selu", "Softplus": "Softplus", "Sign": "Sign", "Identity": "Identity", "Erf": "Erf",
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
        ins = [ctx.node("Cast", [i], hint=op.name, to=onnx_elem(out))[0] for i in ins]
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
    one = scalar_constant(ctx, 1, op.inputs[0].dtype)
    ctx.node("Log", ctx.node("Add", [ins[0], one], hint=op.name), outs)


@rule("Relu6")
def _relu6(ctx, op, ins, outs):
    dt = op.inputs[0].dtype
    ctx.node("Clip", [ins[0], scalar_constant(ctx, 0, dt), scalar_constant(ctx, 6, dt)], outs)


@rule("LeakyRelu")
def _leaky_relu(ctx, op, ins, outs):
    ctx.node("LeakyRelu", ins, outs, alpha=float(op.attrs["alpha"]))


@rule("ClipByValue")
def _clip(ctx, op, ins, outs):
    x, lo, hi = ins  # TF broadcasts tensor bounds; ONNX Clip takes scalars only
    ctx.node("Max", [ctx.node("Min", [x, hi], hint=op.name)[0], lo], outs)


@rule("Cast")
def _cast(ctx, op, ins, outs):
    ctx.node("Cast", ins, outs, to=onnx_elem(op.attrs["dtype"]))


@rule("Softmax", "LogSoftmax")
def _softmax(ctx, op, ins, outs):
    ctx.node(op.type, ins, outs, axis=int(op.attrs["axis"]))


# The rules, by family; importing them fills EXPORTERS (they import the helpers above).
from flowgraph.onnx import export_nn, export_shapes  # noqa: E402, F401
