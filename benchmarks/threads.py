"""BLAS threads for small GEMMs: the seed step with 1 and 2 BLAS threads, as the machine is
and with a busy neighbour process, to justify flowgraph's default (one thread).

``Session(config=ConfigProto(intra_op_parallelism_threads=N))`` sets the BLAS threads around
each run (flowgraph/runtime/threads.py). Rounds alternate 1 and 2 threads in one process
(medians); then a second process spinning on one core (``while True: pass``) plays a neighbour
and the same is measured again. OpenBLAS threads spin-wait for each other, so when a core is
taken the 2-thread step collapses. The figure is the default's time over the best of the two
settings, worst case over both conditions (target <= 1.10: the default is never pathological).

Run:  python benchmarks/threads.py      Options: --repeat
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from common import load_average, target_line
from seed_step import D_IN, D_OUT, N, build_flowgraph

from flowgraph.runtime import threads


def measure(repeat: int) -> dict[int, float]:
    rng = np.random.default_rng(0)
    x_value = rng.random((N, D_IN), dtype=np.float32)
    y_value = np.eye(D_OUT, dtype=np.float32)[rng.integers(0, D_OUT, N)]
    sess, x, y, train_op, _ = build_flowgraph("O1")
    feed = {x: x_value, y: y_value}
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeat):
        for n in times:
            sess.intra_op_parallelism_threads = n  # what ConfigProto sets
            sess.run(train_op, feed)
            start = time.perf_counter()
            for _ in range(10):
                sess.run(train_op, feed)
            times[n].append((time.perf_counter() - start) / 10)
    return {n: statistics.median(t) for n, t in times.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds per setting")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; default BLAS threads: {threads.DEFAULT_INTRA_OP_THREADS}")
    worst = 0.0
    for condition in ("as the machine is", "with a busy neighbour"):
        neighbour = None
        if condition != "as the machine is":
            neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            t = measure(args.repeat)
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()
        default = t[threads.DEFAULT_INTRA_OP_THREADS]
        worst = max(worst, default / min(t.values()))
        print(
            f"{condition:<24} 1 thread {t[1] * 1e3:7.3f} ms   2 threads {t[2] * 1e3:7.3f} ms   "
            f"(load {load_average():.2f})"
        )
    print(target_line("threads: default / best setting", worst, 1.10))


if __name__ == "__main__":
    main()
