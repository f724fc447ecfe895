"""Neural-network ops (``flowgraph.nn``): activations, softmax, losses, bias_add and dropout.

The fused ops (softmax, log_softmax, the cross-entropies) have hand-written kernels that
subtract the maximum logit first, so logits of ±1e4 give finite losses and gradients. Their
gradient rules are built from ops, so second derivatives work too. Convolution and pooling live
in :mod:`flowgraph.ops.conv` and are re-exported here, as TF1's ``tf.nn`` does.

>>> import flowgraph as fg
>>> from flowgraph.ops import nn
>>> with fg.Graph().as_default():
...     logits = fg.constant([[0.0, 0.0], [1e4, -1e4]])
...     labels = fg.constant([[1.0, 0.0], [1.0, 0.0]])
...     loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
...     fg.Session().run(loss)
array([0.6931472, 0.       ], dtype=float32)
"""

from __future__ import annotations

import numbers

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph.shape import TensorShape, broadcast_shapes
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math, random, reduce, rules
from flowgraph.ops.broadcast import broadcast_to_shape_of
from flowgraph.ops.conv import (
    avg_pool,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    max_pool,
)
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.math import relu, sigmoid, tanh
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "avg_pool",
    "bias_add",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "dropout",
    "elu",
    "l2_loss",
    "l2_normalize",
    "leaky_relu",
    "log_softmax",
    "max_pool",
    "moments",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "softplus",
    "sparse_softmax_cross_entropy_with_logits",
    "tanh",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_MASK64 = (1 << 64) - 1  # NumPy seed sequences take non-negative entropy; TF seeds are int64


def _axis_arg(axis, dim, what: str) -> int:
    """TF1's ``dim`` is the old name of ``axis``; give one of them (``axis=-1`` is the default)."""
    if dim is not None:
        if axis is not None and axis != -1 and axis != dim:
            raise ValueError(f"{what}: cannot specify both 'axis' ({axis}) and 'dim' ({dim})")
        axis = dim
    axis = -1 if axis is None else axis
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{what}: axis must be a Python int, got {axis!r}")
    return int(axis)


def _is_zeros(t: Tensor) -> bool:
    """Whether ``t`` is the zeros the driver feeds for an output nobody differentiated."""
    if t.op.type == "ZerosLike" or (t.op.type == "Fill" and t.op.attrs.get("value") == 0):
        return True
    return t.op.type == "Const" and not t.op.attrs["value"].any()


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
    x = op.inputs[0]
    inside = math.logical_and(math.greater(x, 0), math.less(x, 6))
    return [grad * math.cast(inside, grad.dtype)]


@gradient("Elu")
def _elu_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [math.where(math.greater(x, 0), grad, grad * (y + 1))]


@gradient("Selu")
def _selu_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [
        math.where(math.greater(x, 0), grad * _SELU_SCALE, grad * (y + _SELU_SCALE * _SELU_ALPHA))
    ]


@gradient("LeakyRelu")
def _leaky_relu_grad(op, grad):
    return [math.where(math.greater(op.inputs[0], 0), grad, grad * op.attrs["alpha"])]


@gradient("Softplus")
def _softplus_grad(op, grad):
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


def _neg_log_softmax(xp, x, axis):
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
    y, axis = op.outputs[0], op.attrs["axis"]
    return [(grad - reduce.reduce_sum(grad * y, axis, keepdims=True)) * y]


@gradient("LogSoftmax")
def _log_softmax_grad(op, grad):
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
    attrs = {"axis": _axis_arg(axis, dim, "softmax")}
    return apply_op("Softmax", [convert_to_tensor(logits)], attrs, name=name or "Softmax")


def log_softmax(logits, axis=None, name=None, dim=None):
    """``logits - log(sum(exp(logits), axis))``, stable for large logits (``axis=-1``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(log_softmax(fg.constant([0.0, -1e4])))
    array([     0., -10000.], dtype=float32)
    """
    attrs = {"axis": _axis_arg(axis, dim, "log_softmax")}
    return apply_op("LogSoftmax", [convert_to_tensor(logits)], attrs, name=name or "LogSoftmax")


