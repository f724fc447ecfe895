"""Reductions (flowgraph/ops/reduce.py) against NumPy references, table-driven."""

import ast
import inspect

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.errors import DTypeError, ShapeError
from flowgraph.ops import reduce as reduce_ops
from flowgraph.ops.registry import get_op_def

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def run_and_check(out, feed_dict, expected, fully_known):
    """Run ``out``; compare to ``expected`` and check its dtype and static shape."""
    got = fg.Session().run(out, feed_dict=feed_dict)
    assert got.dtype == out.dtype.as_numpy_dtype
    assert out.shape.is_compatible_with(np.shape(got)), (out.shape, np.shape(got))
    if fully_known:
        assert out.shape == fg.TensorShape(np.shape(got))
    expected = np.asarray(expected)
    assert np.shape(got) == expected.shape
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, **TOLERANCE[got.dtype.type])
    else:
        np.testing.assert_array_equal(got, expected)
    return got


def make_input(dtype, shape, seed=0, low=-3, high=3):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind == "f":
        return rng.uniform(low, high, shape).astype(dtype)
    return rng.integers(low, high, shape, endpoint=True).astype(dtype)


def tf_int_mean(x, axis=None, keepdims=False):
    """TF's integer mean: the sum divided by the count, truncated toward zero."""
    x64 = x.astype(np.int64)
    return np.trunc(np.mean(x64, axis=axis, keepdims=keepdims)).astype(x.dtype)


def mean_ref(x, axis=None, keepdims=False):
    if x.dtype.kind in "iu":
        return tf_int_mean(x, axis, keepdims)
    return np.mean(x.astype(np.float64), axis=axis, keepdims=keepdims)


def wide(ref):
    """A reference computed in float64 / int64, so it does not share the kernel's precision."""

    def compute(x, axis=None, keepdims=False):
        big = x.astype(
            np.float64 if x.dtype.kind == "f" else np.int64 if x.dtype.kind in "iu" else x.dtype
        )
        return ref(big, axis=axis, keepdims=keepdims)

    return compute


NUMERIC = (np.float32, np.float64, np.int32)
REDUCTIONS = [
    # (public function, op type, reference, dtypes, value range)
    (fg.reduce_sum, "Sum", wide(np.sum), NUMERIC, (-3, 3)),
    (fg.reduce_mean, "Mean", mean_ref, NUMERIC, (-3, 3)),
    (fg.reduce_max, "Max", wide(np.max), NUMERIC, (-3, 3)),
    (fg.reduce_min, "Min", wide(np.min), NUMERIC, (-3, 3)),
    (fg.reduce_prod, "Prod", wide(np.prod), NUMERIC, (-2, 2)),
    (fg.reduce_any, "Any", np.any, (np.bool_,), None),
    (fg.reduce_all, "All", np.all, (np.bool_,), None),
]

# (static placeholder shape, fed shape, axis, keepdims)
AXIS_CASES = [
    ([2, 3, 4], [2, 3, 4], None, False),
    ([2, 3, 4], [2, 3, 4], None, True),
    ([2, 3, 4], [2, 3, 4], 0, False),
    ([2, 3, 4], [2, 3, 4], 1, True),
    ([2, 3, 4], [2, 3, 4], -1, False),
    ([2, 3, 4], [2, 3, 4], (0, 2), False),
    ([2, 3, 4], [2, 3, 4], [-1, 0], True),
    ([2, 3, 4], [2, 3, 4], (), False),
    ([], [], None, False),
    ([], [], None, True),
    ([5], [5], 0, False),
    ([5], [5], [0], True),
    ([None, 3], [4, 3], 1, False),
    ([None, 3], [4, 3], 0, True),
    ([None, 3], [7, 3], None, False),
    ([None, None], [2, 5], -1, True),
    (None, [2, 3], None, False),
    (None, [2, 3], 1, False),
    (None, [2, 3], [0, 1], True),
]


def _params():
    for fn, op_type, ref, dts, value_range in REDUCTIONS:
        for dt in dts:
            for case in AXIS_CASES:
                case_id = f"{op_type}-{np.dtype(dt).name}-{case[0]}-axis{case[2]}-keep{case[3]}"
                yield pytest.param(fn, op_type, ref, dt, value_range, *case, id=case_id)


