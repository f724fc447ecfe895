"""The tape of one iteration, rebuilt as a static Graph: to draw it, or to compare the modes.

Every recorded node becomes a graph op of the same type, attributes and name; the leaves become
placeholders (tensors that require grad: the parameters and inputs being differentiated) or
constants (everything else). ``flowgraph.viz.draw(graph)`` then draws a dynamic-mode step in the
style of a static graph.

>>> import flowgraph.dynamic as fd
>>> w = fd.tensor([[1.0, 2.0]], requires_grad=True)
>>> loss = (w * 3.0).relu().sum()
>>> graph, tensors = fd.tape_to_graph(loss)
>>> [op.type for op in graph.get_operations()]
['Placeholder', 'Const', 'Mul', 'Relu', 'Sum']
>>> tensors[loss].name
'Sum:0'
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic.autograd import reachable
from flowgraph.dynamic.tensor import EagerTensor
from flowgraph.graph import Graph
from flowgraph.ops.registry import apply_op
from flowgraph.ops.state import constant, placeholder


def tape_to_graph(root, graph: Graph | None = None):
    """``(graph, {eager tensor: graph tensor})`` for the tape that computed ``root`` (an
    EagerTensor, or a list of them). Raises RuntimeError if ``backward()`` freed the tape
    (call it with ``retain_graph=True`` first, or convert before backward)."""
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    for r in roots:
        if not isinstance(r, EagerTensor):
            raise TypeError(f"tape_to_graph needs flowgraph.dynamic tensors, got {r!r}")
    graph = graph or Graph()
    nodes = sorted(reachable(roots), key=lambda n: n._id)
    mapping: dict = {}
    leaves = 0
    with graph.as_default():
        for node in nodes:
            inputs = []
            for t in node.inputs:
                if t not in mapping:
                    if t.grad_fn is not None:  # made by a node off the path (cannot happen)
                        raise RuntimeError(f"tape_to_graph: {t.grad_fn} is missing")
                    mapping[t] = _leaf(t, leaves)
                    leaves += 1
                inputs.append(mapping[t])
            out = apply_op(node.type, inputs, dict(node.attrs), name=node.name)
            outs = out if isinstance(out, tuple) else (out,)
            for eager, static in zip(node.outputs, outs):
                mapping[eager] = static
        for r in roots:
            if r not in mapping:  # a root that is a leaf
                mapping[r] = _leaf(r, leaves)
                leaves += 1
    return graph, mapping


def _leaf(t: EagerTensor, index: int):
    if t.requires_grad:
        name = "parameter" if t.__class__.__name__ == "Parameter" else "input"
        return placeholder(t.dtype, list(t.shape), name=f"{name}_{index}")
    return constant(np.array(t.value), dtype=t.dtype)  # a copy: constants are read-only
