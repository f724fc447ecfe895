"""tf.train.ExponentialMovingAverage: shadows of variables and tensors, num_updates, the
batch-norm-by-hand pattern, and restoring averaged weights through variables_to_restore."""

import numpy as np
import pytest

import flowgraph.compat.v1 as tf


def test_variable_and_tensor_averages_follow_tf1s_update():
    w = tf.Variable([1.0, 2.0], name="w")
    x = tf.placeholder(tf.float32, [2])
    mean = tf.reduce_mean(x, name="batch_mean")
    step = tf.placeholder(tf.int64, [])
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
    update = ema.apply([w, mean])
    assert ema.average_name(mean) == "batch_mean/ExponentialMovingAverage"
    assert ema.average(w).name == "w/ExponentialMovingAverage:0"
    assert not any("ExponentialMovingAverage" in v.name for v in tf.trainable_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(ema.average(w)), [1.0, 2.0])  # starts at w's value
        assert sess.run(ema.average(mean)) == 0.0  # a tensor's starts at zero
        sess.run(w.assign([3.0, 2.0]))
        sess.run(update, {x: [4.0, 6.0], step: 0})  # decay = min(0.9, 1 / 10) = 0.1
        np.testing.assert_allclose(sess.run(ema.average(w)), [1.0 + 0.9 * 2.0, 2.0])
        np.testing.assert_allclose(sess.run(ema.average(mean)), 0.9 * 5.0)
        sess.run(update, {x: [4.0, 6.0], step: 1000})  # decay = 0.9
        np.testing.assert_allclose(sess.run(ema.average(mean)), 4.5 + 0.1 * 0.5, rtol=1e-6)


def test_batch_norm_by_hand_pattern():
    x = tf.placeholder(tf.float32, [None, 3])
    is_training = tf.placeholder(tf.bool, [])
    batch_mean, batch_var = tf.nn.moments(x, [0])
    ema = tf.train.ExponentialMovingAverage(decay=0.5)

    def mean_var_with_update():
        ema_apply_op = ema.apply([batch_mean, batch_var])
        with tf.control_dependencies([ema_apply_op]):
            return tf.identity(batch_mean), tf.identity(batch_var)

    # As the tutorials write it: the averages are created and updated inside the branch.
    mean, var = tf.cond(
        is_training,
        mean_var_with_update,
        lambda: (ema.average(batch_mean), ema.average(batch_var)),
    )
    normed = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    data = np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(normed, {x: data, is_training: True})
        np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-6)
        np.testing.assert_allclose(sess.run(ema.average(batch_mean)), 0.5 * data.mean(0))
        inference = sess.run(normed, {x: data, is_training: False})
        expected = (data - 0.5 * data.mean(0)) / np.sqrt(0.5 * data.var(0) + 1e-3)
        np.testing.assert_allclose(inference, expected, rtol=1e-5)


def test_variables_to_restore_loads_averaged_weights(tmp_path):
    with tf.Graph().as_default():
        w = tf.Variable(0.0, name="w")
        step = tf.Variable(0, name="step", trainable=False)
        ema = tf.train.ExponentialMovingAverage(0.5)
        update = ema.apply([w])
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(8.0))
            sess.run(update)  # shadow: 4.0
            path = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
    with tf.Graph().as_default():
        w = tf.Variable(0.0, name="w")
        step = tf.Variable(0, name="step", trainable=False)
        ema = tf.train.ExponentialMovingAverage(0.5)
        ema.apply([w])
        mapping = ema.variables_to_restore()
        assert sorted(mapping) == ["step", "w/ExponentialMovingAverage"]
        with tf.Session() as sess:
            tf.train.Saver(mapping).restore(sess, path)
            assert sess.run(w) == 4.0 and sess.run(step) == 0


def test_bad_inputs():
    ema = tf.train.ExponentialMovingAverage(0.9)
    with pytest.raises(TypeError, match="only floating-point"):
        ema.apply([tf.Variable(1, name="count")])
    v = tf.Variable(1.0)
    ema.apply([v])
    with pytest.raises(ValueError, match="already averaged"):
        ema.apply([v])
