"""Neural-network ops (flowgraph/ops/nn.py) against NumPy references, table-driven: forward
values, dtypes and static shapes, float64 numeric gradients, stability for ±1e4 logits, TF's
label semantics, and the errors bad inputs give."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.autodiff.gradients import gradients
from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.ops import nn
from flowgraph.ops.registry import get_gradient
from flowgraph.testing import check_gradients

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def requires_gradients(*op_types):
    """Skip a test whose graph needs gradient rules of ops defined outside nn.py that are
    not registered (yet)."""
    missing = []
    for t in op_types:
        try:
            get_gradient(t)
        except KeyError:
            missing.append(t)
    return pytest.mark.skipif(bool(missing), reason=f"no gradient rule yet for {missing}")


def run(fetches, feed_dict=None):
    return fg.Session().run(fetches, feed_dict=feed_dict)


def check_value(out, got, expected):
    """``got`` (the value of ``out``) matches ``expected``, the declared dtype and shape."""
    assert got.dtype == out.dtype.as_numpy_dtype
    assert out.shape.is_compatible_with(np.shape(got)), (out.shape, np.shape(got))
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, **TOL[got.dtype.type])


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


def away_from_kinks(rng, shape):
    """Values in ±[0.2, 8] that stay clear of the kinks at 0 and 6 (for numeric gradients)."""
    x = rng.uniform(0.2, 8.0, shape) * rng.choice([-1.0, 1.0], shape)
    return np.where(np.abs(x - 6) < 0.2, 5.5, x)


# ---- elementwise activations and softmax --------------------------------------------------

UNARY = [
    ("relu6", nn.relu6, lambda x: np.clip(x, 0, 6)),
    ("elu", nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    (
        "selu",
        nn.selu,
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    ),
    ("leaky_relu", nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    (
        "leaky_relu_0.01",
        lambda x: nn.leaky_relu(x, alpha=0.01),
        lambda x: np.where(x > 0, x, 0.01 * x),
    ),
    ("softplus", nn.softplus, lambda x: np.logaddexp(0, x)),
    ("softmax", nn.softmax, np_softmax),
    ("softmax_axis0", lambda x: nn.softmax(x, axis=0), lambda x: np_softmax(x, 0)),
    ("softmax_dim0", lambda x: nn.softmax(x, dim=0), lambda x: np_softmax(x, 0)),
    ("log_softmax", nn.log_softmax, np_log_softmax),
    ("log_softmax_axis0", lambda x: nn.log_softmax(x, axis=0), lambda x: np_log_softmax(x, 0)),
]
SHAPES = [(7,), (3, 5), (2, 3, 4)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, fn, ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary_forward(name, fn, ref, shape, dtype):
    x_value = away_from_kinks(np.random.default_rng(0), shape).astype(dtype)
    x = fg.placeholder(dtype, (None,) + shape[1:])  # unknown leading dim
    out = fn(x)
    assert out.shape.is_compatible_with(shape) and out.dtype == fg.as_dtype(dtype)
    check_value(out, run(out, {x: x_value}), ref(x_value.astype(np.float64)).astype(dtype))


@pytest.mark.parametrize("name, fn, ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradient(name, fn, ref):
    x = fg.placeholder(fg.float64, [3, 4])
    check_gradients(fn(x), [x], {x: away_from_kinks(np.random.default_rng(1), (3, 4))})


@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax, nn.softplus, nn.elu, nn.selu])
def test_unary_finite_for_huge_inputs(fn):
    x = fg.placeholder(fg.float32, [None, 3])
    out = fn(x)
    (dx,) = gradients(out, [x])
    value, grad = run([out, dx], {x: [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]})
    assert np.isfinite(value).all() and np.isfinite(grad).all()


@requires_gradients("Mul", "Sub", "Sum", "Exp")
@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax])
def test_softmax_second_derivative(fn):
    x = fg.placeholder(fg.float64, [2, 3])
    w = fg.constant(np.arange(6.0).reshape(2, 3))
    (dx,) = gradients(fn(x) * w, [x])
    check_gradients(dx, [x], {x: np.random.default_rng(2).standard_normal((2, 3))})


def test_activation_errors():
    with pytest.raises(ShapeError, match="(?s)rank at least 1.*Softmax op"):
        nn.softmax(fg.constant(1.0))
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        nn.softmax(fg.zeros([2, 3]), axis=2)
    with pytest.raises(TypeError, match="floating-point"):
        nn.elu(fg.constant([1, 2]))
    with pytest.raises(ValueError, match="both 'axis'"):
        nn.log_softmax(fg.zeros([2, 3]), axis=0, dim=1)


# ---- cross-entropy losses ---------------------------------------------------------------


def random_labels(rng, shape, axis=-1):
    p = rng.random(shape) + 0.1
    return p / p.sum(axis=axis, keepdims=True)


XENT_CASES = [  # (logits shape, placeholder shape, axis)
    ((4, 3), (None, 3), -1),
    ((1, 10), (None, 10), -1),
    ((5,), (None,), -1),
    ((2, 3, 4), (None, 3, 4), -1),
    ((3, 4), (3, None), 0),
    ((2, 3, 4), (2, None, 4), 1),
]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, holder, axis", XENT_CASES, ids=str)
def test_softmax_xent_forward(shape, holder, axis, dtype, version):
    rng = np.random.default_rng(3)
    logits_v = rng.standard_normal(shape).astype(dtype)
    labels_v = random_labels(rng, shape, axis).astype(dtype)
    logits, labels = fg.placeholder(dtype, holder), fg.placeholder(dtype, holder)
    fn = (
        nn.softmax_cross_entropy_with_logits_v2
        if version == "v2"
        else nn.softmax_cross_entropy_with_logits
    )
    loss = fn(labels=labels, logits=logits, axis=axis)
    expected = -(labels_v * np_log_softmax(logits_v.astype(np.float64), axis)).sum(axis=axis)
    check_value(loss, run(loss, {logits: logits_v, labels: labels_v}), expected.astype(dtype))


def test_softmax_xent_dim_alias_and_static_shape():
    logits = fg.placeholder(fg.float32, [None, 10])
    loss = nn.softmax_cross_entropy_with_logits_v2(labels=logits, logits=logits, dim=-1)
    assert loss.shape == fg.TensorShape([None])
    loss0 = nn.softmax_cross_entropy_with_logits(labels=logits, logits=logits, dim=0)
    assert loss0.shape == fg.TensorShape([10])


@pytest.mark.parametrize("shape, holder, axis", XENT_CASES, ids=str)
def test_softmax_xent_v2_gradients(shape, holder, axis):
    rng = np.random.default_rng(4)
    logits, labels = fg.placeholder(fg.float64, shape), fg.placeholder(fg.float64, shape)
    loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis)
    feed = {logits: rng.standard_normal(shape), labels: random_labels(rng, shape, axis)}
    check_gradients(loss, [logits, labels], feed)


def test_softmax_xent_gradient_with_unnormalized_labels():
    # The logits gradient is softmax * sum(labels) - labels: exact even when labels don't
    # sum to one (TF's kernel assumes they do).
    rng = np.random.default_rng(5)
    logits, labels = fg.placeholder(fg.float64, [3, 4]), fg.placeholder(fg.float64, [3, 4])
    loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    feed = {logits: rng.standard_normal((3, 4)), labels: rng.random((3, 4)) * 3}
    check_gradients(loss, [logits, labels], feed)


def test_softmax_xent_label_semantics_v1_vs_v2():
    rng = np.random.default_rng(6)
    logits_v, labels_v = rng.standard_normal((2, 3)), random_labels(rng, (2, 3))
    logits, labels = fg.placeholder(fg.float64, [2, 3]), fg.placeholder(fg.float64, [2, 3])
    v1 = nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    assert gradients(v1, [labels]) == [None]  # v1: labels are behind stop_gradient
    d_logits_v1 = gradients(v1, [logits])[0]
    d_logits_v2, d_labels_v2 = gradients(v2, [logits, labels])
    feed = {logits: logits_v, labels: labels_v}
    g1, g2, gl = run([d_logits_v1, d_logits_v2, d_labels_v2], feed)
    np.testing.assert_allclose(g1, np_softmax(logits_v) - labels_v, atol=1e-12)
    np.testing.assert_allclose(g2, g1, atol=1e-12)
    np.testing.assert_allclose(gl, -np_log_softmax(logits_v), atol=1e-12)
    check_gradients(v1, [logits], feed)


@requires_gradients("Mul", "Add", "Sub", "Neg", "Sum", "ExpandDims", "Exp")
def test_softmax_xent_second_derivative():
    rng = np.random.default_rng(7)
    logits, labels = fg.placeholder(fg.float64, [2, 3]), fg.placeholder(fg.float64, [2, 3])
    loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    (d_logits,) = gradients(loss, [logits])
    feed = {logits: rng.standard_normal((2, 3)), labels: rng.random((2, 3))}
    check_gradients(d_logits, [logits, labels], feed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_stable_for_huge_logits(dtype):
    big = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    ids_v = np.array([1, 1, 2])
    onehot = np.eye(3, dtype=dtype)[ids_v]
    logits = fg.placeholder(dtype, [None, 3])
    labels = fg.placeholder(dtype, [None, 3])
    ids = fg.placeholder(fg.int32, [None])
    losses = [
        nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits),
        nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits),
        nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
    ]
    grads = [gradients(loss, [logits])[0] for loss in losses]
    values = run(losses + grads, {logits: big, labels: onehot, ids: ids_v})
    for v in values:
        assert np.isfinite(v).all()
    np.testing.assert_allclose(values[0], [2e4, np.log(2), np.log(3)], rtol=1e-6)
    np.testing.assert_allclose(values[2], values[0], rtol=1e-6)
    np.testing.assert_allclose(
        values[3], [[1e4, 1e4, np.log(2)], [0, 0, 1e4], [0, 0, 1e4]], rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        values[4], [[1, -1, 0], [0, -0.5, 0.5], [1 / 3, 1 / 3, -2 / 3]], rtol=1e-6, atol=1e-7
    )


SPARSE_CASES = [((4, 3), (None, 3)), ((1, 10), (None, 10)), ((2, 3, 4), (None, None, 4))]


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shape, holder", SPARSE_CASES, ids=str)
def test_sparse_xent_forward_and_gradient(shape, holder, label_dtype):
    rng = np.random.default_rng(8)
    logits_v = rng.standard_normal(shape)
    ids_v = rng.integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    logits = fg.placeholder(fg.float64, holder)
    ids = fg.placeholder(label_dtype, holder[:-1])
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)
    expected = -np.take_along_axis(np_log_softmax(logits_v), ids_v[..., None], -1)[..., 0]
    check_value(loss, run(loss, {logits: logits_v, ids: ids_v}), expected)
    assert gradients(loss, [logits])[0] is not None
    check_gradients(loss, [logits], {logits: logits_v, ids: ids_v})


@requires_gradients("Mul", "Add", "Sub", "Sum", "ExpandDims", "Exp")
def test_sparse_xent_second_derivative():
    logits, ids = fg.placeholder(fg.float64, [2, 3]), fg.constant([2, 0])
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)
    (d_logits,) = gradients(loss, [logits])
    check_gradients(d_logits, [logits], {logits: np.random.default_rng(9).standard_normal((2, 3))})


def test_sparse_xent_bad_labels():
    logits = fg.placeholder(fg.float32, [None, 3])
    ids = fg.placeholder(fg.int32, [None])
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)
    with pytest.raises(InvalidArgumentError, match="label value of 3 .* valid range of \\[0, 3\\)"):
        run(loss, {logits: np.zeros((2, 3)), ids: [0, 3]})
    with pytest.raises(
        ShapeError,
        match="(?s)labels must have the shape.*SparseSoftmaxCrossEntropyWithLogits op.*\\[\\?,3\\]",
    ):
        nn.sparse_softmax_cross_entropy_with_logits(
            labels=fg.zeros([4, 1], fg.int32), logits=logits
        )
    with pytest.raises(TypeError, match="labels.*integer"):
        nn.sparse_softmax_cross_entropy_with_logits(labels=fg.zeros([4]), logits=logits)


def test_xent_mismatched_shapes_name_op_and_shapes():
    logits = fg.placeholder(fg.float32, [None, 10])
    with pytest.raises(ShapeError) as e:
        nn.softmax_cross_entropy_with_logits_v2(labels=fg.zeros([5, 3]), logits=logits)
    message = str(e.value)
    assert "SoftmaxCrossEntropyWithLogits" in message and "[?,10]" in message and "[5,3]" in message
    with pytest.raises(ShapeError, match="(?s)same shape.*SigmoidCrossEntropyWithLogits op"):
        nn.sigmoid_cross_entropy_with_logits(labels=fg.zeros([2]), logits=fg.zeros([3]))
    with pytest.raises(TypeError):
        nn.softmax_cross_entropy_with_logits_v2(fg.zeros([2]), fg.zeros([2]))  # keyword-only
    with pytest.raises(ValueError, match="both labels= and logits="):
        nn.sigmoid_cross_entropy_with_logits(logits=fg.zeros([2]))


@pytest.mark.parametrize(
    "xent", ["softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2"]
)
@pytest.mark.parametrize("label_dtype", [fg.int32, fg.int64, fg.uint8, fg.float64])
def test_softmax_xent_casts_labels_to_the_logits_type(xent, label_dtype):
    """TF1 casts the labels to the logits' dtype (int one-hot labels from a placeholder)."""
    logits = fg.placeholder(fg.float32, [None, 3])
    labels = fg.placeholder(label_dtype, [None, 3])
    loss = getattr(nn, xent)(labels=labels, logits=logits)
    assert loss.dtype is fg.float32
    (grad,) = fg.gradients(fg.reduce_sum(loss), [logits])
    logits_v = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]], np.float32)
    labels_v = np.array([[0, 1, 0], [1, 0, 0]])
    with fg.Session() as sess:
        value, g = sess.run([loss, grad], {logits: logits_v, labels: labels_v})
    log_p = logits_v - np.log(np.exp(logits_v).sum(1, keepdims=True))
    np.testing.assert_allclose(value, -(labels_v * log_p).sum(1), rtol=1e-6)
    np.testing.assert_allclose(g, np.exp(log_p) - labels_v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, holder", [((5,), (None,)), ((3, 4), (None, 4))], ids=str)
def test_sigmoid_xent(shape, holder):
    rng = np.random.default_rng(10)
    x_v, z_v = rng.standard_normal(shape) * 3, rng.random(shape)
    x, z = fg.placeholder(fg.float64, holder), fg.placeholder(fg.float64, holder)
    loss = nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    p = 1 / (1 + np.exp(-x_v))
    check_value(loss, run(loss, {x: x_v, z: z_v}), -z_v * np.log(p) - (1 - z_v) * np.log(1 - p))
    check_gradients(loss, [x, z], {x: x_v, z: z_v})


# ---- l2_loss, bias_add ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)], ids=str)
def test_l2_loss(shape):
    t_v = np.random.default_rng(11).standard_normal(shape)
    for dtype in (np.float32, np.float64):
        t = fg.placeholder(dtype, shape)
        out = nn.l2_loss(t)
        assert out.shape == fg.TensorShape([])
        got = np.asarray(run(out, {t: t_v.astype(dtype)}))
        check_value(out, got, np.asarray((t_v.astype(dtype) ** 2).sum() / 2, dtype=dtype))
    t = fg.placeholder(fg.float64, shape)
    check_gradients(nn.l2_loss(t), [t], {t: t_v})


BIAS_CASES = [  # (value shape, placeholder shape, data_format)
    ((4, 3), (None, 3), "NHWC"),
    ((2, 3, 4, 5), (None, 3, 4, 5), "NHWC"),
    ((2, 3, 4, 5), (None, 3, None, None), "NCHW"),
    ((2, 3, 4), (2, 3, 4), "NCHW"),
]


@pytest.mark.parametrize("shape, holder, fmt", BIAS_CASES, ids=str)
def test_bias_add(shape, holder, fmt):
    rng = np.random.default_rng(12)
    axis = 1 if fmt == "NCHW" else len(shape) - 1
    v_v, b_v = rng.standard_normal(shape), rng.standard_normal(shape[axis])
    v, b = fg.placeholder(fg.float64, holder), fg.placeholder(fg.float64, [None])
    out = nn.bias_add(v, b, data_format=fmt)
    expected = v_v + b_v.reshape([-1] + [1] * (len(shape) - 1 - axis))
    check_value(out, run(out, {v: v_v, b: b_v}), expected)
    check_gradients(out, [v, b], {v: v_v, b: b_v})
    (db,) = gradients(out, [b])
    assert "BiasAddGrad" in (db.op.type, db.op.inputs[0].op.type)


def test_bias_add_grad_is_differentiable():
    g = fg.placeholder(fg.float64, [2, 3, 2])
    for fmt in ("NHWC", "NCHW"):
        b = fg.placeholder(fg.float64, [2 if fmt == "NHWC" else 3])
        (db,) = gradients(nn.bias_add(fg.zeros([2, 3, 2], fg.float64), b, fmt), [b], grad_ys=g)
        check_gradients(
            db,
            [g],
            {
                g: np.random.default_rng(13).standard_normal((2, 3, 2)),
                b: np.zeros(b.shape.as_list()),
            },
        )


def test_bias_add_errors():
    with pytest.raises(ShapeError, match="(?s)bias of shape \\[4\\] must match .*3.*BiasAdd op"):
        nn.bias_add(fg.placeholder(fg.float32, [None, 3]), fg.zeros([4]))
    with pytest.raises(ShapeError, match="'bias' must have rank 1"):
        nn.bias_add(fg.zeros([2, 3]), fg.zeros([1, 3]))
    with pytest.raises(ShapeError, match="rank at least 2"):
        nn.bias_add(fg.zeros([3]), fg.zeros([3]))


# ---- dropout ------------------------------------------------------------------------------


@requires_gradients("Mul")
def test_dropout_statistics_scaling_and_gradient():
    x = fg.placeholder(fg.float32, [None, 1000])
    y = nn.dropout(x, rate=0.25)
    assert y.shape.as_list() == [None, 1000] and y.dtype == fg.float32
    (dx,) = gradients(y, [x])
    x_v = np.full((20, 1000), 2.0, np.float32)
    y_v, dx_v = run([y, dx], {x: x_v})
    assert y_v.dtype == np.float32
    kept = y_v != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y_v[kept], 2.0 / 0.75, rtol=1e-6)
    np.testing.assert_allclose(dx_v, kept / np.float32(0.75), rtol=1e-6)  # the same mask


