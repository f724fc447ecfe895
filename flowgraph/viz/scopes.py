"""What to draw and where: selecting ops, sorting them into sections and scopes, collapsing.

Shared by the Graphviz drawing, the networkx export and the text views.

* :func:`select_ops` turns "a graph, or some tensors / ops" into the ops to show: the whole
  graph, or the given ops and everything they depend on (data and control inputs).
* :func:`place_ops` gives each op a *section* (``forward``, ``gradients``, ``optimizer``) and a
  *path*, the name scopes it is drawn inside. Ops under a ``gradients`` scope form the gradient
  section; an optimizer's scope (``Adam``, found from its ``Apply*`` ops) and its state
  (slot variables ``w/Adam``, ``beta1_power``, with their initializers) form the optimizer
  section, the state gathered under ``Adam/state`` rather than beside each trained variable,
  scalar constants under ``Adam/hyperparameters``.
* :func:`group_ops` collapses scopes into single nodes below a depth, or named scopes.
* :func:`tensor_type` and :func:`value_summary` spell types (``float32[?,784]``) and values.

>>> import flowgraph as fg
>>> with fg.Graph().as_default() as g:
...     with fg.name_scope("layer"):
...         x = fg.placeholder(fg.float32, [None, 2], name="x")
...         y = fg.tanh(x, name="y")
...     unused = fg.exp(x, name="unused")
>>> [op.name for op in select_ops(y)[1]]
['layer/x', 'layer/y']
>>> place_ops(select_ops(g)[1])["layer/y"]
Place(section='forward', path=('layer',))
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import Graph
from flowgraph.graph.operation import Operation
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.registry import get_op_def
from flowgraph.viz.styles import is_optimizer_update

GRADIENT_SCOPE = re.compile(r"gradients(_\d+)?$")
# Pseudo-scopes inside an optimizer's scope: its state (slot variables, beta powers, their
# initializers) and its scalar hyperparameters (learning_rate, beta1, ...).
STATE = "state"
HYPERPARAMETERS = "hyperparameters"

SHORT_DTYPES = {
    "float16": "f16",
    "float32": "f32",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "bool": "bool",
}


class Place(NamedTuple):
    section: str  # "forward", "gradients" or "optimizer"
    path: tuple[str, ...]  # the name scopes the op is drawn inside, outermost first


# ---- selecting ---------------------------------------------------------------------------


def _as_element(item):
    if hasattr(item, "_as_graph_tensor"):  # a Variable
        item = item._as_graph_tensor()
    if isinstance(item, Tensor):
        return item.op
    if isinstance(item, Operation):
        return item
    raise TypeError(f"Expected a Graph, Tensor, Operation or Variable, got {item!r}")


def select_ops(graph_or_tensors=None) -> tuple[Graph, list[Operation]]:
    """``(graph, ops)``: all ops of a graph (default graph for None), or the given tensors /
    ops / Variables (one or a list) and their ancestors, in creation order."""
    if graph_or_tensors is None:
        graph_or_tensors = get_default_graph()
    if isinstance(graph_or_tensors, Graph):
        return graph_or_tensors, graph_or_tensors.get_operations()
    items = graph_or_tensors
    if not isinstance(items, (list, tuple, set, frozenset)):
        items = [items]
    roots = [_as_element(i) for i in items]
    if not roots:
        raise ValueError("Nothing to show: pass a Graph or at least one Tensor or Operation.")
    graph = roots[0].graph
    return graph, sorted(ancestors(roots), key=lambda op: op._id)


def ancestors(ops: Iterable[Operation]) -> set[Operation]:
    """``ops`` and every op they depend on through data or control inputs (iteratively)."""
    stack = list(ops)
    seen = set(stack)
    while stack:
        op = stack.pop()
        for dep in [t.op for t in op.inputs] + list(op.control_inputs):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


# ---- formatting --------------------------------------------------------------------------


def tensor_type(tensor: Tensor, short: bool = False) -> str:
    """``float32[?,784]`` (``f32[?,784]`` with ``short``); ``[]`` for a scalar."""
    dtype = tensor.dtype.name
    if short:
        dtype = SHORT_DTYPES.get(dtype, dtype)
    return f"{dtype}{tensor.shape}"


def tensor_label(tensor: Tensor) -> str:
    """A tensor's name without the ``:0`` of an op's first output."""
    return tensor.op.name if tensor.value_index == 0 else tensor.name


def value_summary(value) -> str:
    """A short description of a run's value: dtype, shape and its numbers or their range.

    >>> import numpy as np
    >>> value_summary(np.float32(0.25))
    '= 0.25'
    >>> value_summary(np.arange(6.0).reshape(2, 3))
    '= float64[2,3] mean 2.5 in [0, 5]'
    >>> value_summary(np.array([1, 2]))
    '= int64[2] [1 2]'
    """
    array = np.asarray(value)
    if array.ndim == 0:
        return f"= {array.item():.4g}" if array.dtype.kind == "f" else f"= {array.item()}"
    head = f"= {array.dtype.name}[{','.join(map(str, array.shape))}]"
    if array.size <= 4:
        return f"{head} {np.array2string(array.ravel(), precision=3)}"
    if array.dtype.kind in "biuf" and array.size:
        numbers = array.astype(np.float64)
        return f"{head} mean {numbers.mean():.3g} in [{numbers.min():.3g}, {numbers.max():.3g}]"
    return head


# ---- sections and scopes -----------------------------------------------------------------


def place_ops(ops: list[Operation]) -> dict[str, Place]:
    """Where each op is drawn, keyed by op name: its section and its scope path.

    An op whose own name is a scope of other ops (``Variable`` and ``Variable/Assign``, the
    train op ``Adam`` and ``Adam/...``) is drawn inside that scope.
    """
    selected = set(ops)
    scopes = {"/".join(p[:i]) for p in (op.name.split("/") for op in ops) for i in range(1, len(p))}
    optimizer_scopes = {op.name.split("/")[0] for op in ops if is_optimizer_update(op)}
    state = _optimizer_state(ops, selected, optimizer_scopes)
    initializers = _initializers(ops, selected, scopes, state)
    places = {}
    for op in ops:
        parts = op.name.split("/")
        path = tuple(parts if op.name in scopes else parts[:-1])
        if op in initializers:
            path = tuple(initializers[op].name.split("/"))
            parts = list(path) + [op.name]
        top = parts[0] if len(parts) > 1 or op.name in scopes else None
        if op in state:
            places[op.name] = Place("optimizer", (state[op], STATE))
        elif top is not None and GRADIENT_SCOPE.match(top):
            places[op.name] = Place("gradients", path)
        elif top is not None and top in optimizer_scopes:
            if path == (top,) and _is_scalar_const(op):
                path = (top, HYPERPARAMETERS)
            places[op.name] = Place("optimizer", path)
        else:
            places[op.name] = Place("forward", path)
    return places


def _is_scalar_const(op) -> bool:
    return get_op_def(op.type).is_constant and bool(op.outputs) and op.outputs[0].shape.rank == 0


def _optimizer_state(ops, selected, optimizer_scopes) -> dict[Operation, str]:
    """Optimizer state ops mapped to their optimizer's scope.

    A state variable is a variable read only by ops of one optimizer scope (Adam's slots and
    beta powers; a trained weight is also read by the forward graph). Its initializer — the
    ``Assign`` that sets it and whatever only that Assign needs — goes with it.
    """
    if not optimizer_scopes:
        return {}
    graph = ops[0].graph

    def scope_of(op):
        top = op.name.split("/")[0]
        return top if top in optimizer_scopes and "/" in op.name else None

    state: dict[Operation, str] = {}
    for op in ops:
        if not get_op_def(op.type).is_variable:
            continue
        readers = [c for c in graph.consumers_of(op.outputs[0]) if c in selected]
        initializers = [
            c for c in readers if get_op_def(c.type).overwrites_variable and scope_of(c) is None
        ]
        owners = {scope_of(c) for c in readers if c not in initializers}
        if len(owners) != 1 or None in owners:
            continue
        owner = owners.pop()
        state[op] = owner
        for init in initializers:
            state[init] = owner
            _claim_exclusive_inputs(init, state, owner, graph, selected)
    # What was built inside a state op's own scope (``w/Adam_init/Const``) goes with it.
    heads = {op.name: owner for op, owner in state.items()}
    for op in ops:
        parts = op.name.split("/")
        prefixes = ("/".join(parts[:i]) for i in range(1, len(parts)))
        head = next((p for p in prefixes if p in heads), None)
        if head is not None and op not in state:
            state[op] = heads[head]
    return state


def _initializers(ops, selected, scopes, taken) -> dict[Operation, Operation]:
    """The ops that only compute a variable's initial value, mapped to that variable.

    ``W = Variable(random_normal(...))`` builds ``random_normal`` outside W's scope; drawing
    it inside W's cluster, beside ``W/Assign``, shows W with its initializer as one unit.
    """
    if not ops:
        return {}
    graph = ops[0].graph
    found: dict[Operation, Operation] = {}
    for op in ops:
        if not get_op_def(op.type).is_variable or op in taken or op.name not in scopes:
            continue
        for init in graph.consumers_of(op.outputs[0]):
            if (
                get_op_def(init.type).overwrites_variable
                and init.name == op.name + "/Assign"
                and init in selected
            ):
                claimed = {init: op}
                _claim_exclusive_inputs(init, claimed, op, graph, selected)
                found.update((k, v) for k, v in claimed.items() if k is not init)
    return {k: v for k, v in found.items() if k not in taken}


def _claim_exclusive_inputs(op, claimed, owner, graph, selected) -> None:
    """Add to ``claimed`` the ops feeding ``op`` that nothing outside ``claimed`` consumes."""
    stack = [t.op for t in op.inputs[1:]]
    while stack:
        dep = stack.pop()
        kind = get_op_def(dep.type)
        if dep in claimed or dep not in selected or kind.is_variable or kind.must_be_fed:
            continue
        consumers = [c for t in dep.outputs for c in graph.consumers_of(t) if c in selected]
        if all(c in claimed for c in consumers):
            claimed[dep] = owner
            stack.extend(t.op for t in dep.inputs)


# ---- collapsing --------------------------------------------------------------------------


def group_ops(
    ops: list[Operation],
    places: Mapping[str, Place],
    collapse=None,
    max_nodes: int = 150,
) -> dict[str, tuple[str, ...] | None]:
    """The collapsed scope each op is drawn as (a path), or None where the op is drawn itself.

    ``collapse`` is

    * ``None`` (automatic): the forward graph shows every op; the gradient section one node
      per ``<op>_grad`` scope, the optimizer one node for its state and one for its
      hyperparameters; if that drawing would exceed ``max_nodes`` nodes, every scope collapses
      below the deepest depth that fits;
    * an int ``k >= 1``: every scope at depth ``k`` becomes one node (``0``: nothing collapses);
    * scope names (``["gradients", "Adam"]``): each of these scopes becomes one node.

    A scope holding a single op is never collapsed: the op itself says more.
    """
    if collapse is None:
        groups = _group(ops, places, _automatic_depth)
        depth = _max_depth(places) + 1
        while _count_nodes(groups) > max_nodes and depth > 1:
            depth -= 1
            groups = _group(ops, places, lambda p, d=depth: min(d, _automatic_depth(p) or d))
        return groups
    if isinstance(collapse, bool) or isinstance(collapse, int):
        k = int(collapse)
        if k < 0:
            raise ValueError(f"collapse must be >= 0, got {collapse}")
        return _group(ops, places, lambda p: k or None)
    if isinstance(collapse, str):
        collapse = [collapse]
    names = [tuple(s.strip("/").split("/")) for s in collapse]
    return _group(ops, places, lambda p: _named_depth(p.path, names))


def _automatic_depth(place: Place) -> int | None:
    """Where the default drawing collapses an op's scopes (None: it draws the op)."""
    if place.section == "gradients":
        # gradients/layer1/MatMul_grad/...: one node per op's gradient.
        for i, part in enumerate(place.path):
            if part.endswith("_grad"):
                return i + 1
    elif place.section == "optimizer" and place.path[1:2] in ((STATE,), (HYPERPARAMETERS,)):
        return 2
    return None


