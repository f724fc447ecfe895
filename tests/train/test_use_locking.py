"""use_locking=True (TF1's): concurrent updates of one variable never lose or tear data."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import train

THREADS = 8


def _hammer(sess, fetch, steps: int, feed=None) -> None:
    """Run ``fetch`` ``steps`` times from each of THREADS threads, all started together."""
    start = threading.Barrier(THREADS)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(steps):
                sess.run(fetch, feed)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]


@pytest.mark.parametrize("kind", ["assign_add", "assign_sub", "method"])
def test_locked_assign_add_from_eight_threads_counts_every_update(kind):
    with fg.Graph().as_default():
        v = fg.Variable(np.zeros(1000, np.float64), name="v")
        one = np.ones(1000)
        op = {
            "assign_add": lambda: fg.assign_add(v, one, use_locking=True),
            "assign_sub": lambda: fg.assign_sub(v, -one, use_locking=True),
            "method": lambda: v.assign_add(one, use_locking=True),
        }[kind]()
        assert op.op.attrs["use_locking"] is True
        with fg.Session() as sess:
            sess.run(v.initializer)
            _hammer(sess, op.op, 1000)
            np.testing.assert_array_equal(sess.run(v), np.full(1000, THREADS * 1000.0))


def test_the_default_is_tf1s_unlocked_update():
    with fg.Graph().as_default():
        v = fg.Variable([0.0], name="v")
        assert fg.assign_add(v, [1.0]).op.attrs["use_locking"] is False
        assert fg.assign(v, [1.0]).op.attrs["use_locking"] is False
        step = train.GradientDescentOptimizer(0.1).minimize(fg.reduce_sum(v * v))
        assert all(not op.attrs.get("use_locking", False) for op in step.control_inputs)


OPTIMIZERS = {
    "GradientDescent": lambda: train.GradientDescentOptimizer(0.01, use_locking=True),
    "Momentum": lambda: train.MomentumOptimizer(0.01, 0.9, use_locking=True),
    "Adagrad": lambda: train.AdagradOptimizer(0.01, use_locking=True),
    "RMSProp": lambda: train.RMSPropOptimizer(0.01, use_locking=True),
    "Adam": lambda: train.AdamOptimizer(0.01, use_locking=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_locked_optimizer_steps_from_eight_threads_are_whole_updates(name):
    """Every element sees the same gradient: whole updates leave all elements equal (a torn
    one would not), and where an update depends only on the variable and its slots, 200
    concurrent steps end exactly where 200 steps in a row do."""
    with fg.Graph().as_default():
        w = fg.Variable(np.ones(200_000, np.float32), name="w")
        step_var = fg.Variable(0, dtype=fg.int64, name="global_step", trainable=False)
        opt = OPTIMIZERS[name]()
        train_op = opt.apply_gradients([(fg.ones([200_000]), w)], global_step=step_var)
        updates = [op for op in fg.get_default_graph().get_operations() if op.type != "Assign"]
        assert all(op.attrs["use_locking"] for op in updates if "use_locking" in op.attrs)
        with fg.Session() as sess:
            sess.run(fg.global_variables_initializer())
            _hammer(sess, train_op, 25)
            value, steps = sess.run([w, step_var])
        with fg.Session() as sess:
            sess.run(fg.global_variables_initializer())
            for _ in range(THREADS * 25):
                sess.run(train_op)
            in_a_row = sess.run(w)
    assert steps == THREADS * 25
    assert np.all(value == value[0]), f"torn: {np.unique(value)[:5]}"
    if name != "Adam":  # (Adam's step count is read before its update, unlocked, as in TF1)
        assert value[0] == in_a_row[0]
