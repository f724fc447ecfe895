"""PyTorch-named functions on eager tensors, each a call of the op library run eagerly.

Creation (``tensor``, ``zeros``, ``arange``, ``randn``, ...), math (``matmul``, ``relu``,
``softmax``, ``sum``, ``max``, ...) and shape functions (``reshape``, ``transpose``, ``cat``,
...). The tensor methods (``x.sum(dim=1)``, ``x.view(-1, 4)``) are these functions; nothing here
computes a derivative: every op is one of the registry's, differentiated by its own rule.

>>> import flowgraph.dynamic as fd
>>> fd.manual_seed(0)
>>> x = fd.randn(2, 3)
>>> fd.softmax(x, dim=1).sum(dim=1)
tensor([1., 1.])
"""

from __future__ import annotations

import operator
from collections import namedtuple
from contextlib import ContextDecorator
from math import prod

import numpy as np

from flowgraph.dynamic import devices
from flowgraph.dynamic import tensor as tensor_module
from flowgraph.dynamic.tape import (
    call,
    cpu_run_context,
    direct_op,
    execute,
    grad_mode,
    mixing_error,
)
from flowgraph.dynamic.tensor import EagerTensor, as_array, new_tensor
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.ops import activations, array, derived, linalg, math, random, reduce

__all__ = [
    "abs", "arange", "argmax", "argmin", "as_tensor", "cat", "clamp", "enable_grad", "exp", "eye",
    "flatten", "from_numpy", "full", "full_like", "get_default_dtype", "inference_mode", "log",
    "log_softmax", "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "mm",
    "no_grad", "ones", "ones_like", "permute", "pow", "rand", "randint", "randn", "randperm",
    "relu", "reshape", "set_default_dtype", "set_grad_enabled", "sigmoid", "softmax", "sqrt",
    "squeeze", "stack", "sum", "tanh", "tensor", "transpose", "unsqueeze", "where", "zeros",
    "zeros_like",
]  # fmt: skip

# ---- grad mode -------------------------------------------------------------------------------


