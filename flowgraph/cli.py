"""The ``flowgraph`` command: run the demo, and look at saved graph files.

::

    flowgraph --version
    flowgraph demo [--steps N] [--data-dir DIR] [--graph-out GRAPH.json] [--checkpoint-out P]
    flowgraph info GRAPH.json
    flowgraph show GRAPH.json [-o graph.svg] [--collapse N]
    flowgraph export-onnx GRAPH.json --fetch NAME [--checkpoint PREFIX] -o model.onnx

``demo`` runs the seed TF1 program, ``examples/mnist_tf1.py`` — the one copy of it, from a
source checkout — on the bundled MNIST sample, and can save the graph it built. ``info``
summarises a graph file written by :func:`flowgraph.io.export_graph`; ``show`` draws one with
:func:`flowgraph.viz.draw`, in the format the output's suffix names (svg, png, pdf).
``export-onnx`` writes one as an ONNX model (:mod:`flowgraph.onnx.command`; needs the
``flowgraph[onnx]`` extra).

A problem the user can fix — a missing or malformed file, no Graphviz ``dot`` program, an
unusable ``--data-dir`` — is a message on stderr (one line, but for the MNIST reader's
instructions) and exit status 2, never a traceback.

>>> main(["--version"])
flowgraph 0.1.0
0
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import flowgraph
from flowgraph.datasets.idx import IDXError
from flowgraph.io import GraphFileError, export_graph, import_graph_dict
from flowgraph.io.graph_check import load_graph_file
from flowgraph.ops.registry import get_op_def

__all__ = ["CLIError", "main"]

# The seed program, where a source checkout keeps it: examples/ is not part of the wheel.
DEMO_SCRIPT = Path(flowgraph.__file__).resolve().parents[1] / "examples" / "mnist_tf1.py"


class CLIError(Exception):
    """A problem the user can fix: a message without a traceback, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowgraph`` command with ``argv`` (default ``sys.argv[1:]``); the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version and usage errors: argparse has printed
        return e.code if isinstance(e.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except Exception as e:  # only the kinds _user_error recognises; others are re-raised
        message = _user_error(e)
        if message is None:
            raise
        print(f"flowgraph {args.command}: error: {message}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowgraph",
        description="A TensorFlow-1-style static dataflow-graph engine on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"flowgraph {flowgraph.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="train the seed TF1 MNIST program on the bundled data",
        description="Run examples/mnist_tf1.py (the seed TF1 MNIST program) from a source "
        "checkout of flowgraph.",
    )
    demo.add_argument(
        "--steps", type=_positive_int, default=2000, metavar="N", help="training steps (2000)"
    )
    demo.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="directory of the MNIST IDX files (default: the bundled sample)",
    )
    demo.add_argument(
        "--graph-out",
        default=None,
        metavar="GRAPH.json",
        help="save the graph the program built here, for `flowgraph info` and `show`",
    )
    demo.add_argument(
        "--checkpoint-out",
        default=None,
        metavar="PREFIX",
        help="save the trained variables there (a Saver checkpoint, for `export-onnx`)",
    )
    demo.set_defaults(run=_demo)

    info = sub.add_parser("info", help="summarise a saved graph file")
    info.add_argument("graph", help="a graph file written by flowgraph.io.export_graph")
    info.set_defaults(run=_info)

    show = sub.add_parser(
        "show", help="draw a saved graph file with Graphviz (needs the dot program)"
    )
    show.add_argument("graph", help="a graph file written by flowgraph.io.export_graph")
    show.add_argument(
        "-o",
        "--output",
        default=None,
        help="the drawing; its suffix (.svg, .png, .pdf) picks the format "
        "(default: GRAPH with .svg)",
    )
    show.add_argument(
        "--collapse",
        type=_count,
        default=None,
        metavar="N",
        help="draw each name scope at depth N as one node (0: collapse nothing; "
        "default: collapse the gradient and optimizer details, and big graphs)",
    )
    show.set_defaults(run=_show)

    onnx = sub.add_parser(
        "export-onnx",
        help="write a saved graph (and a checkpoint's values) as an ONNX model",
        description="Export the inference subgraph computing --fetch as an ONNX model, with "
        "the variables' values from --checkpoint (needs pip install 'flowgraph[onnx]').",
    )
    _export_onnx_arguments(onnx)
    onnx.set_defaults(run=_export_onnx)
    return parser


def _export_onnx_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("graph", help="a graph file written by flowgraph.io.export_graph")
    p.add_argument(
        "--fetch",
        action="append",
        required=True,
        metavar="NAME",
        help="a tensor or op to compute (repeatable); becomes a model output",
    )
    p.add_argument(
        "--feed",
        action="append",
        default=None,
        metavar="NAME",
        help="a placeholder to feed (repeatable; default: all that are needed)",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        metavar="PREFIX",
        help="the variables' values: a checkpoint written by Saver.save",
    )
    p.add_argument(
        "--initial-values",
        action="store_true",
        help="use the variables' initial values (an untrained model)",
    )
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 18)")
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")  # fmt: skip


def _export_onnx(args: argparse.Namespace) -> int:
    try:
        from flowgraph.onnx import command
    except ImportError:
        raise CLIError(
            "export-onnx needs the onnx package: pip install 'flowgraph[onnx]'"
        ) from None
    graph, _ = _load(args.graph)
    try:
        print(command.run(graph, args))
    except command.CommandError as e:
        raise CLIError(str(e)) from e
    return 0


