"""Elementwise math (flowgraph/ops/math.py) and Tensor operators against NumPy, table-driven."""

import inspect
import math as _math
import operator

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.errors import DTypeError, ShapeError

F32, F64, I32 = np.float32, np.float64, np.int32
FLOATS = (F32, F64)
NUMERIC = (F32, F64, I32)
TOLERANCE = {
    np.float16: dict(rtol=1e-3, atol=1e-3),
    np.float32: dict(rtol=1e-5, atol=1e-6),
    np.float64: dict(rtol=1e-12, atol=1e-12),
}


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


DIVISORS = {"f": [-4.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0], "i": [-3, -2, -1, 1, 2, 3]}
# domain -> (int range, float sampler)
DOMAINS = {
    "any": ((-5, 5), lambda rng, s: rng.uniform(-3, 3, s)),
    "positive": ((1, 5), lambda rng, s: rng.uniform(0.2, 4, s)),
    "above_minus_one": ((0, 5), lambda rng, s: rng.uniform(-0.9, 3, s)),
    "wide": ((-50, 50), lambda rng, s: rng.uniform(-20, 20, s)),
    "nonzero": ((-5, 5), lambda rng, s: rng.uniform(0.5, 3, s) * rng.choice([-1, 1], s)),
    "int_valued": ((-7, 7), lambda rng, s: rng.integers(-7, 7, s, endpoint=True)),
    "small": ((-2, 2), lambda rng, s: rng.integers(-2, 2, s, endpoint=True)),
    "divisor": (None, None),
    "exponent": ((0, 3), lambda rng, s: rng.uniform(-2, 2, s)),
    "base": ((-3, 3), lambda rng, s: rng.uniform(0.5, 2, s)),
}


def make_value(domain, dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    kind = np.dtype(dtype).kind
    if domain == "divisor":
        return np.asarray(rng.choice(DIVISORS["f" if kind == "f" else "i"], shape)).astype(dtype)
    int_range, sample = DOMAINS[domain]
    if kind == "f":
        return np.asarray(sample(rng, shape)).astype(dtype)
    value = np.asarray(rng.integers(*int_range, shape, endpoint=True))
    if domain == "nonzero":
        value = np.where(value == 0, 1, value)
    return value.astype(dtype)


def reference(ref, *values):
    """``ref`` on float64 / int64 copies, so it never shares the kernel's precision."""
    wide = [
        v.astype(F64 if v.dtype.kind == "f" else np.int64 if v.dtype.kind in "iu" else v.dtype)
        for v in values
    ]
    return ref(*wide)


def expected_value(ref, out, *values):
    result = np.asarray(reference(ref, *values))
    out_type = out.dtype.as_numpy_dtype
    return result if out_type.kind == "f" else result.astype(out_type)


# ---- unary ops ----------------------------------------------------------------------------

UNARY = [
    # (function, op type, reference, dtypes, input domain)
    (fg.negative, "Neg", np.negative, NUMERIC, "any"),
    (fg.abs, "Abs", np.abs, NUMERIC, "any"),
    (fg.sign, "Sign", np.sign, NUMERIC, "small"),
    (fg.square, "Square", np.square, NUMERIC, "any"),
    (fg.sqrt, "Sqrt", np.sqrt, FLOATS, "positive"),
    (fg.rsqrt, "Rsqrt", lambda x: 1.0 / np.sqrt(x), FLOATS, "positive"),
    (fg.exp, "Exp", np.exp, FLOATS, "any"),
    (fg.log, "Log", np.log, FLOATS, "positive"),
    (fg.log1p, "Log1p", np.log1p, FLOATS, "above_minus_one"),
    (fg.erf, "Erf", np.vectorize(_math.erf, otypes=[float]), FLOATS, "wide"),
    (fg.sin, "Sin", np.sin, FLOATS, "any"),
    (fg.cos, "Cos", np.cos, FLOATS, "any"),
    (fg.tanh, "Tanh", np.tanh, FLOATS, "wide"),
    (fg.sigmoid, "Sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x)), FLOATS, "wide"),
    (fg.relu, "Relu", lambda x: np.maximum(x, 0), NUMERIC, "any"),
]
UNARY_SHAPES = [
    # (static shape, fed shape)
    ([], []),
    ([5], [5]),
    ([2, 3, 4], [2, 3, 4]),
    ([None, 3], [4, 3]),
    ([None, None], [1, 6]),
    (None, [2, 2]),
]


def _unary_params():
    return [
        pytest.param(
            fn, op_type, ref, dt, domain, static, fed, id=f"{op_type}-{np.dtype(dt).name}-{static}"
        )
        for fn, op_type, ref, dts, domain in UNARY
        for dt in dts
        for static, fed in UNARY_SHAPES
    ]


@pytest.mark.parametrize(
    "fn, op_type, ref, dtype, domain, static_shape, fed_shape", _unary_params()
)
def test_unary_matches_numpy(fn, op_type, ref, dtype, domain, static_shape, fed_shape):
    value = make_value(domain, dtype, fed_shape, seed=len(fed_shape))
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), static_shape)
        out = fn(x)
        assert out.op.type == op_type
        assert out.dtype is x.dtype
        assert out.shape == x.shape
        fully_known = x.shape.is_fully_defined()
        run_and_check(out, {x: value}, expected_value(ref, out, value), fully_known)


