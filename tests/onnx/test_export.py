"""Export to ONNX, checked by running the model elsewhere: onnxruntime must agree with
Session.run — the seed MLP trained on the bundled MNIST sample, a small CNN in both layouts,
and a table of single ops — and an op with no ONNX form fails naming the op and the line."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import flowgraph as fg  # noqa: E402
import flowgraph.onnx as fo  # noqa: E402
from flowgraph.datasets.mnist import read_data_sets  # noqa: E402


def run_ort(model, feeds: dict) -> list:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return sess.run(None, feeds)


@pytest.fixture(scope="module")
def mnist():
    return read_data_sets(None, one_hot=True)


def seed_mlp(graph, mnist, steps=200):
    """The seed TF1 MNIST program (784-256-10, Adam), trained ``steps`` steps."""
    fg.set_random_seed(0)
    x = fg.placeholder(fg.float32, [None, 784], name="x")
    y = fg.placeholder(fg.float32, [None, 10], name="y")
    W1 = fg.Variable(fg.random_normal([784, 256]))
    b1 = fg.Variable(fg.zeros([256]))
    h1 = fg.nn.relu(fg.matmul(x, W1) + b1)
    W2 = fg.Variable(fg.random_normal([256, 10]))
    b2 = fg.Variable(fg.zeros([10]))
    logits = fg.matmul(h1, W2) + b2
    loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = fg.train.AdamOptimizer(0.001).minimize(loss)
    sess = fg.Session()
    sess.run(fg.global_variables_initializer())
    with one_blas_thread():  # a multithreaded BLAS fighting for 2 shared cores is 5x slower
        for _ in range(steps):
            bx, by = mnist.train.next_batch(100)
            sess.run(train, {x: bx, y: by})
    return sess, x, logits


def one_blas_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def test_seed_mlp_agrees_with_onnxruntime_on_mnist(graph, mnist):
    sess, x, logits = seed_mlp(graph, mnist)
    prediction = fg.argmax(logits, 1, name="prediction")
    model = fo.export([logits, prediction], [x], session=sess)
    images = mnist.test.images
    ours = sess.run([logits, prediction], {x: images})
    theirs = run_ort(model, {"x": images})
    np.testing.assert_allclose(theirs[0], ours[0], rtol=1e-4, atol=1e-3 * np.abs(ours[0]).max())
    assert theirs[1].dtype == np.int64
    np.testing.assert_array_equal(theirs[1], ours[1])  # every test digit gets the same class
    accuracy = np.mean(ours[1] == mnist.test.labels.argmax(1))
    assert accuracy > 0.5, "the model was trained: a real model is being compared"
    # Only the inference subgraph: no Adam, no loss, no labels placeholder.
    assert [n.op_type for n in model.graph.node] == [
        "MatMul",
        "Add",
        "Relu",
        "MatMul",
        "Add",
        "ArgMax",
    ]
    assert [i.name for i in model.graph.input] == ["x"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dim0"


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_small_cnn_agrees_with_onnxruntime(graph, data_format):
    rng = np.random.default_rng(0)
    nhwc = data_format == "NHWC"
    x = fg.placeholder(fg.float32, [None, 28, 28, 1] if nhwc else [None, 1, 28, 28], name="x")
    strides = (lambda s: [1, s, s, 1]) if nhwc else (lambda s: [1, 1, s, s])
    w1 = fg.Variable(rng.normal(size=(5, 5, 1, 4)).astype(np.float32))
    b1 = fg.Variable(rng.normal(size=4).astype(np.float32))
    h = fg.nn.relu(fg.nn.bias_add(
        fg.nn.conv2d(x, w1, strides(1), "SAME", data_format=data_format), b1, data_format
    ))  # fmt: skip
    h = fg.nn.max_pool(h, strides(2), strides(2), "SAME", data_format=data_format)
    w2 = fg.Variable(rng.normal(size=(3, 3, 4, 6)).astype(np.float32))
    # stride 2 on 14 with SAME pads 0 before and 1 after: TF's asymmetric split
    h = fg.nn.conv2d(h, w2, strides(2), "SAME", data_format=data_format, dilations=None)
    h = fg.nn.avg_pool(fg.tanh(h), strides(3), strides(2), "SAME", data_format=data_format)
    h = fg.nn.conv2d(h, fg.constant(rng.normal(size=(2, 2, 6, 3)).astype(np.float32)),
                     strides(1), "VALID", data_format=data_format)  # fmt: skip
    flat = fg.reshape(h, [-1, 27])
    out = fg.nn.log_softmax(flat)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        images = rng.random((7, 28, 28, 1) if nhwc else (7, 1, 28, 28)).astype(np.float32)
        model = fo.export(out, x, session=sess)
        expected = sess.run(out, {x: images})
    (got,) = run_ort(model, {"x": images})
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    types = {n.op_type for n in model.graph.node}
    assert {"Conv", "MaxPool", "AveragePool"} <= types


def test_same_padding_with_unknown_spatial_size_uses_same_upper(graph):
    x = fg.placeholder(fg.float32, [None, None, None, 2], name="x")
    y = fg.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    model = fo.export(y, x)
    pool = next(n for n in model.graph.node if n.op_type == "MaxPool")
    assert (
        onnx.helper.get_attribute_value(next(a for a in pool.attribute if a.name == "auto_pad"))
        == b"SAME_UPPER"
    )
    images = np.random.default_rng(1).random((2, 10, 7, 2)).astype(np.float32)
    (got,) = run_ort(model, {"x": images})
    np.testing.assert_allclose(got, fg.Session().run(y, {x: images}))


def _f(shape):
    return np.random.default_rng(len(shape)).normal(size=shape).astype(np.float32)


def _i(values):
    return np.asarray(values, dtype=np.int32)


# (name, builder from placeholders -> output, input arrays): each runs in both engines.
OPS = [
    ("add_sub_mul_div", lambda a, b: (a + b) * (a - b) / (b * b + 1.0), [_f((2, 3)), _f((3,))]),
    (
        "max_min_pow",
        lambda a, b: fg.pow(fg.abs(fg.maximum(a, b)) + 1.0, fg.minimum(a, b)),
        [_f((2, 3)), _f((2, 3))],
    ),
    (
        "unary",
        lambda a: (
            fg.exp(fg.sin(a))
            + fg.cos(a)
            + fg.sqrt(fg.abs(a))
            + fg.log1p(fg.abs(a))
            + fg.rsqrt(fg.abs(a) + 1)
            + fg.square(a)
            + fg.sign(a)
            - a
        ),
        [_f((4, 5))],
    ),
    (
        "activations",
        lambda a: (
            fg.sigmoid(a)
            + fg.nn.relu6(a * 4)
            + fg.nn.elu(a)
            + fg.nn.selu(a)
            + fg.nn.softplus(a)
            + fg.nn.leaky_relu(a, 0.3)
            + fg.nn.softmax(a, axis=0)
        ),
        [_f((3, 4))],
    ),
    (
        "floordiv_floormod_int",
        lambda a, b: fg.floordiv(a, b) * 100 + fg.floormod(a, b),
        [_i([7, -7, 7, -7, 0, 5]), _i([2, 2, -2, -2, 3, -1])],
    ),
    (
        "floordiv_floormod_float",
        lambda a, b: fg.floordiv(a, b) * 100 + fg.floormod(a, b),
        [np.float32([7.5, -7.5, 7.5, -7.5]), np.float32([2, 2, -2, -2])],
    ),
    ("int_true_division", lambda a, b: fg.truediv(a, b), [_i([7, -7, 1]), _i([2, 2, 3])]),
    (
        "compare_select",
        lambda a, b: fg.where(fg.logical_and(a > b, fg.not_equal(a, 0.0)), a, b),
        [_f((3, 3)), _f((3, 3))],
    ),
    (
        "reductions",
        lambda a: (
            fg.reduce_sum(a, 1)
            + fg.reduce_mean(a, 1)
            + fg.reduce_max(a, 1)
            + fg.reduce_min(a, 1)
            + fg.reduce_prod(a, 1)
            + fg.reduce_sum(a)
        ),
        [_f((3, 4))],
    ),
    (
        "reduce_keepdims_all_any",
        lambda a: (
            fg.cast(fg.reduce_all(a > -1.0, 1, keepdims=True), fg.float32)
            + fg.cast(fg.reduce_any(a > 1.0, 1, keepdims=True), fg.float32)
        ),
        [_f((3, 4))],
    ),
    (
        "argmax_argmin_int32",
        lambda a: (
            fg.argmax(a, 0, output_type=fg.int32) * 10 + fg.argmin(a, 0, output_type=fg.int32)
        ),
        [_f((4, 3))],
    ),
    (
        "matmul_transposed",
        lambda a, b: fg.matmul(a, b, transpose_a=True, transpose_b=True),
        [_f((3, 2)), _f((4, 3))],
    ),
    (
        "reshape_transpose_concat",
        lambda a: fg.concat(
            [fg.transpose(fg.reshape(a, [3, 2, 2])), fg.reshape(a, [2, 2, 3])], axis=-1
        ),
        [_f((3, 4))],
    ),
    (
        "stack_unstack_split",
        lambda a: (
            fg.stack(fg.unstack(a, axis=1)[::-1], axis=1)
            + fg.concat(fg.split(a, [1, 3], axis=1)[::-1], 1)
        ),
        [_f((2, 4))],
    ),
    (
        "expand_squeeze_tile_pad",
        lambda a: (
            fg.squeeze(fg.tile(fg.expand_dims(a, 0), [1, 1, 1]), [0])
            + fg.pad(a, [[1, 0], [0, 1]])[1:, :-1]
        ),
        [_f((3, 4))],
    ),
    ("reflect_pad", lambda a: fg.pad(a, [[1, 1], [2, 1]], mode="REFLECT"), [_f((3, 4))]),
    (
        "gather_slices",
        lambda a, i: fg.gather(a, i, axis=1)[::-1, 1:] + a[:, None, -1][..., 0:1] * a[1, :2],
        [_f((3, 4)), _i([3, 0, -1])],
    ),
    (
        "one_hot_negative_is_off",
        lambda i: fg.one_hot(i, 4, on_value=2.0, off_value=-1.0),
        [_i([0, 3, -1, 5])],
    ),
    (
        "shape_size_like",
        lambda a: (
            fg.cast(fg.shape(a), fg.float32)[0] * fg.ones_like(a)
            + fg.cast(fg.size(a), fg.float32)
            + fg.zeros_like(a)
        ),
        [_f((2, 5))],
    ),
    (
        "cumsum_topk",
        lambda a: (
            fg.cumsum(a, axis=1, exclusive=True, reverse=True)
            + fg.top_k(a, 4)[0]
            + fg.cast(fg.top_k(a, 4)[1], fg.float32)
        ),
        [_f((3, 4))],
    ),
    (
        "clip_addn_sqdiff",
        lambda a, b: fg.clip_by_value(fg.add_n([a, b, a]), -0.5, 0.5) + fg.squared_difference(a, b),
        [_f((3, 3)), _f((4, 3))[1:]],
    ),
    ("where_indices_gather_nd", lambda a: fg.cast(fg.where(a > 0.0), fg.float32), [_f((3, 4))]),
    ("l2_loss_identity", lambda a: fg.nn.l2_loss(fg.identity(fg.stop_gradient(a))), [_f((5,))]),
    (
        "fill_rank_gather_nd",
        lambda a: (
            fg.gather_nd(a, [[0, 1], [2, 3]]) + fg.cast(fg.rank(a), fg.float32) + fg.fill([2], 0.5)
        ),
        [_f((3, 4))],
    ),
    (
        "default_and_checks_pass_through",
        lambda a: fg.Print(
            fg.check_numerics(fg.placeholder_with_default(a, [None, 4]), "bad"), [a]
        ),
        [_f((3, 4))],
    ),
]


@pytest.mark.parametrize("name, build, arrays", OPS, ids=[o[0] for o in OPS])
def test_op_agrees_with_onnxruntime(graph, name, build, arrays):
    placeholders = [
        fg.placeholder(fg.as_dtype(a.dtype), [None, *a.shape[1:]], name=f"in{i}")
        for i, a in enumerate(arrays)
    ]
    out = build(*placeholders)
    model = fo.export(out, placeholders)
    feed = dict(zip(placeholders, arrays))
    expected = fg.Session().run(out, feed)
    (got,) = run_ort(model, {f"in{i}": a for i, a in enumerate(arrays)})
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_an_op_without_a_translation_names_the_op_and_the_line(graph):
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    noisy = x + fg.random_normal([3], name="noise")  # random at run time: no ONNX equivalent
    with pytest.raises(fo.ONNXExportError) as info:
        fo.export(noisy, x)
    message = str(info.value)
    assert "RandomStandardNormal op 'noise'" in message
    assert "test_export.py" in message and "test_an_op_without_a_translation" in message


def test_a_mode_without_an_equivalent_fails_rather_than_differing(graph):
    x = fg.placeholder(fg.float32, [3, 4], name="x")
    with pytest.raises(fo.ONNXExportError, match="SYMMETRIC"):
        fo.export(fg.pad(x, [[1, 1], [1, 1]], mode="SYMMETRIC"), x)


def test_outputs_and_inputs_need_a_rank(graph):
    x = fg.placeholder(fg.float32, [None, 4], name="x")
    with pytest.raises(fo.ONNXExportError, match="rank of output"):
        fo.export(fg.squeeze(x), x)  # which dims are 1 is known only at run time
    model = fo.export(fg.squeeze(fg.placeholder(fg.float32, [1, 4], name="z")))
    assert len(model.graph.output[0].type.tensor_type.shape.dim) == 1
    anything = fg.placeholder(fg.float32, None, name="anything")
    with pytest.raises(fo.ONNXExportError, match="'anything'.*unknown rank"):
        fo.export(anything * 2.0, anything)


def test_variables_need_a_session(graph):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    w = fg.Variable(np.ones((2, 2), np.float32), name="w")
    with pytest.raises(fo.ONNXExportError, match="session="):
        fo.export(fg.matmul(x, w), x)


def test_a_needed_placeholder_must_be_fed(graph):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    keep = fg.placeholder(fg.float32, [], name="keep")
    with pytest.raises(fo.ONNXExportError, match="placeholder 'keep'"):
        fo.export(x * keep, [x])
    model = fo.export(x * keep)  # feeds=None: every placeholder the fetches need
    assert [i.name for i in model.graph.input] == ["x", "keep"]


def test_unsupported_opset_and_non_tensor_fetches(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    with pytest.raises(ValueError, match="opset 11"):
        fo.export(x + 1.0, x, opset=11)
    with pytest.raises(TypeError, match="Tensors"):
        fo.export("y:0", x)


def test_path_writes_a_loadable_model(graph, tmp_path):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    fo.export(fg.tanh(x, name="y"), x, path=tmp_path / "m.onnx")
    loaded = onnx.load(tmp_path / "m.onnx")
    onnx.checker.check_model(loaded)
    assert [o.name for o in loaded.graph.output] == ["y"]


def test_import_flowgraph_does_not_import_onnx():
    import subprocess
    import sys

    code = "import sys, flowgraph; print('onnx' in sys.modules, 'flowgraph.onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_tf1_layers_cnn_exports(graph):
    import flowgraph.compat.v1 as tf

    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    h = tf.layers.conv2d(x, 8, 3, padding="same", activation=tf.nn.relu)
    h = tf.layers.flatten(tf.layers.max_pooling2d(h, 2, 2))
    out = tf.layers.dense(tf.layers.dense(h, 32, activation=tf.nn.tanh), 10)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        model = fo.export(out, x, session=sess)
        images = np.random.default_rng(5).random((4, 28, 28, 1)).astype(np.float32)
        expected = sess.run(out, {x: images})
    (got,) = run_ort(model, {"x": images})
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert len(model.graph.initializer) >= 6  # kernels and biases of conv and two dense layers
