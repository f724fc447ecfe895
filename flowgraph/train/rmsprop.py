"""RMSProp, plain or centered (TF1's RMSPropOptimizer; ApplyRMSProp, ApplyCenteredRMSProp).

Slots: ``rms`` (``<var>/RMSProp``, ones at first, as TF1), ``mg`` when centered (zeros) and
``momentum`` (zeros). Per step, with ``rho = decay``::

    ms  = rho * ms + (1 - rho) * grad**2
    mg  = rho * mg + (1 - rho) * grad                           # centered only
    mom = momentum * mom + lr * grad / sqrt(ms + epsilon)       # plain
    mom = momentum * mom + lr * grad / sqrt(ms - mg**2 + epsilon)   # centered
    var -= mom
"""

from __future__ import annotations

from flowgraph.train.optimizer import Optimizer
from flowgraph.train.training_ops import apply_training_op, define_training_op, stored


def _apply_rms_prop(ctx, lr, rho, momentum, epsilon, grad, *, var_name, slot_names):
    xp = ctx.xp
    ms_name, mom_name = slot_names
    var, ms, mom = stored(ctx, var_name), stored(ctx, ms_name), stored(ctx, mom_name)
    ms *= rho
    ms += (1 - rho) * (grad * grad)
    mom *= momentum
    mom += lr * grad / xp.sqrt(ms + epsilon)
    var -= mom
    ctx.variables[var_name], ctx.variables[ms_name], ctx.variables[mom_name] = var, ms, mom


def _apply_centered_rms_prop(ctx, lr, rho, momentum, epsilon, grad, *, var_name, slot_names):
    xp = ctx.xp
    mg_name, ms_name, mom_name = slot_names
    var, mg = stored(ctx, var_name), stored(ctx, mg_name)
    ms, mom = stored(ctx, ms_name), stored(ctx, mom_name)
    mg *= rho
    mg += (1 - rho) * grad
    ms *= rho
    ms += (1 - rho) * (grad * grad)
    mom *= momentum
    mom += lr * grad / xp.sqrt(ms - mg * mg + epsilon)
    var -= mom
    for name, value in zip((var_name, mg_name, ms_name, mom_name), (var, mg, ms, mom)):
        ctx.variables[name] = value


_SCALARS = ("lr", "rho", "momentum", "epsilon")
define_training_op("ApplyRMSProp", _apply_rms_prop, slots=("ms", "mom"), scalars=_SCALARS)
define_training_op(
    "ApplyCenteredRMSProp", _apply_centered_rms_prop, slots=("mg", "ms", "mom"), scalars=_SCALARS
)


class RMSPropOptimizer(Optimizer):
    """RMSProp: divide the gradient by a running root mean square of recent gradients."""

    def __init__(
        self,
        learning_rate,
        decay: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-10,
        use_locking: bool = False,
        centered: bool = False,
        name: str = "RMSProp",
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._slot(v, "rms", 1.0)
            if self._centered:
                self._slot(v, "mg")
            self._slot(v, "momentum")

    def _apply_dense(self, grad, var):
        dtype = var.dtype
        scalars = [
            self._hyper("learning_rate", self._learning_rate, dtype),
            self._hyper("decay", self._decay, dtype),
            self._hyper("momentum", self._momentum, dtype),
            self._hyper("epsilon", self._epsilon, dtype),
        ]
        slots = [self.get_slot(var, "rms"), self.get_slot(var, "momentum")]
        if self._centered:
            slots.insert(0, self.get_slot(var, "mg"))
            return apply_training_op("ApplyCenteredRMSProp", var, slots, scalars, grad)
        return apply_training_op("ApplyRMSProp", var, slots, scalars, grad)
