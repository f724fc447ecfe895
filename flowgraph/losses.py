"""TF1's ``tf.losses``: weighted, reduced losses recorded in the LOSSES collection.

Each loss computes per-element losses from ops, multiplies them by ``weights`` (a scalar, or a
tensor that broadcasts to the losses' shape) and reduces them by ``reduction``; the default,
``Reduction.SUM_BY_NONZERO_WEIGHTS``, is the weighted sum divided by how many weights are not
zero (0 when none is). The result is added to ``loss_collection`` (``GraphKeys.LOSSES``), where
:func:`get_losses` and :func:`get_total_loss` find it — regularization losses that layers add
to ``GraphKeys.REGULARIZATION_LOSSES`` are included by ``get_total_loss``.

>>> import flowgraph as fg
>>> from flowgraph import losses
>>> with fg.Graph().as_default():
...     mse = losses.mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 6.0], weights=[1.0, 1.0, 0.0])
...     total = losses.get_total_loss()
...     print(fg.Session().run([mse, total]), len(losses.get_losses()))
[np.float32(0.0), np.float32(0.0)] 1
"""

from __future__ import annotations

from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.site import user_site
from flowgraph.ops import array, math, reduce
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.losses import (
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
)
from flowgraph.ops.variable_scope import REGULARIZATION_LOSSES

__all__ = [
    "Reduction",
    "absolute_difference",
    "add_loss",
    "compute_weighted_loss",
    "cosine_distance",
    "get_losses",
    "get_regularization_loss",
    "get_regularization_losses",
    "get_total_loss",
    "hinge_loss",
    "huber_loss",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]


