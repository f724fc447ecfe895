"""Losses (``flowgraph.nn``): the softmax, sparse-softmax and sigmoid cross-entropies, and
``l2_loss``, each op with its kernel and gradient rule.

The cross-entropy kernels work on ``logits - max(logits)``, so logits of ±1e4 give finite
losses and gradients. The softmax cross-entropies return the per-example loss and, as a second
output, the gradient with respect to the logits; their gradient rules are built from ops and
handle a differentiated second output, so second derivatives work too. The public functions are
re-exported by :mod:`flowgraph.ops.nn` (``fg.nn.softmax_cross_entropy_with_logits_v2``).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     logits = fg.constant([[2.0, 0.0], [0.0, 2.0]])
...     loss = sparse_softmax_cross_entropy_with_logits(labels=[0, 0], logits=logits)
...     fg.Session().run(loss)
array([0.12692805, 2.126928  ], dtype=float32)
"""

from __future__ import annotations

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math, namespace, reduce, rules
from flowgraph.ops.activations import axis_arg, log_softmax, neg_log_softmax, softmax
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "l2_loss",
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
]


def _is_zeros(t: Tensor) -> bool:
    """Whether ``t`` is the zeros the driver feeds for an output nobody differentiated."""
    if t.op.type == "ZerosLike" or (t.op.type == "Fill" and t.op.attrs.get("value") == 0):
        return True
    return t.op.type == "Const" and not t.op.attrs["value"].any()


# ---- cross-entropy losses ---------------------------------------------------------------


def _matching_logits_and_labels(inputs):
    """The shape logits and labels of one dtype and compatible shapes agree on."""
    logits, labels = inputs
    rules.require_kind(logits, "float", "logits")
    rules.same_dtypes(inputs, ("logits", "labels"))
    if not logits.shape.is_compatible_with(labels.shape):
        raise ShapeError(
            f"logits and labels must have the same shape, but logits has shape {logits.shape} "
            f"and labels has shape {labels.shape}"
        )
    return logits.shape.merge_with(labels.shape)


def _xent_infer(inputs, attrs):
    logits = inputs[0]
    shape = _matching_logits_and_labels(inputs)
    if shape.rank == 0:
        raise ShapeError("logits and labels must have rank at least 1, but are scalars")
    if shape.rank is None:
        return [(logits.dtype, TensorShape(None)), (logits.dtype, shape)]
    axis = rules.normalize_axis(attrs["axis"], shape.rank)
    loss = TensorShape(d for i, d in enumerate(shape.dims) if i != axis)
    return [(logits.dtype, loss), (logits.dtype, shape)]


def _xent_kernel(xp, logits, labels, *, axis):
    if namespace.numpy_like(xp) and logits.shape == labels.shape:
        loss, backprop = _xent_in_place(xp, logits, labels, axis)
        if xp.isfinite(loss).all():
            return loss, backprop
    nlp = neg_log_softmax(xp, logits, axis)
    loss = xp.sum(labels * nlp, axis=axis)
    if not xp.all(xp.isfinite(loss)):
        # Logits ~±3e38: x - max(x) overflows to -inf, and a label of 0 times inf is NaN,
        # where the class contributes nothing. Only then pay for the mask.
        loss = xp.sum(xp.where(labels == 0, xp.zeros_like(nlp), labels * nlp), axis=axis)
    # d loss / d logits = softmax * sum(labels) - labels (TF assumes sum(labels) == 1).
    backprop = xp.exp(-nlp) * xp.sum(labels, axis=axis, keepdims=True) - labels
    return loss, backprop


def _xent_in_place(xp, logits, labels, axis):
    """The same two results with two temporaries, each computed in place (this op sits in
    every classifier's training step): ``s = x - max(x)``, ``p = exp(s) / sum(exp(s))``, then
    ``s`` becomes ``-log_softmax = log(sum(exp(s))) - s``. Array methods, not ``xp.max`` /
    ``xp.sum``: a microsecond less per call on small batches."""
    s = logits - logits.max(axis=axis, keepdims=True)
    p = xp.exp(s)
    total = p.sum(axis=axis, keepdims=True)
    p /= total
    xp.subtract(xp.log(total, out=total), s, out=s)
    s *= labels
    loss = s.sum(axis=axis)
    p *= labels.sum(axis=axis, keepdims=True)
    p -= labels
    return loss, p


define_op(
    "SoftmaxCrossEntropyWithLogits",
    _xent_infer,
    kernel=_xent_kernel,
    attrs={"axis": -1},
    fresh_output=True,
    specs_only_infer=True,
)


@gradient("SoftmaxCrossEntropyWithLogits")
def _xent_grad(op, grad_loss, grad_backprop):
    """dlogits = g * (softmax(logits) - labels); dlabels = -g * log_softmax(logits)."""
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
    if labels.dtype is not logits.dtype and logits.dtype.is_floating:
        # TF1 casts the labels to the logits' type (int one-hot labels are common).
        labels = math.cast(labels, logits.dtype)
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
    attrs = {"axis": axis_arg(axis, dim, what)}
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
        axis=axis_arg(axis, dim, what),
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
    nlp = neg_log_softmax(xp, logits, -1)
    one_hot = namespace.astype(xp, labels[..., None] == xp.arange(classes), logits.dtype)
    return xp.sum(one_hot * nlp, axis=-1), xp.exp(-nlp) - one_hot


define_op(
    "SparseSoftmaxCrossEntropyWithLogits",
    _sparse_xent_infer,
    kernel=_sparse_xent_kernel,
    specs_only_infer=True,
)


@gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_xent_grad(op, grad_loss, grad_backprop):
    """dlogits = g * (softmax(logits) - onehot(labels)); none for the labels."""
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
    return [(inputs[0].dtype, _matching_logits_and_labels(inputs))]


def _sigmoid_xent_kernel(xp, x, z):
    # TF's stable form of -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)).
    return xp.maximum(x, 0) - x * z + xp.log1p(xp.exp(-xp.abs(x)))


define_op("SigmoidCrossEntropyWithLogits", _sigmoid_xent_infer, kernel=_sigmoid_xent_kernel)


@gradient("SigmoidCrossEntropyWithLogits")
def _sigmoid_xent_grad(op, grad):
    """dlogits = g * (sigmoid(logits) - labels), dlabels = -g * logits."""
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


# ---- l2_loss ----------------------------------------------------------------------------


def _l2_loss_infer(inputs, attrs):
    rules.require_kind(inputs[0], "float", "t")
    return [(inputs[0].dtype, TensorShape([]))]


define_op("L2Loss", _l2_loss_infer, kernel=lambda xp, t: xp.sum(t * t) / 2)


@gradient("L2Loss")
def _l2_loss_grad(op, grad):
    """dx = g * x (l2_loss is sum(x**2) / 2)."""
    return [op.inputs[0] * grad]


def l2_loss(t, name=None):
    """``sum(t ** 2) / 2``, a scalar (weight decay without the square root).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(l2_loss(fg.constant([[1.0, 2.0], [3.0, 4.0]]))))
    15.0
    """
    return apply_op("L2Loss", [convert_to_tensor(t)], name=name or "L2Loss")
