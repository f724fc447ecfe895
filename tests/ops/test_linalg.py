"""matmul (flowgraph/ops/linalg.py) against NumPy, table-driven."""

import inspect

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.errors import DTypeError, ShapeError

F32, F64, I32 = np.float32, np.float64, np.int32
TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def run_and_check(out, feed_dict, expected, fully_known, tolerance=None):
    """Run ``out``; compare to ``expected`` and check its dtype and static shape."""
    got = fg.Session().run(out, feed_dict=feed_dict)
    assert got.dtype == out.dtype.as_numpy_dtype
    assert out.shape.is_compatible_with(np.shape(got)), (out.shape, np.shape(got))
    if fully_known:
        assert out.shape == fg.TensorShape(np.shape(got))
    expected = np.asarray(expected)
    assert np.shape(got) == expected.shape
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, **(tolerance or TOLERANCE[got.dtype.type]))
    else:
        np.testing.assert_array_equal(got, expected)
    return got


def make_value(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-2, 2, shape).astype(dtype)
    return rng.integers(-4, 4, shape, endpoint=True).astype(dtype)


def reference(a, b, transpose_a=False, transpose_b=False):
    """np.matmul in float64 / int64, transposing the last two axes first."""
    wide = F64 if a.dtype.kind == "f" else np.int64
    a, b = a.astype(wide), b.astype(wide)
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


CASES = [
    # (a static, a fed, b static, b fed, transpose_a, transpose_b, expected static shape)
    ([2, 3], [2, 3], [3, 4], [3, 4], False, False, [2, 4]),
    ([1, 1], [1, 1], [1, 1], [1, 1], False, False, [1, 1]),
    ([3, 2], [3, 2], [3, 4], [3, 4], True, False, [2, 4]),
    ([2, 3], [2, 3], [4, 3], [4, 3], False, True, [2, 4]),
    ([3, 2], [3, 2], [4, 3], [4, 3], True, True, [2, 4]),
    ([5, 2, 3], [5, 2, 3], [5, 3, 4], [5, 3, 4], False, False, [5, 2, 4]),
    ([4, 2, 3], [4, 2, 3], [3, 4], [3, 4], False, False, [4, 2, 4]),
    ([2, 3], [2, 3], [6, 3, 4], [6, 3, 4], False, False, [6, 2, 4]),
    ([2, 1, 2, 3], [2, 1, 2, 3], [3, 3, 4], [3, 3, 4], False, False, [2, 3, 2, 4]),
    ([1, 5, 3, 2], [1, 5, 3, 2], [7, 1, 4, 3], [7, 1, 4, 3], True, True, [7, 5, 2, 4]),
    ([None, 784], [8, 784], [784, 10], [784, 10], False, False, [None, 10]),
    ([None, None], [3, 5], [None, 2], [5, 2], False, False, [None, 2]),
    ([None, 3], [6, 3], [None, 3], [4, 3], False, True, [None, None]),
    ([None, 2, 3], [4, 2, 3], [3, 4], [3, 4], False, False, [None, 2, 4]),
    ([None, 2, 3], [4, 2, 3], [1, 3, 4], [1, 3, 4], False, False, [None, 2, 4]),
    (None, [2, 3], [3, 4], [3, 4], False, False, None),
    ([2, 3], [2, 3], None, [3, 7], False, False, None),
]


@pytest.mark.parametrize("dtype", [F32, F64, I32])
@pytest.mark.parametrize(
    "a_static, a_fed, b_static, b_fed, transpose_a, transpose_b, static",
    CASES,
    ids=[f"{c[0]}x{c[2]}-ta{c[4]:d}-tb{c[5]:d}" for c in CASES],
)
def test_matmul_matches_numpy(
    dtype, a_static, a_fed, b_static, b_fed, transpose_a, transpose_b, static
):
    av, bv = make_value(dtype, a_fed, seed=1), make_value(dtype, b_fed, seed=2)
    with fg.Graph().as_default():
        a = fg.placeholder(fg.as_dtype(dtype), a_static)
        b = fg.placeholder(fg.as_dtype(dtype), b_static)
        out = fg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
        assert out.op.type == "MatMul" and out.dtype is a.dtype
        assert out.op.get_attr("transpose_a") is transpose_a
        assert out.op.get_attr("transpose_b") is transpose_b
        assert out.shape == fg.TensorShape(static)
        fully_known = a.shape.is_fully_defined() and b.shape.is_fully_defined()
        expected = reference(av, bv, transpose_a, transpose_b)
        # Rounding error of a dot product grows with its length (784 in the MNIST case).
        inner = a_fed[-2] if transpose_a else a_fed[-1]
        tolerance = {
            F32: dict(rtol=1e-5, atol=2e-6 * inner),
            F64: dict(rtol=1e-12, atol=1e-13 * inner),
        }.get(dtype)
        run_and_check(out, {a: av, b: bv}, expected, fully_known, tolerance)