@pytest.mark.filterwarnings("error")  # an overflow warning inside the kernel fails the test
def test_sigmoid_saturates_without_overflow():
    value = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=F32)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None])
        run_and_check(fg.sigmoid(x), {x: value}, [0.0, 0.0, 0.5, 1.0, 1.0], False)


FLOAT_ONLY_UNARY = [(fn, op) for fn, op, _, dts, _ in UNARY if I32 not in dts]
NUMERIC_ONLY_UNARY = [(fn, op) for fn, op, _, dts, _ in UNARY if I32 in dts]


@pytest.mark.parametrize("fn, op_type", FLOAT_ONLY_UNARY, ids=[o for _, o in FLOAT_ONLY_UNARY])
@pytest.mark.parametrize("dtype", [fg.int32, fg.int64, fg.bool])
def test_float_only_unary_rejects_other_dtypes(fn, op_type, dtype):
    with fg.Graph().as_default():
        x = fg.placeholder(dtype, [None, 3])
        with pytest.raises(DTypeError) as info:
            fn(x)
    message = str(info.value)
    assert f"in {op_type} op" in message and dtype.name in message and "[?,3]" in message
    assert "floating-point" in message


@pytest.mark.parametrize("fn, op_type", NUMERIC_ONLY_UNARY, ids=[o for _, o in NUMERIC_ONLY_UNARY])
def test_numeric_unary_rejects_bool(fn, op_type):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.bool, [2])
        with pytest.raises(DTypeError, match=f"(?s)bool.*in {op_type} op.*\\[2\\]"):
            fn(x)


# ---- binary ops ---------------------------------------------------------------------------


def _true_divide_dtype(dtype):
    return F64 if np.dtype(dtype) == I32 else dtype


BINARY = [
    # (function, op type, reference, dtypes, x domain, y domain, result dtype from input dtype)
    (fg.add, "Add", np.add, NUMERIC, "any", "any", None),
    (fg.subtract, "Sub", np.subtract, NUMERIC, "any", "any", None),
    (fg.multiply, "Mul", np.multiply, NUMERIC, "any", "any", None),
    (fg.divide, "RealDiv", np.true_divide, NUMERIC, "any", "nonzero", _true_divide_dtype),
    (fg.floordiv, "FloorDiv", np.floor_divide, NUMERIC, "int_valued", "divisor", None),
    (fg.floormod, "FloorMod", np.mod, NUMERIC, "int_valued", "divisor", None),
    (fg.pow, "Pow", np.power, NUMERIC, "base", "exponent", None),
    (fg.maximum, "Maximum", np.maximum, NUMERIC, "small", "small", None),
    (fg.minimum, "Minimum", np.minimum, NUMERIC, "small", "small", None),
    (
        fg.squared_difference,
        "SquaredDifference",
        lambda x, y: (x - y) ** 2,
        NUMERIC,
        "any",
        "any",
        None,
    ),
    (fg.equal, "Equal", np.equal, NUMERIC, "small", "small", lambda d: np.bool_),
    (fg.not_equal, "NotEqual", np.not_equal, NUMERIC, "small", "small", lambda d: np.bool_),
    (fg.less, "Less", np.less, NUMERIC, "small", "small", lambda d: np.bool_),
    (fg.less_equal, "LessEqual", np.less_equal, NUMERIC, "small", "small", lambda d: np.bool_),
    (fg.greater, "Greater", np.greater, NUMERIC, "small", "small", lambda d: np.bool_),
    (
        fg.greater_equal,
        "GreaterEqual",
        np.greater_equal,
        NUMERIC,
        "small",
        "small",
        lambda d: np.bool_,
    ),
    (fg.logical_and, "LogicalAnd", np.logical_and, (np.bool_,), "bool", "bool", None),
    (fg.logical_or, "LogicalOr", np.logical_or, (np.bool_,), "bool", "bool", None),
]
BINARY_SHAPES = [
    # (static x, fed x, static y, fed y)
    ([5], [5], [5], [5]),
    ([3, 1], [3, 1], [1, 4], [1, 4]),
    ([], [], [2, 3], [2, 3]),
    ([2, 3], [2, 3], [], []),
    ([2, 3, 4], [2, 3, 4], [4], [4]),
    ([4], [4], [2, 3, 4], [2, 3, 4]),
    ([None, 3], [5, 3], [3], [3]),
    ([None, 1], [2, 1], [1, 4], [1, 4]),
    ([None, 4], [3, 4], [None, 4], [3, 4]),
    (None, [2, 3], [3], [3]),
]


