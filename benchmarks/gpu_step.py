"""The seed MLP's training step on CuPy (GPU) against NumPy (CPU), at batch 100 and 8,192.

Both sessions run the seed program's graph (784-256-10, ReLU, softmax cross-entropy, Adam,
float32) from the same initial weights, one ``Session.run(train_op, feed_dict=...)`` per step;
the fed batch is a NumPy array, so each CuPy step also copies it to the GPU, as a TF1 program
feeding from the host does. Before timing, the script checks that both sessions hold the same
weights after a few steps. CuPy runs asynchronously: each timed round ends with a device
synchronize, so the times are of finished work. Prints per batch size the median time per step
on each backend and the speed-up (NumPy time / CuPy time).

BLAS uses every core by default (the fair baseline for a GPU); --threads limits it.

Run:  python benchmarks/gpu_step.py                   (on a machine with an NVIDIA GPU)
      python benchmarks/gpu_step.py --backends numpy  (the NumPy half alone, anywhere)
Options: --batches 100,8192, --repeat R (rounds, default 7), --number K (steps per round,
default 5), --threads T.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from common import blas_threads, median_seconds

import flowgraph as fg
from flowgraph.backends import BackendUnavailableError, get_backend

D_IN, D_HID, D_OUT = 784, 256, 10


def build(backend: str):
    """The seed model in a Session on ``backend``: (session, x, y, train_op, variables)."""
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float32, [None, D_IN])
        y = fg.placeholder(fg.float32, [None, D_OUT])
        W1 = fg.Variable(fg.random_normal([D_IN, D_HID], stddev=0.05, seed=1))
        b1 = fg.Variable(fg.zeros([D_HID]))
        h1 = fg.nn.relu(fg.matmul(x, W1) + b1)
        W2 = fg.Variable(fg.random_normal([D_HID, D_OUT], stddev=0.05, seed=2))
        b2 = fg.Variable(fg.zeros([D_OUT]))
        logits = fg.matmul(h1, W2) + b2
        loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train_op = fg.train.AdamOptimizer(0.001).minimize(loss)
        sess = fg.Session(graph=graph, backend=backend)
        sess.run(fg.global_variables_initializer())
    return sess, x, y, train_op, [W1, b1, W2, b2]


def synchronizer(backend: str):
    """A function that waits for the backend's queued work (nothing to wait for on a CPU)."""
    if backend != "cupy":
        return lambda: None
    import cupy

    return cupy.cuda.get_current_stream().synchronize


def time_batch(batch: int, backends: list[str], repeat: int, number: int) -> dict[str, float]:
    rng = np.random.default_rng(batch)
    x_value = rng.random((batch, D_IN), dtype=np.float32)
    y_value = np.eye(D_OUT, dtype=np.float32)[rng.integers(0, D_OUT, batch)]
    steps, weights = {}, {}
    for name in backends:
        sess, x, y, train_op, variables = build(name)
        feed = {x: x_value, y: y_value}
        sync = synchronizer(name)
        for _ in range(3):  # compiles the plan, warms CuPy's kernel cache
            sess.run(train_op, feed)
        weights[name] = sess.run(variables)

        def step(sess=sess, train_op=train_op, feed=feed, sync=sync):
            for _ in range(number):
                sess.run(train_op, feed)
            sync()

        steps[name] = step
    for name in backends[1:]:
        for got, want in zip(weights[name], weights[backends[0]]):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
    best = median_seconds(steps, repeat, 1)
    return {name: seconds / number for name, seconds in best.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="100,8192", help="batch sizes (comma-separated)")
    parser.add_argument("--backends", default="numpy,cupy", help="backends to time")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds (median is kept)")
    parser.add_argument("--number", type=int, default=5, help="steps per round")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS threads")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "cupy" in backends:
        try:
            print(f"CuPy backend: {get_backend('cupy')!r}")
        except BackendUnavailableError as e:
            print(f"gpu_step: {e}", file=sys.stderr)
            print("gpu_step: no GPU here; run with --backends numpy for the CPU half.")
            return 2
    batches = [int(b) for b in args.batches.split(",")]
    with blas_threads(args.threads):
        print(
            f"seed MLP step {D_IN}-{D_HID}-{D_OUT}, Adam, float32, feeds from the host; median "
            f"of {args.repeat} rounds x {args.number} steps"
        )
        if len(backends) > 1:
            print(f"weights agree after 3 steps on {' and '.join(backends)} (rtol 1e-3)")
        print()
        widths = {b: max(18, len(b) + 11) for b in backends}
        header = f"{'batch':>7}" + "".join(f"{b + ' ms/step':>{widths[b]}}" for b in backends)
        print(header + (f"{'speed-up':>12}" if "cupy" in backends and len(backends) > 1 else ""))
        for batch in batches:
            times = time_batch(batch, backends, args.repeat, args.number)
            row = f"{batch:>7}" + "".join(f"{times[b] * 1e3:>{widths[b]}.3f}" for b in backends)
            if "cupy" in times and "numpy" in times:
                row += f"{times['numpy'] / times['cupy']:>11.1f}x"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
