"""The one rewrite driver: rule tables applied to a fixed point, for fold/simplify/cse."""

import numpy as np

import flowgraph as fg
from flowgraph.compiler.ir import build_ir
from flowgraph.compiler.passes.rewrite import MAX_REWRITES_PER_NODE, rewrite
from flowgraph.compiler.prune import pruned_ops


def _ir(fetches, feeds):
    return build_ir(pruned_ops(fetches, feeds), fetches, feeds)


def _why(node, replacement, why):
    return f"{node.type} {node.name}: {why}"


def test_a_new_node_is_offered_to_the_rules_again_until_none_applies(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.negative(x, name="y")
    ir = _ir([y], [x])

    def neg_to_identity(node, state):  # Neg -> a new Identity node ...
        return node.derived("Identity", node.inputs, {}), "neg as identity"

    def identity_to_input(node, state):  # ... which a second rule replaces by its input
        return node.inputs[0], "identity"

    changes = rewrite(ir, {"Neg": [neg_to_identity], "Identity": [identity_to_input]}, _why)
    assert [change() for change in changes] == ["Neg y: neg as identity", "Identity y: identity"]
    assert ir.nodes == [] and ir.outputs == [(ir.feeds[0], 0)]


def test_generic_rules_state_and_pinned_nodes(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    a = fg.exp(x, name="a")
    with fg.control_dependencies([a]):
        b = fg.exp(x, name="b")  # pinned: has a control input
    c = fg.exp(x, name="c")
    ir = _ir([a, b, c], [x])
    seen_types = []

    def count(node, state):  # a rule for every type, keeping state across nodes
        state[node.type] = state.get(node.type, 0) + 1
        seen_types.append((node.name, state[node.type]))
        return None

    assert rewrite(ir, {None: [count]}, _why) == []
    assert seen_types == [("c", 1)]  # a and b order side effects: the rules never see them


def test_a_rule_table_that_never_settles_stops(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.negative(x, name="y")
    ir = _ir([y], [x])

    def forever(node, state):
        return node.derived("Neg", node.inputs, {}), "again"

    changes = rewrite(ir, {"Neg": [forever]}, _why)
    assert len(changes) == MAX_REWRITES_PER_NODE
    assert [n.type for n in ir.nodes] == ["Neg"]
    value = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(fg.Session().run(y, {x: value}), -value)


def test_a_replacement_never_moves_a_variable_read(graph):
    v = fg.Variable(np.ones(3), name="v")
    y = fg.identity(v, name="y")  # reads the variable (VariableV2: read_at_use)
    ir = _ir([y], [])

    def to_input(node, state):
        return node.inputs[0], "identity"

    assert rewrite(ir, {"Identity": [to_input]}, _why) == []
    assert [n.name for n in ir.nodes][-1] == "y"
