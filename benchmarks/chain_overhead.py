"""Per-op overhead of Session.run on a long chain of tiny ops, against plain NumPy.

The graph alternates ``y = tanh(y)`` and ``y = y + x`` (``x`` a fed float64 placeholder of
shape [4]), so every op depends on the one before and on a fed value: nothing can be folded,
merged or pruned away. On arrays this small the kernels cost little, so the time per op is
mostly the engine's own overhead. The baseline runs the same NumPy calls in a Python loop, in
the same process, with BLAS limited to one thread for both.

Run:  python benchmarks/chain_overhead.py   (needs threadpoolctl: pip install -e ".[bench]")
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import blas_threads, median_seconds, target_line

import flowgraph as fg

TARGET = 1.0  # TF1's C++ executor: ~1 us/op here; a plain NumPy loop: ~1.6 us/op


def build_graph(n_ops: int):
    """The chain as a flowgraph graph: returns (graph, x, y)."""
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float64, [4], name="x")
        y = x
        for i in range(n_ops):
            y = fg.tanh(y) if i % 2 == 0 else y + x
    return graph, x, y


def numpy_chain(x: np.ndarray, n_ops: int) -> np.ndarray:
    """The same computation as a plain NumPy loop (two ops per iteration)."""
    y = x
    for _ in range(n_ops // 2):
        y = np.tanh(y)
        y = y + x
    if n_ops % 2:
        y = np.tanh(y)
    return y


def numpy_unrolled(n_ops: int):
    """The same computation as straight-line NumPy code with no loop at all: the floor."""
    lines = ["def chain(x):", "    y = x"]
    lines += ["    y = np.tanh(y)" if i % 2 == 0 else "    y = y + x" for i in range(n_ops)]
    lines.append("    return y")
    namespace = {"np": np}
    exec("\n".join(lines), namespace)
    return namespace["chain"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="ops in the chain (default 1000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (median is kept)")
    parser.add_argument("--number", type=int, default=100, help="runs per round")
    args = parser.parse_args(argv)
    n = args.ops

    with blas_threads(1):
        x_value = np.random.default_rng(0).standard_normal(4)

        start = time.perf_counter()
        graph, x, y = build_graph(n)
        build_s = time.perf_counter() - start

        with fg.Session(graph=graph) as sess:
            start = time.perf_counter()
            got = sess.run(y, feed_dict={x: x_value})  # compiles the plan, then runs it
            first_run_s = time.perf_counter() - start
            unrolled = numpy_unrolled(n)
            np.testing.assert_allclose(got, numpy_chain(x_value, n), rtol=1e-12, atol=0)
            np.testing.assert_allclose(got, unrolled(x_value), rtol=1e-12, atol=0)

            def run_flowgraph():
                sess.run(y, feed_dict={x: x_value})

            def run_numpy():
                numpy_chain(x_value, n)

            medians = median_seconds(
                {"fg": run_flowgraph, "loop": run_numpy, "flat": lambda: unrolled(x_value)},
                args.repeat,
                args.number,
            )
            fg_s, np_s, flat_s = medians["fg"], medians["loop"], medians["flat"]
            assert sess.compile_count == 1, "the plan should be compiled once and reused"

    def row(label: str, seconds: float) -> str:
        return f"{label:<34}{seconds * 1e6:>9.1f} us{seconds / n * 1e6:>9.3f} us"

    print(
        f"{n} chained ops (tanh, add on float64[4]); median of {args.repeat} rounds x "
        f"{args.number} runs"
    )
    print("results agree (assert_allclose, rtol=1e-12)")
    print()
    print(f"{'':<34}{'per run':>12}{'per op':>12}")
    print(row("flowgraph Session.run", fg_s))
    print(row("NumPy loop", np_s))
    print(row("NumPy unrolled (no loop)", flat_s))
    print(f"{'ratio flowgraph / NumPy unrolled':<34}{fg_s / flat_s:>12.2f}")
    print(target_line("ratio flowgraph / NumPy loop", fg_s / np_s, TARGET, width=37))
    print(f"{'flowgraph, us per op':<37}{fg_s / n * 1e6:>9.3f}")
    print()
    print(f"graph build: {build_s * 1e3:.1f} ms; compile + first run: {first_run_s * 1e3:.1f} ms")
    print(target_line("fixed cost of one run (us)", fixed_cost(args.repeat) * 1e6, 7.8, width=37))


def fixed_cost(repeat: int) -> float:
    """Seconds of one ``Session.run`` of a one-op graph with one small feed: what every run
    pays besides its kernels (feed checks, plan lookup, flush-to-zero and BLAS-thread
    settings), in CPU time, so that waiting for a core on a shared machine is left out.
    Target: JAX jit's fixed cost on the reference machine (7.8 us; TF1: 204 us)."""
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float64, [4], name="x")
        y = fg.tanh(x)
    value = np.zeros(4)
    with fg.Session(graph=graph) as sess:
        sess.run(y, {x: value})
        run = {"run": lambda: sess.run(y, {x: value})}
        return median_seconds(run, repeat, 1000, time.process_time)["run"]  # CPU time


if __name__ == "__main__":
    main()