def _binary_params():
    return [
        pytest.param(
            *entry[:3],
            dt,
            *entry[4:],
            *shapes,
            id=f"{entry[1]}-{np.dtype(dt).name}-{shapes[0]}-{shapes[2]}",
        )
        for entry in BINARY
        for dt in entry[3]
        for shapes in BINARY_SHAPES
    ]


@pytest.mark.parametrize(
    "fn, op_type, ref, dtype, x_domain, y_domain, result, x_static, x_fed, y_static, y_fed",
    _binary_params(),
)
def test_binary_matches_numpy(
    fn, op_type, ref, dtype, x_domain, y_domain, result, x_static, x_fed, y_static, y_fed
):
    xv = make_value(x_domain, dtype, x_fed, seed=1)
    yv = make_value(y_domain, dtype, y_fed, seed=2)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), x_static)
        y = fg.placeholder(fg.as_dtype(dtype), y_static)
        out = fn(x, y)
        assert op_type in [op.type for op in fg.get_default_graph().get_operations()]
        assert out.dtype is fg.as_dtype(result(dtype) if result else dtype)
        fully_known = x.shape.is_fully_defined() and y.shape.is_fully_defined()
        run_and_check(out, {x: xv, y: yv}, expected_value(ref, out, xv, yv), fully_known)


@pytest.mark.parametrize(
    "fn, op_type, ref, dtype, x_domain, y_domain, result",
    [
        pytest.param(*e[:3], dt, *e[4:], id=f"{e[1]}-{np.dtype(dt).name}")
        for e in BINARY
        if e[3] == NUMERIC
        for dt in NUMERIC
    ],
)
def test_binary_with_a_python_scalar_on_either_side(
    fn, op_type, ref, dtype, x_domain, y_domain, result
):
    x_value = make_value(x_domain, dtype, [2, 3], seed=3)
    y_value = make_value(y_domain, dtype, [2, 3], seed=4)
    scalar_x = x_value.flat[0].item()  # a Python int or float
    scalar_y = y_value.flat[0].item()
    out_type = fg.as_dtype(result(dtype) if result else dtype)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), [None, 3])
        y = fg.placeholder(fg.as_dtype(dtype), [2, 3])
        left, right = fn(x, scalar_y), fn(scalar_x, y)
        assert left.dtype is out_type and right.dtype is out_type
        assert left.shape == fg.TensorShape([None, 3]) and right.shape == fg.TensorShape([2, 3])
        sy, sx = np.asarray(scalar_y, dtype), np.asarray(scalar_x, dtype)
        run_and_check(left, {x: x_value}, expected_value(ref, left, x_value, sy), False)
        run_and_check(right, {y: y_value}, expected_value(ref, right, sx, y_value), True)


@pytest.mark.parametrize(
    "int_dtype, float_type", [(fg.int8, F32), (fg.int16, F32), (fg.int32, F64), (fg.int64, F64)]
)
def test_integer_true_division_gives_floats(int_dtype, float_type):
    xv = np.array([[7, -7], [1, 0]], dtype=int_dtype.as_numpy_dtype)
    yv = np.array([2, -4], dtype=int_dtype.as_numpy_dtype)
    with fg.Graph().as_default():
        x = fg.placeholder(int_dtype, [None, 2])
        y = fg.placeholder(int_dtype, [2])
        for out in (fg.divide(x, y), fg.truediv(x, y), x / y):
            assert out.dtype is fg.as_dtype(float_type) and out.op.type == "RealDiv"
            run_and_check(out, {x: xv, y: yv}, [[3.5, 1.75], [0.5, 0.0]], False)
        run_and_check(fg.divide(x, 2), {x: xv}, xv / 2, False)
        run_and_check(1 / y, {y: yv}, [0.5, -0.25], True)


def test_real_div_requires_floats():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [2])
        with pytest.raises(DTypeError, match="(?s)int32.*in RealDiv op"):
            fg.real_div(x, x)