def _positive_int(text: str) -> int:
    return _at_least(text, 1)


def _count(text: str) -> int:
    return _at_least(text, 0)


def _at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
    return value


def _user_error(e: Exception) -> str | None:
    """The one-line message for an error the user can fix; None for a bug (re-raised)."""
    if isinstance(e, CLIError | GraphFileError):
        return str(e)
    if isinstance(e, OSError) and e.filename is not None:
        return f"{e.strerror or e}: {os.fsdecode(e.filename)!r}"
    try:
        import graphviz
    except ImportError:
        return None
    if isinstance(e, graphviz.ExecutableNotFound):
        return (
            "Graphviz's 'dot' program was not found on PATH; install Graphviz "
            "(apt-get install graphviz, brew install graphviz) to draw graphs"
        )
    if isinstance(e, graphviz.CalledProcessError):
        detail = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        return f"Graphviz's dot failed: {detail[-1] if detail else e}"
    return None


# ---- demo ---------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    if not DEMO_SCRIPT.is_file():
        raise CLIError(
            f"the demo runs examples/mnist_tf1.py from a source checkout of flowgraph, and there "
            f"is none at {str(DEMO_SCRIPT)!r}; clone the flowgraph repository, `pip install -e .` "
            "it, and run `flowgraph demo` (or `python examples/mnist_tf1.py`) from there"
        )
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise CLIError(f"--data-dir {args.data_dir!r} is not a directory")
    script_argv = [str(DEMO_SCRIPT), "--steps", str(args.steps)]
    if args.data_dir is not None:
        script_argv += ["--data-dir", args.data_dir]
    if args.checkpoint_out is not None:
        script_argv += ["--checkpoint-out", args.checkpoint_out]
    graph = flowgraph.Graph()
    saved_argv = sys.argv
    sys.argv = script_argv  # the program reads its flags with argparse, as a script does
    try:
        with graph.as_default():
            runpy.run_path(str(DEMO_SCRIPT), run_name="__main__")
    except (OSError, IDXError) as e:
        if args.data_dir is None:  # the bundled sample is part of the package: a bug
            raise
        raise CLIError(f"cannot read MNIST from --data-dir {args.data_dir!r}: {e}") from e
    finally:
        sys.argv = saved_argv
    if args.graph_out is not None:
        export_graph(graph, args.graph_out)
        print(f"Wrote the graph ({len(graph.get_operations())} ops) to {args.graph_out}")
    return 0


# ---- info and show ------------------------------------------------------------------------


def _load(path: str) -> tuple[flowgraph.Graph, dict]:
    """The graph in file ``path``, imported into a new Graph under its own names; its JSON."""
    if os.path.isdir(path):
        raise CLIError(f"{path!r} is a directory, not a graph file")
    doc = load_graph_file(path)  # FileNotFoundError, GraphFileError
    graph = flowgraph.Graph()
    with graph.as_default():
        import_graph_dict(doc, name="", source=path)
    return graph, doc


def _info(args: argparse.Namespace) -> int:
    graph, doc = _load(args.graph)
    print(format_info(graph, doc, args.graph))
    return 0


def format_info(graph: flowgraph.Graph, doc: dict, path: str) -> str:
    """The text ``flowgraph info`` prints for ``graph``, read from ``doc`` in file ``path``.

    An overview first (op types, placeholders, variables), then flowgraph.viz's op table.
    """
    ops = graph.get_operations()
    functions = len(doc.get("functions") or {})
    lines = [
        f"{path}: {doc.get('format')} format version {doc.get('version')}",
        f"{len(ops)} ops" + (f" (and {functions} function graphs)" if functions else ""),
    ]
    counts = Counter(op.type for op in ops)
    lines.append(f"ops by type ({len(counts)} types):")
    lines += _table(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    placeholders = [op for op in ops if get_op_def(op.type).is_placeholder]
    lines.append(f"placeholders ({len(placeholders)}):")
    lines += _table(
        [(op.name, op.outputs[0].dtype.name, op.outputs[0].shape) for op in placeholders]
    )
    variables = graph.get_collection(flowgraph.GraphKeys.GLOBAL_VARIABLES)
    trainable = sum(bool(v.trainable) for v in variables)
    lines.append(f"variables ({len(variables)}, {trainable} trainable):")
    lines += _table(
        [
            (v.op.name, v.dtype.name, v.shape, "trainable" if v.trainable else "not trainable")
            for v in variables
        ]
    )
    table = _viz_summary(graph)
    if table:
        lines += ["ops:"] + ["  " + line for line in table]
    return "\n".join(lines)


def _viz_summary(graph: flowgraph.Graph) -> list[str]:
    """flowgraph.viz.summary's table of the ops, as lines."""
    from flowgraph.viz import summary

    return summary(graph).rstrip("\n").splitlines()


def _table(rows: list[tuple]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def _show(args: argparse.Namespace) -> int:
    import graphviz

    output = Path(args.output) if args.output else Path(args.graph).with_suffix(".svg")
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in graphviz.FORMATS:
        raise CLIError(
            f"cannot tell the drawing's format from {str(output)!r}: end it in .svg, .png or .pdf"
        )
    graph, _ = _load(args.graph)
    from flowgraph.viz import draw, render_to

    options = {} if args.collapse is None else {"collapse": args.collapse}
    render_to(draw(graph, **options), output, fmt)  # ExecutableNotFound without dot
    print(f"Wrote {output} ({len(graph.get_operations())} ops)")
    return 0
