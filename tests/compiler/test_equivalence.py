"""Passes never change results: O1 against O0 on many random graphs and on training steps.

A seeded generator builds random dataflow graphs. They mix placeholders (some with an unknown
leading dim), constants (some broadcasting), elementwise unary and binary ops, matmul,
reductions, reshape and transpose, and the patterns the passes look for: constant subgraphs,
duplicated subexpressions, ``x * 1``, ``x + 0``, ``-(-x)``, identities, casts to the same
dtype, transposes of transposes, reshapes of reshapes. All values are float64 of shapes
[3, 4], [4, 3], [3, 3], [3, 1], [4] or [].
"""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.compiler.plan import compile_plan

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")

S, T = (3, 4), (4, 3)


def build(seed: int, n_ops: int = 30):
    """Build a random graph in the default graph: returns ``(fetches, feed_dict)``."""
    rng = np.random.default_rng(seed)
    pool: dict = {S: [], T: [], (3, 3): [], (3, 1): []}
    feed = {}
    for i in range(int(rng.integers(1, 4))):
        static = [None, 4] if rng.random() < 0.3 else list(S)
        x = fg.placeholder(fg.float64, static, name=f"x{i}")
        feed[x] = rng.standard_normal(S)
        pool[S].append(x)
    for _ in range(int(rng.integers(1, 4))):  # constants, some of them whole subgraphs
        c = fg.constant(rng.standard_normal(S))
        if rng.random() < 0.5:
            c = fg.tanh(c * 2.0 + fg.constant(rng.standard_normal(4)))
        pool[S].append(c)
    for _ in range(n_ops):
        _grow(rng, pool)
    candidates = [t for tensors in pool.values() for t in tensors]
    picks = rng.choice(len(candidates), size=min(3, len(candidates)), replace=False)
    fetches = [candidates[int(i)] for i in picks] + [pool[S][-1]]
    return fetches, feed


def _pick(rng, tensors):
    return tensors[int(rng.integers(len(tensors)))]


def _broadcastable(rng, like):
    """A constant that broadcasts against a value of shape ``like``."""
    shape = [(), (like[-1],), (1, like[-1]), (like[0], 1), like][int(rng.integers(5))]
    return fg.constant(rng.standard_normal(shape))


def _grow(rng, pool) -> None:
    kind = int(rng.integers(14))
    shape = S if rng.random() < 0.7 or not pool[T] else T
    x = _pick(rng, pool[shape])
    if kind == 0:
        out = [fg.tanh, fg.negative, fg.abs, fg.square, fg.sin][int(rng.integers(5))](x)
    elif kind == 1:
        other = _pick(rng, pool[shape]) if rng.random() < 0.6 else _broadcastable(rng, shape)
        op = [fg.add, fg.subtract, fg.multiply, fg.maximum][int(rng.integers(4))]
        out = op(x, other) if rng.random() < 0.5 else op(other, x)
    elif kind == 2:
        out = x / (1.0 + fg.square(_pick(rng, pool[shape])))
    elif kind == 3:  # neutral elements, in both operand orders
        one, zero = fg.constant(1.0, fg.float64), fg.constant(0.0, fg.float64)
        out = [x * one, one * x, x + zero, zero + x, x - zero, x / one][int(rng.integers(6))]
    elif kind == 4:
        out = fg.negative(fg.negative(x))
    elif kind == 5:
        out = [fg.identity, fg.stop_gradient, lambda t: fg.cast(t, fg.float64)][
            int(rng.integers(3))
        ](x)
    elif kind == 6:  # to the other shape and back (sometimes not back)
        t = fg.transpose(x)
        pool[shape[::-1]].append(t)
        out = fg.transpose(t) if rng.random() < 0.7 else fg.transpose(t, [1, 0])
    elif kind == 7:
        r = fg.reshape(x, [shape[1], shape[0]])
        pool[shape[::-1]].append(r)
        out = fg.reshape(r, list(shape))
    elif kind == 8 and pool[T]:
        left, right = _pick(rng, pool[S]), _pick(rng, pool[T])
        pool[(3, 3)].append(fg.matmul(left, right))
        out = fg.matmul(_pick(rng, pool[(3, 3)]), left)
        shape = S
    elif kind == 9:  # a reduction that broadcasts back
        r = fg.reduce_sum(x, axis=1, keepdims=True) if shape == S else fg.reduce_mean(x)
        if shape == S:
            pool[(3, 1)].append(r)
        out = x - r
    elif kind == 10:  # the same subexpression built twice
        a, b = fg.tanh(x) * 0.5, fg.tanh(x) * 0.5
        out = a + b
    elif kind == 11:
        out = fg.exp(fg.tanh(x))
    elif kind == 12 and pool[(3, 1)] and shape == S:
        out = x * _pick(rng, pool[(3, 1)])
    else:
        out = fg.maximum(x, 0.0) + fg.minimum(x, 0.0)
    pool[shape].append(out)


