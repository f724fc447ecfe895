"""slice, reverse, matrix_transpose, linspace (ops/views.py), trace, and the tf.nn formulas
xw_plus_b, batch_normalization, weighted_cross_entropy_with_logits against NumPy, with float64
gradient checks; bad inputs."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.ops import matrix, nn, views
from flowgraph.testing import check_gradients

RNG = np.random.default_rng(1)


def run(t, feed=None):
    return fg.Session().run(t, feed)


def test_slice_reverse_transpose_match_numpy_and_differentiate():
    v = RNG.uniform(-1, 1, (3, 4, 5))
    x = fg.placeholder(fg.float64, [3, 4, 5])
    cases = [
        (views.slice(x, [1, 0, 2], [2, -1, 2]), v[1:3, :, 2:4]),
        (views.slice(x, [0, 3, 0], [-1, 1, -1]), v[:, 3:4, :]),
        (views.reverse(x, [0, -1]), v[::-1, :, ::-1]),
        (views.matrix_transpose(x), np.swapaxes(v, -1, -2)),
        (matrix.trace(x[:, :4, :4]), np.trace(v[:, :4, :4], axis1=-2, axis2=-1)),
    ]
    for out, expected in cases:
        got = run(out, {x: v})
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert out.shape == fg.TensorShape(expected.shape)
        check_gradients(fg.reduce_sum(out * out), [x], {x: v})


def test_linspace_matches_numpy():
    np.testing.assert_allclose(run(views.linspace(-1.0, 2.0, 7)), np.linspace(-1, 2, 7), 1e-6)
    assert run(views.linspace(3.0, 5.0, 1)).tolist() == [3.0]


def test_bad_view_arguments_say_what_is_wrong():
    x = fg.zeros([2, 3])
    with pytest.raises(ValueError, match=r"one entry per dimension of the input \(2"):
        views.slice(x, [0], [1])
    with pytest.raises(ValueError, match="size >= -1"):
        views.slice(x, [0, 0], [1, -2])
    with pytest.raises(TypeError, match="list of Python ints"):
        views.slice(x, [0, 0.5], [1, 1])
    with pytest.raises(ValueError, match=r"axis \[2\] out of range for a tensor of rank 2"):
        views.reverse(x, [2])
    with pytest.raises(ValueError, match="rank >= 2"):
        views.matrix_transpose(fg.zeros([3]))
    with pytest.raises(ValueError, match="num must be at least 1"):
        views.linspace(0.0, 1.0, 0)


def test_nn_formulas_match_numpy_and_differentiate():
    xv, wv, bv = RNG.uniform(-1, 1, (4, 3)), RNG.uniform(-1, 1, (3, 2)), RNG.uniform(-1, 1, 2)
    x, w, b = (fg.placeholder(fg.float64, s) for s in [(4, 3), (3, 2), (2,)])
    feed = {x: xv, w: wv, b: bv}
    out = nn.xw_plus_b(x, w, b)
    np.testing.assert_allclose(run(out, feed), xv @ wv + bv, rtol=1e-12)
    check_gradients(fg.reduce_sum(out**2), [x, w, b], feed)

    mean, var = nn.moments(x, [0])
    scale, offset = fg.placeholder(fg.float64, [3]), fg.placeholder(fg.float64, [3])
    sv, ov = RNG.uniform(0.5, 2, 3), RNG.uniform(-1, 1, 3)
    bn = nn.batch_normalization(x, mean, var, offset, scale, 1e-3)
    expected = sv * (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3) + ov
    feed = {x: xv, scale: sv, offset: ov}
    np.testing.assert_allclose(run(bn, feed), expected, rtol=1e-10)
    check_gradients(fg.reduce_sum(bn * bn * x), [x, scale, offset], feed)

    logits = fg.placeholder(fg.float64, [4, 3])
    z = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    lv = RNG.uniform(-3, 3, (4, 3))
    loss = nn.weighted_cross_entropy_with_logits(labels=z, logits=logits, pos_weight=2.5)
    sig = 1 / (1 + np.exp(-lv))
    expected = -(z * np.log(sig) * 2.5 + (1 - z) * np.log(1 - sig))
    np.testing.assert_allclose(run(loss, {logits: lv}), expected, rtol=1e-10)
    check_gradients(fg.reduce_sum(loss), [logits], {logits: lv})
    with pytest.raises(ValueError, match="pos_weight are required"):
        nn.weighted_cross_entropy_with_logits(labels=z, logits=logits)


@pytest.mark.parametrize(
    "axis, direction", [(-1, "ASCENDING"), (0, "DESCENDING"), (1, "ASCENDING")]
)
def test_sort_and_argsort_match_numpy(axis, direction):
    v = RNG.permutation(24).reshape(4, 6).astype(np.float64)  # distinct: one right order
    x = fg.placeholder(fg.float64, [4, 6])
    got, idx = run([views.sort(x, axis, direction), views.argsort(x, axis, direction)], {x: v})
    order = np.argsort(v, axis=axis)
    if direction == "DESCENDING":
        order = np.flip(order, axis=axis)
    np.testing.assert_array_equal(idx, order)
    np.testing.assert_array_equal(got, np.take_along_axis(v, order, axis=axis))
    check_gradients(fg.reduce_sum(views.sort(x, axis, direction) * np.arange(6.0)), [x], {x: v})
    with pytest.raises(ValueError, match="direction must be"):
        views.sort(x, direction="UP")


def test_swish_softsign_log_sigmoid_match_numpy():
    v = RNG.uniform(-4, 4, (3, 5))
    x = fg.placeholder(fg.float64, [3, 5])
    sig = 1 / (1 + np.exp(-v))
    for fn, expected in [
        (nn.swish, v * sig),
        (nn.softsign, v / (1 + np.abs(v))),
        (nn.log_sigmoid, np.log(sig)),
    ]:
        np.testing.assert_allclose(run(fn(x), {x: v}), expected, rtol=1e-12)
        check_gradients(fg.reduce_sum(fn(x)), [x], {x: v})
    assert np.isfinite(run(nn.log_sigmoid(fg.constant([-1e4, 1e4]))).all())


def test_crelu_zero_fraction_normalize_moments():
    v = RNG.uniform(-1, 1, (3, 4))
    x = fg.placeholder(fg.float64, [3, 4])
    out = nn.crelu(x)
    np.testing.assert_allclose(run(out, {x: v}), np.concatenate([v.clip(0), (-v).clip(0)], -1))
    check_gradients(fg.reduce_sum(out * out), [x], {x: v})
    assert run(nn.zero_fraction([0.0, 1.0, 0.0, 2.0])) == 0.5
    data = RNG.uniform(-1, 1, 10)
    mean, var = nn.normalize_moments(10.0, data.sum(), (data**2).sum(), None)
    got_mean, got_var = run([mean, var])
    np.testing.assert_allclose([got_mean, got_var], [data.mean(), data.var()], rtol=1e-5)
