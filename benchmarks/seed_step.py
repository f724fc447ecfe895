"""The seed MLP's training step (784-256-10, batch 100, Adam, float32) against expert NumPy.

flowgraph runs the seed program's graph (``matmul``, ``relu``,
``softmax_cross_entropy_with_logits_v2``, ``reduce_mean``, ``AdamOptimizer(0.001).minimize``)
with one ``Session.run(train_op, feed_dict=...)`` per step. The baseline is the same step
written by hand the way a NumPy expert would (:class:`NumpyStep`): parameters as views of one
flat buffer, every buffer preallocated, GEMMs on transposed views with ``out=``, the softmax
gradient taken from the forward pass, and TF1's Adam as one in-place ufunc per stage over the
flat buffer (it also computes the per-example loss, as the graph does). The baseline runs with
flush-to-zero set too, as flowgraph's runs do: the comparison is of the work, not of denormal
arithmetic (see ``denormals.py`` for that). Both start from the same weights and run in the
same process, taking turns round by round, with BLAS limited to one thread; the script checks
that they end with the same weights, then prints the median time per step of each and the
ratio flowgraph / NumPy (target <= 1.00).

Run:  python benchmarks/seed_step.py   (needs threadpoolctl: pip install -e ".[bench]")
Options: --repeat R (timed rounds, default 30), --number K (steps per round, default 20),
--level O0|O1 (flowgraph's optimization level, default O1), --threads T (BLAS threads,
default 1).
"""

from __future__ import annotations

import argparse

import numpy as np
from common import blas_threads, median_seconds, target_line

import flowgraph as fg
from flowgraph.runtime import fpenv

N, D_IN, D_HID, D_OUT = 100, 784, 256, 10
LR, BETA1, BETA2, EPS = 0.001, 0.9, 0.999, 1e-8


def build_flowgraph(level: str):
    """The seed program's model and training step: returns (session, x, y, train_op, vars)."""
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float32, [None, D_IN])
        y = fg.placeholder(fg.float32, [None, D_OUT])
        W1 = fg.Variable(fg.random_normal([D_IN, D_HID], seed=1))
        b1 = fg.Variable(fg.zeros([D_HID]))
        h1 = fg.nn.relu(fg.matmul(x, W1) + b1)
        W2 = fg.Variable(fg.random_normal([D_HID, D_OUT], seed=2))
        b2 = fg.Variable(fg.zeros([D_OUT]))
        logits = fg.matmul(h1, W2) + b2
        loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train_op = fg.train.AdamOptimizer(LR).minimize(loss)
        sess = fg.Session(graph=graph, level=level)
        sess.run(fg.global_variables_initializer())
    return sess, x, y, train_op, [W1, b1, W2, b2]


