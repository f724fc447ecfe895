"""A hand-written recurrent network unrolled with tf.unstack, trained with compute_gradients,
tf.clip_by_global_norm and apply_gradients to output the running sum of its inputs."""

import numpy as np

import flowgraph.compat.v1 as tf

rng = np.random.RandomState(11)
steps, batch, hidden = 6, 32, 16

inputs = tf.placeholder(tf.float32, [None, steps, 1])
targets = tf.placeholder(tf.float32, [None, 1])
with tf.variable_scope("rnn"):
    W_x = tf.get_variable("W_x", [1, hidden], initializer=tf.random_normal_initializer(0, 0.3))
    W_h = tf.get_variable(
        "W_h", [hidden, hidden], initializer=tf.truncated_normal_initializer(stddev=0.1)
    )
    b_h = tf.get_variable("b_h", [hidden], initializer=tf.zeros_initializer())
    W_o = tf.get_variable("W_o", [hidden, 1], initializer=tf.glorot_normal_initializer())

state = tf.zeros_like(tf.matmul(inputs[:, 0, :], W_x))  # [batch, hidden]
for x_t in tf.unstack(inputs, axis=1):
    state = tf.tanh(tf.matmul(x_t, W_x) + tf.matmul(state, W_h) + b_h)
output = tf.matmul(state, W_o)
loss = tf.losses.mean_squared_error(targets, output)

optimizer = tf.train.AdamOptimizer(0.02)
grads_and_vars = optimizer.compute_gradients(loss)
grads, variables = zip(*grads_and_vars)
clipped, global_norm = tf.clip_by_global_norm(grads, 1.0)
train_op = optimizer.apply_gradients(zip(clipped, variables))


def make_batch():
    x = rng.uniform(-0.5, 0.5, (batch, steps, 1)).astype(np.float32)
    return x, x.sum(axis=1)


with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(250):
        bx, by = make_batch()
        _, norm = sess.run([train_op, global_norm], {inputs: bx, targets: by})
    bx, by = make_batch()
    print("gradient norm before clipping", norm)
    print("test loss:", sess.run(loss, {inputs: bx, targets: by}))
