"""Methods and Python operators of eager tensors, with PyTorch's names and semantics.

Installed on :class:`EagerTensor` as ``ops/operators.py`` installs graph-tensor operators: each
is a function of ``flowgraph/dynamic/functions.py`` or an op function run eagerly. Differences
from graph tensors: ``==`` and ``!=`` compare elementwise (tensors still hash by identity), ``/``
of two integer tensors gives float32, ``x[idx]`` with an int tensor or list gathers rows.

>>> import flowgraph.dynamic as fd
>>> x = fd.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> x.max(dim=1).indices, (x == 5.0).sum().item(), x.T.shape
(tensor([1, 0]), 1, Size([2, 2]))
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import autograd
from flowgraph.dynamic import functions as F
from flowgraph.dynamic.tape import call, grad_mode
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math

# ---- operands -------------------------------------------------------------------------------

_SCALARS: dict = {}  # (type, value, dtype) -> read-only scalar tensor, reused


def _scalar(value, dtype) -> EagerTensor:
    key = (type(value), value, dtype)
    t = _SCALARS.get(key)
    if t is None:
        array_value = np.asarray(value, dtype=dtype.as_numpy_dtype)
        array_value.setflags(write=False)
        t = new_tensor(EagerTensor, array_value, dtype, None, 0, False)
        if value and len(_SCALARS) < 1024:  # not zeros: -0.0 == 0.0 would share a key
            _SCALARS[key] = t
    return t


def _operand(self: EagerTensor, other):
    """``other`` as a tensor for ``self <op> other``: Python numbers take self's dtype (fast
    path); anything else goes through the library's conversion (which refuses lossy casts)."""
    kind = type(other)
    if kind is float and self.dtype.is_floating:
        return _scalar(other, self.dtype)
    if kind is int and (self.dtype.is_floating or self.dtype in (dtypes.int64, dtypes.int32)):
        if self.dtype.is_floating or -(2**31) <= other < 2**31:
            return _scalar(other, self.dtype)
    return other


def _binary(fn):
    def method(self, other):
        return call(fn, self, _operand(self, other))

    def reflected(self, other):
        return call(fn, _operand(self, other), self)

    return method, reflected


def _int_division(x, y):
    x, y = math.binary_operands("RealDiv", x, y)
    if x.dtype.is_integer and y.dtype.is_integer:  # PyTorch: int / int -> float32
        x, y = math.cast(x, dtypes.float32), math.cast(y, dtypes.float32)
    return math.divide(x, y)


def _logical_xor(x, y):
    return math.not_equal(x, y)


_BINARY = {
    "add": math.add,
    "sub": math.subtract,
    "mul": math.multiply,
    "truediv": _int_division,
    "floordiv": math.floordiv,
    "mod": math.floormod,
    "pow": math.pow,
    "matmul": F.matmul_op,
    "and": math.logical_and,
    "or": math.logical_or,
    "xor": _logical_xor,
}
_COMPARISONS = {
    "lt": math.less,
    "le": math.less_equal,
    "gt": math.greater,
    "ge": math.greater_equal,
    "eq": math.equal,
    "ne": math.not_equal,
}
_COMPARABLE = (EagerTensor, int, float, bool, np.ndarray, np.generic, list, tuple)


def _comparison(fn):
    def method(self, other):
        if not isinstance(other, _COMPARABLE) and not isinstance(other, Tensor):
            return NotImplemented  # x == None is False, as in PyTorch
        return call(fn, self, _operand(self, other))

    return method


# ---- indexing and in-place updates --------------------------------------------------------------


def _getitem(self, key):
    if isinstance(key, list) or (isinstance(key, np.ndarray) and key.dtype.kind in "iu"):
        key = F.tensor(key, dtype=dtypes.int64)
    if isinstance(key, EagerTensor) and key.dtype.is_integer and key.shape:
        return call(array.gather, self, key, 0)  # x[idx]: rows idx (PyTorch's index_select)
    return call(array.getitem, self, key)


def _check_in_place(self, what: str) -> None:
    if grad_mode.enabled and self._requires_grad:
        if self.grad_fn is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation "
                f"({what}); wrap it in `with flowgraph.dynamic.no_grad():` (optimizers do)"
            )
        raise RuntimeError(
            f"in-place {what} on a tensor recorded on the tape is not supported in "
            "flowgraph.dynamic; use the out-of-place operation"
        )


def _values_of(other):
    return other._value if isinstance(other, EagerTensor) else other


def _setitem(self, key, value) -> None:
    _check_in_place(self, "assignment")
    self._value[key] = _values_of(value)


def _in_place(update):
    def method(self, *args, **kwargs):
        _check_in_place(self, update.__name__)
        update(self._value, *(_values_of(a) for a in args), **kwargs)
        return self

    method.__name__ = update.__name__
    return method


