"""flowgraph.viz.scopes: sections, scope paths and collapsing, shared by all views."""

from __future__ import annotations

import pytest

import flowgraph as fg
from flowgraph.viz.scopes import Place, group_ops, place_ops, select_ops


def test_sections_of_the_mlp(mlp):
    places = place_ops(mlp.graph.get_operations())
    assert places["layer1/MatMul"] == Place("forward", ("layer1",))
    assert places["layer1/W1"] == Place("forward", ("layer1", "W1"))  # inside its own scope
    assert places["layer1/random_normal"] == Place("forward", ("layer1", "W1"))  # initializer
    assert places["gradients/layer1/MatMul_grad/MatMul"].section == "gradients"
    assert places["Adam/update_layer1/W1/ApplyAdam"].section == "optimizer"
    assert places["Adam"] == Place("optimizer", ("Adam",))  # the train op heads its scope
    for state in ("layer1/W1/Adam", "layer1/W1/Adam_1", "beta1_power", "beta2_power/Assign"):
        assert places[state] == Place("optimizer", ("Adam", "state")), state
    assert places["layer1/W1/Adam_init/Const"] == Place("optimizer", ("Adam", "state"))
    assert places["Adam/learning_rate"] == Place("optimizer", ("Adam", "hyperparameters"))
    assert places["init"].section == "forward"


def test_a_second_gradients_call_is_a_gradient_section_too(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.reduce_sum(x * x)
    (g1,) = fg.gradients(y, [x])
    (g2,) = fg.gradients(fg.reduce_sum(g1), [x])
    places = place_ops(graph.get_operations())
    assert places[g2.op.name].section == "gradients"
    assert g2.op.name.startswith("gradients_1/")


def test_select_ops_accepts_tensors_ops_and_variables(mlp):
    _, ops = select_ops([mlp.w1, mlp.train])
    names = {op.name for op in ops}
    assert "layer1/W1" in names and "Adam" in names and "accuracy" not in names
    assert [op._id for op in ops] == sorted(op._id for op in ops)
    with pytest.raises(TypeError):
        select_ops([1.0])


def test_automatic_collapse_keeps_the_forward_graph_and_folds_the_training_parts(mlp):
    ops = mlp.graph.get_operations()
    groups = group_ops(ops, place_ops(ops))
    assert groups["layer1/MatMul"] is None
    assert groups["gradients/layer1/MatMul_grad/MatMul"] == ("gradients", "layer1", "MatMul_grad")
    assert groups["layer1/W1/Adam"] == ("Adam", "state")
    assert groups["Adam/update_layer1/W1/ApplyAdam"] is None
    assert groups["gradients/grad_ys"] is None


def test_automatic_collapse_goes_deeper_until_it_fits(graph):
    for i in range(5):
        with fg.name_scope(f"s{i}"):
            for j in range(4):
                with fg.name_scope(f"t{j}"):
                    fg.constant(1.0)
                    fg.constant(2.0)
    ops = graph.get_operations()
    places = place_ops(ops)
    assert all(g is None for g in group_ops(ops, places, max_nodes=40).values())
    assert len(set(group_ops(ops, places, max_nodes=39).values())) == 20
    assert len(set(group_ops(ops, places, max_nodes=19).values())) == 5
    assert len(set(group_ops(ops, places, max_nodes=1).values())) == 5  # depth 1 is the floor


def test_single_op_scopes_are_not_collapsed(graph):
    with fg.name_scope("one"):
        fg.constant(1.0)
    with fg.name_scope("two"):
        fg.constant(1.0)
        fg.constant(2.0)
    ops = graph.get_operations()
    groups = group_ops(ops, place_ops(ops), collapse=1)
    assert groups == {"one/Const": None, "two/Const": ("two",), "two/Const_1": ("two",)}


def test_layout_span_counts_the_ranks_edges_cross():
    from flowgraph.viz.scopes import layout_span

    assert layout_span([]) == 0
    assert layout_span([("a", "b"), ("b", "c")]) == 2
    assert layout_span([("a", "b"), ("b", "c"), ("a", "c")]) == 4  # a -> c crosses two ranks
    assert layout_span([("a", "b"), ("b", "a"), ("b", "c")]) == 1  # a cycle is one rank