class set_grad_enabled(ContextDecorator):  # noqa: N801 - PyTorch's name
    """Turn recording on or off inside a ``with`` block or a decorated function."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._saved: list = []

    def __enter__(self):
        self._saved.append(grad_mode.enabled)
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc) -> None:
        grad_mode.enabled = self._saved.pop()


class no_grad(set_grad_enabled):  # noqa: N801
    """No recording inside: for evaluation, and for optimizers updating ``param.value``.

    >>> import flowgraph.dynamic as fd
    >>> w = fd.tensor([1.0], requires_grad=True)
    >>> with fd.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class inference_mode(set_grad_enabled):  # noqa: N801
    """``torch.inference_mode()``: no recording inside (``no_grad`` here); ``mode=False``
    leaves recording as it is."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__(False if mode else grad_mode.enabled)


class enable_grad(set_grad_enabled):  # noqa: N801
    """Recording on inside, even within ``no_grad``."""

    def __init__(self) -> None:
        super().__init__(True)


# ---- creation --------------------------------------------------------------------------------

# PyTorch's defaults for Python values: floats float32, ints int64.
_KIND_DEFAULTS = {"f": dtypes.float32, "i": dtypes.int64, "u": dtypes.int64, "b": dtypes.bool_}


def default_float():
    """The floating dtype of Python floats and of ``zeros``, ``randn``, ...: float32 unless
    ``set_default_dtype`` changed it."""
    return _KIND_DEFAULTS["f"]


def set_default_dtype(d) -> None:
    """Make ``d`` (float32 or float64) the dtype of new floating tensors.

    >>> import flowgraph.dynamic as torch
    >>> torch.set_default_dtype(torch.float64)
    >>> torch.tensor([1.5]).dtype, torch.zeros(1).dtype
    (flowgraph.float64, flowgraph.float64)
    >>> torch.set_default_dtype(torch.float32)
    """
    d = as_dtype(d)
    if d not in (dtypes.float32, dtypes.float64, dtypes.float16):
        raise TypeError(
            f"only floating-point types are supported as the default type, not {d.name}"
        )
    _KIND_DEFAULTS["f"] = d
    tensor_module.KIND_DEFAULTS["f"] = d.name


def get_default_dtype():
    """The floating dtype creation functions use when given none (``set_default_dtype``)."""
    return default_float()


def _leaf(array_value, requires_grad: bool) -> EagerTensor:
    t = new_tensor(EagerTensor, array_value, as_dtype(array_value.dtype), None, 0, False)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """A new leaf tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays).

    Python floats become float32 and ints int64 (PyTorch's defaults); NumPy arrays keep their
    dtype.

    >>> import flowgraph.dynamic as fd
    >>> fd.tensor([[1, 2], [3, 4]]).dtype, fd.tensor(0.5, requires_grad=True)
    (flowgraph.int64, tensor(0.5000, requires_grad=True))
    """
    if isinstance(data, EagerTensor):
        data = data._value
    on = devices.device_of(data)
    if on.type != "cpu":  # a GPU array (a tensor's): the copy stays on its device
        value = as_array(devices.to_host(data), dtype, copy=True)
        return _leaf(devices.move(value, on), requires_grad)
    value = as_array(data, dtype, copy=True)
    return _leaf(value, requires_grad)


def as_tensor(data, dtype=None) -> EagerTensor:
    """``data`` as a tensor, sharing its memory when it is already an array of that dtype."""
    if isinstance(data, EagerTensor) and (dtype is None or data.dtype is as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == as_dtype(dtype).name):
        return from_numpy(data)
    return tensor(data, dtype)


def from_numpy(ndarray: np.ndarray) -> EagerTensor:
    """A tensor sharing ``ndarray``'s memory."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return _leaf(ndarray, False)


def _size(size) -> tuple[int, ...]:
    """``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` and ``zeros(x.shape)`` alike."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer, EagerTensor)):
        size = size[0]
    return tuple(operator.index(d) for d in size)


def _finish(t: EagerTensor, requires_grad: bool) -> EagerTensor:
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """A tensor of zeros (float32 unless ``dtype``): ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    out = call(array.zeros, list(_size(size)), as_dtype(dtype or default_float()))
    return _finish(out, requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """A tensor of ones (float32 unless ``dtype``)."""
    out = call(array.ones, list(_size(size)), as_dtype(dtype or default_float()))
    return _finish(out, requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype: float32, int64 or bool)."""
    if dtype is None:
        dtype = _KIND_DEFAULTS[np.asarray(fill_value).dtype.kind]
    out = call(array.fill, list(_size((size,))), tensor(fill_value, dtype))
    return _finish(out, requires_grad)


def zeros_like(input, dtype=None, requires_grad: bool = False) -> EagerTensor:  # noqa: A002
    """A tensor of zeros with ``input``'s shape (and dtype, unless ``dtype`` is given)."""
    return _finish(call(array.zeros_like, input, dtype), requires_grad)


def ones_like(input, dtype=None, requires_grad: bool = False) -> EagerTensor:  # noqa: A002
    """A tensor of ones with ``input``'s shape (and dtype, unless ``dtype`` is given)."""
    return _finish(call(array.ones_like, input, dtype), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False) -> EagerTensor:  # noqa: A002
    """A tensor of ``fill_value`` with ``input``'s shape (and dtype, unless given)."""
    return full(input.shape, fill_value, dtype or input.dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """``start, start + step, ...`` below ``end``: int64 for ints, else float32.

    >>> import flowgraph.dynamic as fd
    >>> fd.arange(4), fd.arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else default_float()
    out = call(array.range, start, end, step, dtype=as_dtype(dtype))
    return _finish(out, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """The ``n x m`` identity matrix (square by default)."""
    out = call(derived.eye, n, m, dtype=as_dtype(dtype or default_float()))
    return _finish(out, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``randn``, ``rand``, ``randint``, ``randperm`` and dropout."""
    cpu_run_context.seed(int(seed))


def randn(*size, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """Standard-normal samples (float32 unless ``dtype``)."""
    dtype = as_dtype(dtype or default_float())
    out = call(random.random_normal, list(_size(size)), dtype=dtype)
    return _finish(out, requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> EagerTensor:
    """Samples uniform in [0, 1) (float32 unless ``dtype``)."""
    dtype = as_dtype(dtype or default_float())
    out = call(random.random_uniform, list(_size(size)), dtype=dtype)
    return _finish(out, requires_grad)


def randint(low, high=None, size=(), dtype=None) -> EagerTensor:
    """Integers uniform in ``[low, high)`` (``randint(high, size)`` starts at 0); int64."""
    if high is None or isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, size if high is None else high
    dtype = as_dtype(dtype or dtypes.int64)
    return call(random.random_uniform, list(_size((size,))), low, high, dtype=dtype)


def randperm(n: int, dtype=None) -> EagerTensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    return call(random.random_shuffle, arange(n, dtype=dtype or dtypes.int64))


# ---- math ------------------------------------------------------------------------------------


def _unary(fn, doc):
    op_def = direct_op(fn)

    def function(input):  # noqa: A002 - PyTorch's name
        if op_def is not None and isinstance(input, EagerTensor):  # fn, minus its layers
            return execute(op_def, [input], {}, op_def.type)
        return call(fn, input)

    function.__doc__ = doc
    return function


relu = _unary(math.relu, "``max(x, 0)`` elementwise.")
sigmoid = _unary(math.sigmoid, "The logistic function, elementwise.")
tanh = _unary(math.tanh, "Hyperbolic tangent, elementwise.")
exp = _unary(math.exp, "``e ** x``, elementwise.")
log = _unary(math.log, "Natural logarithm, elementwise.")
sqrt = _unary(math.sqrt, "Square root, elementwise.")
abs = _unary(math.abs, "Absolute value, elementwise.")  # noqa: A001
neg = _unary(math.negative, "``-x``, elementwise.")
square = _unary(math.square, "``x * x``, elementwise.")


def _pair(a, b):
    """PyTorch's promotion for two operands: tensors of different dtypes go to the common
    one; a Python float with an integer tensor makes it floating."""
    from flowgraph.dynamic.promotion import promoted

    if isinstance(a, EagerTensor) and isinstance(b, EagerTensor):
        return promoted(a, b)
    if isinstance(a, EagerTensor) and isinstance(b, float) and not a.dtype.is_floating:
        return call(math.cast, a, default_float()), b
    if isinstance(b, EagerTensor) and isinstance(a, float) and not b.dtype.is_floating:
        return a, call(math.cast, b, default_float())
    return a, b


def pow(input, exponent):  # noqa: A001, A002
    """``input ** exponent`` elementwise, with PyTorch's type promotion."""
    return call(math.pow, *_pair(input, exponent))


def matmul(input, other):  # noqa: A002
    """Matrix product (batched over leading dimensions); a 1-D operand is a row (left) or a
    column (right) vector whose dimension the result drops, as in PyTorch."""
    return call(matmul_op, input, other)


def matmul_op(a, b):
    """``a @ b`` from library ops: MatMul, with ExpandDims / Squeeze around 1-D operands."""
    a, b = math.binary_operands("MatMul", a, b)
    if not (isinstance(a, EagerTensor) and isinstance(b, EagerTensor)):
        raise mixing_error("MatMul", "MatMul", [a, b])
    vector_a, vector_b = a.shape.rank == 1, b.shape.rank == 1
    if vector_a:
        a = array.expand_dims(a, 0)
    if vector_b:
        b = array.expand_dims(b, -1)
    out = linalg.matmul(a, b)
    if vector_b:
        out = array.squeeze(out, [-1])
    return array.squeeze(out, [-2]) if vector_a else out


mm = matmul


def maximum(input, other):  # noqa: A002
    """The elementwise maximum of ``input`` and ``other`` (broadcasting, PyTorch's promotion)."""
    return call(math.maximum, *_pair(input, other))


def minimum(input, other):  # noqa: A002
    """The elementwise minimum of ``input`` and ``other`` (broadcasting, PyTorch's promotion)."""
    return call(math.minimum, *_pair(input, other))


def clamp(input, min=None, max=None):  # noqa: A002
    """``input`` limited to ``[min, max]`` (either bound may be None)."""
    if min is not None and max is not None:
        return call(math.clip_by_value, input, min, max)
    if min is not None:
        return call(math.maximum, input, min)
    if max is not None:
        return call(math.minimum, input, max)
    raise ValueError("clamp: give at least one of min and max")


def where(condition, input, other):  # noqa: A002
    """``input`` where ``condition`` is true, else ``other`` (broadcasting)."""
    return call(math.where, condition, *_pair(input, other))


def softmax(input, dim=None):  # noqa: A002
    """Softmax along ``dim`` (the last dimension by default)."""
    return call(activations.softmax, input, -1 if dim is None else dim)


def log_softmax(input, dim=None):  # noqa: A002
    """Log-softmax along ``dim`` (the last dimension by default), computed stably."""
    return call(activations.log_softmax, input, -1 if dim is None else dim)


# ---- reductions ------------------------------------------------------------------------------

ReturnTypes = namedtuple("ReturnTypes", ["values", "indices"])


def _axis(dim):
    if dim is None:
        return None
    return tuple(dim) if isinstance(dim, (list, tuple)) else operator.index(dim)


def sum(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """The sum over ``dim`` (an int, a tuple, or None for all); bools count as int64."""
    if input.dtype.is_bool:
        input = input.long()
    return call(reduce.reduce_sum, input, _axis(dim), keepdim)


def mean(input, dim=None, keepdim: bool = False):  # noqa: A002
    """The mean over ``dim``; the tensor must be floating (use ``.float()`` first)."""
    if not input.dtype.is_floating:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating, got "
            f"{input.dtype.name}; use .float().mean()"
        )
    return call(reduce.reduce_mean, input, _axis(dim), keepdim)


def _extreme(reduce_fn, arg_fn, elementwise, input, dim, keepdim):  # noqa: A002
    if isinstance(dim, EagerTensor):  # max(a, b): elementwise
        return call(elementwise, input, dim)
    if dim is None:
        return call(reduce_fn, input)
    values = call(reduce_fn, input, operator.index(dim), keepdim)
    return ReturnTypes(values, _arg(arg_fn, input, dim, keepdim))


def max(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """The largest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise maximum."""
    return _extreme(reduce.reduce_max, reduce.argmax, math.maximum, input, dim, keepdim)


def min(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """The smallest element; with ``dim``, ``(values, indices)``; with a tensor, elementwise."""
    return _extreme(reduce.reduce_min, reduce.argmin, math.minimum, input, dim, keepdim)


def _arg(arg_fn, input, dim, keepdim):  # noqa: A002
    if dim is None:
        return call(arg_fn, call(array.reshape, input, [-1]), 0)
    dim = operator.index(dim)
    out = call(arg_fn, input, dim)
    return call(array.expand_dims, out, dim) if keepdim else out


def argmax(input, dim=None, keepdim: bool = False):  # noqa: A002
    """The index (int64) of the largest element, over all elements or along ``dim``."""
    return _arg(reduce.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False):  # noqa: A002
    """Indices of the minimum along ``dim`` (of the flattened tensor when ``dim`` is None)."""
    return _arg(reduce.argmin, input, dim, keepdim)


# ---- shapes ----------------------------------------------------------------------------------


def reshape(input, *shape):  # noqa: A002
    """``input`` with a new shape (one entry may be -1): ``reshape(x, 2, -1)`` or a tuple."""
    return call(array.reshape, input, list(_size(shape)))


def transpose(input, dim0: int, dim1: int):  # noqa: A002
    """``input`` with dimensions ``dim0`` and ``dim1`` swapped."""
    perm = list(range(len(input.shape)))
    perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
    return call(array.transpose, input, perm)


def permute(input, *dims):  # noqa: A002
    """``input`` with its dimensions reordered to ``dims``."""
    return call(array.transpose, input, list(_size(dims)))


def unsqueeze(input, dim: int):  # noqa: A002
    """``input`` with a dimension of size 1 inserted at ``dim``."""
    return call(array.expand_dims, input, dim)


def squeeze(input, dim=None):  # noqa: A002
    """``input`` without size-1 dimensions (only ``dim``, if given and of size 1)."""
    if dim is not None and input.shape[dim] != 1:
        return input  # PyTorch: squeezing a dimension that is not 1 leaves the tensor as is
    return call(array.squeeze, input, None if dim is None else [dim])


def flatten(input, start_dim: int = 0, end_dim: int = -1):  # noqa: A002
    """``input`` with dimensions ``start_dim`` to ``end_dim`` merged into one."""
    shape = input.shape
    if not shape:
        return reshape(input, 1)
    start, end = start_dim % len(shape), end_dim % len(shape)
    merged = prod(shape[start : end + 1])
    return reshape(input, *shape[:start], merged, *shape[end + 1 :])


def cat(tensors, dim: int = 0):
    """The tensors joined along the existing dimension ``dim``."""
    return call(array.concat, list(tensors), dim)


def stack(tensors, dim: int = 0):
    """The same-shaped tensors joined along a new dimension ``dim``."""
    return call(array.stack, list(tensors), dim)


def clone(input):  # noqa: A002
    """A copy of ``input`` (an Identity op on the tape, with its own memory)."""
    out = call(array.identity, input)
    out._value = out._value.copy()
    node = out.grad_fn
    if node is not None:
        node._values = (out._value,)
    return out