def zero_(v):
    v[...] = 0


def fill_(v, value):
    v[...] = value


def copy_(v, src):
    v[...] = src


def add_(v, other, alpha=1):
    v += other if alpha == 1 else alpha * other


def sub_(v, other, alpha=1):
    v -= other if alpha == 1 else alpha * other


def mul_(v, other):
    v *= other


def div_(v, other):
    v /= other


def normal_(v, mean=0.0, std=1.0):
    v[...] = F.context.rng.normal(mean, std, size=v.shape)


def uniform_(v, a=0.0, b=1.0):
    v[...] = F.context.rng.uniform(a, b, size=v.shape)


# ---- conversions ---------------------------------------------------------------------------------


def _to(self, *args, dtype=None, **kwargs):
    """``t.to(dtype)`` casts (an Identity-free no-op for the same dtype); ``t.to("cpu")`` is t."""
    for arg in args:
        if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "numpy"):
            continue
        if isinstance(arg, str) and arg.startswith("cuda"):
            raise RuntimeError("flowgraph.dynamic tensors live on the NumPy backend only")
        dtype = arg.dtype if isinstance(arg, EagerTensor) else arg
    if dtype is None:
        return self
    return call(math.cast, self, as_dtype(dtype))


def _cast_to(dtype):
    return lambda self: call(math.cast, self, dtype)


def _view(self, *shape):
    return F.reshape(self, *shape)


def _t(self):
    if len(self.shape) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.dim()}D")
    return self if len(self.shape) < 2 else call(array.transpose, self)


def _backward(self, gradient=None, retain_graph=None, create_graph=False):
    """Accumulate the gradient of this tensor into the ``.grad`` of the leaves that require
    grad; the tape it used is freed unless ``retain_graph=True``."""
    autograd.backward(self, gradient, retain_graph, create_graph)


_METHODS = {
    "sum": F.sum,
    "mean": F.mean,
    "max": F.max,
    "min": F.min,
    "argmax": F.argmax,
    "argmin": F.argmin,
    "exp": F.exp,
    "log": F.log,
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "abs": F.abs,
    "sqrt": F.sqrt,
    "neg": F.neg,
    "square": F.square,
    "pow": F.pow,
    "matmul": F.matmul,
    "mm": F.matmul,
    "clamp": F.clamp,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "reshape": F.reshape,
    "view": _view,
    "transpose": F.transpose,
    "permute": F.permute,
    "unsqueeze": F.unsqueeze,
    "squeeze": F.squeeze,
    "flatten": F.flatten,
    "clone": F.clone,
    "t": _t,
    "to": _to,
    "type": _to,
    "float": _cast_to(dtypes.float32),
    "double": _cast_to(dtypes.float64),
    "half": _cast_to(dtypes.float16),
    "long": _cast_to(dtypes.int64),
    "int": _cast_to(dtypes.int32),
    "bool": _cast_to(dtypes.bool_),
    "backward": _backward,
    "cpu": lambda self: self,
    "view_as": lambda self, other: F.reshape(self, other.shape),
    "reshape_as": lambda self, other: F.reshape(self, other.shape),
    "type_as": lambda self, other: _to(self, other.dtype),
    "expand_as": lambda self, other: call(math.add, self, F.zeros_like(other, self.dtype)),
    "add": lambda self, other: self + other,
    "sub": lambda self, other: self - other,
    "mul": lambda self, other: self * other,
    "div": lambda self, other: self / other,
    "eq": lambda self, other: self == other,
    "ne": lambda self, other: self != other,
    "lt": lambda self, other: self < other,
    "le": lambda self, other: self <= other,
    "gt": lambda self, other: self > other,
    "ge": lambda self, other: self >= other,
}
_IN_PLACE = (zero_, fill_, copy_, add_, sub_, mul_, div_, normal_, uniform_)


def _install(cls) -> None:
    for name, fn in _BINARY.items():
        method, reflected = _binary(fn)
        setattr(cls, f"__{name}__", method)
        setattr(cls, f"__r{name}__", reflected)
    for name, fn in _COMPARISONS.items():
        setattr(cls, f"__{name}__", _comparison(fn))
    cls.__neg__ = lambda self: call(math.negative, self)
    cls.__abs__ = lambda self: call(math.abs, self)
    cls.__invert__ = lambda self: call(math.logical_not, self)
    cls.__pos__ = lambda self: self
    cls.__getitem__ = _getitem
    cls.__setitem__ = _setitem
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)
    for update in _IN_PLACE:
        setattr(cls, update.__name__, _in_place(update))
    cls.T = property(lambda self: call(array.transpose, self))
    cls.__hash__ = Tensor.__hash__  # identity, so tensors stay dict keys despite ==


_install(EagerTensor)
