"""Adam (TF1's AdamOptimizer and its ApplyAdam op), with TF1's exact update.

Slots ``m`` (``<var>/Adam``) and ``v`` (``<var>/Adam_1``) start at zero; the non-trainable
variables ``beta1_power`` and ``beta2_power`` start at ``beta1`` and ``beta2`` and are
multiplied by them after every step, so at step t they hold ``beta1**t`` and ``beta2**t``::

    lr_t = learning_rate * sqrt(1 - beta2**t) / (1 - beta1**t)
    m    = beta1 * m + (1 - beta1) * grad
    v    = beta2 * v + (1 - beta2) * grad**2
    var -= lr_t * m / (sqrt(v) + epsilon)

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     w = fg.Variable([1.0, -1.0], name="w")
...     step = AdamOptimizer(0.1).apply_gradients([(fg.constant([0.5, -2.0]), w)])
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         _ = sess.run(step)
...         print(sess.run(w).round(4))  # the first step moves each weight by about lr
[ 0.9 -0.9]
"""

from __future__ import annotations

from flowgraph.ops import math
from flowgraph.ops.ordering import group
from flowgraph.train.optimizer import Optimizer
from flowgraph.train.training_ops import apply_training_op, define_training_op, stored


def _apply_adam(
    ctx, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, *, var_name, slot_names
):
    xp = ctx.xp
    m_name, v_name = slot_names
    var, m, v = stored(ctx, var_name), stored(ctx, m_name), stored(ctx, v_name)
    if ctx.backend.supports_out:
        # NumPy scalars, not 0-d arrays: the same float32 arithmetic (bit for bit) at a tenth
        # of the cost per operation, which counts for small variables (~2 us per update).
        beta1_power, beta2_power, lr, beta1, beta2, epsilon = (
            a[()] for a in (beta1_power, beta2_power, lr, beta1, beta2, epsilon)
        )
    lr_t = lr * xp.sqrt(1 - beta2_power) / (1 - beta1_power)
    if not ctx.backend.supports_out:  # an array-API namespace: the same update, plainly
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * (grad * grad)
        var -= lr_t * (m / (xp.sqrt(v) + epsilon))
        ctx.variables[var_name], ctx.variables[m_name], ctx.variables[v_name] = var, m, v
        return
    work = ctx.scratch(var)  # every temporary of the update lives in this one reused buffer
    m *= beta1
    xp.multiply(grad, 1 - beta1, out=work)
    m += work
    v *= beta2
    xp.multiply(grad, grad, out=work)
    work *= 1 - beta2
    v += work
    xp.sqrt(v, out=work)
    work += epsilon
    xp.divide(m, work, out=work)
    work *= lr_t
    var -= work
    ctx.variables[var_name], ctx.variables[m_name], ctx.variables[v_name] = var, m, v


define_training_op(
    "ApplyAdam",
    _apply_adam,
    slots=("m", "v"),
    scalars=("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"),
)


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba), as TF1 computes it (epsilon is added to ``sqrt(v)``)."""

    def __init__(
        self,
        learning_rate=0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        use_locking: bool = False,
        name: str = "Adam",
    ):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self, graph):
        return (
            self._non_slots[("beta1_power", graph)],
            self._non_slots[("beta2_power", graph)],
        )

    def _create_slots(self, var_list) -> None:
        graph = var_list[0].graph
        first = min(var_list, key=lambda v: v.name)  # the beta powers live with it, as in TF1
        self._non_slot("beta1_power", float(self._beta1), graph, colocate_with=first)
        self._non_slot("beta2_power", float(self._beta2), graph, colocate_with=first)
        for v in var_list:
            self._slot(v, "m")
            self._slot(v, "v")

    def _apply_dense(self, grad, var):
        dtype = var.dtype
        beta1_power, beta2_power = self._get_beta_accumulators(var.graph)
        scalars = [
            math.cast(beta1_power, dtype),
            math.cast(beta2_power, dtype),
            self._hyper("learning_rate", self._lr, dtype),
            self._hyper("beta1", self._beta1, dtype),
            self._hyper("beta2", self._beta2, dtype),
            self._hyper("epsilon", self._epsilon, dtype),
        ]
        slots = [self.get_slot(var, "m"), self.get_slot(var, "v")]
        return apply_training_op("ApplyAdam", var, slots, scalars, grad)

    def _finish(self, update_ops, name_scope: str):
        # The beta powers move on only after every variable has used this step's values.
        graph = update_ops[0].graph
        beta1_power, beta2_power = self._get_beta_accumulators(graph)
        with graph.control_dependencies(update_ops), graph.device(beta1_power.device):
            update_beta1 = beta1_power.assign(
                beta1_power * self._hyper("beta1", self._beta1, beta1_power.dtype)
            )
            update_beta2 = beta2_power.assign(
                beta2_power * self._hyper("beta2", self._beta2, beta2_power.dtype)
            )
        return group(*update_ops, update_beta1, update_beta2, name=name_scope)
