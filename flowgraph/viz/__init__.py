"""Seeing a graph: Graphviz drawings, a networkx export, and text views.

* :func:`draw` — a ``graphviz.Digraph`` with name scopes as clusters, typed edges, the gradient
  and optimizer parts set apart, optionally what a compiled plan runs and skips, and values from
  a run; it displays inline in Jupyter and renders with :func:`render_to`.
* :func:`to_networkx` — a ``networkx.DiGraph`` of ops, for graph algorithms.
* :func:`summary` and :func:`expressions` — a table and a jaxpr-like listing, for ``print``.

>>> import flowgraph as fg
>>> from flowgraph import viz
>>> with fg.Graph().as_default() as g:
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     y = fg.multiply(x, 2.0, name="y")
>>> print(viz.expressions(g))
x:f32[?,3] = Placeholder
y:f32[?,3] = Mul x:f32[?,3] 2.0
>>> dot = viz.draw(g)
>>> 'x -> y [label="float32[?,3]"' in dot.source
True
"""

import importlib

from flowgraph.graph.graph import Graph
from flowgraph.viz.scopes import value_summary
from flowgraph.viz.text import expressions, summary

# Loaded on first use, so that `import flowgraph` does not import graphviz and networkx.
# (The module is drawing.py, not draw.py: importing a submodule named `draw` would replace
# the function `viz.draw` with the module.)
_LAZY = {
    "draw": "flowgraph.viz.drawing",
    "FlowDigraph": "flowgraph.viz.render",
    "GraphvizNotFoundError": "flowgraph.viz.render",
    "render_to": "flowgraph.viz.render",
    "to_networkx": "flowgraph.viz.networkx_export",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flowgraph.viz' has no attribute {name!r}")


# print(graph) shows the op table. The viz layer installs it on Graph (as ops/operators.py
# installs Tensor's operators), so the graph layer never imports the layers above it.
Graph.summary = summary
Graph.__str__ = summary

__all__ = [
    "FlowDigraph",
    "GraphvizNotFoundError",
    "draw",
    "expressions",
    "render_to",
    "summary",
    "to_networkx",
    "value_summary",
]
