"""A training script driven by command-line flags and tf.app.run."""

import numpy as np

import flowgraph.compat.v1 as tf

flags = tf.app.flags
FLAGS = flags.FLAGS
flags.DEFINE_float("learning_rate", 0.1, "Initial learning rate.")
flags.DEFINE_integer("max_steps", 20, "Number of steps to run trainer.")
flags.DEFINE_integer("hidden1", 16, "Number of units in hidden layer 1.")
flags.DEFINE_boolean("verbose", False, "Print the loss as training goes.")
flags.DEFINE_string("optimizer", "sgd", "sgd or adam")


def main(argv):
    # Unknown arguments reach main untouched, the program name first.
    print("arguments left for main:", argv[1:])
    rng = np.random.RandomState(0)
    data = rng.uniform(-1, 1, (128, 2)).astype(np.float32)
    target = (data[:, :1] * data[:, 1:] > 0).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.float32, [None, 1])
    hidden = tf.layers.dense(x, FLAGS.hidden1, activation=tf.nn.tanh)
    logits = tf.layers.dense(hidden, 1)
    loss = tf.losses.sigmoid_cross_entropy(y, logits)
    if FLAGS.optimizer == "adam":
        optimizer = tf.train.AdamOptimizer(FLAGS.learning_rate)
    else:
        optimizer = tf.train.GradientDescentOptimizer(FLAGS.learning_rate)
    train_op = optimizer.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(FLAGS.max_steps):
            _, value = sess.run([train_op, loss], {x: data, y: target})
            if FLAGS.verbose and step % 100 == 0:
                print("step %d: loss = %.3f" % (step, value))
        print("steps run:", FLAGS.max_steps)
        print("final loss:", value)


if __name__ == "__main__":
    tf.app.run()
