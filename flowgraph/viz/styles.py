"""How a drawing looks: one category per op, one Graphviz style per category and per section.

Every op falls in exactly one category, decided from its type and its registry flags:

- ``placeholder``: ``Placeholder``, ``PlaceholderWithDefault`` — an amber house (fed in);
- ``variable``: ``VariableV2`` — a green cylinder (state the session keeps);
- ``constant``: ``Const`` — a small grey box;
- ``update``: stateful ops with ref inputs (``Assign*``, ``Apply*``) — a red bold box;
- ``stateful``: other stateful ops (``Random*``, ``Print``) — a pink hexagon;
- ``control``: ``NoOp`` (``group``, a train op) — a white octagon;
- ``op``: everything else — a blue ellipse.

Sections tint whole clusters: the forward graph stays white, ops under a ``gradients`` scope are
orange, an optimizer's ops and state are violet, so a student sees the three parts apart.

When the drawn ops are placed on more than one device (``with fg.device("/gpu:0"):``), each
op's outline takes its device's colour (:func:`device_colors`) and the legend names them.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     w = fg.Variable(fg.random_normal([3, 2]), name="w")
...     y = fg.matmul(x, w)
>>> [op_category(t.op) for t in (x, w._as_graph_tensor(), y)]
['placeholder', 'variable', 'op']
>>> node_style("variable")["shape"]
'cylinder'
"""

from __future__ import annotations

from flowgraph.ops.registry import get_op_def

# The order here is the legend's order.
CATEGORY_STYLES: dict[str, dict[str, str]] = {
    "placeholder": {"shape": "invhouse", "style": "filled", "fillcolor": "#fde68a"},
    "variable": {
        "shape": "cylinder",
        "style": "filled",
        "fillcolor": "#bbf7d0",
        "margin": "0.12,0.14",
    },
    "constant": {
        "shape": "box",
        "style": "filled,rounded",
        "fillcolor": "#f3f4f6",
        "fontsize": "9",
        "height": "0.3",
    },
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#dbeafe"},
    "stateful": {"shape": "hexagon", "style": "filled", "fillcolor": "#fbcfe8"},
    "update": {"shape": "box", "style": "filled,bold", "fillcolor": "#fecaca", "color": "#b91c1c"},
    "control": {"shape": "octagon", "style": "filled", "fillcolor": "#ffffff"},
}

CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "placeholder": "placeholder\n(fed at run time)",
    "variable": "variable\n(state kept by the session)",
    "constant": "constant",
    "op": "operation",
    "stateful": "random / stateful op",
    "update": "variable update\n(Assign*, Apply*)",
    "control": "control (NoOp, group)",
}

# Ordinary ops of the gradient and optimizer sections get their section's fill, so the
# backward pass reads as one colour even where a cluster boundary is far away.
SECTION_STYLES: dict[str, dict[str, str]] = {
    "forward": {"color": "#9ca3af", "bgcolor": "#ffffff", "fontcolor": "#374151"},
    "gradients": {"color": "#ea580c", "bgcolor": "#fff7ed", "fontcolor": "#9a3412"},
    "optimizer": {"color": "#7c3aed", "bgcolor": "#f5f3ff", "fontcolor": "#5b21b6"},
}
SECTION_OP_FILL = {"forward": "#dbeafe", "gradients": "#fed7aa", "optimizer": "#ddd6fe"}
SECTION_DESCRIPTIONS = {
    "gradients": "gradients (backward pass)",
    "optimizer": "optimizer (updates and state)",
}

# Outline colours of devices, in order of first appearance; ops without a device come first.
DEVICE_PALETTE = ("#4b5563", "#16a34a", "#dc2626", "#2563eb", "#d97706", "#9333ea", "#0891b2")
DEVICE_PENWIDTH = "2.5"
NO_DEVICE = "no device\n(the session's backend)"

COLLAPSED_STYLE = {"shape": "box3d", "style": "filled"}
PRUNED_STYLE = {"fillcolor": "#f3f4f6", "fontcolor": "#9ca3af", "color": "#d1d5db"}
FED_COLOR = "#b45309"
REF_EDGE = {"color": "#b91c1c", "penwidth": "1.6"}
CONTROL_EDGE = {"style": "dashed", "color": "#6b7280", "arrowhead": "odot"}
DATA_EDGE = {"color": "#374151", "fontsize": "8", "fontcolor": "#4b5563"}
# Above these sizes (edges, or ranks crossed by all edges together: see scopes.layout_span)
# a drawing drops its edge labels and lays out with FAST_LAYOUT.
LARGE_EDGES = 400
LARGE_SPAN = 1500
FAST_LAYOUT = {"splines": "line", "nslimit": "0.2", "nslimit1": "0.2"}
GRAPH_ATTRS = {"fontname": "Helvetica", "fontsize": "10", "nodesep": "0.25", "ranksep": "0.35"}
NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "10", "margin": "0.05,0.03", "height": "0.35"}
EDGE_ATTRS = {"fontname": "Helvetica", "arrowsize": "0.6"}

_PLACEHOLDERS = frozenset({"Placeholder", "PlaceholderWithDefault"})
_VARIABLES = frozenset({"VariableV2", "Variable", "VarHandleOp"})


