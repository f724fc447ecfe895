"""Session.run: fetch structures, feeds, variables, lifetime, errors, caching, threads."""

import threading
from collections import namedtuple

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")


@pytest.fixture
def xy(graph):
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    y = fg.multiply(x, 3.0, name="y")
    return x, y


def test_fetch_structures_are_preserved(xy):
    x, y = xy
    Pair = namedtuple("Pair", "a b")
    feed = {x: [[1.0, 2.0]]}
    with fg.Session() as sess:
        out = sess.run({"list": [y, (y, x)], "pair": Pair(y, "x:0"), "op": y.op}, feed)
    np.testing.assert_array_equal(out["list"][0], [[3.0, 6.0]])
    assert isinstance(out["list"][1], tuple)
    assert isinstance(out["pair"], Pair)
    np.testing.assert_array_equal(out["pair"].b, [[1.0, 2.0]])
    assert out["op"] is None


def test_fetch_by_name_and_operation(xy):
    x, y = xy
    with fg.Session() as sess:
        np.testing.assert_array_equal(sess.run("y:0", {x: [[1, 1]]}), [[3, 3]])
        assert sess.run("y", {x: [[1, 1]]}) is None  # an op name fetches the op
        with pytest.raises(ValueError, match="nope"):
            sess.run("nope:0")
        with pytest.raises(TypeError, match="invalid type int"):
            sess.run(3)


def test_scalar_fetch_is_a_numpy_scalar(graph):
    with fg.Session() as sess:
        value = sess.run(fg.constant(2.5))
    assert isinstance(value, np.float32) and value == 2.5


def test_any_tensor_can_be_fed_and_cuts_its_producer(graph):
    x = fg.placeholder(fg.float32, [], name="x")
    mid = fg.square(x, name="mid")
    out = mid + 1.0
    with fg.Session() as sess:
        assert sess.run(out, {mid: 10.0}) == 11.0  # x need not be fed: mid's producer is cut
        assert sess.run(out, {"x:0": 3.0}) == 10.0


def test_feed_values_are_converted_like_tf(xy):
    x, y = xy
    with fg.Session() as sess:
        result = sess.run(y, {x: [[1, 2]]})  # Python ints into a float32 placeholder
    assert result.dtype == np.float32


def test_feed_of_wrong_shape_names_tensor_and_shapes(xy):
    x, y = xy
    with fg.Session() as sess:
        with pytest.raises(ValueError, match=r"shape \[1, 3\] for tensor 'x:0'.*\[\?,2\]"):
            sess.run(y, {x: [[1.0, 2.0, 3.0]]})


def test_lossy_feed_is_refused(graph):
    n = fg.placeholder(fg.int32, [], name="n")
    with fg.Session() as sess:
        with pytest.raises(TypeError, match="'n:0'.*fractional"):
            sess.run(n * 2, {n: 1.5})
        assert sess.run(n * 2, {n: 2.0}) == 4


def test_feeding_a_symbolic_tensor_is_refused(xy):
    x, y = xy
    with fg.Session() as sess, pytest.raises(TypeError, match="symbolic Tensor"):
        sess.run(y, {x: y})


def test_missing_feed_names_placeholder_and_fetch(xy):
    x, y = xy
    with fg.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(y)
    message = str(info.value)
    assert "'x:0'" in message and "float32" in message and "[?,2]" in message
    assert "fetch 'y' needs it" in message
    assert "test_session.py" in message  # where the placeholder was created


def test_uninitialized_variable_raises_failed_precondition(graph):
    v = fg.Variable([1.0, 2.0], name="weights")
    with fg.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="uninitialized value weights"):
            sess.run(v * 2.0)


def test_each_session_holds_its_own_variables(graph):
    v = fg.Variable(1.0, name="v")
    inc = v.assign_add(1.0)
    a, b = fg.Session(), fg.Session()
    for s in (a, b):
        s.run(fg.global_variables_initializer())
    a.run(inc)
    a.run(inc)
    assert a.run(v) == 3.0
    assert b.run(v) == 1.0


