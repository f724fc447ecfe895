"""The error messages a beginner meets name the right tensor and line and say what to do."""

import inspect
import pydoc
import warnings

import pytest

import flowgraph as fg
from flowgraph.runtime.notices import GraphGrowthWarning

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")


def _line_of(marker: str) -> int:
    """The line number in this file of the line containing ``marker``."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line and "_line_of" not in line)


def test_a_tensor_from_another_graph_names_both_graphs_tensors():
    old = fg.Graph()
    with old.as_default():
        a = fg.constant(1.0, name="a")
    with fg.Graph().as_default():
        b = fg.constant(2.0, name="b")
        with pytest.raises(ValueError) as e:
            a * 3.0  # the number becomes a constant in the default graph
        message = str(e.value)
        assert "'a:0' (a constant)" in message and "is in another graph" in message
        assert "'Const:0' (a constant made here from a Python value)" in message
        assert "is in the default graph" in message and "as_default()" in message
        with pytest.raises(ValueError, match=r"(?s)input 0: 'b:0'.*default graph.*input 1: 'a:0'"):
            b + a


def test_uninitialized_variable_points_at_its_creation_and_the_initializer():
    with fg.Graph().as_default():
        w = fg.Variable(1.0, name="weights")  # created here
        y = w * 2.0
        with fg.Session() as sess, pytest.raises(fg.errors.FailedPreconditionError) as e:
            sess.run(y)
    message = str(e.value)
    line = _line_of("# created here")
    assert message.startswith("Attempting to use uninitialized value weights")
    assert f"'weights' created at test_beginner_errors.py:{line}" in message
    assert "global_variables_initializer()" in message and "read by Mul op" in message


def test_fetch_and_feed_from_another_graph_suggest_session_graph():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [], name="x")
    with fg.Graph().as_default(), fg.Session() as sess:
        with pytest.raises(ValueError, match=r"Fetch 'x:0'.*Session\(graph=t\.graph\)"):
            sess.run(x)
        y = fg.constant(1.0)
        with pytest.raises(ValueError, match=r"Feed key 'x:0'.*another graph"):
            sess.run(y, {x: 1.0})


def test_a_mistyped_name_suggests_the_close_ones():
    with fg.Graph().as_default():
        fg.constant(1.0, name="y")
        fg.constant(1.0, name="loss")
        with fg.Session() as sess:
            with pytest.raises(ValueError, match=r"Did you mean 'y:0'\?"):
                sess.run("yy:0")
            with pytest.raises(ValueError, match=r"Did you mean 'loss'\?"):
                sess.run("los")
            with pytest.raises(ValueError) as e:
                sess.run("zzzz:0")
            assert "Did you mean" not in str(e.value)


def test_graph_growth_warning_points_at_the_loop_line():
    with fg.Graph().as_default():
        v = fg.Variable(0.0)
        with fg.Session() as sess, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sess.run(v.initializer)
            for _ in range(12):
                sess.run(v.assign_add(1.0))  # the loop line
    growth = [w for w in caught if issubclass(w.category, GraphGrowthWarning)]
    assert len(growth) == 1
    assert growth[0].filename == __file__
    assert growth[0].lineno == _line_of("# the loop line")


@pytest.mark.parametrize("obj", [fg.Session, fg.gradients])
def test_help_shows_runnable_examples_and_explain_gradient(obj):
    text = pydoc.render_doc(obj, renderer=pydoc.plaintext)
    assert ">>> " in text and "explain_gradient" in text
