"""More of PyTorch's math, reductions and shape functions, each composed of registry ops.

Nothing here has a kernel or a gradient of its own: ``tan`` is ``sin / cos``, ``floor`` is
``x - floormod(x, 1)``, ``sort`` is ``top_k`` over the whole dimension, ``gather`` is
``gather_nd`` with an index grid, ... so every gradient comes from the ops' own rules.

>>> import flowgraph.dynamic as torch
>>> x = torch.tensor([[3.0, 1.0, 2.0]])
>>> torch.sort(x, dim=1).values, torch.argsort(x, descending=True)
(tensor([[1., 2., 3.]]), tensor([[0, 2, 1]]))
>>> torch.gather(x, 1, torch.tensor([[2, 0]]))
tensor([[2., 3.]])
"""

from __future__ import annotations

import math as _math
import operator

import numpy as np

from flowgraph.dynamic import torch_functions as torch_fns
from flowgraph.dynamic.promotion import promoted
from flowgraph.dynamic.tape import call
from flowgraph.dynamic.tensor import EagerTensor
from flowgraph.dynamic.torch_functions import ReturnTypes
from flowgraph.ops import array, derived, math, nd_indexing, reduce, special

__all__ = [
    "add", "addmm", "all", "allclose", "any", "argsort", "bmm", "ceil", "chunk", "concat",
    "concatenate", "cos", "cumsum", "div", "dot", "equal", "erf", "exp2", "expm1", "flip", "floor",
    "gather", "hstack", "index_select", "is_tensor", "isclose", "log10", "log1p", "log2",
    "logsumexp", "masked_fill", "mul", "multiply", "norm", "numel", "outer", "prod", "reciprocal",
    "round", "rsqrt", "scatter", "scatter_add", "sigmoid_", "sign", "sin", "sort", "split",
    "square", "std", "sub", "subtract", "t", "tan", "topk", "true_divide", "trunc", "var",
    "vstack",
]  # fmt: skip

_LN2, _LN10 = _math.log(2.0), _math.log(10.0)


def _as(x) -> EagerTensor:
    return x if isinstance(x, EagerTensor) else torch_fns.tensor(x)


def sin(input):  # noqa: A002
    """Sine, elementwise."""
    return call(math.sin, input)


def cos(input):  # noqa: A002
    """Cosine, elementwise."""
    return call(math.cos, input)


def tan(input):  # noqa: A002
    """``sin(x) / cos(x)``."""
    return sin(input) / cos(input)


def exp2(input):  # noqa: A002
    """``2 ** x``, as ``exp(x ln 2)``."""
    return torch_fns.exp(_float(input) * _LN2)


def expm1(input):  # noqa: A002
    """``exp(x) - 1``, elementwise."""
    return torch_fns.exp(input) - 1.0


def log2(input):  # noqa: A002
    """Base-2 logarithm, elementwise."""
    return torch_fns.log(_float(input)) / _LN2


def log10(input):  # noqa: A002
    """Base-10 logarithm, elementwise."""
    return torch_fns.log(_float(input)) / _LN10


def erf(input):  # noqa: A002
    """The Gauss error function, elementwise (the registry's ``Erf`` op).

    >>> import flowgraph.dynamic as torch
    >>> torch.erf(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8427])
    """
    return call(special.erf, input)


def log1p(input):  # noqa: A002
    """``log(1 + x)``, elementwise."""
    return call(math.log1p, input)


def sign(input):  # noqa: A002
    """-1, 0 or 1 by the sign of each element."""
    return call(math.sign, input)


def rsqrt(input):  # noqa: A002
    """``1 / sqrt(x)``, elementwise."""
    return call(math.rsqrt, input)


def reciprocal(input):  # noqa: A002
    """``1 / x``, elementwise (floating)."""
    return 1.0 / _float(input)


def square(input):  # noqa: A002
    """``x * x``, elementwise."""
    return call(math.square, input)


def floor(input):  # noqa: A002
    """The largest integer <= x (``x - floormod(x, 1)``; its gradient is zero)."""
    if not input.dtype.is_floating:
        return input
    return input - call(math.floormod, input, torch_fns.tensor(1.0, dtype=input.dtype))


