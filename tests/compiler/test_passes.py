"""Each pass on tiny graphs: the rewrite happens (op counts, generated code) and values stay."""

import warnings

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.compiler.passes import (
    LEVELS,
    eliminate_common_subexpressions,
    fold_constants,
    optimized,
    remove_dead_code,
    simplify_arithmetic,
)
from flowgraph.compiler.plan import compile_plan
from flowgraph.ops.registry import apply_op


def types(ir):
    return [n.type for n in ir.nodes]


def same_results(fetches, feed=None):
    """Run ``fetches`` at O0 and O1 in fresh sessions; assert equal values; return O1's."""
    feed = feed or {}
    with fg.Session(level="O0") as plain, fg.Session() as opt:
        for sess in (plain, opt):
            if fg.global_variables():
                sess.run(fg.global_variables_initializer())
        want = plain.run(fetches, feed)
        got = opt.run(fetches, feed)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)
    return got


# ---- constant folding ------------------------------------------------------------------------


def test_fold_replaces_a_constant_subgraph_by_one_constant(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    c = (fg.constant(2.0) + 3.0) * fg.constant([1.0, 2.0])
    y = x * c
    ir, results = optimized([y], [x], passes=[fold_constants, remove_dead_code])
    assert types(ir) == ["Const", "Mul"]
    np.testing.assert_array_equal(ir.nodes[0].attrs["value"], [5.0, 10.0])
    assert len(results[0].changes) == 2  # the Add, then the Mul of two constants
    same_results([y], {x: [1.0, -1.0]})


def test_fold_turns_static_shapes_into_constants(graph):
    known = fg.placeholder(fg.float32, [2, 3], name="known")
    unknown = fg.placeholder(fg.float32, [None, 3], name="unknown")
    fetches = [fg.shape(known), fg.size(known), fg.zeros_like(known), fg.shape(unknown)]
    ir, _ = optimized(fetches, [known, unknown], passes=[fold_constants])
    assert types(ir) == ["Const", "Const", "Const", "Shape"]
    same_results(fetches, {known: np.ones((2, 3)), unknown: np.ones((5, 3))})


def test_fold_never_touches_random_or_stateful_ops(graph):
    r = fg.random_normal([3], seed=1) * 2.0
    v = fg.Variable([1.0, 2.0], name="v")
    read = v * 2.0
    ir, results = optimized([r, read], [], passes=[fold_constants])
    assert results[0].changes == []
    assert "RandomStandardNormal" in types(ir)


def test_fold_leaves_big_results_and_failing_kernels_to_the_run(graph):
    big = fg.zeros([1024, 1024]) + 1.0  # 4 MB: stays a computation
    ir, _ = optimized([big], [], passes=[fold_constants])
    assert types(ir) == ["Fill", "Const", "Add"]
    bad = fg.constant([1.0]) / fg.constant([0.0], name="zero")  # warns: divide by zero
    ir, _ = optimized([bad], [], passes=[fold_constants])
    assert types(ir)[-1] == "RealDiv"
    with fg.Session() as sess, pytest.warns(RuntimeWarning, match="divide"):
        assert sess.run(bad)[0] == np.inf


def test_a_fetched_folded_constant_is_the_callers_own_copy(graph):
    y = fg.constant([1.0, 2.0]) * 3.0
    with fg.Session() as sess:
        first = sess.run(y)
        first[0] = 100.0  # writable, and writing it changes nothing in the plan
        np.testing.assert_array_equal(sess.run(y), [3.0, 6.0])


# ---- arithmetic simplification ---------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda x: x * 1.0,
        lambda x: 1.0 * x,
        lambda x: x + 0.0,
        lambda x: 0.0 + x,
        lambda x: x - 0.0,
        lambda x: x / 1.0,
        lambda x: fg.negative(fg.negative(x)),
        lambda x: fg.identity(x),
        lambda x: fg.stop_gradient(x),
        lambda x: fg.transpose(fg.transpose(x)),
        lambda x: fg.transpose(fg.transpose(x, [1, 0]), [1, 0]),
        lambda x: fg.reshape(fg.reshape(x, [6]), [2, 3]),
        lambda x: x * fg.ones([3], fg.float64),
    ],
)
def test_simplify_removes_ops_that_leave_the_value_unchanged(graph, build):
    x = fg.placeholder(fg.float64, [2, 3], name="x")
    y = fg.tanh(build(x), name="y")
    ir, results = optimized(
        [y], [x], passes=[fold_constants, simplify_arithmetic, remove_dead_code]
    )
    assert types(ir) == ["Tanh"] and ir.nodes[0].inputs[0][0].type == "Feed"
    assert results[1].changes
    same_results([y], {x: np.arange(6.0).reshape(2, 3) - 2})


