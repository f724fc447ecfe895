"""The cost of writing TensorBoard summaries every step of the seed MLP, as a ratio to plain steps.

The seed program's model (784-256-10, batch 100, Adam, float32) with what
``examples/mnist_tf1.py --logdir`` logs: the ``loss`` and ``accuracy`` scalars and histograms of
the four weights and biases, merged with ``merge_all``. The baseline step is
``sess.run(train_op, feed)``; the logging step is ``sess.run([merged, train_op], feed)`` followed by
``writer.add_summary(summary, step)`` into a ``FileWriter`` in a temporary directory (the event
file writer queues records and writes them from its own thread). Both run in one process on one
session, taking turns round by round, with BLAS limited to one thread. It prints the median time
per step of each, the ratio (target <= 2.50), and where the extra time goes: the scalars alone,
the histograms alone (W1 alone has 200,704 values to bucket), and the event-file write.

Run:  python benchmarks/summaries.py   (needs pip install -e ".[bench,tensorboard]")
Options: --repeat R (timed rounds, default 15), --number K (steps per round, default 10),
--threads T (BLAS threads, default 1).
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from common import blas_threads, median_seconds, target_line

import flowgraph.compat.v1 as tf
from flowgraph.ops import summary_proto

N, D_IN, D_HID, D_OUT = 100, 784, 256, 10


def build():
    """The seed model with its summaries: (session, feed, train_op, {name: summary op})."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, D_IN])
        y = tf.placeholder(tf.float32, [None, D_OUT])
        W1 = tf.Variable(tf.random_normal([D_IN, D_HID], seed=1))
        b1 = tf.Variable(tf.zeros([D_HID]))
        h1 = tf.nn.relu(tf.matmul(x, W1) + b1)
        W2 = tf.Variable(tf.random_normal([D_HID, D_OUT], seed=2))
        b2 = tf.Variable(tf.zeros([D_OUT]))
        logits = tf.matmul(h1, W2) + b2
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train_op = tf.train.AdamOptimizer(0.001).minimize(loss)
        correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        scalars = [tf.summary.scalar("loss", loss), tf.summary.scalar("accuracy", accuracy)]
        histograms = [
            tf.summary.histogram(tag, v)
            for tag, v in zip(["W1", "b1", "W2", "b2"], [W1, b1, W2, b2])
        ]
        ops = {
            "all": tf.summary.merge_all(),
            "scalars": tf.summary.merge(scalars),
            "histograms": tf.summary.merge(histograms),
        }
        sess = tf.Session(graph=graph)
        sess.run(tf.global_variables_initializer())
    rng = np.random.default_rng(0)
    batch_y = np.eye(D_OUT, dtype=np.float32)[rng.integers(0, D_OUT, N)]
    feed = {x: rng.random((N, D_IN), dtype=np.float32), y: batch_y}
    return sess, feed, train_op, ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--number", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with blas_threads(args.threads), tempfile.TemporaryDirectory() as logdir:
        sess, feed, train_op, ops = build()
        writer = tf.summary.FileWriter(logdir, sess.graph)
        step = [0]

        def plain():
            sess.run(train_op, feed)

        def logging(key="all", write=True):
            summary, _ = sess.run([ops[key], train_op], feed)
            if write:
                writer.add_summary(summary, step[0])
                step[0] += 1

        first, _ = sess.run([ops["all"], train_op], feed)  # check: every tag is there
        tags = sorted(v.tag for v in summary_proto.parse(first).value)
        assert tags == ["W1", "W2", "accuracy", "b1", "b2", "loss"], tags
        times = median_seconds(
            {
                "plain": plain,
                "all": logging,
                "scalars": lambda: logging("scalars", write=False),
                "histograms": lambda: logging("histograms", write=False),
                "all, not written": lambda: logging("all", write=False),
            },
            repeat=args.repeat,
            number=args.number,
        )
        writer.close()
    base = times["plain"]
    overhead = times["all"] - base

    def row(label: str, seconds: float) -> None:
        print(f"{label:<40}{seconds * 1e3:8.3f} ms")

    row("plain training step", base)
    row("step + all summaries + add_summary", times["all"])
    row("  of which scalars (loss, accuracy)", times["scalars"] - base)
    row("  of which 4 histograms", times["histograms"] - base)
    row("  of which writing the event", times["all"] - times["all, not written"])
    print(f"every 50 steps (examples/mnist_tf1.py --logdir): {1 + overhead / base / 50:.3f}x")
    print(target_line("summaries every step / plain step", times["all"] / base, 2.50))


if __name__ == "__main__":
    main()
