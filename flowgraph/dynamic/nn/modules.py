"""Layers: ``Linear``, ``Conv2d``, ``MaxPool2d``, ``Flatten``, ``Dropout``, activations and
``Sequential``, with PyTorch's shapes, layouts (NCHW) and default initialisation.

Each forward is one call into :mod:`flowgraph.dynamic.nn.functional`, so every layer runs the op
library's kernels and differentiates with its gradient rules.

>>> import flowgraph.dynamic as torch
>>> net = Sequential(Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(64, 10))
>>> net(torch.zeros(2, 1, 8, 8)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from flowgraph.dynamic.nn import functional as F
from flowgraph.dynamic.nn import init
from flowgraph.dynamic.nn.module import Module
from flowgraph.dynamic.tensor import Parameter
from flowgraph.dynamic.torch_functions import as_tensor

__all__ = [
    "Conv2d",
    "Dropout",
    "Flatten",
    "Identity",
    "Linear",
    "LogSoftmax",
    "MaxPool2d",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


def empty(*shape: int) -> np.ndarray:
    """An uninitialised float32 array, filled by ``reset_parameters``."""
    return np.empty(shape, dtype=np.float32)


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` ``[out_features, in_features]``, both drawn
    from U(-1/sqrt(in_features), 1/sqrt(in_features)) as PyTorch does."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(empty(self.out_features, self.in_features))
        self.register_parameter("bias", Parameter(empty(self.out_features)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


def _reset(weight, bias) -> None:
    """PyTorch's default: kaiming_uniform(a=sqrt(5)) for the weight, and the bias from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Conv2d(Module):
    """2-D convolution of NCHW images; ``weight`` is ``[out, in, kh, kw]``. ``padding`` is an
    int, a pair, ``"valid"`` or ``"same"``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if groups != 1:
            raise NotImplementedError("Conv2d: only groups=1 is supported")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F.pair(kernel_size, "kernel_size")
        self.stride = F.pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else F.pair(padding, "padding")
        self.dilation = F.pair(dilation, "dilation")
        self.weight = Parameter(empty(self.out_channels, self.in_channels, *self.kernel_size))
        self.register_parameter("bias", Parameter(empty(self.out_channels)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset(self.weight, self.bias)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in ((0, 0), "valid"):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(Module):
    """Max pooling of NCHW images; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one (by default all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        x = as_tensor(input)
        dims = tuple(x.shape)
        start, end = self.start_dim % len(dims), self.end_dim % len(dims)
        return x.reshape(*dims[:start], math.prod(dims[start : end + 1]), *dims[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero elements with probability ``p`` in training mode, scaling the rest by
    ``1 / (1 - p)``; the identity after ``eval()``."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class ReLU(Module):
    """Applies ``max(x, 0)`` elementwise."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)


class Sigmoid(Module):
    """Applies the logistic sigmoid elementwise."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """Applies ``tanh`` elementwise."""

    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    """Applies softmax along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Applies log-softmax along ``dim``."""

    def forward(self, input):
        return F.log_softmax(input, self.dim)


class Sequential(Module):
    """Modules applied in order; built from arguments or an ``OrderedDict`` of named ones."""

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self:
            input = module(input)
        return input

    def __iter__(self):
        return iter(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index):
        modules = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(modules[index]))
        return modules[index][1]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self
