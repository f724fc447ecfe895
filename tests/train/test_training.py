"""End-to-end graph-mode training: the seed program's MLP on learnable synthetic data."""

import numpy as np
import pytest

import flowgraph as fg

# The seed model also trains on the strict array-API namespace (see tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


def _synthetic_digits(n, seed):
    """Ten classes in 784 dimensions: a fixed random prototype per class plus noise."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(0).uniform(0, 1, size=(10, 784)).astype(np.float32)
    labels = rng.integers(0, 10, size=n)
    images = prototypes[labels] + rng.normal(0, 0.8, size=(n, 784)).astype(np.float32)
    return images.astype(np.float32), np.eye(10, dtype=np.float32)[labels]


def test_mnist_shaped_mlp_learns_in_a_few_hundred_steps():
    fg.set_random_seed(1)
    x = fg.placeholder(fg.float32, [None, 784])
    y = fg.placeholder(fg.float32, [None, 10])
    w1 = fg.Variable(fg.random_normal([784, 256], stddev=0.05))
    b1 = fg.Variable(fg.zeros([256]))
    w2 = fg.Variable(fg.random_normal([256, 10], stddev=0.05))
    b2 = fg.Variable(fg.zeros([10]))
    logits = fg.matmul(fg.nn.relu(fg.matmul(x, w1) + b1), w2) + b2
    loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = fg.train.AdamOptimizer(0.001).minimize(loss)
    correct = fg.equal(fg.argmax(logits, 1), fg.argmax(y, 1))
    accuracy = fg.reduce_mean(fg.cast(correct, fg.float32))

    train_x, train_y = _synthetic_digits(3000, seed=1)
    test_x, test_y = _synthetic_digits(1000, seed=2)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        first_loss = sess.run(loss, {x: train_x[:100], y: train_y[:100]})
        for step in range(300):
            start = (step * 100) % 3000
            batch = {x: train_x[start : start + 100], y: train_y[start : start + 100]}
            sess.run(train, batch)
        final_loss = sess.run(loss, {x: train_x[:100], y: train_y[:100]})
        test_accuracy = sess.run(accuracy, {x: test_x, y: test_y})
    assert final_loss < first_loss / 5
    assert test_accuracy > 0.9
