"""What eager tensors report to library code that expects graph tensors: a graph and an op.

Op functions and gradient rules sometimes ask a tensor for its graph (``x.graph.name_scope``,
random seeds) or its op (``t.op.type == "StopGradient"``, ``t.op.attrs["value"]``). An eager
tensor's graph is :data:`EAGER_GRAPH`, which holds no ops; its op is its tape node, or — when
nothing was recorded — an :class:`OpInfo` that keeps the op's type, name and attrs and the
shapes of its inputs, but not the inputs themselves.
"""

from __future__ import annotations

from flowgraph.dynamic.size import Size
from flowgraph.graph import Graph


class _EagerGraph(Graph):
    """The graph eager tensors report as theirs. It holds no ops: library code that asks a
    tensor for its graph (name scopes, random seeds) gets one; building a graph op on eager
    tensors outside dynamic mode is an error."""

    def create_op(self, op_type, inputs, attrs, output_specs, name, site, *_placement):
        graph_inputs = [t for t in inputs if t.graph is not self]
        detail = (
            f" and the graph tensor {graph_inputs[0].name!r}"
            if graph_inputs
            else "; run it inside `with flowgraph.dynamic.eager():`, or call the tensor's "
            "method or flowgraph.dynamic's function"
        )
        raise TypeError(
            f"Cannot build a {op_type} op {name!r} (at {site}) from a dynamic tensor{detail}: "
            "flowgraph.dynamic tensors hold values and do not mix with static graphs."
        )


EAGER_GRAPH = _EagerGraph()


class OpInfo:
    """What an eager tensor made outside the tape knows of its op: type, name, attrs, and the
    shapes and dtypes of its inputs (not the inputs themselves, so that nothing is kept
    alive). Library code reading ``tensor.op.type`` or ``tensor.op.attrs`` gets answers."""

    __slots__ = ("type", "name", "attrs", "_specs")
    graph = EAGER_GRAPH
    _id = 0
    device = ""
    control_inputs = ()

    def __init__(self, op_type: str, name: str, attrs: dict, specs) -> None:
        self.type = op_type
        self.name = name
        self.attrs = attrs
        self._specs = specs  # [(array shape tuple, dtype)] of the inputs

    @property
    def inputs(self) -> tuple:
        return tuple(InputSpec(Size(shape), dtype) for shape, dtype in self._specs)

    def __repr__(self) -> str:
        return f"<flowgraph.dynamic op {self.name!r} type={self.type} (not recorded)>"


class InputSpec:
    """The shape and dtype of an input of an unrecorded op."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype) -> None:
        self.shape = shape
        self.dtype = dtype
