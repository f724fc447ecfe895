"""check_numerics and add_check_numerics_ops: identity on finite values, TF's error otherwise."""

from pathlib import Path

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.autodiff import gradients
from flowgraph.ops.numerics import add_check_numerics_ops, check_numerics
from flowgraph.testing import check_gradients


def _line_of(marker: str) -> int:
    """The line of this file holding ``marker`` (so tests need no hard-coded numbers)."""
    lines = Path(__file__).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.endswith(marker))


@pytest.mark.parametrize("dtype", [fg.float16, fg.float32, fg.float64])
def test_finite_values_pass_through_unchanged(graph, dtype, require_dtype):
    require_dtype(dtype)
    x = fg.placeholder(dtype, [None, 3], name="x")
    y = check_numerics(x, "x is fine")
    assert y.dtype is dtype and str(y.shape) == str(x.shape) and y.op.type == "CheckNumerics"
    value = np.array([[1.0, -2.5, 1e4], [0.0, 3.0, -0.0]], dtype=dtype.as_numpy_dtype)
    with fg.Session() as sess:
        out = sess.run(y, {x: value})
    np.testing.assert_array_equal(out, value)
    assert out.dtype == value.dtype


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1.0, np.nan, 2.0], "NaN"),
        ([1.0, np.inf, 2.0], "Inf"),
        ([-np.inf, np.nan, 2.0], "Inf and NaN"),
    ],
)
def test_nan_or_inf_raises_invalid_argument_naming_op_and_line(graph, values, kind):
    x = fg.placeholder(fg.float32, [3], name="x")
    y = check_numerics(x, "activations", name="guard")  # line: guard
    with fg.Session() as sess, pytest.raises(errors.InvalidArgumentError) as info:
        sess.run(y, {x: values})
    message = str(info.value)
    assert message.startswith(
        f"CheckNumerics op 'guard' failed: activations : Tensor had {kind} values"
    )
    assert f"test_numerics.py:{_line_of('# line: guard')}" in message
    assert info.value.op is y.op


def test_integer_inputs_are_rejected_at_build_time(graph):
    with pytest.raises(errors.ShapeError, match="floating-point"):
        check_numerics(fg.constant([1, 2]), "ints")


def test_log_of_zero_is_caught_at_the_check(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    y = check_numerics(fg.log(x), "log(x)")
    with fg.Session() as sess, np.errstate(divide="ignore"):
        np.testing.assert_allclose(sess.run(y, {x: [1.0, np.e]}), [0.0, 1.0])
        with pytest.raises(errors.InvalidArgumentError, match=r"log\(x\) : Tensor had Inf values"):
            sess.run(y, {x: [0.0, 1.0]})


def test_gradient_is_identity_and_checks(graph):
    x = fg.placeholder(fg.float64, [4], name="x")
    y = fg.tanh(check_numerics(x * x, "square")) * x
    check_gradients(y, [x], {x: np.array([0.3, -1.2, 0.7, 2.0])})
    (grad,) = gradients(fg.reduce_sum(check_numerics(x, "x")), [x])
    with fg.Session() as sess:
        np.testing.assert_array_equal(sess.run(grad, {x: np.zeros(4)}), np.ones(4))


def test_second_order_gradient(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = check_numerics(fg.sin(x), "sin")
    (dy,) = gradients(y, [x])
    check_gradients(dy, [x], {x: np.array([0.1, 0.5, -0.9])})


def test_add_check_numerics_ops_checks_every_float_output(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    w = fg.Variable([1.0, 1.0], name="w")
    root = fg.sqrt(x * w, name="root")  # line: root
    count = fg.size(x)  # an int32 output: not checked
    loss = fg.reduce_sum(root, name="loss")
    check = add_check_numerics_ops()
    checked = {op.inputs[0].name for op in check.control_inputs}
    assert checked == {"x:0", "Mul:0", "root:0", "loss:0"} | {
        t.name for op in graph.get_operations() if op.type == "Const" for t in op.outputs
    } - {count.name}
    assert "w:0" not in checked and "w/Assign:0" not in checked  # no variable reads or writes
    with fg.Session() as sess:
        sess.run(w.initializer)
        assert sess.run([loss, check], {x: [4.0, 9.0]})[0] == 5.0
        with np.errstate(invalid="ignore"), pytest.raises(errors.InvalidArgumentError) as info:
            sess.run([loss, check], {x: [4.0, -9.0]})
    message = str(info.value)
    assert "root:0 (Sqrt op created at test_numerics.py:" in message
    assert f"test_numerics.py:{_line_of('# line: root')}" in message
    assert "Tensor had NaN values" in message


def test_add_check_numerics_ops_on_an_empty_graph_is_a_no_op(graph):
    op = add_check_numerics_ops()
    assert op.type == "NoOp"
    with fg.Session() as sess:
        assert sess.run(op) is None


def test_checks_are_never_merged_or_folded(graph):
    from flowgraph.ops.registry import get_op_def

    assert get_op_def("CheckNumerics").stateful
    c = fg.constant([np.nan])
    y = check_numerics(c, "constant nan")  # building it must not raise (no folding at build)
    with fg.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="constant nan"):
        sess.run(y)


def test_the_same_op_runs_define_by_run():
    fd = pytest.importorskip("flowgraph.dynamic")
    with fd.eager():
        w = fd.Parameter(fd.tensor([1.0, 2.0]))
        y = check_numerics(w * 2.0, "eager")
        y.sum().backward()
        np.testing.assert_array_equal(y.detach().numpy(), [2.0, 4.0])
        np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])
        with pytest.raises(errors.InvalidArgumentError, match="eager log : Tensor had Inf"):
            with np.errstate(divide="ignore"):
                check_numerics(fd.log(fd.tensor([0.0, 1.0])), "eager log")
