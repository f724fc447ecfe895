"""A TF1 program in the style of the TensorBoard tutorials runs unchanged and logs what TF1 would:
train and test writers, per-layer summaries in name scopes, images, dropout, a traced step."""

import pytest

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402


def summarize(var):
    with tf.name_scope("stats"):
        mean = tf.reduce_mean(var)  # op "Mean": TF1 names the summary scope "mean_1"
        tf.summary.scalar("mean", mean)
        tf.summary.scalar("spread", tf.sqrt(tf.reduce_mean(tf.square(var - mean))))
        tf.summary.histogram("values", var)


def dense(inputs, n_in, n_out, scope, act=tf.nn.relu):
    with tf.name_scope(scope):
        with tf.name_scope("weights"):
            w = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1))
            summarize(w)
        with tf.name_scope("biases"):
            b = tf.Variable(tf.constant(0.1, shape=[n_out]))
            summarize(b)
        out = act(tf.matmul(inputs, w) + b, name="activation")
        tf.summary.histogram("activations", out)
        return out


def test_tutorial_style_program(tmp_path):
    data = read_data_sets(None, one_hot=True)
    with tf.Graph().as_default():
        with tf.name_scope("input"):
            x = tf.placeholder(tf.float32, [None, 784], name="x-input")
            labels = tf.placeholder(tf.float32, [None, 10], name="y-input")
        with tf.name_scope("input_reshape"):
            tf.summary.image("input", tf.reshape(x, [-1, 28, 28, 1]), 3)
        hidden = dense(x, 784, 64, "layer1")
        with tf.name_scope("dropout"):
            keep = tf.placeholder(tf.float32)
            tf.summary.scalar("keep_probability", keep)
            dropped = tf.nn.dropout(hidden, keep)
        logits = dense(dropped, 64, 10, "layer2", act=tf.identity)
        with tf.name_scope("cross_entropy"):
            loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
            )
        tf.summary.scalar("cross_entropy", loss)
        with tf.name_scope("train"):
            train = tf.train.AdamOptimizer(0.01).minimize(loss)
        with tf.name_scope("accuracy"):
            hits = tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1))
            accuracy = tf.reduce_mean(tf.cast(hits, tf.float32))
        tf.summary.scalar("accuracy", accuracy)
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            train_writer = tf.summary.FileWriter(str(tmp_path / "train"), sess.graph)
            test_writer = tf.summary.FileWriter(str(tmp_path / "test"))
            sess.run(tf.global_variables_initializer())
            for i in range(30):
                if i % 10 == 0:
                    feed = {x: data.test.images[:500], labels: data.test.labels[:500], keep: 1.0}
                    summary, acc = sess.run([merged, accuracy], feed)
                    test_writer.add_summary(summary, i)
                    continue
                xs, ys = data.train.next_batch(100)
                feed = {x: xs, labels: ys, keep: 0.9}
                if i == 19:
                    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
                    meta = tf.RunMetadata()
                    summary, _ = sess.run([merged, train], feed, options, meta)
                    train_writer.add_run_metadata(meta, "step%03d" % i)  # noqa: UP031 - as TF1 programs write it
                else:
                    summary, _ = sess.run([merged, train], feed)
                train_writer.add_summary(summary, i)
            train_writer.close()
            test_writer.close()

    train_log = ea.EventAccumulator(str(tmp_path / "train"), size_guidance={ea.SCALARS: 0})
    train_log.Reload()
    tags = train_log.Tags()
    # TF1's names, quirks included: a scope named like an existing op gets a suffix.
    assert {
        "accuracy_1",
        "cross_entropy_1",
        "dropout/keep_probability",
        "layer1/weights/stats/mean_1",
        "layer2/biases/stats/spread",
    } <= set(tags["scalars"])
    assert "layer1/activations" in tags["histograms"]
    assert "layer2/weights/stats/values" in tags["histograms"]
    assert sorted(tags["images"]) == [f"input_reshape/input/image/{i}" for i in range(3)]
    assert tags["run_metadata"] == ["step019"] and tags["graph"]
    assert len(train_log.Scalars("cross_entropy_1")) == 27
    test_log = ea.EventAccumulator(str(tmp_path / "test"), size_guidance={ea.SCALARS: 0})
    test_log.Reload()
    accuracies = [e.value for e in test_log.Scalars("accuracy_1")]
    assert len(accuracies) == 3 and accuracies[-1] > max(0.5, accuracies[0])
    assert not test_log.Tags()["graph"]