def test_variable_assignments(graph):
    v = fg.Variable([1.0, 2.0], name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        assert list(sess.run(fg.assign(v, [5.0, 5.0]))) == [5.0, 5.0]
        assert list(sess.run(v.assign_sub([1.0, 2.0]))) == [4.0, 3.0]
        assert list(sess.run(v.read_value())) == [4.0, 3.0]
        fetched = sess.run(v)
        fetched[0] = 100.0  # changing a fetched value must not change the variable
        assert sess.run(v)[0] == 4.0
    with pytest.raises(ValueError, match=r"shape \[3\].*shape \[2\]"):
        fg.assign(v, [1.0, 2.0, 3.0])


def test_fed_arrays_are_not_aliased_by_variables(graph):
    v = fg.Variable(np.zeros(2), name="v")
    p = fg.placeholder(fg.float64, [2])
    store = fg.assign(v, p)
    data = np.array([1.0, 2.0])
    with fg.Session() as sess:
        sess.run(store, {p: data})
        data[0] = 99.0
        assert sess.run(v)[0] == 1.0


def test_closed_session_refuses_to_run(graph):
    c = fg.constant(1.0)
    sess = fg.Session()
    sess.close()
    assert sess.closed
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(c)


def test_with_session_makes_it_default_for_eval_and_run(graph):
    v = fg.Variable(2.0)
    with fg.Session() as sess:
        assert fg.get_default_session() is sess
        fg.global_variables_initializer().run()
        assert v.eval() == 2.0
        assert (v * 3.0).eval() == 6.0
    assert fg.get_default_session() is None
    assert sess.closed


def test_interactive_session_installs_itself(graph):
    x = fg.placeholder(fg.float32, [])
    sess = fg.InteractiveSession()
    try:
        assert fg.get_default_session() is sess
        assert (x + 1.0).eval(feed_dict={x: 1.0}) == 2.0
    finally:
        sess.close()
    assert fg.get_default_session() is None


def test_make_callable(xy):
    x, y = xy
    sess = fg.Session()
    f = sess.make_callable([y, x], [x])
    a, b = f(np.ones((1, 2)))
    np.testing.assert_array_equal(a, [[3.0, 3.0]])
    with pytest.raises(TypeError, match="takes 1 feed"):
        f()
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        f(np.ones(3))


def test_same_signature_is_compiled_once(xy):
    x, y = xy
    with fg.Session() as sess:
        for i in range(5):
            sess.run(y, {x: [[i, i]]})
        sess.run([y], {x: [[0, 0]]})  # a different fetch structure of the same tensors
        assert sess.compile_count == 1
        sess.run([y, x], {x: [[0, 0]]})
        assert sess.compile_count == 2


def test_concurrent_runs_give_exact_results(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.reduce_sum(x * x) + fg.reduce_sum(x)
    sess = fg.Session()
    failures = []

    def worker(seed):
        rng = np.random.default_rng(seed)
        for _ in range(1000):
            value = rng.normal(size=3)
            got = sess.run(y, {x: value})
            if got != np.sum(value * value) + np.sum(value):
                failures.append((value, got))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sess.compile_count == 1


def test_kernel_failure_becomes_op_error_naming_op_shapes_and_line(graph):
    a = fg.placeholder(fg.float32, [None, None], name="a")
    b = fg.placeholder(fg.float32, [None, None], name="b")
    product = fg.matmul(a, b, name="product")  # shapes only meet at run time
    with fg.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(product, {a: np.ones((2, 3)), b: np.ones((4, 5))})
    err = info.value
    assert err.op is product.op
    text = str(err)
    assert "MatMul op 'product'" in text
    assert "[2, 3], [4, 5]" in text
    assert "test_session.py" in text
    assert isinstance(err.__cause__, ValueError)  # NumPy's own error is chained


def test_print_passes_its_input_through(graph, capsys):
    x = fg.constant([1.0, 2.0])
    y = fg.Print(x, [x], message="x is ")
    with fg.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), [1.0, 2.0])
    assert "x is [1.0, 2.0]" in capsys.readouterr().err


def test_group_and_control_dependencies_run_side_effects(graph):
    v = fg.Variable(0, name="count")
    w = fg.Variable(0, name="other")
    both = fg.group(v.assign_add(1), w.assign_add(2))
    with fg.control_dependencies([both]):
        after = fg.identity(v)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        assert sess.run(after) == 1
        assert sess.run(both) is None
        assert sess.run([v, w]) == [2, 4]


def test_placeholder_with_default(graph):
    p = fg.placeholder_with_default(fg.constant([1.0, 2.0]), shape=[None], name="p")
    with fg.Session() as sess:
        np.testing.assert_array_equal(sess.run(p), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(p, {p: [7.0]}), [7.0])


def test_a_graph_growing_in_the_training_loop_is_reported_once(graph):
    from flowgraph.runtime.notices import GraphGrowthWarning

    v = fg.Variable(0.0, name="v")
    with fg.Session() as sess:
        sess.run(v.initializer)
        with pytest.warns(GraphGrowthWarning, match=r"AssignAdd.*test_session.py") as record:
            for _ in range(20):
                sess.run(v.assign_add(1.0))  # the classic mistake: a new op every step
        assert len(record) == 1
        assert sess.run(v) == 20.0


def test_a_graph_built_once_gives_no_growth_warning(graph, recwarn):
    v = fg.Variable(0.0, name="v")
    step = v.assign_add(1.0)
    with fg.Session() as sess:
        sess.run(v.initializer)
        for _ in range(10):
            sess.run(step)
        assert sess.run(v) == 10.0
    assert [str(w.message) for w in recwarn] == []


def test_a_cluster_target_points_to_the_distributed_session(graph):
    with pytest.raises(TypeError, match=r"flowgraph\.distributed\.Session\(client\)"):
        fg.Session(target=object())


def test_a_fetched_fed_array_is_a_copy(graph):
    x = fg.placeholder(fg.float32, [3], name="x")
    mine = np.ones(3, np.float32)
    out = fg.Session().run(x, {x: mine})
    out[0] = 5.0
    assert mine[0] == 1.0
