"""Gradient rules share the Python numbers they turn into constants (``1 - y * y`` for each
``tanh``): one Const per graph, device, dtype, value and line, never one under control
dependencies (flowgraph/ops/convert.py ``shared_constants``)."""

from __future__ import annotations

import numpy as np

import flowgraph as fg
from flowgraph.ops.convert import shared_constants


def _constants(graph, scope="gradients"):
    return [op for op in graph.get_operations() if op.type == "Const" and scope in op.name]


def test_a_tanh_chain_gradient_makes_one_constant(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = x
    for _ in range(5):
        y = fg.tanh(y)
    (dx,) = fg.gradients(fg.reduce_sum(y), [x])
    assert len(_constants(graph)) == 1  # (five, one per tanh, without sharing)
    value = np.array([0.1, -0.5, 2.0])
    expected = np.ones(3)
    t = value
    for _ in range(5):  # d/dx of tanh^5 by the chain rule
        t_next = np.tanh(t)
        expected = expected * (1 - t_next**2)
        t = t_next
    np.testing.assert_allclose(fg.Session().run(dx, {x: value}), expected)


def test_each_dtype_gets_its_own_constant(graph):
    a = fg.placeholder(fg.float64, [2], name="a")
    b = fg.placeholder(fg.float32, [2], name="b")
    loss = fg.reduce_sum(fg.tanh(fg.tanh(a))) + fg.cast(fg.reduce_sum(fg.tanh(b)), fg.float64)
    da, db = fg.gradients(loss, [a, b])
    dtypes = sorted(op.outputs[0].dtype.name for op in _constants(graph))
    assert dtypes == ["float32", "float64"]
    assert da.dtype is fg.float64 and db.dtype is fg.float32


def test_gradients_under_control_dependencies_get_their_own_constants(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    y = fg.tanh(fg.tanh(x))
    first = fg.no_op(name="first")
    with fg.control_dependencies([first]):
        fg.gradients(fg.reduce_sum(y), [x])
    constants = _constants(graph)
    assert len(constants) == 2
    assert all(first in c.control_inputs for c in constants)


def test_colocated_gradients_share_only_on_one_device(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    with fg.device("/cpu:0"):
        a = fg.tanh(x)
    with fg.device("/cpu:1"):
        b = fg.tanh(fg.tanh(a))
    fg.gradients(fg.reduce_sum(b), [x], colocate_gradients_with_ops=True)
    assert sorted(c.device for c in _constants(graph)) == ["/cpu:0", "/cpu:1"]


def test_equal_numbers_that_differ_share_nothing(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    with shared_constants():
        values = [x * 0.0, x * -0.0, x * 0.0, x * float("nan"), x * float("nan"), x * 1]
    consts = [v.op.inputs[1] for v in values]
    assert consts[0] is consts[2]  # the one value shared
    assert consts[0] is not consts[1]  # -0.0 is not 0.0
    assert consts[3] is not consts[4]  # NaN equals nothing
    assert len({id(c) for c in consts}) == 5


def test_another_line_gets_another_constant(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    with shared_constants():
        first = 1 - x
        second = 1 - x
        named = fg.subtract(fg.convert_to_tensor(1.0, fg.float64, name="one"), x)
    assert first.op.inputs[0] is not second.op.inputs[0]
    assert named.op.inputs[0].op.name == "one"


def test_outside_the_block_every_number_is_a_new_constant(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    a, b = [1 - x for _ in range(2)]
    assert a.op.inputs[0] is not b.op.inputs[0]
