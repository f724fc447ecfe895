"""The whole seed program as a user runs it, against a bare-NumPy process doing the same work.

Process start, imports, data loading, 10,000 training steps of batch 100, the accuracy prints
and the test evaluation: ``examples/mnist_tf1.py --graph-picture ''`` (the TF1 seed program on
flowgraph, without the closing drawing) against ``benchmarks/programs/seed_numpy.py`` (the same
program in bare NumPy, expert step, nothing from flowgraph). The two processes alternate
(``--repeat`` each, default 2, medians), both with ``OPENBLAS_NUM_THREADS=1`` /
``OMP_NUM_THREADS=1`` so the bare process gets the thread setting flowgraph applies itself.
Wall time is the figure (target <= 2.0x); CPU time (user + sys) is printed too, since it moves
less with the load.

Run:  python benchmarks/whole_program.py      Options: --repeat, --steps
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import load_average, target_line

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = {
    "flowgraph (examples/mnist_tf1.py)": ["examples/mnist_tf1.py", "--graph-picture", ""],
    "bare NumPy (programs/seed_numpy.py)": ["benchmarks/programs/seed_numpy.py"],
}


def run(args: list[str], steps: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *args, "--steps", str(steps)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="processes per program")
    parser.add_argument("--steps", type=int, default=10000, help="training steps")
    args = parser.parse_args(argv)
    walls: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    cpus: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    for _ in range(args.repeat):
        for name, program in PROGRAMS.items():
            wall, cpu = run(program, args.steps)
            walls[name].append(wall)
            cpus[name].append(cpu)
    wall = {n: statistics.median(t) for n, t in walls.items()}
    cpu = {n: statistics.median(t) for n, t in cpus.items()}
    print(f"{args.steps} steps, median of {args.repeat} processes each")
    for name in PROGRAMS:
        print(f"{name:<40}{wall[name]:>8.2f} s wall {cpu[name]:>8.2f} s CPU")
    fg_name, np_name = PROGRAMS
    print(f"{'CPU-time ratio flowgraph / NumPy':<40}{cpu[fg_name] / cpu[np_name]:>8.2f}")
    print(f"(load average {load_average():.2f})")
    print(target_line("whole program, wall ratio", wall[fg_name] / wall[np_name], 2.0))


if __name__ == "__main__":
    main()
