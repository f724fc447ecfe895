"""Debug mode: the first op whose output holds NaN/Inf, named with its line and its inputs."""

from pathlib import Path

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.runtime.debug import NonFiniteError, find_first_nonfinite, run_with_nan_check

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")


def _line_of(marker: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.endswith(marker))


def test_log_of_zero_names_the_log_op_and_its_line(graph):
    x = fg.placeholder(fg.float32, [None], name="x")
    scaled = fg.multiply(x, 2.0, name="scaled")
    logs = fg.log(scaled, name="logs")  # line: log
    loss = fg.reduce_mean(fg.square(logs), name="loss")
    with fg.Session() as sess:
        assert find_first_nonfinite(sess, loss, {x: [1.0, 2.0]}) is None
        report = find_first_nonfinite(sess, loss, {x: [1.0, 0.0, 3.0]})
    assert report.op is logs.op and report.tensor is logs and report.kind == "Inf"
    assert report.source == "op"
    text = str(report)
    assert text.startswith("Inf first appeared in the output of Log op 'logs'")
    assert f"test_debug.py:{_line_of('# line: log')}" in text
    assert "1 Inf of 3 values" in text
    assert "scaled:0  float32 [3]: min 0, max 6" in text  # the input that explains it
    assert "did not run" in text  # Square, Mean... never ran


def test_zero_over_zero_names_the_division(graph):
    a = fg.placeholder(fg.float64, [2], name="a")
    b = fg.placeholder(fg.float64, [2], name="b")
    ratio = fg.divide(a - b, a - b, name="ratio")  # line: ratio
    out = fg.exp(ratio, name="later")  # NaN flows on, but the division made it
    with fg.Session() as sess:
        report = find_first_nonfinite(sess, [out], {a: [1.0, 2.0], b: [1.0, 0.0]})
    assert report.op.name == "ratio" and report.op.type == "RealDiv"
    assert report.kind == "NaN"
    assert f"test_debug.py:{_line_of('# line: ratio')}" in str(report)


def test_finite_runs_return_what_session_run_returns(graph):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    w = fg.Variable([[1.0], [-1.0]], name="w")
    y = fg.matmul(x, w)
    count = fg.size(x)
    feed = {x: [[3.0, 1.0], [0.5, 0.5]]}
    with fg.Session() as sess:
        sess.run(w.initializer)
        expected = sess.run({"y": y, "n": count, "parts": (y.op, w)}, feed)
        got = run_with_nan_check(sess, {"y": y, "n": count, "parts": (y.op, w)}, feed)
    np.testing.assert_array_equal(got["y"], expected["y"])
    assert got["n"] == expected["n"] == 4
    assert got["parts"][0] is None
    np.testing.assert_array_equal(got["parts"][1], expected["parts"][1])


def test_run_with_nan_check_raises_an_invalid_argument_error(graph):
    x = fg.placeholder(fg.float64, [], name="x")
    y = fg.sqrt(x, name="root")
    with fg.Session() as sess, pytest.raises(errors.InvalidArgumentError) as info:
        run_with_nan_check(sess, y, {x: -4.0})
    assert isinstance(info.value, NonFiniteError)
    assert info.value.op is y.op
    assert "NaN first appeared in the output of Sqrt op 'root'" in str(info.value)


def test_a_nan_feed_is_reported_as_fed(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    y = fg.tanh(x)
    with fg.Session() as sess:
        report = find_first_nonfinite(sess, y, {x: [np.nan, 1.0]})
    assert report.source == "feed" and report.op is x.op
    assert str(report).startswith("NaN was fed: the value given for 'x:0'")


def test_the_step_stops_before_writing_nan_into_a_variable(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    v = fg.Variable(1.0, name="v")
    bad = fg.divide(x, x, name="bad")
    step = v.assign_add(bad)
    with fg.Session() as sess:
        sess.run(v.initializer)
        report = find_first_nonfinite(sess, step, {x: 0.0})
        assert report.op is bad.op
        assert sess.run(v) == 1.0  # the update after the NaN never ran
        assert find_first_nonfinite(sess, step, {x: 2.0}) is None
        assert sess.run(v) == 2.0  # a finite debug run is a real run


def test_a_variable_that_already_holds_nan_is_named(graph):
    v = fg.Variable([1.0, 2.0], name="weights")
    y = fg.reduce_sum(v * 3.0)
    with fg.Session() as sess:
        sess.run(v.initializer)
        sess.run(v.assign([np.nan, 2.0]))
        report = find_first_nonfinite(sess, y)
    assert report.source == "variable" and report.op is v.op
    assert "already stored in variable 'weights'" in str(report)


def test_kernel_errors_name_the_op(graph):
    v = fg.Variable(1.0, name="never_initialized")
    with fg.Session() as sess, pytest.raises(errors.FailedPreconditionError) as info:
        find_first_nonfinite(sess, v * 2.0)
    assert "never_initialized" in str(info.value)


def test_unfed_placeholders_are_reported_as_session_run_does(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    with fg.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="must feed"):
        find_first_nonfinite(sess, x * 2.0)


def test_the_seed_mlp_step_with_a_poisoned_batch(graph):
    x = fg.placeholder(fg.float32, [None, 4], name="x")
    y = fg.placeholder(fg.float32, [None, 3], name="y")
    w = fg.Variable(fg.ones([4, 3]), name="w")
    logits = fg.matmul(x, w, name="logits")  # line: logits
    loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = fg.train.AdamOptimizer(0.01).minimize(loss)
    batch = np.ones((2, 4), np.float32)
    batch[1, 2] = np.inf
    labels = np.eye(3, dtype=np.float32)[:2]
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        before = sess.run(w)
        report = find_first_nonfinite(sess, [train, loss], {x: batch, y: labels})
        np.testing.assert_array_equal(sess.run(w), before)
    assert report.source == "feed" and report.op is x.op
    batch[1] = 3e38  # finite input, but the matmul overflows to inf
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        report = find_first_nonfinite(sess, [train, loss], {x: batch, y: labels})
    assert report.op is logits.op
    assert f"test_debug.py:{_line_of('# line: logits')}" in str(report)