def test_floor_division_and_modulo_follow_python_signs():
    xv = np.array([7, -7, 7, -7], dtype=I32)
    yv = np.array([2, 2, -2, -2], dtype=I32)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [4])
        y = fg.placeholder(fg.int32, [4])
        run_and_check(fg.floordiv(x, y), {x: xv, y: yv}, [3, -4, -4, 3], True)
        run_and_check(fg.floormod(x, y), {x: xv, y: yv}, [1, 1, -1, -1], True)
        run_and_check(fg.mod(x, y), {x: xv, y: yv}, [1, 1, -1, -1], True)


# ---- where, cast, clip_by_value -----------------------------------------------------------

WHERE_SHAPES = [
    # (cond static, cond fed, x static, x fed, y static, y fed)
    ([4], [4], [4], [4], [4], [4]),
    ([3, 1], [3, 1], [1, 4], [1, 4], [], []),
    ([None, 3], [2, 3], [None, 3], [2, 3], [3], [3]),
    ([2, 3, 4], [2, 3, 4], [4], [4], [3, 1], [3, 1]),
]


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("c_static, c_fed, x_static, x_fed, y_static, y_fed", WHERE_SHAPES)
def test_where_selects_elementwise(dtype, c_static, c_fed, x_static, x_fed, y_static, y_fed):
    cv = make_value("bool", np.bool_, c_fed, seed=5)
    xv = make_value("any", dtype, x_fed, seed=6)
    yv = make_value("any", dtype, y_fed, seed=7)
    with fg.Graph().as_default():
        c = fg.placeholder(fg.bool, c_static)
        x = fg.placeholder(fg.as_dtype(dtype), x_static)
        y = fg.placeholder(fg.as_dtype(dtype), y_static)
        out = fg.where(c, x, y)
        assert out.op.type == "Select" and out.dtype is x.dtype
        fully_known = all(t.shape.is_fully_defined() for t in (c, x, y))
        run_and_check(out, {c: cv, x: xv, y: yv}, np.where(cv, xv, yv), fully_known)


def test_where_with_a_python_scalar_branch_takes_the_tensors_dtype():
    cv = np.array([True, False, True])
    xv = np.array([1.5, 2.5, 3.5], dtype=F64)
    with fg.Graph().as_default():
        c = fg.placeholder(fg.bool, [3])
        x = fg.placeholder(fg.float64, [3])
        out = fg.where(c, x, 0.0)
        assert out.dtype is fg.float64
        run_and_check(out, {c: cv, x: xv}, [1.5, 0.0, 3.5], True)
        run_and_check(fg.where(c, -1.0, x), {c: cv, x: xv}, [-1.0, 2.5, -1.0], True)


