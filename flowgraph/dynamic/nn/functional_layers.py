"""The functional forms of the layers beyond the MLP/CNN core of ``torch.nn.functional``: batch
norm, adaptive pooling, 2-D dropout, the ELU family of activations, the binary and robust
losses, embeddings and ``one_hot``. Compositions of registry ops, so every gradient comes from
the ops' own rules; :mod:`flowgraph.dynamic.nn.functional` re-exports them all.

>>> import flowgraph.dynamic as torch
>>> import flowgraph.dynamic.nn.functional as F
>>> one = torch.tensor([1.0])
>>> F.binary_cross_entropy(0.5 * one, one) == F.binary_cross_entropy_with_logits(0 * one, one)
tensor(True)
>>> F.smooth_l1_loss(torch.tensor([0.0, 3.0]), torch.tensor([0.5, 0.0]))
tensor(1.3125)
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import torch_functions as fn
from flowgraph.dynamic.nn.functional import apply_reduction, eagerly
from flowgraph.dynamic.tape import call
from flowgraph.dynamic.torch_functions import as_tensor
from flowgraph.ops import activations, array, creation, losses, math, reduce, special

__all__ = [
    "adaptive_avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "dropout2d", "elu", "embedding", "l1_loss",
    "leaky_relu", "one_hot", "smooth_l1_loss", "softplus", "huber_loss", "silu", "gelu",
]  # fmt: skip


@eagerly
def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):  # noqa: A002
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return activations.leaky_relu(as_tensor(input), alpha=float(negative_slope))


@eagerly
def elu(input, alpha: float = 1.0, inplace: bool = False):  # noqa: A002
    """``x`` where positive, ``exp(x) - 1`` elsewhere."""
    if alpha != 1.0:
        raise NotImplementedError("elu: only alpha=1.0 (the library's Elu op) is supported")
    return activations.elu(as_tensor(input))


@eagerly
def silu(input, inplace: bool = False):  # noqa: A002
    """``x * sigmoid(x)`` (also called swish)."""
    x = as_tensor(input)
    return x * math.sigmoid(x)


_SQRT_HALF = 0.5**0.5
_SQRT_TWO_OVER_PI = (2 / np.pi) ** 0.5


@eagerly
def gelu(input, approximate: str = "none"):  # noqa: A002
    """``x * Phi(x)`` with ``Phi`` the standard normal CDF, ``0.5 * (1 + erf(x / sqrt(2)))``;
    ``approximate="tanh"`` uses ``0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))``, as
    PyTorch does.

    >>> import flowgraph.dynamic as torch
    >>> import flowgraph.dynamic.nn.functional as F
    >>> F.gelu(torch.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """
    x = as_tensor(input)
    if approximate == "none":
        return 0.5 * x * (1 + special.erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1 + math.tanh(_SQRT_TWO_OVER_PI * (x + 0.044715 * x * x * x)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


@eagerly
def softplus(input):  # noqa: A002
    """``log(1 + exp(x))``, computed stably."""
    return activations.softplus(as_tensor(input))


def batch_norm(
    input,  # noqa: A002
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Normalise each channel (dimension 1) of ``input`` ``[N, C, ...]``.

    Training: by the batch's mean and biased variance, and (without recording) move the
    running statistics: ``running = (1 - momentum) * running + momentum * batch_stat``, the
    variance unbiased, as PyTorch does. Evaluation: by the running statistics.
    """
    x = as_tensor(input)
    if len(x.shape) < 2:
        raise ValueError(f"batch_norm: expected at least 2-D input (got {len(x.shape)}-D)")
    axes = [0, *range(2, len(x.shape))]
    shape = [1, int(x.shape[1])] + [1] * (len(x.shape) - 2)
    if training:
        count = x.numel() // x.shape[1]
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.shape}"
            )
        mean = fn.mean(x, axes, keepdim=True)
        var = fn.mean((x - mean) ** 2, axes, keepdim=True)
        if running_mean is not None:
            with fn.no_grad():
                m = mean.detach().reshape(-1)
                v = var.detach().reshape(-1) * (count / (count - 1))
                running_mean.mul_(1 - momentum).add_(m * momentum)
                running_var.mul_(1 - momentum).add_(v * momentum)
    else:
        mean = running_mean.reshape(*shape)
        var = running_var.reshape(*shape)
    y = (x - mean) / fn.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(*shape)
    if bias is not None:
        y = y + bias.reshape(*shape)
    return y


