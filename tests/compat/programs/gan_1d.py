"""A tiny GAN: a generator learns to produce samples like N(4, 0.5) from uniform noise,
against a discriminator; two optimizers, each with its own var_list from variable scopes."""

import numpy as np

import flowgraph.compat.v1 as tf

tf.set_random_seed(7)
rng = np.random.RandomState(7)
batch_size = 64


def generator(z, hidden=16):
    with tf.variable_scope("generator"):
        h = tf.layers.dense(z, hidden, activation=tf.nn.relu)
        return tf.layers.dense(h, 1)


def discriminator(x, hidden=16, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        h = tf.layers.dense(x, hidden, activation=tf.nn.leaky_relu, name="h")
        return tf.layers.dense(h, 1, name="out")


z = tf.placeholder(tf.float32, [None, 1], name="z")
x = tf.placeholder(tf.float32, [None, 1], name="x")
G = generator(z)
D_real = discriminator(x)
D_fake = discriminator(G, reuse=True)

d_loss = tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(logits=D_real, labels=tf.ones_like(D_real))
) + tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake, labels=tf.zeros_like(D_fake))
)
g_loss = tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(logits=D_fake, labels=tf.ones_like(D_fake))
)
g_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="generator")
d_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="discriminator")
d_step = tf.train.AdamOptimizer(0.01, beta1=0.5).minimize(d_loss, var_list=d_vars)
g_step = tf.train.AdamOptimizer(0.01, beta1=0.5).minimize(g_loss, var_list=g_vars)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    noise = lambda n: rng.uniform(-1, 1, (n, 1))  # noqa: E731
    start = sess.run(G, {z: noise(1000)}).mean()
    for step in range(300):
        real = rng.normal(4.0, 0.5, (batch_size, 1))
        sess.run(d_step, {x: real, z: noise(batch_size)})
        sess.run(g_step, {z: noise(batch_size)})
    samples = sess.run(G, {z: noise(1000)})
    print("generated mean at start", start)
    print("distance of the generated mean from 4:", abs(samples.mean() - 4.0))
