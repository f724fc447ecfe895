"""tf.layers.dropout(training=<bool placeholder>) builds a cond; training through it must be
exactly training with the dropout applied directly: the gradient reuses the forward mask."""

import numpy as np

import flowgraph as fg
from flowgraph.datasets.mnist import read_data_sets


def _train(mnist, conditional: bool, steps: int = 60):
    """An MLP with dropout (seeded, so both variants draw the same masks), trained by SGD on
    the bundled MNIST sample; returns (final weights, test accuracy)."""
    with fg.Graph().as_default():
        fg.set_random_seed(1)
        x = fg.placeholder(fg.float32, [None, 784])
        y = fg.placeholder(fg.int64, [None])
        flag = fg.placeholder(fg.bool, [])  # in both, so that both number their ops alike
        training = flag if conditional else True
        init = fg.initializers.glorot_uniform  # seeded: op numbers differ between the two
        hidden = fg.layers.dense(x, 64, fg.nn.relu, kernel_initializer=init(seed=1))
        hidden = fg.layers.dropout(hidden, rate=0.5, training=training, seed=7)
        logits = fg.layers.dense(hidden, 10, kernel_initializer=init(seed=2))
        loss = fg.reduce_mean(
            fg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        )
        train = fg.train.GradientDescentOptimizer(0.3).minimize(loss)
        correct = fg.equal(fg.argmax(logits, 1), y)
        accuracy = fg.reduce_mean(fg.cast(correct, fg.float32))
        sess = fg.Session(seed=0)
        sess.run(fg.global_variables_initializer())
        feed = {flag: True} if conditional else {}
        for i in range(steps):
            start = (i * 50) % 4000
            batch = {
                x: mnist.train.images[start : start + 50],
                y: mnist.train.labels[start : start + 50],
            }
            sess.run(train, {**batch, **feed})
        weights = sess.run(fg.trainable_variables())
        if conditional:
            feed = {flag: False}
            test = {x: mnist.test.images, y: mnist.test.labels, **feed}
            return weights, sess.run(accuracy, test)
        return weights, None


def test_dropout_behind_a_training_placeholder_trains_like_plain_dropout():
    mnist = read_data_sets(validation_size=0, seed=0)
    conditional, accuracy = _train(mnist, conditional=True)
    plain, _ = _train(mnist, conditional=False)
    for a, b in zip(conditional, plain):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert accuracy > 0.8