@eagerly
def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """The mean over ``output_size`` adaptive windows of an NCHW tensor: window ``i`` spans
    ``floor(i * H / out)`` to ``ceil((i + 1) * H / out)``, as in PyTorch."""
    x = as_tensor(input)
    height, width = int(x.shape[-2]), int(x.shape[-1])
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    out_h, out_w = out_h or height, out_w or width
    rows = []
    for i in range(out_h):
        h0, h1 = (i * height) // out_h, -((-(i + 1) * height) // out_h)
        cols = []
        for j in range(out_w):
            w0, w1 = (j * width) // out_w, -((-(j + 1) * width) // out_w)
            window = x[..., h0:h1, w0:w1]
            cols.append(reduce.reduce_mean(window, [-2, -1]))
        rows.append(array.stack(cols, -1))
    return array.stack(rows, -2)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero whole channels of ``[N, C, H, W]`` with probability ``p`` (scaling the rest by
    ``1 / (1 - p)``) while training."""
    x = as_tensor(input)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    keep = fn.cpu_run_context.rng.random((x.shape[0], x.shape[1]) + (1,) * (len(x.shape) - 2)) >= p
    scale = keep.astype(x.dtype.as_numpy_dtype) / np.float32(1.0 - p) if p < 1 else keep * 0.0
    return x * fn.tensor(scale.astype(x.dtype.as_numpy_dtype))


def _check_target(what, x, target):
    if tuple(x.shape) != tuple(target.shape):
        raise ValueError(
            f"{what}: Using a target size ({target.shape}) that is different to the input size "
            f"({x.shape}) is deprecated. Please ensure they have the same size."
        )


@eagerly
def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):  # noqa: A002
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``input``; the logs are clamped
    at -100 as PyTorch does."""
    p, t = as_tensor(input), as_tensor(target)
    _check_target("binary_cross_entropy", p, t)
    floor = -100.0
    log_p = math.maximum(math.log(p), floor)
    log_q = math.maximum(math.log(1.0 - p), floor)
    loss = math.negative(t * log_p + (1.0 - t) * log_q)
    if weight is not None:
        loss = loss * as_tensor(weight)
    return apply_reduction(loss, reduction)


@eagerly
def binary_cross_entropy_with_logits(
    input,  # noqa: A002
    target,
    weight=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """Sigmoid then binary cross-entropy, in one stable op (the library's
    ``sigmoid_cross_entropy_with_logits``)."""
    z, t = as_tensor(input), as_tensor(target)
    _check_target("binary_cross_entropy_with_logits", z, t)
    if pos_weight is not None:
        # (1 - t) z + (1 + (w - 1) t) softplus(-z)
        log_weight = 1.0 + (as_tensor(pos_weight) - 1.0) * t
        loss = (1.0 - t) * z + log_weight * activations.softplus(math.negative(z))
    else:
        loss = losses.sigmoid_cross_entropy_with_logits(labels=t, logits=z)
    if weight is not None:
        loss = loss * as_tensor(weight)
    return apply_reduction(loss, reduction)


@eagerly
def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):  # noqa: A002
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``)."""
    d = math.abs(as_tensor(input) - as_tensor(target))
    if beta == 0:
        return apply_reduction(d, reduction)
    loss = math.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return apply_reduction(loss, reduction)


@eagerly
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):  # noqa: A002
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    d = math.abs(as_tensor(input) - as_tensor(target))
    loss = math.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return apply_reduction(loss, reduction)


@eagerly
def l1_loss(input, target, reduction: str = "mean"):  # noqa: A002
    """Mean (or sum, or elementwise) absolute difference."""
    return apply_reduction(math.abs(as_tensor(input) - as_tensor(target)), reduction)


def embedding(input, weight, padding_idx=None):  # noqa: A002
    """Rows ``input`` (int64 ids of any shape) of ``weight`` ``[num, dim]``; the row
    ``padding_idx`` reads as zeros and gets no gradient."""
    ids = as_tensor(input)
    if not ids.dtype.is_integer:
        raise RuntimeError(f"embedding: expected integer ids, got {ids.dtype.name}")
    flat = ids.reshape(-1)
    rows = call(array.gather, weight, flat, 0)
    if padding_idx is not None:  # the padding row gets no gradient (and reads as zeros)
        keep = (flat != padding_idx % weight.shape[0]).to(weight.dtype).unsqueeze(1)
        rows = rows * keep
    return rows.reshape(*ids.shape, weight.shape[1])


@eagerly
def one_hot(tensor, num_classes: int = -1):
    """int64 ``[..., num_classes]`` with a 1 at each id (``num_classes`` -1: max id + 1)."""
    ids = as_tensor(tensor)
    if num_classes < 0:
        num_classes = int(np.asarray(ids._value).max()) + 1
    return creation.one_hot(ids, int(num_classes), dtype="int64")
