"""Forward inference of the seed MLP (784-256-10, float32) at batch 10,000, against NumPy.

flowgraph runs the seed program's model, ``logits = relu(x @ W1 + b1) @ W2 + b2``, with one
``Session.run(logits, feed_dict={x: batch})``. The baseline is the same forward pass written
by hand in NumPy the careful way (the bias add and the relu done in place, so it allocates just
the two matmul outputs). Both use the same weights and batch, run in the same process, taking
turns, with the same BLAS thread limit; the script checks they agree, then prints the median
time of each and the ratio flowgraph / NumPy. At this batch size the two matmuls dominate, so
the ratio shows what the engine adds around large kernels: extra temporaries, copies of feeds
or results, memory traffic.

Run:  python benchmarks/inference.py   (needs threadpoolctl: pip install -e ".[bench]")
Options: --batch N (default 10000), --repeat R (timed rounds, default 15), --number K (runs per
round, default 3), --threads T (BLAS threads, default 1).
"""

from __future__ import annotations

import argparse

import numpy as np
from common import blas_threads, median_seconds, target_line

import flowgraph as fg

D_IN, D_HID, D_OUT = 784, 256, 10
TARGET = 0.97  # TF1 2.21 compat.v1's figure on the reference machine


def mlp_params(rng) -> list:
    """The 784-256-10 MLP's weights and biases, float32 (the same for every benchmark)."""
    return [
        rng.standard_normal((D_IN, D_HID), dtype=np.float32) * np.float32(0.05),
        rng.standard_normal(D_HID, dtype=np.float32) * np.float32(0.1),
        rng.standard_normal((D_HID, D_OUT), dtype=np.float32) * np.float32(0.1),
        rng.standard_normal(D_OUT, dtype=np.float32) * np.float32(0.1),
    ]


def build_flowgraph(params):
    """The seed model as a graph holding ``params``: returns (session, x, logits)."""
    w1, b1, w2, b2 = params
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float32, [None, D_IN], name="x")
        W1, B1 = fg.Variable(w1, name="W1"), fg.Variable(b1, name="b1")
        W2, B2 = fg.Variable(w2, name="W2"), fg.Variable(b2, name="b2")
        h1 = fg.nn.relu(fg.matmul(x, W1) + B1)
        logits = fg.matmul(h1, W2) + B2
        sess = fg.Session(graph=graph)
        sess.run(fg.global_variables_initializer())
    return sess, x, logits


def numpy_forward(x, params):
    """The same forward pass by hand: in-place bias and relu, two allocations in all."""
    w1, b1, w2, b2 = params
    h = x @ w1
    h += b1
    np.maximum(h, 0, out=h)
    z = h @ w2
    z += b2
    return z


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10_000, help="batch size (default 10000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (median is kept)")
    parser.add_argument("--number", type=int, default=3, help="runs per round")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)

    with blas_threads(args.threads):
        rng = np.random.default_rng(0)
        params = mlp_params(rng)
        batch = rng.random((args.batch, D_IN), dtype=np.float32)
        sess, x, logits = build_flowgraph(params)
        feed = {x: batch}

        got = sess.run(logits, feed_dict=feed)  # compiles the plan
        np.testing.assert_allclose(got, numpy_forward(batch, params), rtol=1e-4, atol=1e-4)
        compiled = sess.compile_count

        medians = median_seconds(
            {
                "fg": lambda: sess.run(logits, feed_dict=feed),
                "np": lambda: numpy_forward(batch, params),
            },
            args.repeat,
            args.number,
        )
        assert sess.compile_count == compiled, "the plan should be compiled once and reused"
        sess.close()

    fg_s, np_s = medians["fg"], medians["np"]
    print(
        f"seed MLP forward {D_IN}-{D_HID}-{D_OUT}, batch {args.batch}, float32; median of "
        f"{args.repeat} rounds x {args.number} runs"
    )
    print("results agree (assert_allclose, rtol=1e-4)")
    print()
    print(f"{'flowgraph Session.run':<40}{fg_s * 1e3:>9.2f} ms")
    print(f"{'hand-written NumPy':<40}{np_s * 1e3:>9.2f} ms")
    print(target_line("ratio flowgraph / NumPy", fg_s / np_s, TARGET))


if __name__ == "__main__":
    main()
