"""Pruning, ordering, cycles, and a 100,000-op chain."""

import sys

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.compiler.plan import compile_plan
from flowgraph.compiler.prune import pruned_ops


def test_plan_contains_only_what_fetches_need(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    y = fg.exp(x, name="y")
    fg.sin(x, name="unused")
    plan = compile_plan([y], [x])
    assert [op.name for op in plan.ops] == ["y"]  # the fed placeholder itself never runs
    assert "unused" not in plan.source


def test_fed_tensor_cuts_its_producer(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    mid = fg.exp(x, name="mid")
    out = fg.sin(mid, name="out")
    plan = compile_plan([out], [mid])
    assert [op.name for op in plan.ops] == ["out"]


def test_control_inputs_are_kept_and_run_first(graph):
    v = fg.Variable(1.0, name="v")
    bump = v.assign_add(1.0, name="bump")
    with fg.control_dependencies([bump]):
        out = fg.identity(fg.constant(0.0), name="out")
    plan = compile_plan([out], [])
    names = [op.name for op in plan.ops]
    assert names.index("bump") < names.index("out")


def test_assign_does_not_read_its_variable(graph):
    v = fg.Variable(1.0, name="v")
    plan = compile_plan([v.initializer], [])
    assert "v" not in [op.name for op in plan.ops]


def test_cycle_through_control_input_is_reported_with_its_ops(graph):
    a = fg.identity(fg.constant(1.0), name="a")
    b = fg.identity(a, name="b")
    a.op._add_control_input(b.op)
    with pytest.raises(errors.InvalidArgumentError, match=r"cycle: .*a \(Identity\).*b"):
        compile_plan([b], [])


def test_generated_code_is_one_statement_per_op_with_del(graph):
    x = fg.placeholder(fg.float32, [3], name="x")
    y = fg.tanh(fg.exp(x, name="e"), name="t")
    source = compile_plan([y], [x], level="O0").source
    assert "e = xp_exp(x)" in source
    assert "t = xp_tanh(e)" in source
    assert "del e" in source
    # O1 computes tanh into the dying buffer of e (and fetching t keeps both names bound).
    assert "t = xp_tanh(e, e)" in compile_plan([y], [x]).source


def test_long_chain_builds_compiles_and_runs_without_recursion(graph):
    n = 100_000
    assert n > sys.getrecursionlimit() * 10
    x = fg.placeholder(fg.float64, [], name="x")
    y = x
    for _ in range(n):
        y = fg.negative(y)
    with fg.Session() as sess:
        assert sess.run(y, {x: 2.5}) == 2.5  # an even number of negations
        assert sess.run(y, {x: np.float64(-1.0)}) == -1.0


def test_a_control_input_added_later_reorders_the_plan(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    first = fg.exp(x, name="first")
    v = fg.Variable(0.0, name="v")
    later = v.assign_add(1.0, name="later")
    first.op._add_control_input(later.op)  # an edge from a newer op to an older one
    names = [op.name for op in pruned_ops([first], [x])]
    assert names.index("later") < names.index("first")
    assert [op.name for op in compile_plan([first], [x]).ops] == names