# ---- cross-entropy losses ---------------------------------------------------------------


def _xent_infer(inputs, attrs):
    logits, labels = inputs
    rules.require_kind(logits, "float", "logits")
    rules.same_dtypes(inputs, ("logits", "labels"))
    if not logits.shape.is_compatible_with(labels.shape):
        raise ShapeError(
            f"logits and labels must have the same shape, but logits has shape {logits.shape} "
            f"and labels has shape {labels.shape}"
        )
    shape = logits.shape.merge_with(labels.shape)
    if shape.rank == 0:
        raise ShapeError("logits and labels must have rank at least 1, but are scalars")
    if shape.rank is None:
        return [(logits.dtype, TensorShape(None)), (logits.dtype, shape)]
    axis = rules.normalize_axis(attrs["axis"], shape.rank)
    loss = TensorShape(d for i, d in enumerate(shape.dims) if i != axis)
    return [(logits.dtype, loss), (logits.dtype, shape)]


def _xent_kernel(xp, logits, labels, *, axis):
    nlp = _neg_log_softmax(xp, logits, axis)
    loss = xp.sum(labels * nlp, axis=axis)
    # d loss / d logits = softmax * sum(labels) - labels (TF assumes sum(labels) == 1).
    backprop = xp.exp(-nlp) * xp.sum(labels, axis=axis, keepdims=True) - labels
    return loss, backprop


define_op("SoftmaxCrossEntropyWithLogits", _xent_infer, kernel=_xent_kernel, attrs={"axis": -1})


@gradient("SoftmaxCrossEntropyWithLogits")
def _xent_grad(op, grad_loss, grad_backprop):
    logits, labels = op.inputs
    axis = op.attrs["axis"]
    g = array.expand_dims(grad_loss, axis)
    d_logits = g * op.outputs[1]
    # v1 passes labels through stop_gradient: build no labels gradient nobody can use.
    stopped = labels.op.type == "StopGradient"
    d_labels = None if stopped else g * -log_softmax(logits, axis)
    if not _is_zeros(grad_backprop):  # a second derivative: backprop was differentiated
        p = softmax(logits, axis)
        gp = reduce.reduce_sum(grad_backprop * p, axis, keepdims=True)
        total = reduce.reduce_sum(labels, axis, keepdims=True)
        d_logits = d_logits + total * p * (grad_backprop - gp)
        d_labels = None if stopped else d_labels + (gp - grad_backprop)
    return [d_logits, d_labels]


def _xent_operands(what, labels, logits):
    if labels is None or logits is None:
        raise ValueError(f"{what}: both labels= and logits= are required")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, None if isinstance(labels, Tensor) else logits.dtype)
    return labels, logits


def softmax_cross_entropy_with_logits_v2(*, labels, logits, axis=-1, name=None, dim=None):
    """Per-example ``-sum(labels * log_softmax(logits), axis)``; gradients flow to both inputs.

    Each row of ``labels`` should be a probability distribution; the result drops ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     logits = fg.placeholder(fg.float32, [None, 2])
    ...     loss = softmax_cross_entropy_with_logits_v2(labels=[[0.0, 1.0]], logits=logits)
    ...     print(loss.shape)
    ...     fg.Session().run(loss, {logits: [[0.0, 0.0]]})
    [1]
    array([0.6931472], dtype=float32)
    """
    what = "softmax_cross_entropy_with_logits_v2"
    labels, logits = _xent_operands(what, labels, logits)
    attrs = {"axis": _axis_arg(axis, dim, what)}
    loss, _ = apply_op(
        "SoftmaxCrossEntropyWithLogits", [logits, labels], attrs, name=name or "xentropy"
    )
    return loss


