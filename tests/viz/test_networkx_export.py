"""flowgraph.viz.to_networkx: ops as nodes, tensors and control dependencies as edges."""

from __future__ import annotations

import networkx as nx

import flowgraph as fg
from flowgraph import viz


def test_nodes_carry_type_device_dtype_and_shape(mlp):
    G = viz.to_networkx(mlp.graph)
    assert isinstance(G, nx.DiGraph) and not G.is_multigraph()
    assert G.number_of_nodes() == len(mlp.graph.get_operations())
    x = G.nodes["x"]
    assert (x["type"], x["dtype"], x["shape"], x["device"]) == (
        "Placeholder", "float32", "[?,784]", ""
    )  # fmt: skip
    assert x["category"] == "placeholder" and x["section"] == "forward"
    assert "test_networkx_export.py" not in x["site"]  # built in conftest
    assert "conftest.py" in x["site"]
    xent = G.nodes["xentropy"]
    assert xent["num_outputs"] == 2 and xent["shapes"] == "[?],[?,10]"
    update = G.nodes["Adam/update_layer1/W1/ApplyAdam"]
    assert (update["dtype"], update["category"], update["section"]) == ("", "update", "optimizer")
    assert G.nodes["gradients/loss_grad/MeanGrad"]["section"] == "gradients"
    assert G.nodes["layer1/W1/Adam"]["scope"] == "Adam/state"


def test_data_edges_carry_the_tensor_and_control_edges_are_marked(mlp):
    G = viz.to_networkx(mlp.graph)
    edge = G.edges["x", "layer1/MatMul"]
    assert edge == {
        "tensor": "x:0", "dtype": "float32", "shape": "[?,784]", "input_index": 0, "control": False
    }  # fmt: skip
    assert G.edges["Adam/update_layer1/W1/ApplyAdam", "Adam"]["control"] is True


def test_networkx_algorithms_work_on_it(mlp):
    G = viz.to_networkx(mlp.graph)
    order = list(nx.topological_sort(G))
    position = {name: i for i, name in enumerate(order)}
    assert all(position[a] < position[b] for a, b in G.edges)
    assert {"x", "y", "layer1/W1", "layer2/logits"} <= nx.ancestors(G, "loss")
    assert "accuracy" not in nx.ancestors(G, "loss")
    assert "Adam" in nx.descendants(G, "layer1/W1")
    assert nx.is_directed_acyclic_graph(G)


def test_a_subgraph_of_tensors_and_a_multigraph(graph):
    x = fg.placeholder(fg.float32, [3], name="x")
    sq = fg.multiply(x, x, name="sq")
    fg.exp(x, name="unused")
    G = viz.to_networkx(sq)
    assert set(G) == {"x", "sq"} and G.number_of_edges() == 1
    M = viz.to_networkx(sq, multigraph=True)
    assert M.is_multigraph() and M.number_of_edges("x", "sq") == 2
    assert sorted(d["input_index"] for *_, d in M.edges(data=True)) == [0, 1]


def test_devices_are_recorded(graph):
    with fg.device("/cpu:0"):
        fg.constant(1.0, name="c")
    assert viz.to_networkx(graph).nodes["c"]["device"] == "/cpu:0"


def test_it_writes_graphml(mlp, tmp_path):
    nx.write_graphml(viz.to_networkx(mlp.graph), tmp_path / "g.graphml")
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert back.nodes["x"]["shape"] == "[?,784]"
