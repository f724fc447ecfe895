"""PyTorch's ``torch.nn.functional`` for define-by-run tensors, built only from the op library.

Every function here is a composition of public op functions (``flowgraph.ops.math``,
``activations``, ``losses``, ``conv``, ``pooling``, ...), run eagerly. Gradients therefore come
from the registry's gradient rules, the same ones a static graph uses; nothing in this module
knows a derivative. Layouts follow PyTorch: images are NCHW, a convolution's weight is
``[out_channels, in_channels, kh, kw]`` and a linear layer's weight is ``[out, in]``.

>>> import flowgraph.dynamic as torch
>>> import flowgraph.dynamic.nn.functional as F
>>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, torch.tensor([0, 0]))
>>> round(loss.item(), 4)
1.1269
>>> loss.backward()
>>> logits.grad.shape
torch.Size([2, 2])
"""

from __future__ import annotations

import functools
import numbers
import warnings

from flowgraph.dynamic.tape import call, execute
from flowgraph.dynamic.tensor import EagerTensor
from flowgraph.dynamic.torch_functions import as_tensor
from flowgraph.ops import activations, array, conv, creation, linalg, losses, math, pooling
from flowgraph.ops import nn as nn_ops
from flowgraph.ops import reduce as reduce_ops
from flowgraph.ops.registry import get_op_def
from flowgraph.ops.tiling import pad as _pad

# The ops the layers of every MLP run, called directly (see linear and cross_entropy).
_MATMUL, _BIAS_ADD = get_op_def("MatMul"), get_op_def("BiasAdd")
_MATMUL_NT = {"transpose_a": False, "transpose_b": True}
_NHWC = {"data_format": "NHWC"}
_SPARSE_XENT = get_op_def("SparseSoftmaxCrossEntropyWithLogits")
_MEAN, _ALL_AXES = get_op_def("Mean"), {"axis": None, "keepdims": False}

