"""TF1's ``tf.metrics``: streaming metrics as ``(value, update_op)`` pairs.

Each metric keeps running totals in *local* variables (collections ``LOCAL_VARIABLES`` and
``METRIC_VARIABLES``, not trainable, not saved by a default Saver), which
``local_variables_initializer()`` sets to zero. Running ``update_op`` adds a batch to the totals
and returns the metric over everything seen so far; ``value`` reads the totals without changing
them. A metric with nothing counted yet is 0.

>>> import flowgraph as fg
>>> from flowgraph import metrics
>>> with fg.Graph().as_default():
...     labels = fg.placeholder(fg.int64, [None])
...     predictions = fg.placeholder(fg.int64, [None])
...     acc, update = metrics.accuracy(labels, predictions)
...     with fg.Session() as sess:
...         _ = sess.run(fg.local_variables_initializer())
...         _ = sess.run(update, {labels: [1, 2, 3], predictions: [1, 2, 0]})
...         _ = sess.run(update, {labels: [4], predictions: [4]})
...         print(sess.run(acc))
0.75
"""

from __future__ import annotations

from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.site import user_site
from flowgraph.ops import array, math, reduce
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.state import Variable, assign_add

__all__ = [
    "accuracy",
    "auc",
    "false_negatives",
    "false_positives",
    "mean",
    "mean_absolute_error",
    "mean_squared_error",
    "precision",
    "recall",
    "root_mean_squared_error",
    "true_negatives",
    "true_positives",
]

# TF1's auc: the end thresholds sit 1e-7 beyond [0, 1]; 1e-6 keeps the rates' ratios finite.
_THRESHOLD_EPSILON = 1e-7
_EPSILON = 1e-6


def _metric_variable(shape, name):
    """A float32 zero-initialized local variable, in the metric collections."""
    collections = [GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES]
    return Variable(
        array.zeros(shape, dtypes.float32), trainable=False, name=name, collections=collections
    )


def _div_no_nan(x, y):
    zero = array.zeros_like(y)
    is_zero = math.equal(y, zero)
    return math.where(is_zero, zero, x / math.where(is_zero, array.ones_like(y), y))


def _collect(value, update_op, metrics_collections, updates_collections):
    graph = get_default_graph()
    for key in metrics_collections or ():
        graph.add_to_collection(key, value)
    for key in updates_collections or ():
        graph.add_to_collection(key, update_op)
    return value, update_op


def _weights_like(values, weights):
    """``weights`` cast to float32 and broadcast to ``values``' shape (ones when None)."""
    ones = array.ones_like(values)
    if weights is None:
        return ones
    return math.cast(convert_to_tensor(weights), dtypes.float32) * ones


def _check_pair(labels, predictions, what):
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(
            f"{what}: labels and predictions must have the same shape, but labels have shape "
            f"{labels.shape} and predictions {predictions.shape} (at {user_site()})"
        )


