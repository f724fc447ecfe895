"""ONNX import rules: elementwise math, activations, matrix products (see
:mod:`flowgraph.onnx.import_ops` for the table and the differences from TF1).
"""

from __future__ import annotations

import numpy as np

import flowgraph as fg
from flowgraph.onnx.import_ops import (
    IMPORTERS,
    flatten_shape,
    known_rank,
    numpy_dtype,
    rule,
)

# ---- elementwise ------------------------------------------------------------------------------

_UNARY = {
    "Neg": fg.negative, "Abs": fg.abs, "Exp": fg.exp, "Log": fg.log, "Sqrt": fg.sqrt,
    "Sin": fg.sin, "Cos": fg.cos, "Tanh": fg.tanh, "Sigmoid": fg.sigmoid, "Relu": fg.nn.relu,
    "Softplus": fg.nn.softplus, "Sign": fg.sign, "Identity": fg.identity, "Not": fg.logical_not,
    "Reciprocal": fg.reciprocal, "Erf": fg.erf,
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
    rank = known_rank(x, node.op_type)  # before 13: one softmax over the dims from axis on
    flat = fg.reshape(x, flatten_shape(x, axis % rank if rank else 0))
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


# ---- composed from other ops ------------------------------------------------------------------


def _c(value, like):
    return fg.constant(value, dtype=like.dtype)


@rule("Tan")
def _tan(ctx, node, ins, attrs):
    return fg.sin(ins[0]) / fg.cos(ins[0])


@rule("Sinh", "Cosh")
def _sinh_cosh(ctx, node, ins, attrs):
    x = ins[0]
    e, inv = fg.exp(x), fg.exp(-x)
    return (e - inv if node.op_type == "Sinh" else e + inv) * _c(0.5, x)


@rule("Asinh")
def _asinh(ctx, node, ins, attrs):
    x = ins[0]
    return fg.log(x + fg.sqrt(x * x + _c(1, x)))


@rule("Acosh")
def _acosh(ctx, node, ins, attrs):
    x = ins[0]
    return fg.log(x + fg.sqrt(x * x - _c(1, x)))


@rule("Atanh")
def _atanh(ctx, node, ins, attrs):
    x = ins[0]
    return _c(0.5, x) * fg.log((_c(1, x) + x) / (_c(1, x) - x))


@rule("HardSwish")
def _hard_swish(ctx, node, ins, attrs):
    x = ins[0]
    return x * fg.clip_by_value(x * _c(1 / 6, x) + _c(0.5, x), _c(0, x), _c(1, x))


@rule("Mish")
def _mish(ctx, node, ins, attrs):
    return ins[0] * fg.tanh(fg.nn.softplus(ins[0]))


@rule("Swish")
def _swish(ctx, node, ins, attrs):
    x = ins[0]
    return x * fg.sigmoid(_c(attrs.get("alpha", 1.0), x) * x)


@rule("Celu")
def _celu(ctx, node, ins, attrs):
    x, alpha = ins[0], _c(attrs.get("alpha", 1.0), ins[0])
    return fg.maximum(x, _c(0, x)) + fg.minimum(_c(0, x), alpha * (fg.exp(x / alpha) - _c(1, x)))


@rule("Shrink")
def _shrink(ctx, node, ins, attrs):
    x = ins[0]
    lambd, bias = _c(attrs.get("lambd", 0.5), x), _c(attrs.get("bias", 0.0), x)
    return fg.where(x < -lambd, x + bias, fg.where(x > lambd, x - bias, fg.zeros_like(x)))


@rule("IsNaN")
def _is_nan(ctx, node, ins, attrs):
    return fg.not_equal(ins[0], ins[0])


@rule("IsInf")
def _is_inf(ctx, node, ins, attrs):
    x = ins[0]
    up = fg.equal(x, _c(np.inf, x)) if attrs.get("detect_positive", 1) else fg.zeros_like(x) > 1
    down = fg.equal(x, _c(-np.inf, x)) if attrs.get("detect_negative", 1) else fg.zeros_like(x) > 1
    return fg.logical_or(up, down)


@rule("Round")
def _round(ctx, node, ins, attrs):
    # Halves to even, as ONNX (and TF's round) want: floor(x + 0.5), one less on an odd tie.
    x = ins[0]
    r = fg.floordiv(x + _c(0.5, x), fg.ones_like(x))
    tie_odd = fg.logical_and(
        fg.equal(r - x, _c(0.5, x)), fg.equal(fg.floormod(r, _c(2, x)), _c(1, x))
    )
    return fg.where(tie_odd, r - _c(1, x), r)
