"""Robust regression with tf.losses: a Huber loss with per-example weights, an L2 penalty on
the kernel through kernel_regularizer, and tf.losses.get_total_loss() to train on both."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(2)
X = rng.uniform(-2, 2, (256, 5)).astype(np.float32)
true_w = np.array([[2.0], [-1.0], [0.0], [0.5], [1.0]], np.float32)
Y = X @ true_w + 0.05 * rng.normal(size=(256, 1)).astype(np.float32)
Y[:10] += 30.0  # outliers, which the Huber loss should mostly ignore
W = np.ones((256, 1), np.float32)
W[10:20] = 0.0  # a few examples switched off by weight

x = tf.placeholder(tf.float32, [None, 5])
y = tf.placeholder(tf.float32, [None, 1])
weights = tf.placeholder(tf.float32, [None, 1])
pred = tf.layers.dense(x, 1, kernel_regularizer=lambda w: 1e-4 * tf.nn.l2_loss(w), name="linear")
huber = tf.losses.huber_loss(y, pred, weights=weights, delta=1.0)
total = tf.losses.get_total_loss()
reg = tf.losses.get_regularization_loss()
train_op = tf.train.AdamOptimizer(0.05).minimize(total)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(300):
        sess.run(train_op, {x: X, y: Y, weights: W})
    kernel = sess.run(tf.trainable_variables()[0])
    print("losses collected:", len(tf.losses.get_losses()), "regularization:", sess.run(reg))
    print("kernel error:", float(np.abs(kernel - true_w).max()))
