"""flowgraph.distributed on a loopback LocalCluster (2 worker processes on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

import flowgraph as fg  # noqa: E402
from flowgraph import errors  # noqa: E402
from flowgraph.distributed import DistributedSession, local_cluster  # noqa: E402
from flowgraph.distributed.worker import get_variables  # noqa: E402
from flowgraph.train.saver import Saver  # noqa: E402

from .mlp import build_data_parallel, build_single  # noqa: E402


@pytest.fixture(scope="module")
def client():
    client, cluster = local_cluster(2)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_placement_and_values(client):
    with fg.Graph().as_default() as g:
        x = fg.placeholder(fg.float32, [None, 3], name="x")
        with fg.device("/job:worker/task:1"):
            y = fg.reduce_sum(x * 2.0, name="y")
        with fg.device("/job:worker/task:0"):
            z = fg.tanh(y, name="z")
        w = fg.exp(z, name="w")  # unplaced: follows its input (worker 0)
        feed = {x: [[1.0, 2.0, 3.0]]}
        expected = fg.Session().run([y, z, w], feed)
        with DistributedSession(client, graph=g) as sess:
            out = sess.run({"y": y, "both": [z, w]}, feed)
            dplan = sess._plan_for((y, z, w), {x: None})
            workers = {s.nodes[-1].origin_name: s.worker for s in dplan.segments}
    assert isinstance(out["both"][1], np.floating)
    np.testing.assert_allclose([out["y"], *out["both"]], expected, rtol=1e-6)
    assert workers == {"y": 1, "w": 0}  # z and w share worker 0's segment


def test_worker_restrictions_are_real(client):
    with fg.Graph().as_default() as g:
        with fg.device("/job:worker/task:1"):
            v = fg.Variable([1.0, 2.0], name="on_one")
        with DistributedSession(client, graph=g) as sess:
            sess.run(fg.global_variables_initializer())
            per_worker = client.run(get_variables, sess.session_id)
            np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    assert sorted(per_worker[sess.workers[1]]) == ["on_one"]
    assert per_worker[sess.workers[0]] == {}


def test_op_error_names_op_and_line(client):
    with fg.Graph().as_default() as g:
        a = fg.placeholder(fg.float32, [None, None], name="a")
        b = fg.placeholder(fg.float32, [None, None], name="b")
        with fg.device("/job:worker/task:1"):
            bad = fg.matmul(a, b, name="bad_matmul")  # the line the error names
        line = bad.op.site
        with DistributedSession(client, graph=g) as sess:
            with pytest.raises(errors.InvalidArgumentError) as info:
                sess.run(bad, {a: np.ones((2, 3)), b: np.ones((2, 2))})
    message = str(info.value)
    assert info.value.op is bad.op
    assert "MatMul op 'bad_matmul' failed" in message
    assert str(line) in message and "test_dask.py" in message
    assert "input shapes: [2, 3], [2, 2]" in message


def test_uninitialized_variable_is_failed_precondition(client):
    with fg.Graph().as_default() as g:
        with fg.device("/job:worker/task:1"):
            v = fg.Variable([1.0], name="never_set")
        with DistributedSession(client, graph=g) as sess:
            with pytest.raises(errors.FailedPreconditionError, match="never_set"):
                sess.run(v + 1.0)


def test_variables_persist_across_runs_and_save(client, tmp_path):
    with fg.Graph().as_default() as g:
        with fg.device("/job:worker/task:1"):
            v = fg.Variable([1.0, 2.0], name="v")
        with fg.device("/job:worker/task:0"):
            u = fg.Variable(10.0, name="u")
        bump = v.assign_add([1.0, 1.0])
        grow = u.assign(u * 2.0)
        saver = Saver()
        with DistributedSession(client, graph=g) as sess:
            sess.run(fg.global_variables_initializer())
            sess.run(bump)
            sess.run([bump, grow])
            np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])
            gathered = sess.gather_variables()
            assert sorted(gathered) == ["u", "v"]
            np.testing.assert_array_equal(gathered["v"], [3.0, 4.0])
            assert gathered["u"] == 20.0
            path = saver.save(sess, str(tmp_path / "model"), global_step=2)
        with DistributedSession(client, graph=g) as sess:  # fresh stores, restored
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run(v), [3.0, 4.0])
            assert sess.run(u) == 20.0
        with fg.Session(graph=g) as local:  # the checkpoint is an ordinary one
            saver.restore(local, path)
            np.testing.assert_array_equal(local.run(v), [3.0, 4.0])


def test_failed_step_leaves_variables_unchanged(client):
    with fg.Graph().as_default() as g:
        x = fg.placeholder(fg.float32, [None], name="x")
        with fg.device("/job:ps/task:0"):
            w = fg.Variable([1.0, 1.0], name="w")
            m = fg.Variable([5.0, 5.0], name="m")
        with fg.device("/job:worker/task:1"):
            grad = fg.reshape(x * 3.0, [2], name="grad")  # fails for a feed of 3 values
        step = fg.group(w.assign_sub(grad), m.assign_add([1.0, 1.0]))
        with DistributedSession(client, graph=g) as sess:
            sess.run(fg.global_variables_initializer())
            sess.run(step, {x: [1.0, 1.0]})
            with pytest.raises(errors.OpError, match="grad"):
                sess.run(step, {x: [1.0, 1.0, 1.0]})
            values = sess.gather_variables()
    np.testing.assert_array_equal(values["w"], [-2.0, -2.0])
    np.testing.assert_array_equal(values["m"], [6.0, 6.0])


def test_data_parallel_mnist_trains_on_two_workers(client):
    from flowgraph.datasets.mnist import read_data_sets

    mnist = read_data_sets(one_hot=True)
    graph, dp, x, y, accuracy, init = build_data_parallel(2)
    dplan_workers = set()
    with DistributedSession(client, graph=graph, seed=0) as sess:
        sess.run(init)
        start = time.perf_counter()
        for _ in range(300):
            bx, by = mnist.train.next_batch(100)
            sess.run(dp.train_op, dp.feed_dict(bx, by))
        elapsed = time.perf_counter() - start
        for dplan in sess._plans.values():
            dplan_workers |= {s.worker for s in dplan.segments}
        acc = sess.run(accuracy, {x: mnist.test.images, y: mnist.test.labels})
    assert dplan_workers == {0, 1}  # both towers really ran, on different workers
    assert acc >= 0.7, f"data-parallel accuracy {acc:.3f} after 300 steps ({elapsed:.1f} s)"

    # The same steps in one process reach the same band.
    graph, x1, y1, train_op, accuracy1, init1 = build_single()
    mnist = read_data_sets(one_hot=True)
    with fg.Session(graph=graph) as sess:
        sess.run(init1)
        for _ in range(300):
            bx, by = mnist.train.next_batch(100)
            sess.run(train_op, {x1: bx, y1: by})
        acc1 = sess.run(accuracy1, {x1: mnist.test.images, y1: mnist.test.labels})
    assert abs(acc - acc1) < 0.1, (acc, acc1)


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_killed_worker_gives_clear_error_not_hang():
    client, cluster = local_cluster(2)
    try:
        with fg.Graph().as_default() as g:
            with fg.device("/job:ps/task:0"):
                w = fg.Variable(np.zeros([4], np.float32), name="w")
            with fg.device("/job:worker/task:1"):
                a = fg.random_normal([1200, 1200], seed=3)
                for _ in range(40):  # a few seconds of work on worker 1
                    a = fg.tanh(fg.matmul(a, a) * 1e-3)
                delta = fg.reduce_sum(a, axis=0)[:4]
            step = w.assign_add(delta)
            sess = DistributedSession(client, graph=g, timeout=30)
            sess.run(fg.global_variables_initializer())
            victim = sess.workers[1]
            errors_seen = []

            def run():
                try:
                    sess.run(step)
                except Exception as e:  # noqa: BLE001
                    errors_seen.append(e)

            thread = threading.Thread(target=run)
            start = time.monotonic()
            thread.start()
            time.sleep(0.5)
            with contextlib.suppress(Exception):  # the worker dies before it can answer
                client.run(os._exit, 1, workers=[victim])
            thread.join(40)
            assert not thread.is_alive(), "the run hung"
            assert time.monotonic() - start < 35
            assert errors_seen and isinstance(errors_seen[0], errors.UnavailableError)
            assert victim in str(errors_seen[0])
            # The update on the surviving ps worker was never applied.
            alive = client.run(get_variables, sess.session_id, workers=[sess.workers[0]])
            np.testing.assert_array_equal(alive[sess.workers[0]]["w"], np.zeros(4))
            sess.close()
    finally:
        client.close()
        cluster.close()


def _outcome_within(seconds, call):
    """``("returned", value)`` or ``("raised", exception)`` of ``call()``, which must end
    within ``seconds``."""
    outcome = []

    def target():
        try:
            outcome.append(("returned", call()))
        except Exception as e:  # noqa: BLE001 - what the test looks at
            outcome.append(("raised", e))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


def _scheduler_workers(client) -> list:
    return client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.workers))


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_after_a_worker_restarts_restore_from_a_checkpoint_and_train_on(tmp_path):
    """The recovery the error message recommends: a killed worker comes back (the nanny starts
    a new one, on a new port); every call fails fast until then, then Saver.restore puts the
    variables back on it and training goes on from the checkpoint."""
    client, cluster = local_cluster(2)
    try:
        with fg.Graph().as_default() as g:
            with fg.device("/job:ps/task:1"):
                w = fg.Variable(np.zeros([3], np.float32), name="w")
            step = w.assign_add(np.ones(3, np.float32))
            saver = Saver([w])
            sess = DistributedSession(client, graph=g, timeout=20)
            sess.run(w.initializer)
            sess.run(step)
            path = saver.save(sess, str(tmp_path / "model"), global_step=1)  # w == 1
            sess.run(step)  # w == 2, not saved
            victim = sess.workers[1]
            with contextlib.suppress(Exception):  # the worker dies before it can answer
                client.run(os._exit, 1, workers=[victim])
            deadline = time.monotonic() + 30
            while victim in _scheduler_workers(client):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # Each call fails fast, naming the lost worker or what was lost with it (before:
            # gather_variables returned {} and restore blocked for more than 30 s).
            for call in (
                lambda: sess.run(step),
                lambda: sess.gather_variables(),
                lambda: saver.save(sess, str(tmp_path / "model"), global_step=2),
            ):
                kind, error = _outcome_within(10, call)
                assert kind == "raised", f"returned {error!r} instead of failing"
                assert isinstance(error, errors.UnavailableError | errors.FailedPreconditionError)
                assert victim in str(error) or "restore them" in str(error), str(error)
            # Restoring fails fast too, or works if the new worker has joined meanwhile.
            kind, error = _outcome_within(10, lambda: saver.restore(sess, path))
            assert kind == "returned" or isinstance(error, errors.UnavailableError), error
            while len(_scheduler_workers(client)) < 2:
                assert time.monotonic() < deadline + 30
                time.sleep(0.05)
            if kind == "raised":
                with pytest.raises(errors.FailedPreconditionError, match="restore them"):
                    sess.run(step)  # the new worker holds no variables yet
                kind, error = _outcome_within(10, lambda: saver.restore(sess, path))
                assert kind == "returned", error
            assert sess.workers[1] != victim
            np.testing.assert_array_equal(sess.run(step), np.full(3, 2.0, np.float32))
            np.testing.assert_array_equal(sess.gather_variables()["w"], np.full(3, 2.0))
            sess.close()
    finally:
        client.close()
        cluster.close()
