"""The table executor (compiler/table.py) computes what generated code computes, with the same
errors and fetch semantics; big plans use it, small ones keep their readable source."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.compiler import table
from flowgraph.compiler.plan import compile_plan
from flowgraph.compiler.table import TableCode

from .test_equivalence import build


def _both(fetches, feeds, values, level="O1"):
    """The results of the source plan and of the table plan, run on the same values."""
    results = []
    for executor in ("source", "table"):
        plan = compile_plan(fetches, feeds, level=level, executor=executor)
        assert isinstance(plan.code, TableCode) == (executor == "table")
        results.append(plan.run(None, [np.array(v, copy=True) for v in values]))
    return results


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x is None:
            assert y is None
        else:
            np.testing.assert_array_equal(x, y)
            assert np.asarray(x).dtype == np.asarray(y).dtype


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("level", ["O0", "O1"])
def test_the_table_computes_what_generated_code_computes_on_random_graphs(graph, seed, level):
    fetches, feed = build(seed)
    feeds = list(feed)
    _assert_same(*_both(fetches, feeds, [feed[f] for f in feeds], level))


def test_a_gradient_chain_with_a_wide_sum_multi_outputs_and_keyword_out(graph):
    x = fg.placeholder(fg.float64, [6], name="x")
    y = x
    for i in range(30):  # x feeds every add: its gradient sums 15 contributions (AddN)
        y = fg.tanh(y) if i % 2 == 0 else y + x
    a, b, c = fg.split(fg.maximum(y, 0.1) * x, 3)  # a multi-output op; maximum takes out=
    z = fg.reduce_sum(a * b) + fg.reduce_sum(fg.minimum(c, 0.5))
    (dx,) = fg.gradients(z, [x])
    value = np.linspace(-1.0, 1.0, 6)
    source, tabled = _both([z, dx, b], [x], [value])
    _assert_same(source, tabled)
    plan = compile_plan([z, dx], [x], executor="table")
    assert any(node.inplace is not None for node in plan.ir.nodes)  # in-place steps ran


def test_fetch_semantics_match(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    v = fg.Variable(np.arange(3.0), name="v")
    y = x * 1.0  # simplified away: the fetch is x itself, so it must be copied
    update = fg.assign_add(v, x)
    with fg.Session() as sess:
        sess.run(v.initializer)
        fetches = [x, y, y, update.op, fg.convert_to_tensor(v)]
        fed = np.array([1.0, 2.0, 3.0])
        source = compile_plan(fetches, [x], executor="source").run(sess._context, [fed])
        sess.run(v.initializer)
        plan = compile_plan(fetches, [x], executor="table")
        got_x, got_y, got_y2, got_op, got_v = plan.run(sess._context, [fed])
    assert got_x is fed  # a fetched feed is the fed value, as in generated code
    assert got_y is not fed and got_y2 is not got_y  # copies: never the caller's own array
    np.testing.assert_array_equal(got_y, fed)
    assert got_op is None
    np.testing.assert_array_equal(got_v, [1.0, 3.0, 5.0])  # read after the update
    assert source[0] is fed and source[1] is not fed and source[3] is None
    np.testing.assert_array_equal(source[4], got_v)


def test_a_failing_step_is_named_with_its_input_shapes_and_line(graph):
    a = fg.placeholder(fg.float64, [None, None], name="a")
    b = fg.placeholder(fg.float64, [None, None], name="b")
    product = fg.matmul(a, b, name="product")  # the user's line
    plan = compile_plan([product], [a, b], executor="table")
    with pytest.raises(errors.InvalidArgumentError) as caught:
        plan.run(None, [np.ones((2, 3)), np.ones((4, 5))])
    message = str(caught.value)
    assert "MatMul op 'product' failed" in message
    assert "input shapes: [2, 3], [4, 5]" in message
    assert "test_table.py" in message and caught.value.op is product.op


def test_big_plans_use_the_table_and_small_ones_source(graph, monkeypatch):
    x = fg.placeholder(fg.float64, [2], name="x")
    y = fg.tanh(fg.exp(x) + x)
    assert not isinstance(compile_plan([y], [x]).code, TableCode)
    monkeypatch.setattr(table, "TABLE_THRESHOLD", 2)
    plan = compile_plan([y], [x])
    assert isinstance(plan.code, TableCode)
    assert plan.source.startswith("# table executor: 3 steps")
    assert "xp_exp(s1)  # Exp 'Exp'" in plan.source
    traced = compile_plan([y], [x], trace=True)  # traced plans stay generated code
    assert not isinstance(traced.code, TableCode)
    with pytest.raises(ValueError, match="Unknown executor 'fast'"):
        compile_plan([y], [x], executor="fast")


def test_control_flow_and_a_second_device_run_the_same_as_a_table(graph):
    from flowgraph.backends import DevicePlacement, get_backend

    x = fg.placeholder(fg.float64, [3], name="x")
    n = fg.placeholder(fg.int32, [], name="n")
    looped = fg.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, fg.tanh(v) + x), [0, x])[1]
    branched = fg.cond(fg.reduce_sum(x) > 0, lambda: looped * 2.0, lambda: -looped)
    with fg.device("/device:other:0"):
        moved = fg.exp(branched, name="on_other")
    z = moved + x
    numpy = get_backend("numpy")
    placement = DevicePlacement(numpy, {"/device:other:0": get_backend("array_api_strict")})
    values = [np.array([0.1, -0.2, 0.3]), np.array(4, np.int32)]
    with fg.Session() as sess:
        results = [
            compile_plan([z, looped], [x, n], numpy, placement=placement, executor=e).run(
                sess._context, values
            )
            for e in ("source", "table")
        ]
    _assert_same(*results)