def round(input, decimals: int = 0):  # noqa: A001, A002
    """Round to the nearest integer, halves to even (as PyTorch and NumPy do); ``decimals``
    rounds to that many decimal places. Its gradient is zero."""
    if not input.dtype.is_floating:
        return input
    scale = 10.0**decimals
    x = input * scale if decimals else input
    down = floor(x)
    up = down + 1.0
    diff = x - down
    odd = call(math.floormod, down, torch_fns.tensor(2.0, dtype=down.dtype)) == 1.0
    out = torch_fns.where((diff > 0.5) | ((diff == 0.5) & odd), up, down)
    return out / scale if decimals else out


def trunc(input):  # noqa: A002
    """Round toward zero."""
    return input if not input.dtype.is_floating else sign(input) * floor(abs(input))


def ceil(input):  # noqa: A002
    """The smallest integer >= x (``-floor(-x)``)."""
    return input if not input.dtype.is_floating else -floor(-input)


def _float(x):
    x = _as(x)
    return x if x.dtype.is_floating else x.to(torch_fns.default_float())


# ---- arithmetic functions --------------------------------------------------------------------


def add(input, other, alpha=1):  # noqa: A002
    """``input + alpha * other``."""
    return input + (other if alpha == 1 else other * alpha)


def sub(input, other, alpha=1):  # noqa: A002
    """``input - alpha * other``."""
    return input - (other if alpha == 1 else other * alpha)


subtract = sub


def mul(input, other):  # noqa: A002
    """``input * other``."""
    return input * other if isinstance(input, EagerTensor) else other * input


multiply = mul


def div(input, other, rounding_mode=None):  # noqa: A002
    """``input / other``; ``rounding_mode="floor"`` or ``"trunc"`` rounds the quotient."""
    quotient = input / other if isinstance(input, EagerTensor) else _as(input) / other
    if rounding_mode is None:
        return quotient
    if rounding_mode == "floor":
        out = floor(quotient)
    elif rounding_mode == "trunc":
        out = sign(quotient) * floor(abs(quotient))
    else:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")  # fmt: skip
    a, b = promoted(_as(input), _as(other))
    return out if a.dtype.is_floating else out.to(a.dtype)


true_divide = div


def dot(input, other):  # noqa: A002
    """The inner product of two 1-D tensors."""
    if len(input.shape) != 1 or len(other.shape) != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {len(input.shape)}D and {len(other.shape)}D tensors"
        )
    return (input * other).sum()


def outer(input, vec2):  # noqa: A002
    """The outer product of two 1-D tensors."""
    return torch_fns.unsqueeze(input, 1) * torch_fns.unsqueeze(vec2, 0)


def bmm(input, mat2):  # noqa: A002
    """Batched matrix product of ``[B, n, m]`` and ``[B, m, p]``."""
    if len(input.shape) != 3 or len(mat2.shape) != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.shape} and {mat2.shape})")
    return torch_fns.matmul(input, mat2)


