"""reduce_variance / reduce_std, unsorted_segment_sum / mean, logical_xor (ops/statistics.py)
and tensordot (ops/matrix.py) against NumPy, with float64 gradient checks."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.ops import matrix, statistics
from flowgraph.testing import check_gradients

RNG = np.random.default_rng(4)


def run(t, feed=None):
    return fg.Session().run(t, feed)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), ((1, 2), True)])
def test_variance_and_std_match_numpy(axis, keepdims):
    v = RNG.uniform(-2, 2, (3, 4, 2))
    x = fg.placeholder(fg.float64, [3, 4, 2])
    var = statistics.reduce_variance(x, axis, keepdims)
    std = statistics.reduce_std(x, axis, keepdims)
    np.testing.assert_allclose(run(var, {x: v}), np.var(v, axis, keepdims=keepdims), 1e-12)
    np.testing.assert_allclose(run(std, {x: v}), np.std(v, axis, keepdims=keepdims), 1e-12)
    check_gradients(fg.reduce_sum(std), [x], {x: v})


@pytest.mark.parametrize("shape", [(6,), (6, 3), (6, 2, 3)])
def test_unsorted_segment_sum_and_mean_match_numpy(shape):
    v = RNG.uniform(-1, 1, shape)
    ids = np.array([2, 0, 2, 5, 0, 2])  # 5 is out of range for 4 segments: dropped, as TF
    x = fg.placeholder(fg.float64, shape)
    total = statistics.unsorted_segment_sum(x, ids, 4)
    mean = statistics.unsorted_segment_mean(x, ids, 4)
    expected = np.zeros((4,) + shape[1:])
    counts = np.zeros(4)
    for i, s in enumerate(ids):
        if s < 4:
            expected[s] += v[i]
            counts[s] += 1
    np.testing.assert_allclose(run(total, {x: v}), expected, atol=1e-12)
    c = np.maximum(counts, 1).reshape((4,) + (1,) * (len(shape) - 1))
    np.testing.assert_allclose(run(mean, {x: v}), expected / c, atol=1e-12)
    check_gradients(fg.reduce_sum(total * total), [x], {x: v})
    with pytest.raises(TypeError, match="segment_ids must be integers"):
        statistics.unsorted_segment_sum(x, [0.5] * 6, 2)


def test_logical_xor():
    a, b = [True, True, False, False], [True, False, True, False]
    assert run(statistics.logical_xor(a, b)).tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    "shape_a, shape_b, axes",
    [
        ((2, 3, 4), (4, 5), 1),
        ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
        ((3,), (3,), 1),
        ((2, 3), (4, 5), 0),
        ((2, 3, 4), (3, 4, 2), 2),
    ],
)
def test_tensordot_matches_numpy(shape_a, shape_b, axes):
    av, bv = RNG.uniform(-1, 1, shape_a), RNG.uniform(-1, 1, shape_b)
    a, b = fg.placeholder(fg.float64, shape_a), fg.placeholder(fg.float64, shape_b)
    out = matrix.tensordot(a, b, axes)
    expected = np.tensordot(av, bv, axes)
    np.testing.assert_allclose(run(out, {a: av, b: bv}), expected, rtol=1e-12)
    assert out.shape == fg.TensorShape(expected.shape)
    check_gradients(fg.reduce_sum(out * out), [a, b], {a: av, b: bv})
    with pytest.raises(ValueError, match="differ in number"):
        matrix.tensordot(a, b, [[0], [0, 1]])
