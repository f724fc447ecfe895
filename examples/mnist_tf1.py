"""The TF1 MNIST program of flowgraph's design documents, run on flowgraph.

It is shared/seed-programs/mnist_tf1_seed.py with only its imports and data loading changed
(plus command-line flags for the step count and data directory, a progress bar, and a picture
of the trained graph at the end):
``import flowgraph.compat.v1 as tf`` and flowgraph's own MNIST reader, which without
``--data-dir`` loads the sample of real MNIST bundled with flowgraph.

    python examples/mnist_tf1.py --steps 2000
    python examples/mnist_tf1.py --data-dir ~/MNIST_data   # the full 60,000 + 10,000 set
    python examples/mnist_tf1.py --logdir runs/mnist       # then: tensorboard --logdir runs
"""

# ruff: noqa: UP031 - the seed program's own %-formatted prints, kept as they are
import argparse
import os

from tqdm import tqdm

import flowgraph.compat.v1 as tf
from flowgraph import viz
from flowgraph.datasets.mnist import read_data_sets

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=10000, help="training steps (default 10000)")
parser.add_argument(
    "--data-dir", default=None, help="directory of the MNIST IDX files (default: bundled sample)"
)
parser.add_argument(
    "--graph-picture",
    default="mnist_tf1_graph.svg",
    help="where to draw the model's graph (.svg/.png/.pdf; '' to skip)",
)
parser.add_argument(
    "--logdir",
    default=None,
    help="write TensorBoard summaries (graph, loss/accuracy, weight histograms) here "
    "(default: off; needs flowgraph[tensorboard])",
)
parser.add_argument(
    "--summary-every", type=int, default=50, help="steps between summaries (with --logdir)"
)
args = parser.parse_args()


# 1. 定义网络结构
def mnist_model(x):
    W1 = tf.Variable(tf.random_normal([784, 256]))
    b1 = tf.Variable(tf.zeros([256]))
    h1 = tf.nn.relu(tf.matmul(x, W1) + b1)

    W2 = tf.Variable(tf.random_normal([256, 10]))
    b2 = tf.Variable(tf.zeros([10]))
    logits = tf.matmul(h1, W2) + b2

    return logits


# 2. 准备数据
mnist = read_data_sets(args.data_dir, one_hot=True)
x = tf.placeholder(tf.float32, [None, 784])
y = tf.placeholder(tf.float32, [None, 10])

# 3. 训练网络
logits = mnist_model(x)
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
optimizer = tf.train.AdamOptimizer(0.001).minimize(loss)

correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

# TensorBoard (not in the seed program): the curves and weight histograms it shows.
if args.logdir:
    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    # The seed's variables have no names (Variable, Variable_1, ...): tag them by their role.
    for tag, v in zip(["W1", "b1", "W2", "b2"], tf.trainable_variables()):
        tf.summary.histogram(tag, v)
    merged = tf.summary.merge_all()

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(args.logdir, sess.graph) if args.logdir else None
    for i in tqdm(range(args.steps), desc="training", unit="step"):
        batch_x, batch_y = mnist.train.next_batch(100)
        if writer is not None and i % args.summary_every == 0:
            # The summaries of the batch, computed in the same run as the training step; the
            # first one is traced, so the graph dashboard can color ops by compute time.
            options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) if i == 0 else None
            meta = tf.RunMetadata()
            summary, _ = sess.run(
                [merged, optimizer], {x: batch_x, y: batch_y}, options=options, run_metadata=meta
            )
            writer.add_summary(summary, i)
            if i == 0:
                writer.add_run_metadata(meta, "step0", i)
        else:
            sess.run(optimizer, feed_dict={x: batch_x, y: batch_y})
        if i % 1000 == 0:
            train_accuracy = sess.run(accuracy, feed_dict={x: batch_x, y: batch_y})
            tqdm.write("Step %d, training accuracy: %g" % (i, train_accuracy))

    # 4. 评估网络
    test_accuracy = sess.run(accuracy, feed_dict={x: mnist.test.images, y: mnist.test.labels})
    print("Test accuracy: %g" % test_accuracy)
    if writer is not None:
        writer.close()
        print("TensorBoard logs in %s (view: tensorboard --logdir %s)" % (args.logdir, args.logdir))

# A picture of the graph that was trained: forward pass, gradients and Adam's updates.
if args.graph_picture:
    try:
        written = viz.render_to(viz.draw(tf.get_default_graph()), args.graph_picture)
        print("Graph picture written to %s" % os.path.abspath(written))
    except viz.GraphvizNotFoundError as e:
        print("No graph picture: %s" % e)