def softmax_cross_entropy_with_logits(*, labels, logits, axis=-1, name=None, dim=None):
    """Like :func:`softmax_cross_entropy_with_logits_v2`, but gradients flow only to
    ``logits`` (TF1's deprecated version: ``labels`` pass through ``stop_gradient``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = softmax_cross_entropy_with_logits(labels=[[0.5, 0.5]], logits=[[1.0, 1.0]])
    ...     fg.Session().run(loss)
    array([0.6931472], dtype=float32)
    """
    what = "softmax_cross_entropy_with_logits"
    labels, logits = _xent_operands(what, labels, logits)
    return softmax_cross_entropy_with_logits_v2(
        labels=array.stop_gradient(labels),
        logits=logits,
        axis=_axis_arg(axis, dim, what),
        name=name,
    )


def _sparse_xent_infer(inputs, attrs):
    logits, labels = inputs
    rules.require_kind(logits, "float", "logits")
    rules.require_kind(labels, "int", "labels")
    rank = logits.shape.rank
    if rank == 0:
        raise ShapeError("logits must have rank at least 1, but is a scalar")
    if rank is not None and labels.shape.rank is not None:
        if labels.shape.rank != rank - 1 or not labels.shape.is_compatible_with(logits.shape[:-1]):
            raise ShapeError(
                f"labels must have the shape of logits without its last (class) dimension: "
                f"expected {logits.shape[:-1]} for logits of shape {logits.shape}, but labels "
                f"have shape {labels.shape}"
            )
        batch = labels.shape.merge_with(logits.shape[:-1])
    else:
        batch = labels.shape if labels.shape.rank is not None else logits.shape[:-1]
    full = (
        TensorShape(None) if batch.rank is None else TensorShape(batch.dims + (logits.shape[-1],))
    )
    return [(logits.dtype, batch), (logits.dtype, full.merge_with(logits.shape))]


def _sparse_xent_kernel(xp, logits, labels):
    classes = logits.shape[-1]
    bad = (labels < 0) | (labels >= classes)
    if bool(xp.any(bad)):
        value = int(labels[bad][0])
        raise InvalidArgumentError(
            message=f"Received a label value of {value} which is outside the valid range of "
            f"[0, {classes})."
        )
    nlp = _neg_log_softmax(xp, logits, -1)
    one_hot = xp.astype(labels[..., None] == xp.arange(classes), logits.dtype)
    return xp.sum(one_hot * nlp, axis=-1), xp.exp(-nlp) - one_hot


define_op("SparseSoftmaxCrossEntropyWithLogits", _sparse_xent_infer, kernel=_sparse_xent_kernel)


@gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_xent_grad(op, grad_loss, grad_backprop):
    logits = op.inputs[0]
    d_logits = array.expand_dims(grad_loss, -1) * op.outputs[1]
    if not _is_zeros(grad_backprop):
        p = softmax(logits)
        gp = reduce.reduce_sum(grad_backprop * p, -1, keepdims=True)
        d_logits = d_logits + p * (grad_backprop - gp)
    return [d_logits, None]


def sparse_softmax_cross_entropy_with_logits(*, labels, logits, name=None):
    """Per-example softmax cross-entropy with integer class ``labels`` (shape ``logits[:-1]``).

    A label outside ``[0, num_classes)`` is an InvalidArgumentError when the graph runs.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = sparse_softmax_cross_entropy_with_logits(
    ...         labels=[1, 0], logits=[[0.0, 0.0], [1e4, 0.0]])
    ...     fg.Session().run(loss)
    array([0.6931472, 0.       ], dtype=float32)
    """
    if labels is None or logits is None:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: labels= and logits= required")
    inputs = [convert_to_tensor(logits), convert_to_tensor(labels)]
    loss, _ = apply_op(
        "SparseSoftmaxCrossEntropyWithLogits", inputs, name=name or "SparseSoftmaxCrossEntropy"
    )
    return loss


