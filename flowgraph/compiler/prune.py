"""Pruning and ordering: the ops a (fetches, feeds) signature needs, in an order that runs.

Pruning walks back from the fetched ops through data inputs and control inputs; a fed tensor
cuts the walk (its producer need not run), and an Assign's target variable is not read.
Ordering is a topological sort (networkx) that keeps the user's creation order where the
dependencies allow it, so generated code reads like the program that built the graph.
:func:`pruned_ops` does both in one linear walk when every dependency points from an older op
to a newer one (always, unless a control input was added after the fact): creation order is
then that topological order, and networkx is needed only for the other case and for errors.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [], name="x")
...     y = fg.exp(x, name="y")
...     unused = fg.sin(x, name="unused")
...     z = fg.tanh(y, name="z")
>>> [op.name for op in pruned_ops([z], [x])]
['y', 'z']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowgraph.errors import InvalidArgumentError
from flowgraph.ops.registry import get_op_def

if TYPE_CHECKING:  # networkx is imported where it is used (~40 ms), not by `import flowgraph`
    import networkx as nx


def pruned_ops(fetches, feeds, frozen=frozenset()) -> list:
    """The ops that ``fetches`` (Tensors or Operations) need given the fed tensors ``feeds``,
    in execution order: :func:`dependency_graph`, :func:`check_feeds` and
    :func:`execution_order` in one linear walk when creation order allows it.

    A fetched tensor that is also fed needs nothing: its fed value is returned. ``frozen`` ops
    never run, not even as control inputs: a gradient function passes the values its forward
    pass's stateful ops produced and must not run those ops again.
    """
    fed = set(feeds)
    fetch_ops = list(dict.fromkeys(getattr(f, "op", f) for f in fetches if f not in fed))
    seen = set(fetch_ops)
    stack = list(fetch_ops)
    forward = True  # every edge goes from an older op to a newer one
    unfed = False
    while stack:
        op = stack.pop()
        if get_op_def(op.type).must_be_fed:
            unfed = True
        refs = get_op_def(op.type).ref_inputs
        op_id = op._id
        for i, t in enumerate(op.inputs):
            if t in fed or (refs and i in refs):
                continue
            producer = t.op
            if producer in frozen:
                raise InvalidArgumentError(
                    op=op, message=f"{op.name!r} needs {t.name!r}, whose op must not run again"
                )
            if producer._id >= op_id:
                forward = False
            if producer not in seen:
                seen.add(producer)
                stack.append(producer)
        for producer in op.control_inputs:
            if producer in frozen:
                continue
            if producer._id >= op_id:
                forward = False
            if producer not in seen:
                seen.add(producer)
                stack.append(producer)
    if forward and not unfed:
        return sorted(seen, key=_creation_order)
    deps = dependency_graph(fetch_ops, feeds, frozen)
    check_feeds(deps, fetch_ops, fed)
    return execution_order(deps)


def _creation_order(op) -> int:
    return op._id


def dependency_graph(fetch_ops, fed_tensors, frozen=frozenset()) -> nx.DiGraph:
    """The DiGraph of ops the fetches need, with an edge ``producer -> consumer``.

    The walk is iterative (a 100,000-op chain must not hit Python's recursion limit).
    """
    import networkx as nx

    fed = set(fed_tensors)
    deps = nx.DiGraph()
    stack = list(fetch_ops)
    deps.add_nodes_from(stack)
    seen = set(stack)
    while stack:
        op = stack.pop()
        refs = get_op_def(op.type).ref_inputs
        for i, t in enumerate(op.inputs):
            if t in fed or i in refs:
                continue
            _add_edge(deps, t.op, op, seen, stack)
        for c in op.control_inputs:
            if c not in frozen:
                _add_edge(deps, c, op, seen, stack)
    return deps


def _add_edge(deps, producer, consumer, seen, stack) -> None:
    deps.add_edge(producer, consumer)
    if producer not in seen:
        seen.add(producer)
        stack.append(producer)


def execution_order(deps: nx.DiGraph) -> list:
    """Ops in a topological order, earliest-created first among the ready ones.

    Raises InvalidArgumentError naming the ops of a cycle (possible only through control
    inputs added after the fact).
    """
    import networkx as nx

    try:
        return list(nx.lexicographical_topological_sort(deps, key=lambda op: op._id))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(deps)
        names = " -> ".join(f"{a.name} ({a.type})" for a, _ in cycle) + f" -> {cycle[0][0].name}"
        raise InvalidArgumentError(message=f"The graph has a cycle: {names}") from None


def check_feeds(deps: nx.DiGraph, fetch_ops, fed_tensors) -> None:
    """InvalidArgumentError for a placeholder the fetches need that is not fed.

    The message names the placeholder, its dtype and shape, the fetch that needs it, and where
    the placeholder was created.
    """
    import networkx as nx

    for op in deps.nodes:
        if get_op_def(op.type).must_be_fed and op.outputs[0] not in fed_tensors:
            t = op.outputs[0]
            needer = next((f for f in fetch_ops if nx.has_path(deps, op, f)), op)
            raise InvalidArgumentError(
                op=op,
                message=(
                    f"You must feed a value for placeholder tensor {t.name!r} with dtype "
                    f"{t.dtype.name} and shape {t.shape}: fetch {needer.name!r} needs it.\n"
                    f"  placeholder created at {op.site}"
                ),
            )
