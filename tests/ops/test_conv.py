"""Convolution and pooling (flowgraph/ops/conv.py and pooling.py) against loop-based NumPy
references written from TF's padding rules, table-driven: values, dtypes, static shapes (unknown
dims too), float64 numeric gradients of the forward ops and of their backprop ops, and errors."""

import math

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.autodiff.gradients import gradients
from flowgraph.errors import ShapeError
from flowgraph.ops import conv, pooling
from flowgraph.ops.registry import get_gradient
from flowgraph.ops.windows import output_and_pads
from flowgraph.testing import check_gradients

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}


def run(fetches, feed_dict=None):
    return fg.Session().run(fetches, feed_dict=feed_dict)


def check_value(out, got, expected):
    assert got.dtype == out.dtype.as_numpy_dtype
    assert out.shape.is_compatible_with(got.shape), (out.shape, got.shape)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL[got.dtype.type])


# ---- references: plain loops over output pixels, from TF's documented arithmetic -----------


def ref_geometry(size, k, stride, dilation, padding):
    """(output size, padding before) along one dimension, as TF documents it."""
    extent = (k - 1) * dilation + 1
    if padding == "VALID":
        return math.ceil((size - extent + 1) / stride), 0
    out = math.ceil(size / stride)
    return out, max((out - 1) * stride + extent - size, 0) // 2


def windows(h, w, k, strides, dilations, padding):
    """For each output pixel (i, j): the list of ((r, c), (a, b)) input/kernel positions."""
    (oh, top), (ow, left) = (
        ref_geometry(n, kk, s, d, padding) for n, kk, s, d in zip((h, w), k, strides, dilations)
    )
    for i in range(oh):
        for j in range(ow):
            taps = []
            for a in range(k[0]):
                for b in range(k[1]):
                    r = i * strides[0] + a * dilations[0] - top
                    c = j * strides[1] + b * dilations[1] - left
                    if 0 <= r < h and 0 <= c < w:
                        taps.append(((r, c), (a, b)))
            yield (i, j), (oh, ow), taps


def ref_conv2d(x, f, strides, padding, dilations):
    n, h, w, _ = x.shape
    out = None
    for (i, j), (oh, ow), taps in windows(h, w, f.shape[:2], strides, dilations, padding):
        if out is None:
            out = np.zeros((n, oh, ow, f.shape[3]))
        for (r, c), (a, b) in taps:
            out[:, i, j, :] += x[:, r, c, :] @ f[a, b]
    return out


def ref_pool(x, k, strides, padding, reduce):
    n, h, w, c = x.shape
    out = None
    for (i, j), (oh, ow), taps in windows(h, w, k, strides, (1, 1), padding):
        if out is None:
            out = np.zeros((n, oh, ow, c))
        out[:, i, j, :] = reduce(np.stack([x[:, r, cc, :] for (r, cc), _ in taps]), axis=0)
    return out


def to_nchw(a):
    return a.transpose(0, 3, 1, 2)


# ---- geometry ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 4, 5, 7, 28])
@pytest.mark.parametrize(
    "k, stride, dilation",
    [(1, 1, 1), (2, 2, 1), (3, 2, 1), (5, 1, 1), (3, 1, 2), (2, 3, 1), (4, 3, 2)],
)
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_padding_arithmetic_matches_tf(size, k, stride, dilation, padding):
    extent = (k - 1) * dilation + 1
    if padding == "VALID" and size < extent:
        with pytest.raises(ShapeError, match="Negative dimension size"):
            output_and_pads(size, k, stride, dilation, padding)
        return
    out, before, after = output_and_pads(size, k, stride, dilation, padding)
    assert (out, before) == ref_geometry(size, k, stride, dilation, padding)
    if padding == "SAME":
        assert after - before in (0, 1)  # the odd padding element goes at the end
        assert (out - 1) * stride + extent <= size + before + after


# ---- conv2d forward -------------------------------------------------------------------------

CONV_CASES = [  # (input NHWC, filter HWIO, strides (h, w), padding, dilations (h, w))
    ((2, 5, 5, 1), (3, 3, 1, 2), (1, 1), "SAME", (1, 1)),
    ((2, 5, 5, 1), (3, 3, 1, 2), (1, 1), "VALID", (1, 1)),
    ((1, 6, 7, 3), (2, 3, 3, 4), (2, 2), "SAME", (1, 1)),
    ((1, 6, 7, 3), (2, 3, 3, 4), (2, 3), "VALID", (1, 1)),
    ((3, 4, 4, 2), (1, 1, 2, 3), (1, 1), "SAME", (1, 1)),
    ((1, 7, 6, 2), (3, 2, 2, 2), (1, 1), "SAME", (2, 2)),
    ((1, 7, 6, 2), (3, 2, 2, 2), (2, 1), "VALID", (2, 3)),
    ((2, 3, 3, 1), (4, 4, 1, 1), (1, 1), "SAME", (1, 1)),  # kernel larger than the input
]
IDS = [f"{c[0]}*{c[1]}-s{c[2]}-{c[3]}-d{c[4]}" for c in CONV_CASES]


