""" "Why is this gradient None?": say whether x is disconnected from y or what blocks the path.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [3], name="x")
...     y = fg.cast(fg.argmax(x, 0), fg.float32, name="y")
...     print(explain_gradient(y, x))  # doctest: +ELLIPSIS
No gradient flows from 'y:0' to 'x:0': every path is blocked.
  ArgMax op 'ArgMax' (created at ...) is not differentiable
"""

from __future__ import annotations

from flowgraph.autodiff.gradients import ops_between
from flowgraph.ops.registry import get_op_def


def _tensor(value):
    return value._as_graph_tensor() if hasattr(value, "_as_graph_tensor") else value


def blocking_reason(op, tensor=None) -> str | None:
    """Why gradients stop at ``op`` (or at its output ``tensor``), or None if they pass."""
    if get_op_def(op.type).stops_gradient:
        return f"{op.describe()} is a stop_gradient"
    if "_gradient_op_type" not in op.attrs and not get_op_def(op.type).differentiable:
        return f"{op.describe()} is not differentiable"
    if tensor is not None and not tensor.dtype.is_floating:
        return (
            f"{op.describe()} outputs {tensor.dtype.name}, and only float tensors carry gradients"
        )
    return None


def explain_gradient(y, x) -> str:
    """A sentence on whether and why ``gradients(y, x)`` is None."""
    y, x = _tensor(y), _tensor(x)
    between = ops_between([y], [x])
    if not between and y is not x:
        return (
            f"{x.name!r} is not connected to {y.name!r}: no chain of op inputs leads from it "
            f"to {y.op.describe()}. Its gradient is None (or zeros with "
            "unconnected_gradients='zero')."
        )
    if not x.dtype.is_floating:
        return f"{x.name!r} has dtype {x.dtype.name}; only float tensors get gradients."
    blockers = []
    for op in sorted(between, key=lambda o: o._id):
        for t in op.outputs:
            reason = blocking_reason(op, t)
            if reason and reason not in blockers:
                blockers.append(reason)
    passing = ops_between([y], [x], _blocked_tensors(between))
    if y is x or any(t is x for op in passing for t in op.inputs):
        return f"A gradient flows from {y.name!r} to {x.name!r} through {len(passing)} op(s)."
    lines = [f"No gradient flows from {y.name!r} to {x.name!r}: every path is blocked."]
    lines += [f"  {reason}" for reason in blockers]
    return "\n".join(lines)


def _blocked_tensors(between) -> set:
    return {t for op in between for t in op.outputs if blocking_reason(op, t)}
