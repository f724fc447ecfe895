"""tf.layers.Dense / Conv2D / ... objects: variables made on the first call, reused after."""

import numpy as np
import pytest

import flowgraph.compat.v1 as tf


def test_each_object_owns_its_variables_and_reuses_them():
    first, second = tf.layers.Dense(4), tf.layers.Dense(2, name="head")
    x = tf.placeholder(tf.float32, [None, 3])
    h1 = first(x)
    h2 = first(tf.ones([1, 3]))  # the same kernel
    out = second(h1)
    assert [v.op.name for v in first.variables] == ["dense/kernel", "dense/bias"]
    assert [v.op.name for v in second.trainable_variables] == ["head/kernel", "head/bias"]
    assert len(tf.trainable_variables()) == 4
    assert out.shape.as_list() == [None, 2] and h2.shape.as_list() == [1, 4]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([h1, h2], {x: np.ones((1, 3))})
        np.testing.assert_allclose(a, b)
    with pytest.raises(TypeError, match="unexpected"):
        first(x, training=True)


def test_conv_pool_flatten_dropout_and_batch_norm_objects():
    images = tf.placeholder(tf.float32, [None, 8, 8, 1])
    training = tf.placeholder_with_default(False, [])
    layers = [
        tf.layers.Conv2D(4, 3, padding="same", activation=tf.nn.relu),
        tf.layers.MaxPooling2D(2, 2),
        tf.layers.Conv2DTranspose(2, 3, strides=2, padding="same"),
        tf.layers.Flatten(),
    ]
    h = images
    for layer in layers:
        h = layer(h)
    bn = tf.layers.BatchNormalization()
    h = bn(h, training=training)
    h = tf.layers.Dropout(0.5)(h, training=training)
    assert h.shape.as_list() == [None, 128]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    again = bn(tf.zeros([2, 128]), training=False)  # shares gamma/beta/moving averages
    assert len(tf.global_variables()) == 2 + 2 + 4
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(h, {images: np.ones((3, 8, 8, 1))})
        assert out.shape == (3, 128)
        assert sess.run(again).shape == (2, 128)


def test_a_discriminator_object_scores_real_and_fake_with_one_set_of_weights():
    disc = tf.layers.Dense(1, name="disc")
    real, fake = tf.placeholder(tf.float32, [None, 2]), tf.placeholder(tf.float32, [None, 2])
    d_real, d_fake = disc(real), disc(fake)
    loss = tf.reduce_mean(d_real) - tf.reduce_mean(d_fake)
    (grad,) = tf.gradients(loss, [disc.variables[0]])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g = sess.run(grad, {real: [[1.0, 0.0]], fake: [[0.0, 1.0]]})
        np.testing.assert_allclose(g.ravel(), [1.0, -1.0])