def _sigmoid_xent_infer(inputs, attrs):
    logits, labels = inputs
    rules.require_kind(logits, "float", "logits")
    rules.same_dtypes(inputs, ("logits", "labels"))
    if not logits.shape.is_compatible_with(labels.shape):
        raise ShapeError(
            f"logits and labels must have the same shape, but logits has shape {logits.shape} "
            f"and labels has shape {labels.shape}"
        )
    return [(logits.dtype, logits.shape.merge_with(labels.shape))]


def _sigmoid_xent_kernel(xp, x, z):
    # TF's stable form of -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)).
    return xp.maximum(x, 0) - x * z + xp.log1p(xp.exp(-xp.abs(x)))


define_op("SigmoidCrossEntropyWithLogits", _sigmoid_xent_infer, kernel=_sigmoid_xent_kernel)


@gradient("SigmoidCrossEntropyWithLogits")
def _sigmoid_xent_grad(op, grad):
    logits, labels = op.inputs
    return [grad * (math.sigmoid(logits) - labels), grad * -logits]


def sigmoid_cross_entropy_with_logits(*, labels=None, logits=None, name=None):
    """Elementwise logistic loss ``max(x, 0) - x * z + log(1 + exp(-|x|))`` (``x`` logits,
    ``z`` labels), stable for any logits.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[0.0, -1e4])
    ...     fg.Session().run(loss)
    array([0.6931472, 0.       ], dtype=float32)
    """
    labels, logits = _xent_operands("sigmoid_cross_entropy_with_logits", labels, logits)
    return apply_op("SigmoidCrossEntropyWithLogits", [logits, labels], name=name or "logistic_loss")


# ---- l2_loss, bias_add ------------------------------------------------------------------


def _l2_loss_infer(inputs, attrs):
    rules.require_kind(inputs[0], "float", "t")
    return [(inputs[0].dtype, TensorShape([]))]


define_op("L2Loss", _l2_loss_infer, kernel=lambda xp, t: xp.sum(t * t) / 2)


@gradient("L2Loss")
def _l2_loss_grad(op, grad):
    return [op.inputs[0] * grad]


def l2_loss(t, name=None):
    """``sum(t ** 2) / 2``, a scalar (weight decay without the square root).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(l2_loss(fg.constant([[1.0, 2.0], [3.0, 4.0]]))))
    15.0
    """
    return apply_op("L2Loss", [convert_to_tensor(t)], name=name or "L2Loss")


def _channel_axis(rank, data_format):
    return 1 if data_format.startswith("NC") and rank > 2 else rank - 1


def _bias_add_infer(inputs, attrs):
    value, bias = inputs
    rules.same_dtypes(inputs, ("value", "bias"))
    rules.require_kind(value, "numeric", "value")
    rules.require_rank(bias, 1, "bias")
    if attrs["data_format"] not in ("NHWC", "NCHW", "N...C", "NC..."):
        raise ShapeError(f"data_format must be 'NHWC' or 'NCHW', not {attrs['data_format']!r}")
    rank = value.shape.rank
    if rank is None:
        return [(value.dtype, value.shape)]
    if rank < 2:
        raise ShapeError(f"value must have rank at least 2, but has shape {value.shape}")
    channels = value.shape[_channel_axis(rank, attrs["data_format"])]
    if channels is not None and bias.shape[0] is not None and channels != bias.shape[0]:
        raise ShapeError(
            f"bias of shape {bias.shape} must match the channel dimension ({channels}) of "
            f"value's shape {value.shape} ({attrs['data_format']})"
        )
    return [(value.dtype, value.shape)]


def _bias_shape(rank, data_format):
    if _channel_axis(rank, data_format) == rank - 1:
        return (-1,)
    return (-1,) + (1,) * (rank - 2)


def _bias_add_kernel(xp, value, bias, *, data_format):
    return value + xp.reshape(bias, _bias_shape(value.ndim, data_format))


def _bias_add_grad_kernel(xp, grad, *, data_format):
    axis = _channel_axis(grad.ndim, data_format)
    axes = tuple(i for i in range(grad.ndim) if i != axis)
    return xp.sum(grad, axis=axes, dtype=grad.dtype)


