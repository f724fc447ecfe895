"""The skipped side-effect op notice: TF1's 'why didn't my assign run?' surprise, named once."""

import warnings
from pathlib import Path

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.runtime.notices import GraphGrowthWarning, SkippedOpWarning, has_side_effect


def _line_of(marker: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.endswith(marker))


@pytest.fixture
def quiet():
    """Turn every warning into an error, for the runs that must stay silent."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_an_assign_created_then_not_fetched_is_named_with_its_line(graph):
    v = fg.Variable(0.0, name="v")
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        set_five = v.assign(5.0, name="set_five")  # line: assign
        with pytest.warns(SkippedOpWarning) as record:
            assert sess.run(v) == 0.0  # the surprise: the old value
        assert len(record) == 1
        message = str(record[0].message)
        assert "Assign op 'set_five'" in message
        assert f"test_notices.py:{_line_of('# line: assign')}" in message
        assert "fetch it" in message and "control dependency" in message
        assert record[0].filename == __file__  # points at the user's sess.run line
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert sess.run(set_five) == 5.0  # fetching it runs it, silently
            assert sess.run(v) == 5.0


def test_each_op_is_reported_once(graph, quiet):
    v = fg.Variable(0.0, name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        v.assign_add(1.0, name="bump")
        with pytest.warns(SkippedOpWarning, match="AssignAdd op 'bump'"):
            sess.run(v)
        for _ in range(3):
            sess.run(v)  # no new ops: nothing to say, and nothing said again
        fg.constant(1.0)  # the graph grows, but not by a side-effect op
        sess.run(v)


def test_fetching_it_in_the_same_run_silences_it(graph, quiet):
    v = fg.Variable(0.0, name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        step = v.assign_add(1.0)
        assert sess.run([step, v])[0] == 1.0


def test_an_op_used_as_a_control_dependency_is_not_reported(graph, quiet):
    v = fg.Variable(1.0, name="v")
    x = fg.placeholder(fg.float32, [], name="x")
    with fg.Session() as sess:
        sess.run(v.initializer)
        update = v.assign(x)
        both = fg.group(update, name="both")
        with fg.control_dependencies([v.assign_add(1.0)]):
            later = fg.identity(x)
        sess.run(v)  # neither is reached, but both are consumed: whoever fetches them runs them
        sess.run(both, {x: 3.0})
        assert sess.run(later, {x: 0.0}) == 0.0
        assert sess.run(v) == 4.0


def test_an_op_whose_output_is_used_is_not_reported(graph, quiet):
    v = fg.Variable(1.0, name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        doubled = v.assign(v * 2.0) * 10.0  # the assign feeds another op
        sess.run(v)
        assert sess.run(doubled) == 20.0


def test_optimizer_steps_that_are_fetched_are_quiet(graph, recwarn):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    w = fg.Variable([[1.0], [2.0]], name="w")
    loss = fg.reduce_mean(fg.square(fg.matmul(x, w)))
    data = {x: np.ones((4, 2), np.float32)}
    with fg.Session() as sess:
        sess.run(w.initializer)
        step = fg.train.AdamOptimizer(0.01).minimize(loss)
        global_step = fg.Variable(0, trainable=False, name="global_step")
        counted = fg.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
        sess.run(fg.global_variables_initializer())  # an initializing run defers the notice
        for _ in range(2):
            sess.run([step, counted], data)
        sess.run(loss, data)
        assert sess.run(global_step) == 2  # the steps ran...
    assert [str(w.message) for w in recwarn] == []  # ...and nothing was reported


def test_an_unfetched_training_step_is_reported(graph):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    w = fg.Variable([[1.0], [2.0]], name="w")
    loss = fg.reduce_mean(fg.square(fg.matmul(x, w)))
    data = {x: np.ones((4, 2), np.float32)}
    global_step = fg.Variable(0, trainable=False, name="global_step")
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        fg.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
        with pytest.warns(SkippedOpWarning, match="AssignAdd op 'GradientDescent'"):
            sess.run(loss, data)


def test_new_variables_initializers_are_not_reported_but_a_print_is(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    with fg.Session() as sess:
        sess.run(x, {x: [1.0, 2.0]})
        fg.Variable(3.0, name="late")  # its initializer is global_variables_initializer's job
        fg.Print(x, [x], message="x = ", name="show")
        fg.random_normal([2])  # random and read-only ops have no effect to lose
        with pytest.warns(SkippedOpWarning) as record:
            sess.run(x, {x: [1.0, 2.0]})
    assert [str(r.message).split(" (created at")[0] for r in record] == ["Print op 'show'"]
    assert "nothing was printed" in str(record[0].message)


def test_ops_built_before_the_first_run_are_the_baseline(graph, recwarn):
    v = fg.Variable(0.0, name="v")
    train_a = v.assign_add(1.0)
    v.assign_sub(1.0)  # e.g. the other half of an alternating schedule
    with fg.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(train_a) == 1.0
    assert [str(w.message) for w in recwarn] == []  # the unrun assign_sub is not reported


def test_many_skipped_ops_are_summarized(graph):
    v = fg.Variable(0.0, name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        for i in range(8):
            v.assign(float(i), name=f"set_{i}")
        with pytest.warns(SkippedOpWarning) as record:
            sess.run(v)
    assert len(record) == 6
    assert str(record[-1].message).startswith("3 more side-effect ops did not run: 'set_5'")


def test_has_side_effect_classification(graph):
    v = fg.Variable(0.0, name="v")
    x = fg.placeholder(fg.float32, [], name="x")
    assert not has_side_effect(v.op)
    assert not has_side_effect(v.initializer)
    assert has_side_effect(v.assign(1.0).op)
    assert has_side_effect(fg.Print(x, [x]).op)
    assert not has_side_effect(fg.random_uniform([2]).op)
    assert not has_side_effect(fg.tanh(x).op)


def test_growth_warning_still_fires_alongside(graph):
    v = fg.Variable(0.0, name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for _ in range(12):
                sess.run(v.assign_add(1.0))
    kinds = [r.category for r in record]
    assert kinds == [GraphGrowthWarning]


def test_an_unconsumed_optimizer_update_names_its_variable(graph):
    from flowgraph.train import training_ops

    w = fg.Variable([1.0, 2.0], name="w")
    with fg.Session() as sess:
        sess.run(w.initializer)
        lr = fg.constant(0.1)
        training_ops.apply_training_op("ApplyGradientDescent", w, [], [lr], fg.ones([2]))
        with pytest.warns(SkippedOpWarning, match="the update of variable 'w' did not happen"):
            sess.run(w)