@pytest.mark.parametrize(
    "fn, op_type, ref, dtype, value_range, static_shape, fed_shape, axis, keepdims", list(_params())
)
def test_reduction_matches_numpy(
    fn, op_type, ref, dtype, value_range, static_shape, fed_shape, axis, keepdims
):
    low, high = value_range or (0, 1)
    value = make_input(dtype, fed_shape, seed=len(fed_shape), low=low, high=high)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), static_shape)
        out = fn(x, axis=axis, keepdims=keepdims)
        assert out.op.type == op_type
        assert out.dtype is (fg.bool if op_type in ("Any", "All") else fg.as_dtype(dtype))
        np_axis = tuple(axis) if isinstance(axis, list) else axis
        expected = ref(value, axis=np_axis, keepdims=keepdims)
        fully_known = fg.TensorShape(static_shape).is_fully_defined()
        run_and_check(out, {x: value}, expected, fully_known)


@pytest.mark.parametrize(
    "static_shape, axis, keepdims, expected",
    [
        ([2, 3, 4], None, False, []),
        ([2, 3, 4], None, True, [1, 1, 1]),
        ([2, 3, 4], (0, -1), False, [3]),
        ([2, 3, 4], (0, -1), True, [1, 3, 1]),
        ([2, 3, 4], (), False, [2, 3, 4]),
        ([None, 3], 0, False, [3]),
        ([None, 3], 1, False, [None]),
        ([None, 3], 1, True, [None, 1]),
        ([None, None, 5], (1,), False, [None, 5]),
        (None, None, False, []),  # a full reduction is a scalar whatever the rank
        (None, None, True, None),
        (None, 0, False, None),
        (None, 0, True, None),
    ],
)
def test_static_shape_rule(static_shape, axis, keepdims, expected):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, static_shape)
        for fn in (fg.reduce_sum, fg.reduce_mean, fg.reduce_max, fg.reduce_min, fg.reduce_prod):
            assert fn(x, axis, keepdims).shape == fg.TensorShape(expected)
        b = fg.placeholder(fg.bool, static_shape)
        assert fg.reduce_any(b, axis, keepdims).shape == fg.TensorShape(expected)
        assert fg.reduce_all(b, axis, keepdims).shape == fg.TensorShape(expected)


@pytest.mark.parametrize(
    "axis, stored",
    [
        (None, None),
        (1, (1,)),
        (-1, (-1,)),
        ([0, 1], (0, 1)),
        ((1, 0), (1, 0)),
        (np.int64(1), (1,)),
        ([np.int32(0)], (0,)),
        ([], ()),
        (np.array([1, 0]), (1, 0)),
        (range(2), (0, 1)),
    ],
)
def test_axis_is_stored_as_a_tuple_of_ints(axis, stored):
    with fg.Graph().as_default():
        out = fg.reduce_sum(fg.placeholder(fg.float32, [2, 3]), axis=axis)
        assert out.op.get_attr("axis") == stored
        if stored is not None:
            assert isinstance(out.op.get_attr("axis"), tuple)
            assert all(type(a) is int for a in out.op.get_attr("axis"))
        assert out.op.get_attr("keepdims") is False


def test_deprecated_spellings_reduction_indices_and_keep_dims():
    value = make_input(np.float32, [3, 4])
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [3, 4])
        old = fg.reduce_sum(x, reduction_indices=[1], keep_dims=True)
        new = fg.reduce_sum(x, axis=[1], keepdims=True)
        assert old.op.attrs["axis"] == (1,) and old.op.attrs["keepdims"] is True
        assert old.shape == new.shape == fg.TensorShape([3, 1])
        run_and_check(old, {x: value}, np.sum(value, axis=1, keepdims=True), True)
        run_and_check(new, {x: value}, np.sum(value, axis=1, keepdims=True), True)


@pytest.mark.parametrize(
    "kwargs, pair",
    [
        ({"axis": 0, "reduction_indices": 1}, ("axis", "reduction_indices")),
        ({"keepdims": True, "keep_dims": False}, ("keepdims", "keep_dims")),
    ],
)
def test_both_spellings_at_once_is_an_error(kwargs, pair):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [3, 4])
        with pytest.raises(ValueError, match=f"'{pair[0]}' and '{pair[1]}'"):
            fg.reduce_mean(x, **kwargs)


