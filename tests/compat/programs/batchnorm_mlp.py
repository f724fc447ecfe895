"""An MLP with batch normalization: the moving averages are updated by the UPDATE_OPS run
together with the train op, and evaluation uses them (training=False)."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=True)
tf.set_random_seed(13)

x = tf.placeholder(tf.float32, [None, 784])
y = tf.placeholder(tf.float32, [None, 10])
training = tf.placeholder_with_default(False, shape=(), name="training")

h = tf.layers.dense(x, 100, use_bias=False)
h = tf.layers.batch_normalization(h, training=training, momentum=0.9)
h = tf.nn.relu(h)
logits = tf.layers.dense(h, 10)
loss = tf.losses.softmax_cross_entropy(onehot_labels=y, logits=logits)

update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1)), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(120):
        batch_x, batch_y = mnist.train.next_batch(64)
        sess.run(train_op, feed_dict={x: batch_x, y: batch_y, training: True})
    moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    print("moving mean moved:", float(abs(sess.run(moving_mean)).sum()) > 0)
    print("test accuracy:", sess.run(accuracy, {x: mnist.test.images, y: mnist.test.labels}))