def test_simplify_composes_transposes_and_reshapes(graph):
    x = fg.placeholder(fg.float32, [2, 3, 4], name="x")
    t = fg.transpose(fg.transpose(x, [1, 2, 0]), [1, 2, 0])  # -> perm [2, 0, 1]
    r = fg.reshape(fg.reshape(x, [6, 4]), [4, 6])
    ir, results = optimized([t, r], [x], passes=[simplify_arithmetic, remove_dead_code])
    assert types(ir) == ["Transpose", "Reshape"]
    assert ir.nodes[0].attrs["perm"] == (2, 0, 1)
    assert "composed perm [2, 0, 1]" in results[0].changes[0]
    same_results([t, r], {x: np.arange(24.0).reshape(2, 3, 4)})


def test_simplify_integer_floordiv_and_same_dtype_cast(graph):
    n = fg.placeholder(fg.int32, [3], name="n")
    same_dtype = apply_op("Cast", [n], {"dtype": fg.int32})  # fg.cast would not make one
    y = fg.floordiv(n, 1) + same_dtype
    ir, results = optimized([y], [n], passes=[simplify_arithmetic, remove_dead_code])
    assert types(ir) == ["Add"]
    assert any("cast to the same dtype" in c for c in results[0].changes)
    same_results([y], {n: [-3, 0, 7]})


def test_simplify_keeps_ops_that_broadcast_their_input_wider(graph):
    x = fg.placeholder(fg.float32, [3], name="x")
    y = x * fg.ones([2, 3])  # [3] -> [2, 3]: not the same value as x
    z = x + fg.zeros([2, 3])
    ir, results = optimized([y, z], [x], passes=[simplify_arithmetic])
    assert results[0].changes == []
    same_results([y, z], {x: [1.0, 2.0, 3.0]})


def test_simplify_never_moves_a_variable_read_past_an_assignment(graph):
    v = fg.Variable(1.0, name="v")
    before = v * 1.0  # reads v here, before the assignment below
    snapshot = fg.identity(v)
    with fg.control_dependencies([before, snapshot]):
        assigned = v.assign(5.0)
    ir, results = optimized([before, snapshot, assigned], [], passes=[simplify_arithmetic])
    assert results[0].changes == []
    assert same_results([before, snapshot, assigned]) == [1.0, 1.0, 5.0]


def test_an_identity_with_control_dependencies_stays(graph):
    v = fg.Variable(0, name="counter")
    with fg.control_dependencies([v.assign_add(1)]):
        after = fg.identity(fg.constant(7))
    ir, results = optimized([after], [], level="O1")
    assert "Identity" in types(ir) and "AssignAdd" in types(ir)
    assert same_results([after]) == [7]


# ---- common subexpressions -------------------------------------------------------------------


