"""The float64 numeric gradient check the dynamic-mode tests share."""

from __future__ import annotations

import numpy as np

import flowgraph.dynamic as torch

RNG = np.random.default_rng(3)


def t64(array, requires_grad=False):
    """A float64 tensor of ``array``."""
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def check_grads(fn, *arrays, eps=1e-6, atol=1e-6):
    """backward() of ``sum(fn(*tensors) * w)`` against central differences, for each input."""
    out_shape = np.shape(fn(*[t64(a) for a in arrays]).detach().numpy())
    w = RNG.standard_normal(out_shape)

    def objective(values):
        with torch.no_grad():
            return float(np.sum(fn(*[t64(v) for v in values]).detach().numpy() * w))

    inputs = [t64(a, requires_grad=True) for a in arrays]
    (fn(*inputs) * t64(w)).sum().backward()
    for k, array in enumerate(arrays):
        numeric = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            values = [a.copy() for a in arrays]
            values[k][idx] += eps
            up = objective(values)
            values[k][idx] -= 2 * eps
            numeric[idx] = (up - objective(values)) / (2 * eps)
        np.testing.assert_allclose(inputs[k].grad.detach().numpy(), numeric, atol=atol, rtol=1e-5)
