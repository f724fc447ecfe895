"""Traced functions: the bodies of ``cond`` branches and ``while_loop`` conditions and bodies.

A :class:`Function` is a :class:`FuncGraph` traced once from a Python function, with explicit
inputs and outputs; the If / While op calls it at run time through the session (``ctx.call``).

A gradient never runs a stateful op again. Every call of a function therefore also returns its
*exports*: the values its stateful ops (random draws, dropout masks, ``Print``, ``assign``,
nested If / While) produced. The control-flow op passes them out as hidden outputs (stacked per
iteration in a loop), and the gradient function takes them back as inputs: it is a *replay*,
whose stateful ops are frozen (see :attr:`Function.frozen`), so it reuses the forward pass's
mask instead of drawing a new one, and runs no ``assign`` or ``Print`` reached only through a
control dependency — TF1 does the same by stacking forward values.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     fn = trace(lambda x: fg.nn.dropout(x, rate=0.5) * 2.0, "f", [(fg.float32, [4])])
...     [op.type for op in fn.side_effects], [t.name for t in fn.exports], fn.frozen
(['DropoutMask'], ['dropout:0'], frozenset())
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.func_graph import FuncGraph
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, namespace
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import get_op_def
from flowgraph.ops.state import placeholder


@dataclass(eq=False)
class Function:
    """A traced function: call it with values for ``inputs``; it returns ``outputs``.

    ``side_effects`` are stateful ops traced into it that run on every call even when no
    output needs them (an ``assign`` or ``Print`` inside a branch)."""

    graph: FuncGraph
    inputs: list
    outputs: list
    side_effects: list = field(default_factory=list)
    returns_sequence: bool = False  # the Python function returned a list/tuple, not a tensor

    def __hash__(self) -> int:
        return id(self)

    @property
    def exports(self) -> list:
        """The outputs of the stateful ops: returned after ``outputs`` by every call, so that
        a gradient reuses them (a gradient function has none: it runs no stateful op)."""
        return [t for op in self.side_effects for t in op.outputs]

    @property
    def frozen(self) -> frozenset:
        """The ops a call must not run, by data or by control dependency: the stateful ops of
        the graph that are not this function's side effects. A forward function lists all of
        them; a gradient function (a replay, given its forward's exports) lists none."""
        effects = set(self.side_effects)
        ops = self.graph.get_operations()
        return frozenset(op for op in ops if _is_side_effect(op) and op not in effects)


def as_list(value):
    """``value`` as a list (a single tensor becomes a one-element list)."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def trace(python_fn, name: str, input_specs) -> Function:
    """Trace ``python_fn(*inputs)`` into a new FuncGraph of the default graph."""
    graph = FuncGraph(name, get_default_graph())
    with graph.as_default():
        inputs = [
            placeholder(dtype, shape, name=f"arg{i}")
            for i, (dtype, shape) in enumerate(input_specs)
        ]
        graph.inputs.extend(inputs)
        result = python_fn(*inputs)
        if result is None:
            raise ValueError(f"{name}: the traced function returned None; it must return tensors")
        # An outer tensor returned as is must still be produced inside the function.
        outputs = [array.identity(convert_to_tensor(r)) for r in as_list(result)]
    effects = [op for op in graph.get_operations() if _is_side_effect(op)]
    sequence = isinstance(result, (list, tuple))
    return Function(graph, list(graph.inputs), outputs, effects, sequence)


def _is_stateful(op) -> bool:
    return get_op_def(op.type).stateful


def _is_side_effect(op) -> bool:
    # A variable mirror (an assignment's target) is read where it is used, not exported.
    return _is_stateful(op) and op.type not in ("VariableV2",)


def align_captures(functions, n_explicit: int) -> list:
    """Give every function the same inputs: explicit ones, then the union of all captures.

    Returns the outer tensors to pass for the captures, in order."""
    outer = []
    for fn in functions:
        outer.extend(t for t in fn.graph.captures if t not in outer)
    for fn in functions:
        extra = []
        for t in outer:
            inner = fn.graph.captures.get(t)
            if inner is None:  # not used by this function: an input it ignores
                with fn.graph.as_default():
                    inner = placeholder(t.dtype, t.shape, name="unused_capture")
            extra.append(inner)
        fn.inputs = fn.inputs[:n_explicit] + extra
    return outer


def unused_inputs(fn: Function, like: list, name: str) -> list:
    """Placeholders in ``fn``'s graph standing for tensors of ``like`` it does not use (the
    other branch's exports): the op passes every branch the same inputs."""
    with fn.graph.as_default():
        return [placeholder(t.dtype, t.shape, name=name) for t in like]


def export_spec(tensor):
    """The static (dtype, shape) of an export: as traced when fully known, else unknown (an
    untaken branch's export is a stand-in of that shape, or a scalar)."""
    shape = tensor.shape if tensor.shape.is_fully_defined() else TensorShape(None)
    return tensor.dtype, shape


def stand_in(xp, tensor):
    """A zero value standing for an export of a branch that did not run (never read: only
    that branch's gradient reads it). A broadcast view, so it costs no memory."""
    if tensor.dtype.name == "string":  # string tensors live on the host, as bytes
        zero = np.zeros((), dtype="S1")
        xp = np
    else:
        zero = xp.zeros((), dtype=namespace.dtype_of(xp, tensor.dtype))
    shape = tuple(tensor.shape.dims) if tensor.shape.is_fully_defined() else ()
    return xp.broadcast_to(zero, shape)
