"""tf.layers: shapes, variables and values against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph.compat.v1 as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_dense_matches_numpy():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.layers.dense(x, 4, activation=tf.nn.relu, bias_initializer=tf.constant_initializer(0.1))
    kernel, bias = tf.trainable_variables()
    assert (kernel.name, kernel.shape.as_list()) == ("dense/kernel:0", [3, 4])
    assert (bias.name, bias.shape.as_list()) == ("dense/bias:0", [4])
    data = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out, k = _run([y, kernel], {x: data})
    np.testing.assert_allclose(out, np.maximum(data @ k + 0.1, 0), rtol=1e-5, atol=1e-6)


def test_dense_on_rank_3_inputs_and_without_bias():
    x = tf.placeholder(tf.float32, [None, 2, 3])
    y = tf.layers.dense(x, 5, use_bias=False, name="proj")
    assert y.shape.as_list() == [None, 2, 5]
    assert [v.name for v in tf.trainable_variables()] == ["proj/kernel:0"]
    data = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    out, k = _run([y, tf.trainable_variables()[0]], {x: data})
    np.testing.assert_allclose(out, data @ k, rtol=1e-5)


def test_dense_needs_a_known_last_dimension():
    with pytest.raises(ValueError, match="last dimension of the inputs to `Dense`"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 3)


def _conv_reference(x, k, stride, padding):
    n, h, w, _ = x.shape
    kh, kw, _, f = k.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=3)
    return out


@pytest.mark.parametrize(("stride", "padding"), [(1, "valid"), (2, "same"), (1, "SAME")])
def test_conv2d_matches_numpy(stride, padding):
    x = tf.placeholder(tf.float32, [None, 6, 5, 2])
    y = tf.layers.conv2d(x, filters=3, kernel_size=(3, 2), strides=stride, padding=padding)
    kernel, bias = tf.trainable_variables()
    assert kernel.shape.as_list() == [3, 2, 2, 3] and bias.shape.as_list() == [3]
    data = np.random.default_rng(1).standard_normal((2, 6, 5, 2)).astype(np.float32)
    out, k = _run([y, kernel], {x: data})
    expected = _conv_reference(data, k, stride, padding.lower())
    assert y.shape.as_list() == [None, *expected.shape[1:]]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_channels_first():
    x = tf.placeholder(tf.float32, [None, 2, 6, 6])
    y = tf.layers.conv2d(x, 4, 3, data_format="channels_first", activation=tf.nn.relu)
    assert y.shape.as_list() == [None, 4, 4, 4]
    data = np.random.default_rng(2).standard_normal((1, 2, 6, 6)).astype(np.float32)
    out, k = _run([y, tf.trainable_variables()[0]], {x: data})
    nhwc = _conv_reference(data.transpose(0, 2, 3, 1), k, 1, "valid")
    np.testing.assert_allclose(out, np.maximum(nhwc, 0).transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-5)


def test_max_and_average_pooling():
    data = np.arange(32, dtype=np.float32).reshape(1, 4, 4, 2)
    x = tf.constant(data)
    mx = tf.layers.max_pooling2d(x, pool_size=2, strides=2)
    avg = tf.layers.average_pooling2d(x, (2, 2), (2, 2), padding="same")
    blocks = data.reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5)
    got_max, got_avg = _run([mx, avg])
    np.testing.assert_array_equal(got_max, blocks.max(axis=(3, 4)))
    np.testing.assert_allclose(got_avg, blocks.mean(axis=(3, 4)))
    assert mx.op.name.startswith("max_pooling2d/")


def test_flatten_static_and_dynamic():
    x = tf.placeholder(tf.float32, [None, 2, 3])
    assert tf.layers.flatten(x).shape.as_list() == [None, 6]
    y = tf.placeholder(tf.float32, [None, None, 3])
    flat = tf.layers.flatten(y)
    data = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    assert _run(flat, {y: data}).shape == (2, 6)
    nchw = tf.layers.flatten(tf.constant(data[None]), data_format="channels_first")
    np.testing.assert_array_equal(_run(nchw)[0], data[None].transpose(0, 2, 3, 1).ravel())


def test_dropout_with_a_bool_or_a_tensor():
    x = tf.ones([2000])
    assert _run(tf.layers.dropout(x, rate=0.5)).min() == 1.0  # training=False: unchanged
    dropped = _run(tf.layers.dropout(x, rate=0.25, training=True))
    assert set(np.unique(dropped).tolist()) <= {0.0, float(np.float32(4.0 / 3.0))}
    assert 0.2 < (dropped == 0).mean() < 0.3
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.dropout(x, rate=0.5, training=training)
    with tf.Session() as sess:
        assert sess.run(y, {training: False}).min() == 1.0
        assert 0.4 < (sess.run(y, {training: True}) == 0).mean() < 0.6


def test_layer_gradients_reach_every_variable():
    x = tf.placeholder(tf.float32, [None, 4, 4, 1])
    h = tf.layers.conv2d(x, 2, 2, activation=tf.nn.relu)
    h = tf.layers.max_pooling2d(h, 2, 1)
    y = tf.reduce_sum(tf.layers.dense(tf.layers.flatten(h), 3))
    grads = tf.gradients(y, tf.trainable_variables())
    assert all(g is not None for g in grads)
    values = _run(grads, {x: np.ones((2, 4, 4, 1))})
    assert [v.shape for v in values] == [(2, 2, 1, 2), (2,), (8, 3), (3,)]
