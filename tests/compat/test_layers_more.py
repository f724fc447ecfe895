"""tf.layers.batch_normalization and conv2d_transpose, tf.nn.conv2d_transpose."""

import numpy as np
import pytest

import flowgraph.compat.v1 as tf
from flowgraph.testing import check_gradients

RNG = np.random.default_rng(3)


def test_batch_normalization_trains_with_batch_statistics_and_updates_moving_averages():
    xv = RNG.uniform(-2, 2, (8, 3, 3, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 3, 4])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(
        x, momentum=0.9, training=training, gamma_initializer=tf.constant_initializer(2.0)
    )
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == [
        "batch_normalization/beta",
        "batch_normalization/gamma",
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
    ]
    assert len(tf.trainable_variables()) == 2
    mean, var = xv.mean((0, 1, 2)), xv.var((0, 1, 2))
    moving_mean = tf.global_variables()[2]
    moving_var = tf.global_variables()[3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(y, {x: xv, training: True})
        np.testing.assert_allclose(out, 2 * (xv - mean) / np.sqrt(var + 1e-3), atol=1e-4)
        sess.run(updates, {x: xv, training: False})  # not training: averages stay put
        np.testing.assert_allclose(sess.run(moving_mean), 0.0)
        sess.run(updates, {x: xv, training: True})
        np.testing.assert_allclose(sess.run(moving_mean), 0.1 * mean, rtol=1e-5)
        np.testing.assert_allclose(sess.run(moving_var), 0.9 + 0.1 * var, rtol=1e-5)
        inference = sess.run(y, {x: xv, training: False})
        expected = 2 * (xv - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 1e-3)
        np.testing.assert_allclose(inference, expected, rtol=1e-4, atol=1e-5)


def test_batch_normalization_static_modes_reuse_and_gradients():
    x = tf.placeholder(tf.float64, [4, 3])
    y = tf.layers.batch_normalization(x, training=True, name="bn")
    y2 = tf.layers.batch_normalization(x, training=False, name="bn", reuse=True)
    assert len(tf.global_variables()) == 4  # shared
    xv = RNG.uniform(-1, 1, (4, 3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(y2, {x: xv}), xv / np.sqrt(1 + 1e-3), rtol=1e-10)
        # Training mode normalizes with the batch's own statistics: shifting every example
        # equally changes nothing, so the gradient of sum(y) is zero and of sum(y * c) is not.
        (flat,) = tf.gradients(tf.reduce_sum(y), [x])
        (weighted,) = tf.gradients(tf.reduce_sum(y * np.arange(12.0).reshape(4, 3)), [x])
        np.testing.assert_allclose(sess.run(flat, {x: xv}), 0.0, atol=1e-12)
        assert np.abs(sess.run(weighted, {x: xv})).max() > 0.1
    with pytest.raises(ValueError, match="channel axis"):
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [2, None]))


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    xv = RNG.uniform(-1, 1, (2, 8, 8, 3))
    yv = RNG.uniform(-1, 1, (2, 4, 4, 5))
    kv = RNG.uniform(-1, 1, (3, 3, 3, 5))
    x = tf.placeholder(tf.float64, [2, 8, 8, 3])
    y = tf.placeholder(tf.float64, [2, 4, 4, 5])
    k = tf.placeholder(tf.float64, [3, 3, 3, 5])
    conv = tf.nn.conv2d(x, k, strides=[1, 2, 2, 1], padding="SAME")
    (expected,) = tf.gradients(tf.reduce_sum(conv * y), [x])
    transposed = tf.nn.conv2d_transpose(y, k, [2, 8, 8, 3], strides=[1, 2, 2, 1])
    assert transposed.shape.as_list() == [2, 8, 8, 3]
    feed = {x: xv, y: yv, k: kv}
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(transposed, feed), sess.run(expected, feed))
    check_gradients(tf.reduce_sum(transposed**2), [y, k], feed)


def test_conv2d_transpose_layer_shapes_and_training():
    tf.set_random_seed(7)
    z = tf.placeholder(tf.float32, [None, 4, 4, 6])
    same = tf.layers.conv2d_transpose(z, 3, 3, strides=2, padding="same", name="up")
    valid = tf.layers.conv2d_transpose(z, 2, (3, 2), strides=(2, 1), activation=tf.nn.relu)
    assert same.shape.as_list() == [None, 8, 8, 3]
    assert valid.shape.as_list() == [None, 9, 5, 2]
    assert tf.trainable_variables()[0].shape.as_list() == [3, 3, 3, 6]
    target = RNG.uniform(-1, 1, (5, 8, 8, 3)).astype(np.float32)
    zv = RNG.uniform(-1, 1, (5, 4, 4, 6)).astype(np.float32)
    loss = tf.reduce_mean(tf.square(same - target))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {z: zv})
        for _ in range(60):
            sess.run(train, {z: zv})
        assert sess.run(loss, {z: zv}) < 0.8 * first  # ~0.63 for any seed: it cannot fit noise
        assert sess.run(valid, {z: zv}).shape == (5, 9, 5, 2)
    with pytest.raises(ValueError, match="known height and width"):
        tf.layers.conv2d_transpose(tf.placeholder(tf.float32, [None, None, 4, 2]), 3, 3)