def conv_values(case, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(case[0]).astype(dtype), rng.standard_normal(case[1]).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=IDS)
def test_conv2d_forward(case, dtype):
    x_shape, f_shape, strides, padding, dilations = case
    x_v, f_v = conv_values(case, dtype)
    expected = ref_conv2d(
        x_v.astype(np.float64), f_v.astype(np.float64), strides, padding, dilations
    ).astype(dtype)
    for holder in [x_shape, (None,) + x_shape[1:], (None, None, None, x_shape[3])]:
        x = fg.placeholder(dtype, holder)
        y = conv.conv2d(x, f_v, strides=list(strides), padding=padding, dilations=list(dilations))
        if holder == x_shape:
            assert y.shape == fg.TensorShape(expected.shape)
        check_value(y, run(y, {x: x_v}), expected)


@pytest.mark.parametrize("case", CONV_CASES[:4] + CONV_CASES[5:7], ids=IDS[:4] + IDS[5:7])
def test_conv2d_nchw_matches_nhwc(case):
    x_v, f_v = conv_values(case, np.float64)
    _, _, strides, padding, dilations = case
    expected = ref_conv2d(x_v, f_v, strides, padding, dilations)
    x = fg.placeholder(fg.float64, (None,) + to_nchw(x_v).shape[1:])
    y = conv.conv2d(x, f_v, strides, padding, data_format="NCHW", dilations=dilations)
    assert y.shape.is_compatible_with(to_nchw(expected).shape)
    check_value(y, run(y, {x: to_nchw(x_v)}), to_nchw(expected))


def test_conv2d_accepts_tf_spellings():
    x = fg.placeholder(fg.float32, [None, 28, 28, 1])
    f = fg.zeros([5, 5, 1, 32])
    assert conv.conv2d(x, filters=f, strides=1, padding="same").shape.as_list() == [
        None,
        28,
        28,
        32,
    ]
    assert conv.conv2d(x, f, [2, 2], "VALID").shape.as_list() == [None, 12, 12, 32]
    assert conv.conv2d(
        input=x, filter=f, strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 2, 2, 1]
    ).shape.as_list() == [None, 20, 20, 32]


# ---- conv2d gradients ---------------------------------------------------------------------

GRAD_CASES = [c for c in CONV_CASES if np.prod(c[0]) <= 100]
GRAD_IDS = [IDS[CONV_CASES.index(c)] for c in GRAD_CASES]


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_conv2d_gradients(case, fmt):
    x_v, f_v = conv_values(case, np.float64, seed=1)
    if fmt == "NCHW":
        x_v = to_nchw(x_v)
    x = fg.placeholder(fg.float64, x_v.shape)
    f = fg.placeholder(fg.float64, f_v.shape)
    y = conv.conv2d(x, f, case[2], case[3], data_format=fmt, dilations=case[4])
    dx, df = gradients(y, [x, f])
    assert (dx.op.type, df.op.type) == ("Conv2DBackpropInput", "Conv2DBackpropFilter")
    check_gradients(y, [x, f], {x: x_v, f: f_v})


@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_conv2d_backprop_ops_gradients(case):
    """Second derivatives: the backprop ops are differentiable in all their float inputs."""
    x_shape, f_shape, strides, padding, dilations = case
    rng = np.random.default_rng(2)
    x_v, f_v = conv_values(case, np.float64, seed=2)
    dy_shape = ref_conv2d(x_v, f_v, strides, padding, dilations).shape
    x, f = fg.placeholder(fg.float64, x_shape), fg.placeholder(fg.float64, f_shape)
    dy = fg.placeholder(fg.float64, dy_shape)
    dx = conv.conv2d_backprop_input(x_shape, f, dy, strides, padding, dilations=dilations)
    df = conv.conv2d_backprop_filter(x, f_shape, dy, strides, padding, dilations=dilations)
    feed = {x: x_v, f: f_v, dy: rng.standard_normal(dy_shape)}
    check_gradients(dx, [f, dy], feed)
    check_gradients(df, [x, dy], feed)


