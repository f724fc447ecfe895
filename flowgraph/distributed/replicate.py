"""Data-parallel training by in-graph replication (TF1's multi-tower pattern).

``data_parallel`` builds N copies ("towers") of a model's forward and backward pass, tower i
on ``/job:worker/task:i``, all reading the same parameters, which live on a parameter-server
device (``/job:ps/task:0``, which a DistributedSession runs on worker 0). The towers'
gradients are averaged on the ps device and one optimizer update is applied there. A batch
is split evenly across the towers (``feed_dict``), so a step of N towers on a batch of B
examples computes the same average gradient as one process on the same B examples::

    with fg.device("/job:ps/task:0"):
        W = fg.Variable(fg.zeros([784, 10]))

    def tower(i):
        x = fg.placeholder(fg.float32, [None, 784])
        y = fg.placeholder(fg.float32, [None, 10])
        logits = fg.matmul(x, W)
        xent = fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)
        return (x, y), fg.reduce_mean(xent)

    dp = data_parallel(tower, fg.train.AdamOptimizer(0.001), 2, [W])
    sess.run(dp.train_op, dp.feed_dict(batch_x, batch_y))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowgraph.graph.default_stacks import get_default_graph


@dataclass
class DataParallel:
    """What :func:`data_parallel` built."""

    train_op: object  # one step: every tower's forward/backward, averaged grads, one update
    loss: object  # the towers' mean loss
    tower_inputs: list  # per tower: the tuple of placeholders the tower function returned
    tower_losses: list

    @property
    def n_towers(self) -> int:
        return len(self.tower_inputs)

    def feed_dict(self, *arrays) -> dict:
        """Split each of ``arrays`` (one per tower placeholder, batch first) into equal shards,
        shard i to tower i."""
        feeds = {}
        n = self.n_towers
        for k, array in enumerate(arrays):
            shards = np.array_split(np.asarray(array), n)
            for i in range(n):
                feeds[self.tower_inputs[i][k]] = shards[i]
        return feeds


def data_parallel(
    tower_fn,
    optimizer,
    n_towers: int,
    var_list,
    ps_device: str = "/job:ps/task:0",
    worker_device: str = "/job:worker/task:{}",
    global_step=None,
) -> DataParallel:
    """Replicate ``tower_fn(i) -> (placeholders tuple, loss)`` on ``n_towers`` devices.

    ``var_list``: the shared parameters (create them under ``fg.device(ps_device)``). Each
    tower's gradients are computed on its own device; their average and the single
    ``optimizer`` update (slots included) are on ``ps_device``.
    """
    graph = get_default_graph()
    var_list = list(var_list)
    inputs, losses, tower_grads = [], [], []
    for i in range(n_towers):
        with graph.device(worker_device.format(i)), graph.name_scope(f"tower_{i}"):
            placeholders, loss = tower_fn(i)
            grads = optimizer.compute_gradients(loss, var_list)
        inputs.append(tuple(placeholders))
        losses.append(loss)
        tower_grads.append(grads)
    from flowgraph.ops.math import add_n

    with graph.device(ps_device), graph.name_scope("average"):
        averaged = []
        for k, var in enumerate(var_list):
            gs = [tg[k][0] for tg in tower_grads if tg[k][0] is not None]
            if not gs:
                averaged.append((None, var))
                continue
            total = gs[0] if len(gs) == 1 else add_n(gs)
            averaged.append((total * (1.0 / len(gs)), var))
        mean_loss = add_n(losses) * (1.0 / n_towers)
        train_op = optimizer.apply_gradients(averaged, global_step=global_step)
    return DataParallel(train_op, mean_loss, inputs, losses)