def _bias_add_grad_infer(inputs, attrs):
    g = inputs[0]
    if g.shape.rank is None:
        return [(g.dtype, TensorShape([None]))]
    return [(g.dtype, TensorShape([g.shape[_channel_axis(g.shape.rank, attrs["data_format"])]]))]


define_op("BiasAdd", _bias_add_infer, kernel=_bias_add_kernel, attrs={"data_format": "NHWC"})
define_op(
    "BiasAddGrad",
    _bias_add_grad_infer,
    kernel=_bias_add_grad_kernel,
    attrs={"data_format": "NHWC"},
)


@gradient("BiasAdd")
def _bias_add_grad(op, grad):
    fmt = op.attrs["data_format"]
    return [grad, apply_op("BiasAddGrad", [grad], {"data_format": fmt}, name="BiasAddGrad")]


@gradient("BiasAddGrad")
def _bias_add_grad_grad(op, grad):
    like = op.inputs[0]
    rank = like.shape.rank
    if rank is None or _channel_axis(rank, op.attrs["data_format"]) == rank - 1:
        return [broadcast_to_shape_of(grad, like)]
    return [broadcast_to_shape_of(array.reshape(grad, _bias_shape(rank, "NCHW")), like)]


def bias_add(value, bias, data_format=None, name=None):
    """``value + bias`` with the 1-D ``bias`` added along the channel axis: the last one
    (``"NHWC"``, the default) or the second (``"NCHW"``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(bias_add(fg.zeros([2, 3]), fg.constant([1.0, 2.0, 3.0])))
    array([[1., 2., 3.],
           [1., 2., 3.]], dtype=float32)
    """
    value = convert_to_tensor(value)
    bias = convert_to_tensor(bias, None if isinstance(bias, Tensor) else value.dtype)
    attrs = {"data_format": data_format or "NHWC"}
    return apply_op("BiasAdd", [value, bias], attrs, name=name or "BiasAdd")


# ---- dropout ----------------------------------------------------------------------------


def _dropout_mask_infer(inputs, attrs):
    x, keep_prob = inputs
    rules.require_kind(x, "float", "x")
    rules.same_dtypes(inputs, ("x", "keep_prob"))
    rules.require_rank(keep_prob, 0, "keep_prob")
    noise_shape = attrs["noise_shape"]
    if noise_shape is None:
        return [(x.dtype, x.shape)]
    if x.shape.rank is not None and len(noise_shape) == x.shape.rank:
        noise_shape = [n if n is not None else d for n, d in zip(noise_shape, x.shape.dims)]
    shape = TensorShape(noise_shape)
    try:
        broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"noise_shape {shape} does not broadcast to x's shape {x.shape}") from None
    return [(x.dtype, shape)]


def _dropout_mask_kernel(ctx, x, keep_prob, *, noise_shape, seed, seed2, key):
    xp = ctx.xp
    keep = float(keep_prob)
    if not 0.0 < keep <= 1.0:
        raise InvalidArgumentError(
            message=f"dropout: rate must be in the range [0, 1), got {1.0 - keep:g}"
        )
    shape = tuple(x.shape)
    if noise_shape is not None:
        if None in noise_shape and len(noise_shape) != x.ndim:
            raise ValueError(f"noise_shape {noise_shape} has unknown dimensions but not x's rank")
        shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    # One generator per op, kept by the session (see ops/random.py for the seeding rules).
    seeds = None if seed is None else (seed & _MASK64, seed2 & _MASK64)
    generator = ctx.generator_for(key, seeds)
    draw = "float64" if x.dtype == xp.float64 else "float32"
    uniform = xp.asarray(generator.random(shape, dtype=draw))
    scale = xp.asarray(1.0 / keep, dtype=x.dtype)
    return xp.where(uniform < keep, scale, xp.zeros_like(scale))


