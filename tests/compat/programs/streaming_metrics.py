"""Evaluate a classifier batch by batch with tf.metrics: accuracy, precision, recall and AUC
accumulate in local variables; each update_op adds a batch."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(1)
n = 600
features = rng.normal(0, 1, (n, 4)).astype(np.float32)
labels_np = features @ np.array([1.5, -1.0, 0.5, 0.0]) + 0.2 * rng.normal(size=n) > 0
labels_np = labels_np.astype(np.int64)

x = tf.placeholder(tf.float32, [None, 4])
labels = tf.placeholder(tf.int64, [None])
logits = tf.squeeze(tf.layers.dense(x, 1), axis=1)
loss = tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.to_float(labels), logits=logits)
)
train = tf.train.AdamOptimizer(0.05).minimize(loss)

probabilities = tf.sigmoid(logits)
predicted = tf.cast(probabilities > 0.5, tf.int64)
acc, acc_update = tf.metrics.accuracy(labels=labels, predictions=predicted)
prec, prec_update = tf.metrics.precision(labels, predicted)
rec, rec_update = tf.metrics.recall(labels, predicted)
auc, auc_update = tf.metrics.auc(labels, probabilities)
updates = tf.group(acc_update, prec_update, rec_update, auc_update)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(150):
        idx = rng.randint(0, 400, 32)
        sess.run(train, {x: features[idx], labels: labels_np[idx]})
    sess.run(tf.local_variables_initializer())
    for start in range(400, n, 50):
        sess.run(updates, {x: features[start : start + 50], labels: labels_np[start : start + 50]})
    a, p, r, area = sess.run([acc, prec, rec, auc])
    print("precision", p, "recall", r, "auc", area)
    print("accuracy:", a)
