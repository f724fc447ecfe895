"""An LSTM reads each digit row by row (downsampled to 14 x 14 to keep it quick) and
classifies it from its last output, as the classic recurrent-network tutorials do."""

import numpy as np

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=True)
tf.set_random_seed(16)

timesteps, num_input, num_hidden, num_classes = 14, 14, 32, 10


def downsample(images):
    return images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4))


X = tf.placeholder("float", [None, timesteps, num_input])
Y = tf.placeholder("float", [None, num_classes])
weights = {"out": tf.Variable(tf.random_normal([num_hidden, num_classes], stddev=0.1))}
biases = {"out": tf.Variable(tf.zeros([num_classes]))}


def RNN(x, weights, biases):
    x = tf.unstack(x, timesteps, 1)
    lstm_cell = tf.nn.rnn_cell.BasicLSTMCell(num_hidden, forget_bias=1.0)
    outputs, states = tf.nn.static_rnn(lstm_cell, x, dtype=tf.float32)
    return tf.matmul(outputs[-1], weights["out"]) + biases["out"]


logits = RNN(X, weights, biases)
prediction = tf.nn.softmax(logits)
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
train_op = tf.train.AdamOptimizer(learning_rate=0.01).minimize(loss_op)
correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1, 201):
        batch_x, batch_y = mnist.train.next_batch(64)
        sess.run(train_op, feed_dict={X: downsample(batch_x), Y: batch_y})
    test_data = downsample(mnist.test.images[:500])
    test_label = mnist.test.labels[:500]
    print("Testing Accuracy:", sess.run(accuracy, feed_dict={X: test_data, Y: test_label}))
    print("test accuracy:", np.round(sess.run(accuracy, {X: test_data, Y: test_label}), 3))
