"""Complete TF1 programs, written as a TF1 user writes them, run through flowgraph.compat.v1."""

from __future__ import annotations

import numpy as np

import flowgraph.compat.v1 as tf
from flowgraph.datasets.synthetic import blobs


def test_mlp_on_blobs_with_softmax_cross_entropy_and_adam():
    train = blobs(600, num_features=20, num_classes=4, seed=0)
    test = blobs(200, num_features=20, num_classes=4, seed=1)
    tf.set_random_seed(0)

    x = tf.placeholder(tf.float32, [None, 20], name="x")
    y = tf.placeholder(tf.float32, [None, 4], name="y")
    W1 = tf.Variable(tf.random_normal([20, 32], stddev=0.1))
    b1 = tf.Variable(tf.zeros([32]))
    h1 = tf.nn.relu(tf.matmul(x, W1) + b1)
    W2 = tf.Variable(tf.random_normal([32, 4], stddev=0.1))
    b2 = tf.Variable(tf.zeros([4]))
    logits = tf.matmul(h1, W2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, feed_dict={x: test.images, y: test.labels})
        for _ in range(150):
            batch_x, batch_y = train.next_batch(50)
            sess.run(train_op, feed_dict={x: batch_x, y: batch_y})
        last, acc = sess.run([loss, accuracy], feed_dict={x: test.images, y: test.labels})
    assert last < first / 4
    assert acc >= 0.95


def test_small_cnn_with_tf_layers_learns():
    # Tiny 8x8 "images": class 0 has a bright left half, class 1 a bright right half.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    images = rng.uniform(0, 0.3, (64, 8, 8, 1)).astype(np.float32)
    for i, c in enumerate(labels):
        images[i, :, 4 * c : 4 * c + 4, 0] += 0.7
    one_hot = np.eye(2, dtype=np.float32)[labels]
    tf.set_random_seed(1)

    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    y = tf.placeholder(tf.float32, [None, 2])
    training = tf.placeholder_with_default(False, [])
    h = tf.layers.conv2d(x, filters=4, kernel_size=3, padding="same", activation=tf.nn.relu)
    h = tf.layers.max_pooling2d(h, pool_size=2, strides=2)
    h = tf.layers.conv2d(h, 8, (3, 3), activation=tf.nn.relu)
    h = tf.layers.flatten(h)
    h = tf.layers.dropout(h, rate=0.2, training=training)
    logits = tf.layers.dense(h, 2)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
    assert [v.name for v in tf.trainable_variables()] == [
        "conv2d/kernel:0",
        "conv2d/bias:0",
        "conv2d_1/kernel:0",
        "conv2d_1/bias:0",
        "dense/kernel:0",
        "dense/bias:0",
    ]
    assert h.shape.as_list() == [None, 2 * 2 * 8]

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(loss, {x: images, y: one_hot})
        for _ in range(30):
            sess.run(train_op, {x: images, y: one_hot, training: True})
        after = sess.run(loss, {x: images, y: one_hot})
    assert after < 0.5 * before


def test_linear_regression_with_gradient_descent_recovers_the_weights():
    rng = np.random.default_rng(0)
    true_w, true_b = np.array([[2.0], [-3.0], [0.5]]), 1.5
    data_x = rng.standard_normal((200, 3)).astype(np.float32)
    data_y = (data_x @ true_w + true_b).astype(np.float32)

    X = tf.placeholder(tf.float32, [None, 3])
    Y = tf.placeholder(tf.float32, [None, 1])
    W = tf.Variable(tf.zeros([3, 1]), name="weights")
    b = tf.Variable(0.0, name="bias")
    pred = tf.matmul(X, W) + b
    cost = tf.reduce_mean(tf.square(pred - Y))
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(cost, global_step=global_step)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(200):
            sess.run(train_op, feed_dict={X: data_x, Y: data_y})
        w_value, b_value, step = sess.run([W, b, global_step])
    np.testing.assert_allclose(w_value, true_w, atol=1e-3)
    assert abs(b_value - true_b) < 1e-3
    assert step == 200