def test_integer_results_keep_the_input_dtype():
    with fg.Graph().as_default():
        big = np.array([100, 100, 100], dtype=np.int8)
        x = fg.placeholder(fg.int8, [3])
        out = fg.reduce_sum(x)
        assert out.dtype is fg.int8
        # TF sums in the input dtype, so the sum wraps around like NumPy's with dtype=int8.
        run_and_check(out, {x: big}, np.sum(big, dtype=np.int8), True)


@pytest.mark.parametrize(
    "values, axis, expected",
    [
        ([1, 2], None, 1),
        ([3, 4], None, 3),
        ([-3, -4], None, -3),  # -3.5 truncates toward zero, as TF's C++ division does
        ([[1, 2], [-1, -2]], 1, [1, -1]),
        ([[7, -8, 1], [0, 5, 5]], 0, [3, -1, 3]),
    ],
)
def test_integer_mean_truncates_toward_zero(values, axis, expected):
    with fg.Graph().as_default():
        out = fg.reduce_mean(fg.constant(values, dtype=fg.int32), axis=axis)
        assert out.dtype is fg.int32
        run_and_check(out, None, np.array(expected, dtype=np.int32), True)


def test_integer_mean_with_more_elements_than_the_dtype_can_count():
    value = np.full([300], 3, dtype=np.uint8)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.uint8, [None])
        # The uint8 sum wraps (900 % 256 = 132); 132 // 300 = 0 — but the count must not overflow.
        run_and_check(fg.reduce_mean(x), {x: value}, np.uint8(0), False)
        y = fg.placeholder(fg.int16, [None])
        run_and_check(fg.reduce_mean(y), {y: value.astype(np.int16)}, np.int16(3), False)


def test_float16_mean_stays_float16(require_dtype):
    require_dtype(fg.float16)
    value = np.array([1.0, 2.0, 4.0], dtype=np.float16)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float16, [3])
        got = fg.Session().run(fg.reduce_mean(x), {x: value})
        assert got.dtype == np.float16 and got == np.float16(7 / 3)


# ---- argmax / argmin ----------------------------------------------------------------------

ARG_OPS = [(fg.argmax, "ArgMax", np.argmax), (fg.argmin, "ArgMin", np.argmin)]
ARG_CASES = [
    # (static shape, fed shape, axis)
    ([5], [5], None),
    ([3, 4], [3, 4], None),  # TF1: axis None means 0
    ([3, 4], [3, 4], 1),
    ([3, 4], [3, 4], -1),
    ([2, 3, 4], [2, 3, 4], 1),
    ([None, 10], [6, 10], 1),
    ([None, 10], [6, 10], 0),
    (None, [2, 3], -1),
]


@pytest.mark.parametrize("fn, op_type, ref", ARG_OPS, ids=[a[1] for a in ARG_OPS])
@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("static_shape, fed_shape, axis", ARG_CASES)
def test_arg_reductions_match_numpy(fn, op_type, ref, dtype, static_shape, fed_shape, axis):
    value = make_input(dtype, fed_shape, seed=3, low=-50, high=50)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), static_shape)
        out = fn(x, axis=axis)
        assert out.op.type == op_type and out.dtype is fg.int64
        assert out.op.get_attr("axis") == (0 if axis is None else axis)
        expected = ref(value, axis=0 if axis is None else axis)
        fully_known = fg.TensorShape(static_shape).is_fully_defined()
        run_and_check(out, {x: value}, expected, fully_known)


@pytest.mark.parametrize("fn, op_type, ref", ARG_OPS, ids=[a[1] for a in ARG_OPS])
def test_arg_reductions_output_type_dimension_and_ties(fn, op_type, ref):
    value = np.array([[1, 7, 7, 1], [2, 2, 0, 0]], dtype=np.int32)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [2, 4])
        out32 = fn(x, dimension=1, output_type=fg.int32)
        assert out32.dtype is fg.int32
        # Ties give the first index, as NumPy and TF do.
        run_and_check(out32, {x: value}, ref(value, axis=1).astype(np.int32), True)
        with pytest.raises(ValueError, match="'axis' and 'dimension'"):
            fn(x, axis=0, dimension=1)
        with pytest.raises(TypeError, match=op_type):
            fn(x, axis=[0])