@pytest.mark.parametrize(
    "static, value",
    [
        ([3, 4], np.array([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool)),
        ([None, 4], np.array([[0, 1, 0, 1], [1, 0, 0, 0]], bool)),
        ([5], np.array([0, 1, 1, 0, 1], bool)),
        ([None], np.zeros([3], bool)),
        ([2, 2, 2], np.arange(8).reshape(2, 2, 2) % 3 == 0),
    ],
)
def test_where_with_only_a_condition_gives_coordinates(static, value):
    with fg.Graph().as_default():
        c = fg.placeholder(fg.bool, static)
        out = fg.where(c)
        assert out.op.type == "Where" and out.dtype is fg.int64
        assert out.shape == fg.TensorShape([None, len(static)])
        run_and_check(out, {c: value}, np.argwhere(value), False)


@pytest.mark.parametrize("value, rows", [(True, 1), (False, 0)])
def test_where_of_a_scalar_condition(value, rows):
    with fg.Graph().as_default():
        c = fg.placeholder(fg.bool, [])
        out = fg.where(c)
        assert out.shape == fg.TensorShape([None, 0])
        run_and_check(out, {c: value}, np.zeros([rows, 0], np.int64), False)


def test_where_needs_both_branches_or_neither():
    with fg.Graph().as_default():
        c = fg.placeholder(fg.bool, [3])
        with pytest.raises(ValueError, match="both x and y"):
            fg.where(c, x=fg.constant([1.0, 2.0, 3.0]))


CASTS = [
    # (from, to, value, expected)
    (fg.float32, fg.int32, [1.7, -1.7, 0.2, -0.0], [1, -1, 0, 0]),  # truncates toward zero
    (fg.float64, fg.float32, [0.1, 1e10, -2.5, 3.0], [0.1, 1e10, -2.5, 3.0]),
    (fg.int32, fg.float64, [1, -2, 3, 2**30], [1.0, -2.0, 3.0, 2.0**30]),
    (fg.int32, fg.int64, [1, -2, 3, 4], [1, -2, 3, 4]),
    (fg.float32, fg.bool, [0.0, 2.5, -1.0, 0.0], [False, True, True, False]),
    (fg.bool, fg.float32, [True, False, True, True], [1.0, 0.0, 1.0, 1.0]),
    (fg.bool, fg.int32, [True, False, False, True], [1, 0, 0, 1]),
]


@pytest.mark.parametrize(
    "source, target, value, expected", CASTS, ids=[f"{s.name}-{t.name}" for s, t, _, _ in CASTS]
)
@pytest.mark.parametrize("static", [[4], [None], [2, 2], None])
def test_cast(source, target, value, expected, static):
    fed = np.asarray(value, dtype=source.as_numpy_dtype)
    if static == [2, 2]:
        fed, expected = fed.reshape(2, 2), np.reshape(expected, (2, 2))
    with fg.Graph().as_default():
        x = fg.placeholder(source, static)
        out = fg.cast(x, target)
        assert out.op.type == "Cast" and out.dtype is target
        run_and_check(
            out, {x: fed}, np.asarray(expected, target.as_numpy_dtype), x.shape.is_fully_defined()
        )


def test_cast_to_the_same_dtype_adds_no_op():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2])
        assert fg.cast(x, fg.float32) is x
        assert fg.cast(x, "float64").dtype is fg.float64


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize(
    "static, fed, lo, hi",
    [
        ([2, 3], [2, 3], -1, 2),
        ([None, 3], [4, 3], 0, 1),
        ([5], [5], -2, -1),
        ([], [], 0, 2),
    ],
)
def test_clip_by_value_with_scalar_bounds(dtype, static, fed, lo, hi):
    value = make_value("any", dtype, fed, seed=8)
    with fg.Graph().as_default():
        t = fg.placeholder(fg.as_dtype(dtype), static)
        out = fg.clip_by_value(t, lo, hi)
        assert out.op.type == "ClipByValue" and out.dtype is t.dtype and out.shape == t.shape
        run_and_check(out, {t: value}, np.clip(value, lo, hi), t.shape.is_fully_defined())


def test_clip_by_value_with_tensor_bounds():
    value = make_value("any", F32, [4, 3], seed=9)
    lo = np.array([-1.0, 0.0, 0.5], F32)
    hi = np.array([0.0, 1.0, 2.5], F32)
    with fg.Graph().as_default():
        t = fg.placeholder(fg.float32, [None, 3])
        out = fg.clip_by_value(t, fg.constant(lo), fg.constant(hi))
        assert out.shape == fg.TensorShape([None, 3])
        run_and_check(out, {t: value}, np.clip(value, lo, hi), False)


def test_clip_bounds_may_not_enlarge_the_tensor():
    with fg.Graph().as_default():
        t = fg.placeholder(fg.float32, [3])
        with pytest.raises(ShapeError, match=r"(?s)in ClipByValue op.*\[3\], \[2,3\]"):
            fg.clip_by_value(t, fg.constant(np.zeros([2, 3], F32)), 1.0)


# ---- Python operators ---------------------------------------------------------------------

OPERATORS = [
    # (operator, op type, reference, dtypes, x domain, y domain)
    (operator.add, "Add", np.add, NUMERIC, "any", "any"),
    (operator.sub, "Sub", np.subtract, NUMERIC, "any", "any"),
    (operator.mul, "Mul", np.multiply, NUMERIC, "any", "any"),
    (operator.truediv, "RealDiv", np.true_divide, NUMERIC, "any", "nonzero"),
    (operator.floordiv, "FloorDiv", np.floor_divide, NUMERIC, "int_valued", "divisor"),
    (operator.mod, "FloorMod", np.mod, NUMERIC, "int_valued", "divisor"),
    (operator.pow, "Pow", np.power, NUMERIC, "base", "exponent"),
    (operator.lt, "Less", np.less, NUMERIC, "small", "small"),
    (operator.le, "LessEqual", np.less_equal, NUMERIC, "small", "small"),
    (operator.gt, "Greater", np.greater, NUMERIC, "small", "small"),
    (operator.ge, "GreaterEqual", np.greater_equal, NUMERIC, "small", "small"),
    (operator.and_, "LogicalAnd", np.logical_and, (np.bool_,), "bool", "bool"),
    (operator.or_, "LogicalOr", np.logical_or, (np.bool_,), "bool", "bool"),
]
OPERAND_KINDS = ["tensor-tensor", "tensor-scalar", "scalar-tensor"]
# `2 < y` is Python's `y > 2`: a scalar on the left of a comparison builds the mirrored op.
MIRRORED = {
    "Less": "Greater",
    "LessEqual": "GreaterEqual",
    "Greater": "Less",
    "GreaterEqual": "LessEqual",
}


