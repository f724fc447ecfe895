"""More layers: ``BatchNorm1d``/``BatchNorm2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``,
``Dropout2d``, ``LeakyReLU``, ``ELU``, ``Embedding``, ``ModuleList``, ``ModuleDict`` and the
losses ``BCELoss``, ``BCEWithLogitsLoss``, ``SmoothL1Loss``, ``L1Loss``, ``HuberLoss``.

>>> import flowgraph.dynamic as torch
>>> bn = BatchNorm1d(3)
>>> y = bn(torch.randn(8, 3))
>>> [abs(round(v, 4)) for v in y.mean(dim=0).tolist()], bn.running_mean.shape
([0.0, 0.0, 0.0], torch.Size([3]))
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from flowgraph.dynamic import torch_functions
from flowgraph.dynamic.nn import functional as F
from flowgraph.dynamic.nn import init
from flowgraph.dynamic.nn.loss import Loss
from flowgraph.dynamic.nn.module import Module
from flowgraph.dynamic.tensor import Parameter

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Dropout2d", "ELU", "Embedding", "HuberLoss", "L1Loss", "LeakyReLU",
    "GELU", "ModuleDict", "ModuleList", "SiLU", "SmoothL1Loss", "Softplus",
]  # fmt: skip


class _BatchNorm(Module):
    _ranks: tuple = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):  # fmt: skip
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(self.num_features, np.float32))
            self.bias = Parameter(np.zeros(self.num_features, np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch_functions.zeros(self.num_features))
            self.register_buffer("running_var", torch_functions.ones(self.num_features))
            self.register_buffer("num_batches_tracked", torch_functions.tensor(0))

    def forward(self, input):  # noqa: A002
        if len(input.shape) not in self._ranks:
            raise ValueError(
                f"{type(self).__name__}: expected {' or '.join(f'{r}D' for r in self._ranks)} "
                f"input (got {len(input.shape)}D input of shape {input.shape})"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input has {input.shape[1]} "
                f"channels (shape {input.shape})"
            )
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with torch_functions.no_grad():
                self.num_batches_tracked.add_(1)
        return F.batch_norm(
            input,
            self.running_mean if self.track_running_stats else None,
            self.running_var if self.track_running_stats else None,
            self.weight,
            self.bias,
            use_batch,
            self.momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``[N, C]`` or ``[N, C, L]`` inputs (per channel C)."""

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of NCHW images (per channel C)."""

    _ranks = (4,)


class AvgPool2d(Module):
    """Average pooling of NCHW images; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode = ceil_mode

    def forward(self, input):  # noqa: A002
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling of NCHW images to a fixed ``output_size``."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input):  # noqa: A002
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Dropout2d(Module):
    """Zero whole channels with probability ``p`` in training mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):  # noqa: A002
        return F.dropout2d(input, self.p, self.training)


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """``x`` where positive, ``exp(x) - 1`` elsewhere."""

    def forward(self, input):  # noqa: A002
        return F.elu(input)


class SiLU(Module):
    """``x * sigmoid(x)``."""

    def forward(self, input):  # noqa: A002
        return F.silu(input)


class GELU(Module):
    """``x * Phi(x)`` (``approximate="tanh"`` for the tanh form), as ``F.gelu``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """``log(1 + exp(x))``."""

    def forward(self, input):  # noqa: A002
        return F.softplus(input)


class Embedding(Module):
    """A lookup table ``weight`` ``[num_embeddings, embedding_dim]`` drawn from N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), np.float32))
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight.value[padding_idx] = 0

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class ModuleList(Module):
    """A list of modules, registered (their parameters are the list's)."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        for module in modules or ():
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns the list."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> ModuleList:
        """Add modules at the end; returns the list."""
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __iter__(self):
        return iter(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)


class ModuleDict(Module):
    """A dict of named modules, registered."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        for name, module in OrderedDict(modules or {}).items():
            self.add_module(name, module)

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def __setitem__(self, name: str, module: Module) -> None:
        self.add_module(name, module)

    def __iter__(self):
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def keys(self):
        """The names."""
        return self._modules.keys()

    def values(self):
        """The modules."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs."""
        return self._modules.items()


class BCELoss(Loss):
    """Binary cross-entropy of probabilities (after a ``Sigmoid``)."""

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(Loss):
    """Sigmoid + binary cross-entropy in one stable step; ``pos_weight`` weighs positives."""

    def __init__(self, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, reduction=self.reduction, pos_weight=self.pos_weight
        )


class SmoothL1Loss(Loss):
    """Squared below ``beta``, absolute above: the robust regression loss."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(Loss):
    """Squared below ``delta``, linear above (Huber)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, self.reduction, self.delta)


class L1Loss(Loss):
    """Mean absolute error."""

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, self.reduction)
