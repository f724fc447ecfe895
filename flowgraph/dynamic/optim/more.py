"""``RMSprop``, ``Adagrad``, ``Adadelta`` and ``AdamW`` with the update rules of PyTorch's
documentation (written out in each class), on the parameters' arrays in place.

>>> import flowgraph.dynamic as torch
>>> w = torch.tensor([1.0], requires_grad=True)
>>> opt = Adagrad([w], lr=0.5)
>>> (w * 2.0).sum().backward()     # grad 2: sum = 4, step = 0.5 * 2 / (2 + 1e-10)
>>> opt.step(); round(w.item(), 6)
0.5
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic.optim import Adam, Optimizer

__all__ = ["Adadelta", "Adagrad", "AdamW", "RMSprop"]


def _check(**values) -> None:
    for name, value in values.items():
        if value < 0.0:
            raise ValueError(f"Invalid {name} value: {value}")


class RMSprop(Optimizer):
    """With ``g = grad + wd * p``: ``v = alpha * v + (1 - alpha) * g^2``; centered:
    ``a = alpha * a + (1 - alpha) * g`` and ``v~ = v - a^2``; ``d = sqrt(v~) + eps``; with
    momentum ``b = momentum * b + g / d`` and ``p -= lr * b``, else ``p -= lr * g / d``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):  # fmt: skip
        _check(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * grad * grad
        if group["centered"]:
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * grad
            denom = np.sqrt(v - a * a) + group["eps"]
        else:
            denom = np.sqrt(v) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * grad / denom


class Adagrad(Optimizer):
    """At step ``t``: ``clr = lr / (1 + (t - 1) * lr_decay)``; ``g = grad + wd * p``;
    ``s += g^2``; ``p -= clr * g / (sqrt(s) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10):  # fmt: skip
        _check(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
               initial_accumulator_value=initial_accumulator_value)  # fmt: skip
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                        initial_accumulator_value=initial_accumulator_value)  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])


class Adadelta(Optimizer):
    """With ``g = grad + wd * p``: ``v = rho * v + (1 - rho) * g^2``;
    ``dx = sqrt(u + eps) / sqrt(v + eps) * g``; ``u = rho * u + (1 - rho) * dx^2``;
    ``p -= lr * dx``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        _check(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        if rho > 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * grad * grad
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * grad
        u *= rho
        u += (1 - rho) * delta * delta
        param -= group["lr"] * delta


class AdamW(Adam):
    """Adam with decoupled weight decay: first ``p *= 1 - lr * weight_decay``, then Adam's
    step without the L2 term (default ``weight_decay=1e-2``)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):  # fmt: skip
        super().__init__(params, lr, betas, eps, 0.0, amsgrad)
        for group in self.param_groups:
            group["weight_decay"] = weight_decay
        self.defaults["weight_decay"] = weight_decay

    def _update(self, param, grad, state, group):
        param *= 1 - group["lr"] * group["weight_decay"]
        super()._update(param, grad, state, dict(group, weight_decay=0.0))
