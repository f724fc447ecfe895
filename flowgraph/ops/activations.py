"""Elementwise activations and softmax (``relu6``, ``elu``, ``selu``, ``leaky_relu``,
``softplus``, ``softmax``, ``log_softmax``), each op with its kernel and gradient rule.

Kernels are written for large inputs: ``elu``/``selu`` only exponentiate the non-positive part,
``softplus`` uses ``max(x, 0) + log1p(exp(-|x|))``, and ``softmax``/``log_softmax`` subtract the
maximum logit first, so logits of ±1e4 stay finite. The public functions are re-exported by
:mod:`flowgraph.ops.nn` (``fg.nn.softmax``); ``relu``, ``sigmoid`` and ``tanh`` are math ops
(:mod:`flowgraph.ops.math`).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([[-1.0, 0.0, 8.0]])
...     fg.Session().run([relu6(x), softmax(fg.constant([[1e4, -1e4]]))])
[array([[0., 0., 6.]], dtype=float32), array([[1., 0.]], dtype=float32)]
"""

from __future__ import annotations

import numbers

from flowgraph.errors import ShapeError
from flowgraph.ops import math, reduce, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "elu",
    "leaky_relu",
    "log_softmax",
    "relu6",
    "selu",
    "softmax",
    "softplus",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def axis_arg(axis, dim, what: str) -> int:
    """TF1's ``dim`` is the old name of ``axis``; give one of them (``axis=-1`` is the default)."""
    if dim is not None:
        if axis is not None and axis != -1 and axis != dim:
            raise ValueError(f"{what}: cannot specify both 'axis' ({axis}) and 'dim' ({dim})")
        axis = dim
    axis = -1 if axis is None else axis
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{what}: axis must be a Python int, got {axis!r}")
    return int(axis)


# ---- elementwise activations ------------------------------------------------------------


def _activation(op_type, kernel, infer=rules.float_unary, attrs=None):
    define_op(op_type, infer, kernel=kernel, attrs=attrs or {})


_activation("Relu6", lambda xp, x: xp.clip(x, 0, 6), rules.numeric_unary)
# expm1 only sees x <= 0, so a large positive x never overflows in the unused branch.
_activation("Elu", lambda xp, x: xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0))))
_activation(
    "Selu",
    lambda xp, x: _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0))),
)
_activation(
    "LeakyRelu", lambda xp, x, *, alpha: xp.where(x > 0, x, alpha * x), attrs={"alpha": 0.2}
)
# softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): e^-|x| <= 1 never overflows.
_activation("Softplus", lambda xp, x: xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))))


@gradient("Relu6")
def _relu6_grad(op, grad):
    """dx = g where 0 < x < 6, else 0."""
    x = op.inputs[0]
    inside = math.logical_and(math.greater(x, 0), math.less(x, 6))
    return [grad * math.cast(inside, grad.dtype)]


@gradient("Elu")
def _elu_grad(op, grad):
    """dx = g where x > 0, else g * (y + 1)."""
    x, y = op.inputs[0], op.outputs[0]
    return [math.where(math.greater(x, 0), grad, grad * (y + 1))]


@gradient("Selu")
def _selu_grad(op, grad):
    """dx = scale * g where x > 0, else g * (y + scale * alpha)."""
    x, y = op.inputs[0], op.outputs[0]
    return [
        math.where(math.greater(x, 0), grad * _SELU_SCALE, grad * (y + _SELU_SCALE * _SELU_ALPHA))
    ]


@gradient("LeakyRelu")
def _leaky_relu_grad(op, grad):
    """dx = g where x > 0, else alpha * g."""
    return [math.where(math.greater(op.inputs[0], 0), grad, grad * op.attrs["alpha"])]


@gradient("Softplus")
def _softplus_grad(op, grad):
    """dx = g * sigmoid(x)."""
    return [grad * math.sigmoid(op.inputs[0])]


def relu6(features, name=None):
    """``min(max(features, 0), 6)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(relu6(fg.constant([-1.0, 3.0, 9.0])))
    array([0., 3., 6.], dtype=float32)
    """
    return apply_op("Relu6", [convert_to_tensor(features)], name=name or "Relu6")


