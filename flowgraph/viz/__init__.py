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

from flowgraph.graph.graph import Graph
from flowgraph.viz.draw import draw
from flowgraph.viz.networkx_export import to_networkx
from flowgraph.viz.render import FlowDigraph, GraphvizNotFoundError, render_to
from flowgraph.viz.scopes import value_summary
from flowgraph.viz.text import expressions, summary

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
