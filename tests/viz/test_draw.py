"""flowgraph.viz.draw: the DOT source of known graphs."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import viz
from flowgraph.compiler.plan import compile_plan
from flowgraph.viz import styles
from flowgraph.viz.scopes import layout_span


def test_nodes_show_type_and_name_and_edges_dtype_and_shape(mlp, parse):
    drawing = parse(viz.draw(mlp.graph))
    x = drawing.nodes["x"]
    assert x["label"] == "Placeholder\\nx\\nfloat32[?,784]"
    assert drawing.nodes["layer1/MatMul"]["label"] == "MatMul"
    assert drawing.nodes["loss"]["label"] == "Mean\\nloss"
    labels = {(src, dst): attrs.get("label") for src, dst, attrs in drawing.edges}
    assert labels[("x", "layer1/MatMul")] == "float32[?,784]"
    assert labels[("layer1/W1", "layer1/MatMul")] == "float32[784,256]"
    assert labels[("layer1/MatMul", "layer1/Add")] == "float32[?,256]"


def test_second_output_edges_say_which_output(graph, parse):
    values, indices = fg.nn.top_k(fg.placeholder(fg.float32, [None, 5], name="x"), k=2)
    fg.identity(indices, name="idx")
    labels = {(s, d): a["label"] for s, d, a in parse(viz.draw(graph)).edges}
    assert labels[("TopKV2", "idx")] == ":1 int32[?,2]"


def test_name_scopes_are_nested_clusters(graph, parse):
    with fg.name_scope("outer"):
        with fg.name_scope("inner"):
            a = fg.constant(1.0, name="a")
            b = fg.negative(a, name="b")
        fg.square(b, name="c")
    drawing = parse(viz.draw(graph))
    assert {"outer/inner/a", "outer/inner/b", "outer/c"} <= drawing.clusters["cluster_outer"][
        "nodes"
    ]
    assert drawing.clusters["cluster_outer/inner"]["nodes"] == {"outer/inner/a", "outer/inner/b"}
    assert drawing.nodes["outer/inner/b"]["clusters"] == ("cluster_outer", "cluster_outer/inner")
    assert drawing.clusters["cluster_outer/inner"]["attrs"]["label"] == "inner"


def test_a_scope_with_one_node_gets_no_cluster(graph, parse):
    with fg.name_scope("solo"):
        fg.constant(1.0, name="only")
    drawing = parse(viz.draw(graph))
    assert "cluster_solo" not in drawing.clusters
    assert drawing.nodes["solo/only"]["label"].startswith("Const\\nsolo/only")


def test_categories_are_styled_distinctly(mlp, parse):
    nodes = parse(viz.draw(mlp.graph)).nodes
    placeholder, variable = nodes["x"], nodes["layer1/W1"]
    random_op, update, op = nodes["layer1/random_normal"], nodes["layer1/W1/Assign"], nodes["loss"]
    fills = {n["fillcolor"] for n in (placeholder, variable, random_op, update, op)}
    shapes = {n["shape"] for n in (placeholder, variable, random_op, update, op)}
    assert len(fills) == 5 and len(shapes) == 5
    assert variable["shape"] == "cylinder" and placeholder["shape"] == "invhouse"
    assert "bold" in update["style"]


def test_legend_explains_the_styles_in_use(mlp, parse):
    drawing = parse(viz.draw(mlp.graph), ops_only=False)
    legend = drawing.clusters["cluster_legend"]["nodes"]
    for key in ("placeholder", "variable", "op", "stateful", "update", "control"):
        assert f"legend_{key}" in legend
        assert drawing.nodes[f"legend_{key}"]["fillcolor"] == styles.node_style(key)["fillcolor"]
    assert "legend_gradients" in legend and "legend_optimizer" in legend
    assert "legend_edge_control" in legend
    assert "cluster_legend" not in parse(viz.draw(mlp.graph, legend=False)).clusters


def test_control_dependencies_are_dashed(graph, parse):
    a = fg.constant(1.0, name="a")
    with fg.control_dependencies([a]):
        fg.constant(2.0, name="b")
    (edge,) = [e for e in parse(viz.draw(graph)).edges if e[:2] == ("a", "b")]
    assert edge[2]["style"] == "dashed"


def test_implied_control_dependencies_are_left_out_unless_asked(graph, parse):
    a = fg.constant(1.0, name="a")
    b = fg.negative(a, name="b")
    with fg.control_dependencies([a, b]):
        fg.no_op(name="done")
    edges = {e[:2] for e in parse(viz.draw(graph)).edges if e[2].get("style") == "dashed"}
    assert edges == {("b", "done")}  # a -> b -> done already orders a first
    edges = parse(viz.draw(graph, implied_control=True)).edges
    assert {e[:2] for e in edges if e[2].get("style") == "dashed"} == {("a", "done"), ("b", "done")}


def test_gradients_and_optimizer_are_set_apart(mlp, parse):
    drawing = parse(viz.draw(mlp.graph))
    gradients = drawing.clusters["cluster_gradients"]
    adam = drawing.clusters["cluster_Adam"]
    assert gradients["attrs"]["color"] == styles.SECTION_STYLES["gradients"]["color"]
    assert adam["attrs"]["color"] == styles.SECTION_STYLES["optimizer"]["color"]
    assert gradients["attrs"]["color"] != adam["attrs"]["color"]
    # By default each <op>_grad scope is one node inside the gradients cluster.
    assert "gradients/layer1/MatMul_grad/" in gradients["nodes"]
    assert all(n.startswith("gradients/") for n in gradients["nodes"])
    # The optimizer's updates, hyperparameters and state (slots, beta powers) sit in its cluster,
    # not beside the forward variables.
    assert "Adam/update_layer1/W1/ApplyAdam" in adam["nodes"]
    assert {"Adam/state/", "Adam/hyperparameters/"} <= adam["nodes"]
    assert "learning_rate = 0.001" in drawing.nodes["Adam/hyperparameters/"]["label"]
    forward = drawing.clusters["cluster_layer1"]["nodes"]
    assert not any("Adam" in n or n.startswith("gradients") for n in forward)
    # The update's edge from the variable it writes is red.
    ref = [
        a for s, d, a in drawing.edges if (s, d) == ("layer1/W1", "Adam/update_layer1/W1/ApplyAdam")
    ]
    assert ref[0]["color"] == styles.REF_EDGE["color"]


def test_a_variable_is_drawn_with_its_initializer(mlp, parse):
    cluster = parse(viz.draw(mlp.graph)).clusters["cluster_layer1/W1"]
    assert cluster["nodes"] == {"layer1/W1", "layer1/W1/Assign", "layer1/random_normal"}


def test_show_gradients_false_draws_the_forward_graph_only(mlp, parse):
    nodes = parse(viz.draw(mlp.graph, show_gradients=False)).nodes
    assert "loss" in nodes
    assert not any(n.startswith(("gradients", "Adam")) or "Adam" in n for n in nodes)


def test_tensors_draw_their_ancestors_only(mlp, parse):
    nodes = parse(viz.draw(mlp.loss, collapse=0)).nodes
    assert {"x", "y", "layer1/W1", "layer2/logits", "loss"} <= set(nodes)
    assert not any(n.startswith(("gradients", "Adam", "accuracy", "ArgMax")) for n in nodes)
    assert "layer1/W1/Assign" not in nodes  # the loss does not need the initializer
    both = parse(viz.draw([mlp.loss, mlp.accuracy], collapse=0)).nodes
    assert "accuracy" in both and "loss" in both


def test_plan_numbers_ops_in_execution_order_and_greys_what_it_skips(mlp, parse):
    plan = compile_plan([mlp.accuracy], [mlp.x, mlp.y])
    nodes = parse(viz.draw(mlp.graph, plan=plan)).nodes
    for i, op in enumerate(plan.ops, start=1):
        assert nodes[op.name]["label"].startswith(f"#{i} "), op.name
    assert "(fed)" in nodes["x"]["label"] and "(fed)" in nodes["y"]["label"]
    skipped = nodes["loss"]
    assert skipped["fillcolor"] == styles.PRUNED_STYLE["fillcolor"]
    assert "dashed" in skipped["style"] and not skipped["label"].startswith("#")
    assert "dashed" in nodes["gradients/loss_grad/"]["style"]  # a skipped collapsed scope
    assert nodes["accuracy"]["fillcolor"] != styles.PRUNED_STYLE["fillcolor"]


def test_fetches_and_feeds_compile_the_plan_here(mlp, parse):
    by_plan = viz.draw(mlp.graph, plan=compile_plan([mlp.train], [mlp.x, mlp.y]))
    by_fetch = viz.draw(mlp.graph, fetches=mlp.train, feeds={mlp.x: None, mlp.y: None})
    assert by_plan.source == by_fetch.source
    nodes = parse(by_fetch).nodes
    assert nodes["Adam/update_layer1/W1/ApplyAdam"]["label"].startswith("#")
    assert "dashed" in nodes["accuracy"]["style"]  # training does not compute the accuracy
    whole = parse(viz.draw(fetches=[mlp.loss], feeds=[mlp.x, mlp.y])).nodes
    assert "dashed" in whole["accuracy"]["style"]  # the fetches' whole graph, skips greyed
    with mlp.graph.as_default():  # names are looked up in the default graph
        named = parse(viz.draw(fetches=["accuracy:0"], feeds=["x:0", "y:0"])).nodes
    assert named["accuracy"]["label"].startswith("#") and "dashed" in named["loss"]["style"]


def test_values_show_shape_and_a_summary(mlp, parse):
    values = {mlp.loss: np.float32(2.5), "layer2/logits:0": np.arange(20.0).reshape(2, 10)}
    nodes = parse(viz.draw(mlp.graph, values=values)).nodes
    assert nodes["loss"]["label"].endswith("\\n= 2.5")
    assert "= float64[2,10] mean 9.5 in [0, 19]" in nodes["layer2/logits"]["label"]


def test_collapse_depth_makes_one_node_per_scope(mlp, parse):
    drawing = parse(viz.draw(mlp.graph, collapse=1))
    nodes = drawing.nodes
    assert {"layer1/", "layer2/", "gradients/", "Adam/"} <= set(nodes)
    assert not any(n.startswith("layer1/") and n != "layer1/" for n in nodes)
    assert nodes["gradients/"]["shape"] == "box3d"
    assert "ops" in nodes["layer1/"]["label"]
    labels = {(s, d): a.get("label") for s, d, a in drawing.edges}
    assert labels[("x", "layer1/")] == "float32[?,784]"
    assert len(nodes) < 20
    everything = parse(viz.draw(mlp.graph, collapse=0)).nodes
    assert len(everything) == len(mlp.graph.get_operations())


def test_collapse_named_scopes(mlp, parse):
    nodes = parse(viz.draw(mlp.graph, collapse=["gradients", "layer2"])).nodes
    assert "gradients/" in nodes and "layer2/" in nodes
    assert "layer1/MatMul" in nodes and "Adam/update_layer1/W1/ApplyAdam" in nodes


def test_a_collapsed_variable_scope_looks_like_the_variable(graph, parse):
    with fg.name_scope("layer"):
        fg.Variable(fg.zeros([3]), name="w")
        fg.constant(1.0)
    node = parse(viz.draw(graph, collapse=2)).nodes["layer/w/"]
    assert node["shape"] == "cylinder"
    assert node["label"] == "w\\nfloat32[3]\\n+2 ops"


def _big_graph(blocks: int = 50, layers: int = 4, depth: int = 12) -> fg.Graph:
    g = fg.Graph()
    with g.as_default():
        h = fg.placeholder(fg.float32, [None, 4], name="x")
        for i in range(blocks):
            with fg.name_scope(f"block{i}"):
                for j in range(layers):
                    with fg.name_scope(f"layer{j}"):
                        for _ in range(depth):
                            h = fg.tanh(h * 1.01 + 0.5)
    return g


def test_a_10k_op_graph_collapses_to_a_readable_drawing(parse):
    g = _big_graph()
    assert len(g.get_operations()) > 10_000
    dot = viz.draw(g)
    nodes = parse(dot).nodes
    assert len(nodes) <= 150
    assert "block0/" in nodes and "block49/" in nodes
    assert parse(viz.draw(g, collapse=2)).nodes.keys() >= {"block7/layer3/"}
    assert len(parse(viz.draw(g, max_nodes=1000)).nodes) == 1 + 50 * 4  # depth 2 fits


def test_rankdir_and_graph_attributes(mlp):
    source = viz.draw(mlp.graph, rankdir="LR", graph_attr={"splines": "ortho"}).source
    assert "rankdir=LR" in source and "splines=ortho" in source


def test_edge_labels_can_be_left_out(mlp, parse):
    assert not any("label" in a for *_, a in parse(viz.draw(mlp.graph, edge_labels=False)).edges)


def test_bad_arguments_are_reported(mlp):
    with pytest.raises(TypeError, match="Expected a Graph, Tensor"):
        viz.draw(42)
    with pytest.raises(ValueError, match="Nothing to show"):
        viz.draw([])
    with pytest.raises(ValueError, match="collapse must be >= 0"):
        viz.draw(mlp.graph, collapse=-1)


def test_draw_uses_the_default_graph(parse):
    fg.placeholder(fg.float32, [2], name="p")
    assert "p" in parse(viz.draw()).nodes


def test_value_summary():
    assert viz.value_summary(3) == "= 3"
    assert viz.value_summary(np.zeros((0, 3))) == "= float64[0,3] []"
    assert viz.value_summary(np.array(["a"] * 5)) == "= str32[5]"


def _deep_net(layers: int) -> fg.Graph:
    g = fg.Graph()
    with g.as_default():
        h = fg.placeholder(fg.float32, [None, 8], name="x")
        for i in range(layers):
            with fg.name_scope(f"layer{i}"):
                h = fg.tanh(fg.matmul(h, fg.Variable(fg.random_normal([8, 8]), name="w")))
        fg.train.AdamOptimizer().minimize(fg.reduce_mean(h))
    return g


def test_a_large_drawing_drops_edge_labels_and_lays_out_faster(parse):
    g = _deep_net(40)
    dot = viz.draw(g)
    drawing = parse(dot)
    assert layout_span((s, d) for s, d, _ in drawing.edges) > styles.LARGE_SPAN
    assert not any("label" in a for *_, a in drawing.edges)
    assert all("float32[" in a["tooltip"] for *_, a in drawing.edges if "tooltip" in a)
    assert "splines=line" in dot.source and "nslimit=0.2" in dot.source
    forced = viz.draw(g, edge_labels=True, graph_attr={"splines": "spline"})
    assert 'label="float32[?,8]"' in forced.source and "splines=spline" in forced.source
    small = viz.draw(_deep_net(2)).source
    assert 'label="float32[?,8]"' in small and "splines" not in small
