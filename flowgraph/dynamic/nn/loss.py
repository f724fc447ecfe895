"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss`` and ``MSELoss`` (thin wrappers of the
functions in :mod:`flowgraph.dynamic.nn.functional`).

>>> import flowgraph.dynamic as torch
>>> criterion = CrossEntropyLoss()
>>> round(criterion(torch.tensor([[0.0, 0.0]]), torch.tensor([0])).item(), 4)
0.6931
"""

from __future__ import annotations

from flowgraph.dynamic.nn import functional as F
from flowgraph.dynamic.nn.module import Module

__all__ = ["CrossEntropyLoss", "MSELoss", "NLLLoss"]


class Loss(Module):
    """Base of the loss modules: holds ``reduction`` ('mean', 'sum' or 'none'), as
    torch's ``_Loss``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"reduction must be one of {F.REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy of logits ``[N, C]`` with class ids ``[N]`` (int64) or class
    probabilities ``[N, C]``; averaged over the batch by default (over the class ``weight`` s
    when given; ``ignore_index`` leaves examples out)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:  # fmt: skip
        super().__init__(F.legacy_reduction(size_average, reduce, reduction))
        self.weight, self.ignore_index = weight, ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(Loss):
    """Negative log-likelihood of log-probabilities ``[N, C]`` (after ``LogSoftmax``)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:  # fmt: skip
        super().__init__(F.legacy_reduction(size_average, reduce, reduction))
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class MSELoss(Loss):
    """Mean squared error ``mean((input - target) ** 2)`` (or its sum, or elementwise)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)
