"""The ops of flowgraph/ops/derived.py, selection.py and nd_indexing.py: forward against NumPy,
gradients numerically."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.compat.v1 as tf
from flowgraph.ops import checks, derived, nd_indexing, selection
from flowgraph.testing import check_gradients

RNG = np.random.default_rng(0)
FLAGS = [(False, False), (True, False), (False, True), (True, True)]


def _run(fetches, feed=None):
    return fg.Session().run(fetches, feed)


def _check(build, *values, **tolerance):
    """Gradient check of ``build(*placeholders)`` at ``values`` (float64)."""
    xs = [fg.placeholder(fg.float64, np.shape(v)) for v in values]
    y = build(*xs)
    check_gradients(y, xs, dict(zip(xs, values)), **tolerance)


# ---- reduce_logsumexp -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (1, False), (0, True), ((0, 2), False), (-1, True)]
)
def test_reduce_logsumexp_matches_numpy(axis, keepdims):
    x = RNG.standard_normal((2, 3, 4))
    got = _run(derived.reduce_logsumexp(fg.constant(x), axis, keepdims=keepdims))
    m = x.max(axis=axis, keepdims=True)
    expected = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    if not keepdims:
        expected = np.squeeze(expected, axis=axis)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.shape(got) == np.shape(expected)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")  # log(0) = -inf
def test_reduce_logsumexp_is_stable_and_handles_infinities():
    x = fg.constant([[1e4, 1e4], [-np.inf, 0.0], [-np.inf, -np.inf]], dtype=fg.float64)
    got = _run(derived.reduce_logsumexp(x, axis=1))
    np.testing.assert_allclose(got[:2], [1e4 + np.log(2), 0.0])
    assert got[2] == -np.inf


def test_reduce_logsumexp_gradient_is_the_softmax():
    _check(lambda x: derived.reduce_logsumexp(x, axis=1), RNG.standard_normal((3, 4)))
    _check(derived.reduce_logsumexp, 10 * RNG.standard_normal((2, 3)))


# ---- reciprocal, eye, to_* ----------------------------------------------------------------------


def test_reciprocal():
    x = RNG.uniform(0.5, 2, (3, 2))
    np.testing.assert_allclose(_run(derived.reciprocal(fg.constant(x))), 1 / x)
    _check(derived.reciprocal, x)


@pytest.mark.parametrize(
    ("rows", "cols", "batch"), [(3, None, None), (2, 4, None), (3, 2, [2]), (1, 1, [2, 3])]
)
def test_eye(rows, cols, batch):
    got = _run(derived.eye(rows, cols, batch_shape=batch, dtype=fg.float64))
    expected = np.eye(rows, cols)
    if batch:
        expected = np.broadcast_to(expected, list(batch) + list(expected.shape))
    np.testing.assert_array_equal(got, expected)


def test_to_casts():
    x = fg.constant([1.7, -2.2])
    assert _run(derived.to_int32(x)).tolist() == [1, -2]
    assert derived.to_float(derived.to_int64(x)).dtype is fg.float32
    assert derived.to_double(x).dtype is fg.float64


# ---- Cumsum -------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize(("exclusive", "reverse"), FLAGS)
def test_cumsum_matches_numpy(axis, exclusive, reverse):
    x = RNG.integers(-5, 5, (3, 4)).astype(np.int32)
    got = _run(nd_indexing.cumsum(fg.constant(x), axis, exclusive=exclusive, reverse=reverse))
    y = np.flip(x, axis) if reverse else x
    expected = np.cumsum(y, axis=axis) - (y if exclusive else 0)
    expected = np.flip(expected, axis) if reverse else expected
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int32


@pytest.mark.parametrize(("exclusive", "reverse"), FLAGS)
def test_cumsum_gradient(exclusive, reverse):
    _check(lambda x: nd_indexing.cumsum(x, 1, exclusive, reverse), RNG.standard_normal((2, 4)))


def test_cumsum_second_order_and_bad_axis():
    x = fg.placeholder(fg.float64, [5])
    (dx,) = fg.gradients(nd_indexing.cumsum(x) ** 2, [x])
    check_gradients(dx, [x], {x: RNG.standard_normal(5)})
    with pytest.raises(fg.errors.ShapeError, match="out of range"):
        nd_indexing.cumsum(fg.zeros([2, 2]), axis=2)


# ---- GatherNd / ScatterNd -----------------------------------------------------------------------


def test_gather_nd_matches_numpy():
    params = RNG.standard_normal((3, 4, 2))
    full = np.array([[0, 1, 1], [2, 3, 0]])
    rows = np.array([[[2], [0]], [[1], [1]]])
    got_full, got_rows = _run(
        [nd_indexing.gather_nd(params, full), nd_indexing.gather_nd(params, rows)]
    )
    np.testing.assert_array_equal(got_full, params[full[:, 0], full[:, 1], full[:, 2]])
    np.testing.assert_array_equal(got_rows, params[rows[..., 0]])
    assert nd_indexing.gather_nd(fg.constant(params), rows).shape.as_list() == [2, 2, 4, 2]


def test_gather_nd_rejects_indices_out_of_range():
    y = nd_indexing.gather_nd(fg.zeros([2, 3]), [[0, 3]])
    with pytest.raises(fg.errors.InvalidArgumentError, match="not inside shape"):
        _run(y)


def test_gather_nd_gradient_adds_repeated_indices():
    indices = [[0, 1], [2, 0], [0, 1]]
    _check(lambda p: nd_indexing.gather_nd(p, indices), RNG.standard_normal((3, 2)))
    params = fg.placeholder(fg.float64, [3, 2])
    (g,) = fg.gradients(fg.reduce_sum(nd_indexing.gather_nd(params, indices)), [params])
    np.testing.assert_array_equal(_run(g, {params: np.zeros((3, 2))}), [[0, 2], [0, 0], [1, 0]])


def test_scatter_nd_matches_numpy_and_differentiates():
    indices = np.array([[1], [3], [1]])
    updates = RNG.standard_normal((3, 2))
    got = _run(nd_indexing.scatter_nd(indices, fg.constant(updates), [5, 2]))
    expected = np.zeros((5, 2))
    np.add.at(expected, indices[:, 0], updates)
    np.testing.assert_allclose(got, expected)
    _check(lambda u: nd_indexing.scatter_nd(indices, u, [5, 2]), updates)
    shape = fg.placeholder(fg.int32, [2])
    dynamic = nd_indexing.scatter_nd(indices, fg.constant(updates), shape)
    assert dynamic.shape.as_list() == [None, None]
    np.testing.assert_allclose(_run(dynamic, {shape: [5, 2]}), expected)


# ---- boolean_mask ---------------------------------------------------------------------------


def test_boolean_mask_matches_numpy():
    t = RNG.standard_normal((3, 4, 2))
    mask1 = np.array([True, False, True])
    mask2 = RNG.uniform(size=(3, 4)) > 0.5
    mask_axis1 = np.array([False, True, True, False])
    got = _run(
        [
            selection.boolean_mask(t, mask1),
            selection.boolean_mask(t, mask2),
            selection.boolean_mask(t, mask_axis1, axis=1),
        ]
    )
    np.testing.assert_array_equal(got[0], t[mask1])
    np.testing.assert_array_equal(got[1], t[mask2])
    np.testing.assert_array_equal(got[2], t[:, mask_axis1])


def test_boolean_mask_with_unknown_dims_and_gradient():
    t = fg.placeholder(fg.float64, [None, 3])
    m = fg.placeholder(fg.bool, [None])
    y = selection.boolean_mask(t, m)
    assert y.shape.as_list() == [None, 3]
    value = RNG.standard_normal((4, 3))
    mask = np.array([True, False, False, True])
    np.testing.assert_array_equal(_run(y, {t: value, m: mask}), value[mask])
    check_gradients(y, [t], {t: value, m: mask})


# ---- top_k ------------------------------------------------------------------------------------


def test_top_k_matches_numpy_with_ties_in_index_order():
    x = np.array([[3, 1, 3, 7, 1], [0, 0, 0, 0, 5]], dtype=np.uint8)
    values, indices = _run(list(nd_indexing.top_k(x, k=3)))
    assert indices.tolist() == [[3, 0, 2], [4, 0, 1]]
    assert values.tolist() == [[7, 3, 3], [5, 0, 0]]
    assert indices.dtype == np.int32 and values.dtype == np.uint8
    f = RNG.standard_normal((2, 3, 6))
    result = nd_indexing.top_k(fg.constant(f), 4)
    assert result.values.shape.as_list() == [2, 3, 4]
    np.testing.assert_array_equal(_run(result.values), -np.sort(-f, axis=-1)[..., :4])


def test_top_k_gradient_goes_to_the_chosen_entries():
    x = RNG.permutation(24).reshape(2, 3, 4).astype(np.float64)  # no ties
    _check(lambda t: nd_indexing.top_k(t, 2).values, x)
    t = fg.placeholder(fg.float64, [None, 4])
    (g,) = fg.gradients(fg.reduce_sum(nd_indexing.top_k(t, 2).values), [t])
    got = _run(g, {t: [[1.0, 4.0, 2.0, 3.0], [9.0, 8.0, 7.0, 6.0]]})
    np.testing.assert_array_equal(got, [[0, 1, 0, 1], [1, 1, 0, 0]])


def test_top_k_rejects_a_too_large_k():
    with pytest.raises(fg.errors.ShapeError, match="at least k=5"):
        nd_indexing.top_k(fg.zeros([2, 4]), 5)


# ---- embedding_lookup -------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_embedding_lookup_over_shards(strategy):
    table = RNG.standard_normal((7, 3))
    ids = np.array([[6, 0], [3, 3]])
    if strategy == "mod":
        shards = [table[i::3] for i in range(3)]
    else:
        shards = [table[0:3], table[3:5], table[5:7]]
    got = _run(selection.embedding_lookup([fg.constant(s) for s in shards], ids, strategy))
    np.testing.assert_array_equal(got, table[ids])
    np.testing.assert_array_equal(_run(tf.nn.embedding_lookup(table, ids)), table[ids])


def test_embedding_lookup_gradient_and_max_norm():
    ids = [2, 0, 2]
    _check(lambda p: selection.embedding_lookup(p, ids), RNG.standard_normal((4, 3)))
    table = np.array([[3.0, 4.0], [0.3, 0.4]])
    got = _run(selection.embedding_lookup(table, [0, 1], max_norm=1.0))
    np.testing.assert_allclose(got, [[0.6, 0.8], [0.3, 0.4]])


# ---- Assert, variable-state queries -----------------------------------------------------------


def test_assert_passes_and_fails():
    x = fg.placeholder(fg.int32, [None])
    check = checks.Assert(fg.reduce_all(x > 0), ["x:", x, "n:", fg.size(x)], summarize=2)
    assert isinstance(check, fg.Operation)
    with fg.control_dependencies([check]):
        y = fg.identity(x)
    sess = fg.Session()
    assert sess.run(y, {x: [1, 2]}).tolist() == [1, 2]
    with pytest.raises(fg.errors.InvalidArgumentError) as info:
        sess.run(y, {x: [1, -2, 3]})
    assert "assertion failed: [x:] [[1, -2]] [n:] [[3]]" in str(info.value)


def test_is_variable_initialized_and_report():
    a = fg.Variable(1.0, name="a")
    b = fg.Variable([2, 3], name="b")
    flags = [checks.is_variable_initialized(v) for v in (a, b)]
    report = checks.report_uninitialized_variables()
    sess = fg.Session()
    assert sess.run(flags) == [False, False]
    assert sess.run(report).tolist() == [b"a", b"b"]
    sess.run(a.initializer)
    assert sess.run(flags) == [True, False]
    assert sess.run(report).tolist() == [b"b"]
    sess.run(fg.global_variables_initializer())
    assert sess.run(report).tolist() == []
    assert fg.Session().run(flags[0]) == False  # noqa: E712 - each session has its own values


class _NoUfuncAt:
    """NumPy seen as an array-API namespace: ``add`` is a plain function without ``.at``."""

    @staticmethod
    def add(a, b):
        return np.add(a, b)

    def __getattr__(self, name):
        return getattr(np, name)


def test_scatter_nd_kernel_without_ufunc_at():
    indices = np.array([[0, 1], [1, 2], [0, 1]])
    updates = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    got = nd_indexing.scatter_nd_kernel(_NoUfuncAt(), indices, updates, np.array([2, 3, 2]))
    expected = np.zeros((2, 3, 2))
    np.add.at(expected, (indices[:, 0], indices[:, 1]), updates)
    np.testing.assert_array_equal(got, expected)