class Reduction:
    """How a loss is reduced (TF1's ``tf.losses.Reduction``; the values are TF's strings)."""

    NONE = "none"  # the weighted losses, unreduced
    SUM = "weighted_sum"  # their sum
    MEAN = "weighted_mean"  # the sum divided by the sum of the (broadcast) weights
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"  # ... by the number of elements
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"  # ... by the nonzero weights
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every valid reduction."""
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        """ValueError unless ``key`` is one of :meth:`all`."""
        if key not in cls.all():
            raise ValueError(f"Invalid loss reduction {key!r}; expected one of {cls.all()}")


def _safe_div(numerator, denominator):
    """``numerator / denominator``, or 0 where the denominator is 0 (TF1's ``_safe_mean``)."""
    zero = array.zeros_like(denominator)
    is_zero = math.equal(denominator, zero)
    safe = math.where(is_zero, array.ones_like(denominator), denominator)
    return math.where(is_zero, zero, numerator / safe)


def _float(x, like=None):
    x = convert_to_tensor(x)
    target = like if like is not None else (x.dtype if x.dtype.is_floating else dtypes.float32)
    return x if x.dtype is target else math.cast(x, target)


def compute_weighted_loss(
    losses,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
):
    """``losses * weights`` reduced by ``reduction`` and added to ``loss_collection``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = compute_weighted_loss([1.0, 2.0, 3.0], [0.0, 1.0, 1.0], reduction=Reduction.MEAN)
    ...     print(fg.Session().run(loss))
    2.5
    """
    Reduction.validate(reduction)
    with get_default_graph().name_scope(scope or "weighted_loss"):
        losses = _float(losses)
        weights = _float(weights, losses.dtype)
        _check_broadcast(weights, losses)
        weighted = math.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduce.reduce_sum(weighted)
            if reduction != Reduction.SUM:
                broadcast_weights = weights * array.ones_like(losses)
                if reduction == Reduction.MEAN:
                    denominator = reduce.reduce_sum(broadcast_weights)
                elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                    denominator = math.cast(array.size(losses), losses.dtype)
                else:
                    nonzero = math.not_equal(broadcast_weights, array.zeros_like(losses))
                    denominator = reduce.reduce_sum(math.cast(nonzero, losses.dtype))
                loss = _safe_div(loss, denominator)
        loss = array.identity(loss, name="value")
    if loss_collection:
        add_loss(loss, loss_collection)
    return loss


def _check_broadcast(weights, losses):
    w, s = weights.shape, losses.shape
    if w.rank is None or s.rank is None or w.rank == 0:
        return
    if w.rank > s.rank or any(
        a is not None and b is not None and a not in (1, b)
        for a, b in zip(reversed(w.dims), reversed(s.dims))
    ):
        raise ValueError(
            f"weights of shape {w} do not broadcast to the losses' shape {s} (at {user_site()})"
        )


def _pair(labels, predictions, what):
    predictions = _float(predictions)
    labels = _float(labels, predictions.dtype)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(
            f"{what}: labels and predictions must have the same shape, but labels have shape "
            f"{labels.shape} and predictions {predictions.shape} (at {user_site()})"
        )
    return labels, predictions


def _loss(what, per_element, weights, scope, loss_collection, reduction):
    """The shared tail of every loss: weigh, reduce, record."""
    return compute_weighted_loss(per_element, weights, scope or what, loss_collection, reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, **kw):
    """Weighted ``(predictions - labels) ** 2``, reduced (default: mean over nonzero weights).

    Takes ``loss_collection=`` and ``reduction=`` as every loss here does.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(mean_squared_error([0.0, 0.0], [1.0, 3.0])))
    5.0
    """
    labels, predictions = _pair(labels, predictions, "mean_squared_error")
    return _loss(
        "mean_squared_error",
        math.squared_difference(predictions, labels),
        weights,
        scope,
        *_rest(kw),
    )


def _rest(kw):
    unknown = set(kw) - {"loss_collection", "reduction"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {sorted(unknown)}")
    return (
        kw.get("loss_collection", GraphKeys.LOSSES),
        kw.get("reduction", Reduction.SUM_BY_NONZERO_WEIGHTS),
    )


def absolute_difference(labels, predictions, weights=1.0, scope=None, **kw):
    """Weighted ``|predictions - labels|``, reduced.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = absolute_difference([0.0, 0.0], [1.0, 3.0], reduction=Reduction.SUM)
    ...     print(fg.Session().run(loss))
    4.0
    """
    labels, predictions = _pair(labels, predictions, "absolute_difference")
    diff = math.abs(predictions - labels)
    return _loss("absolute_difference", diff, weights, scope, *_rest(kw))


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, **kw):
    """Weighted Huber loss: ``0.5 * x**2`` where ``|x| <= delta``, else
    ``0.5 * delta**2 + delta * (|x| - delta)``, with ``x = predictions - labels``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = huber_loss([0.0, 0.0], [0.5, 3.0], reduction=Reduction.NONE)
    ...     fg.Session().run(loss)
    array([0.125, 2.5  ], dtype=float32)
    """
    labels, predictions = _pair(labels, predictions, "huber_loss")
    error = math.abs(predictions - labels)
    quadratic = math.minimum(error, delta)
    linear = error - quadratic
    losses = 0.5 * quadratic * quadratic + delta * linear
    return _loss("huber_loss", losses, weights, scope, *_rest(kw))


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, **kw):
    """Weighted ``-labels * log(p + eps) - (1 - labels) * log(1 - p + eps)`` for
    probabilities ``p = predictions``."""
    labels, p = _pair(labels, predictions, "log_loss")
    losses = -labels * math.log(p + epsilon) - (1.0 - labels) * math.log(1.0 - p + epsilon)
    return _loss("log_loss", losses, weights, scope, *_rest(kw))


