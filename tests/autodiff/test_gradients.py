"""The gradient driver's TensorFlow 1 semantics (flowgraph/autodiff/gradients.py).

Which ys and seeds are differentiated, how contributions are summed and unbroadcast, what
blocks a gradient and what happens then, where gradient ops are named, custom and missing
gradient rules, and the explanations ``explain_gradient`` gives.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.autodiff.explain import explain_gradient
from flowgraph.autodiff.gradients import gradients
from flowgraph.ops import linalg, math, reduce, registry
from flowgraph.ops.gradient_ops import stop_gradient
from flowgraph.ops.registry import RegisterGradient, define_op
from flowgraph.ops.rules import same_as_input
from flowgraph.testing import check_gradients


def run(fetches, feed=None):
    return fg.Session().run(fetches, feed or {})


@pytest.fixture
def scratch_registry(monkeypatch):
    """Ops and gradients registered by a test vanish after it (the registry is global)."""
    monkeypatch.setattr(registry, "_OP_DEFS", dict(registry._OP_DEFS))
    monkeypatch.setattr(registry, "_GRADIENTS", dict(registry._GRADIENTS))


# ---- ys, grad_ys, several paths ------------------------------------------------------------


def test_a_list_of_ys_is_differentiated_as_their_sum(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    (dx,) = gradients([math.multiply(x, 2.0), math.square(x)], [x])
    np.testing.assert_allclose(run(dx, {x: [1.0, 2.0, 3.0]}), [4.0, 6.0, 8.0])


def test_grad_ys_seed_each_y(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    ys = [math.square(x), math.multiply(x, 3.0)]
    (dx,) = gradients(ys, [x], grad_ys=[fg.constant([1.0, 10.0], fg.float64), [2.0, 0.0]])
    # 2x * [1, 10] + 3 * [2, 0] at x = [1, 2]
    np.testing.assert_allclose(run(dx, {x: [1.0, 2.0]}), [8.0, 40.0])


def test_grad_ys_of_the_wrong_shape_is_an_error(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.square(x)
    with pytest.raises(ValueError, match="grad_ys"):
        gradients(y, [x], grad_ys=fg.constant([1.0, 2.0], fg.float64))
    with pytest.raises(ValueError, match="2 grad_ys given for 1 ys"):
        gradients(y, [x], grad_ys=[None, None])


def test_contributions_from_several_paths_are_summed(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.add(math.multiply(x, x), x)
    (dx,) = gradients(y, [x])
    np.testing.assert_allclose(run(dx, {x: [1.0, 2.0, 3.0]}), [3.0, 5.0, 7.0])
    assert dx.op.type == "AddN"  # the paths through x*x (twice) and through + x


def test_a_tensor_used_twice_by_one_op_gets_both_gradients(graph):
    x = fg.placeholder(fg.float64, [], name="x")
    (dx,) = gradients(math.multiply(x, x), [x])
    assert run(dx, {x: 3.0}) == 6.0


# ---- broadcasting is undone by the driver --------------------------------------------------


def test_broadcast_gradients_are_summed_back_to_each_input(graph):
    x = fg.placeholder(fg.float64, [3, 1], name="x")
    b = fg.placeholder(fg.float64, [4], name="b")
    dx, db = gradients(math.add(x, b), [x, b])
    assert dx.shape == fg.TensorShape([3, 1]) and db.shape == fg.TensorShape([4])
    gx, gb = run([dx, db], {x: np.zeros((3, 1)), b: np.zeros(4)})
    np.testing.assert_array_equal(gx, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(gb, np.full(4, 3.0))


def test_broadcasting_with_run_time_shapes(graph):
    x = fg.placeholder(fg.float64, [None, None], name="x")
    w = fg.placeholder(fg.float64, [None], name="w")
    (dw,) = gradients(math.multiply(x, w), [w])
    x_value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(run(dw, {x: x_value, w: np.ones(3)}), x_value.sum(0))


def test_a_layer_bias_gets_the_batch_sum(graph):
    x = fg.placeholder(fg.float64, [None, 2], name="x")
    w = fg.constant(np.ones((2, 3)), fg.float64)
    b = fg.placeholder(fg.float64, [3], name="b")
    loss = reduce.reduce_sum(math.add(linalg.matmul(x, w), b))
    (db,) = gradients(loss, [b])
    np.testing.assert_array_equal(run(db, {x: np.ones((5, 2)), b: np.zeros(3)}), [5.0, 5.0, 5.0])


# ---- what gets no gradient -----------------------------------------------------------------


def test_integer_tensors_get_none(graph):
    n = fg.placeholder(fg.int32, [3], name="n")
    x = fg.placeholder(fg.float64, [3], name="x")
    m = math.multiply(n, 2)
    y = math.multiply(math.cast(m, fg.float64), x)
    dn, dm, dx = gradients(y, [n, m, x])
    assert dn is None and dm is None
    np.testing.assert_array_equal(run(dx, {n: [1, 2, 3], x: np.zeros(3)}), [2.0, 4.0, 6.0])


def test_a_float_path_through_integers_is_cut(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.cast(math.cast(x, fg.int32), fg.float64)
    assert gradients(y, [x]) == [None]


def test_stop_gradient_blocks_flow(graph):
    x = fg.placeholder(fg.float64, [], name="x")
    y = math.multiply(x, stop_gradient(math.square(x)))  # x * (x^2 held constant)
    (dx,) = gradients(y, [x])
    assert run(dx, {x: 3.0}) == 9.0
    assert gradients(stop_gradient(x), [x]) == [None]


def test_stop_gradients_argument_treats_tensors_as_constants(graph):
    # TF's documented example: with a and b stopped, dy/da = dy/db = 1 (not 3 and 1).
    a = fg.placeholder(fg.float64, [], name="a")
    b = math.multiply(a, 2.0)
    y = math.add(a, b)
    da, db = gradients(y, [a, b], stop_gradients=[a, b])
    assert run([da, db], {a: 1.0}) == [1.0, 1.0]
    (da_free,) = gradients(y, [a])
    assert run(da_free, {a: 1.0}) == 3.0


def test_unconnected_xs_get_none_or_zeros(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    z = fg.placeholder(fg.float64, [2, 2], name="z")
    y = math.square(x)
    assert gradients(y, [z]) == [None]
    (dz,) = gradients(y, [z], unconnected_gradients="zero")
    np.testing.assert_array_equal(run(dz, {z: np.ones((2, 2))}), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        gradients(y, [z], unconnected_gradients="zeros")


def test_x_blocked_by_a_non_differentiable_op_gets_none(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.cast(reduce.argmax(x, 0), fg.float64)
    assert gradients(y, [x]) == [None]


def test_gradient_of_y_with_respect_to_itself_is_the_seed(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    y = math.square(x)
    (dy,) = gradients(y, [y], grad_ys=[[2.0, 3.0]])
    np.testing.assert_array_equal(run(dy, {x: [5.0, 5.0]}), [2.0, 3.0])


# ---- naming, scale, second order -----------------------------------------------------------


def test_gradient_ops_live_in_op_grad_name_scopes(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.multiply(x, 2.0, name="mul")
    z = math.tanh(y, name="tanh")
    before = set(graph.get_operations())
    gradients(z, [x])
    names = [op.name for op in graph.get_operations() if op not in before]
    assert any(n.startswith("gradients/mul_grad/") for n in names), names
    assert any(n.startswith("gradients/tanh_grad/") for n in names), names
    (dx,) = gradients(z, [x], name="second")
    assert dx.op.name.startswith("second/")


def test_a_100000_op_chain_differentiates_without_recursion(graph):
    x = fg.placeholder(fg.float64, [], name="x")
    y = x
    for _ in range(100_000):
        y = math.negative(y)
    (dx,) = gradients(y, [x])
    # The gradient is a chain of 100,000 Negs back from dx to the seed; walk it iteratively.
    length, op = 0, dx.op
    while op.type == "Neg":
        length, op = length + 1, op.inputs[0].op
    assert length == 100_000
    # Running it is the compiler's job, timed in benchmarks; a short chain checks the value.
    short = x
    for _ in range(1001):
        short = math.negative(short)
    (d_short,) = gradients(short, [x])
    assert run(d_short, {x: 2.0}) == -1.0


def test_hessian_vector_product(graph):
    a = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0]])
    x = fg.placeholder(fg.float64, [3, 1], name="x")
    v = fg.placeholder(fg.float64, [3, 1], name="v")
    # f(x) = x^T A x + sum(x^3): H = A + A^T + diag(6x)
    f = math.add(
        reduce.reduce_sum(math.multiply(x, linalg.matmul(fg.constant(a), x))),
        reduce.reduce_sum(math.pow(x, 3.0)),
    )
    (grad,) = gradients(f, [x])
    (hv,) = gradients(reduce.reduce_sum(math.multiply(grad, v)), [x])
    x_value, v_value = np.array([[1.0], [-2.0], [0.5]]), np.array([[0.3], [1.0], [-1.0]])
    expected = (a + a.T + np.diag(6 * x_value[:, 0])) @ v_value
    np.testing.assert_allclose(run(hv, {x: x_value, v: v_value}), expected, rtol=1e-12)


def test_gradients_of_gradients_check_numerically(graph):
    x = fg.placeholder(fg.float64, [2, 3], name="x")
    y = reduce.reduce_sum(math.multiply(math.sigmoid(x), math.log(math.add(math.square(x), 1.0))))
    (dx,) = gradients(y, [x])
    check_gradients(dx, [x], {x: np.random.default_rng(0).uniform(-2, 2, (2, 3))})


# ---- custom and missing gradient rules -----------------------------------------------------


def test_gradient_override_map_uses_the_registered_custom_gradient(graph, scratch_registry):
    @RegisterGradient("FlowgraphTestClipGrad")
    def _clip_grad(op, grad):
        return [math.clip_by_value(grad, -0.5, 0.5)]

    x = fg.placeholder(fg.float64, [3], name="x")
    with graph.gradient_override_map({"Square": "FlowgraphTestClipGrad"}):
        overridden = math.square(x)
    plain = math.square(x)
    (d_over,) = gradients(overridden, [x], grad_ys=[[-3.0, 0.2, 3.0]])
    (d_plain,) = gradients(plain, [x])
    feed = {x: [1.0, 2.0, 3.0]}
    np.testing.assert_array_equal(run(d_over, feed), [-0.5, 0.2, 0.5])
    np.testing.assert_array_equal(run(d_plain, feed), [2.0, 4.0, 6.0])


def test_registering_a_second_gradient_for_a_type_is_an_error(scratch_registry):
    with pytest.raises(KeyError, match="already registered"):
        RegisterGradient("Tanh")(lambda op, grad: [grad])


def test_a_differentiable_op_without_a_rule_raises_lookup_error(graph, scratch_registry):
    define_op("FlowgraphTestNoGradient", same_as_input, kernel=lambda xp, x: x)
    x = fg.placeholder(fg.float64, [3], name="x")
    y = registry.apply_op("FlowgraphTestNoGradient", [x], name="toy")
    with pytest.raises(LookupError) as info:
        gradients(math.square(y), [x])
    message = str(info.value)
    assert "FlowgraphTestNoGradient" in message and "'toy'" in message
    assert os.path.basename(__file__) in message  # where the op was created


def test_a_rule_returning_the_wrong_number_of_gradients_is_named(graph, scratch_registry):
    define_op("FlowgraphTestBadRule", same_as_input, kernel=lambda xp, x: x)
    RegisterGradient("FlowgraphTestBadRule")(lambda op, grad: [grad, grad])
    x = fg.placeholder(fg.float64, [3], name="x")
    with pytest.raises(ValueError, match="FlowgraphTestBadRule returned 2 gradients for 1"):
        gradients(registry.apply_op("FlowgraphTestBadRule", [x]), [x])


def test_gradients_with_respect_to_a_tensor_of_another_graph_raise():
    with fg.Graph().as_default():
        other = fg.placeholder(fg.float64, [3], name="other")
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, [3], name="x")
        with pytest.raises(ValueError, match="not in the same graph"):
            gradients(math.square(x), [other])
        with pytest.raises(TypeError, match="Tensors or Variables"):
            gradients(math.square(x), [np.ones(3)])


def test_gradients_with_respect_to_a_variable(graph):
    w = fg.Variable(np.array([1.0, 2.0]), name="w")
    (dw,) = gradients(reduce.reduce_sum(math.square(w)), [w])
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(dw), [2.0, 4.0])


# ---- explain_gradient ----------------------------------------------------------------------


def test_explain_a_disconnected_x(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    z = fg.placeholder(fg.float64, [3], name="z")
    text = explain_gradient(math.square(x), z)
    assert "'z:0' is not connected" in text


def test_explain_an_argmax_blocked_path(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.cast(reduce.argmax(x, 0), fg.float64, name="y")
    text = explain_gradient(y, x)
    assert "every path is blocked" in text and "'ArgMax'" in text and "not differentiable" in text


def test_explain_a_stop_gradient_blocked_path(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = math.multiply(stop_gradient(x, name="frozen"), 2.0)
    text = explain_gradient(y, x)
    assert "every path is blocked" in text and "'frozen'" in text and "stop_gradient" in text


def test_explain_a_connected_path_and_an_integer_x(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    assert "A gradient flows" in explain_gradient(math.square(x), x)
    n = fg.placeholder(fg.int32, [3], name="n")
    assert "only float tensors" in explain_gradient(math.cast(n, fg.float64), n)