def _named_depth(path, names) -> int | None:
    depths = [len(n) for n in names if path[: len(n)] == n]
    return min(depths) if depths else None


def _group(ops, places, depth_of) -> dict[str, tuple[str, ...] | None]:
    groups: dict[str, tuple[str, ...] | None] = {}
    sizes: dict[tuple[str, ...], int] = {}
    for op in ops:
        place = places[op.name]
        depth = depth_of(place)
        key = place.path[:depth] if depth and len(place.path) >= depth else None
        groups[op.name] = key
        if key is not None:
            sizes[key] = sizes.get(key, 0) + 1
    for name, key in groups.items():
        if key is not None and sizes[key] == 1:
            groups[name] = None
    return groups


def _count_nodes(groups) -> int:
    return sum(1 for g in groups.values() if g is None) + len(
        {g for g in groups.values() if g is not None}
    )


def _max_depth(places) -> int:
    return max((len(p.path) for p in places.values()), default=0)


# ---- control edges ---------------------------------------------------------------------


def without_implied(control: dict, data: dict, limit: int = 2000) -> dict:
    """The control edges whose ordering no other path of the drawing already implies.

    ``group(a, b)`` after ``b`` reads ``a`` needs no dashed line from ``a``: ``b`` is drawn
    between them. Skipped (all edges kept) on drawings with more than ``limit`` edges.
    """
    if len(control) + len(data) > limit:
        return control
    successors = defaultdict(set)
    for src, dst in list(data) + list(control):
        successors[src].add(dst)
    kept = {}
    for src, dst in control:
        if (src, dst) not in data and not _reaches(successors, src, dst):
            kept[(src, dst)] = None
    return kept


