"""A two-hidden-layer perceptron on MNIST with truncated-normal weights, top-1 and top-3
accuracy through tf.nn.in_top_k."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=False)
tf.set_random_seed(2)

n_hidden_1, n_hidden_2 = 128, 64
images = tf.placeholder(tf.float32, shape=(None, 784), name="images")
labels = tf.placeholder(tf.int32, shape=(None,), name="labels")


def layer(inputs, n_in, n_out, name, activation=None):
    with tf.name_scope(name):
        weights = tf.Variable(
            tf.truncated_normal([n_in, n_out], stddev=1.0 / n_in**0.5), name="weights"
        )
        biases = tf.Variable(tf.zeros([n_out]), name="biases")
        out = tf.matmul(inputs, weights) + biases
        return activation(out) if activation else out


hidden1 = layer(images, 784, n_hidden_1, "hidden1", tf.nn.relu)
hidden2 = layer(hidden1, n_hidden_1, n_hidden_2, "hidden2", tf.nn.relu)
logits = layer(hidden2, n_hidden_2, 10, "softmax_linear")

labels64 = tf.to_int64(labels)
cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels64, logits=logits)
loss = tf.reduce_mean(cross_entropy, name="xentropy_mean")
global_step = tf.Variable(0, name="global_step", trainable=False)
train_op = tf.train.AdamOptimizer(0.003).minimize(loss, global_step=global_step)

top1 = tf.reduce_sum(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.int32))
top3 = tf.reduce_sum(tf.cast(tf.nn.in_top_k(logits, labels, 3), tf.int32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(150):
        batch_images, batch_labels = mnist.train.next_batch(64)
        _, loss_value = sess.run([train_op, loss], {images: batch_images, labels: batch_labels})
    feed = {images: mnist.test.images, labels: mnist.test.labels}
    n = mnist.test.num_examples
    c1, c3 = sess.run([top1, top3], feed_dict=feed)
    print("step", sess.run(global_step), "loss", loss_value)
    print("top-3 precision:", c3 / n)
    print("test accuracy:", c1 / n)
