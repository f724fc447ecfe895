"""Does training slow down when Adam's moments become denormal? The seed step over 3,000 steps.

The seed program (784-256-10 MLP, Adam 0.001, batch 100 of the bundled MNIST sample) trained
twice in one process, taking turns block by block: with flowgraph's default (flush-to-zero and
denormals-are-zero while a run computes, as TF does) and with
``ConfigProto(flush_denormals=False)`` (IEEE denormals, what plain NumPy and PyTorch do). It
prints the mean step time (CPU time of this process, so that on a shared machine the wait for
a core is left out) of every 200-step block. Without flushing, steps slow down severalfold
after some hundreds of steps (Adam's second moments of rarely-lit pixels decay into the denormal
range); with it the time stays flat. Target: the slowest 200-step block of the default run
within 1.25x of its fastest.

Run:  python benchmarks/denormals.py      Options: --steps, --block
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import blas_threads, load_average, target_line
from seed_step import build_flowgraph

import flowgraph as fg
from flowgraph.datasets.mnist import read_data_sets
from flowgraph.runtime import fpenv


def session(flush: bool):
    sess, x, y, train_op, _ = build_flowgraph("O1")
    sess.flush_denormals = flush  # what ConfigProto(flush_denormals=...) sets
    return sess, x, y, train_op


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="training steps (default 3000)")
    parser.add_argument("--block", type=int, default=200, help="steps per timed block")
    args = parser.parse_args(argv)
    if not fpenv.supported():
        print("flush-to-zero is not supported on this platform: nothing to compare")
        return
    mnist = read_data_sets(None, one_hot=True)
    runs = {"flush (default)": session(True), "IEEE denormals": session(False)}
    rngs = {name: np.random.default_rng(0) for name in runs}
    blocks: dict[str, list[float]] = {name: [] for name in runs}
    images, labels = mnist.train.images, mnist.train.labels
    with blas_threads(1):
        for _ in range(args.steps // args.block):
            for name, (sess, x, y, train_op) in runs.items():
                batches = rngs[name].integers(0, len(images), (args.block, 100))
                start = time.process_time()  # CPU time: waiting for a core is left out
                for index in batches:
                    sess.run(train_op, feed_dict={x: images[index], y: labels[index]})
                blocks[name].append((time.process_time() - start) / args.block)
    print(f"mean step CPU time (ms) per {args.block}-step block, {args.steps} steps")
    print(f"{'steps':>12}" + "".join(f"{name:>18}" for name in runs))
    for i in range(len(blocks["flush (default)"])):
        row = "".join(f"{blocks[name][i] * 1e3:>18.3f}" for name in runs)
        print(f"{i * args.block:>5}-{(i + 1) * args.block - 1:<6}{row}")
    for name, times in blocks.items():
        print(f"{name}: slowest block / fastest = {max(times) / min(times):.2f}")
    print(f"(load average {load_average():.2f}; a busy machine adds noise to single blocks)")
    flat = blocks["flush (default)"]
    print(target_line("denormals: slowest / fastest block", max(flat) / min(flat), 1.25))
    fg.reset_default_graph()


if __name__ == "__main__":
    main()
