"""An MNIST classifier with integer labels, tf.losses.sparse_softmax_cross_entropy, an
exponentially decaying learning rate driven by the global step, and tf.metrics.accuracy."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=False)
tf.set_random_seed(6)

images = tf.placeholder(tf.float32, [None, 784])
labels = tf.placeholder(tf.int64, [None])
with tf.variable_scope("classifier"):
    hidden = tf.layers.dense(
        images, 64, activation=tf.nn.relu, kernel_initializer=tf.variance_scaling_initializer()
    )
    logits = tf.layers.dense(hidden, 10, kernel_initializer=tf.glorot_uniform_initializer())
loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)

global_step = tf.train.get_or_create_global_step()
learning_rate = tf.train.exponential_decay(
    0.5, global_step, decay_steps=50, decay_rate=0.7, staircase=True
)
train_op = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step)
accuracy, update_accuracy = tf.metrics.accuracy(labels, tf.argmax(logits, axis=1))

with tf.Session() as sess:
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    for _ in range(150):
        batch_images, batch_labels = mnist.train.next_batch(100)
        sess.run(train_op, {images: batch_images, labels: batch_labels})
    for start in range(0, mnist.test.num_examples, 250):
        sess.run(
            update_accuracy,
            {
                images: mnist.test.images[start : start + 250],
                labels: mnist.test.labels[start : start + 250],
            },
        )
    print("learning rate now", sess.run(learning_rate))
    print("test accuracy:", sess.run(accuracy))
