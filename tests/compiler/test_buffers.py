"""Buffers kept across runs (flowgraph/compiler/buffers.py): only for values that never leave a
run, and results are those of plans without them."""

import threading

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.compiler import buffers

KEPT = "(into a kept buffer)"


def _model():
    x = fg.placeholder(fg.float64, [None, 3], name="x")
    w = fg.Variable(np.arange(12.0).reshape(3, 4) / 10, name="w")
    return x, w, fg.matmul(x, w)


W = np.arange(12.0).reshape(3, 4) / 10
V = np.linspace(-1, 1, 8).reshape(4, 2)


def _runs(sess, fetch, x, batches):
    return [sess.run(fetch, {x: b}) for b in batches]


BATCHES = [np.full((2, 3), 1.0), np.full((2, 3), -2.0), np.full((5, 3), 3.0)]


def test_an_intermediate_matmul_keeps_its_buffer_and_earlier_results_survive():
    with fg.Graph().as_default():
        x, w, product = _model()
        y = fg.matmul(fg.tanh(product), V) * 2.0  # the first product dies inside the run
        with fg.Session() as sess:
            sess.run(w.initializer)
            assert KEPT in str(sess.explain(y, {x: BATCHES[0]}))
            got = _runs(sess, y, x, BATCHES)  # the third batch has another shape: re-made
        with fg.Session(level="O0") as plain:
            plain.run(w.initializer)
            assert KEPT not in str(plain.explain(y, {x: BATCHES[0]}))
            want = _runs(plain, y, x, BATCHES)
    for g, v, b in zip(got, want, BATCHES):
        np.testing.assert_array_equal(g, v)
        np.testing.assert_allclose(g, np.tanh(b @ W) @ V * 2)


@pytest.mark.parametrize(
    "escape",
    [
        lambda p: p,  # fetched itself
        lambda p: fg.reshape(p, [-1]),  # a view of it fetched
        lambda p: fg.identity(p),  # maybe the same array, fetched
        lambda p: fg.reshape(p, [-1]) + 0.0,  # computed into in place... then fetched
    ],
    ids=["fetched", "view", "identity", "in-place"],
)
def test_a_fetched_value_or_alias_never_gets_a_kept_buffer(escape):
    with fg.Graph().as_default():
        x, w, product = _model()
        out = escape(product)
        with fg.Session() as sess:
            sess.run(w.initializer)
            text = str(sess.explain(out, {x: BATCHES[0]}))
            first = sess.run(out, {x: BATCHES[0]})
            kept = first.copy()
            sess.run(out, {x: BATCHES[1]})
    assert KEPT not in text
    np.testing.assert_array_equal(first, kept)  # not overwritten by the later run


def test_a_value_a_variable_stores_never_gets_a_kept_buffer():
    with fg.Graph().as_default():
        x, w, product = _model()
        store = fg.Variable(np.zeros((2, 4)), name="store")
        assign = fg.assign(store, product, validate_shape=False)
        with fg.Session() as sess:
            sess.run([w.initializer, store.initializer])
            assert KEPT not in str(sess.explain(assign.op, {x: BATCHES[0]}))
            sess.run(assign.op, {x: BATCHES[0]})
            stored = sess.run(store)
            sess.run(fg.tanh(product), {x: BATCHES[1]})  # another plan, same shapes
            np.testing.assert_array_equal(sess.run(store), stored)


def test_a_gradient_read_by_an_optimizer_update_is_kept_and_training_is_unchanged():
    def train(level):
        with fg.Graph().as_default():
            x, w, product = _model()
            loss = fg.reduce_mean(fg.square(product))
            step = fg.train.AdamOptimizer(0.1).minimize(loss)
            with fg.Session(level=level) as sess:
                sess.run(fg.global_variables_initializer())
                source = str(sess.explain(step, {x: BATCHES[0]}))
                for b in BATCHES * 3:
                    sess.run(step, {x: b})
                return source, sess.run(w)

    source, trained = train("O1")
    plain_source, plain = train("O0")
    assert source.count(KEPT) == 2 and KEPT not in plain_source  # forward and dW
    np.testing.assert_allclose(trained, plain, rtol=1e-12)


