"""Linear regression with placeholders, two variables and plain gradient descent."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(0)
train_X = rng.uniform(-1, 1, 100).astype(np.float32)
train_Y = 3.0 * train_X + 2.0 + rng.normal(0, 0.1, 100).astype(np.float32)

X = tf.placeholder("float")
Y = tf.placeholder("float")
W = tf.Variable(rng.randn(), name="weight", dtype=tf.float32)
b = tf.Variable(rng.randn(), name="bias", dtype=tf.float32)

pred = tf.add(tf.multiply(X, W), b)
cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * len(train_X))
optimizer = tf.train.GradientDescentOptimizer(0.5).minimize(cost)

init = tf.global_variables_initializer()
with tf.Session() as sess:
    sess.run(init)
    for epoch in range(100):
        sess.run(optimizer, feed_dict={X: train_X, Y: train_Y})
        if (epoch + 1) % 50 == 0:
            c = sess.run(cost, feed_dict={X: train_X, Y: train_Y})
            print("Epoch:", "%04d" % (epoch + 1), "cost=", "{:.9f}".format(c))
    print("W =", sess.run(W), "b =", sess.run(b))
    print("final cost:", sess.run(cost, feed_dict={X: train_X, Y: train_Y}))
