"""Build + gradients + compile + first run of 1k / 10k / 100k-op chain graphs: linear or not.

Each graph is the dispatch benchmark's chain (``y = tanh(y)`` and ``y = y + x`` alternating,
``x`` a fed float64 placeholder of shape [4]) with ``n`` ops, then ``gradients(sum(y), x)``.
Four phases are timed separately:

- build: creating the ``n`` forward ops (shape rules, names, creation sites);
- gradients: the symbolic backward graph (1.5 ops per forward op: ``tanh``'s gradient is
  ``g * (1 - y * y)``, its ``1`` one constant shared by all of them);
- compile: pruning, ordering, passes and code generation for fetching ``[y, dy/dx]``
  (``Session.make_callable`` compiles the plan the later ``run`` reuses), split into
  prune (pruning and ordering), IR (building the compiler's nodes), passes, codegen (writing
  the Python source, or for a plan over ``TABLE_THRESHOLD`` ops -- both sizes here -- building
  the table of ``compiler/table.py``) and CPython (``compile``/``exec`` of generated source:
  0 for a table). The cyclic garbage collector is paused while compiling, and the objects the
  compiler made go straight to its oldest generation after (``flowgraph/graph/bulk.py``);
- first run: the first ``Session.run`` of that plan.

Times are CPU seconds of this process (on a shared machine wall time adds the wait for a
core; on an idle one the two agree). A linear pipeline costs 10x more for 10x the ops; the
script prints each phase per size and the 100k / 10k ratio of each (target <= 11, i.e.
linear with some slack for cache effects), and the 100k total (target <= 5 s). TF1 needed
21 s for build + gradients at 10k ops, JAX 4.5 s.

Run:  python benchmarks/build_scaling.py   (needs threadpoolctl: pip install -e ".[bench]")
Options: --sizes 1000,10000,100000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np
from common import blas_threads, target_line

import flowgraph as fg

PHASES = ("build", "gradients", "compile", "first run")
COMPILE_PARTS = ("prune", "IR", "passes", "codegen", "CPython")
RATIO_SLACK, TOTAL_TARGET_S = 1.1, 5.0
_PARTS: dict[str, float] = {}


def _timed(module, name: str, part: str) -> None:
    """Wrap ``module.name`` so its time adds up under ``part`` (and is taken out of the part
    that calls it, for CPython's compile inside codegen)."""
    function = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.process_time() - start
            _PARTS[part] = _PARTS.get(part, 0.0) + spent
            if part == "CPython":
                _PARTS["codegen"] = _PARTS.get("codegen", 0.0) - spent

    setattr(module, name, wrapper)


def _instrument() -> None:
    from flowgraph.compiler import codegen, plan

    _timed(plan, "pruned_ops", "prune")
    _timed(plan, "build_ir", "IR")
    _timed(plan, "run_passes", "passes")
    _timed(plan, "_make_code", "codegen")  # generated source, or the table
    _timed(codegen, "compile_into", "CPython")


def measure(n_ops: int) -> dict[str, float]:
    """Seconds per phase for an ``n_ops``-op chain (and a check of the result)."""
    times = {}
    graph = fg.Graph()
    with graph.as_default():
        start = time.process_time()
        x = fg.placeholder(fg.float64, [4], name="x")
        y = x
        for i in range(n_ops):
            y = fg.tanh(y) if i % 2 == 0 else y + x
        times["build"] = time.process_time() - start

        start = time.process_time()
        (dx,) = fg.gradients(fg.reduce_sum(y), [x])
        times["gradients"] = time.process_time() - start
        graph_ops = len(graph.get_operations())

        sess = fg.Session(graph=graph)
        _PARTS.clear()
        start = time.process_time()
        sess.make_callable([y, dx], [x])
        times["compile"] = time.process_time() - start
        times.update((part, _PARTS.get(part, 0.0)) for part in COMPILE_PARTS)

        value = np.linspace(-1.0, 1.0, 4)
        start = time.process_time()
        y_value, dx_value = sess.run([y, dx], feed_dict={x: value})
        times["first run"] = time.process_time() - start
        assert sess.compile_count == 1, "make_callable's plan should serve the run"
        assert np.all(np.isfinite(y_value)) and np.all(np.isfinite(dx_value))
        sess.close()
    times["total"] = sum(times[p] for p in PHASES)
    times["ops"] = graph_ops
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="chain lengths")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    _instrument()

    with blas_threads(1):
        results = {}
        for n in sizes:
            # Small graphs take a fraction of a second: the median of 3 keeps a burst of load
            # on the machine from skewing the ratio. 100k ops run once (about 20 s).
            runs = []
            for _ in range(3 if n < 100_000 else 1):
                gc.collect()  # each measurement starts from a clean heap
                runs.append(measure(n))
            results[n] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}

    print()
    print("CPU seconds per phase: a tanh / add chain on float64[4], then its gradient")
    print("(median of 3 runs below 100k ops, one run at 100k)")
    header = f"{'forward ops':>12}{'graph ops':>11}" + "".join(f"{p:>11}" for p in PHASES)
    print(header + f"{'total':>11}")
    for n, t in results.items():
        row = f"{n:>12,}{int(t['ops']):>11,}" + "".join(f"{t[p]:>11.3f}" for p in PHASES)
        print(row + f"{t['total']:>11.3f}")
    print("compile, split:" + "".join(f"{p:>11}" for p in COMPILE_PARTS))
    for n, t in results.items():
        print(f"{n:>15,}" + "".join(f"{t[p]:>11.3f}" for p in COMPILE_PARTS))
    if len(sizes) >= 2:
        small_n, big_n = sizes[-2], sizes[-1]
        small, big = results[small_n], results[big_n]
        growth = big_n / small_n
        label = f"ratio {big_n // 1000}k / {small_n // 1000}k"
        print()
        for phase in PHASES + COMPILE_PARTS:
            if small[phase] > 0:
                print(f"{label + ', ' + phase:<40}{big[phase] / small[phase]:>9.2f}")
        # Linear, with 10% slack for cache effects: <= 11 for 10x the ops.
        limit = RATIO_SLACK * growth
        print(target_line(label + ", total", big["total"] / small["total"], limit))
    if 100_000 in results:
        print(target_line("100k-op total (s)", results[100_000]["total"], TOTAL_TARGET_S))


if __name__ == "__main__":
    main()
