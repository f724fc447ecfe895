"""Function graphs: the bodies of ``cond`` branches and ``while_loop`` conditions and bodies.

A FuncGraph is a Graph traced from a Python function. Its inputs are placeholders; a tensor of
an enclosing graph used inside is *captured*: it becomes one more input placeholder, and the
control-flow op that calls the function passes the outer tensor in. A variable that is
assigned inside is mirrored instead (same variable name), so the write reaches the session's
variable store; a variable that is only read is captured as a value, so gradients reach it.
"""

from __future__ import annotations

from contextlib import contextmanager

from flowgraph.graph.graph import Graph


class FuncGraph(Graph):
    """A graph with explicit ``inputs`` (placeholders) and ``outputs``, and the outer tensors
    it captured (``captures``: outer tensor -> inner placeholder)."""

    def __init__(self, name: str, outer_graph: Graph) -> None:
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.inputs: list = []
        self.outputs: list = []
        self.captures: dict = {}  # outer Tensor -> inner placeholder (an extra input)
        self._mirrors: dict = {}  # outer variable Tensor -> inner VariableV2 mirror
        # Outer ops named in control_dependencies inside the function: the control-flow op
        # that calls the function runs after them (TF2's control captures).
        self.control_captures: list = []

    @contextmanager
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            with super().control_dependencies(None):
                yield
            return
        inner = []
        for c in control_inputs:
            op = c if hasattr(c, "control_inputs") else getattr(c, "op", c)
            if getattr(op, "graph", self) is self:
                inner.append(op)
            elif op not in self.control_captures:
                self.control_captures.append(op)
        with super().control_dependencies(inner):
            yield

    def _capture(self, tensor, op_type, name, site, as_ref=False):
        known = (self._mirrors if as_ref else self.captures).get(tensor)
        if known is not None:
            return known
        graph = self.outer_graph
        while graph is not tensor.graph:  # only tensors of enclosing graphs may be captured
            graph = getattr(graph, "outer_graph", None)
            if graph is None:
                return super()._capture(tensor, op_type, name, site)
        spec = [(tensor.dtype, tensor.shape)]
        safe_name = tensor.op.name.replace("/", "_")
        if as_ref:  # an assignment's target: mirror the variable so the write reaches it
            op = self.create_op("VariableV2", [], dict(tensor.op.attrs), spec, safe_name, site)
            self._mirrors[tensor] = op.outputs[0]
            return op.outputs[0]
        attrs = {"dtype": tensor.dtype, "shape": tensor.shape}
        op = self.create_op("Placeholder", [], attrs, spec, "captured_" + safe_name, site)
        self.captures[tensor] = op.outputs[0]
        self.inputs.append(op.outputs[0])
        return op.outputs[0]