def test_logistic_regression_with_sigmoid_cross_entropy():
    rng = np.random.default_rng(1)
    data_x = rng.standard_normal((300, 2)).astype(np.float32)
    data_y = (data_x[:, :1] + 2 * data_x[:, 1:] > 0).astype(np.float32)

    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    train_op = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    predicted = tf.cast(tf.greater(tf.sigmoid(logits), 0.5), tf.float32)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(100):
            sess.run(train_op, {x: data_x, y: data_y})
        acc, w_value = sess.run([accuracy, w], {x: data_x, y: data_y})
    assert acc > 0.97
    # The decision boundary x0 + 2 x1 = 0: the learned weights point the same way.
    assert w_value[1, 0] / w_value[0, 0] > 1.5


def test_explicit_gradients_and_apply_gradients():
    x = tf.placeholder(tf.float32, [3])
    w = tf.Variable([1.0, 2.0, 3.0])
    y = tf.reduce_sum(w * w * x)
    dw, dx = tf.gradients(y, [w, x])
    (unconnected,) = tf.gradients(y, [tf.Variable(1.0)])
    assert unconnected is None
    opt = tf.train.GradientDescentOptimizer(0.5)
    grads_and_vars = opt.compute_gradients(y, var_list=[w])
    clipped = [(tf.clip_by_value(g, -1.0, 1.0), v) for g, v in grads_and_vars]
    step = opt.apply_gradients(clipped)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: [1.0, 0.1, -1.0]}
        np.testing.assert_allclose(sess.run(dw, feed), [2.0, 0.4, -6.0], rtol=1e-6)
        np.testing.assert_allclose(sess.run(dx, feed), [1.0, 4.0, 9.0])
        sess.run(step, feed)
        np.testing.assert_allclose(sess.run(w), [0.5, 1.8, 3.5], rtol=1e-6)


def test_cond_and_while_loop():
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0.0, lambda: tf.square(x), lambda: -x)
    # Collatz-style loop: count the steps from n down to 1.
    n = tf.placeholder(tf.int32, [])

    def body(i, value):
        nxt = tf.cond(
            tf.equal(tf.mod(value, 2), 0), lambda: tf.floordiv(value, 2), lambda: 3 * value + 1
        )
        return i + 1, nxt

    steps, _ = tf.while_loop(lambda i, value: value > 1, body, [tf.constant(0), n])
    dy = tf.gradients(y, x)[0]

    with tf.Session() as sess:
        assert sess.run(y, {x: 3.0}) == 9.0
        assert sess.run(y, {x: -2.0}) == 2.0
        assert sess.run(dy, {x: 3.0}) == 6.0
        assert sess.run(dy, {x: -2.0}) == -1.0
        assert sess.run(steps, {n: 6}) == 8  # 6 3 10 5 16 8 4 2 1
        assert sess.run(steps, {n: 1}) == 0


def test_case_group_and_control_dependencies():
    v = tf.Variable(0, name="counter")
    x = tf.placeholder(tf.int32, [])
    picked = tf.case(
        [(tf.less(x, 0), lambda: tf.constant(-1)), (tf.greater(x, 0), lambda: tf.constant(1))],
        default=lambda: tf.constant(0),
    )
    bump = tf.assign_add(v, 1)
    with tf.control_dependencies([bump]):
        after = tf.identity(v)
    both = tf.group(bump, tf.no_op())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert [sess.run(picked, {x: k}) for k in (-5, 0, 7)] == [-1, 0, 1]
        assert sess.run(after) == 1
        sess.run(both)
        assert sess.run(v) == 2


def test_interactive_session_and_eval():
    sess = tf.InteractiveSession()
    try:
        a = tf.constant([[1.0, 2.0]])
        assert tf.get_default_session() is sess
        np.testing.assert_allclose(tf.transpose(a).eval(), [[1.0], [2.0]])
    finally:
        sess.close()
