"""tf.cond and tf.case choosing computations at run time, and tf.where choosing elementwise:
fit a piecewise-linear function whose pieces a placeholder selects."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(4)
xs = rng.uniform(-3, 3, 200).astype(np.float32)
ys = np.where(xs < 0, -2.0 * xs, 0.5 * xs).astype(np.float32)

x = tf.placeholder(tf.float32, [None])
y = tf.placeholder(tf.float32, [None])
mode = tf.placeholder(tf.int32, [])
left = tf.Variable(0.0)
right = tf.Variable(0.0)
pred = tf.where(x < 0, left * x, right * x)
mse = tf.reduce_mean(tf.square(pred - y))
mae = tf.reduce_mean(tf.abs(pred - y))
loss = tf.case(
    [(tf.equal(mode, 0), lambda: mse), (tf.equal(mode, 1), lambda: mae)], default=lambda: mse + mae
)
lr = tf.cond(mode > 0, lambda: tf.constant(0.02), lambda: tf.constant(0.05))
train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(200):
        sess.run(train, {x: xs, y: ys, mode: step % 3})
    print("learning rates", sess.run(lr, {mode: 0}), sess.run(lr, {mode: 1}))
    print("slopes", sess.run([left, right]))
    print("final mse:", sess.run(mse, {x: xs, y: ys}))
