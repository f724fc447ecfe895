"""What every benchmark script shares: the BLAS thread limit, the header, interleaved medians,
and the target line that ``run_all.py`` collects.

A target line reads ``<label> <value> (target <= <limit>)``; run_all.py parses exactly that
shape, so a script reports a figure against a target by printing it with :func:`target_line`.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError as e:  # pragma: no cover - a message beats a bare ImportError here
    raise SystemExit('The benchmarks need threadpoolctl: pip install -e ".[bench]"') from e

import flowgraph as fg


@contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """Limit BLAS to ``threads`` threads for the block, and print the versions and setting."""
    with threadpool_limits(limits=threads, user_api="blas"):
        blas = [
            f"{p['internal_api']} {p.get('version') or ''}={p['num_threads']}".replace(" =", "=")
            for p in threadpool_info()
            if p["user_api"] == "blas"
        ]
        print(
            f"flowgraph {fg.__version__}, NumPy {np.__version__}, "
            f"Python {platform.python_version()}, {platform.machine()}"
        )
        print(f"BLAS threads (threadpoolctl): {', '.join(blas) or 'no BLAS library loaded'}")
        yield


def median_seconds(
    fns: dict[str, Callable], repeat: int, number: int, clock: Callable = time.perf_counter
) -> dict[str, float]:
    """The median over ``repeat`` rounds of the time per call (``number`` calls per round) of
    each function. The functions take turns within each round, so a burst of load on the
    machine hits all of them alike rather than whichever happened to be running.
    ``clock=time.process_time`` counts only this process's CPU time: on a machine shared with
    other busy processes it leaves out the time spent waiting for a core."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = clock()
            for _ in range(number):
                fn()
            times[name].append((clock() - start) / number)
    return {name: statistics.median(t) for name, t in times.items()}


def load_average() -> float:
    """The 1-minute load average (0 where the OS has none): printed next to every figure,
    since other processes on the machine move absolute times (ratios much less)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def target_line(label: str, value: float, limit: float, width: int = 40) -> str:
    """``label  value  (target <= limit) met|MISSED [load L]``, the line run_all.py collects."""
    verdict = "met" if value <= limit else "MISSED"
    return (
        f"{label:<{width}}{value:>9.3f}   (target <= {limit:.2f}) {verdict} "
        f"[load {load_average():.2f}]"
    )
