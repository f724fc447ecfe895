"""Momentum, optionally Nesterov's (TF1's MomentumOptimizer and its ApplyMomentum op).

Per step, with ``accum`` the slot ``<var>/Momentum`` (zeros at first)::

    accum = momentum * accum + grad
    var  -= lr * accum                                  # plain
    var  -= lr * grad + lr * momentum * accum           # use_nesterov=True
"""

from __future__ import annotations

from flowgraph.train.optimizer import Optimizer
from flowgraph.train.training_ops import apply_training_op, define_training_op, stored


def _apply_momentum(ctx, lr, momentum, grad, *, var_name, slot_names, use_nesterov):
    var, accum = stored(ctx, var_name), stored(ctx, slot_names[0])
    accum *= momentum
    accum += grad
    if use_nesterov:
        var -= lr * grad + (lr * momentum) * accum
    else:
        var -= lr * accum
    ctx.variables[var_name], ctx.variables[slot_names[0]] = var, accum


define_training_op(
    "ApplyMomentum",
    _apply_momentum,
    slots=("accum",),
    scalars=("lr", "momentum"),
    attrs={"use_nesterov": False},
)


class MomentumOptimizer(Optimizer):
    """Gradient descent with momentum; ``learning_rate`` and ``momentum`` may be tensors."""

    def __init__(
        self,
        learning_rate,
        momentum,
        use_locking: bool = False,
        name: str = "Momentum",
        use_nesterov: bool = False,
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._slot(v, "momentum")

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "momentum")
        lr = self._hyper("learning_rate", self._learning_rate, var.dtype)
        momentum = self._hyper("momentum", self._momentum, var.dtype)
        return apply_training_op(
            "ApplyMomentum", var, [accum], [lr, momentum], grad, use_nesterov=self._use_nesterov
        )
