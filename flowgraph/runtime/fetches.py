"""Fetch structures: any nesting of lists, tuples, dicts and namedtuples of graph elements.

``flatten`` turns a structure into a flat list of Tensors/Operations plus a rebuild function
that puts fetched values back into the same structure.
"""

from __future__ import annotations

from flowgraph.errors import echo
from flowgraph.graph.operation import Operation
from flowgraph.graph.tensor import Tensor


def flatten(fetches, graph):
    """``(elements, rebuild)``: the graph elements in ``fetches`` and a structure rebuilder."""
    elements: list = []

    def walk(item):
        if isinstance(item, dict):
            keys = list(item)
            parts = [walk(item[k]) for k in keys]
            kind = type(item)
            return lambda values: kind(zip(keys, (p(values) for p in parts)))
        if isinstance(item, (list, tuple)):
            parts = [walk(x) for x in item]
            if hasattr(item, "_fields"):  # namedtuple
                kind = type(item)
                return lambda values: kind(*(p(values) for p in parts))
            kind = type(item)
            return lambda values: kind(p(values) for p in parts)
        index = len(elements)
        elements.append(as_fetch_element(item, graph))
        return lambda values: values[index]

    return elements, walk(fetches)


def as_fetch_element(item, graph):
    """A Tensor or Operation for ``item`` (Tensor, Operation, Variable, or a name string)."""
    if isinstance(item, (Tensor, Operation)):
        if item.graph is not graph:
            raise ValueError(other_graph_message("Fetch", item))
        return item
    as_tensor = getattr(item, "_as_graph_tensor", None)
    if as_tensor is not None:
        return as_fetch_element(as_tensor(), graph)
    if isinstance(item, str):
        try:
            return graph.as_graph_element(item)
        except KeyError as e:
            raise ValueError(f"Cannot fetch {echo(item)}: {e.args[0]}") from None
    raise TypeError(
        f"Fetch argument {echo(item)} has invalid type {type(item).__name__}: it must be a Tensor, "
        "an Operation, a Variable, a tensor or op name, or a list/tuple/dict of these."
    )


def other_graph_message(what: str, item) -> str:
    """Why ``item`` (a Tensor or Operation of another graph) cannot be fetched or fed, and
    what to do instead."""
    op = getattr(item, "op", item)
    return (
        f"{what} {item.name!r} is not an element of this session's graph: it was created at "
        f"{op.site} in another graph. Run it in a session of its own graph, "
        f"flowgraph.Session(graph=t.graph) where t is {item.name!r}, or build it inside "
        "`with sess.graph.as_default():`. (Common causes: a Session made before "
        "`with flowgraph.Graph().as_default():`, or a tensor kept from before "
        "flowgraph.reset_default_graph().)"
    )