define_op(
    "DropoutMask",
    _dropout_mask_infer,
    kernel=_dropout_mask_kernel,
    attrs={"noise_shape": None, "seed": None, "seed2": None, "key": ""},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def _keep_probability(x, keep_prob, rate):
    """keep_prob as a tensor of x's dtype, or None for "keep everything"."""
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout: give exactly one of keep_prob and rate")
    given, name = (rate, "rate") if rate is not None else (keep_prob, "keep_prob")
    if isinstance(given, numbers.Real):
        value = float(given)
        if rate is not None and not 0.0 <= value < 1.0:
            raise ValueError(f"dropout: rate must be a float in the range [0, 1), got {value}")
        if keep_prob is not None and not 0.0 < value <= 1.0:
            raise ValueError(f"dropout: keep_prob must be in the range (0, 1], got {value}")
        keep = 1.0 - value if rate is not None else value
        return None if keep == 1.0 else convert_to_tensor(keep, x.dtype, name="keep_prob")
    given = convert_to_tensor(given, x.dtype, name=name)
    return math.subtract(1.0, given, name="keep_prob") if rate is not None else given


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zero each element with probability ``rate = 1 - keep_prob`` and scale the rest by
    ``1 / keep_prob``; the gradient uses the same mask. Give exactly one of ``keep_prob`` and
    ``rate`` (a number or a scalar tensor, such as a placeholder fed 1.0 for evaluation).

    ``noise_shape`` (broadcastable to x's shape; ``None`` entries take x's dimension) shares
    one keep/drop decision along the dimensions where it is 1.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     y = dropout(fg.ones([2, 4]), rate=0.5, seed=1)
    ...     sorted(set(fg.Session().run(y).ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    """
    x = convert_to_tensor(x)
    keep = _keep_probability(x, keep_prob, rate)
    if keep is None:
        return x
    if noise_shape is not None:
        noise_shape = tuple(None if d is None else int(d) for d in noise_shape)
    name = name or "dropout"
    with x.graph.as_default():
        graph_seed, op_seed = random.get_seed(seed)
    attrs = {"noise_shape": noise_shape, "seed": graph_seed, "seed2": op_seed}
    mask = apply_op("DropoutMask", [x, keep], attrs, name=name)
    mask.op.attrs["key"] = mask.op.name  # the session keys the op's generator by its name
    return math.multiply(x, mask, name=name + "_mul")


# ---- moments, l2_normalize (built from other ops: no new op types) ------------------------


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and variance of ``x`` over ``axes`` (``shift`` is accepted and unused, as in TF).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     mean, var = moments(fg.constant([[1.0, 2.0], [3.0, 6.0]]), axes=[0])
    ...     fg.Session().run([mean, var])
    [array([2., 4.], dtype=float32), array([1., 4.], dtype=float32)]
    """
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("moments: cannot specify both 'keepdims' and 'keep_dims'")
        keepdims = keep_dims
    keepdims = bool(keepdims)
    x = convert_to_tensor(x)
    axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
    with x.graph.name_scope(name or "moments"):
        mean = reduce.reduce_mean(x, axes, keepdims=True, name="mean")
        # The variance's gradient through the mean is zero: sum(x - mean) == 0.
        centered = math.squared_difference(x, array.stop_gradient(mean))
        variance = reduce.reduce_mean(centered, axes, keepdims=keepdims, name="variance")
        if not keepdims:
            mean = reduce.reduce_mean(x, axes, keepdims=False, name="mean")
    return mean, variance


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))`` (``axis=None``: over all elements).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(l2_normalize(fg.constant([[3.0, 4.0], [0.0, 0.0]]), axis=1))
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("l2_normalize: cannot specify both 'axis' and 'dim'")
        axis = dim
    x = convert_to_tensor(x)
    with x.graph.name_scope(name or "l2_normalize"):
        square_sum = reduce.reduce_sum(math.square(x), axis, keepdims=True)
        inv_norm = math.rsqrt(math.maximum(square_sum, epsilon))
        return math.multiply(x, inv_norm)
