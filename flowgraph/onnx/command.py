"""``flowgraph export-onnx``: a saved graph file (and its checkpoint) as an ONNX model.

::

    flowgraph export-onnx GRAPH.json --fetch logits [--fetch ...] [--feed x ...]
                          [--checkpoint PREFIX] [--opset 18] -o model.onnx

A graph file (:func:`flowgraph.io.export_graph`) holds the graph and the variables'
*initializers*, not their trained values: those are in a checkpoint written by
:class:`flowgraph.train.Saver` (``--checkpoint PREFIX``, the path ``saver.save`` returned).
A graph whose fetches read variables needs one; ``--initial-values`` runs the initializers
instead, for a model whose variables were never trained. ``--fetch`` and ``--feed`` take op
names (output 0) or tensor names (``name:1``); without ``--feed``, every placeholder the
fetches need becomes an input.
"""

from __future__ import annotations

import argparse

import flowgraph as fg
from flowgraph.io.checkpoint import read_checkpoint
from flowgraph.onnx.errors import ONNXExportError
from flowgraph.onnx.exporter import DEFAULT_OPSET, export, needed_ops

__all__ = ["CommandError", "run"]


class CommandError(ValueError):
    """A problem the user can fix, reported by the CLI in one line."""


def run(graph: fg.Graph, args: argparse.Namespace) -> str:
    """Export ``graph`` (loaded from ``args.graph``) as ``args`` ask; the summary line."""
    fetches = [_tensor(graph, name, "--fetch") for name in args.fetch]
    feeds = None if args.feed is None else [_tensor(graph, n, "--feed") for n in args.feed]
    needed = needed_ops(fetches, set(feeds or ()))
    variables = sorted((op for op in needed if op.type == "VariableV2"), key=lambda op: op._id)
    with fg.Session(graph=graph) as sess:
        _load_variables(graph, sess, variables, args)
        try:
            opset = DEFAULT_OPSET if args.opset is None else args.opset
            model = export(fetches, feeds, path=args.output, opset=opset, session=sess)
        except (ONNXExportError, ValueError) as e:
            raise CommandError(str(e)) from e
    inputs = ", ".join(i.name for i in model.graph.input)
    return (
        f"Wrote {args.output}: {len(model.graph.node)} ONNX nodes, inputs [{inputs}], "
        f"{len(model.graph.initializer)} initializers, opset {opset}"
    )


def _tensor(graph: fg.Graph, name: str, flag: str):
    try:
        if ":" in name:
            return graph.get_tensor_by_name(name)
        op = graph.get_operation_by_name(name)
    except (KeyError, ValueError) as e:
        raise CommandError(f"{flag} {name!r}: {e.args[0]}") from None
    if not op.outputs:
        raise CommandError(f"{flag} {name!r} is an op without outputs ({op.type})")
    return op.outputs[0]


def _load_variables(graph, sess, variables, args) -> None:
    if not variables:
        return
    if args.checkpoint is not None:
        _restore(graph, sess, variables, args.checkpoint)
    elif args.initial_values:
        inits = [graph.get_operation_by_name(f"{op.name}/Assign") for op in variables]
        sess.run(inits)
    else:
        names = ", ".join(op.name for op in variables[:5])
        raise CommandError(
            f"the fetches read variables ({names}{', ...' if len(variables) > 5 else ''}), whose "
            "trained values a graph file does not hold: pass --checkpoint PREFIX (written by "
            "flowgraph.train.Saver.save), or --initial-values for an untrained model"
        )


def _restore(graph, sess, variables, prefix: str) -> None:
    """Give the needed ``variables`` their values in checkpoint ``prefix``; the checkpoint
    may hold more (an optimizer's slots, a step counter), which the model does not need."""
    try:
        values = read_checkpoint(prefix)
    except (OSError, fg.errors.OpError, ValueError) as e:
        raise CommandError(f"--checkpoint {prefix!r}: {e}") from e
    missing = [op.name for op in variables if op.name not in values]
    if missing:
        raise CommandError(f"--checkpoint {prefix!r} holds no values for {missing}")
    try:
        with graph.as_default():
            sess.run([fg.assign(op.outputs[0], values[op.name]) for op in variables])
    except (ValueError, TypeError, fg.errors.OpError) as e:  # another shape or dtype
        raise CommandError(f"--checkpoint {prefix!r}: {str(e).splitlines()[0]}") from e