def test_matmul_of_python_values_and_constants():
    bv = make_value(F32, [3, 2], seed=3)
    with fg.Graph().as_default():
        b = fg.placeholder(fg.float32, [3, 2])
        out = fg.matmul([[1, 2, 3]], b)  # the list takes b's dtype
        assert out.dtype is fg.float32 and out.shape == fg.TensorShape([1, 2])
        run_and_check(out, {b: bv}, reference(np.array([[1, 2, 3]], F32), bv), True)
        ints = fg.matmul(fg.constant([[1, 2], [3, 4]]), fg.constant([[5], [6]]))
        assert ints.dtype is fg.int32
        run_and_check(ints, None, np.array([[17], [39]], I32), True)


def test_mlp_layer_shape_flows_through_unknown_batch():
    xv = make_value(F32, [16, 784], seed=4)
    wv = make_value(F32, [784, 256], seed=5)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None, 784])
        w = fg.constant(wv)
        hidden = fg.relu(fg.matmul(x, w))
        assert hidden.shape == fg.TensorShape([None, 256])
        expected = np.maximum(reference(xv, wv), 0)
        # float32 sums of 784 products of values up to 2: rounding error grows with the length.
        run_and_check(hidden, {x: xv}, expected, False, dict(rtol=1e-5, atol=1e-3))


def test_mismatched_inner_dimensions_name_the_op_shapes_and_line():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None, 784])
        w = fg.placeholder(fg.float32, [256, 10])
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(ShapeError) as info:
            fg.matmul(x, w)
    message = str(info.value)
    assert "MatMul" in message
    assert "[?,784]" in message and "[256,10]" in message
    assert "784 and 256" in message
    assert f"test_linalg.py:{line}" in message


SHAPE_ERRORS = [
    # (a shape, b shape, transpose_a, transpose_b, words the message must contain)
    ([2, 3], [4, 5], False, False, ["3 and 4", "[2,3]", "[4,5]"]),
    ([2, 3], [2, 3], False, False, ["3 and 2", "[2,3]"]),
    ([3, 2], [3, 4], False, False, ["2 and 3", "[3,2]", "[3,4]"]),
    ([2, 3], [3, 4], True, False, ["2 and 3", "[2,3]ᵀ"]),
    ([2, 3], [3, 4], False, True, ["3 and 4", "[3,4]ᵀ"]),
    ([2, 2, 3], [3, 3, 4], False, False, ["batch dimensions", "[2,2,3]", "[3,3,4]"]),
    ([3, 2, 3], [5, 4, 3, 4], False, False, ["batch dimensions", "[3,2,3]", "[5,4,3,4]"]),
    ([3], [3, 4], False, False, ["'a'", "rank 2", "[3]"]),
    ([2, 3], [3], False, False, ["'b'", "rank 2", "[3]"]),
    ([], [3, 4], False, False, ["'a'", "rank 2", "[]"]),
]


@pytest.mark.parametrize(
    "a_shape, b_shape, transpose_a, transpose_b, words",
    SHAPE_ERRORS,
    ids=[f"{e[0]}x{e[1]}" for e in SHAPE_ERRORS],
)
def test_bad_shapes_are_shape_errors(a_shape, b_shape, transpose_a, transpose_b, words):
    with fg.Graph().as_default():
        a = fg.placeholder(fg.float32, a_shape)
        b = fg.placeholder(fg.float32, b_shape)
        with pytest.raises(ShapeError) as info:
            fg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    message = str(info.value)
    assert "in MatMul op" in message and "test_linalg.py" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    "a_dtype, b_dtype, words",
    [
        (fg.float32, fg.float64, ["float64", "float32"]),
        (fg.int32, fg.float32, ["float32", "int32"]),
        (fg.bool, fg.bool, ["bool", "numeric"]),
    ],
)
def test_bad_dtypes_are_type_errors(a_dtype, b_dtype, words):
    with fg.Graph().as_default():
        a = fg.placeholder(a_dtype, [2, 3])
        b = fg.placeholder(b_dtype, [3, 4])
        with pytest.raises(TypeError) as info:
            fg.matmul(a, b)
    assert isinstance(info.value, DTypeError)
    message = str(info.value)
    assert "in MatMul op" in message and "[2,3], [3,4]" in message
    for word in words:
        assert word in message


def test_fractional_python_value_with_int_tensor_is_a_type_error():
    with fg.Graph().as_default():
        b = fg.placeholder(fg.int32, [2, 2])
        with pytest.raises(TypeError, match="MatMul.*int32"):
            fg.matmul([[0.5, 1.0]], b)


def test_inner_dimension_mismatch_found_at_run_time_names_the_op():
    with fg.Graph().as_default():
        a = fg.placeholder(fg.float32, [None, None])
        b = fg.placeholder(fg.float32, [None, None])
        out = fg.matmul(a, b)
        assert out.shape == fg.TensorShape([None, None])
        with pytest.raises(fg.errors.InvalidArgumentError) as info:
            fg.Session().run(out, {a: np.zeros([2, 3], F32), b: np.zeros([4, 5], F32)})
    message = str(info.value)
    assert "MatMul op" in message and "[2, 3]" in message and "[4, 5]" in message