# ---- the tests ----------------------------------------------------------------------------


def _run_both(fetches, feed):
    """O0's results, O1's, and O1's again after the caller scribbled over the first ones (a
    constant or buffer that O1 wrongly shared or wrote would show there)."""
    with fg.Session(level="O0") as plain, fg.Session(level="O1") as optimized:
        want = plain.run(fetches, feed)
        saved = {k: v.copy() for k, v in feed.items()}
        got = optimized.run(fetches, feed)
        copies = [np.array(g, copy=True) for g in got]
        for g in got:  # (a fetched placeholder is the fed array itself, at O0 as well)
            if isinstance(g, np.ndarray) and not any(g is v for v in feed.values()):
                g[...] = 1e6
        again = optimized.run(fetches, feed)
    for k, v in feed.items():
        np.testing.assert_array_equal(v, saved[k], err_msg="a fed array was written")
    return want, copies, again


@pytest.mark.parametrize("block", range(10))
def test_optimized_equals_unoptimized_on_random_graphs(block):
    changed = 0
    for seed in range(block * 25, block * 25 + 25):
        with fg.Graph().as_default():
            fetches, feed = build(seed)
            want, got, again = _run_both(fetches, feed)
            for w, g, a in zip(want, got, again):
                np.testing.assert_array_equal(g, w, err_msg=f"graph seed {seed}")
                np.testing.assert_array_equal(a, w, err_msg=f"graph seed {seed}, second run")
            o0 = compile_plan(fetches, list(feed), level="O0")
            o1 = compile_plan(fetches, list(feed), level="O1")
            changed += len(o1.ir.nodes) < len(o0.ir.nodes) or "(in place)" in o1.source
    assert changed >= 20  # the generator does give the passes work


def test_random_graphs_exercise_every_pass():
    done = set()
    for seed in range(40):
        with fg.Graph().as_default():
            fetches, feed = build(seed)
            plan = compile_plan(fetches, list(feed))
            done.update(r.name for r in plan.passes if r.changes)
    assert done == {
        "fold_constants",
        "simplify_arithmetic",
        "eliminate_common_subexpressions",
        "remove_dead_code",
        "plan_memory",
    }


def _seed_mlp(level, seed):
    """The seed program's model and Adam step in a new graph and session."""
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float32, [None, 784])
        y = fg.placeholder(fg.float32, [None, 10])
        W1 = fg.Variable(fg.random_normal([784, 256], seed=seed))
        b1 = fg.Variable(fg.zeros([256]))
        h1 = fg.nn.relu(fg.matmul(x, W1) + b1)
        W2 = fg.Variable(fg.random_normal([256, 10], seed=seed + 1))
        b2 = fg.Variable(fg.zeros([10]))
        logits = fg.matmul(h1, W2) + b2
        loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        step = fg.train.AdamOptimizer(0.001).minimize(loss)
        correct = fg.equal(fg.argmax(logits, 1), fg.argmax(y, 1))
        accuracy = fg.reduce_mean(fg.cast(correct, fg.float32))
        sess = fg.Session(graph=graph, level=level)
        sess.run(fg.global_variables_initializer())
        variables = fg.global_variables()
    return sess, x, y, step, loss, accuracy, variables


def test_seed_mlp_adam_steps_are_identical_with_and_without_passes():
    rng = np.random.default_rng(0)
    plain = _seed_mlp("O0", 7)
    optimized = _seed_mlp("O1", 7)
    for _ in range(4):
        batch = {
            "x": rng.random((50, 784), dtype=np.float32),
            "y": np.eye(10, dtype=np.float32)[rng.integers(0, 10, 50)],
        }
        results = []
        for sess, x, y, step, loss, accuracy, variables in (plain, optimized):
            feed = {x: batch["x"], y: batch["y"]}
            out = sess.run([step, loss, accuracy], feed)
            results.append((out[1:], sess.run(variables)))
        (want_fetched, want_vars), (got_fetched, got_vars) = results
        np.testing.assert_array_equal(got_fetched, want_fetched)
        assert len(got_vars) == len(want_vars) == 14  # 4 variables, 8 Adam slots, 2 powers
        for g, w in zip(got_vars, want_vars):
            np.testing.assert_array_equal(g, w)
    plan_o0 = compile_plan([plain[3]], [plain[1], plain[2]], level="O0")
    plan_o1 = compile_plan([optimized[3]], [optimized[1], optimized[2]], level="O1")
    assert len(plan_o1.ir.nodes) < len(plan_o0.ir.nodes)
    assert "(in place)" in plan_o1.source
    for sess, *_ in (plain, optimized):
        sess.close()
