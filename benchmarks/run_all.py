"""Run every benchmark with one command and print a summary of the figures against targets.

Each benchmark runs as its own process (a fresh heap for the memory figures, its own BLAS
setting), its output shown as it goes; every line of the form
``<label> <value> (target <= <limit>)`` is collected into the closing table. The compared
implementations inside one benchmark always run side by side in that one process.

Run:  python benchmarks/run_all.py            (about 1 minute on 2 cores)
      python benchmarks/run_all.py --quick    (fewer repeats: a smoke run, noisier figures)
      python benchmarks/run_all.py inference memory    (a selection)
Exit status 0 when every benchmark ran, whether or not the targets were met: the figures are
for reading, never a pass/fail.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script, extra arguments for --quick). seed_step.py runs when it is present.
BENCHMARKS = {
    "seed_step": ("seed_step.py", ["--repeat", "5", "--number", "10"]),
    "inference": ("inference.py", ["--repeat", "5", "--number", "2"]),
    "chain_overhead": ("chain_overhead.py", ["--repeat", "5", "--number", "50"]),
    "build_scaling": ("build_scaling.py", ["--sizes", "1000,10000"]),
    "memory": ("memory.py", []),
    "summaries": ("summaries.py", ["--repeat", "5", "--number", "5"]),
}

TARGET_LINE = re.compile(
    r"^(?P<label>\S.*?)\s+(?P<value>\d+(?:\.\d+)?)\s+\(target <= (?P<limit>[\d.]+)\)"
)


def run_one(name: str, script: Path, extra: list[str]) -> tuple[list[tuple], float, int]:
    """Run one benchmark script, echoing its output; ``(targets, seconds, exit status)``."""
    print(f"\n=== {name}: {script.name} {' '.join(extra)}".rstrip(), flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script), *extra],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    targets = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print("  " + line, end="", flush=True)
        match = TARGET_LINE.match(line.strip())
        if match:
            targets.append((match["label"], float(match["value"]), float(match["limit"])))
    status = proc.wait()
    return targets, time.perf_counter() - start, status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {list(BENCHMARKS)})"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")

    rows, failed = [], []
    for name in args.names or list(BENCHMARKS):
        script_name, quick = BENCHMARKS[name]
        script = HERE / script_name
        if not script.exists():
            print(f"\n=== {name}: {script_name} not found, skipped")
            continue
        targets, seconds, status = run_one(name, script, quick if args.quick else [])
        if status != 0:
            failed.append(name)
        rows += [(name, label, value, limit) for label, value, limit in targets]
        if status == 0 and not targets:
            rows.append((name, "(no target line printed)", float("nan"), float("nan")))
        print(f"  [{name}: {seconds:.1f} s, exit status {status}]")

    print("\nSummary (medians; ratios are flowgraph / baseline, same process)")
    width = max([len(f"{n}: {label}") for n, label, _, _ in rows] + [20])
    print(f"{'figure':<{width}}  {'value':>8}  {'target':>8}  verdict")
    for name, label, value, limit in rows:
        verdict = "-" if value != value else "met" if value <= limit else "MISSED"
        figure, bound = f"{name}: {label}", f"<= {limit:.2f}"
        print(f"{figure:<{width}}  {value:>8.3f}  {bound:>8}  {verdict}")
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