def op_category(op) -> str:
    """The drawing category of ``op``: one of the keys of :data:`CATEGORY_STYLES`.

    Unknown op types (not in the registry) are drawn as ordinary ops.
    """
    if op.type in _PLACEHOLDERS:
        return "placeholder"
    if op.type in _VARIABLES:
        return "variable"
    if get_op_def(op.type).is_constant:
        return "constant"
    if get_op_def(op.type).is_no_op:
        return "control"
    try:
        op_def = get_op_def(op.type)
    except KeyError:
        return "op"
    if op_def.stateful and op_def.ref_inputs:
        return "update"
    if op_def.stateful:
        return "stateful"
    return "op"


def is_update(op) -> bool:
    """True for a variable update: ``Assign*`` or a fused optimizer op (``Apply*``)."""
    return op_category(op) == "update"


def is_optimizer_update(op) -> bool:
    """True for a fused optimizer op (``ApplyAdam``, ``ApplyGradientDescent``, ...)."""
    return is_update(op) and not op.type.startswith("Assign")


def node_style(category: str, section: str = "forward") -> dict[str, str]:
    """Graphviz node attributes for an op of ``category`` drawn in ``section``."""
    style = dict(CATEGORY_STYLES[category])
    if category == "op":
        style["fillcolor"] = SECTION_OP_FILL[section]
    return style


def collapsed_style(section: str) -> dict[str, str]:
    """Graphviz node attributes for a name scope collapsed into one node."""
    style = dict(COLLAPSED_STYLE)
    style["fillcolor"] = SECTION_OP_FILL[section]
    style["color"] = SECTION_STYLES[section]["color"]
    return style


def pruned(style: dict[str, str]) -> dict[str, str]:
    """``style`` greyed out: the op exists but the compiled plan does not run it."""
    out = dict(style)
    out.update(PRUNED_STYLE)
    out["style"] = out.get("style", "filled").replace("bold", "") + ",dashed"
    out["style"] = ",".join(s for s in out["style"].split(",") if s)
    return out


def device_colors(devices) -> dict[str, str]:
    """``{device: outline colour}`` for the distinct devices in ``devices`` (canonical
    strings, ``""`` for none), or ``{}`` when there is only one: one device needs no colour.

    >>> device_colors(["", "/gpu:0", "/gpu:0"])
    {'': '#4b5563', '/gpu:0': '#16a34a'}
    >>> device_colors(["/cpu:0"])
    {}
    """
    distinct = sorted(set(devices), key=lambda d: (d != "", d))
    if len(distinct) < 2:
        return {}
    return {d: DEVICE_PALETTE[i % len(DEVICE_PALETTE)] for i, d in enumerate(distinct)}


def escape(text: str) -> str:
    """Text for a Graphviz label: backslashes kept literal, newlines as ``\\n`` escapes."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def add_legend(dot, used: dict) -> None:
    """Add to ``dot`` a cluster explaining the styles in ``used`` (categories, sections, and
    flags collapsed / pruned / ref / control), stacked in one column by invisible edges so
    that it does not widen the drawing."""
    entries = []  # (id, label, attrs)
    for category in CATEGORY_STYLES:
        if category in used["categories"]:
            label = CATEGORY_DESCRIPTIONS[category]
            entries.append((category, label, node_style(category)))
    for section in ("gradients", "optimizer"):
        if section in used["sections"]:
            attrs = dict(SECTION_STYLES[section], shape="box", style="filled,rounded")
            attrs["fillcolor"] = attrs.pop("bgcolor")
            entries.append((section, SECTION_DESCRIPTIONS[section], attrs))
    if used["collapsed"]:
        entries.append(
            ("collapsed", "name scope collapsed\ninto one node", collapsed_style("forward"))
        )
    if used["pruned"]:
        entries.append(("pruned", "not run by this plan\n(pruned)", pruned(node_style("op"))))
    for i, (device, color) in enumerate(used.get("devices", {}).items()):
        attrs = dict(node_style("op"), color=color, penwidth=DEVICE_PENWIDTH, fillcolor="white")
        entries.append((f"device_{i}", f"on {device}" if device else NO_DEVICE, attrs))
    edges = [("edge_data", "dtype[static shape]", DATA_EDGE)]
    if used["ref"]:
        edges.append(("edge_ref", "variable an update writes", dict(REF_EDGE)))
    if used["control"]:
        edges.append(("edge_control", "control dependency:\nruns before", CONTROL_EDGE))
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#d1d5db", fontcolor="#6b7280")
        previous = None
        for key, label, attrs in entries:
            legend.node(f"legend_{key}", escape(label), **attrs)
            if previous:
                legend.edge(previous, f"legend_{key}", style="invis")
            previous = f"legend_{key}"
        for key, label, attrs in edges:
            legend.node(f"legend_{key}", escape(label), shape="plaintext", fontsize="9")
            legend.node(f"legend_{key}_end", "", shape="point", width="0.06")
            if previous:
                legend.edge(previous, f"legend_{key}", style="invis")
            legend.edge(f"legend_{key}", f"legend_{key}_end", **attrs)
            previous = f"legend_{key}_end"
