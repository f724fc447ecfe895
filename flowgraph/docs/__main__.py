"""``python -m flowgraph.docs build [-o OUT] [--no-notebooks]``: build the documentation site."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowgraph.docs.build import DEFAULT_OUT, DocsBuildError, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowgraph.docs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="build the HTML site (warnings are errors)")
    b.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    b.add_argument(
        "--no-notebooks",
        action="store_true",
        help="render notebooks/ without executing them (faster; the guides still run)",
    )
    args = parser.parse_args(argv)
    try:
        result = build(args.out, execute_notebooks=not args.no_notebooks)
    except DocsBuildError as e:
        print(f"flowgraph.docs: {e}", file=sys.stderr)
        return 1
    print(f"built {result.pages} pages in {result.seconds:.1f} s: {result.index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