def elu(features, name=None):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``exp(x) - 1``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(elu(fg.constant([-1.0, 2.0])))
    array([-0.63212055,  2.        ], dtype=float32)
    """
    return apply_op("Elu", [convert_to_tensor(features)], name=name or "Elu")


def selu(features, name=None):
    """Scaled ELU: ``scale * (x if x > 0 else alpha * (exp(x) - 1))`` with the SELU constants.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(selu(fg.constant([-1.0, 1.0])))
    array([-1.1113307,  1.050701 ], dtype=float32)
    """
    return apply_op("Selu", [convert_to_tensor(features)], name=name or "Selu")


def leaky_relu(features, alpha=0.2, name=None):
    """``x`` if ``x > 0`` else ``alpha * x``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(leaky_relu(fg.constant([-1.0, 2.0])))
    array([-0.2,  2. ], dtype=float32)
    """
    attrs = {"alpha": float(alpha)}
    return apply_op("LeakyRelu", [convert_to_tensor(features)], attrs, name=name or "LeakyRelu")


def softplus(features, name=None):
    """``log(exp(x) + 1)``, computed without overflow.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(softplus(fg.constant([0.0, 1e4])))
    array([6.931472e-01, 1.000000e+04], dtype=float32)
    """
    return apply_op("Softplus", [convert_to_tensor(features)], name=name or "Softplus")


# ---- softmax and log_softmax ------------------------------------------------------------


def _softmax_infer(inputs, attrs):
    x = inputs[0]
    rules.require_kind(x, "float", "logits")
    if x.shape.rank == 0:
        raise ShapeError("logits must have rank at least 1, but is a scalar")
    rules.normalize_axis(attrs["axis"], x.shape.rank)
    return [(x.dtype, x.shape)]


def _shifted(xp, x, axis):
    """``x - max(x)`` along ``axis``: exp of it never overflows."""
    return x - xp.max(x, axis=axis, keepdims=True)


def _softmax_kernel(xp, x, *, axis):
    e = xp.exp(_shifted(xp, x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)


def neg_log_softmax(xp, x, axis):
    """``-log_softmax(x)``, computed as ``log(sum(exp(s))) - s`` with ``s = x - max(x)``: every
    term is finite for finite x, and exactly +0 for the largest logit."""
    s = _shifted(xp, x, axis)
    return xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True)) - s


def _log_softmax_kernel(xp, x, *, axis):
    s = _shifted(xp, x, axis)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


define_op("Softmax", _softmax_infer, kernel=_softmax_kernel, attrs={"axis": -1})
define_op("LogSoftmax", _softmax_infer, kernel=_log_softmax_kernel, attrs={"axis": -1})


@gradient("Softmax")
def _softmax_grad(op, grad):
    """dx = (g - sum(g * y, axis)) * y, y = softmax(x)."""
    y, axis = op.outputs[0], op.attrs["axis"]
    return [(grad - reduce.reduce_sum(grad * y, axis, keepdims=True)) * y]


@gradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    """dx = g - softmax(x) * sum(g, axis)."""
    y, axis = op.outputs[0], op.attrs["axis"]
    return [grad - math.exp(y) * reduce.reduce_sum(grad, axis, keepdims=True)]


def softmax(logits, axis=None, name=None, dim=None):
    """``exp(logits) / sum(exp(logits), axis)``, stable for large logits (``axis=-1``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(softmax(fg.constant([[1.0, 1.0], [1e4, 0.0]])))
    array([[0.5, 0.5],
           [1. , 0. ]], dtype=float32)
    """
    attrs = {"axis": axis_arg(axis, dim, "softmax")}
    return apply_op("Softmax", [convert_to_tensor(logits)], attrs, name=name or "Softmax")


def log_softmax(logits, axis=None, name=None, dim=None):
    """``logits - log(sum(exp(logits), axis))``, stable for large logits (``axis=-1``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(log_softmax(fg.constant([0.0, -1e4])))
    array([     0., -10000.], dtype=float32)
    """
    attrs = {"axis": axis_arg(axis, dim, "log_softmax")}
    return apply_op("LogSoftmax", [convert_to_tensor(logits)], attrs, name=name or "LogSoftmax")
