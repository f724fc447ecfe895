"""``flowgraph.function`` (flowgraph/dynamic/tracing.py): one traced graph per input signature,
and what tracing bakes in — shown, not hidden: Python prints and branches run at trace time
only, a branch on a tensor's value cannot be traced, outside arrays become constants."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd
from flowgraph.dynamic.tracing import (
    ConcreteFunction,
    RetracingWarning,
    TensorSpec,
    function,
)

RNG = np.random.default_rng(0)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.fixture(autouse=True)
def _retracing_warnings_are_errors():
    # A retrace nobody expects fails the test; tests that retrace on purpose catch the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RetracingWarning)
        yield


def retraced(fn, *args, **kwargs):
    """Call ``fn`` expecting exactly one RetracingWarning; return (result, message)."""
    with pytest.warns(RetracingWarning) as caught:
        result = fn(*args, **kwargs)
    assert len(caught) == 1
    return result, str(caught[0].message)


# ---- one trace per signature ---------------------------------------------------------------


def test_traces_once_per_signature_and_reuses_the_graph():
    @function
    def affine(x, w, b):
        return fg.matmul(x, w) + b

    w, b = f32(4, 3), f32(3)
    x1, x2 = f32(2, 4), f32(2, 4)
    np.testing.assert_allclose(affine(x1, w, b), x1 @ w + b, rtol=1e-5)
    np.testing.assert_allclose(affine(x2, w, b), x2 @ w + b, rtol=1e-5)
    assert affine.trace_count == 1 and len(affine.concrete_functions) == 1
    concrete = affine.concrete_functions[0]
    assert concrete.session.compile_count == 1  # compiled once, run twice
    assert [op.type for op in concrete.graph.get_operations()] == [
        "Placeholder", "Placeholder", "Placeholder", "MatMul", "Add",
    ]  # fmt: skip


def test_python_print_runs_at_trace_time_only(capsys):
    @function
    def noisy(x):
        print("tracing with shape", x.shape)  # a side effect: runs while tracing, not per call
        return x * 2.0

    for _ in range(3):
        noisy(f32(2))
    assert capsys.readouterr().out == "tracing with shape [2]\n"  # once, not three times
    retraced(noisy, f32(5))
    assert capsys.readouterr().out == "tracing with shape [5]\n"  # again: a new graph
    noisy(f32(2))
    assert capsys.readouterr().out == ""  # the first graph is still cached


def test_a_print_op_runs_with_every_call(capfd):
    @function
    def logged(x):
        return fg.Print(x, [x], message="x is ")  # an op in the graph: runs every call

    for _ in range(3):
        logged(np.float32(1.5))
    assert capfd.readouterr().err.count("x is ") == 3
    assert logged.trace_count == 1


def test_python_branch_on_a_shape_is_baked_in_per_signature():
    @function
    def by_batch(x):
        if x.shape[0] > 2:  # known while tracing: the graph holds one branch only
            return fg.reduce_sum(x)
        return fg.reduce_max(x)

    small, large = f32(2, 3), f32(4, 3)
    np.testing.assert_allclose(by_batch(small), small.max(), rtol=1e-6)
    result, _ = retraced(by_batch, large)
    np.testing.assert_allclose(result, large.sum(), rtol=1e-5)
    graphs = [[op.type for op in c.graph.get_operations()] for c in by_batch.concrete_functions]
    assert "Max" in graphs[0] and "Sum" not in graphs[0]
    assert "Sum" in graphs[1] and "Max" not in graphs[1]


def test_python_branch_on_a_tensor_value_cannot_be_traced():
    @function
    def relu_by_hand(x):
        if fg.reduce_sum(x) > 0:  # the value is unknown while tracing
            return x
        return -x

    with pytest.raises(TypeError) as info:
        relu_by_hand(f32(3))
    message = str(info.value)
    assert "as a Python bool is not allowed" in message
    assert "while tracing flowgraph.function" in message and "relu_by_hand" in message
    assert "x: (3,) float32" in message
    assert "flowgraph.cond" in message and "while_loop" in message


def test_graph_cond_does_the_branch_at_run_time():
    @function
    def relu_by_cond(x):
        total = fg.reduce_sum(x)
        return fg.cond(total > 0, lambda: x, lambda: -x)

    positive, negative = np.ones(3, np.float32), -np.ones(3, np.float32)
    np.testing.assert_array_equal(relu_by_cond(positive), positive)
    np.testing.assert_array_equal(relu_by_cond(negative), positive)  # same graph, other branch
    assert relu_by_cond.trace_count == 1


def test_outside_python_values_become_constants_at_trace_time():
    settings = {"scale": 2.0}

    @function
    def scaled(x):
        return x * settings["scale"]  # read once, while tracing: a Const in the graph

    assert scaled(np.float32(3.0)) == 6.0
    settings["scale"] = 10.0  # the graph keeps the value it saw while tracing
    assert scaled(np.float32(3.0)) == 6.0
    assert scaled.trace_count == 1


# ---- retracing ---------------------------------------------------------------------------


def test_retracing_warns_with_the_count_and_the_reason():
    @function
    def double(x):
        return x * 2.0

    double(f32(2, 4))
    _, message = retraced(double, f32(3, 4))
    assert issubclass(RetracingWarning, UserWarning)
    assert double.trace_count == 2
    assert "'test_retracing_warns_with_the_count_and_the_reason.<locals>.double'" in message
    assert "traced 2 times" in message
    assert "new input shapes x: (3, 4) float32 vs cached (2, 4) float32" in message
    assert "input_signature" in message
    _, message = retraced(double, f32(3, 4).astype(np.float64))
    assert "traced 3 times" in message and "(3, 4) float64 vs cached (3, 4) float32" in message
    double(f32(2, 4))  # every signature stays cached: no fourth trace
    assert double.trace_count == 3


def test_the_warning_points_at_the_callers_line():
    @function
    def double(x):
        return x * 2.0

    double(f32(1))
    with pytest.warns(RetracingWarning) as caught:
        line = sys._getframe().f_lineno + 1
        double(f32(2))
    assert caught[0].filename == __file__ and caught[0].lineno == line


def test_python_arguments_are_part_of_the_signature_by_value():
    @function
    def power(x, n):
        out = x
        for _ in range(n - 1):  # a Python loop: unrolled while tracing
            out = out * x
        return out

    x = np.float32(2.0)
    assert power(x, 3) == 8.0
    result, message = retraced(power, x, 4)
    assert result == 16.0
    assert "new Python value n=4 vs cached 3" in message and "as tensors" in message
    assert power(x, 3) == 8.0 and power(x, n=4) == 16.0
    assert power.trace_count == 2
    ops = [[op.type for op in c.graph.get_operations()] for c in power.concrete_functions]
    assert ops[0].count("Mul") == 2 and ops[1].count("Mul") == 3


def test_keyword_and_default_arguments_bind_like_a_call():
    @function
    def mix(x, y, alpha=0.5):
        return alpha * x + (1 - alpha) * y

    x, y = f32(3), f32(3)
    np.testing.assert_allclose(mix(x, y), 0.5 * x + 0.5 * y, rtol=1e-6)
    np.testing.assert_allclose(mix(y=y, x=x), 0.5 * x + 0.5 * y, rtol=1e-6)
    assert mix.trace_count == 1
    assert [t.op.name for t in mix.concrete_functions[0].inputs] == ["x", "y"]


def test_input_signature_traces_once_for_all_batch_sizes():
    @function(input_signature=[TensorSpec([None, 3], fg.float32)])
    def row_sums(x):
        return fg.reduce_sum(x, axis=1)

    for n in (1, 5, 9):
        x = f32(n, 3)
        np.testing.assert_allclose(row_sums(x), x.sum(axis=1), rtol=1e-5)
    assert row_sums.trace_count == 1
    assert row_sums.concrete_functions[0].inputs[0].shape.as_list() == [None, 3]
    with pytest.raises(ValueError, match=r"\(2, 4\) float32, which does not match .*\(None, 3\)"):
        row_sums(f32(2, 4))
    with pytest.raises(ValueError, match="float64"):
        row_sums(np.zeros((2, 3)))


# ---- inputs and outputs --------------------------------------------------------------------


def test_eager_tensors_in_give_eager_tensors_out():
    @function
    def both(x):
        return {"sum": fg.reduce_sum(x), "parts": (x * 2.0, "label", None)}

    out = both(fd.tensor([1.0, 2.0]))
    assert isinstance(out["sum"], fd.Tensor) and out["sum"].item() == 3.0
    doubled, label, nothing = out["parts"]
    assert isinstance(doubled, fd.Tensor) and doubled.tolist() == [2.0, 4.0]
    assert (label, nothing) == ("label", None)  # Python values pass through as traced
    out = both(np.array([1.0, 2.0], np.float32))  # same signature: NumPy in, NumPy out
    assert isinstance(out["parts"][0], np.ndarray) and out["sum"] == 3.0
    assert both.trace_count == 1


def test_traced_results_equal_the_dynamic_modes():
    @function
    def mlp(x, w1, w2):
        return fg.nn.softmax(fg.matmul(fg.nn.relu(fg.matmul(x, w1)), w2))

    x, w1, w2 = (fd.tensor(f32(*s)) for s in [(5, 8), (8, 16), (16, 4)])
    traced = mlp(x, w1, w2)
    eager = fd.softmax(fd.relu(x @ w1) @ w2, dim=1)
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5, atol=1e-7)


def test_called_from_eager_code_it_still_builds_a_graph():
    @function
    def square(x):
        return x * x

    with fd.eager():  # the library's op functions run eagerly here, but not while tracing
        out = square(fd.tensor([3.0]))
    assert out.tolist() == [9.0]
    assert [op.type for op in square.concrete_functions[0].graph.get_operations()] == [
        "Placeholder", "Mul",
    ]  # fmt: skip


def test_returning_an_argument_or_nothing():
    @function
    def same(x):
        return x

    @function
    def nothing(x):
        fg.reduce_sum(x)

    np.testing.assert_array_equal(same(f32(2)) * 0, np.zeros(2))
    assert nothing(f32(2)) is None


# ---- the concrete function -------------------------------------------------------------------


def test_get_concrete_function_traces_without_running():
    calls = []

    @function
    def layer(x, w):
        calls.append(1)
        return fg.nn.relu(fg.matmul(x, w, name="project"), name="activate")

    concrete = layer.get_concrete_function(f32(2, 3), f32(3, 4))
    assert isinstance(concrete, ConcreteFunction) and layer.trace_count == 1 and calls == [1]
    assert [t.shape.as_list() for t in concrete.inputs] == [[2, 3], [3, 4]]
    assert [t.op.name for t in concrete.outputs] == ["activate"]
    assert all(t.graph is concrete.graph for t in [*concrete.inputs, *concrete.outputs])
    source = concrete.plan_source()
    assert source.startswith("def run(ctx, x, w):")
    assert "MatMul 'project'" in source and "Relu 'activate'" in source
    assert "pruned graph: 2 ops" in str(concrete.explain())  # the placeholders are fed
    assert "layer(x: (2, 3) float32, w: (3, 4) float32)" in repr(concrete)
    layer(f32(2, 3), f32(3, 4))  # the same signature: no second trace
    assert layer.trace_count == 1 and calls == [1]
    x, w = f32(2, 3), f32(3, 4)
    np.testing.assert_allclose(concrete(x, w), np.maximum(x @ w, 0), rtol=1e-5)


def test_the_traced_graph_can_be_drawn():
    viz = pytest.importorskip("flowgraph.viz")

    @function
    def f(x):
        return fg.tanh(x)

    graph = f.get_concrete_function(f32(2)).graph
    source = viz.draw(graph).source  # the DOT text: one node per op, the traced edge
    assert 'x [label="Placeholder\\nx\\nfloat32[2]"' in source
    assert "Tanh [label=Tanh" in source
    assert 'x -> Tanh [label="float32[2]"' in source


# ---- what is refused -------------------------------------------------------------------------


def test_creating_variables_is_refused():
    @function
    def with_state(x):
        v = fg.Variable(fg.zeros([2]), name="counter")
        return x + v

    with pytest.raises(ValueError, match=r"created Variables while tracing \(counter:0\)"):
        with_state(f32(2))


def test_gradients_do_not_flow_through_a_traced_function():
    @function
    def square(x):
        return x * x

    w = fd.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="gradients do not flow through a traced function"):
        square(w)
    assert square.trace_count == 0  # refused before tracing
    with fd.no_grad():
        assert square(w).tolist() == [4.0]
    out = square(w.detach())
    assert out.tolist() == [4.0] and not out.requires_grad


def test_a_captured_eager_tensor_is_explained():
    w = fd.tensor(f32(2, 2))

    @function
    def uses_closure(x):
        return fg.matmul(x, w)

    with pytest.raises(ValueError, match="pass it as an argument"):
        uses_closure(f32(2, 2))


def test_bad_arguments_give_clear_errors():
    @function
    def f(x, options):
        return x

    with pytest.raises(TypeError, match="'options' of type set is not hashable"):
        f(f32(2), {1})
    with pytest.raises(TypeError, match="tensor inside a Python structure"):
        f(f32(2), [f32(2)])
    with fg.Graph().as_default():
        ph = fg.placeholder(fg.float32, [2])
        with pytest.raises(TypeError, match="is the graph tensor"):
            f(ph, 1)
    with pytest.raises(TypeError, match="needs a callable"):
        function(3)