def test_cse_merges_equal_ops_including_swapped_operands(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    a, b = fg.exp(x), fg.exp(x)
    s1, s2 = a + x, x + b  # Add is commutative: both are exp(x) + x once merged
    y = s1 * s2
    ir, results = optimized([y], [x], passes=[eliminate_common_subexpressions])
    assert types(ir) == ["Exp", "Add", "Mul"]
    assert len(results[0].changes) == 2
    same_results([y], {x: [0.5, -1.0]})


def test_cse_compares_attributes_and_constant_bytes(graph):
    x = fg.placeholder(fg.float32, [2, 2], name="x")
    sums = [fg.reduce_sum(x, axis=0), fg.reduce_sum(x, axis=1), fg.reduce_sum(x, axis=0)]
    consts = [fg.constant(0.0), fg.constant(-0.0), fg.constant(0.0), fg.constant(0.0, fg.float64)]
    ir, results = optimized(sums + consts, [x], passes=[eliminate_common_subexpressions])
    assert types(ir).count("Sum") == 2  # axis 0 twice: merged; axis 1 stays
    assert types(ir).count("Const") == 3  # 0.0 twice merged; -0.0 and float64 differ
    got = same_results(sums + consts, {x: [[1.0, 2.0], [3.0, 4.0]]})
    assert np.signbit(got[4])


def test_cse_never_merges_random_draws_or_variable_reads(graph):
    r1, r2 = fg.random_uniform([4]), fg.random_uniform([4])
    v = fg.Variable(1.0, name="v")
    first = v * 2.0
    with fg.control_dependencies([first]):
        bump = v.assign_add(1.0)
    with fg.control_dependencies([bump]):
        second = fg.identity(v * 2.0)
    ir, results = optimized([r1, r2, first, second], [], passes=[eliminate_common_subexpressions])
    assert not any("Random" in c or "Mul" in c for c in results[0].changes)  # Consts may go
    assert types(ir).count("RandomUniform") == 2 and types(ir).count("Mul") == 2
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        a, b, f, s = sess.run([r1, r2, first, second])
    assert not np.array_equal(a, b) and (f, s) == (2.0, 4.0)


# ---- dead code -------------------------------------------------------------------------------


def test_dce_removes_what_rewrites_left_unused_but_keeps_side_effects(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    v = fg.Variable([0.0, 0.0], name="v")
    y = fg.exp(x) * fg.constant(1.0, name="one")
    step = fg.group(v.assign_add(x), fg.no_op())
    ir, results = optimized([y, step], [x], passes=[simplify_arithmetic, remove_dead_code])
    assert "removed Const 'one': its result is not used" in results[1].changes
    assert {"AssignAdd", "NoOp", "Exp"} <= set(types(ir)) and "Const" not in types(ir)


# ---- memory planning -------------------------------------------------------------------------


def test_a_chain_of_ufuncs_runs_in_one_buffer_and_never_writes_feeds(graph):
    x = fg.placeholder(fg.float64, [4], name="x")
    y = x
    for i in range(6):
        y = fg.tanh(y) if i % 2 == 0 else y + x
    plan = compile_plan([y], [x])
    assert plan.source.count("(in place)") == 5  # all but the first, which reads the feed
    value = np.array([0.1, -0.2, 0.3, 0.4])
    saved = value.copy()
    same_results([y], {x: value})
    np.testing.assert_array_equal(value, saved)


def test_no_write_into_fetched_values_views_or_variables(graph):
    x = fg.placeholder(fg.float64, [2, 2], name="x")
    v = fg.Variable(np.ones((2, 2)), name="v")
    a = fg.tanh(x, name="a")
    fetched_then_used = fg.exp(a, name="b")  # a is fetched: b must not overwrite it
    c = fg.tanh(x, name="c")
    view = fg.reshape(c, [4], name="view")  # shares c's memory and is fetched
    d = fg.exp(c, name="d")
    from_variable = fg.tanh(v, name="t")  # v's stored array: never written
    fetches = [a, fetched_then_used, view, d, from_variable]
    ir, _ = optimized(fetches, [x], level="O1")
    assert all(n.inplace is None for n in ir.nodes)
    got = same_results(fetches, {x: [[0.5, 1.0], [1.5, 2.0]]})
    np.testing.assert_array_equal(got[2], np.tanh([0.5, 1.0, 1.5, 2.0]))


def test_in_place_needs_the_result_to_have_the_buffers_shape_and_dtype(graph):
    x = fg.placeholder(fg.float32, [2, 3], name="x")
    row = fg.placeholder(fg.float32, [None, 3], name="row")
    grows = fg.tanh(fg.reduce_sum(x, axis=0)) + x  # [3] + [2, 3]: the result is bigger
    fits = fg.tanh(x) + fg.constant([1.0, 2.0, 3.0])  # [2, 3] + [3]: fits
    unknown = fg.tanh(row) + row  # [?, 3] + [?, 3]: the other could be bigger at run time
    compare = fg.equal(fg.exp(x), x)  # bool from float
    fetches = [grows, fits, unknown, compare]
    ir, _ = optimized(fetches, [x, row], level="O1")
    in_place = {n.origin.name: n.inplace for n in ir.nodes if n.inplace is not None}
    assert list(in_place) == [fits.op.name]
    same_results(fetches, {x: np.ones((2, 3)), row: np.ones((4, 3))})


def test_shape_only_uses_do_not_keep_a_buffer_alive(graph):
    x = fg.placeholder(fg.float32, [None, 4], name="x")
    a = fg.tanh(x, name="a")
    b = fg.exp(a, name="b")  # a dies here except for its shape below
    g = fg.ops.broadcast.sum_to_shape_of(b * 2.0, a)
    ir, _ = optimized([g], [x], level="O1")
    assert next(n for n in ir.nodes if n.name == "b").inplace == 0
    same_results([g], {x: np.arange(8.0).reshape(2, 4)})


def test_ufuncs_that_refuse_a_positional_out_get_the_keyword(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.maximum(fg.tanh(x), 0.0)
    plan = compile_plan([y], [x])
    assert "out=" in plan.source
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same_results([y], {x: [-1.0, 0.0, 1.0]})


def test_errors_after_passes_still_name_the_users_op(graph):
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    w = fg.constant(np.ones((3, 2), np.float32)) * 1.0  # folded, then simplified away
    y = fg.matmul(fg.tanh(x) + 0.0, w, name="product")
    with fg.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(fg.reshape(y, [5]), {x: np.ones((2, 3))})
    assert "Reshape" in str(info.value) and "test_passes.py" in str(info.value)


def test_levels_and_unknown_levels(graph):
    assert LEVELS["O0"] == ()
    x = fg.placeholder(fg.float32, [2], name="x")
    y = fg.tanh(fg.tanh(x) * 1.0)
    assert "(in place)" not in compile_plan([y], [x], level="O0").source
    assert "(in place)" in compile_plan([y], [x], level="O1").source
    with pytest.raises(ValueError, match="Unknown optimization level 'O3'"):
        fg.Session(level="O3")
    with fg.Session(level="O0") as sess:
        assert sess.level == "O0"
        np.testing.assert_allclose(sess.run(y, {x: [0.0, 1.0]}), np.tanh(np.tanh([0.0, 1.0])))


def test_fetches_merged_by_the_passes_still_get_arrays_of_their_own(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    a = fg.exp(x)
    b = fg.exp(x) * 1.0  # becomes the same value as a
    c = x * 1.0  # becomes the fed array itself
    value = np.array([0.0, 1.0])
    with fg.Session() as sess:
        for fetches in ([b, a, c], [a, b, c]):
            got = sess.run(fetches, {x: value})
            assert got[0] is not got[1] and got[2] is not value
            got[0][0] = got[2][0] = 42.0
            np.testing.assert_array_equal(got[1], np.exp(value))
            np.testing.assert_array_equal(value, [0.0, 1.0])
