"""Ops that order execution rather than compute: no_op, group, control_dependencies, Print.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     v = fg.Variable(0, name="counter")
...     with fg.control_dependencies([v.assign_add(1)]):
...         after = fg.identity(v)
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         print(sess.run(after))
1
"""

from __future__ import annotations

import sys

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient
from flowgraph.ops.rules import same_as_input

define_op(
    "NoOp", lambda inputs, attrs: [], kernel=lambda xp: None, differentiable=False, is_no_op=True
)


def no_op(name: str = "NoOp"):
    """An op that does nothing; useful as a target for control dependencies."""
    return apply_op("NoOp", [], name=name)


def group(*inputs, name: str = "group_deps"):
    """An op that runs all ``inputs`` (ops or tensors) and produces nothing.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     g = fg.group(fg.no_op(), fg.constant(1.0))
    >>> g.type, len(g.control_inputs)
    ('NoOp', 2)
    """
    ops = [getattr(i, "op", i) if not hasattr(i, "control_inputs") else i for i in inputs]
    graph = ops[0].graph if ops else get_default_graph()
    with graph.as_default(), graph.control_dependencies(ops):
        return no_op(name=name)


def control_dependencies(control_inputs):
    """Context manager: ops created inside run after ``control_inputs`` (default graph)."""
    return get_default_graph().control_dependencies(control_inputs)


def _print_kernel(ctx, x, *data, message, summarize):
    parts = [str(ctx.to_host(d).ravel()[:summarize].tolist()) for d in data]
    print(message + "".join(parts), file=sys.stderr)
    return x


define_op(
    "Print",
    same_as_input,
    kernel=_print_kernel,
    attrs={"message": "", "summarize": 3},
    stateful=True,  # printing is a side effect: never fold it, never merge two of them
    needs_context=True,
)


def Print(input_, data, message: str = "", first_n=None, summarize=None, name: str = "Print"):
    """Identity on ``input_`` that prints ``message`` and the first values of ``data`` to stderr
    each time it runs (TF1's ``tf.Print``). ``first_n`` is not supported and must be None."""
    if first_n not in (None, -1):
        raise NotImplementedError("Print(first_n=...) is not supported; filter in Python instead")
    tensors = [convert_to_tensor(input_)] + [convert_to_tensor(d) for d in data]
    attrs = {"message": message, "summarize": summarize or 3}
    return apply_op("Print", tensors, attrs, name=name)


@gradient("Print")
def _print_grad(op, grad):
    """dx = g for the printed-through input; none for the printed data."""
    # Identity for the printed-through input; the printed data get no gradient.
    return [grad] + [None] * (len(op.inputs) - 1)
