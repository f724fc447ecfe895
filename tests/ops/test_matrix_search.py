"""diag, diag_part, matrix_determinant, matrix_inverse, einsum, norm (ops/matrix.py), unique,
in_top_k, count_nonzero, sequence_mask, div (ops/search.py) and the norm clipping of
ops/clipping.py, against NumPy; shape rules and bad inputs; float64 gradient checks of the
composites (the new ops' gradients are checked in tests/autodiff/test_registry_gradients.py)."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.autodiff.checker import check_gradients
from flowgraph.errors import ShapeError
from flowgraph.ops import clipping, matrix, search

RNG = np.random.default_rng(0)


def run(out, feed=None):
    return fg.Session().run(out, feed)


@pytest.mark.parametrize("shape", [(3,), (2, 2), (1,)])
def test_diag_and_diag_part_match_numpy(shape):
    v = RNG.uniform(-2, 2, shape)
    d = matrix.diag(v)
    got = run(d)
    n = v.size
    expected = np.diag(v.reshape(-1)).reshape(shape + shape)
    np.testing.assert_array_equal(got, expected)
    assert d.shape == fg.TensorShape(shape + shape)
    back = matrix.diag_part(d)
    np.testing.assert_array_equal(run(back), v)
    assert back.shape == fg.TensorShape(shape)
    assert n == np.prod(shape)


def test_diag_part_of_unknown_shape_and_bad_shapes():
    x = fg.placeholder(fg.float32, None)
    m = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(run(matrix.diag_part(x), {x: m}), np.diag(m))
    with pytest.raises(ShapeError, match="halves of"):
        matrix.diag_part(fg.zeros([2, 3]))
    with pytest.raises(ShapeError, match="even"):
        matrix.diag_part(fg.zeros([2, 2, 2]))
    with pytest.raises(ShapeError, match="scalar"):
        matrix.diag(1.0)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_determinant_and_inverse_match_numpy(shape):
    a = RNG.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])
    det, inv = run([matrix.matrix_determinant(a), matrix.matrix_inverse(a)])
    np.testing.assert_allclose(det, np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(inv, np.linalg.inv(a), rtol=1e-12)
    adj = run(matrix.matrix_inverse(a, adjoint=True))
    np.testing.assert_allclose(adj, np.linalg.inv(np.swapaxes(a, -1, -2)), rtol=1e-12)
    assert matrix.matrix_determinant(a).shape == fg.TensorShape(shape[:-2])


def test_determinant_rejects_non_square_and_integer_matrices():
    with pytest.raises(
        ShapeError,
        match=r"(?s)square matrices, but got shape \[2,3\].*created at test_matrix_search.py",
    ):
        matrix.matrix_determinant(fg.zeros([2, 3]))
    with pytest.raises(Exception, match="float"):
        matrix.matrix_inverse(fg.constant([[1, 0], [0, 1]]))


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ik,jk", [(2, 3), (4, 3)]),  # implicit output: "ij"
    ("abc,cd->dba", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk->...ik", [(5, 2, 3, 4), (4, 2)]),
    ("...ij,...jk", [(1, 3, 4), (2, 4, 5)]),  # implicit output: "...ik", size-1 broadcasts
    ("i...->...", [(3, 2)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("b...,b...->b...", [(2, 3, 4), (2, 3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_matches_numpy_and_differentiates(equation, shapes):
    values = [RNG.uniform(-1, 1, s) for s in shapes]
    xs = [fg.placeholder(fg.float64, s) for s in shapes]
    out = matrix.einsum(equation, *xs)
    feed = dict(zip(xs, values))
    got = run(out, feed)
    expected = np.einsum(equation, *values)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert out.shape == fg.TensorShape(expected.shape)
    check_gradients(fg.reduce_sum(out * out), xs, feed)


def test_einsum_bad_equations_say_what_is_wrong():
    a = fg.zeros([2, 3])
    with pytest.raises(ShapeError, match="letter 'j'.*size 3 in one operand and 4"):
        matrix.einsum("ij,jk->ik", a, fg.zeros([4, 2]))
    with pytest.raises(ShapeError, match="has rank 2, but its subscripts 'ijk'"):
        matrix.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="names 2 operand"):
        matrix.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="diagonal"):
        matrix.einsum("ii->i", fg.zeros([2, 2]))
    with pytest.raises(ValueError, match="not part of '...'"):
        matrix.einsum("..i->i", a)
    with pytest.raises(ValueError, match="needs a known rank"):
        matrix.einsum("...i->i", fg.placeholder(fg.float32))
    with pytest.raises(ValueError, match="output needs '...'"):
        matrix.einsum("...i->i", a)
    with pytest.raises(ShapeError, match="size 2 in one operand and 3"):
        matrix.einsum("...i,...i->...i", fg.zeros([2, 4]), fg.zeros([3, 4]))


@pytest.mark.parametrize(
    "ord, axis, reference",
    [
        ("euclidean", None, lambda v: np.sqrt(np.sum(v * v))),
        (2, 1, lambda v: np.linalg.norm(v, 2, axis=1)),
        (1, 0, lambda v: np.sum(np.abs(v), axis=0)),
        (np.inf, 1, lambda v: np.max(np.abs(v), axis=1)),
        ("fro", (0, 1), lambda v: np.linalg.norm(v, "fro")),
    ],
)
def test_norm_matches_numpy(ord, axis, reference):
    v = RNG.uniform(-2, 2, (3, 4))
    x = fg.placeholder(fg.float64, [3, 4])
    out = matrix.norm(x, ord=ord, axis=axis)
    np.testing.assert_allclose(run(out, {x: v}), reference(v), rtol=1e-12)
    check_gradients(out, [x], {x: v})
    with pytest.raises(ValueError, match="ord must be"):
        matrix.norm(x, ord=3)


def test_unique_keeps_first_seen_order_and_gives_indices():
    v = np.array([3, 1, 3, 7, 1, 0, 7], np.int64)
    x = fg.placeholder(fg.int64, [None])
    y, idx = search.unique(x)
    got_y, got_idx = run([y, idx], {x: v})
    np.testing.assert_array_equal(got_y, [3, 1, 7, 0])
    np.testing.assert_array_equal(got_y[got_idx], v)
    assert got_idx.dtype == np.int32 and y.shape.as_list() == [None]
    f = RNG.integers(0, 4, 20).astype(np.float32)
    got_f, got_fi = run(search.unique(f, out_idx=fg.int64))
    _, first = np.unique(f, return_index=True)
    np.testing.assert_array_equal(got_f, f[np.sort(first)])
    np.testing.assert_array_equal(got_f[got_fi], f)
    with pytest.raises(ShapeError, match="vector"):
        search.unique(fg.zeros([2, 2]))


def test_in_top_k_matches_a_numpy_reference_with_ties_and_bad_targets():
    p = RNG.uniform(0, 1, (50, 6)).astype(np.float32)
    p[:10, 2] = p[:10, 4]  # ties
    targets = RNG.integers(0, 6, 50).astype(np.int32)
    targets[-1] = 6  # out of range: False
    p[-2, targets[-2]] = np.nan  # a non-finite target prediction: False
    p[-3, (targets[-3] + 1) % 6] = np.inf  # another class's inf just ranks above it
    # Placeholders, so the kernel runs on the session's backend (constants would be folded).
    pred, target = fg.placeholder(fg.float32, [None, 6]), fg.placeholder(fg.int32, [None])
    for k in (0, 1, 3, 6):
        got = run(search.in_top_k(pred, target, k), {pred: p, target: targets})
        valid = targets < 6
        tv = p[np.arange(50), np.minimum(targets, 5)]
        expected = valid & np.isfinite(tv) & ((p > tv[:, None]).sum(1) < k)
        np.testing.assert_array_equal(got, expected)
    tie = run(search.in_top_k([[1.0, 2.0, 2.0]], [1], 1))
    assert tie.tolist() == [True]  # tied with the largest: in, as TF says
    docs = [[1.2, -0.3, 2.8, 5.2], [0.1, 0.0, 0.0, 0.0], [0.0, 0.5, 0.3, 0.3]]
    assert run(search.in_top_k(docs, [0, 1, 3], 2)).tolist() == [False, True, True]  # TF's
    with pytest.raises(ShapeError, match="one entry per row"):
        search.in_top_k(fg.zeros([3, 4]), fg.constant([1, 2]), 1)


def test_count_nonzero_sequence_mask_and_div():
    v = RNG.integers(-1, 2, (4, 5))
    np.testing.assert_array_equal(run(search.count_nonzero(v)), np.count_nonzero(v))
    got = run(search.count_nonzero(v, axis=1, keepdims=True))
    np.testing.assert_array_equal(got, np.count_nonzero(v, axis=1)[:, None])
    assert run(search.count_nonzero([True, False, True])) == 2
    lengths = fg.placeholder(fg.int32, [None])
    mask = run(search.sequence_mask(lengths), {lengths: [2, 0, 3]})
    np.testing.assert_array_equal(mask, np.arange(3)[None, :] < np.array([2, 0, 3])[:, None])
    with pytest.raises(TypeError, match="integers"):
        search.sequence_mask([1.5])
    assert run(search.div(-7, 2)) == -4  # floor division for integers, like Python 2
    assert run(search.div(-7.0, 2.0)) == -3.5


def test_clip_by_global_norm_matches_tf1_formula_and_differentiates():
    a, b = RNG.uniform(-2, 2, (3, 2)), RNG.uniform(-2, 2, (4,))
    xa, xb = fg.placeholder(fg.float64, [3, 2]), fg.placeholder(fg.float64, [4])
    (ca, none, cb), norm = clipping.clip_by_global_norm([xa, None, xb], 1.5)
    got_a, got_b, got_norm = run([ca, cb, norm], {xa: a, xb: b})
    g = np.sqrt(np.sum(a * a) + np.sum(b * b))
    assert none is None
    np.testing.assert_allclose(got_norm, g, rtol=1e-12)
    np.testing.assert_allclose(got_a, a * 1.5 / max(g, 1.5), rtol=1e-12)
    np.testing.assert_allclose(got_b, b * 1.5 / max(g, 1.5), rtol=1e-12)
    small, _ = clipping.clip_by_global_norm([xa], 1e6)  # below the clip norm: unchanged
    np.testing.assert_allclose(run(small[0], {xa: a}), a)
    check_gradients(fg.reduce_sum(ca * ca) + fg.reduce_sum(cb), [xa, xb], {xa: a, xb: b})
    clipped = run(clipping.clip_by_norm(xa, 0.5, axes=[1]), {xa: a})
    np.testing.assert_allclose(
        np.linalg.norm(clipped, axis=1), np.minimum(0.5, np.linalg.norm(a, axis=1))
    )
    with pytest.raises(TypeError, match="list of tensors"):
        clipping.clip_by_global_norm(xa, 1.0)
