"""Parameter initialisers (``torch.nn.init``): each fills a tensor's array in place from the
dynamic mode's random generator (seeded by ``flowgraph.dynamic.manual_seed``) and returns it.

>>> import flowgraph.dynamic as torch
>>> w = torch.zeros(256, 784)
>>> _ = kaiming_uniform_(w, a=5 ** 0.5)   # PyTorch's Linear default: U(-1/sqrt(784), ...)
>>> bool(abs(w.numpy()).max() <= 1 / 784 ** 0.5)
True
"""

from __future__ import annotations

import math

from flowgraph.dynamic import tape

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "zeros_",
]


def random_generator():
    """The NumPy generator that ``manual_seed`` reseeds (looked up on each use)."""
    return tape.cpu_run_context.rng


def _fill(tensor, values):
    tensor.value[...] = values
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill ``tensor`` with draws from U(a, b)."""
    return _fill(tensor, random_generator().uniform(a, b, size=tuple(tensor.value.shape)))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill ``tensor`` with draws from N(mean, std**2)."""
    return _fill(tensor, random_generator().normal(mean, std, size=tuple(tensor.value.shape)))


def constant_(tensor, val: float):
    """Fill ``tensor`` with ``val`` in place (no gradient is recorded); returns it."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill ``tensor`` with zeros in place (no gradient is recorded); returns it."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill ``tensor`` with ones in place (no gradient is recorded); returns it."""
    return _fill(tensor, 1)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for ``"linear"``, ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
    ``"sigmoid"`` (``param`` is leaky_relu's negative slope, default 0.01)."""
    if nonlinearity in ("linear", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """PyTorch's fans of a weight ``[out, in, *kernel]``: (in * kernel, out * kernel)."""
    shape = tuple(tensor.value.shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dims")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``; ``a=sqrt(5)`` (PyTorch's
    Linear and Conv2d default) gives ``bound = 1 / sqrt(fan_in)``."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity="leaky_relu"):
    """N(0, std**2) with ``std = gain / sqrt(fan)``."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def xavier_uniform_(tensor, gain: float = 1.0):
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot)."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain: float = 1.0):
    """N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (Glorot)."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))
