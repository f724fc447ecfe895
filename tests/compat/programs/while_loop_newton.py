"""tf.while_loop: Newton's method for square roots inside the graph, then fitting a
parameter through a loop with gradients flowing through every iteration."""

import flowgraph.compat.v1 as tf

value = tf.placeholder(tf.float32, [None])


def cond(i, guess):
    return tf.less(i, 8)


def body(i, guess):
    return i + 1, 0.5 * (guess + value / guess)


_, root = tf.while_loop(cond, body, [tf.constant(0), tf.ones_like(value)])

# Compound growth: x_{n+1} = x_n * (1 + rate) for 5 steps; fit rate so that x_5 = 2.
rate = tf.Variable(0.05)
_, grown = tf.while_loop(
    lambda n, x: n < 5, lambda n, x: (n + 1, x * (1.0 + rate)), [tf.constant(0), tf.constant(1.0)]
)
loss = tf.square(grown - 2.0)
train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    roots = sess.run(root, {value: [4.0, 2.0, 9.0, 0.25]})
    print("square roots:", roots)
    for _ in range(100):
        sess.run(train)
    r = sess.run(rate)
    print("rate", r, "exact", 2**0.2 - 1)
    print("rate error:", abs(r - (2**0.2 - 1)) + abs(roots[2] - 3.0))