def test_a_failed_run_and_concurrent_runs_use_their_own_buffers():
    with fg.Graph().as_default():
        x, w, product = _model()
        y = fg.check_numerics(fg.matmul(fg.tanh(product), V), "finite")
        with fg.Session() as sess:
            sess.run(w.initializer)
            assert KEPT in str(sess.explain(y, {x: BATCHES[0]}))
            with pytest.raises(fg.errors.InvalidArgumentError):
                sess.run(y, {x: np.full((2, 3), np.nan)})  # fails after the kept matmul
            errors = []

            def worker(value):
                batch = np.full((4, 3), value)
                want = np.tanh(batch @ W) @ V
                for _ in range(200):
                    got = sess.run(y, {x: batch})
                    if not np.array_equal(got, want):
                        errors.append((value, got))

            threads = [threading.Thread(target=worker, args=(v,)) for v in (0.5, -1.5)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert errors == []


def _two_products():
    x = fg.placeholder(fg.float32, [None, 2], name="x")
    w = fg.Variable(np.ones((2, 2048), np.float32))
    y = fg.matmul(fg.matmul(x, w), np.ones((2048, 1), np.float32))  # the first one dies
    return x, w, y


def test_with_no_threshold_results_of_every_size_keep_their_buffers(monkeypatch):
    """A 64 KiB product is kept too once the threshold is 0."""
    monkeypatch.setattr(buffers, "KEEP_FROM_BYTES", 0)
    with fg.Graph().as_default():
        x, w, y = _two_products()
        with fg.Session() as sess:
            sess.run(w.initializer)
            for _ in range(2):
                out = sess.run(y, {x: np.ones((8, 2), np.float32)})
                np.testing.assert_array_equal(out, np.full((8, 1), 4096.0))
            (plan,) = [p for p in sess._plans.values() if p.feeds]
            assert KEPT in plan.source and plan.kept_bytes == 8 * 2048 * 4


def test_by_default_smaller_results_are_made_afresh():
    assert buffers.KEEP_FROM_BYTES == 32 * 2**20
    with fg.Graph().as_default():
        x, w, y = _two_products()
        with fg.Session() as sess:
            sess.run(w.initializer)
            sess.run(y, {x: np.ones((8, 2), np.float32)})  # 64 KiB: made afresh
            (plan,) = [p for p in sess._plans.values() if p.feeds]
            assert KEPT in plan.source and plan.kept_bytes == 0
            big = np.ones((4096, 2), np.float32)  # a 32 MiB product: kept
            for _ in range(2):
                np.testing.assert_array_equal(sess.run(y, {x: big}), np.full((4096, 1), 4096.0))
            assert plan.kept_bytes == 4096 * 2048 * 4


def test_values_that_do_not_overlap_share_a_kept_buffer(monkeypatch):
    """A deep chain keeps two buffers (ping-pong), not one per layer."""
    monkeypatch.setattr(buffers, "KEEP_FROM_BYTES", 0)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, [None, 4], name="x")
        h = x
        for i in range(6):
            h = fg.tanh(fg.matmul(h, fg.constant(np.eye(4) * 0.5, name=f"w{i}")))
        out = fg.reduce_sum(h, axis=1)
        with fg.Session() as sess:
            sess.run(out, {x: np.ones((3, 4))})
            (plan,) = sess._plans.values()
            assert plan.source.count(KEPT) == 5  # the last is computed into in place, then summed
            assert plan.kept_bytes == 2 * 3 * 4 * 8
            np.testing.assert_allclose(
                sess.run(out, {x: np.ones((3, 4))}), np.full(3, 4 * _tanh_chain(1.0, 6))
            )


def _tanh_chain(value, n):
    for _ in range(n):
        value = np.tanh(value * 0.5)
    return value
