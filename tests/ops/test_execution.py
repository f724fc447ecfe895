"""The one kernel-execution seam (flowgraph/ops/execution.py): every executor reports a failing
kernel with the same message, naming the op and the user's line."""

import sys

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd
from flowgraph.errors import InvalidArgumentError
from flowgraph.ops import execution
from flowgraph.ops.registry import apply_op, get_op_def
from flowgraph.runtime.debug import find_first_nonfinite


def _line(offset: int) -> str:
    """``test_execution.py:N`` for the caller's line + ``offset``."""
    return f"test_execution.py:{sys._getframe(1).f_lineno + offset}"


def _check(message: str, line: str) -> None:
    head, created, shapes = message.splitlines()[:3]
    assert head.startswith("SparseSoftmaxCrossEntropyWithLogits op ")
    assert "failed: Received a label value of 7" in head
    assert created.startswith("  created at ") and line in created
    assert shapes.startswith("  input shapes: ") and "2" in shapes and "3" in shapes


_xent = fg.nn.sparse_softmax_cross_entropy_with_logits


def test_plans_the_nan_finder_and_dynamic_mode_report_a_kernel_failure_alike(graph):
    labels = fg.constant(np.array([0, 7]))
    line = _line(1)
    loss = _xent(labels=labels, logits=fg.zeros([2, 3]))
    with pytest.raises(InvalidArgumentError) as planned:
        fg.Session().run(loss)
    _check(planned.value.message, line)
    assert planned.value.op is loss.op
    with pytest.raises(InvalidArgumentError) as debugged:
        find_first_nonfinite(fg.Session(), loss)
    _check(debugged.value.message, line)
    with fd.eager():
        line = _line(2)
        with pytest.raises(InvalidArgumentError) as eager:
            _xent(labels=fd.tensor([0, 7]), logits=fd.zeros(2, 3))
    _check(eager.value.message, line)


def test_the_user_site_skips_the_library_frames(graph):
    site, frame = execution.user_site(), execution.user_frame()
    assert site.filename == __file__ and site.function.startswith("test_the_user_site")
    assert execution.site_of(frame) == site
    line = _line(1)
    op = fg.nn.softmax(fg.constant([1.0, 2.0])).op  # made several library frames deep
    assert str(op.site).startswith(line)
    x = fd.tensor([1.0], requires_grad=True)
    line = _line(1)
    assert str(fd.nn.functional.softmax(x, 0).grad_fn.site).startswith(line)


def test_bind_gives_the_namespace_function_or_the_kernel_with_its_attrs():
    assert execution.bind(get_op_def("Tanh"), np, {}) is np.tanh
    matmul = execution.bind(get_op_def("MatMul"), np, {"transpose_a": True, "transpose_b": False})
    np.testing.assert_array_equal(matmul(np.eye(2) * 2, np.ones((2, 2))), 2 * np.ones((2, 2)))


def test_executing_with_switches_the_executor_and_restores_it(graph):
    seen = []

    def executor(op_def, inputs, attrs, name):
        seen.append((op_def.type, name))
        return "ran"

    assert not execution.executing_eagerly()
    with execution.executing_with(executor):
        assert execution.executing_eagerly()
        assert apply_op("Tanh", [], name="t") == "ran"
    assert seen == [("Tanh", "t")] and execution.current_executor() is None
