"""``torch.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and
``parameters_to_vector``.

>>> import flowgraph.dynamic as torch
>>> w = torch.tensor([3.0, 4.0], requires_grad=True)
>>> (w * 1.0).sum().backward()
>>> w.grad = torch.tensor([3.0, 4.0])
>>> clip_grad_norm_([w], max_norm=1.0).item(), w.grad
(5.0, tensor([0.6000, 0.8000]))
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import torch_functions

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector"]


def _with_grads(parameters) -> list:
    if hasattr(parameters, "grad"):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False):  # fmt: skip
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm``: by ``max_norm / (total + 1e-6)`` when that is below 1 (PyTorch's formula).
    Returns the total norm before clipping (a 0-d tensor)."""
    params = _with_grads(parameters)
    if not params:
        return torch_functions.tensor(0.0)
    grads = [np.asarray(p.grad.value, dtype=np.float64) for p in params]
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = float(sum((np.abs(g) ** norm_type).sum() for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            p.grad.value[...] = p.grad.value * np.asarray(coef, dtype=p.grad.value.dtype)
    return torch_functions.tensor(total, dtype=params[0].dtype)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place."""
    for p in _with_grads(parameters):
        np.clip(p.grad.value, -clip_value, clip_value, out=p.grad.value)


def parameters_to_vector(parameters):
    """The parameters flattened and joined into one 1-D tensor."""
    return torch_functions.cat([p.reshape(-1) for p in parameters])
