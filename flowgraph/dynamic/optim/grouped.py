"""Adam over all parameters of a group at once (what PyTorch's ``foreach`` Adam does).

Per parameter, Adam is a dozen ufunc passes; for the small tensors of a model (biases) each
call costs more than its arithmetic. Here the moments ``m`` and ``v`` and the work array of
a group are each one flat buffer, and every parameter's state holds views of them
(``state["exp_avg"]`` is still an array shaped like the parameter, so ``state_dict()`` and
user code see what they always did). The stages that read only moments run once over the
flat buffers; only the stages that read a gradient or write a parameter run per parameter:
25 ufunc calls for the seed MLP's four parameters instead of 48, the same passes over memory.

It applies to a group of NumPy parameters of one dtype that all have a gradient and the same
step count, without weight decay or amsgrad; anything else takes the per-parameter path
(:meth:`Adam._update`), with the same formulas.

>>> import numpy as np
>>> import flowgraph.dynamic as torch
>>> w, b = torch.ones(3, requires_grad=True), torch.zeros(1, requires_grad=True)
>>> opt = torch.optim.Adam([w, b], lr=0.1)
>>> ((w * 2).sum() + b.sum()).backward()
>>> opt.step()
>>> w.value.round(4), opt.state[id(b)]["exp_avg"]
(array([0.9, 0.9, 0.9], dtype=float32), array([0.1], dtype=float32))
>>> np.shares_memory(opt.state[id(w)]["exp_avg"], opt.state[id(b)]["exp_avg"].base)
True
"""

from __future__ import annotations

import math

import numpy as np


class FlatMoments:
    """One group's flat ``m``, ``v`` and work buffers and each parameter's views of them."""

    __slots__ = ("ids", "m", "v", "work", "ms", "vs", "works", "step")

    def __init__(self, params, states: list) -> None:
        like = params[0]._value
        sizes = [p._value.size for p in params]
        self.ids = tuple(map(id, params))
        self.m = np.zeros(sum(sizes), like.dtype)
        self.v = np.zeros_like(self.m)
        self.work = np.empty_like(self.m)
        self.ms = _views(self.m, params, sizes)
        self.vs = _views(self.v, params, sizes)
        self.works = _views(self.work, params, sizes)
        self.step = states[0].get("step", 0)
        for state, m, v in zip(states, self.ms, self.vs):
            if state:  # moments made per parameter (earlier steps, load_state_dict): move them
                m[...] = state["exp_avg"]
                v[...] = state["exp_avg_sq"]
            state.update(step=self.step, exp_avg=m, exp_avg_sq=v)

    def holds(self, params, states: list) -> bool:
        """Whether the parameters and their states are still the ones laid out here."""
        if tuple(map(id, params)) != self.ids or params[0]._value.dtype != self.m.dtype:
            return False
        for p, state, m, v in zip(params, states, self.ms, self.vs):
            if state.get("exp_avg") is not m or state["exp_avg_sq"] is not v:
                return False
            if state["step"] != self.step or p._value.shape != m.shape:
                return False
        return True


def _views(flat, params, sizes) -> list:
    out, offset = [], 0
    for p, size in zip(params, sizes):
        out.append(flat[offset : offset + size].reshape(p._value.shape))
        offset += size
    return out


def groupable(params, group: dict) -> bool:
    """Whether :func:`adam_step` applies: no weight decay or amsgrad, and every parameter a
    NumPy array of one dtype with a gradient of its shape and dtype."""
    if group["weight_decay"] or group["amsgrad"] or len(params) < 2:
        return False
    dtype = params[0]._value.dtype
    for p in params:
        grad = p.grad
        if grad is None:
            return False
        value, g = p._value, grad._value
        if value.__class__ is not np.ndarray or g.__class__ is not np.ndarray:
            return False
        if value.dtype != dtype or g.dtype != dtype or g.shape != value.shape:
            return False
    return True


def adam_step(flat: FlatMoments, params, states: list, group: dict) -> None:
    """One Adam step of every parameter (PyTorch's formulas, as :meth:`Adam._update` computes
    them, bit for bit)."""
    beta1, beta2 = group["betas"]
    flat.step += 1
    step = flat.step
    grads = [p.grad._value for p in params]
    for g, m, w in zip(grads, flat.ms, flat.works):
        np.subtract(g, m, out=w)  # m += (1 - b1) * (g - m)
    work = flat.work
    work *= 1 - beta1
    flat.m += work
    for g, w in zip(grads, flat.works):
        np.multiply(g, 1 - beta2, out=w)  # v = b2 * v + ((1 - b2) * g) * g, as PyTorch's
        w *= g  # addcmul rounds it
    flat.v *= beta2
    flat.v += work
    # p -= (lr * sqrt(bc2) / bc1) * m / (sqrt(v) + eps * sqrt(bc2)), bc = 1 - beta**t
    root_bc2 = math.sqrt(1 - beta2**step)
    np.sqrt(flat.v, out=work)
    work += group["eps"] * root_bc2
    np.divide(flat.m, work, out=work)
    work *= group["lr"] * root_bc2 / (1 - beta1**step)
    for p, w in zip(params, flat.works):
        p._value -= w
    for state in states:
        state["step"] = step
