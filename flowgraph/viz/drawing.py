"""Drawing a graph with Graphviz: scopes as clusters, typed edges, what a run executes.

>>> import flowgraph as fg
>>> with fg.Graph().as_default() as g:
...     x = fg.placeholder(fg.float32, [None, 784], name="x")
...     with fg.name_scope("layer"):
...         w = fg.Variable(fg.zeros([784, 10]), name="w")
...         y = fg.matmul(x, w, name="y")
>>> dot = draw(g)
>>> "cluster_layer" in dot.source, 'label="float32[?,784]"' in dot.source
(True, True)
>>> print(dot.source)  # doctest: +ELLIPSIS
digraph flowgraph {
...
        x [label="Placeholder\\nx\\nfloat32[?,784]" ... shape=invhouse ...]
...
        x -> "layer/y" [label="float32[?,784]" tooltip="x:0: float32[?,784]"]
...
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from flowgraph.backends import canonical_device
from flowgraph.compiler.plan import compile_plan  # viz sits above the compiler
from flowgraph.graph.operation import Operation
from flowgraph.graph.site import gradient_of
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.registry import get_op_def
from flowgraph.viz import styles
from flowgraph.viz.render import FlowDigraph
from flowgraph.viz.scopes import (
    HYPERPARAMETERS,
    STATE,
    group_ops,
    layout_span,
    place_ops,
    select_ops,
    tensor_type,
    value_summary,
    without_implied,
)


def draw(
    graph_or_tensors=None,
    *,
    collapse=None,
    max_nodes: int = 150,
    plan=None,
    fetches=None,
    feeds=None,
    values=None,
    show_gradients: bool = True,
    legend: bool = True,
    edge_labels: bool | None = None,
    implied_control: bool = False,
    rankdir: str = "TB",
    graph_attr: dict | None = None,
) -> FlowDigraph:
    """A ``graphviz.Digraph`` of a graph, or of what some tensors / ops depend on.

    ``graph_or_tensors``: a Graph (default: the default graph), or tensors / ops / Variables,
    drawn with their ancestors. Name scopes become nested clusters (``cluster_<scope>``); ops
    under ``gradients`` and an optimizer's ops and state (``Adam``) get clusters and colours of
    their own; ``show_gradients=False`` leaves both out.

    ``collapse`` turns scopes into single nodes: ``None`` (default) shows the forward graph op
    by op, the gradients one node per op's gradient (``<op>_grad``) and the optimizer's state
    and hyperparameters one node each, collapsing further if the drawing would exceed
    ``max_nodes`` nodes; an int ``k`` collapses every scope at depth ``k`` (``0``: nothing);
    a list of scope names collapses those.

    Ops placed on different devices (``fg.device``) get their device's outline colour, named
    in the legend.

    ``plan`` (a compiled Plan) or ``fetches`` / ``feeds`` (compiled here): number the ops in
    execution order and grey out the ops the run skips. ``values``: ``{tensor: array}``
    (e.g. after ``sess.run``) shown on the producing ops as dtype, shape and a short summary.

    Edges carry dtype and static shape (``float32[?,784]``), also as SVG tooltips; a drawing
    whose edges are many or long (a deep net's activations feeding its backward pass) leaves
    the labels out unless ``edge_labels=True`` and gets a faster layout (straight edges),
    since dot slows down sharply there;
    control dependencies are dashed, leaving out those another path already implies unless
    ``implied_control=True``; an update's edge from the variable it writes is red. A scope
    holding a single node gets no cluster: the node's label names the scope.

    Render with ``.render_to(path)`` or ``.pipe(format="svg")``, or display it in Jupyter.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default() as g:
    ...     x = fg.placeholder(fg.float32, [None], name="x")
    ...     y = fg.tanh(x * 2.0, name="y")
    ...     unused = fg.exp(x, name="unused")
    >>> dot = draw(g, fetches=[y], feeds=[x])
    >>> "#3 Tanh" in dot.source, "(fed)" in dot.source
    (True, True)
    >>> [line.split()[0] for line in dot.source.splitlines() if "dashed" in line]
    ['unused', 'legend_pruned']
    """
    graph, ops = select_ops(
        graph_or_tensors if graph_or_tensors is not None else _graph_of(fetches)
    )
    places = place_ops(ops)
    if not show_gradients:
        ops = [op for op in ops if places[op.name].section == "forward"]
    if plan is None and fetches is not None:
        plan = _compile(graph, fetches, feeds)
    groups = group_ops(ops, places, collapse, max_nodes)
    values = _resolve_values(graph, values)
    drawing = _Drawing(graph, ops, places, groups, plan, values, implied_control)
    attrs = dict(styles.GRAPH_ATTRS, rankdir=rankdir, newrank="true", compound="true")
    attrs.update(graph_attr or {})
    dot = FlowDigraph(
        "flowgraph",
        graph_attr=attrs,
        node_attr=styles.NODE_ATTRS,
        edge_attr=dict(styles.EDGE_ATTRS, **styles.DATA_EDGE),
    )
    drawing.emit(dot, edge_labels)
    if drawing.large:
        # dot's spline routing and network simplex blow up on long edges (a deep net's
        # activations feeding its backward pass): straight lines and fewer iterations.
        dot.graph_attr.update({**styles.FAST_LAYOUT, **(graph_attr or {})})
    if legend:
        styles.add_legend(dot, drawing.legend_entries())
    return dot


def _graph_of(fetches):
    """The whole graph of the fetches (default graph for names): the drawing shows what a
    run skips as well as what it runs."""
    items = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    for item in items:
        if item is not None and not isinstance(item, str):
            return _element(None, item).graph
    return None


def _compile(graph, fetches, feeds):
    fetches = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    fetches = [_element(graph, f) for f in fetches]
    feeds = [_element(graph, f) for f in (feeds or ())]  # a feed_dict gives its keys
    return compile_plan(fetches, feeds)


def _element(graph, item):
    if isinstance(item, str):
        return graph.as_graph_element(item)
    return item._as_graph_tensor() if hasattr(item, "_as_graph_tensor") else item


def _resolve_values(graph, values) -> dict:
    out = {}
    for key, value in (values or {}).items():
        key = _element(graph, key)
        if isinstance(key, Operation):
            if not key.outputs:
                continue
            key = key.outputs[0]
        out[key] = value
    return out


class _Drawing:
    """The nodes, clusters and edges of one drawing, before they are written as DOT."""

    def __init__(self, graph, ops, places, groups, plan, values, implied_control):
        self.graph, self.ops, self.places, self.groups = graph, ops, places, groups
        self.values, self.implied_control = values, implied_control
        self.order = {op: i + 1 for i, op in enumerate(plan.ops)} if plan is not None else None
        self.fed = {t.op for t in plan.feeds} if plan is not None else set()
        self.categories: set[str] = set()
        self.sections: set[str] = set()
        self.devices = {op: canonical_device(op.device) for op in ops}
        self.device_colors = styles.device_colors(self.devices.values())
        self.has_control = self.has_pruned = self.has_ref = self.large = False

    def node_id(self, op) -> str:
        group = self.groups.get(op.name)
        name = op.name if group is None else "/".join(group) + "/"
        return name.replace(":", "_")  # ':' would read as a Graphviz port

    # ---- nodes -------------------------------------------------------------------------------
    def emit(self, dot, edge_labels: bool | None) -> None:
        members = defaultdict(list)  # node id -> ops it stands for
        for op in self.ops:
            members[self.node_id(op)].append(op)
        nodes_in = defaultdict(list)  # cluster path -> node ids
        cluster_section: dict[tuple, str] = {}
        for node, node_ops in members.items():
            group = self.groups[node_ops[0].name]
            path = self.places[node_ops[0].name].path if group is None else group[:-1]
            nodes_in[path].append(node)
            section = self.places[node_ops[0].name].section
            for i in range(1, len(path) + 1):
                cluster_section.setdefault(path[:i], section)
        children = defaultdict(list)
        for path in sorted(cluster_section, key=len, reverse=True):
            if len(nodes_in[path]) == 1 and not children[path]:
                # A cluster around one node is clutter: the node's label names the scope.
                nodes_in[path[:-1]].extend(nodes_in.pop(path))
                del cluster_section[path]
            else:
                children[path[:-1]].append(path)
        self._emit_cluster(dot, (), nodes_in, children, cluster_section, members)
        self._emit_edges(dot, edge_labels)

    def _emit_cluster(self, container, path, nodes_in, children, sections, members):
        for node in nodes_in.get(path, ()):
            ops = members[node]
            if self.groups[ops[0].name] is None:
                container.node(node, **self._op_attrs(ops[0], path))
            else:
                container.node(node, **self._group_attrs(self.groups[ops[0].name], ops, path))
        for child in children.get(path, ()):
            section = sections[child]
            self.sections.add(section)
            with container.subgraph(name="cluster_" + "/".join(child)) as sub:
                sub.attr(label=_cluster_label(child, section), **_cluster_attrs(child, section))
                self._emit_cluster(sub, child, nodes_in, children, sections, members)

    def _op_attrs(self, op, cluster: tuple[str, ...]) -> dict:
        category = styles.op_category(op)
        self.categories.add(category)
        section = self.places[op.name].section
        style = styles.node_style(category, section)
        head = op.type
        lines = []
        name = _relative_name(op.name, cluster)
        if name.endswith("/" + op.type):
            name = name[: -len(op.type) - 1]
        if name != op.type:
            lines.append(name)
        if category in ("placeholder", "variable") and op.outputs:
            lines.append(tensor_type(op.outputs[0]))
        if category == "constant" and np.ndim(op.attrs.get("value")) == 0:
            lines.append(value_summary(op.attrs["value"]))
        if self.order is not None:
            if op in self.order:
                head = f"#{self.order[op]} {head}"
            elif op in self.fed:
                lines.append("(fed)")
                style["color"] = styles.FED_COLOR
                style["penwidth"] = "2"
            else:
                style = styles.pruned(style)
                self.has_pruned = True
        if self.device_colors and "penwidth" not in style and "dashed" not in style["style"]:
            style.update(self._device_style([op]))
        lines += [
            (f"{t.value_index}: " if len(op.outputs) > 1 else "") + value_summary(self.values[t])
            for t in op.outputs
            if t in self.values
        ]
        return dict(style, label=styles.escape("\n".join([head, *lines])), tooltip=_tooltip(op))

    def _group_attrs(self, group, ops, cluster: tuple[str, ...]) -> dict:
        section = self.places[ops[0].name].section
        self.sections.add(section)
        style = styles.collapsed_style(section)
        label = "/".join(group[len(cluster) :])
        lines = [label, f"{len(ops)} ops"]
        if group[-1] == STATE:
            n_vars = sum(styles.op_category(op) == "variable" for op in ops)
            lines = ["optimizer state", f"{n_vars} variables", f"+{len(ops) - n_vars} ops"]
        elif group[-1] == HYPERPARAMETERS:
            # Learning rate and friends are worth reading off the drawing.
            lines = [label] + [
                f"{op.name.rsplit('/', 1)[-1]} {value_summary(op.attrs['value'])}"
                for op in ops
                if get_op_def(op.type).is_constant
            ]
        head = next((op for op in ops if op.name == "/".join(group)), None)
        if head is not None and styles.op_category(head) == "variable":
            # A variable's scope (the variable, its Assign, its initial value) reads best as
            # the variable itself.
            self.categories.add("variable")
            style = styles.node_style("variable")
            lines = [label, tensor_type(head.outputs[0]), f"+{len(ops) - 1} ops"]
        if self.order is not None and head is not None and head in self.order:
            lines[0] = f"#{self.order[head]} {lines[0]}"
        elif self.order is not None:
            numbers = sorted(self.order[op] for op in ops if op in self.order)
            if numbers:
                first, last = numbers[0], numbers[-1]
                span = f"#{first}" if first == last else f"#{first}–#{last}"
                lines[0] = f"{span} {lines[0]}"
                lines.append(f"{len(numbers)} of {len(ops)} ops run")
            else:
                style = styles.pruned(style)
                self.has_pruned = True
        if self.device_colors and "dashed" not in style["style"]:
            style.update(self._device_style(ops))
        types = sorted({op.type for op in ops})
        text = f"{'/'.join(group)}: {len(ops)} ops\ntypes: {', '.join(types)}"
        forward = {op.original_op for op in ops}
        if len(forward) == 1 and None not in forward:  # one forward op's gradient scope
            text += "\n" + gradient_of(forward.pop())
        tooltip = styles.escape(text)
        return dict(style, label=styles.escape("\n".join(lines)), tooltip=tooltip)

    def _device_style(self, ops) -> dict:
        """The outline of the device all of ``ops`` are on (nothing when they are on several)."""
        devices = {self.devices[op] for op in ops}
        if len(devices) != 1:
            return {}
        return {"color": self.device_colors[devices.pop()], "penwidth": styles.DEVICE_PENWIDTH}

    def legend_entries(self) -> dict:
        """What the legend has to explain: the styles this drawing used."""
        return {
            "devices": self.device_colors,
            "categories": self.categories,
            "sections": self.sections,
            "collapsed": any(g is not None for g in self.groups.values()),
            "pruned": self.has_pruned,
            "ref": self.has_ref,
            "control": self.has_control,
        }

    # ---- edges -------------------------------------------------------------------------------
    def _emit_edges(self, dot, edge_labels: bool | None) -> None:
        selected = set(self.ops)
        data: dict[tuple[str, str], dict] = {}
        control: dict[tuple[str, str], None] = {}
        for op in self.ops:
            dst = self.node_id(op)
            refs = _ref_inputs(op)
            for i, t in enumerate(op.inputs):
                src = self.node_id(t.op)
                if t.op in selected and src != dst:
                    entry = data.setdefault((src, dst), {"tensors": {}, "ref": False})
                    entry["tensors"][t] = None
                    entry["ref"] |= i in refs
            for c in op.control_inputs:
                src = self.node_id(c)
                if c in selected and src != dst:
                    control[(src, dst)] = None
        if not self.implied_control:
            control = without_implied(control, data)
        edges = list(data) + list(control)
        self.large = len(edges) > styles.LARGE_EDGES or layout_span(edges) > styles.LARGE_SPAN
        if edge_labels is None:
            edge_labels = not self.large  # labels double dot's ranks: big drawings go slow
        for (src, dst), entry in data.items():
            tensors = list(entry["tensors"])
            attrs = {"tooltip": ", ".join(f"{t.name}: {tensor_type(t)}" for t in tensors)}
            if edge_labels:
                attrs["label"] = _edge_label(tensors)
            if entry["ref"]:
                attrs.update(styles.REF_EDGE)
                self.has_ref = True
            dot.edge(src, dst, **attrs)
        for src, dst in control:
            self.has_control = True
            dot.edge(src, dst, **styles.CONTROL_EDGE)


def _ref_inputs(op) -> tuple[int, ...]:
    try:
        return get_op_def(op.type).ref_inputs
    except KeyError:
        return ()


def _edge_label(tensors: list[Tensor]) -> str:
    if len(tensors) == 1:
        t = tensors[0]
        return (f":{t.value_index} " if t.value_index else "") + tensor_type(t)
    return f"{len(tensors)} tensors"


def _tooltip(op) -> str:
    outputs = ", ".join(tensor_type(t) for t in op.outputs) or "none"
    device = f"\ndevice: {op.device}" if op.device else ""
    text = f"{op.name} ({op.type})\ncreated at {op.site}\noutputs: {outputs}{device}"
    return styles.escape(text)


def _relative_name(name: str, cluster: tuple[str, ...]) -> str:
    """``name`` without the scopes of the cluster it is drawn in."""
    prefix = "/".join(cluster) + "/"
    return name[len(prefix) :] if cluster and name.startswith(prefix) else name


def _cluster_label(path, section) -> str:
    if path[-1] == STATE:
        return "optimizer state (slots, beta powers)"
    if len(path) == 1 and section in styles.SECTION_DESCRIPTIONS:
        description = styles.SECTION_DESCRIPTIONS[section]
        if description.startswith(path[0]):
            return description
        return f"{path[0]}: {description}"
    return path[-1]


def _cluster_attrs(path, section) -> dict:
    attrs = dict(styles.SECTION_STYLES[section])
    attrs["fillcolor"] = attrs.pop("bgcolor")
    attrs["style"] = "rounded,filled" if len(path) > 1 else "filled,bold"
    attrs["fontsize"] = "11" if len(path) == 1 else "9"
    attrs["labeljust"] = "l"
    return attrs
