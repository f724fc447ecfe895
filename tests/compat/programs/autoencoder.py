"""A dense autoencoder on MNIST: 784 -> 64 -> 784 with sigmoid units and RMSProp."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=True)
tf.set_random_seed(4)

num_input, num_hidden = 784, 64
X = tf.placeholder("float", [None, num_input])
weights = {
    "encoder_h1": tf.Variable(tf.random_normal([num_input, num_hidden], stddev=0.05)),
    "decoder_h1": tf.Variable(tf.random_normal([num_hidden, num_input], stddev=0.05)),
}
biases = {
    "encoder_b1": tf.Variable(tf.zeros([num_hidden])),
    "decoder_b1": tf.Variable(tf.zeros([num_input])),
}


def encoder(x):
    return tf.nn.sigmoid(tf.add(tf.matmul(x, weights["encoder_h1"]), biases["encoder_b1"]))


def decoder(x):
    return tf.nn.sigmoid(tf.add(tf.matmul(x, weights["decoder_h1"]), biases["decoder_b1"]))


decoder_op = decoder(encoder(X))
loss = tf.losses.mean_squared_error(labels=X, predictions=decoder_op)
optimizer = tf.train.RMSPropOptimizer(0.01).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    first = sess.run(loss, feed_dict={X: mnist.test.images})
    for i in range(150):
        batch_x, _ = mnist.train.next_batch(64)
        _, l = sess.run([optimizer, loss], feed_dict={X: batch_x})
    print("initial loss", first)
    print("test reconstruction loss:", sess.run(loss, feed_dict={X: mnist.test.images}))