def test_dropout_keep_prob_placeholder_and_noise_shape():
    x = fg.placeholder(fg.float64, [None, 4, 6])
    keep = fg.placeholder(fg.float64, [])
    y = nn.dropout(x, keep, noise_shape=[None, 1, 6])
    x_v = np.ones((3, 4, 6))
    with fg.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: x_v, keep: 1.0}), x_v)
        y_v = sess.run(y, {x: x_v, keep: 0.5})
        assert set(np.unique(y_v)) <= {0.0, 2.0}
        assert (y_v == y_v[:, :1, :]).all()  # one decision per (batch, column)
        with pytest.raises(InvalidArgumentError, match="rate must be in the range \\[0, 1\\)"):
            sess.run(y, {x: x_v, keep: 0.0})


def test_dropout_seeded_repeats_across_sessions():
    x = fg.ones([50])
    y = nn.dropout(x, keep_prob=0.5, seed=3)
    first = [fg.Session().run(y) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])
    with fg.Session() as sess:
        a, b = sess.run(y), sess.run(y)
    assert not np.array_equal(a, b)  # each run draws a new mask


def test_dropout_arguments():
    x = fg.zeros([3])
    assert nn.dropout(x, keep_prob=1.0) is x and nn.dropout(x, rate=0.0) is x
    with pytest.raises(ValueError, match="rate must be a float in the range \\[0, 1\\), got 1.0"):
        nn.dropout(x, rate=1)
    with pytest.raises(ValueError, match="keep_prob must be in the range \\(0, 1\\]"):
        nn.dropout(x, keep_prob=0.0)
    with pytest.raises(ValueError, match="exactly one of keep_prob and rate"):
        nn.dropout(x, keep_prob=0.5, rate=0.5)
    with pytest.raises(ValueError, match="exactly one"):
        nn.dropout(x)
    with pytest.raises(ShapeError, match="(?s)noise_shape \\[2\\].*DropoutMask op"):
        nn.dropout(x, rate=0.5, noise_shape=[2])