def addmm(input, mat1, mat2, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return input * beta + torch_fns.matmul(mat1, mat2) * alpha


# ---- reductions --------------------------------------------------------------------------------


def _axis(dim):
    if dim is None:
        return None
    return tuple(dim) if isinstance(dim, (list, tuple)) else operator.index(dim)


def prod(input, dim=None, keepdim=False):  # noqa: A002
    """The product over ``dim`` (all elements by default)."""
    return call(reduce.reduce_prod, input, _axis(dim), keepdim)


def var(input, dim=None, unbiased=True, keepdim=False, correction=None):  # noqa: A002
    """The variance over ``dim``, with Bessel's correction unless ``unbiased=False``."""
    correction = (1 if unbiased else 0) if correction is None else correction
    mean = torch_fns.mean(input, dim, keepdim=True)
    squares = torch_fns.sum((input - mean) ** 2, dim, keepdim)
    count = input.numel() if dim is None else _math.prod(
        input.shape[d] for d in (dim if isinstance(dim, (list, tuple)) else [dim])
    )  # fmt: skip
    return squares / max(count - correction, 0)


def std(input, dim=None, unbiased=True, keepdim=False, correction=None):  # noqa: A002
    """The standard deviation over ``dim`` (``sqrt(var(...))``)."""
    return torch_fns.sqrt(var(input, dim, unbiased, keepdim, correction))


def norm(input, p="fro", dim=None, keepdim=False):  # noqa: A002
    """The ``p``-norm (2 / "fro" by default, 1, or inf) over ``dim`` or all elements."""
    if p in ("fro", 2, 2.0):
        return torch_fns.sqrt(torch_fns.sum(input * input, dim, keepdim))
    if p in (1, 1.0):
        return torch_fns.sum(abs(input), dim, keepdim)
    if p == float("inf"):
        return (
            torch_fns.max(abs(input))
            if dim is None
            else torch_fns.max(abs(input), dim, keepdim).values
        )
    return torch_fns.sum(abs(input) ** p, dim, keepdim) ** (1.0 / p)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """``log(sum(exp(x), dim))``, computed stably."""
    return call(derived.reduce_logsumexp, input, _axis(dim), keepdim)


def all(input, dim=None):  # noqa: A001, A002
    """Whether every element (along ``dim``) is true."""
    return call(reduce.reduce_all, input.bool(), _axis(dim))


def any(input, dim=None):  # noqa: A001, A002
    """Whether any element (along ``dim``) is true."""
    return call(reduce.reduce_any, input.bool(), _axis(dim))


def cumsum(input, dim, dtype=None):  # noqa: A002
    """The running sum along ``dim`` (bools count as int64)."""
    x = input if dtype is None else input.to(dtype)
    if x.dtype.is_bool:
        x = x.long()
    return call(nd_indexing.cumsum, x, operator.index(dim))


def isclose(input, other, rtol=1e-05, atol=1e-08):  # noqa: A002
    """Elementwise ``|a - b| <= atol + rtol * |b|``."""
    a, b = promoted(input, other)
    return abs(a - b) <= atol + rtol * abs(b)


def allclose(input, other, rtol=1e-05, atol=1e-08) -> bool:  # noqa: A002
    """Whether every element is close (``isclose``), as a Python bool."""
    return bool(np.allclose(np.asarray(input), np.asarray(other), rtol=rtol, atol=atol))


def equal(input, other) -> bool:  # noqa: A002
    """True when both tensors have the same shape and elements."""
    return tuple(input.shape) == tuple(other.shape) and bool(
        np.array_equal(np.asarray(input), np.asarray(other))
    )


def numel(input) -> int:  # noqa: A002
    """The number of elements."""
    return input.numel()


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a flowgraph.dynamic tensor."""
    return isinstance(obj, EagerTensor)


# ---- sorting -----------------------------------------------------------------------------------


def _last(x, dim):
    """``x`` with ``dim`` moved last, and the function that moves it back."""
    rank = len(x.shape)
    dim = operator.index(dim) % rank if rank else 0
    if rank == 0 or dim == rank - 1:
        return x, lambda y: y
    perm = [d for d in range(rank) if d != dim] + [dim]
    back = list(np.argsort(perm))
    return call(array.transpose, x, perm), lambda y: call(array.transpose, y, back)


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``."""
    x, back = _last(input, dim)
    if not largest:
        x = -x
    values, indices = call(nd_indexing.top_k, x, int(k), sorted)
    if not largest:
        values = -values
    return ReturnTypes(back(values), back(indices).long())


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """The elements along ``dim`` in order: ``(values, indices)``."""
    return topk(input, input.shape[dim], dim, largest=descending)


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """The indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending).indices


# ---- indexing ----------------------------------------------------------------------------------


def _grid(index: EagerTensor, dim: int):
    """``[..., rank]`` int64 coordinates: the index tensor at ``dim``, its own position
    elsewhere (what ``gather`` and ``scatter`` address)."""
    shape = tuple(index.shape)
    coords = list(np.indices(shape, dtype=np.int64))
    coords[dim] = np.asarray(index._value, dtype=np.int64)
    return np.stack(coords, axis=-1)


def _checked_index(input, dim, index, what):
    index = _as(index)
    if not index.dtype.is_integer:
        raise RuntimeError(f"{what}(): Expected dtype int64 for index, got {index.dtype.name}")
    if len(index.shape) != len(input.shape):
        raise RuntimeError(
            f"{what}(): Index tensor must have the same number of dimensions as input tensor "
            f"(index {list(index.shape)}, input {list(input.shape)})"
        )
    dim = operator.index(dim) % len(input.shape)
    bound = input.shape[dim]
    values = np.asarray(index._value)
    if values.size and (values.min() < -bound or values.max() >= bound):
        raise IndexError(
            f"{what}(): index {int(values.max())} is out of bounds for dimension {dim} with "
            f"size {bound} (input shape {list(input.shape)})"
        )
    return dim, index


def gather(input, dim, index):  # noqa: A002
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (any rank and dim)."""
    dim, index = _checked_index(input, dim, index, "gather")
    grid = _grid(index, dim) % np.asarray(input.shape, dtype=np.int64)
    return call(nd_indexing.gather_nd, input, torch_fns.tensor(grid))


def scatter_add(input, dim, index, src):  # noqa: A002
    """``input`` plus ``src`` added at ``index`` along ``dim`` (repeated indices sum)."""
    dim, index = _checked_index(input, dim, index, "scatter_add")
    src = _as(src)
    src = src[tuple(slice(0, n) for n in index.shape)]
    grid = _grid(index, dim) % np.asarray(input.shape, dtype=np.int64)
    added = call(nd_indexing.scatter_nd, torch_fns.tensor(grid), src, list(input.shape))
    return input + added


def scatter(input, dim, index, src=None, value=None):  # noqa: A002
    """``input`` with ``src`` (or the number ``value``) written at ``index`` along ``dim``."""
    dim, index = _checked_index(input, dim, index, "scatter")
    if src is None:
        src = value
    if not isinstance(src, EagerTensor):
        src = torch_fns.full(tuple(index.shape), src, dtype=input.dtype)
    src = src[tuple(slice(0, n) for n in index.shape)]
    grid = _grid(index, dim) % np.asarray(input.shape, dtype=np.int64)
    ones = torch_fns.ones(*index.shape, dtype=input.dtype)
    hit = call(nd_indexing.scatter_nd, torch_fns.tensor(grid), ones, list(input.shape))
    written = call(nd_indexing.scatter_nd, torch_fns.tensor(grid), src, list(input.shape))
    return torch_fns.where(hit > 0, written, input)


def index_select(input, dim, index):  # noqa: A002
    """The entries of ``input`` at ``index`` along ``dim`` (one Gather)."""
    return call(array.gather, input, _as(index).long(), operator.index(dim))


def masked_fill(input, mask, value):  # noqa: A002
    """``input`` with ``value`` where ``mask`` is true."""
    fill = value if isinstance(value, EagerTensor) else torch_fns.tensor(value, dtype=input.dtype)
    return torch_fns.where(mask, fill.to(input.dtype), input)


def flip(input, dims):  # noqa: A002
    """``input`` reversed along ``dims``."""
    out = input
    for d in [dims] if isinstance(dims, int) else dims:
        n = input.shape[d]
        out = call(array.gather, out, torch_fns.arange(n - 1, -1, -1), d % len(input.shape))
    return out


# ---- joining and splitting ---------------------------------------------------------------------

concat = concatenate = torch_fns.cat


def hstack(tensors):
    """Join along dimension 1 (0 for 1-D tensors)."""
    tensors = list(tensors)
    return torch_fns.cat(tensors, 0 if len(tensors[0].shape) == 1 else 1)


def vstack(tensors):
    """Join as rows (1-D tensors become rows)."""
    return torch_fns.cat([t if len(t.shape) > 1 else t.reshape(1, -1) for t in tensors], 0)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    n = tensor.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - start) for start in range(0, n, step)]
    else:
        sizes = list(split_size_or_sections)
    out, start = [], 0
    dim = dim % len(tensor.shape)
    for size in sizes:
        key = (slice(None),) * dim + (slice(start, start + size),)
        out.append(tensor[key])
        start += size
    return tuple(out)


def chunk(input, chunks, dim=0):  # noqa: A002
    """``chunks`` pieces of (nearly) equal size along ``dim``."""
    n = input.shape[dim]
    return split(input, -(-n // chunks), dim)


def t(input):  # noqa: A002
    """The transpose of a tensor of at most 2 dimensions."""
    return input.t()


def sigmoid_(input):  # noqa: A002
    """In-place sigmoid."""
    return input.sigmoid_()
