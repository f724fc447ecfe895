"""Run every benchmark with one command and print a summary of the figures against targets.

Each benchmark runs as its own process (a fresh heap for the memory figures, its own BLAS
setting), its output shown as it goes; every line of the form
``<label> <value> (target <= <limit>)`` is collected into the closing table. The compared
implementations inside one benchmark always run side by side in that one process.

Run:  python benchmarks/run_all.py            (about 5 minutes on 2 idle cores)
      python benchmarks/run_all.py --quick    (fewer repeats: a smoke run, noisier figures)
      python benchmarks/run_all.py inference memory    (a selection)
      python benchmarks/run_all.py --update-readme    (and regenerate README.md's table)
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
    "denormals": ("denormals.py", ["--steps", "600"]),
    "inference": ("inference.py", ["--repeat", "5", "--number", "2"]),
    "chain_overhead": ("chain_overhead.py", ["--repeat", "5", "--number", "50"]),
    "dynamic_mode": ("dynamic_mode.py", ["--repeat", "5"]),
    "build_scaling": ("build_scaling.py", ["--sizes", "1000,10000"]),
    "import_time": ("import_time.py", ["--repeat", "3"]),
    "threads": ("threads.py", ["--repeat", "5"]),
    "whole_program": ("whole_program.py", ["--repeat", "1", "--steps", "2000"]),
    "memory": ("memory.py", []),
    "summaries": ("summaries.py", ["--repeat", "5", "--number", "5"]),
}

TARGET_LINE = re.compile(
    r"^(?P<label>\S.*?)\s+(?P<value>\d+(?:\.\d+)?)\s+\(target <= (?P<limit>[\d.]+)\)"
    r"(?:.*\[load (?P<load>[\d.]+)\])?"
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
            load = float(match["load"]) if match["load"] else float("nan")
            targets.append((match["label"], float(match["value"]), float(match["limit"]), load))
    status = proc.wait()
    return targets, time.perf_counter() - start, status


def _verdict(value: float, limit: float) -> str:
    return "-" if value != value else "met" if value <= limit else "MISSED"


def conditions() -> str:
    """One line on the machine and versions the figures come from."""
    import os
    import platform

    import numpy

    return (
        f"{os.cpu_count()} CPUs {platform.machine()}, {platform.system()}, Python "
        f"{platform.python_version()}, NumPy {numpy.__version__}; BLAS limited to 1 thread "
        f"unless stated; load average at the end {os.getloadavg()[0]:.2f}"
    )


TABLE_HEAD = [
    "| benchmark | figure | measured | target | verdict | load |",
    "| --- | --- | ---: | ---: | --- | ---: |",
]


def table_rows(rows) -> list[str]:
    """One Markdown table row per figure."""
    return [
        f"| {name} | {label} | {value:.3f} | <= {limit:.2f} | {_verdict(value, limit)} "
        f"| {load:.1f} |"
        for name, label, value, limit, load in rows
    ]


def markdown_table(rows) -> str:
    """The summary as a Markdown table, with the machine and conditions above it."""
    intro = f"Measured with `python benchmarks/run_all.py` on {conditions()}."
    return "\n".join([intro, "", *TABLE_HEAD, *table_rows(rows)]) + "\n"


README_START, README_END = "<!-- run_all table start -->", "<!-- run_all table end -->"


def _benchmark_of(line: str) -> str:
    return line.split("|")[1].strip()


def update_readme(path: Path, rows) -> None:
    """Put the table of ``rows`` between the README's table markers. Rows of benchmarks that
    did not run this time (a selection was given) are kept from the table already there."""
    text = path.read_text(encoding="utf-8")
    head, start, rest = text.partition(README_START)
    old, end, tail = rest.partition(README_END)
    if not start or not end:
        raise SystemExit(f"{path} has no {README_START} ... {README_END} markers")
    ran = {row[0] for row in rows}
    kept = [
        line
        for line in old.splitlines()
        if line.startswith("| ") and _benchmark_of(line) in set(BENCHMARKS) - ran
    ]
    order = {name: i for i, name in enumerate(BENCHMARKS)}
    lines = sorted(table_rows(rows) + kept, key=lambda line: order[_benchmark_of(line)])
    note = "" if not kept else " Rows of benchmarks not rerun are from an earlier run."
    intro = f"Measured with `python benchmarks/run_all.py` on {conditions()}.{note}"
    table = "\n".join([intro, "", *TABLE_HEAD, *lines])
    path.write_text(f"{head}{start}\n{table}\n{end}{tail}", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {list(BENCHMARKS)})"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--markdown", help="also write the summary as a Markdown table here")
    parser.add_argument(
        "--update-readme", action="store_true", help="put that table into README.md"
    )
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
        rows += [(name, *target) for target in targets]
        if status == 0 and not targets:
            rows.append((name, "(no target line printed)", *[float("nan")] * 3))
        print(f"  [{name}: {seconds:.1f} s, exit status {status}]")

    print("\nSummary (medians; ratios are flowgraph / baseline, same process)")
    width = max([len(f"{row[0]}: {row[1]}") for row in rows] + [20])
    print(f"{'figure':<{width}}  {'value':>8}  {'target':>8}  verdict  load")
    for name, label, value, limit, load in rows:
        figure, bound = f"{name}: {label}", f"<= {limit:.2f}"
        print(
            f"{figure:<{width}}  {value:>8.3f}  {bound:>8}  {_verdict(value, limit):<7}  {load:.2f}"
        )
    if args.markdown:
        Path(args.markdown).write_text(markdown_table(rows), encoding="utf-8")
        print(f"\nMarkdown table written to {args.markdown}")
    if args.update_readme:
        update_readme(HERE.parent / "README.md", rows)
        print("\nREADME.md's performance table regenerated")
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
