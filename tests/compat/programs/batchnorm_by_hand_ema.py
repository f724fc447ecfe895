"""Batch normalization written by hand, as the early TF1 tutorials did: tf.nn.moments for the
batch statistics, an ExponentialMovingAverage of them updated inside tf.cond while training,
and the averages used at test time."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(15)
n = 600
features = rng.normal(0, 1, (n, 6)).astype(np.float32) * [1, 5, 10, 0.1, 2, 3] + 20.0
labels = (features[:, 0] - 20 + (features[:, 1] - 20) / 5 > 0).astype(np.int64)

x = tf.placeholder(tf.float32, [None, 6])
y = tf.placeholder(tf.int64, [None])
phase_train = tf.placeholder(tf.bool, name="phase_train")


def batch_norm(inputs, n_out, phase_train):
    with tf.variable_scope("bn"):
        beta = tf.Variable(tf.constant(0.0, shape=[n_out]), name="beta", trainable=True)
        gamma = tf.Variable(tf.constant(1.0, shape=[n_out]), name="gamma", trainable=True)
        batch_mean, batch_var = tf.nn.moments(inputs, [0], name="moments")
        ema = tf.train.ExponentialMovingAverage(decay=0.9)

        def mean_var_with_update():
            ema_apply_op = ema.apply([batch_mean, batch_var])
            with tf.control_dependencies([ema_apply_op]):
                return tf.identity(batch_mean), tf.identity(batch_var)

        mean, var = tf.cond(
            phase_train,
            mean_var_with_update,
            lambda: (ema.average(batch_mean), ema.average(batch_var)),
        )
        return tf.nn.batch_normalization(inputs, mean, var, beta, gamma, 1e-3)


normed = batch_norm(x, 6, phase_train)
hidden = tf.layers.dense(normed, 16, activation=tf.nn.relu)
logits = tf.layers.dense(hidden, 2)
loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
accuracy = tf.reduce_mean(tf.to_float(tf.equal(tf.argmax(logits, 1), y)))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(200):
        idx = rng.randint(0, 500, 50)
        sess.run(train_op, {x: features[idx], y: labels[idx], phase_train: True})
    test = {x: features[500:], y: labels[500:], phase_train: False}
    print("test accuracy:", sess.run(accuracy, test))
