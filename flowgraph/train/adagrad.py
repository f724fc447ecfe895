"""Adagrad (TF1's AdagradOptimizer and its ApplyAdagrad op).

Per step, with ``accum`` the slot ``<var>/Adagrad`` (``initial_accumulator_value`` at first)::

    accum += grad * grad
    var   -= lr * grad / sqrt(accum)
"""

from __future__ import annotations

from flowgraph.train.optimizer import Optimizer
from flowgraph.train.training_ops import apply_training_op, define_training_op, stored


def _apply_adagrad(ctx, lr, grad, *, var_name, slot_names):
    xp = ctx.xp
    var, accum = stored(ctx, var_name), stored(ctx, slot_names[0])
    accum += grad * grad
    var -= lr * grad / xp.sqrt(accum)
    ctx.variables[var_name], ctx.variables[slot_names[0]] = var, accum


define_training_op("ApplyAdagrad", _apply_adagrad, slots=("accum",), scalars=("lr",))


class AdagradOptimizer(Optimizer):
    """Adagrad: per-element learning rates shrinking with the sum of squared gradients."""

    def __init__(
        self,
        learning_rate,
        initial_accumulator_value: float = 0.1,
        use_locking: bool = False,
        name: str = "Adagrad",
    ):
        if initial_accumulator_value <= 0.0:
            raise ValueError(
                f"initial_accumulator_value must be positive: {initial_accumulator_value}"
            )
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._slot(v, "accumulator", self._initial_accumulator_value)

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "accumulator")
        lr = self._hyper("learning_rate", self._learning_rate, var.dtype)
        return apply_training_op("ApplyAdagrad", var, [accum], [lr], grad)
