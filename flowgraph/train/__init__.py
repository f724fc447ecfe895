"""Training: optimizers, learning-rate schedules and the global step (TF1's ``tf.train``).

>>> import flowgraph as fg
>>> from flowgraph import train
>>> with fg.Graph().as_default():
...     w = fg.Variable(0.0, name="w")
...     grad = fg.constant(2.0)  # the gradient of 2*w
...     step = train.GradientDescentOptimizer(0.25).apply_gradients([(grad, w)])
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         for _ in range(3):
...             _ = sess.run(step)
...         print(sess.run(w))
-1.5
"""

from flowgraph.train.adagrad import AdagradOptimizer
from flowgraph.train.adam import AdamOptimizer
from flowgraph.train.checkpoint_management import CheckpointState, checkpoint_exists
from flowgraph.train.global_step import (
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)
from flowgraph.train.gradient_descent import GradientDescentOptimizer
from flowgraph.train.meta_graph import export_meta_graph, import_meta_graph, write_graph
from flowgraph.train.momentum import MomentumOptimizer
from flowgraph.train.moving_averages import ExponentialMovingAverage
from flowgraph.train.optimizer import Optimizer
from flowgraph.train.rmsprop import RMSPropOptimizer
from flowgraph.train.saver import Saver, get_checkpoint_state, latest_checkpoint
from flowgraph.train.schedules import (
    cosine_decay,
    exponential_decay,
    inverse_time_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)

__all__ = [
    "AdagradOptimizer",
    "AdamOptimizer",
    "CheckpointState",
    "ExponentialMovingAverage",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "Optimizer",
    "RMSPropOptimizer",
    "Saver",
    "checkpoint_exists",
    "cosine_decay",
    "create_global_step",
    "export_meta_graph",
    "exponential_decay",
    "get_checkpoint_state",
    "get_global_step",
    "get_or_create_global_step",
    "global_step",
    "import_meta_graph",
    "inverse_time_decay",
    "latest_checkpoint",
    "natural_exp_decay",
    "piecewise_constant",
    "polynomial_decay",
    "write_graph",
]
