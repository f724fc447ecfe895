"""What a run sets on the computing thread, and restores after: flush-to-zero / denormals-are-zero
(flowgraph/runtime/fpenv.py) and the BLAS thread count (flowgraph/runtime/threads.py)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import flowgraph as fg
from flowgraph.ops import registry
from flowgraph.ops.rules import same_as_input
from flowgraph.runtime import fpenv, threads
from flowgraph.runtime.feeds import feed_value

TINY = np.float32(1e-30)  # TINY * 1e-10 = 1e-40 is a float32 denormal
needs_ftz = pytest.mark.skipif(not fpenv.supported(), reason="no flush-to-zero on this platform")


@pytest.fixture
def probe(monkeypatch):
    """An op whose kernel records, while the run computes, a denormal product and the BLAS
    thread count; returns (op function, list of records)."""
    monkeypatch.setattr(registry, "_OP_DEFS", dict(registry._OP_DEFS))
    seen = []

    def kernel(xp, x):
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        seen.append((float(TINY * np.float32(1e-10)), blas))
        return x

    registry.define_op("FlowgraphTestProbe", same_as_input, kernel=kernel)
    return (lambda x: registry.apply_op("FlowgraphTestProbe", [x])), seen


def blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


@needs_ftz
def test_a_run_flushes_denormals_and_restores_the_callers_state(probe):
    op, seen = probe
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2])
        y = op(x) * np.float32(1e-10)  # the generated code's multiply also flushes
        with fg.Session() as sess:
            out = sess.run(y, {x: [TINY, 1.0]})
    assert seen[0][0] == 0.0 and out[0] == 0.0 and out[1] == np.float32(1e-10)
    assert TINY * np.float32(1e-10) > 0  # IEEE denormals again outside the run


@needs_ftz
def test_flush_denormals_false_keeps_ieee_denormals(probe):
    op, seen = probe
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [1])
        with fg.Session(config=fg.ConfigProto(flush_denormals=False)) as sess:
            out = sess.run(op(x) * np.float32(1e-10), {x: [TINY]})
    assert seen[0][0] > 0 and out[0] > 0


@needs_ftz
def test_a_failing_run_restores_the_callers_state_too():
    config = fg.ConfigProto(intra_op_parallelism_threads=3)
    with fg.Graph().as_default(), threadpool_limits(2, "blas"):
        x = fg.placeholder(fg.int32, [None])
        with fg.Session(config=config) as sess, pytest.raises(fg.errors.OpError):
            sess.run(fg.reshape(x, [3]), {x: [1, 2]})
        assert set(blas_threads()) <= {2}
    assert TINY * np.float32(1e-10) > 0


@needs_ftz
def test_make_callable_flushes_too(probe):
    op, seen = probe
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [1])
        f = fg.Session().make_callable(op(x), [x])
        f(np.ones(1, np.float32))
    assert seen[0][0] == 0.0 and TINY * np.float32(1e-10) > 0


def test_set_flush_denormal_is_the_callers_own_choice():
    if not fpenv.set_flush_denormal(True):
        pytest.skip("no flush-to-zero on this platform")
    try:
        assert TINY * np.float32(1e-10) == 0.0
        fpenv.leave(fpenv.enter())  # a run inside keeps the caller's flushing on
        assert TINY * np.float32(1e-10) == 0.0
    finally:
        fpenv.set_flush_denormal(False)
    assert TINY * np.float32(1e-10) > 0


def test_config_threads_are_set_during_the_run_and_restored(probe):
    if not blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    op, seen = probe
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [1])
        config = fg.ConfigProto(intra_op_parallelism_threads=3, inter_op_parallelism_threads=2)
        with threadpool_limits(2, "blas"), fg.Session(config=config) as sess:
            sess.run(op(x), {x: [1.0]})
            after = blas_threads()
        with threadpool_limits(2, "blas"), fg.Session() as sess:
            sess.run(op(x), {x: [1.0]})
    assert set(seen[0][1]) == {3} and set(after) == {2}
    assert set(seen[1][1]) == {threads.DEFAULT_INTRA_OP_THREADS}  # flowgraph's default


def test_the_process_setting_is_applied_and_is_the_sessions_default(probe):
    if not blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    op, seen = probe
    with threadpool_limits(1, "blas"):
        try:
            fg.config.threading.set_intra_op_parallelism_threads(2)
            assert set(blas_threads()) == {2}  # at once, for dynamic mode
            with fg.Graph().as_default():
                x = fg.placeholder(fg.float32, [1])
                fg.Session().run(op(x), {x: [1.0]})
        finally:
            fg.config.threading.set_intra_op_parallelism_threads(0)
    assert set(seen[0][1]) == {2}
    assert fg.config.threading.get_intra_op_parallelism_threads() == 1


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_thread_counts_are_named(bad):
    with pytest.raises(ValueError, match="intra_op_parallelism_threads"):
        fg.ConfigProto(intra_op_parallelism_threads=bad)
    with pytest.raises(ValueError, match="intra_op_parallelism_threads"):
        fg.config.threading.set_intra_op_parallelism_threads(bad)


def test_an_unknown_config_field_is_an_error():
    with pytest.raises(TypeError, match="intra_op_threads"):
        fg.ConfigProto(intra_op_threads=2)


@needs_ftz
def test_dynamic_backward_and_step_flush_and_restore(monkeypatch):
    import flowgraph.dynamic as torch

    seen = []
    update = torch.optim.SGD._update

    def spy(self, param, grad, state, group):
        seen.append(float(TINY * np.float32(1e-10)))
        update(self, param, grad, state, group)

    monkeypatch.setattr(torch.optim.SGD, "_update", spy)
    w = torch.tensor([1.0], requires_grad=True)
    y = w * TINY
    y.backward(torch.tensor([1e-10]))  # dw = 1e-10 * TINY, denormal: flushed inside backward
    assert w.grad.item() == 0.0
    torch.optim.SGD([w], lr=1.0).step()
    assert seen == [0.0] and TINY * np.float32(1e-10) > 0


def test_dynamic_set_num_threads():
    import flowgraph.dynamic as torch

    if not blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    with threadpool_limits(1, "blas"):
        try:
            torch.set_num_threads(2)
            assert set(blas_threads()) == {2} and torch.get_num_threads() == 2
        finally:
            fg.config.threading.set_intra_op_parallelism_threads(0)
    with pytest.raises(ValueError, match="positive integer"):
        torch.set_num_threads(0)


def test_tf1_config_idioms_run():
    import flowgraph.compat.v1 as tf

    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False)
    config.gpu_options.allow_growth = True
    config.intra_op_parallelism_threads = 1
    other = tf.ConfigProto(gpu_options=tf.GPUOptions(per_process_gpu_memory_fraction=0.5))
    with tf.Graph().as_default():
        total = tf.reduce_sum(tf.constant([1.0, 2.0]))
        for c in (config, other):
            with tf.Session(config=c) as sess:
                assert sess.run(total) == 3.0


def test_a_plan_of_elementwise_ufuncs_leaves_blas_alone(monkeypatch):
    """Part of the fixed cost of a run: BLAS threads are read and set only around plans with a
    kernel that may call BLAS; elementwise ufuncs never do."""
    calls = []
    enter = threads.enter
    monkeypatch.setattr(threads, "enter", lambda n: calls.append(n) or enter(n))
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2, 2])
        w = fg.Variable(np.eye(2, dtype=np.float32))
        elementwise, product = fg.tanh(x * 2.0 + 1.0), fg.matmul(x, w)
        config = fg.ConfigProto(intra_op_parallelism_threads=1)
        with fg.Session(config=config) as sess:
            sess.run(w.initializer)
            calls.clear()
            sess.run(elementwise, {x: np.ones((2, 2))})
            assert calls == []
            sess.run(product, {x: np.ones((2, 2))})
            assert calls == [1]


def test_a_fed_array_of_the_right_dtype_is_used_as_is_and_its_shape_checked():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None, 3], name="x")
        value = np.ones((2, 3), np.float32)
        with fg.Session() as sess:
            assert np.shares_memory(sess.run(fg.identity(x), {x: value}), value) is False
            assert feed_value(x, value) is value
            for bad in (np.ones((2, 4), np.float32), np.ones(3, np.float32)):
                with pytest.raises(ValueError, match=r"shape \[.*\] for tensor 'x:0'"):
                    sess.run(x * 2.0, {x: bad})
