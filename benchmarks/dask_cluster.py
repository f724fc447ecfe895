"""What distribution on Dask costs: per-run overhead and the seed MLP step, data-parallel.

Compares, on a loopback ``LocalCluster`` (2 worker processes, 1 thread each, 127.0.0.1):

1. per-run overhead: a tiny graph (a few scalar ops, one placed per worker) run by a
   ``DistributedSession`` vs an in-process ``Session``;
2. the seed MLP training step (784-256-10, Adam, batch 100): data-parallel over 2 workers
   (2 towers of 50 examples, parameters and Adam on the ps device = worker 0) vs the same
   step in one process.

Times are medians of interleaved rounds, printed as ratios (distributed / in-process). Not
part of pytest. Needs the ``distributed`` extra.

Run:  python benchmarks/dask_cluster.py [--rounds R] [--steps K]

When does distribution pay? Every run costs at least one scheduler round trip per segment
(a few ms on a loopback cluster, more across machines), and each step's parameters and
activations are pickled between processes. It pays when one step's compute per worker is
much larger than that (large batches or layers: tens of ms of kernels per tower and up), when
the model or its data does not fit one machine's memory, or when the workers are separate
machines with their own cores; it does not pay for a small MLP on one small machine, as the
figures below show.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

# The seed MLP used here is the one the distributed tests train (tests/distributed/mlp.py).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "tests", "distributed"))

import dask  # noqa: E402
from mlp import build_data_parallel, build_single  # noqa: E402

import flowgraph as fg  # noqa: E402
from flowgraph.distributed import DistributedSession, local_cluster  # noqa: E402


def _median(fn, rounds, number) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def overhead(client, rounds: int, number: int) -> tuple:
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float32, [], name="x")
        with fg.device("/job:worker/task:1"):
            y = fg.tanh(x * 2.0)
        with fg.device("/job:worker/task:0"):
            z = y + 1.0
    local = fg.Session(graph=graph)
    dist = DistributedSession(client, graph=graph)
    assert np.isclose(local.run(z, {x: 0.5}), dist.run(z, {x: 0.5}))
    t_local, t_dist = [], []
    for _ in range(rounds):  # interleaved rounds
        t_local.append(_median(lambda: local.run(z, {x: 0.5}), 1, number))
        t_dist.append(_median(lambda: dist.run(z, {x: 0.5}), 1, number))
    dist.close()
    return statistics.median(t_local), statistics.median(t_dist)


def mlp_step(client, rounds: int, steps: int) -> tuple:
    rng = np.random.default_rng(0)
    bx = rng.random((100, 784), dtype=np.float32)
    by = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 100)]
    graph, x, y, train_op, _, init = build_single()
    local = fg.Session(graph=graph)
    local.run(init)
    graph2, dp, _, _, _, init2 = build_data_parallel(2)
    dist = DistributedSession(client, graph=graph2)
    dist.run(init2)
    feeds = dp.feed_dict(bx, by)
    dist.run(dp.train_op, feeds)  # compile, warm up
    t_local, t_dist = [], []
    for _ in range(rounds):
        t_local.append(_median(lambda: local.run(train_op, {x: bx, y: by}), 1, steps))
        t_dist.append(_median(lambda: dist.run(dp.train_op, feeds), 1, steps))
    segments = len(dist._plan_for((dp.train_op,), feeds).segments)
    dist.close()
    return statistics.median(t_local), statistics.median(t_dist), segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(
        f"flowgraph {fg.__version__}, NumPy {np.__version__}, dask {dask.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    client, cluster = local_cluster(2)
    try:
        local, dist = overhead(client, args.rounds, args.steps)
        print(
            f"per-run overhead, 3-op graph on 2 workers: in-process {local * 1e6:.0f} us, "
            f"Dask {dist * 1e3:.2f} ms  ->  ratio {dist / local:.0f}x"
        )
        local, dist, segments = mlp_step(client, args.rounds, args.steps)
        print(
            f"seed MLP step (batch 100): 1 process {local * 1e3:.2f} ms, 2 workers "
            f"data-parallel {dist * 1e3:.2f} ms ({segments} tasks/step)  ->  ratio "
            f"{dist / local:.1f}x (>1: distribution is slower here)"
        )
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
