"""Saving and restoring a TF1 model through tf.train.Saver (when flowgraph has a Saver)."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph.compat.v1 as tf

pytestmark = pytest.mark.skipif(
    not hasattr(tf.train, "Saver"), reason="flowgraph.train.saver has no Saver yet"
)


def _model():
    x = tf.placeholder(tf.float32, [None, 2])
    with tf.variable_scope("model"):
        y = tf.layers.dense(x, 3, name="hidden")
    step = tf.train.get_or_create_global_step()
    return x, y, step


def test_save_then_restore_in_a_new_graph(tmp_path):
    data = np.array([[1.0, -1.0]], dtype=np.float32)
    with tf.Graph().as_default():
        x, y, step = _model()
        bump = tf.assign_add(step, 5)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(bump)
            before = sess.run(y, {x: data})
            path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=step)
    assert path.endswith("model.ckpt-5")
    assert tf.train.latest_checkpoint(str(tmp_path)) == path

    with tf.Graph().as_default():
        x, y, step = _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            assert sess.run(tf.report_uninitialized_variables()).tolist() == []
            np.testing.assert_array_equal(sess.run(y, {x: data}), before)
            assert sess.run(step) == 5
