"""TF1's other decay schedules, tf.train.global_step and tf.train.write_graph."""

import json
import math

import pytest

import flowgraph.compat.v1 as tf

SCHEDULES = [
    (
        lambda s: tf.train.inverse_time_decay(0.5, s, 10, 0.3),
        lambda s: 0.5 / (1 + 0.3 * s / 10),
    ),
    (
        lambda s: tf.train.inverse_time_decay(0.5, s, 10, 0.3, staircase=True),
        lambda s: 0.5 / (1 + 0.3 * (s // 10)),
    ),
    (
        lambda s: tf.train.natural_exp_decay(0.5, s, 10, 0.3),
        lambda s: 0.5 * math.exp(-0.3 * s / 10),
    ),
    (
        lambda s: tf.train.polynomial_decay(0.5, s, 20, 0.1, power=2.0),
        lambda s: (0.5 - 0.1) * (1 - min(s, 20) / 20) ** 2 + 0.1,
    ),
    (
        lambda s: tf.train.polynomial_decay(0.5, s, 20, 0.1, cycle=True),
        lambda s: (0.5 - 0.1) * (1 - s / (20 * max(math.ceil(s / 20), 1))) + 0.1,
    ),
    (
        lambda s: tf.train.cosine_decay(0.5, s, 20, alpha=0.1),
        lambda s: 0.5 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + 0.1),
    ),
]


@pytest.mark.parametrize("schedule, formula", SCHEDULES)
def test_decay_schedules_follow_tf1s_formulas(schedule, formula):
    step = tf.placeholder(tf.int64, [])
    lr = schedule(step)
    with tf.Session() as sess:
        for s in (0, 1, 9, 10, 15, 20, 35, 60):
            assert sess.run(lr, {step: s}) == pytest.approx(formula(s), rel=1e-5)


def test_global_step_value_and_write_graph(tmp_path):
    gs = tf.train.get_or_create_global_step()
    bump = tf.assign_add(gs, 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(bump)
        assert tf.train.global_step(sess, gs) == 3
        path = tf.train.write_graph(sess.graph_def, str(tmp_path / "logs"), "graph.pbtxt")
        path2 = tf.train.write_graph(sess.graph, str(tmp_path / "logs"), "graph2.json")
    for p in (path, path2):
        doc = json.loads(open(p).read())
        assert any(op["name"] == "global_step" for op in doc["ops"])
    with tf.Graph().as_default():
        tf.train.import_meta_graph(path)
        assert tf.train.get_global_step() is not None
