"""Gradient ops remember their forward op (TF1's ``_original_op``): errors, explain and viz say
"gradient of Log 'Log' created at <line>" instead of only pointing at the gradients call."""

import sys

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.compiler.plan import compile_plan
from flowgraph.graph.site import GradientSite

HERE = "test_gradient_origin.py"


def _next_line() -> int:
    return sys._getframe(1).f_lineno + 1


def _log_model():
    """``dx`` of ``log(x)`` seeded by a fed ``g``: fed with another length than ``x``, the
    gradient's RealDiv fails although the forward ``log`` ran fine."""
    x = fg.placeholder(fg.float64, [None], name="x")
    log_line = _next_line()
    y = fg.log(x, name="my_log")
    g = fg.placeholder(fg.float64, [None], name="g")
    grad_line = _next_line()
    (dx,) = fg.gradients(y, [x], grad_ys=g)
    return x, g, dx, log_line, grad_line


@pytest.mark.parametrize("executor", ["source", "table"])
def test_a_failing_gradient_op_names_its_forward_op_and_line(graph, executor):
    x, g, dx, log_line, grad_line = _log_model()
    plan = compile_plan([dx], [x, g], executor=executor)
    with pytest.raises(errors.InvalidArgumentError) as caught:
        plan.run(None, [np.ones(3), np.ones(4)])
    message = str(caught.value)
    assert "RealDiv op 'gradients/my_log_grad/RealDiv' failed" in message
    assert f"created at {HERE}:{grad_line} in _log_model" in message
    assert f"(gradient of Log 'my_log' created at {HERE}:{log_line} in _log_model)" in message
    assert caught.value.op.original_op is graph.get_operation_by_name("my_log")


def test_the_session_error_and_describe_name_the_forward_op(graph):
    x, g, dx, log_line, _ = _log_model()
    with pytest.raises(
        errors.InvalidArgumentError, match=f"gradient of Log 'my_log' created at {HERE}:{log_line}"
    ):
        fg.Session().run(dx, {x: np.ones(3), g: np.ones(4)})
    assert f"gradient of Log 'my_log' created at {HERE}:{log_line}" in dx.op.describe()


def test_check_numerics_names_the_forward_op_of_a_gradient_that_overflows(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    root_line = _next_line()
    y = fg.sqrt(x, name="root")
    (dx,) = fg.gradients(fg.reduce_sum(y), [x])  # 0.5 / sqrt(0) = inf: only the gradient
    check = fg.add_check_numerics_ops()
    with np.errstate(divide="ignore"), pytest.raises(errors.InvalidArgumentError) as caught:
        fg.Session().run([dx, check], {x: np.array([0.0, 1.0])})
    message = str(caught.value)
    assert "Tensor had Inf values" in message and "gradients/root_grad/" in message
    assert f"gradient of Sqrt 'root' created at {HERE}:{root_line}" in message


def test_explain_shows_the_forward_op_of_each_gradient_statement(graph):
    x, g, dx, log_line, grad_line = _log_model()
    text = str(fg.Session().explain(dx, {x: np.ones(3), g: np.ones(3)}))
    line = next(t for t in text.splitlines() if "RealDiv 'gradients/my_log_grad/RealDiv'" in t)
    assert f"{HERE}:{grad_line} in _log_model (gradient of Log 'my_log' created at " in line
    assert f"{HERE}:{log_line} in _log_model)" in line


def test_viz_tooltips_name_the_forward_op(graph):
    pytest.importorskip("graphviz")
    x, g, dx, log_line, _ = _log_model()
    expected = f"gradient of Log 'my_log' created at {HERE}:{log_line}"
    collapsed = fg.viz.draw(dx).source  # the gradient scope drawn as one node
    scope = next(t for t in collapsed.splitlines() if "my_log_grad: 2 ops" in t)
    assert expected in scope
    expanded = fg.viz.draw(dx, collapse=0).source
    op_line = next(t for t in expanded.splitlines() if "my_log_grad/RealDiv (RealDiv)" in t)
    assert expected in op_line


def test_forward_ops_have_no_original_op_and_a_users_rule_keeps_its_own_line(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    rule_line = []

    @fg.RegisterGradient("OriginTestSquare")
    def _square_grad(op, grad):
        rule_line.append(_next_line())
        return [grad * 2.0 * op.inputs[0]]

    with graph.gradient_override_map({"Square": "OriginTestSquare"}):
        y = fg.square(x, name="sq")
    (dx,) = fg.gradients(fg.reduce_sum(y), [x])
    assert y.op.original_op is None and not isinstance(y.op.site, GradientSite)
    mul = graph.get_operation_by_name("gradients/sq_grad/Mul_1")
    assert mul.original_op is y.op
    assert mul.site.lineno == rule_line[0]  # the line in the user's rule, not the gradients call
    np.testing.assert_allclose(fg.Session().run(dx, {x: [1.0, 2.0, 3.0]}), [2.0, 4.0, 6.0])
