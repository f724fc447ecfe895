"""tf.nn.rnn_cell cells, static_rnn and dynamic_rnn (flowgraph/layers/rnn.py) against NumPy."""

import numpy as np
import pytest

import flowgraph.compat.v1 as tf
from flowgraph.testing import check_gradients

RNG = np.random.default_rng(5)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_reference(xs, kernel, bias, units, forget_bias=1.0, lengths=None):
    batch = xs.shape[0]
    c, h = np.zeros((batch, units)), np.zeros((batch, units))
    outs = []
    for t in range(xs.shape[1]):
        gates = np.concatenate([xs[:, t], h], 1) @ kernel + bias
        i, j, f, o = np.split(gates, 4, axis=1)
        new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        new_h = np.tanh(new_c) * sigmoid(o)
        if lengths is not None:
            alive = (t < lengths)[:, None]
            new_c, new_h = np.where(alive, new_c, c), np.where(alive, new_h, h)
            outs.append(np.where(alive, new_h, 0.0))
        else:
            outs.append(new_h)
        c, h = new_c, new_h
    return np.stack(outs, 1), c, h


@pytest.mark.parametrize("with_lengths", [False, True])
def test_dynamic_rnn_lstm_matches_numpy(with_lengths):
    xs = RNG.uniform(-1, 1, (3, 4, 2))
    lengths = np.array([4, 2, 0]) if with_lengths else None
    x = tf.placeholder(tf.float64, [None, 4, 2])
    seq = tf.placeholder(tf.int32, [None]) if with_lengths else None
    outputs, state = tf.nn.dynamic_rnn(
        tf.nn.rnn_cell.BasicLSTMCell(5), x, sequence_length=seq, dtype=tf.float64
    )
    kernel, bias = tf.trainable_variables()
    assert kernel.op.name == "rnn/basic_lstm_cell/kernel" and kernel.shape.as_list() == [7, 20]
    feed = {x: xs} if seq is None else {x: xs, seq: lengths}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        k, b = sess.run([kernel, bias])
        got_out, got_c, got_h = sess.run([outputs, state.c, state.h], feed)
    ref_out, ref_c, ref_h = lstm_reference(xs, k, b, 5, lengths=lengths)
    np.testing.assert_allclose(got_out, ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_c, ref_c, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_h, ref_h, rtol=1e-10, atol=1e-12)


def test_gru_multi_cell_static_rnn_and_gradients():
    cells = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.BasicRNNCell(2)])
    x = tf.placeholder(tf.float64, [2, 3, 4])
    outputs, states = tf.nn.static_rnn(cells, tf.unstack(x, axis=1), dtype=tf.float64)
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == [
        "rnn/multi_rnn_cell/cell_0/gru_cell/candidate/bias",
        "rnn/multi_rnn_cell/cell_0/gru_cell/candidate/kernel",
        "rnn/multi_rnn_cell/cell_0/gru_cell/gates/bias",
        "rnn/multi_rnn_cell/cell_0/gru_cell/gates/kernel",
        "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/bias",
        "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/kernel",
    ]
    assert len(outputs) == 3 and outputs[-1].shape.as_list() == [2, 2]
    assert states[0].shape.as_list() == [2, 3]
    xv = RNG.uniform(-1, 1, (2, 3, 4))
    # Gradients with respect to the inputs, with the weights fixed at their initial values.
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        values = {v: sess.run(v) for v in tf.trainable_variables()}
    frozen = {v.value(): values[v] for v in tf.trainable_variables()}
    check_gradients(tf.reduce_sum(outputs[-1] ** 2), [x], {x: xv, **frozen})


def test_an_lstm_learns_to_sum_a_sequence():
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 6, 1])
    y = tf.placeholder(tf.float32, [None, 1])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(8), x, dtype=tf.float32)
    prediction = tf.layers.dense(state.h, 1)
    loss = tf.losses.mean_squared_error(y, prediction)
    train = tf.train.AdamOptimizer(0.03).minimize(loss)
    rng = np.random.default_rng(0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(150):
            xs = rng.uniform(-0.5, 0.5, (32, 6, 1)).astype(np.float32)
            sess.run(train, {x: xs, y: xs.sum(1)})
        xs = rng.uniform(-0.5, 0.5, (64, 6, 1)).astype(np.float32)
        assert sess.run(loss, {x: xs, y: xs.sum(1)}) < 0.05
    with pytest.raises(ValueError, match="time dimension"):
        tf.nn.dynamic_rnn(
            tf.nn.rnn_cell.GRUCell(2), tf.placeholder(tf.float32, [None, None, 1]), dtype=tf.float32
        )
