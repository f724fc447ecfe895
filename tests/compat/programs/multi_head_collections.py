"""Two heads on a shared trunk built with variable_scope reuse; each head's loss goes to the
LOSSES collection (one through tf.losses.add_loss) and get_total_loss trains them together."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(12)
X = rng.uniform(-1, 1, (256, 3)).astype(np.float32)
y_reg = (X @ np.array([[1.0], [2.0], [-1.0]])).astype(np.float32)
y_cls = (X[:, :1] > 0).astype(np.float32)

x = tf.placeholder(tf.float32, [None, 3], name="x")


def trunk(inputs):
    with tf.variable_scope("trunk", reuse=tf.AUTO_REUSE):
        return tf.layers.dense(inputs, 16, activation=tf.nn.relu, name="shared")


with tf.name_scope("regression"):
    reg_out = tf.layers.dense(trunk(x), 1, name="reg_head")
    reg_loss = tf.losses.absolute_difference(y_reg, reg_out)
with tf.name_scope("classification"):
    probability = tf.sigmoid(tf.layers.dense(trunk(x), 1, name="cls_head"))
    cls_loss = tf.losses.log_loss(y_cls, probability, loss_collection=None)
    tf.losses.add_loss(0.5 * cls_loss)
tf.add_to_collection("heads", reg_out)
tf.add_to_collection("heads", probability)

total = tf.losses.get_total_loss()
train = tf.train.AdamOptimizer(0.02).minimize(total)
trunk_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="trunk")
print("shared variables:", [v.name for v in trunk_vars])
print("losses:", len(tf.losses.get_losses()), "heads:", len(tf.get_collection("heads")))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(300):
        sess.run(train, {x: X})
    r, c = sess.run([reg_loss, cls_loss], {x: X})
    print("classification log loss", c)
    print("total loss:", sess.run(total, {x: X}))
