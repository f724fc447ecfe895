"""Saver.save's TF1 signature, .meta files and import_meta_graph, checkpoint state, and
restoring a subset of a checkpoint's variables."""

import os

import numpy as np
import pytest

import flowgraph.compat.v1 as tf
from flowgraph import errors


def build_and_train(directory, steps=3, **save_kwargs):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([2, 1]), name="w")
    b = tf.Variable(0.0, name="b")
    prediction = tf.add(tf.matmul(x, w), b, name="prediction")
    loss = tf.reduce_mean(tf.square(prediction - y), name="loss")
    train_op = tf.train.GradientDescentOptimizer(0.02).minimize(loss, name="train")
    tf.add_to_collection("train_op", train_op)
    tf.add_to_collection("prediction", prediction)
    feed = {x: [[1.0, 2.0], [3.0, 4.0]], y: [[1.0], [2.0]]}
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train_op, feed)
        path = saver.save(sess, os.path.join(directory, "model"), global_step=steps, **save_kwargs)
        return path, sess.run([w, b]), feed


def test_import_meta_graph_rebuilds_the_model_and_its_collections(tmp_path):
    with tf.Graph().as_default():
        path, (w, b), feed = build_and_train(str(tmp_path))
    assert os.path.isfile(path + ".meta")
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(path + ".meta")
        ckpt = tf.train.get_checkpoint_state(str(tmp_path))
        assert ckpt and ckpt.model_checkpoint_path == path
        assert ckpt.all_model_checkpoint_paths == [path]
        with tf.Session() as sess:
            saver.restore(sess, ckpt.model_checkpoint_path)
            np.testing.assert_array_equal(sess.run(graph.get_tensor_by_name("w:0")), w)
            x, y = graph.get_tensor_by_name("x:0"), graph.get_tensor_by_name("y:0")
            feed = {x: feed_value for (_, feed_value), x in zip(feed.items(), [x, y])}
            loss = graph.get_tensor_by_name("loss:0")
            before = sess.run(loss, feed)
            train_op = tf.get_collection("train_op")[0]
            for _ in range(5):
                sess.run(train_op, feed)  # training goes on from the restored values
            assert sess.run(loss, feed) < before
            assert tf.get_collection("prediction")[0].name == "prediction:0"


def test_save_options_follow_tf1(tmp_path):
    with tf.Graph().as_default():
        path, _, _ = build_and_train(str(tmp_path), write_meta_graph=False, write_state=False)
    assert sorted(os.listdir(tmp_path)) == ["model-3.index.json", "model-3.npz"]
    assert tf.train.latest_checkpoint(str(tmp_path)) is None  # no state file written
    assert tf.train.checkpoint_exists(path)
    with tf.Graph().as_default():
        path, _, _ = build_and_train(
            str(tmp_path / "b"), latest_filename="latest", meta_graph_suffix="graph"
        )
    assert sorted(os.listdir(tmp_path / "b")) == [
        "latest",
        "model-3.graph",
        "model-3.index.json",
        "model-3.npz",
    ]
    assert tf.train.latest_checkpoint(str(tmp_path / "b"), latest_filename="latest") == path
    assert tf.train.latest_checkpoint(str(tmp_path / "b")) is None


def test_pad_step_number_and_max_to_keep_delete_old_meta_files(tmp_path):
    with tf.Graph().as_default():
        v = tf.Variable(1.0, name="v")
        saver = tf.train.Saver(max_to_keep=1, pad_step_number=True)
        with tf.Session() as sess:
            sess.run(v.initializer)
            saver.save(sess, str(tmp_path / "m"), global_step=1)
            last = saver.save(sess, str(tmp_path / "m"), global_step=2)
    assert last.endswith("m-00000002")
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint",
        "m-00000002.index.json",
        "m-00000002.meta",
        "m-00000002.npz",
    ]


def test_saver_of_a_var_list_restores_it_from_a_larger_checkpoint(tmp_path):
    with tf.Graph().as_default():
        a = tf.Variable([1.0, 2.0], name="a")
        tf.Variable([3.0], name="b")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver().save(sess, str(tmp_path / "both"))
    with tf.Graph().as_default():
        a = tf.Variable([0.0, 0.0], name="a")
        c = tf.Variable([9.0], name="c")  # not in the saver's list: left to its initializer
        with tf.Session() as sess:
            sess.run(c.initializer)
            tf.train.Saver([a]).restore(sess, path)
            assert sess.run(a).tolist() == [1.0, 2.0] and sess.run(c).tolist() == [9.0]
            with pytest.raises(errors.NotFoundError, match=r"not found in the checkpoint: \['c'\]"):
                tf.train.Saver([a, c]).restore(sess, path)


def test_import_meta_graph_errors_and_options(tmp_path):
    with pytest.raises(errors.NotFoundError, match="no meta graph file"):
        tf.train.import_meta_graph(str(tmp_path / "none.meta"))
    with tf.Graph().as_default():
        with tf.device("/cpu:0"):
            tf.Variable(1.0, name="v")
        doc = tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    assert any(op.get("device") for op in doc["ops"])
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(str(tmp_path / "g.meta"), clear_devices=True)
        assert isinstance(saver, tf.train.Saver)
        assert all(not op.device for op in g.get_operations())
    with tf.Graph().as_default():
        tf.constant(1.0, name="c")
        tf.train.export_meta_graph(str(tmp_path / "novars.meta"))
    with tf.Graph().as_default():
        assert tf.train.import_meta_graph(str(tmp_path / "novars.meta")) is None
    with tf.Graph().as_default():
        assert tf.train.Saver([], allow_empty=True).save(None, str(tmp_path / "x")) is None