# ---- moments, l2_normalize (compositions of other ops) ------------------------------------


@pytest.mark.parametrize("axes, keepdims", [([0], False), ([0, 1], False), ([1], True)])
def test_moments_forward(axes, keepdims):
    x_v = np.random.default_rng(14).standard_normal((4, 3, 2))
    x = fg.placeholder(fg.float64, [None, 3, 2])
    mean, var = nn.moments(x, axes, keepdims=keepdims)
    got_m, got_v = run([mean, var], {x: x_v})
    check_value(mean, got_m, x_v.mean(axis=tuple(axes), keepdims=keepdims))
    check_value(var, got_v, x_v.var(axis=tuple(axes), keepdims=keepdims))


@requires_gradients("Mean", "SquaredDifference")
def test_moments_gradient():
    x = fg.placeholder(fg.float64, [4, 3])
    mean, var = nn.moments(x, [0])
    check_gradients([mean, var], [x], {x: np.random.default_rng(15).standard_normal((4, 3))})


@pytest.mark.parametrize("axis", [None, 0, 1, [0, 1]], ids=str)
def test_l2_normalize_forward(axis):
    x_v = np.random.default_rng(16).standard_normal((3, 4))
    x = fg.placeholder(fg.float64, [None, 4])
    out = nn.l2_normalize(x, axis)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    norm = np.sqrt(np.maximum((x_v**2).sum(axis=np_axis, keepdims=True), 1e-12))
    check_value(out, run(out, {x: x_v}), x_v / norm)
    zeros = run(nn.l2_normalize(fg.zeros([2, 2], fg.float64), 1))
    np.testing.assert_array_equal(zeros, np.zeros((2, 2)))