def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The (weighted) mean of every value seen: ``(mean, update_op)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     m, update = mean([1.0, 2.0, 6.0], weights=[1.0, 1.0, 0.0])
    ...     with fg.Session() as sess:
    ...         _ = sess.run(fg.local_variables_initializer())
    ...         print(sess.run(update), sess.run(update), sess.run(m))
    1.5 1.5 1.5
    """
    with get_default_graph().name_scope(name or "mean"):
        values = math.cast(convert_to_tensor(values), dtypes.float32)
        w = _weights_like(values, weights)
        total = _metric_variable([], "total")
        count = _metric_variable([], "count")
        update_total = assign_add(total, reduce.reduce_sum(values * w))
        update_count = assign_add(count, reduce.reduce_sum(w))
        value = array.identity(_div_no_nan(total, count), name="value")
        update_op = array.identity(_div_no_nan(update_total, update_count), name="update_op")
    return _collect(value, update_op, metrics_collections, updates_collections)


def accuracy(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """How often ``predictions`` equal ``labels`` (predictions are cast to the labels' dtype).

    ``(accuracy, update_op)``; typically ``tf.metrics.accuracy(labels, tf.argmax(logits, 1))``.
    """
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    _check_pair(labels, predictions, "accuracy")
    if predictions.dtype is not labels.dtype:
        predictions = math.cast(predictions, labels.dtype)
    correct = math.cast(math.equal(predictions, labels), dtypes.float32)
    return mean(correct, weights, metrics_collections, updates_collections, name or "accuracy")


def _error_mean(what, error_fn, labels, predictions, weights, mc, uc, name):
    labels = math.cast(convert_to_tensor(labels), dtypes.float32)
    predictions = math.cast(convert_to_tensor(predictions), dtypes.float32)
    _check_pair(labels, predictions, what)
    return mean(error_fn(predictions - labels), weights, mc, uc, name or what)


def mean_squared_error(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The running mean of ``(predictions - labels) ** 2``: ``(mse, update_op)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     mse, update = mean_squared_error([0.0, 0.0], [1.0, 3.0])
    ...     with fg.Session() as sess:
    ...         _ = sess.run(fg.local_variables_initializer())
    ...         print(sess.run(update), sess.run(mse))
    5.0 5.0
    """
    return _error_mean(
        "mean_squared_error",
        math.square,
        labels,
        predictions,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def mean_absolute_error(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The running mean of ``|predictions - labels|``: ``(mae, update_op)``."""
    return _error_mean(
        "mean_absolute_error",
        math.abs,
        labels,
        predictions,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def root_mean_squared_error(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """The square root of the running mean squared error: ``(rmse, update_op)``."""
    mse, update = _error_mean(
        "root_mean_squared_error", math.square, labels, predictions, weights, None, None, name
    )
    value, update_op = math.sqrt(mse), math.sqrt(update)
    return _collect(value, update_op, metrics_collections, updates_collections)


# ---- counts of a confusion matrix --------------------------------------------------------------


def _as_bool(x):
    x = convert_to_tensor(x)
    return x if x.dtype is dtypes.bool_ else math.not_equal(x, array.zeros_like(x))


def _count(what, condition, weights, mc, uc, name):
    with get_default_graph().name_scope(name or what):
        w = _weights_like(math.cast(condition, dtypes.float32), weights)
        count = _metric_variable([], "count")
        amount = reduce.reduce_sum(math.cast(condition, dtypes.float32) * w)
        update_op = assign_add(count, amount)
        value = array.identity(count, name="value")
    return _collect(value, update_op, mc, uc)


def _confusion_metric(what, label_true, prediction_true):
    def metric(
        labels,
        predictions,
        weights=None,
        metrics_collections=None,
        updates_collections=None,
        name=None,
    ):
        labels, predictions = _as_bool(labels), _as_bool(predictions)
        _check_pair(labels, predictions, what)
        if not label_true:
            labels = math.logical_not(labels)
        if not prediction_true:
            predictions = math.logical_not(predictions)
        condition = math.logical_and(labels, predictions)
        return _count(what, condition, weights, metrics_collections, updates_collections, name)

    metric.__name__ = what
    metric.__doc__ = (
        f"The weighted count of {what.replace('_', ' ')} so far (labels and predictions are "
        "read as booleans: nonzero is True): ``(count, update_op)``."
    )
    return metric


true_positives = _confusion_metric("true_positives", True, True)
false_positives = _confusion_metric("false_positives", False, True)
true_negatives = _confusion_metric("true_negatives", False, False)
false_negatives = _confusion_metric("false_negatives", True, False)


def _ratio(what, first, second, labels, predictions, weights, mc, uc, name):
    """``first / (first + second)`` of two confusion counts, 0 while both are 0."""
    with get_default_graph().name_scope(name or what):
        a, update_a = first(labels, predictions, weights)
        b, update_b = second(labels, predictions, weights)
        value = array.identity(_div_no_nan(a, a + b), name="value")
        update_op = array.identity(_div_no_nan(update_a, update_a + update_b), name="update_op")
    return _collect(value, update_op, mc, uc)


def precision(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """``true_positives / (true_positives + false_positives)`` so far: ``(precision, update)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     p, update = precision([1, 0, 1, 1], [1, 1, 0, 1])
    ...     with fg.Session() as sess:
    ...         _ = sess.run(fg.local_variables_initializer())
    ...         print(sess.run(p), sess.run(update))
    0.0 0.6666667
    """
    return _ratio(
        "precision",
        true_positives,
        false_positives,
        labels,
        predictions,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


def recall(
    labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None
):
    """``true_positives / (true_positives + false_negatives)`` so far: ``(recall, update_op)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     r, update = recall([1, 0, 1, 1], [1, 1, 0, 1])
    ...     with fg.Session() as sess:
    ...         _ = sess.run(fg.local_variables_initializer())
    ...         print(sess.run(update))
    0.6666667
    """
    return _ratio(
        "recall",
        true_positives,
        false_negatives,
        labels,
        predictions,
        weights,
        metrics_collections,
        updates_collections,
        name,
    )


# ---- auc ---------------------------------------------------------------------------------------


def _thresholds(num_thresholds: int) -> list[float]:
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _THRESHOLD_EPSILON] + inner + [1.0 + _THRESHOLD_EPSILON]


def _area(tp, fp, tn, fn, curve, n, summation_method):
    recall_ = (tp + _EPSILON) / (tp + fn + _EPSILON)
    if curve == "ROC":
        x, y = fp / (fp + tn + _EPSILON), recall_
    else:
        x, y = recall_, (tp + _EPSILON) / (tp + fp + _EPSILON)
    if summation_method == "minoring":  # a lower bound: each step's smaller height
        height = math.minimum(y[: n - 1], y[1:])
    elif summation_method == "majoring":  # an upper bound
        height = math.maximum(y[: n - 1], y[1:])
    else:
        height = (y[: n - 1] + y[1:]) / 2.0
    return reduce.reduce_sum((x[: n - 1] - x[1:]) * height)


def auc(
    labels,
    predictions,
    weights=None,
    num_thresholds=200,
    metrics_collections=None,
    updates_collections=None,
    curve="ROC",
    name=None,
    summation_method="trapezoidal",
):
    """The area under the ROC (or ``curve="PR"``) curve, approximated as TF1 does with
    ``num_thresholds`` evenly spaced thresholds on predictions in [0, 1] and the trapezoidal
    rule (or TF1's ``"minoring"`` / ``"majoring"`` bounds): ``(auc, update_op)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     area, update = auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    ...     with fg.Session() as sess:
    ...         _ = sess.run(fg.local_variables_initializer())
    ...         print(round(float(sess.run(update)), 3))
    0.75
    """
    if curve not in ("ROC", "PR"):
        raise ValueError(f"auc: curve must be 'ROC' or 'PR', got {curve!r}")
    if summation_method not in ("trapezoidal", "minoring", "majoring"):
        raise ValueError(
            "auc: summation_method must be 'trapezoidal', 'minoring' or 'majoring', got "
            f"{summation_method!r}"
        )
    if num_thresholds < 2:
        raise ValueError(f"auc: num_thresholds must be at least 2, got {num_thresholds}")
    with get_default_graph().name_scope(name or "auc"):
        labels = array.reshape(_as_bool(labels), [1, -1])
        predictions = math.cast(convert_to_tensor(predictions), dtypes.float32)
        predictions = array.reshape(predictions, [1, -1])
        w = array.reshape(_weights_like(predictions, weights), [1, -1])
        thresholds = array.reshape(convert_to_tensor(_thresholds(num_thresholds)), [-1, 1])
        above = math.greater(predictions, thresholds)  # [thresholds, examples]
        counts, updates = [], []
        for label_is, above_is, var_name in [
            (True, True, "true_positives"),
            (False, True, "false_positives"),
            (False, False, "true_negatives"),
            (True, False, "false_negatives"),
        ]:
            lab = labels if label_is else math.logical_not(labels)
            abv = above if above_is else math.logical_not(above)
            hit = math.cast(math.logical_and(lab, abv), dtypes.float32)
            var = _metric_variable([num_thresholds], var_name)
            counts.append(var)
            updates.append(assign_add(var, reduce.reduce_sum(hit * w, 1)))
        area = [curve, num_thresholds, summation_method]
        value = array.identity(_area(*counts, *area), name="value")
        update_op = array.identity(_area(*updates, *area), name="update_op")
    return _collect(value, update_op, metrics_collections, updates_collections)