__all__ = [
    "avg_pool2d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

REDUCTIONS = ("mean", "sum", "none")


def eagerly(fn):
    """Run ``fn``'s op-library calls define-by-run (on eager tensors), whatever the caller."""

    @functools.wraps(fn)
    def run_eagerly(*args, **kwargs):
        return call(fn, *args, **kwargs)

    return run_eagerly


def pair(value, what: str) -> tuple[int, int]:
    """``value`` (an int or two ints) as a pair of ints, as torch reads kernel_size etc."""
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    out = tuple(int(v) for v in value)
    if len(out) != 2:
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return out


def apply_reduction(loss, reduction: str):
    """``loss`` reduced as torch's ``reduction=`` says: 'mean', 'sum' or 'none'."""
    if reduction == "mean":
        return reduce_ops.reduce_mean(loss)
    if reduction == "sum":
        return reduce_ops.reduce_sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _class_dim_last(x):
    """``[N, C, d1, ...]`` -> ``[N, d1, ..., C]`` (PyTorch puts classes at dim 1)."""
    rank = len(x.shape)
    if rank <= 2:
        return x
    return array.transpose(x, [0, *range(2, rank), 1])


# ---- activations ------------------------------------------------------------------------


@eagerly
def relu(input, inplace: bool = False):
    """``max(input, 0)`` elementwise (``inplace`` is accepted and ignored)."""
    return math.relu(as_tensor(input))


@eagerly
def sigmoid(input):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, elementwise."""
    return math.sigmoid(as_tensor(input))


@eagerly
def tanh(input):
    """``tanh``, elementwise."""
    return math.tanh(as_tensor(input))


def _softmax_dim(name: str, rank: int, dim):
    if dim is not None:
        return int(dim)
    # PyTorch's legacy implicit choice, with its warning.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if rank in (0, 1, 3) else 1


@eagerly
def softmax(input, dim=None):
    """``exp(x) / sum(exp(x), dim)``, stable for large inputs."""
    x = as_tensor(input)
    return activations.softmax(x, axis=_softmax_dim("softmax", len(x.shape), dim))


@eagerly
def log_softmax(input, dim=None):
    """``x - log(sum(exp(x), dim))``, stable for large inputs."""
    x = as_tensor(input)
    return activations.log_softmax(x, axis=_softmax_dim("log_softmax", len(x.shape), dim))


# ---- layers -----------------------------------------------------------------------------


@eagerly
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` with ``weight`` of shape ``[out_features, in_features]``;
    any leading dimensions of ``input`` are kept."""
    # A batch of vectors with a weight (and bias) of its dtype, the layer of every MLP, runs
    # the MatMul and BiasAdd ops directly: what linalg.matmul and nn_ops.bias_add do for such
    # tensors, without their argument handling.
    if (
        type(input) is EagerTensor
        and isinstance(weight, EagerTensor)
        and input._value.ndim == 2
        and input.dtype is weight.dtype
        and (bias is None or (isinstance(bias, EagerTensor) and bias.dtype is input.dtype))
    ):
        y = execute(_MATMUL, [input, weight], _MATMUL_NT, "MatMul")
        return y if bias is None else execute(_BIAS_ADD, [y, bias], _NHWC, "BiasAdd")
    x, w = as_tensor(input), as_tensor(weight)
    lead = tuple(x.shape)[:-1]
    flat = x if len(lead) == 1 else array.reshape(x, [-1, int(x.shape[-1])])
    y = linalg.matmul(flat, w, transpose_b=True)
    if bias is not None:
        y = nn_ops.bias_add(y, as_tensor(bias))
    if len(lead) != 1:
        y = array.reshape(y, [*lead, int(w.shape[0])])
    return y


@eagerly
def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` while
    ``training``; the identity otherwise."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return math.multiply(x, creation.zeros_like(x))
    return nn_ops.dropout(x, rate=float(p))


def _spatial_padding(x, padding, value):
    """Explicit PyTorch padding of an NCHW tensor's H and W by ``padding`` (int or pair)."""
    ph, pw = pair(padding, "padding")
    if ph == 0 and pw == 0:
        return x
    return _pad(x, [[0, 0], [0, 0], [ph, ph], [pw, pw]], constant_values=value)


@eagerly
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation of NCHW ``input`` with ``weight`` ``[out, in, kh, kw]``.

    ``padding`` is an int, a pair, ``"valid"`` or ``"same"`` (zeros, as in PyTorch).
    """
    if groups != 1:
        raise NotImplementedError("conv2d: only groups=1 is supported")
    x, w = as_tensor(input), as_tensor(weight)
    if isinstance(padding, str):
        if padding.lower() not in ("same", "valid"):
            raise ValueError(f"padding must be 'same', 'valid' or ints, got {padding!r}")
        mode = padding.upper()
        if mode == "SAME" and pair(stride, "stride") != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
    else:
        x, mode = _spatial_padding(x, padding, 0), "VALID"
    y = conv.conv2d(
        x,
        array.transpose(w, [2, 3, 1, 0]),  # PyTorch's [out, in, kh, kw] -> TF's [kh, kw, in, out]
        strides=pair(stride, "stride"),
        padding=mode,
        data_format="NCHW",
        dilations=pair(dilation, "dilation"),
    )
    if bias is not None:
        y = nn_ops.bias_add(y, as_tensor(bias), data_format="NCHW")
    return y


def _pool(pool_fn, input, kernel_size, stride, padding, pad_value, ceil_mode):
    if ceil_mode:
        raise NotImplementedError("pooling with ceil_mode=True is not supported")
    x = as_tensor(input)
    kernel = pair(kernel_size, "kernel_size")
    strides = kernel if stride is None else pair(stride, "stride")
    if any(2 * p > k for p, k in zip(pair(padding, "padding"), kernel)):
        raise ValueError("pad should be at most half of effective kernel size")
    x = _spatial_padding(x, padding, pad_value)
    return pool_fn(x, ksize=kernel, strides=strides, padding="VALID", data_format="NCHW")


@eagerly
def max_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False):
    """The maximum over each ``kernel_size`` window of an NCHW tensor (``stride`` defaults to
    ``kernel_size``; padding never wins)."""
    return _pool(pooling.max_pool, input, kernel_size, stride, padding, float("-inf"), ceil_mode)


@eagerly
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False):
    """The mean over each ``kernel_size`` window of an NCHW tensor (zero padding counts, as
    PyTorch's default ``count_include_pad=True``)."""
    return _pool(pooling.avg_pool, input, kernel_size, stride, padding, 0.0, ceil_mode)


# ---- losses -----------------------------------------------------------------------------


@eagerly
def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Softmax cross-entropy of logits ``input`` ``[N, C]`` (or ``[N, C, d1, ...]``) with
    integer class ids ``target`` ``[N]`` (``[N, d1, ...]``) or class probabilities shaped like
    ``input``. With class ids, ``weight`` (``[C]``) weighs each example by its class and
    ``ignore_index`` leaves examples out; the mean is then over the weights, as in PyTorch.

    >>> import flowgraph.dynamic as torch
    >>> loss = cross_entropy(torch.tensor([[0.0, 0.0]]), torch.tensor([1]))
    >>> round(loss.item(), 4)
    0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    logits, target = _class_dim_last(as_tensor(input)), as_tensor(target)
    ids = target.dtype.is_integer
    if ids:
        kept, safe = _kept(target, ignore_index)
        loss = execute(_SPARSE_XENT, [logits, safe], {}, "SparseSoftmaxCrossEntropy")[0]
        if reduction == "mean" and kept is None and weight is None and not label_smoothing:
            return execute(_MEAN, [loss], _ALL_AXES, "Mean")  # reduce_mean(loss), directly
    else:
        labels = _class_dim_last(target)
        loss = losses.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    if label_smoothing:
        # (1 - e) * CE(target) + e * CE(uniform): the second term is -mean(log_softmax).
        smooth = math.negative(reduce_ops.reduce_mean(activations.log_softmax(logits), -1))
        loss = (1.0 - label_smoothing) * loss + label_smoothing * smooth
    if ids and (weight is not None or kept is not None):
        return _weighted(loss, safe, kept, weight, reduction)
    return apply_reduction(loss, reduction)


@eagerly
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):  # fmt: skip
    """``-input[i, target[i]]`` for log-probabilities ``input`` ``[N, C]`` (``weight`` and
    ``ignore_index`` as in :func:`cross_entropy`)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, target = _class_dim_last(as_tensor(input)), as_tensor(target)
    kept, safe = _kept(target, ignore_index)
    picked = creation.one_hot(safe, int(x.shape[-1]), dtype=x.dtype)
    loss = math.negative(reduce_ops.reduce_sum(picked * x, -1))
    if weight is not None or kept is not None:
        return _weighted(loss, safe, kept, weight, reduction)
    return apply_reduction(loss, reduction)


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _kept(target, ignore_index):
    """(mask of the examples not ignored or None when none is, ids with ignored ones 0)."""
    if not bool((target._value == ignore_index).any()):  # the usual case, without an op
        return None, target
    ignored = math.equal(target, ignore_index)
    kept = math.logical_not(ignored)
    return kept, math.where(kept, target, array.zeros_like(target))


def _weighted(loss, target, kept, weight, reduction: str):
    """PyTorch's weighted reduction: ``sum(w_i l_i) / sum(w_i)`` with ``w_i`` the weight of
    example i's class (0 when ignored)."""
    w = array.ones_like(loss) if weight is None else array.gather(as_tensor(weight), target)
    if kept is not None:
        w = w * math.cast(kept, loss.dtype)
    weighted = loss * w
    if reduction == "none":
        return weighted
    total = reduce_ops.reduce_sum(weighted)
    return total if reduction == "sum" else total / reduce_ops.reduce_sum(w)


@eagerly
def mse_loss(input, target, reduction: str = "mean"):
    """Mean (``reduction="mean"``), sum or elementwise ``(input - target) ** 2``."""
    return apply_reduction(math.squared_difference(as_tensor(input), as_tensor(target)), reduction)


# ---- the rest of torch.nn.functional (batch norm, BCE, embeddings, ...) ---------------------
from flowgraph.dynamic.nn import functional_layers as _layers  # noqa: E402
from flowgraph.dynamic.nn.functional_layers import *  # noqa: E402, F403

__all__ += _layers.__all__
