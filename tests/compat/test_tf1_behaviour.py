"""TF1 behaviours that real programs rely on: auto-packing lists that hold tensors, tensors as
indices and slice bounds, and tf.where's v1 row selection (checked against TF1's docs)."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.testing import check_gradients


def test_lists_holding_tensors_are_packed(graph):
    i = fg.placeholder(fg.int32, [], name="i")
    v = fg.constant([1, 2])
    grown = fg.concat([v, [i * i + 1]], 0)  # TF1 packs the inner list into a [1] tensor
    nested = fg.convert_to_tensor([[i, 2], (3, i * 2)])
    x = fg.placeholder(fg.float32, [None, 3])
    reshaped = fg.reshape(x, fg.convert_to_tensor([fg.shape(x)[0], 3, 1]))
    with fg.Session() as sess:
        a, b, c = sess.run([grown, nested, reshaped], {i: 3, x: np.ones((2, 3))})
    np.testing.assert_array_equal(a, [1, 2, 10])
    np.testing.assert_array_equal(b, [[3, 2], [3, 6]])
    assert nested.shape.as_list() == [2, 2] and b.dtype == np.int32
    assert c.shape == (2, 3, 1)


def test_packing_refuses_a_dtype_it_would_have_to_cast(graph):
    i = fg.placeholder(fg.int32, [])
    with pytest.raises(TypeError, match="its tensors are int32"):
        fg.convert_to_tensor([i, 1], dtype=fg.float32)
    with pytest.raises(TypeError, match="fractional"):
        fg.convert_to_tensor([i, 1.5])  # the number takes the tensor's int32 type, as in TF1


def test_constant_of_a_list_holding_a_tensor_says_to_pack_it(graph):
    t = fg.placeholder(fg.float32, [], name="t")
    with pytest.raises(TypeError, match=r"holds the tensor 't:0'.*flowgraph\.stack"):
        fg.constant([1.0, t])


def test_scalar_tensors_index_and_bound_slices(graph):
    x_value = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)
    x = fg.placeholder(fg.float64, [None, 5, 6], name="x")
    i = fg.placeholder(fg.int32, [], name="i")
    n = fg.placeholder(fg.int64, [], name="n")
    picked = x[i, :, 1:3]
    ranged = x[1:n, ::2, n - 1]
    from_end = x[-i]
    assert picked.shape.as_list() == [5, 2] and ranged.shape.as_list() == [None, 3]
    sliced = fg.strided_slice(x, [0, i], [n, i + 2], [1, 1])
    whole = fg.strided_slice(x, fg.stack([0, i]), fg.stack([3, i + 2]))
    with fg.Session() as sess:
        got = sess.run([picked, ranged, from_end, sliced, whole], {x: x_value, i: 2, n: 3})
    for value, expected in zip(
        got,
        [
            x_value[2, :, 1:3],
            x_value[1:3, ::2, 2],
            x_value[-2],
            x_value[0:3, 2:4],
            x_value[0:3, 2:4],
        ],
    ):
        np.testing.assert_array_equal(value, expected)


def test_gradient_through_tensor_indices(graph):
    x = fg.placeholder(fg.float64, [3, 4], name="x")
    i = fg.constant(1)
    y = x[i, 1 : i + 2] * 3.0
    (g,) = fg.gradients(fg.reduce_sum(y), [x])
    expected = np.zeros((3, 4))
    expected[1, 1:3] = 3.0
    np.testing.assert_array_equal(fg.Session().run(g, {x: np.ones((3, 4))}), expected)
    point = np.random.default_rng(0).random((3, 4))
    check_gradients(x[i, 1 : i + 2] ** 2, [x], {x: point})  # raises on a wrong gradient


def test_tensor_index_must_be_a_scalar_int(graph):
    x = fg.placeholder(fg.float32, [3, 4])
    with pytest.raises(TypeError, match="scalar int tensors"):
        x[fg.constant(1.0), :]
    with pytest.raises(TypeError, match="scalar int tensors"):
        x[fg.constant([0, 1]), 0]


def test_where_with_a_vector_condition_chooses_rows(graph):
    """TF1 (compat.v1.where): if condition is rank 1, x may have higher rank, but its first
    dimension must match the size of condition; the condition picks whole rows."""
    cond = fg.placeholder(fg.bool, [None])
    a = fg.placeholder(fg.float64, [None, 3])
    b = -a
    rows = fg.where(cond, a, b)
    assert rows.shape.as_list() == [None, 3]
    (ga,) = fg.gradients(fg.reduce_sum(rows * 2.0), [a])
    a_value = np.arange(6.0).reshape(2, 3)
    with fg.Session() as sess:
        out, g = sess.run([rows, ga], {cond: [True, False], a: a_value})
    np.testing.assert_array_equal(out, [a_value[0], -a_value[1]])
    np.testing.assert_array_equal(g, [[2.0] * 3, [-2.0] * 3])
    with pytest.raises(fg.errors.ShapeError, match="chooses rows"):
        fg.where(fg.constant([True, False, True]), fg.zeros([2, 3]), fg.zeros([2, 3]))
    # where_v2 broadcasts as NumPy does: the vector lines up with the last axis.
    columns = fg.where_v2(fg.constant([True, False, True]), fg.ones([2, 3]), 0.0)
    np.testing.assert_array_equal(fg.Session().run(columns), [[1, 0, 1], [1, 0, 1]])
