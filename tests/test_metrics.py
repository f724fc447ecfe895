"""flowgraph.metrics (tf.metrics): (value, update_op) pairs over local variables, against NumPy."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import metrics

RNG = np.random.default_rng(0)


def stream(metric_fn, batches, **kwargs):
    """Feed ``batches`` of (labels, predictions[, weights]) through one metric; return the
    update results and the final value."""
    labels = fg.placeholder(fg.float32, [None])
    preds = fg.placeholder(fg.float32, [None])
    weights = fg.placeholder(fg.float32, [None])
    value, update = metric_fn(labels, preds, weights=weights, **kwargs)
    with fg.Session() as sess:
        sess.run(fg.local_variables_initializer())
        before = sess.run(value)
        updates = [sess.run(update, {labels: y, preds: p, weights: w}) for y, p, w in batches]
        return before, updates, sess.run(value)


def batches(n=3, size=7, binary=False, probabilities=False):
    out = []
    for _ in range(n):
        y = RNG.integers(0, 2 if binary else 4, size).astype(np.float32)
        if probabilities:
            p = np.clip(0.3 * y + RNG.uniform(0, 0.7, size), 0, 1).astype(np.float32)
        else:
            p = RNG.integers(0, 2 if binary else 4, size).astype(np.float32)
        w = RNG.choice([0.0, 1.0, 2.0], size).astype(np.float32)
        out.append((y, p, w))
    return out


def joined(bs):
    return [np.concatenate(parts) for parts in zip(*bs)]


REFERENCES = {
    "accuracy": lambda y, p, w: np.sum((y == p) * w) / np.sum(w),
    "mean_squared_error": lambda y, p, w: np.sum((p - y) ** 2 * w) / np.sum(w),
    "mean_absolute_error": lambda y, p, w: np.sum(np.abs(p - y) * w) / np.sum(w),
    "root_mean_squared_error": lambda y, p, w: np.sqrt(np.sum((p - y) ** 2 * w) / np.sum(w)),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_streaming_metrics_match_numpy_over_all_batches(name):
    bs = batches()
    before, updates, final = stream(getattr(metrics, name), bs)
    assert before == 0.0  # nothing counted yet: 0, not nan
    for i, got in enumerate(updates):  # each update returns the metric so far
        np.testing.assert_allclose(got, REFERENCES[name](*joined(bs[: i + 1])), rtol=1e-5)
    np.testing.assert_allclose(final, updates[-1])


BINARY = {
    "true_positives": lambda y, p, w: np.sum(w * (y > 0) * (p > 0)),
    "false_positives": lambda y, p, w: np.sum(w * (y == 0) * (p > 0)),
    "true_negatives": lambda y, p, w: np.sum(w * (y == 0) * (p == 0)),
    "false_negatives": lambda y, p, w: np.sum(w * (y > 0) * (p == 0)),
    "precision": lambda y, p, w: np.sum(w * (y > 0) * (p > 0)) / np.sum(w * (p > 0)),
    "recall": lambda y, p, w: np.sum(w * (y > 0) * (p > 0)) / np.sum(w * (y > 0)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_confusion_counts_precision_and_recall(name):
    bs = batches(binary=True, size=20)
    _, updates, final = stream(getattr(metrics, name), bs)
    np.testing.assert_allclose(final, BINARY[name](*joined(bs)), rtol=1e-5)
    np.testing.assert_allclose(updates[0], BINARY[name](*bs[0]), rtol=1e-5)


def tf1_auc(y, p, w, n=200, curve="ROC", summation="trapezoidal"):
    """TF1's approximation: n thresholds (the ends 1e-7 outside [0, 1]), ratios kept finite by
    an epsilon of 1e-6, then trapezoids (or the lower / upper step bounds)."""
    eps = 1e-6
    th = np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])
    above = p[None, :] > th[:, None]
    pos = y[None, :] > 0
    tp = np.sum(w * (above & pos), 1)
    fp = np.sum(w * (above & ~pos), 1)
    tn = np.sum(w * (~above & ~pos), 1)
    fn = np.sum(w * (~above & pos), 1)
    rec = (tp + eps) / (tp + fn + eps)
    x, yy = (fp / (fp + tn + eps), rec) if curve == "ROC" else (rec, (tp + eps) / (tp + fp + eps))
    heights = {
        "trapezoidal": (yy[:-1] + yy[1:]) / 2,
        "minoring": np.minimum(yy[:-1], yy[1:]),
        "majoring": np.maximum(yy[:-1], yy[1:]),
    }
    return np.sum((x[:-1] - x[1:]) * heights[summation])


@pytest.mark.parametrize("summation", ["trapezoidal", "minoring", "majoring"])
@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_matches_tf1s_threshold_approximation(curve, summation):
    bs = batches(binary=True, probabilities=True, size=30)
    _, _, final = stream(metrics.auc, bs, curve=curve, summation_method=summation)
    expected = tf1_auc(*joined(bs), curve=curve, summation=summation)
    np.testing.assert_allclose(final, expected, rtol=1e-5)
    if (
        curve == "ROC" and summation == "trapezoidal"
    ):  # and is close to the exact area (the Mann-Whitney statistic)
        y, p, w = joined(bs)
        keep = w > 0
        y, p = y[keep], p[keep]
        wins = (p[y > 0][:, None] > p[y == 0][None, :]).mean()
        assert abs(final - wins) < 0.05


def test_mean_local_variables_collections_and_reset():
    values = fg.placeholder(fg.float32, [None])
    m, update = metrics.mean(values, metrics_collections=["m"], updates_collections=["u"])
    assert fg.get_collection("m") == [m] and fg.get_collection("u") == [update]
    local = fg.local_variables()
    assert [v.name for v in local] == ["mean/total:0", "mean/count:0"]
    assert fg.get_collection(fg.GraphKeys.METRIC_VARIABLES) == local
    assert not fg.trainable_variables() and not fg.global_variables()
    with fg.Session() as sess:
        sess.run(fg.local_variables_initializer())
        sess.run(update, {values: [1.0, 2.0]})
        assert sess.run(update, {values: [6.0]}) == 3.0
        sess.run(fg.local_variables_initializer())  # re-initializing starts over
        assert sess.run(m) == 0.0
        assert sess.run(update, {values: [5.0]}) == 5.0


def test_metrics_need_local_variables_initializer_and_matching_shapes():
    acc, update = metrics.accuracy([1, 2], [1, 3])
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())  # not enough: the totals are local
        with pytest.raises(fg.errors.FailedPreconditionError, match="accuracy/total"):
            sess.run(update)
    with pytest.raises(
        ValueError, match=r"labels have shape \[2\] and predictions \[3\] \(at test_metrics.py:\d+"
    ):
        metrics.accuracy([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="curve must be"):
        metrics.auc([1], [0.5], curve="DET")
