"""A variational autoencoder: the noise takes its shape from the batch at run time."""

import flowgraph.compat.v1 as tf
from flowgraph.datasets.mnist import read_data_sets

mnist = read_data_sets(None, one_hot=True)
tf.set_random_seed(5)

image_dim, hidden_dim, latent_dim = 784, 128, 8


def glorot_init(shape):
    return tf.random_normal(shape=shape, stddev=1.0 / tf.sqrt(shape[0] / 2.0))


input_image = tf.placeholder(tf.float32, shape=[None, image_dim])
encoder = tf.nn.tanh(
    tf.matmul(input_image, tf.Variable(glorot_init([image_dim, hidden_dim])))
    + tf.Variable(glorot_init([hidden_dim]))
)
z_mean = tf.matmul(encoder, tf.Variable(glorot_init([hidden_dim, latent_dim])))
z_std = tf.matmul(encoder, tf.Variable(glorot_init([hidden_dim, latent_dim])))

eps = tf.random_normal(tf.shape(z_std), dtype=tf.float32, mean=0.0, stddev=1.0, name="epsilon")
z = z_mean + tf.exp(z_std / 2) * eps

decoder = tf.nn.tanh(
    tf.matmul(z, tf.Variable(glorot_init([latent_dim, hidden_dim])))
    + tf.Variable(glorot_init([hidden_dim]))
)
decoder = tf.nn.sigmoid(
    tf.matmul(decoder, tf.Variable(glorot_init([hidden_dim, image_dim])))
    + tf.Variable(glorot_init([image_dim]))
)


def vae_loss(x_reconstructed, x_true):
    encode_decode_loss = x_true * tf.log(1e-10 + x_reconstructed) + (1 - x_true) * tf.log(
        1e-10 + 1 - x_reconstructed
    )
    encode_decode_loss = -tf.reduce_sum(encode_decode_loss, 1)
    kl_div_loss = 1 + z_std - tf.square(z_mean) - tf.exp(z_std)
    kl_div_loss = -0.5 * tf.reduce_sum(kl_div_loss, 1)
    return tf.reduce_mean(encode_decode_loss + kl_div_loss)


loss_op = vae_loss(decoder, input_image)
train_op = tf.train.RMSPropOptimizer(learning_rate=0.001).minimize(loss_op)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    first = sess.run(loss_op, feed_dict={input_image: mnist.test.images})
    for i in range(150):
        batch_x, _ = mnist.train.next_batch(64)
        _, l = sess.run([train_op, loss_op], feed_dict={input_image: batch_x})
    print("initial loss", first)
    print("test loss:", sess.run(loss_op, feed_dict={input_image: mnist.test.images}))
