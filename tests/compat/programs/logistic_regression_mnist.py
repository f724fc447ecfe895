"""Softmax regression on MNIST, the classic first TF1 tutorial."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=True)
tf.set_random_seed(1)

learning_rate = 0.5
training_steps = 200
batch_size = 100

x = tf.placeholder(tf.float32, [None, 784])
y = tf.placeholder(tf.float32, [None, 10])
W = tf.Variable(tf.zeros([784, 10]))
b = tf.Variable(tf.zeros([10]))
pred = tf.nn.softmax(tf.matmul(x, W) + b)
cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(pred + 1e-10), reduction_indices=1))
optimizer = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(training_steps):
        batch_xs, batch_ys = mnist.train.next_batch(batch_size)
        _, c = sess.run([optimizer, cost], feed_dict={x: batch_xs, y: batch_ys})
        if step % 100 == 0:
            print("step", step, "cost", c)
    correct_prediction = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    print("test accuracy:", accuracy.eval({x: mnist.test.images, y: mnist.test.labels}))
