"""The seed MLP (784-256-10, Adam) built for one process or as N data-parallel towers."""

from __future__ import annotations

import flowgraph as fg
from flowgraph.distributed import data_parallel


def _params(seed_offset=0):
    W1 = fg.Variable(fg.random_normal([784, 256], seed=1 + seed_offset), name="W1")
    b1 = fg.Variable(fg.zeros([256]), name="b1")
    W2 = fg.Variable(fg.random_normal([256, 10], seed=2 + seed_offset), name="W2")
    b2 = fg.Variable(fg.zeros([10]), name="b2")
    return [W1, b1, W2, b2]


def _logits(x, params):
    W1, b1, W2, b2 = params
    h1 = fg.nn.relu(fg.matmul(x, W1) + b1)
    return fg.matmul(h1, W2) + b2


def _loss(logits, y):
    return fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))


def _accuracy(logits, y):
    correct = fg.equal(fg.argmax(logits, 1), fg.argmax(y, 1))
    return fg.reduce_mean(fg.cast(correct, fg.float32))


def build_data_parallel(n_towers: int, lr: float = 0.001):
    """``(graph, dp, x_eval, y_eval, accuracy)``: N towers on /job:worker/task:i, parameters
    and Adam on /job:ps/task:0, plus an evaluation head on the ps device."""
    graph = fg.Graph()
    with graph.as_default():
        with fg.device("/job:ps/task:0"):
            params = _params()

        def tower(i):
            x = fg.placeholder(fg.float32, [None, 784], name="x")
            y = fg.placeholder(fg.float32, [None, 10], name="y")
            return (x, y), _loss(_logits(x, params), y)

        dp = data_parallel(tower, fg.train.AdamOptimizer(lr), n_towers, params)
        with fg.device("/job:ps/task:0"):
            x = fg.placeholder(fg.float32, [None, 784], name="x_eval")
            y = fg.placeholder(fg.float32, [None, 10], name="y_eval")
            accuracy = _accuracy(_logits(x, params), y)
        init = fg.global_variables_initializer()
    return graph, dp, x, y, accuracy, init


def build_single(lr: float = 0.001):
    """``(graph, x, y, train_op, accuracy, init)``: the seed program in one process."""
    graph = fg.Graph()
    with graph.as_default():
        params = _params()
        x = fg.placeholder(fg.float32, [None, 784], name="x")
        y = fg.placeholder(fg.float32, [None, 10], name="y")
        logits = _logits(x, params)
        train_op = fg.train.AdamOptimizer(lr).minimize(_loss(logits, y))
        accuracy = _accuracy(logits, y)
        init = fg.global_variables_initializer()
    return graph, x, y, train_op, accuracy, init
