"""TF1's GraphDef round trip through compat.v1: as_graph_def / import_graph_def."""

import numpy as np

import flowgraph.compat.v1 as tf


def test_import_graph_def_with_input_map_and_return_elements():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        tf.multiply(x, 2.0, name="y")
        graph_def = g.as_graph_def()
    with tf.Graph().as_default():
        fed = tf.constant([[1.0, 2.0]])
        (y,) = tf.import_graph_def(graph_def, input_map={"x:0": fed}, return_elements=["y:0"])
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y), [[2.0, 4.0]])