@pytest.mark.parametrize(
    "op, op_type, ref, dtype, x_domain, y_domain",
    [
        pytest.param(*e[:3], dt, *e[4:], id=f"{e[1]}-{np.dtype(dt).name}")
        for e in OPERATORS
        for dt in e[3]
    ],
)
@pytest.mark.parametrize("kinds", OPERAND_KINDS)
def test_python_operators(op, op_type, ref, dtype, x_domain, y_domain, kinds):
    xv = make_value(x_domain, dtype, [3, 1], seed=10)
    yv = make_value(y_domain, dtype, [1, 4], seed=11)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), [None, 1])
        y = fg.placeholder(fg.as_dtype(dtype), [1, 4])
        if kinds == "tensor-tensor":
            out, feeds, args = op(x, y), {x: xv, y: yv}, (xv, yv)
        elif kinds == "tensor-scalar":
            scalar = yv.flat[1].item()
            out, feeds, args = op(x, scalar), {x: xv}, (xv, np.asarray(scalar, dtype))
        else:
            scalar = xv.flat[1].item()
            out, feeds, args = op(scalar, y), {y: yv}, (np.asarray(scalar, dtype), yv)
            op_type = MIRRORED.get(op_type, op_type)
        assert op_type in [o.type for o in fg.get_default_graph().get_operations()]
        expected = expected_value(ref, out, *args)
        assert out.dtype.as_numpy_dtype == expected.dtype or expected.dtype == F64
        run_and_check(out, feeds, expected, kinds == "scalar-tensor")


@pytest.mark.parametrize("dtype", NUMERIC)
def test_unary_operators(dtype):
    value = make_value("any", dtype, [2, 3], seed=12)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.as_dtype(dtype), [None, 3])
        neg, absolute, positive = -x, abs(x), +x
        assert (neg.op.type, absolute.op.type) == ("Neg", "Abs")
        assert positive is x
        run_and_check(neg, {x: value}, -value, False)
        run_and_check(absolute, {x: value}, np.abs(value), False)


def test_logical_operators_invert_and_xor():
    a = np.array([[True], [False]])
    b = np.array([[True, False, True]])
    with fg.Graph().as_default():
        x = fg.placeholder(fg.bool, [None, 1])
        y = fg.placeholder(fg.bool, [1, 3])
        assert (~x).op.type == "LogicalNot"
        run_and_check(~x, {x: a}, ~a, False)
        run_and_check(fg.logical_not(y), {y: b}, ~b, True)
        run_and_check(x ^ y, {x: a, y: b}, a ^ b, False)
        run_and_check(x & True, {x: a}, a, False)
        run_and_check(False | y, {y: b}, b, True)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_matmul_operator(dtype):
    av = make_value("any", dtype, [2, 3], seed=13)
    bv = make_value("any", dtype, [3, 4], seed=14)
    with fg.Graph().as_default():
        a = fg.placeholder(fg.as_dtype(dtype), [None, 3])
        b = fg.placeholder(fg.as_dtype(dtype), [3, 4])
        out = a @ b
        assert out.op.type == "MatMul" and out.shape == fg.TensorShape([None, 4])
        run_and_check(out, {a: av, b: bv}, reference(np.matmul, av, bv), False)
        rows = [[1, 0, 2]]  # a nested list on the left takes b's dtype
        run_and_check(rows @ b, {b: bv}, reference(np.matmul, np.asarray(rows, dtype), bv), True)


def test_double_equals_stays_identity():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2])
        y = fg.placeholder(fg.float32, [2])
        before = len(fg.get_default_graph().get_operations())
        assert (x == x) is True and (x == y) is False
        assert len(fg.get_default_graph().get_operations()) == before


# ---- dtype promotion (TF's rule: a Python scalar takes the tensor's dtype) -----------------


@pytest.mark.parametrize(
    "dtype, build, expected",
    [
        (fg.float32, lambda x: 2.0 * x, lambda v: 2 * v),
        (fg.float64, lambda x: 2.0 * x, lambda v: 2 * v),
        (fg.float32, lambda x: x + 1, lambda v: v + 1),
        (fg.float64, lambda x: 1 - x, lambda v: 1 - v),
        (fg.int32, lambda x: x - 1, lambda v: v - 1),
        (fg.int32, lambda x: 3 * x, lambda v: 3 * v),
        (fg.int32, lambda x: x + 2.0, lambda v: v + 2),  # 2.0 is exactly an int
        (fg.int32, lambda x: x**2, lambda v: v**2),
        (fg.float32, lambda x: 2**x, lambda v: 2.0**v),
    ],
)
def test_python_scalar_takes_the_tensor_dtype(dtype, build, expected):
    value = np.array([[1, -2, 3]], dtype=dtype.as_numpy_dtype)
    with fg.Graph().as_default():
        x = fg.placeholder(dtype, [None, 3])
        out = build(x)
        assert out.dtype is dtype
        run_and_check(out, {x: value}, expected(value.astype(np.float64)), False)


