"""flowgraph.losses (tf.losses) against NumPy formulas of TF1's documented semantics."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import losses
from flowgraph.losses import Reduction
from flowgraph.testing import check_gradients

RNG = np.random.default_rng(0)
LABELS = RNG.uniform(-1, 1, (4, 3))
PREDS = RNG.uniform(-1, 1, (4, 3))
WEIGHTS = np.array([[1.0], [0.0], [2.0], [0.5]])  # broadcasts over the last axis


def run(t):
    return fg.Session().run(t)


def reduce_np(per, weights, reduction):
    w = np.broadcast_to(weights, per.shape)
    weighted = per * w
    if reduction == Reduction.NONE:
        return weighted
    total = weighted.sum()
    if reduction == Reduction.SUM:
        return total
    if reduction == Reduction.MEAN:
        return total / w.sum() if w.sum() else 0.0
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return total / per.size
    n = np.count_nonzero(w)
    return total / n if n else 0.0


def huber_np(x, d=1.0):
    a = np.abs(x)
    return np.where(a <= d, 0.5 * a * a, 0.5 * d * d + d * (a - d))


PER_ELEMENT = {
    "mean_squared_error": (losses.mean_squared_error, lambda y, p: (p - y) ** 2),
    "absolute_difference": (losses.absolute_difference, lambda y, p: np.abs(p - y)),
    "huber_loss": (losses.huber_loss, lambda y, p: huber_np(p - y)),
    "hinge_loss": (
        lambda labels, predictions, **kw: losses.hinge_loss(labels, predictions, **kw),
        lambda y, p: np.maximum(0, 1 - (2 * (y > 0) - 1) * p),
    ),
}


@pytest.mark.parametrize("reduction", Reduction.all())
@pytest.mark.parametrize("name", sorted(PER_ELEMENT))
def test_elementwise_losses_with_weights_and_every_reduction(name, reduction):
    fn, reference = PER_ELEMENT[name]
    labels = (LABELS > 0).astype(np.float64) if name == "hinge_loss" else LABELS
    got = run(fn(labels=labels, predictions=PREDS, weights=WEIGHTS, reduction=reduction))
    expected = reduce_np(reference(labels, PREDS), WEIGHTS, reduction)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_default_reduction_is_sum_by_nonzero_weights_and_losses_are_collected():
    loss = losses.mean_squared_error(LABELS, PREDS, weights=WEIGHTS)
    expected = ((PREDS - LABELS) ** 2 * WEIGHTS).sum() / 9  # 3 of 12 weights are zero
    np.testing.assert_allclose(run(loss), expected, rtol=1e-12)
    assert losses.get_losses() == [loss]
    assert fg.get_collection(fg.GraphKeys.LOSSES) == [loss]
    zero = losses.absolute_difference([1.0], [2.0], weights=0.0, loss_collection=None)
    assert run(zero) == 0.0  # all weights zero: 0, not nan
    assert losses.get_losses() == [loss]  # loss_collection=None: not collected


def test_log_loss_and_sigmoid_and_softmax_cross_entropy_with_label_smoothing():
    p = RNG.uniform(0.05, 0.95, (5, 2))
    y = (RNG.uniform(size=(5, 2)) > 0.5).astype(np.float64)
    got = run(losses.log_loss(y, p, reduction=Reduction.NONE))
    eps = 1e-7
    np.testing.assert_allclose(got, -y * np.log(p + eps) - (1 - y) * np.log(1 - p + eps))
    logits = RNG.uniform(-2, 2, (5, 2))
    s = 0.2
    ys = y * (1 - s) + 0.5 * s
    expected = np.mean(np.maximum(logits, 0) - logits * ys + np.log1p(np.exp(-np.abs(logits))))
    got = run(losses.sigmoid_cross_entropy(y, logits, label_smoothing=s))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    onehot = np.eye(4)[[0, 3, 1]]
    logits = RNG.uniform(-2, 2, (3, 4))
    smooth = onehot * (1 - s) + s / 4
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per_example = -(smooth * log_softmax).sum(1)
    w = np.array([1.0, 0.0, 3.0])
    got = run(losses.softmax_cross_entropy(onehot, logits, weights=w, label_smoothing=s))
    np.testing.assert_allclose(got, (per_example * w).sum() / 2, rtol=1e-12)
    # Integer one-hot labels are cast, as TF1 does.
    got_int = run(losses.softmax_cross_entropy(onehot.astype(np.int32), logits))
    np.testing.assert_allclose(got_int, -(onehot * log_softmax).sum(1).mean(), rtol=1e-12)
    sparse = run(losses.sparse_softmax_cross_entropy([0, 3, 1], logits, weights=w))
    np.testing.assert_allclose(sparse, (-(onehot * log_softmax).sum(1) * w).sum() / 2)


def test_losses_differentiate_and_softmax_labels_get_no_gradient():
    x = fg.placeholder(fg.float64, [4, 3])
    loss = losses.huber_loss(LABELS, x, weights=WEIGHTS, delta=0.5)
    check_gradients(loss, [x], {x: PREDS})
    labels = fg.placeholder(fg.float64, [3, 4])
    logits = fg.placeholder(fg.float64, [3, 4])
    xent = losses.softmax_cross_entropy(labels, logits)
    check_gradients(xent, [logits], {labels: np.eye(4)[:3], logits: RNG.uniform(-1, 1, (3, 4))})
    assert fg.gradients(xent, [labels]) == [None]


def test_total_loss_adds_regularization_losses_and_add_loss():
    with fg.variable_scope("model"):
        w = fg.get_variable("w", [2], initializer=fg.initializers.ones(), regularizer=fg.nn.l2_loss)
    data = losses.mean_squared_error([0.0, 0.0], w)  # mean(1, 1) = 1
    losses.add_loss(fg.constant(0.25))
    reg = losses.get_regularization_loss()
    total = losses.get_total_loss()
    without = losses.get_total_loss(add_regularization_losses=False)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        assert sess.run([data, reg, total, without]) == [1.0, 1.0, 2.25, 1.25]
    assert len(losses.get_regularization_losses()) == 1


def test_total_loss_without_losses_and_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="no losses"):
        losses.get_total_loss()
    assert run(losses.get_regularization_loss()) == 0.0
    with pytest.raises(
        ValueError, match=r"labels have shape \[3\] and predictions \[2\] \(at test_losses.py:\d+"
    ):
        losses.mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"weights of shape \[2\] do not broadcast"):
        losses.mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="Invalid loss reduction 'avg'"):
        losses.absolute_difference([1.0], [1.0], reduction="avg")
    with pytest.raises(TypeError, match="unexpected keyword"):
        losses.absolute_difference([1.0], [1.0], reductoin="sum")
