"""How much of ONNX flowgraph imports, and how many of ONNX's node tests it passes.

    python -m flowgraph.onnx.coverage [--cache DIR] [--list]

prints the ONNX ops (default domain, the installed onnx's newest opset) that import and those
that do not, then runs ONNX's backend node tests through :class:`FlowgraphBackend`: how many
there are, how many are selected (all their ops import, all their dtypes exist in flowgraph),
how many of those pass, and why the others were left out. ``--cache DIR`` keeps the generated
tests in DIR (they take onnx about 10 s to write).

>>> report = coverage(tests=())
>>> report.supported[:3], len(report.supported) == len(IMPORTERS)
(['Abs', 'Acosh', 'Add'], True)
"""

from __future__ import annotations

import argparse
import collections
import sys
from dataclasses import dataclass, field

import onnx

from flowgraph.onnx.import_ops import IMPORTERS
from flowgraph.onnx.node_tests import node_tests, run_node_test, select


@dataclass
class Coverage:
    """The ONNX ops flowgraph imports or not, and the node tests it selected and passed."""

    supported: list[str]
    unsupported: list[str]
    total_tests: int = 0
    selected: int = 0
    passed: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> count


def onnx_ops() -> list[str]:
    """The op types of ONNX's default domain in the installed onnx (deprecated ones left out)."""
    return sorted(
        {
            s.name
            for s in onnx.defs.get_all_schemas()
            if s.domain in ("", "ai.onnx") and not s.deprecated
        }
    )


def coverage(tests=None, cache_dir=None) -> Coverage:
    """The :class:`Coverage` of the node ``tests`` (default: all of them), which it runs."""
    ops = onnx_ops()
    report = Coverage(
        supported=[op for op in ops if op in IMPORTERS],
        unsupported=[op for op in ops if op not in IMPORTERS],
    )
    tests = node_tests(cache_dir) if tests is None else tuple(tests)
    selected, left_out = select(tests)
    report.total_tests, report.selected = len(tests), len(selected)
    reasons = collections.Counter(
        "ops not imported" if r.startswith("ops not imported") else r for r in left_out.values()
    )
    report.left_out = dict(reasons.most_common())
    for t in selected:
        try:
            run_node_test(t)
            report.passed += 1
        except Exception as e:  # a failure to report, whatever its kind
            report.failures[t.name] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return report


def format_report(report: Coverage, list_ops: bool = False) -> str:
    """The text ``python -m flowgraph.onnx.coverage`` prints for ``report``."""
    lines = [
        f"ONNX {onnx.__version__} (opset {onnx.defs.onnx_opset_version()}): flowgraph imports "
        f"{len(report.supported)} of {len(report.supported) + len(report.unsupported)} ops",
    ]
    if list_ops:
        lines += ["supported: " + ", ".join(report.supported)]
        lines += ["not supported: " + ", ".join(report.unsupported)]
    lines.append(
        f"node tests: {report.passed} passed of {report.selected} selected "
        f"({report.total_tests} in all)"
    )
    lines += [f"  left out, {count}: {reason}" for reason, count in report.left_out.items()]
    lines += [f"  FAILED {name}: {why}" for name, why in report.failures.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    """The command line; exit status 1 when a selected node test fails."""
    parser = argparse.ArgumentParser(prog="python -m flowgraph.onnx.coverage")
    parser.add_argument("--cache", default=None, help="a folder to keep the generated node tests")
    parser.add_argument("--list", action="store_true", help="list the supported/unsupported ops")
    args = parser.parse_args(argv)
    report = coverage(cache_dir=args.cache)
    print(format_report(report, list_ops=args.list))
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