@pytest.mark.parametrize(
    "build, op_type",
    [
        (lambda x: x + 1.5, "Add"),
        (lambda x: 1.5 + x, "Add"),
        (lambda x: x * 0.5, "Mul"),
        (lambda x: fg.maximum(x, 0.1), "Maximum"),
        (lambda x: x < 2.5, "Less"),
        (lambda x: fg.equal(x, 0.5), "Equal"),
        (lambda x: x / 0.5, "RealDiv"),
    ],
)
def test_int_tensor_with_a_fractional_scalar_is_a_type_error(build, op_type):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [3])
        with pytest.raises(TypeError, match=f"{op_type}.*int32"):
            build(x)


MIXED_DTYPE_OPS = [
    (fg.add, "Add"),
    (fg.subtract, "Sub"),
    (fg.multiply, "Mul"),
    (fg.divide, "RealDiv"),
    (fg.floordiv, "FloorDiv"),
    (fg.floormod, "FloorMod"),
    (fg.pow, "Pow"),
    (fg.maximum, "Maximum"),
    (fg.minimum, "Minimum"),
    (fg.squared_difference, "SquaredDifference"),
    (fg.equal, "Equal"),
    (fg.less, "Less"),
    (operator.add, "Add"),
    (operator.matmul, "MatMul"),
]


@pytest.mark.parametrize("fn, op_type", MIXED_DTYPE_OPS, ids=[f"{o}" for _, o in MIXED_DTYPE_OPS])
def test_float32_with_float64_tensor_is_a_type_error_naming_the_op(fn, op_type):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2, 2])
        y = fg.placeholder(fg.float64, [2, 2])
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(TypeError) as info:
            fn(x, y)
    message = str(info.value)
    assert f"in {op_type} op" in message
    assert "float32" in message and "float64" in message
    assert f"test_math.py:{line}" in message


def test_two_python_scalars():
    with fg.Graph().as_default():
        ints = fg.add(1, 2)
        mixed = fg.multiply(2, 2.5)
        assert ints.dtype is fg.int32 and mixed.dtype is fg.float32
        run_and_check(ints, None, np.int32(3), True)
        run_and_check(mixed, None, np.float32(5.0), True)


# ---- bad inputs: errors name the op and the shapes -----------------------------------------

BROADCAST_ERRORS = [
    # (build from two float32 placeholders, op type)
    (fg.add, "Add"),
    (fg.subtract, "Sub"),
    (fg.multiply, "Mul"),
    (fg.divide, "RealDiv"),
    (fg.maximum, "Maximum"),
    (fg.squared_difference, "SquaredDifference"),
    (fg.greater_equal, "GreaterEqual"),
    (operator.mul, "Mul"),
    (operator.lt, "Less"),
    (lambda x, y: fg.where(fg.placeholder(fg.bool, [2, 3]), x, y), "Select"),
]


@pytest.mark.parametrize("fn, op_type", BROADCAST_ERRORS, ids=[o for _, o in BROADCAST_ERRORS])
@pytest.mark.parametrize(
    "x_shape, y_shape, x_text, y_text",
    [
        ([2, 3], [4], "[2,3]", "[4]"),
        ([None, 3], [2, 2], "[?,3]", "[2,2]"),
        ([3, 1, 5], [4, 6], "[3,1,5]", "[4,6]"),
    ],
)
def test_incompatible_broadcast_is_a_shape_error(fn, op_type, x_shape, y_shape, x_text, y_text):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, x_shape)
        y = fg.placeholder(fg.float32, y_shape)
        with pytest.raises(ShapeError) as info:
            fn(x, y)
    message = str(info.value)
    assert "broadcast" in message
    assert f"in {op_type} op" in message and x_text in message and y_text in message
    assert "test_math.py" in message