def hinge_loss(labels, logits, weights=1.0, scope=None, **kw):
    """Weighted ``max(0, 1 - (2 * labels - 1) * logits)`` for labels in {0, 1}.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = hinge_loss([1.0, 0.0], [0.5, -2.0], reduction=Reduction.NONE)
    ...     fg.Session().run(loss)
    array([0.5, 0. ], dtype=float32)
    """
    labels, logits = _pair(labels, logits, "hinge_loss")
    signs = 2.0 * labels - 1.0
    return _loss("hinge_loss", math.relu(1.0 - signs * logits), weights, scope, *_rest(kw))


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None, dim=None, **kw):
    """Weighted ``1 - sum(labels * predictions, axis)`` for unit-normalized inputs (the reduced
    axis is kept, size 1, as in TF1)."""
    axis = axis if axis is not None else dim
    if axis is None:
        raise ValueError("cosine_distance: axis= is required")
    labels, predictions = _pair(labels, predictions, "cosine_distance")
    radial = reduce.reduce_sum(labels * predictions, axis, keepdims=True)
    return _loss("cosine_distance", 1.0 - radial, weights, scope, *_rest(kw))


def sigmoid_cross_entropy(
    multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None, **kw
):
    """Weighted sigmoid cross-entropy; ``label_smoothing`` moves labels toward 1/2:
    ``labels * (1 - s) + 0.5 * s``."""
    logits = _float(logits)
    labels = _float(multi_class_labels, logits.dtype)
    if label_smoothing:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return _loss("sigmoid_cross_entropy_loss", losses, weights, scope, *_rest(kw))


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None, **kw):
    """Weighted softmax cross-entropy per example (``weights``: scalar or ``[batch]``);
    ``label_smoothing`` gives ``labels * (1 - s) + s / num_classes``. Integer one-hot labels
    are cast to the logits' dtype, as TF1 does; no gradient flows to the labels.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = softmax_cross_entropy([[0, 1]], [[0.0, 0.0]])
    ...     print(fg.Session().run(loss))
    0.6931472
    """
    logits = _float(logits)
    labels = _float(onehot_labels, logits.dtype)
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(
            f"softmax_cross_entropy: onehot_labels of shape {labels.shape} do not match "
            f"logits of shape {logits.shape} (at {user_site()})"
        )
    if label_smoothing:
        classes = math.cast(array.shape(logits)[-1], logits.dtype)
        labels = labels * (1.0 - label_smoothing) + label_smoothing / classes
    losses = softmax_cross_entropy_with_logits_v2(labels=array.stop_gradient(labels), logits=logits)
    return _loss("softmax_cross_entropy_loss", losses, weights, scope, *_rest(kw))


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, **kw):
    """Weighted softmax cross-entropy with integer class ``labels`` (shape ``logits[:-1]``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     loss = sparse_softmax_cross_entropy([1, 0], [[0.0, 0.0], [0.0, 0.0]], weights=[1, 0])
    ...     print(fg.Session().run(loss))
    0.6931472
    """
    logits = _float(logits)
    losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return _loss("sparse_softmax_cross_entropy_loss", losses, weights, scope, *_rest(kw))


# ---- the collections ---------------------------------------------------------------------------


def add_loss(loss, loss_collection=GraphKeys.LOSSES) -> None:
    """Add ``loss`` (a tensor you built yourself) to ``loss_collection``."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES) -> list:
    """The losses in ``loss_collection`` (whose names match ``scope``, a regex, if given)."""
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None) -> list:
    """The tensors in ``GraphKeys.REGULARIZATION_LOSSES`` (layers' ``kernel_regularizer``...)."""
    return get_default_graph().get_collection(REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of :func:`get_regularization_losses`, or a constant 0.0 when there are none."""
    terms = get_regularization_losses(scope)
    if not terms:
        return convert_to_tensor(0.0, dtypes.float32)
    return math.add_n(terms, name=name)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """The sum of the LOSSES collection and, by default, of the regularization losses.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     add_loss(fg.constant(1.5))
    ...     _ = absolute_difference([0.0], [2.0])
    ...     print(len(get_losses()), fg.Session().run(get_total_loss()))
    2 3.5


    ValueError when both are empty (TF1 does the same: there is nothing to minimize).
    """
    terms = get_losses(scope)
    if add_regularization_losses:
        terms = terms + get_regularization_losses(scope)
    if not terms:
        raise ValueError("get_total_loss: no losses have been added to the graph")
    return math.add_n(terms, name=name)
