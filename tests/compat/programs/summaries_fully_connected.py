"""The shape of TF1's fully_connected_feed tutorial: flags, a fresh log directory through
tf.gfile, name-scoped layers, scalar and histogram summaries merged and written with a
FileWriter, checkpoints every so often, and precision from tf.nn.in_top_k."""

import argparse
import os
import sys
import tempfile

import numpy as np

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

FLAGS = None


def inference(images, hidden1_units, hidden2_units):
    with tf.name_scope("hidden1"):
        weights = tf.Variable(
            tf.truncated_normal([784, hidden1_units], stddev=1.0 / 28.0), name="weights"
        )
        biases = tf.Variable(tf.zeros([hidden1_units]), name="biases")
        hidden1 = tf.nn.relu(tf.matmul(images, weights) + biases)
        tf.summary.histogram("weights", weights)
    with tf.name_scope("hidden2"):
        weights = tf.Variable(
            tf.truncated_normal(
                [hidden1_units, hidden2_units], stddev=1.0 / np.sqrt(float(hidden1_units))
            ),
            name="weights",
        )
        biases = tf.Variable(tf.zeros([hidden2_units]), name="biases")
        hidden2 = tf.nn.relu(tf.matmul(hidden1, weights) + biases)
    with tf.name_scope("softmax_linear"):
        weights = tf.Variable(
            tf.truncated_normal([hidden2_units, 10], stddev=1.0 / np.sqrt(float(hidden2_units))),
            name="weights",
        )
        biases = tf.Variable(tf.zeros([10]), name="biases")
        return tf.matmul(hidden2, weights) + biases


def do_eval(sess, eval_correct, images_placeholder, labels_placeholder, data_set):
    true_count = sess.run(
        eval_correct,
        feed_dict={images_placeholder: data_set.images, labels_placeholder: data_set.labels},
    )
    return float(true_count) / data_set.num_examples


def run_training():
    data_sets = read_data_sets(None, one_hot=False)
    with tf.Graph().as_default():
        images_placeholder = tf.placeholder(tf.float32, shape=(None, 784))
        labels_placeholder = tf.placeholder(tf.int32, shape=(None,))
        logits = inference(images_placeholder, FLAGS.hidden1, FLAGS.hidden2)
        loss = tf.losses.sparse_softmax_cross_entropy(labels=labels_placeholder, logits=logits)
        tf.summary.scalar("loss", loss)
        optimizer = tf.train.GradientDescentOptimizer(FLAGS.learning_rate)
        global_step = tf.Variable(0, name="global_step", trainable=False)
        train_op = optimizer.minimize(loss, global_step=global_step)
        correct = tf.nn.in_top_k(logits, labels_placeholder, 1)
        eval_correct = tf.reduce_sum(tf.cast(correct, tf.int32))
        summary = tf.summary.merge_all()
        init = tf.global_variables_initializer()
        saver = tf.train.Saver()
        sess = tf.Session()
        summary_writer = tf.summary.FileWriter(FLAGS.log_dir, sess.graph)
        sess.run(init)
        for step in range(FLAGS.max_steps):
            images_feed, labels_feed = data_sets.train.next_batch(FLAGS.batch_size)
            feed_dict = {images_placeholder: images_feed, labels_placeholder: labels_feed}
            _, loss_value = sess.run([train_op, loss], feed_dict=feed_dict)
            if step % 50 == 0:
                summary_str = sess.run(summary, feed_dict=feed_dict)
                summary_writer.add_summary(summary_str, step)
                summary_writer.flush()
            if (step + 1) == FLAGS.max_steps:
                checkpoint_file = os.path.join(FLAGS.log_dir, "model.ckpt")
                saver.save(sess, checkpoint_file, global_step=step)
        summary_writer.close()
        print("event files:", len(tf.gfile.Glob(os.path.join(FLAGS.log_dir, "events.*"))))
        print("checkpoint:", os.path.basename(tf.train.latest_checkpoint(FLAGS.log_dir)))
        precision = do_eval(
            sess, eval_correct, images_placeholder, labels_placeholder, data_sets.test
        )
        print("Test precision @ 1: %0.04f" % precision)
        print("precision: %0.04f" % precision)


def main(_):
    if tf.gfile.Exists(FLAGS.log_dir):
        tf.gfile.DeleteRecursively(FLAGS.log_dir)
    tf.gfile.MakeDirs(FLAGS.log_dir)
    run_training()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_steps", type=int, default=200)
    parser.add_argument("--hidden1", type=int, default=64)
    parser.add_argument("--hidden2", type=int, default=32)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument(
        "--log_dir", type=str, default=os.path.join(tempfile.gettempdir(), "fully_connected_feed")
    )
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