def test_conv2d_backprop_with_unknown_batch():
    x = fg.placeholder(fg.float64, [None, 5, 5, 2])
    f = fg.placeholder(fg.float64, [3, 3, 2, 2])
    y = conv.conv2d(x, f, 2, "SAME")
    dx, df = gradients(y, [x, f])
    assert dx.shape.as_list() == [None, 5, 5, 2] and df.shape.as_list() == [3, 3, 2, 2]
    x_v, f_v = np.random.default_rng(3).standard_normal((3, 5, 5, 2)), np.ones((3, 3, 2, 2))
    dx_v, df_v = run([dx, df], {x: x_v, f: f_v})
    assert dx_v.shape == x_v.shape and df_v.shape == f_v.shape
    check_gradients(y, [x, f], {x: x_v, f: f_v})


def _has_gradients(*op_types):
    try:
        return all(get_gradient(t) for t in op_types)
    except KeyError:
        return False


@pytest.mark.skipif(not _has_gradients("Mul", "Sum", "Add"), reason="math gradients missing")
def test_second_derivatives_through_conv_and_pooling():
    rng = np.random.default_rng(9)
    x = fg.placeholder(fg.float64, [2, 5, 5, 2])
    f = fg.placeholder(fg.float64, [3, 3, 2, 2])
    y = conv.conv2d(x, f, 2, "SAME")
    p = pooling.max_pool(y, [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
    a = pooling.avg_pool(y, [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
    loss = fg.reduce_sum(y * y) + fg.reduce_sum(p * p) + fg.reduce_sum(a * a)
    dx, df = gradients(loss, [x, f])
    feed = {x: rng.standard_normal((2, 5, 5, 2)), f: rng.standard_normal((3, 3, 2, 2))}
    check_gradients([dx, df], [x, f], feed)


# ---- pooling ------------------------------------------------------------------------------

POOL_CASES = [  # (input NHWC, ksize (h, w), strides (h, w), padding)
    ((2, 4, 4, 1), (2, 2), (2, 2), "VALID"),
    ((1, 5, 5, 2), (2, 2), (2, 2), "SAME"),
    ((1, 5, 6, 2), (3, 3), (2, 2), "SAME"),
    ((2, 5, 6, 1), (3, 2), (1, 2), "VALID"),
    ((1, 3, 3, 3), (3, 3), (1, 1), "SAME"),
    ((1, 4, 4, 1), (1, 1), (1, 1), "VALID"),
]
POOL_IDS = [f"{c[0]}-k{c[1]}-s{c[2]}-{c[3]}" for c in POOL_CASES]
POOLS = {"max": (pooling.max_pool, np.max), "avg": (pooling.avg_pool, np.mean)}


def distinct_values(shape, seed):
    """Distinct, well-separated values: no ties, so max pooling is differentiable there."""
    return np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_pool_forward(case, dtype, kind):
    shape, k, s, padding = case
    pool, reduce = POOLS[kind]
    x_v = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    expected = ref_pool(x_v.astype(np.float64), k, s, padding, reduce).astype(dtype)
    for holder in [shape, (None,) + shape[1:], (None, None, None, shape[3])]:
        x = fg.placeholder(dtype, holder)
        y = pool(x, [1, *k, 1], [1, *s, 1], padding)
        if holder == shape:
            assert y.shape == fg.TensorShape(expected.shape)
        check_value(y, run(y, {x: x_v}), expected)
    x = fg.placeholder(dtype, to_nchw(x_v).shape)
    y = pool(x, [1, 1, *k], [1, 1, *s], padding, data_format="NCHW")
    check_value(y, run(y, {x: to_nchw(x_v)}), to_nchw(expected))


def test_max_pool_integer_input():
    x = fg.constant(np.arange(-8, 8, dtype=np.int32).reshape(1, 4, 4, 1))
    y = run(pooling.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"))
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y[0, :, :, 0], [[2, 3], [6, 7]])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_pool_gradients(case, kind):
    shape, k, s, padding = case
    x = fg.placeholder(fg.float64, shape)
    y = POOLS[kind][0](x, [1, *k, 1], [1, *s, 1], padding)
    assert gradients(y, [x])[0].op.type == ("MaxPoolGrad" if kind == "max" else "AvgPoolGrad")
    check_gradients(y, [x], {x: distinct_values(shape, 5)})


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("case", POOL_CASES[1:3], ids=POOL_IDS[1:3])
def test_pool_grad_ops_gradients(case, fmt):
    """MaxPoolGrad / MaxPoolGradGrad / AvgPoolGrad are differentiable in their gradient input."""
    shape, k, s, padding = case
    x_v = distinct_values(shape, 6)
    ksize, strides = [1, *k, 1], [1, *s, 1]
    if fmt == "NCHW":
        x_v, ksize, strides = to_nchw(x_v), [1, 1, *k], [1, 1, *s]
    x = fg.constant(x_v)
    y = pooling.max_pool(x, ksize, strides, padding, data_format=fmt)
    g = fg.placeholder(fg.float64, y.shape)
    g_v = np.random.default_rng(7).standard_normal(y.shape.as_list())
    dx = pooling.max_pool_grad(x, y, g, ksize, strides, padding, data_format=fmt)
    check_gradients(dx, [g], {g: g_v})
    gg = fg.placeholder(fg.float64, x_v.shape)
    (ddy,) = gradients(dx, [g], grad_ys=gg)
    assert ddy.op.type == "MaxPoolGradGrad"
    check_gradients(ddy, [gg], {gg: np.random.default_rng(8).standard_normal(x_v.shape), g: g_v})
    da = pooling.avg_pool_grad(list(x_v.shape), g, ksize, strides, padding, data_format=fmt)
    check_gradients(da, [g], {g: g_v})


def test_max_pool_ties_route_to_first_maximum():
    x = fg.placeholder(fg.float64, [1, 2, 2, 1])
    y = pooling.max_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    (dx,) = gradients(y, [x])
    got = run(dx, {x: np.ones((1, 2, 2, 1))})
    np.testing.assert_array_equal(got[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_avg_pool_same_counts_only_real_elements():
    x = fg.ones([1, 3, 3, 1])
    y = run(pooling.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"))
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1), np.float32))


# ---- errors -------------------------------------------------------------------------------


def test_conv2d_errors_name_op_and_shapes():
    x = fg.placeholder(fg.float32, [None, 28, 28, 1])
    f = fg.zeros([5, 5, 1, 32])
    with pytest.raises(
        ShapeError, match="(?s)'input' must have rank 4.*Conv2D op.*\\[\\?,28,28\\]"
    ):
        conv.conv2d(fg.placeholder(fg.float32, [None, 28, 28]), f, 1, "SAME")
    with pytest.raises(ShapeError, match="(?s)'filter' must have rank 4.*Conv2D op"):
        conv.conv2d(x, fg.zeros([5, 5, 1]), 1, "SAME")
    with pytest.raises(ShapeError, match="(?s)input depth 3 does not match .* depth 1.*Conv2D op"):
        conv.conv2d(fg.placeholder(fg.float32, [None, 28, 28, 3]), f, 1, "SAME")
    with pytest.raises(
        ShapeError, match="(?s)padding must be 'SAME' or 'VALID', not 'FULL'.*Conv2D"
    ):
        conv.conv2d(x, f, 1, "FULL")
    with pytest.raises(ValueError, match="padding must be"):
        conv.conv2d(x, f, 1, None)
    with pytest.raises(ShapeError, match="strides .* must be 1 in the batch and depth"):
        conv.conv2d(x, f, [2, 1, 1, 1], "SAME")
    with pytest.raises(ShapeError, match="data_format must be"):
        conv.conv2d(x, f, 1, "SAME", data_format="HWCN")
    with pytest.raises(ShapeError, match="(?s)Negative dimension size.*Conv2D op.*\\[\\?,3,3,1\\]"):
        conv.conv2d(fg.placeholder(fg.float32, [None, 3, 3, 1]), f, 1, "VALID")
    with pytest.raises(TypeError, match="dtype"):
        conv.conv2d(x, fg.zeros([5, 5, 1, 32], fg.float64), 1, "SAME")
    with pytest.raises(ShapeError, match="out_backprop has shape"):
        conv.conv2d_backprop_input([1, 28, 28, 1], f, fg.zeros([1, 27, 28, 32]), 1, "SAME")


def test_pool_errors():
    x = fg.placeholder(fg.float32, [None, 4, 4, 1])
    with pytest.raises(ShapeError, match="(?s)'value' must have rank 4.*MaxPool op"):
        pooling.max_pool(fg.zeros([4, 4]), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    with pytest.raises(ShapeError, match="ksize .* must be 1 in the batch and depth"):
        pooling.avg_pool(x, [2, 2, 2, 1], [1, 2, 2, 1], "VALID")
    with pytest.raises(ShapeError, match="padding must be 'SAME' or 'VALID'"):
        pooling.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "CAUSAL")
    with pytest.raises(TypeError, match="floating-point"):
        pooling.avg_pool(fg.zeros([1, 4, 4, 1], fg.int32), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
