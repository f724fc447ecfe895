"""Plain gradient descent: ``var -= learning_rate * grad`` (TF1's GradientDescentOptimizer).

>>> import flowgraph as fg
>>> from flowgraph import train
>>> with fg.Graph().as_default():
...     w = fg.Variable([1.0, 2.0], name="w")
...     step = GradientDescentOptimizer(0.5).apply_gradients([(fg.constant([1.0, 1.0]), w)])
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         _ = sess.run(step)
...         print(sess.run(w))
[0.5 1.5]
"""

from __future__ import annotations

from flowgraph.train.optimizer import Optimizer
from flowgraph.train.training_ops import apply_training_op, define_training_op, stored


def _apply_gradient_descent(ctx, lr, grad, *, var_name, slot_names):
    var = stored(ctx, var_name)
    var -= lr * grad
    ctx.variables[var_name] = var  # in place for arrays; a 0-d NumPy scalar is replaced


define_training_op("ApplyGradientDescent", _apply_gradient_descent, scalars=("alpha",))


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``; ``learning_rate`` may be a float or a scalar tensor."""

    def __init__(self, learning_rate, use_locking: bool = False, name: str = "GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad, var):
        lr = self._hyper("learning_rate", self._learning_rate, var.dtype)
        return apply_training_op("ApplyGradientDescent", var, [], [lr], grad)