@requires_gradients("Mul", "Rsqrt", "Maximum", "Sum", "Square")
def test_l2_normalize_gradient():
    x = fg.placeholder(fg.float64, [3, 4])
    check_gradients(
        nn.l2_normalize(x, 1), [x], {x: np.random.default_rng(17).standard_normal((3, 4))}
    )


def test_nn_namespace():
    assert set(nn.__all__) >= {"relu", "conv2d", "max_pool", "softmax_cross_entropy_with_logits_v2"}
    assert all(callable(getattr(nn, name)) for name in nn.__all__)


def test_softmax_xent_huge_logits_and_broadcast_labels_leave_the_in_place_path():
    """The kernel's in-place path gives NaN where a label of 0 meets an overflowed logit, and
    cannot broadcast labels of one row: both take the exact path, whose results are checked."""
    logits = fg.placeholder(fg.float32, [None, 3])
    labels = fg.placeholder(fg.float32, [None, 3])
    loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    (d_logits,) = gradients(fg.reduce_sum(loss), [logits])
    huge = np.array([[3e38, -3e38, 0.0], [1.0, 2.0, 3.0]], np.float32)
    one_hot = np.array([[1, 0, 0], [0, 0, 1]], np.float32)
    value, grad = run([loss, d_logits], {logits: huge, labels: one_hot})
    expected = -(one_hot * np_log_softmax(huge.astype(np.float64), -1)).sum(-1)
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    assert np.isfinite(grad).all()
    row = np.array([[0.0, 0.0, 1.0]], np.float32)
    value = run(loss, {logits: huge[1:].repeat(2, 0), labels: row})
    np.testing.assert_allclose(value, np.full(2, expected[1]), rtol=1e-6)