def _reaches(successors, src, dst) -> bool:
    """Whether ``dst`` is reachable from ``src`` by a path of two or more edges."""
    stack = [n for n in successors[src] if n != dst]
    seen = set(stack)
    while stack:
        node = stack.pop()
        if dst in successors[node]:
            return True
        for nxt in successors[node] - seen:
            seen.add(nxt)
            stack.append(nxt)
    return False


def layout_span(edges) -> int:
    """How many ranks ``edges`` (node pairs) cross in a layered layout, in total.

    dot adds a virtual node per rank an edge crosses and routes a spline through each; this
    sum, not the node count, is what makes a deep network's drawing (activations feeding the
    far end of the backward pass) slow. Ranks are longest-path layers; cycles, possible once
    scopes are collapsed, are contracted first.
    """
    import networkx as nx  # here, not at `import flowgraph` (~40 ms)

    G = nx.DiGraph(list(edges))
    if not G:
        return 0
    condensed = nx.condensation(G)
    component = condensed.graph["mapping"]
    rank: dict[int, int] = {}
    for node in nx.topological_sort(condensed):
        rank[node] = max((rank[p] + 1 for p in condensed.predecessors(node)), default=0)
    return sum(abs(rank[component[b]] - rank[component[a]]) for a, b in G.edges)
