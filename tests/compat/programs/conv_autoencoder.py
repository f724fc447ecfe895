"""A convolutional autoencoder: strided convolutions down to 7x7, conv2d_transpose back up."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=False)
tf.set_random_seed(14)

inputs = tf.placeholder(tf.float32, (None, 28, 28, 1), name="inputs")
encoded = tf.layers.conv2d(inputs, 8, (3, 3), strides=2, padding="same", activation=tf.nn.relu)
encoded = tf.layers.conv2d(encoded, 4, (3, 3), strides=2, padding="same", activation=tf.nn.relu)
decoded = tf.layers.conv2d_transpose(
    encoded, 8, 3, strides=2, padding="same", activation=tf.nn.relu
)
logits = tf.layers.conv2d_transpose(decoded, 1, 3, strides=2, padding="same")
reconstruction = tf.nn.sigmoid(logits)
loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=inputs, logits=logits))
opt = tf.train.AdamOptimizer(0.01).minimize(loss)
mse = tf.reduce_mean(tf.square(reconstruction - inputs))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    test_images = mnist.test.images[:200].reshape((-1, 28, 28, 1))
    print("initial mse", sess.run(mse, {inputs: test_images}))
    for i in range(60):
        batch, _ = mnist.train.next_batch(32)
        sess.run(opt, feed_dict={inputs: batch.reshape((-1, 28, 28, 1))})
    print("test reconstruction mse:", sess.run(mse, {inputs: test_images}))
