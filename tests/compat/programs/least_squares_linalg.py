"""Least squares three ways: the normal equations with matrix_inverse, the same with einsum,
and gradient descent; plus a determinant, a norm and the diagonal of a covariance."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(9)
A_np = np.column_stack([rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50), np.ones(50)])
b_np = A_np @ np.array([1.5, -0.5, 2.0]) + 0.01 * rng.normal(size=50)

A = tf.constant(A_np, dtype=tf.float64)
b = tf.constant(b_np[:, None], dtype=tf.float64)
AtA = tf.matmul(A, A, transpose_a=True)
solution = tf.matmul(tf.matmul(tf.matrix_inverse(AtA), A, transpose_b=True), b)
solution_einsum = tf.einsum(
    "ij,jk->ik", tf.matrix_inverse(tf.einsum("ki,kj->ij", A, A)), tf.einsum("ki,kl->il", A, b)
)
variances = tf.diag_part(AtA) / 50.0
determinant = tf.matrix_determinant(AtA)
residual = tf.norm(tf.matmul(A, solution) - b)

x = tf.Variable(tf.zeros([3, 1], dtype=tf.float64))
gd_loss = tf.reduce_mean(tf.square(tf.matmul(A, x) - b))
train = tf.train.GradientDescentOptimizer(0.5).minimize(gd_loss)
ridge = tf.matrix_inverse(AtA + tf.diag(tf.constant([0.1, 0.1, 0.1], tf.float64)))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(300):
        sess.run(train)
    s, s2, gd = sess.run([solution, solution_einsum, x])
    print("solution", s.ravel(), "variances", sess.run(variances))
    print("determinant", sess.run(determinant), "ridge diag", np.diag(sess.run(ridge)))
    print("residual norm", sess.run(residual))
    print("disagreement:", float(np.abs(s - s2).max() + np.abs(s - gd).max()))
