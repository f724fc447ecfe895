"""A small convolutional network with tf.layers and dropout switched by a training flag."""

import numpy as np

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=True)
tf.set_random_seed(3)

x = tf.placeholder(tf.float32, [None, 784])
y_ = tf.placeholder(tf.float32, [None, 10])
is_training = tf.placeholder(tf.bool, name="is_training")

input_layer = tf.reshape(x, [-1, 28, 28, 1])
conv1 = tf.layers.conv2d(
    input_layer, filters=8, kernel_size=[5, 5], strides=2, padding="same", activation=tf.nn.relu
)
pool1 = tf.layers.max_pooling2d(conv1, pool_size=[2, 2], strides=2)
flat = tf.layers.flatten(pool1)
dense = tf.layers.dense(flat, units=64, activation=tf.nn.relu)
dropout = tf.layers.dropout(dense, rate=0.3, training=is_training)
logits = tf.layers.dense(dropout, units=10)

loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
train_step = tf.train.AdamOptimizer(2e-3).minimize(loss)
correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y_, 1))
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(80):
        batch = mnist.train.next_batch(50)
        sess.run(train_step, feed_dict={x: batch[0], y_: batch[1], is_training: True})
    accs = [
        sess.run(
            accuracy,
            {
                x: mnist.test.images[i : i + 500],
                y_: mnist.test.labels[i : i + 500],
                is_training: False,
            },
        )
        for i in range(0, 1000, 500)
    ]
    print("test accuracy:", np.mean(accs))
