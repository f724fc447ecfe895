"""cond / case / while_loop: only the taken branch runs, loops, captures, gradients."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.autodiff import gradients
from flowgraph.ops.control_flow import case, cond, while_loop
from flowgraph.testing import check_gradients


def test_cond_runs_only_the_taken_branch(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    hits = fg.Variable(0.0, name="hits")
    misses = fg.Variable(0.0, name="misses")
    y = cond(x > 0.0, lambda: hits.assign_add(1.0) * x, lambda: misses.assign_add(1.0) * 0.0)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        assert sess.run(y, {x: 3.0}) == 3.0
        assert sess.run(y, {x: 2.0}) == 4.0  # hits is 2 now
        assert sess.run(y, {x: -1.0}) == 0.0
        assert sess.run([hits, misses]) == [2.0, 1.0]


def test_cond_returns_lists_and_checks_branch_structure(graph):
    x = fg.placeholder(fg.float64, [2])
    a, b = cond(fg.constant(True), lambda: [x + 1.0, x * 2.0], lambda: [x, x])
    with fg.Session() as sess:
        out = sess.run([a, b], {x: [1.0, 2.0]})
    np.testing.assert_array_equal(out[0], [2.0, 3.0])
    np.testing.assert_array_equal(out[1], [2.0, 4.0])
    with pytest.raises(ValueError, match="same structure"):
        cond(fg.constant(True), lambda: [x, x], lambda: x)
    with pytest.raises(TypeError, match="float64 in true_fn but int32"):
        cond(fg.constant(True), lambda: x, lambda: fg.constant([1, 2]))
    with pytest.raises(ValueError, match="scalar bool"):
        cond(x, lambda: x, lambda: x)


def test_case_picks_the_first_true_predicate(graph):
    x = fg.placeholder(fg.float32, [])
    y = case(
        [(x < 0.0, lambda: fg.constant(-1.0)), (x < 10.0, lambda: fg.constant(1.0))],
        default=lambda: fg.constant(100.0),
    )
    with fg.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (-5.0, 5.0, 50.0)] == [-1.0, 1.0, 100.0]


def test_while_loop_counts_and_captures(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    i, total = while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t + x), [0, 0.0])
    with fg.Session() as sess:
        assert sess.run([i, total], {x: 2.5}) == [4, 10.0]


def test_while_loop_maximum_iterations(graph):
    i = while_loop(lambda i: i < 1000, lambda i: i + 1, fg.constant(0), maximum_iterations=7)
    with fg.Session() as sess:
        assert sess.run(i) == 7


def test_while_loop_shape_change_needs_invariants(graph):
    start = fg.constant([1.0])
    with pytest.raises(ValueError, match="shape_invariants"):
        while_loop(lambda v: fg.size(v) < 8, lambda v: fg.concat([v, v], 0), [start])
    out = while_loop(
        lambda v: fg.size(v) < 8,
        lambda v: fg.concat([v, v], 0),
        [start],
        shape_invariants=[fg.TensorShape([None])],
    )
    with fg.Session() as sess:
        assert sess.run(out).shape == (8,)


def test_gradient_through_cond_follows_the_taken_branch(graph):
    x = fg.placeholder(fg.float64, [], name="x")
    y = cond(x > 0.0, lambda: x * x * x, lambda: fg.sin(x))
    (dx,) = gradients(y, [x])
    with fg.Session() as sess:
        assert sess.run(dx, {x: 2.0}) == pytest.approx(12.0)
        assert sess.run(dx, {x: -1.0}) == pytest.approx(np.cos(-1.0))
    check_gradients(y, [x], {x: np.float64(0.7)})
    check_gradients(y, [x], {x: np.float64(-0.7)})


def test_gradient_through_while_loop(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    w = fg.placeholder(fg.float64, [3], name="w")
    # Repeated squaring times a captured weight: y = ((x*w)*w ... ) squared-ish, 3 steps.
    _, y = while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, fg.tanh(v * w) + v), [0, x])
    loss = fg.reduce_sum(y * y)
    values = {x: np.array([0.3, -0.2, 0.5]), w: np.array([0.9, 1.1, -0.4])}
    check_gradients(loss, [x, w], values)


def test_gradient_reaches_a_variable_read_inside_a_loop(graph):
    v = fg.Variable(np.array([0.5, -1.0]), name="v")
    _, y = while_loop(
        lambda i, s: i < 2, lambda i, s: (i + 1, s * v), [0, fg.ones([2], fg.float64)]
    )
    (dv,) = gradients(fg.reduce_sum(y), [v])
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        np.testing.assert_allclose(sess.run(dv), 2 * np.array([0.5, -1.0]))


def test_control_dependency_on_an_outer_op_inside_a_branch_runs_it_first(graph):
    # TF1's surprise: an op created OUTSIDE the branch runs whichever branch is taken.
    counter = fg.Variable(0.0, name="counter")
    bump = counter.assign_add(1.0)
    flag = fg.placeholder(fg.bool, [])

    def taken():
        with fg.control_dependencies([bump]):
            return fg.identity(fg.constant(1.0))

    out = cond(flag, taken, lambda: fg.constant(0.0))
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        assert sess.run(out, {flag: True}) == 1.0
        assert sess.run(out, {flag: False}) == 0.0
        assert sess.run(counter) == 2.0
