"""Shared graphs and a small DOT reader for the flowgraph.viz tests."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import flowgraph as fg

_NODE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[\w.]+) \[(.*)\]$')
_EDGE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[\w.]+) -> ("(?:[^"\\]|\\.)*"|[\w.]+)(?: \[(.*)\])?$')
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)')


def _unquote(text: str) -> str:
    return text[1:-1] if text.startswith('"') else text


def _attrs(text: str | None) -> dict[str, str]:
    return {k: _unquote(v) for k, v in _ATTR.findall(text or "")}


def parse_dot(source: str) -> SimpleNamespace:
    """Nodes (id -> attrs, plus the clusters they sit in), edges and clusters of DOT source
    written by the graphviz package (one statement per line)."""
    nodes, edges, clusters, stack = {}, [], {}, []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph "):
            name = _unquote(stripped[len("subgraph ") : -2].strip())
            stack.append(name)
            clusters[name] = {"nodes": set(), "attrs": {}}
        elif stripped == "}":
            if stack:
                stack.pop()
        elif (m := _EDGE.match(line)) is not None:
            edges.append((_unquote(m.group(1)), _unquote(m.group(2)), _attrs(m.group(3))))
        elif (m := _NODE.match(line)) is not None and _unquote(m.group(1)) not in (
            "graph",
            "node",
            "edge",
        ):
            node = _unquote(m.group(1))
            nodes[node] = dict(_attrs(m.group(2)), clusters=tuple(stack))
            for cluster in stack:
                clusters[cluster]["nodes"].add(node)
        elif stack and "=" in stripped and not stripped.startswith(("graph", "node", "edge")):
            clusters[stack[-1]]["attrs"].update(_attrs(stripped))
    return SimpleNamespace(nodes=nodes, edges=edges, clusters=clusters)


def graph_nodes(parsed) -> dict:
    """The nodes that stand for ops (not the legend's)."""
    return {k: v for k, v in parsed.nodes.items() if not k.startswith("legend_")}


def build_mlp(scoped: bool = True):
    """The seed MLP in graph mode, with Adam; name scopes ``layer1`` / ``layer2`` if scoped."""
    g = fg.Graph()
    with g.as_default():
        x = fg.placeholder(fg.float32, [None, 784], name="x")
        y = fg.placeholder(fg.float32, [None, 10], name="y")
        with fg.name_scope("layer1" if scoped else None):
            w1 = fg.Variable(fg.random_normal([784, 256]), name="W1")
            b1 = fg.Variable(fg.zeros([256]), name="b1")
            h1 = fg.nn.relu(fg.matmul(x, w1) + b1)
        with fg.name_scope("layer2" if scoped else None):
            w2 = fg.Variable(fg.random_normal([256, 10]), name="W2")
            b2 = fg.Variable(fg.zeros([10]), name="b2")
            logits = fg.add(fg.matmul(h1, w2), b2, name="logits")
        loss = fg.reduce_mean(
            fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits), name="loss"
        )
        train = fg.train.AdamOptimizer(0.001).minimize(loss)
        correct = fg.equal(fg.argmax(logits, 1), fg.argmax(y, 1))
        accuracy = fg.reduce_mean(fg.cast(correct, fg.float32), name="accuracy")
        init = fg.global_variables_initializer()
    return SimpleNamespace(
        graph=g, x=x, y=y, w1=w1, logits=logits, loss=loss, train=train,
        accuracy=accuracy, init=init,
    )  # fmt: skip


@pytest.fixture
def mlp():
    return build_mlp()


@pytest.fixture
def parse():
    """``parse(dot)``: the nodes, edges and clusters of a drawing (see :func:`parse_dot`)."""

    def parse_drawing(dot, ops_only: bool = True):
        parsed = parse_dot(dot.source)
        if ops_only:
            parsed.nodes = graph_nodes(parsed)
            parsed.edges = [e for e in parsed.edges if not e[0].startswith("legend_")]
        return parsed

    return parse_drawing
