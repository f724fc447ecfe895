"""k-means clustering with variables updated by tf.assign, arg_min assignments and tf.unique
to count how many clusters are in use."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(10)
centers_np = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 5.0]])
points_np = np.vstack([rng.normal(c, 0.5, (60, 2)) for c in centers_np]).astype(np.float32)
k = 3

points = tf.constant(points_np)
centroids = tf.Variable(tf.constant(points_np[[0, 60, 120]] + 1.0))
distances = tf.reduce_sum(
    tf.square(tf.expand_dims(points, 1) - tf.expand_dims(centroids, 0)), axis=2
)
assignments = tf.arg_min(distances, 1)
one_hot = tf.one_hot(assignments, k)
sums = tf.matmul(one_hot, points, transpose_a=True)
counts = tf.reduce_sum(one_hot, axis=0)
update = tf.assign(centroids, sums / tf.maximum(tf.expand_dims(counts, 1), 1.0))
inertia = tf.reduce_sum(tf.reduce_min(distances, axis=1))
used, _ = tf.unique(assignments)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(10):
        sess.run(update)
    print("clusters in use:", len(sess.run(used)))
    print("centroids", np.round(sess.run(centroids), 2).tolist())
    print("mean squared distance:", sess.run(inertia) / len(points_np))