def test_argmax_and_argmin_are_not_differentiable():
    assert get_op_def("ArgMax").differentiable is False
    assert get_op_def("ArgMin").differentiable is False
    assert get_op_def("Sum").differentiable is True


def test_mnist_style_accuracy():
    logits = np.array([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0], [0.0, 0.2, 0.1]], dtype=np.float32)
    labels = np.eye(3, dtype=np.float32)[[1, 0, 0]]
    with fg.Graph().as_default():
        y = fg.placeholder(fg.float32, [None, 3])
        y_ = fg.placeholder(fg.float32, [None, 3])
        correct = fg.equal(fg.argmax(y, 1), fg.argmax(y_, 1))
        accuracy = fg.reduce_mean(fg.cast(correct, fg.float32))
        assert accuracy.shape == fg.TensorShape([])
        run_and_check(accuracy, {y: logits, y_: labels}, 2 / 3, False)


# ---- errors -------------------------------------------------------------------------------

SHAPE_ERRORS = [
    # (function, static shape, axis, op type, words the message must contain)
    (fg.reduce_sum, [2, 3], 2, "Sum", ["axis 2", "out of range", "rank 2", "[2,3]"]),
    (fg.reduce_mean, [2, 3], -3, "Mean", ["axis -3", "out of range", "rank 2", "[2,3]"]),
    (fg.reduce_max, [None, 3], [0, 5], "Max", ["axis 5", "out of range", "[?,3]"]),
    (fg.reduce_min, [], 0, "Min", ["axis 0", "out of range", "rank 0", "[]"]),
    (fg.reduce_prod, [2, 3], [0, 0], "Prod", ["[0, 0]", "duplicate", "[2,3]"]),
    (fg.reduce_sum, [2, 3], [1, -1], "Sum", ["[1, -1]", "more than once", "[2,3]"]),
    (fg.reduce_sum, None, [1, 1], "Sum", ["[1, 1]", "duplicate", "<unknown>"]),
    (fg.argmax, [], None, "ArgMax", ["axis 0", "out of range", "rank 0"]),
    (fg.argmin, [4, 5], 2, "ArgMin", ["axis 2", "out of range", "rank 2", "[4,5]"]),
]


@pytest.mark.parametrize(
    "fn, static_shape, axis, op_type, words", SHAPE_ERRORS, ids=[str(e[2]) for e in SHAPE_ERRORS]
)
def test_bad_axis_is_a_shape_error_naming_the_op(fn, static_shape, axis, op_type, words):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, static_shape)
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(ShapeError) as info:
            fn(x, axis=axis)
    message = str(info.value)
    assert f"in {op_type} op" in message
    assert f"test_reduce.py:{line}" in message
    for word in words:
        assert word in message


DTYPE_ERRORS = [
    (fg.reduce_sum, fg.bool, "Sum", "bool"),
    (fg.reduce_mean, fg.bool, "Mean", "bool"),
    (fg.reduce_prod, fg.bool, "Prod", "bool"),
    (fg.reduce_any, fg.float32, "Any", "float32"),
    (fg.reduce_all, fg.int32, "All", "int32"),
    (fg.argmax, fg.bool, "ArgMax", "bool"),
]


@pytest.mark.parametrize("fn, dtype, op_type, word", DTYPE_ERRORS, ids=[e[2] for e in DTYPE_ERRORS])
def test_wrong_input_dtype_is_a_dtype_error_naming_the_op(fn, dtype, op_type, word):
    with fg.Graph().as_default():
        x = fg.placeholder(dtype, [2, 3])
        with pytest.raises(DTypeError) as info:
            fn(x)
    message = str(info.value)
    assert f"in {op_type} op" in message and word in message and "[2,3]" in message
    assert isinstance(info.value, TypeError)


def test_argmax_output_type_must_be_an_integer_type():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2, 3])
        with pytest.raises(DTypeError, match="output_type must be int32 or int64, not float32"):
            fg.argmax(x, 1, output_type=fg.float32)


@pytest.mark.parametrize("axis", [1.0, "0", True, [0, 1.5], {0: 1}])
def test_axis_must_be_ints(axis):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2, 3])
        with pytest.raises(TypeError, match="axis must be"):
            fg.reduce_sum(x, axis=axis)


