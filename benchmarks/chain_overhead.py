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
import platform
import time
import timeit

import numpy as np

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError as e:  # pragma: no cover - a message beats a bare ImportError here
    raise SystemExit('This benchmark needs threadpoolctl: pip install -e ".[bench]"') from e

import flowgraph as fg


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


def best_seconds(fns: dict, repeat: int, number: int) -> dict:
    """timeit-style: the best of ``repeat`` timings of ``number`` calls, per call, for each
    function. The functions take turns within each repeat, so a burst of load on the machine
    hits all of them alike rather than whichever happened to be running."""
    timers = {name: timeit.Timer(fn) for name, fn in fns.items()}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(number) / number)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="ops in the chain (default 1000)")
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (best is kept)")
    parser.add_argument("--number", type=int, default=200, help="runs per repeat")
    args = parser.parse_args(argv)
    n = args.ops

    with threadpool_limits(limits=1, user_api="blas"):
        blas = [
            f"{p['internal_api']}={p['num_threads']}"
            for p in threadpool_info()
            if p["user_api"] == "blas"
        ]
        print(
            f"flowgraph {fg.__version__}, NumPy {np.__version__}, "
            f"Python {platform.python_version()}, {platform.machine()}"
        )
        print(f"BLAS threads (threadpoolctl): {', '.join(blas) or 'no BLAS library loaded'}")

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

            best = best_seconds(
                {"fg": run_flowgraph, "loop": run_numpy, "flat": lambda: unrolled(x_value)},
                args.repeat,
                args.number,
            )
            fg_s, np_s, flat_s = best["fg"], best["loop"], best["flat"]
            assert sess.compile_count == 1, "the plan should be compiled once and reused"

    def row(label: str, seconds: float) -> str:
        return f"{label:<34}{seconds * 1e6:>9.1f} us{seconds / n * 1e6:>9.3f} us"

    print(f"{n} chained ops (tanh, add on float64[4]); best of {args.repeat} x {args.number} runs")
    print("results agree (assert_allclose, rtol=1e-12)")
    print()
    print(f"{'':<34}{'per run':>12}{'per op':>12}")
    print(row("flowgraph Session.run", fg_s))
    print(row("NumPy loop", np_s))
    print(row("NumPy unrolled (no loop)", flat_s))
    print(f"{'ratio flowgraph / NumPy loop':<34}{fg_s / np_s:>12.2f}")
    print(f"{'ratio flowgraph / NumPy unrolled':<34}{fg_s / flat_s:>12.2f}")
    print()
    print(f"graph build: {build_s * 1e3:.1f} ms; compile + first run: {first_run_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
