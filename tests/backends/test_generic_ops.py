"""The few op types the op tables leave to other folders, run on every backend too.

With these, every registered op type with a kernel runs on each backend of ``--backends``
somewhere in the backend-generic tests; tests/conftest.py checks that after a full run.
"""

import numpy as np
import pytest

import flowgraph as fg

pytestmark = pytest.mark.usefixtures("backend")


def test_assert_passes_and_fails(graph):
    x = fg.placeholder(fg.float32, [None], name="x")
    check = fg.Assert(fg.reduce_all(x > 0.0), ["x must be positive:", x])
    with fg.control_dependencies([check]):
        y = fg.sqrt(x)
    sess = fg.Session()
    np.testing.assert_allclose(sess.run(y, {x: [4.0, 9.0]}), [2.0, 3.0])
    with pytest.raises(fg.errors.InvalidArgumentError, match="x must be positive"):
        sess.run(y, {x: [1.0, -2.0]})


def test_assign_sub_and_initialization_reports(graph):
    v = fg.Variable([5.0, 7.0], name="v")
    fg.Variable([1.0], name="w")  # never initialized
    sess = fg.Session()
    assert not sess.run(fg.is_variable_initialized(v))
    assert sess.run(fg.report_uninitialized_variables()).tolist() == [b"v", b"w"]
    sess.run(v.initializer)
    assert sess.run(fg.is_variable_initialized(v))
    assert sess.run(fg.report_uninitialized_variables()).tolist() == [b"w"]
    assert sess.run(v.assign_sub([1.0, 2.0])).tolist() == [4.0, 5.0]
    assert sess.run(v).tolist() == [4.0, 5.0]


def test_stop_gradient_runs_unoptimized(graph):
    x = fg.placeholder(fg.float64, [], name="x")
    y = x * fg.stop_gradient(x)
    (dx,) = fg.gradients(y, [x])
    sess = fg.Session(level="O0")  # O1 removes StopGradient; O0 runs its kernel
    assert "StopGradient" in sess.explain(dx, {x: 0}).source
    assert sess.run([y, dx], {x: 3.0}) == [9.0, 3.0]