def test_empty_max_fails_at_run_time_naming_the_op():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None])
        out = fg.reduce_max(x)
        with pytest.raises(fg.errors.InvalidArgumentError, match="Max op"):
            fg.Session().run(out, {x: np.zeros([0], np.float32)})


# ---- the module's contract ----------------------------------------------------------------


def test_public_names_and_docstrings():
    expected = {
        "reduce_sum",
        "reduce_mean",
        "reduce_max",
        "reduce_min",
        "reduce_prod",
        "reduce_any",
        "reduce_all",
        "argmax",
        "argmin",
    }
    assert set(reduce_ops.__all__) == expected
    for name in expected:
        fn = getattr(fg, name)
        assert fn is getattr(reduce_ops, name)
        assert ">>>" in fn.__doc__


def test_kernels_do_not_import_numpy():
    tree = ast.parse(inspect.getsource(reduce_ops))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert "numpy" not in imported and "cupy" not in imported


class _RecordingNamespace:
    """Wraps NumPy and records which functions a kernel takes from ``xp``."""

    def __init__(self):
        self.used = set()

    def __getattr__(self, name):
        self.used.add(name)
        return getattr(np, name)


@pytest.mark.parametrize(
    "op_type, value, attrs, xp_function",
    [
        ("Sum", np.ones([2, 3], np.float32), {"axis": (1,), "keepdims": False}, "sum"),
        ("Mean", np.ones([2, 3], np.int32), {"axis": None, "keepdims": False}, "sum"),
        ("Max", np.ones([2, 3], np.float32), {"axis": (0,), "keepdims": True}, "max"),
        ("Min", np.ones([2, 3], np.float32), {"axis": None, "keepdims": False}, "min"),
        ("Prod", np.ones([2, 3], np.float32), {"axis": None, "keepdims": False}, "prod"),
        ("Any", np.ones([2, 3], np.bool_), {"axis": None, "keepdims": False}, "any"),
        ("All", np.ones([2, 3], np.bool_), {"axis": None, "keepdims": False}, "all"),
        ("ArgMax", np.ones([2, 3], np.float32), {"axis": 0, "output_type": fg.int64}, "argmax"),
        ("ArgMin", np.ones([2, 3], np.float32), {"axis": 0, "output_type": fg.int32}, "argmin"),
    ],
)
def test_kernels_compute_through_the_namespace_they_are_given(op_type, value, attrs, xp_function):
    xp = _RecordingNamespace()
    get_op_def(op_type).bind(xp, attrs)(value)
    assert xp_function in xp.used


@pytest.mark.parametrize(
    "g_shape, x_shape, axis, keepdims",
    [((3,), (3, 4), (1,), False), ((), (2, 3), None, False), ((1, 3, 1), (2, 3, 4), (0, 2), True)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_grad_is_g_over_the_count_broadcast(g_shape, x_shape, axis, keepdims, dtype):
    """MeanGrad (reduce_mean's gradient in one op) against NumPy: g / count, broadcast."""
    from flowgraph.ops.gradient_ops import mean_grad

    g_value, x_value = make_input(dtype, g_shape, 1), make_input(dtype, x_shape, 2)
    axes = tuple(range(len(x_shape))) if axis is None else axis
    count = np.prod([x_shape[a] for a in axes])
    expected = np.broadcast_to(np.expand_dims(g_value, axes) if not keepdims else g_value, x_shape)
    with fg.Graph().as_default():
        g = fg.placeholder(dtype, g_shape)
        x = fg.placeholder(dtype, [None] * len(x_shape))
        run_and_check(
            mean_grad(g, x, axis), {g: g_value, x: x_value}, expected / dtype(count), False
        )
        with pytest.raises(DTypeError, match="gradient"):
            mean_grad(fg.constant([1, 2]), x, axis)


def test_reduce_mean_gradient_is_one_op():
    with fg.Graph().as_default() as graph:
        x = fg.placeholder(fg.float32, [None, 3])
        (dx,) = fg.gradients(fg.reduce_mean(x * 2.0), [x])
        types = [op.type for op in graph.get_operations()]
        assert types.count("MeanGrad") == 1 and "KeepReducedDims" not in types
        value = np.arange(6, dtype=np.float32).reshape(2, 3)
        np.testing.assert_allclose(fg.Session().run(dx, {x: value}), np.full((2, 3), 2 / 6))
