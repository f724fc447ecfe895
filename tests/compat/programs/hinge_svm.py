"""A linear support-vector machine trained with tf.losses.hinge_loss plus an L2 penalty."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(8)
pos = rng.normal([2.0, 2.0], 0.8, (100, 2))
neg = rng.normal([-2.0, -1.0], 0.8, (100, 2))
features = np.vstack([pos, neg]).astype(np.float32)
targets = np.concatenate([np.ones(100), np.zeros(100)]).astype(np.float32)[:, None]

x_data = tf.placeholder(shape=[None, 2], dtype=tf.float32)
y_target = tf.placeholder(shape=[None, 1], dtype=tf.float32)
A = tf.Variable(tf.random_normal(shape=[2, 1]))
b = tf.Variable(tf.random_normal(shape=[1, 1]))
model_output = tf.subtract(tf.matmul(x_data, A), b)

l2_norm = tf.reduce_sum(tf.square(A))
alpha = tf.constant([0.01])
loss = tf.add(tf.losses.hinge_loss(labels=y_target, logits=model_output), alpha * l2_norm)
train_step = tf.train.GradientDescentOptimizer(0.05).minimize(loss)

prediction = tf.to_float(tf.greater(model_output, 0.0))
accuracy = tf.reduce_mean(tf.to_float(tf.equal(prediction, y_target)))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(200):
        idx = rng.choice(200, 32)
        sess.run(train_step, feed_dict={x_data: features[idx], y_target: targets[idx]})
    print("margin width:", 2.0 / np.sqrt(sess.run(l2_norm)))
    print("accuracy:", sess.run(accuracy, {x_data: features, y_target: targets}))