class NumpyStep:
    """The same step as a NumPy expert writes it: every parameter a view of one flat float32
    buffer (and every gradient a view of another), all buffers preallocated, GEMMs on
    transposed views with ``out=``, and TF1's Adam as one in-place ufunc per stage over the
    whole flat buffer (12 ufunc calls per step, whatever the number of variables)."""

    def __init__(self, params):
        f32 = np.float32
        sizes = [int(np.prod(np.shape(p))) for p in params]
        self.flat = np.concatenate([np.ravel(p) for p in params]).astype(f32)
        self.grad = np.empty_like(self.flat)
        self.params = _views(self.flat, params, sizes)  # W1, b1, W2, b2
        self.grads = _views(self.grad, params, sizes)
        self.m, self.v = np.zeros_like(self.flat), np.zeros_like(self.flat)
        self.work = np.empty_like(self.flat)
        self.h = np.empty((N, D_HID), f32)
        self.mask = np.empty((N, D_HID), bool)
        self.z = np.empty((N, D_OUT), f32)
        self.dh = np.empty((N, D_HID), f32)
        self.row = np.empty((N, 1), f32)
        self.loss = np.empty((N,), f32)
        self.beta1_power, self.beta2_power = f32(BETA1), f32(BETA2)

    def step(self, x, y) -> None:
        W1, b1, W2, b2 = self.params
        dW1, db1, dW2, db2 = self.grads
        h, z, dh, row = self.h, self.z, self.dh, self.row
        # forward: h = relu(x W1 + b1); z = h W2 + b2
        np.matmul(x, W1, out=h)
        h += b1
        np.maximum(h, 0, out=h)
        np.matmul(h, W2, out=z)
        z += b2
        # softmax cross-entropy, stable: loss = logsumexp(z) - sum(y z); dz = softmax(z) - y
        np.max(z, axis=1, keepdims=True, out=row)
        z -= row
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=row)
        z /= row
        np.log(row, out=row)  # the per-example loss, as the graph computes it
        np.subtract(row[:, 0], np.einsum("ij,ij->i", y, z), out=self.loss)
        z -= y
        z *= np.float32(1.0 / len(x))  # d mean / d loss_i
        # backward, GEMMs on transposed views
        np.matmul(h.T, z, out=dW2)
        np.sum(z, axis=0, out=db2)
        np.matmul(z, W2.T, out=dh)
        np.greater(h, 0, out=self.mask)
        dh *= self.mask
        np.matmul(x.T, dh, out=dW1)
        np.sum(dh, axis=0, out=db1)
        # Adam (TF1) over the flat buffer: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);
        # m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr_t m / (sqrt(v) + eps)
        g, m, v, s = self.grad, self.m, self.v, self.work
        lr_t = np.float32(LR * np.sqrt(1 - self.beta2_power) / (1 - self.beta1_power))
        m *= np.float32(BETA1)
        np.multiply(g, np.float32(1 - BETA1), out=s)
        m += s
        v *= np.float32(BETA2)
        np.multiply(g, g, out=s)
        s *= np.float32(1 - BETA2)
        v += s
        np.sqrt(v, out=s)
        s += np.float32(EPS)
        np.divide(m, s, out=s)
        s *= lr_t
        self.flat -= s
        self.beta1_power *= np.float32(BETA1)
        self.beta2_power *= np.float32(BETA2)


def _views(flat, shapes_of, sizes) -> list:
    out, offset = [], 0
    for like, size in zip(shapes_of, sizes):
        out.append(flat[offset : offset + size].reshape(np.shape(like)))
        offset += size
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed rounds (median is kept)")
    parser.add_argument("--number", type=int, default=20, help="steps per round")
    parser.add_argument("--level", default="O1", help="flowgraph optimization level (O0, O1)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)

    with blas_threads(args.threads):
        rng = np.random.default_rng(0)
        x_value = rng.random((N, D_IN), dtype=np.float32)
        y_value = np.eye(D_OUT, dtype=np.float32)[rng.integers(0, D_OUT, N)]

        sess, x, y, train_op, variables = build_flowgraph(args.level)
        hand = NumpyStep(sess.run(variables))
        feed = {x: x_value, y: y_value}

        def fg_step():
            sess.run(train_op, feed_dict=feed)

        def np_step():
            with fpenv.flushing():
                hand.step(x_value, y_value)

        for _ in range(5):  # compiles the plan and warms caches; checked just below
            fg_step()
            np_step()
        for got, want in zip(sess.run(variables), hand.params):
            np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-6)
        compiled = sess.compile_count
        best = median_seconds({"fg": fg_step, "np": np_step}, args.repeat, args.number)
        assert sess.compile_count == compiled, "the step's plan should be compiled once and reused"
        sess.close()

    fg_s, np_s = best["fg"], best["np"]
    print(
        f"seed MLP step {D_IN}-{D_HID}-{D_OUT}, batch {N}, Adam, float32; median of "
        f"{args.repeat} rounds x {args.number} steps; optimization level {args.level}"
    )
    print("weights agree after 5 steps (assert_allclose, rtol=2e-4)")
    print()
    print(f"{'flowgraph Session.run':<40}{fg_s * 1e3:>9.3f} ms")
    print(f"{'hand-written NumPy':<40}{np_s * 1e3:>9.3f} ms")
    print(target_line("ratio flowgraph / NumPy step", fg_s / np_s, 1.00))


if __name__ == "__main__":
    main()
