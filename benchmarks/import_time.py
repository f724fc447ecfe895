"""How long ``import flowgraph`` takes in a fresh interpreter, against ``import numpy`` alone.

Each import runs in its own new Python process (``python -X importtime`` is not used: it slows
the import itself); the processes alternate, and the medians of the in-process import times
are printed, CPU time (the figure: on a shared machine wall time adds the wait for a core) and
wall time. Target: ``import flowgraph`` <= 0.2 s
(NumPy, which it needs, is about 0.09 s of that on the reference machine).

BLAS is pinned to one thread in the child processes, as in every benchmark here: importing
NumPy starts OpenBLAS's thread pool, and with its default of one thread per core those threads
spend ~0.1 s of CPU starting up (on 2 cores: 0.27 s CPU against 0.17 s wall for
``import flowgraph``, 0.08 s against 0.04 s for NumPy alone) — NumPy's cost, not flowgraph's,
and not seen in wall time. ``--default-threads`` measures with the environment as it is.

Run:  python benchmarks/import_time.py      Options: --repeat
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from common import load_average, target_line

# CPU time of the import (on a shared machine, wall time adds the wait for a core), and wall
TIMED = (
    "import time; c, t = time.process_time(), time.perf_counter(); import {module}; "
    "print(time.process_time() - c, time.perf_counter() - t)"
)


ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def import_seconds(module: str, env: dict) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", TIMED.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    cpu, wall = out.stdout.split()[-2:]
    return float(cpu), float(wall)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="processes per module")
    parser.add_argument(
        "--default-threads", action="store_true", help="leave the BLAS thread settings as they are"
    )
    args = parser.parse_args(argv)
    env = dict(os.environ) if args.default_threads else {**os.environ, **ONE_THREAD}
    times: dict[str, list] = {"numpy": [], "flowgraph": [], "flowgraph.compat.v1": []}
    for _ in range(args.repeat):
        for module in times:
            times[module].append(import_seconds(module, env))
    cpu = {m: statistics.median(c for c, _ in t) for m, t in times.items()}
    wall = {m: statistics.median(w for _, w in t) for m, t in times.items()}
    threads = (
        "as set in the environment" if args.default_threads else "1 (OPENBLAS/OMP/MKL_NUM_THREADS)"
    )
    print(f"median of {args.repeat} fresh processes each, load average {load_average():.2f}")
    print(f"BLAS threads in the child processes: {threads}")
    for module in times:
        print(f"{'import ' + module:<40}{cpu[module]:>9.3f} s CPU {wall[module]:>9.3f} s wall")
    print(target_line("import flowgraph, CPU seconds", cpu["flowgraph"], 0.20))


if __name__ == "__main__":
    main()
