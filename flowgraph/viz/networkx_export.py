"""A graph as a ``networkx.DiGraph``: one node per op, one edge per producer -> consumer.

Every attribute is a plain string, int or bool, so the result can also be written with
``networkx.write_graphml`` or read into other tools.

>>> import networkx as nx
>>> import flowgraph as fg
>>> with fg.Graph().as_default() as g:
...     x = fg.placeholder(fg.float32, [None, 784], name="x")
...     y = fg.nn.relu(x, name="y")
>>> G = to_networkx(g)
>>> G.nodes["y"]["type"], G.edges["x", "y"]["shape"], list(nx.topological_sort(G))
('Relu', '[?,784]', ['x', 'y'])
"""

from __future__ import annotations

import networkx as nx

from flowgraph.viz.scopes import place_ops, select_ops
from flowgraph.viz.styles import op_category


def to_networkx(graph_or_tensors=None, multigraph: bool = False) -> nx.DiGraph:
    """The ops of a graph (or the ancestors of some tensors / ops) as a networkx graph.

    Nodes are op names with attributes ``type``, ``device``, ``dtype`` and ``shape`` (of the
    first output; ``""`` for an op without outputs), ``dtypes`` / ``shapes`` (all outputs,
    comma separated), ``num_outputs``, ``category`` (placeholder, variable, constant, op,
    stateful, update, control), ``section`` (forward, gradients, optimizer), ``scope``,
    ``site`` (where the op was created) and ``index`` (creation order).

    A data edge carries ``tensor`` (``"MatMul:0"``), ``dtype``, ``shape``, ``input_index`` and
    ``control=False``; a control dependency is an edge with ``control=True``. A DiGraph keeps
    one edge per pair of ops (the first tensor; a data edge wins over a control edge); with
    ``multigraph=True`` a MultiDiGraph keeps one edge per input.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default() as g:
    ...     a = fg.constant(1.0, name="a")
    ...     with fg.control_dependencies([a]):
    ...         b = fg.constant(2.0, name="b")
    >>> to_networkx(g).edges["a", "b"]
    {'control': True}
    """
    graph, ops = select_ops(graph_or_tensors)
    places = place_ops(ops)
    selected = set(ops)
    G = nx.MultiDiGraph() if multigraph else nx.DiGraph()
    G.graph["name"] = "flowgraph"
    for op in ops:
        dtypes = [t.dtype.name for t in op.outputs]
        shapes = [str(t.shape) for t in op.outputs]
        G.add_node(
            op.name,
            type=op.type,
            device=op.device,
            dtype=dtypes[0] if dtypes else "",
            shape=shapes[0] if shapes else "",
            dtypes=",".join(dtypes),
            shapes=",".join(shapes),
            num_outputs=len(op.outputs),
            category=op_category(op),
            section=places[op.name].section,
            scope="/".join(places[op.name].path),
            site=str(op.site),
            index=op._id,
        )
    for op in ops:
        for i, t in enumerate(op.inputs):
            if t.op not in selected or (not multigraph and G.has_edge(t.op.name, op.name)):
                continue
            G.add_edge(
                t.op.name,
                op.name,
                tensor=t.name,
                dtype=t.dtype.name,
                shape=str(t.shape),
                input_index=i,
                control=False,
            )
        for c in op.control_inputs:
            if c in selected and (multigraph or not G.has_edge(c.name, op.name)):
                G.add_edge(c.name, op.name, control=True)
    return G
