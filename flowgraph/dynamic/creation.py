"""More creation functions (``linspace``, ``logspace``, ``empty``, ``normal``, the ``*_like``
samplers, the legacy ``FloatTensor``/``LongTensor`` constructors), and the ``device=`` keyword
that every creation function takes.

>>> import flowgraph.dynamic as torch
>>> torch.linspace(0, 1, 5)
tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
>>> torch.LongTensor([1, 2]).dtype, torch.FloatTensor(2, 3).shape
(flowgraph.int64, torch.Size([2, 3]))
"""

from __future__ import annotations

import functools

import numpy as np

from flowgraph.dynamic import devices
from flowgraph.dynamic import torch_functions as torch_fns
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype

__all__ = [
    "ByteTensor", "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor", "BoolTensor",
    "empty", "empty_like", "linspace", "logspace", "normal", "rand_like", "randint_like",
    "randn_like", "placed", "Generator",
]  # fmt: skip


def placed(fn):
    """``fn`` taking PyTorch's ``device=`` (checked: "cpu", or "cuda" where usable) and
    ignoring ``layout=``, ``pin_memory=`` and ``memory_format=``."""

    @functools.wraps(fn)
    def create(*args, device=None, layout=None, pin_memory=False, memory_format=None, **kw):
        dev = devices.check(device)
        if dev is devices.CPU:
            return fn(*args, **kw)
        requires_grad = kw.pop("requires_grad", False)
        out = fn(*args, **kw)
        out = new_tensor(type(out), devices.move(out._value, dev), out.dtype, None, 0, False)
        return out.requires_grad_(True) if requires_grad else out

    return create


def _floating(dtype):
    return as_dtype(dtype) if dtype is not None else torch_fns.default_float()


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if int(steps) < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = _floating(dtype)
    values = np.linspace(float(start), float(end), int(steps)).astype(dtype.as_numpy_dtype)
    return torch_fns.tensor(values, requires_grad=requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    dtype = _floating(dtype)
    values = np.logspace(float(start), float(end), int(steps), base=base)
    return torch_fns.tensor(values.astype(dtype.as_numpy_dtype), requires_grad=requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """A tensor of ``size`` (zeros here: flowgraph does not hand out uninitialised memory)."""
    return torch_fns.zeros(*size, dtype=dtype, requires_grad=requires_grad)


def empty_like(input, dtype=None, requires_grad: bool = False):  # noqa: A002
    """A tensor shaped like ``input`` (zeros)."""
    return torch_fns.zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def normal(mean, std, size=None, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """Normal samples: ``mean`` and ``std`` numbers with ``size``, or tensors (elementwise)."""
    rng = torch_fns.cpu_run_context.rng
    m = np.asarray(mean._value if isinstance(mean, EagerTensor) else mean)
    s = np.asarray(std._value if isinstance(std, EagerTensor) else std)
    shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    if isinstance(mean, EagerTensor) and dtype is None:
        dtype = mean.dtype
    values = rng.normal(m, s, size=shape).astype(_floating(dtype).as_numpy_dtype)
    return torch_fns.tensor(values, requires_grad=requires_grad)


def rand_like(input, dtype=None, requires_grad=False):  # noqa: A002
    """Uniform [0, 1) samples shaped like ``input``."""
    return torch_fns.rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):  # noqa: A002
    """Standard-normal samples shaped like ``input``."""
    return torch_fns.randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low, high=None, dtype=None):  # noqa: A002
    """Random integers in ``[low, high)`` shaped like ``input``."""
    return torch_fns.randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


def _legacy(dtype, name):
    def construct(*args):
        """``{name}(data)`` copies a list/array; ``{name}(2, 3)`` is an uninitialised tensor
        (zeros here) of that size."""
        if not args:
            return torch_fns.zeros(0, dtype=dtype)
        if all(isinstance(a, (int, np.integer)) for a in args):
            return torch_fns.zeros(*args, dtype=dtype)
        if len(args) == 1 and not isinstance(args[0], (int, float)):
            return torch_fns.tensor(args[0], dtype=dtype)
        raise TypeError(f"{name}(): expected a sequence or sizes, got {args!r}")

    construct.__name__ = construct.__qualname__ = name
    construct.__doc__ = construct.__doc__.format(name=name)
    return construct


FloatTensor = _legacy(dtypes.float32, "FloatTensor")
DoubleTensor = _legacy(dtypes.float64, "DoubleTensor")
LongTensor = _legacy(dtypes.int64, "LongTensor")
IntTensor = _legacy(dtypes.int32, "IntTensor")
ByteTensor = _legacy(dtypes.uint8, "ByteTensor")
BoolTensor = _legacy(dtypes.bool_, "BoolTensor")


class Generator:
    """A random generator of its own (``torch.Generator().manual_seed(42)``), for
    ``random_split`` and ``DataLoader(generator=...)``: a NumPy Generator inside (``rng``)."""

    def __init__(self, device="cpu") -> None:
        devices.check(device)
        self.rng = np.random.default_rng()
        self._seed = None

    def manual_seed(self, seed: int) -> Generator:
        """Reseed this generator; returns it (``Generator().manual_seed(42)``)."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        """The seed given to ``manual_seed`` (None before)."""
        return self._seed