DTYPE_ERRORS = [
    # (build, input dtypes, op type, dtype named in the message)
    (fg.logical_and, (fg.float32, fg.float32), "LogicalAnd", "float32"),
    (fg.logical_or, (fg.bool, fg.int32), "LogicalOr", "int32"),
    (operator.and_, (fg.int32, fg.int32), "LogicalAnd", "int32"),
    (fg.logical_not, (fg.float32,), "LogicalNot", "float32"),
    (operator.invert, (fg.int32,), "LogicalNot", "int32"),
    (fg.add, (fg.bool, fg.bool), "Add", "bool"),
    (fg.subtract, (fg.bool, fg.bool), "Sub", "bool"),
    (fg.maximum, (fg.bool, fg.bool), "Maximum", "bool"),
    (fg.where, (fg.float32, fg.float32, fg.float32), "Select", "float32"),
    (fg.where, (fg.bool, fg.float32, fg.int32), "Select", "int32"),
    (fg.clip_by_value, (fg.float32, fg.float64, fg.float32), "ClipByValue", "float64"),
    (fg.sqrt, (fg.int32,), "Sqrt", "int32"),
    (operator.neg, (fg.bool,), "Neg", "bool"),
]


@pytest.mark.parametrize(
    "fn, dtypes, op_type, word", DTYPE_ERRORS, ids=[f"{e[2]}-{e[3]}" for e in DTYPE_ERRORS]
)
def test_wrong_dtypes_are_type_errors_naming_the_op(fn, dtypes, op_type, word):
    with fg.Graph().as_default():
        inputs = [fg.placeholder(dt, [2, 3]) for dt in dtypes]
        with pytest.raises(TypeError) as info:
            fn(*inputs)
    assert isinstance(info.value, DTypeError)
    message = str(info.value)
    assert f"in {op_type} op" in message and word in message and "[2,3]" in message


def test_runtime_failure_names_the_op():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [None])
        out = x ** fg.constant([-1, -1])
        with pytest.raises(fg.errors.InvalidArgumentError, match="Pow op"):
            fg.Session().run(out, {x: np.array([2, 3], I32)})


def test_aliases():
    assert fg.truediv is fg.divide
    assert fg.mod is fg.floormod


# ---- ReluGrad: Relu's backward op (TF's ReluGrad), fused so it can run in place ------------


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize(("static", "fed"), [([2, 3], [2, 3]), ([None, 4], [5, 4]), (None, [3])])
def test_relu_grad_matches_numpy(dtype, static, fed):
    from flowgraph.ops.math import relu_grad

    g, y = make_value("any", dtype, fed, seed=1), make_value("any", dtype, fed, seed=2)
    with fg.Graph().as_default():
        gp = fg.placeholder(fg.as_dtype(dtype), static)
        yp = fg.placeholder(fg.as_dtype(dtype), static)
        out = relu_grad(gp, yp)
        run_and_check(out, {gp: g, yp: y}, np.where(y > 0, g, 0).astype(dtype), static == fed)


def test_relu_grad_and_relu_compute_in_place_with_the_same_results():
    from flowgraph.ops.math import relu_grad

    rng = np.random.default_rng(0)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, [None, 5])
        h = fg.nn.relu(fg.exp(x) - 1.5)  # relu of a dying value: in place
        out = relu_grad(fg.exp(x) * 2.0, h)  # its gradient operand dies here: in place
        feed = {x: rng.standard_normal((4, 5))}
        fast = fg.Session(level="O1").run(out, feed)
        plain = fg.Session(level="O0").run(out, feed)
        source = fg.Session().explain(out, feed).plan.code.source
    if fg.Session().backend.supports_out:
        assert "k_Relu(Sub, out=Sub)" in source and "k_ReluGrad(Mul, Relu, out=Mul)" in source
    np.testing.assert_array_equal(fast, plain)
    xv = feed[x]
    np.testing.assert_allclose(fast, np.where(np.exp(xv) > 1.5, np.exp(xv) * 2, 0))


def test_relu_grad_rejects_mismatched_inputs():
    from flowgraph.ops.math import relu_grad

    with fg.Graph().as_default():
        with pytest.raises(ShapeError, match=r"(?s)must have one shape.*in ReluGrad op"):
            relu_grad(fg.zeros([2, 3]), fg.zeros([3, 2]))
        with pytest.raises(DTypeError, match="features"):
            relu_grad(fg.zeros([2]), fg.zeros([2], dtype=fg.float64))


def test_relu_grad_rejects_shapes_that_differ_at_run_time():
    from flowgraph.ops.math import relu_grad

    with fg.Graph().as_default():
        g, y = fg.placeholder(fg.float32, [None, 3]), fg.placeholder(fg.float32, [None, 3])
        with pytest.raises(fg.errors.OpError, match=r"\(1, 3\) and features \(4, 3\) differ"):
            fg.Session().run(relu_grad(g, y), {g: np.ones((1, 3)), y: np.ones((4, 3))})
