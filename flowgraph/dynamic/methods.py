"""Methods and Python operators of eager tensors, with PyTorch's names and semantics.

Installed on :class:`EagerTensor` as ``ops/operators.py`` installs graph-tensor operators: each
is a function of ``flowgraph/dynamic/torch_functions.py`` or an op function run eagerly. Differences
from graph tensors: ``==`` and ``!=`` compare elementwise (tensors still hash by identity), ``/``
of two integer tensors gives float32, ``x[idx]`` with an int tensor or list gathers rows.

>>> import flowgraph.dynamic as fd
>>> x = fd.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> x.max(dim=1).indices, (x == 5.0).sum().item(), x.T.shape
(tensor([1, 0]), 1, torch.Size([2, 2]))
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import autograd, inplace
from flowgraph.dynamic import torch_functions as torch_fns
from flowgraph.dynamic.promotion import promote
from flowgraph.dynamic.tape import call, direct_op, execute, grad_mode
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math
from flowgraph.ops.operators import BINARY_OPERATORS, COMPARISON_OPERATORS, UNARY_OPERATORS

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
    """``other`` as a tensor for ``self <op> other``: Python numbers become 0-d tensors of
    self's dtype when it holds them (fast path), a float with an integer tensor a float32 one
    (PyTorch's promotion); anything else goes through the library's conversion."""
    kind = type(other)
    if kind is float:
        return _scalar(other, self.dtype if self.dtype.is_floating else torch_fns.default_float())
    if kind is int and (self.dtype.is_floating or self.dtype in (dtypes.int64, dtypes.int32)):
        if self.dtype.is_floating or -(2**31) <= other < 2**31:
            return _scalar(other, self.dtype)
    if kind is int and self.dtype.is_bool:
        return _scalar(other, dtypes.int64)
    return other


def _binary(fn):
    op_def = direct_op(fn)

    def method(self, other):
        other = _operand(self, other)
        if isinstance(other, EagerTensor):
            if other.dtype is not self.dtype:
                return call(fn, *promote(self, other))
            if op_def is not None:  # what fn would do, without the layers around it
                return execute(op_def, [self, other], {}, op_def.type)
        return call(fn, self, other)

    def reflected(self, other):
        other = _operand(self, other)
        if isinstance(other, EagerTensor) and other.dtype is not self.dtype:
            return call(fn, *promote(other, self))
        return call(fn, other, self)

    return method, reflected


def _int_division(x, y):
    x, y = math.binary_operands("RealDiv", x, y)
    if x.dtype.is_integer and y.dtype.is_integer:  # PyTorch: int / int -> float32
        x, y = math.cast(x, torch_fns.default_float()), math.cast(y, torch_fns.default_float())
    return math.divide(x, y)


def _logical_xor(x, y):
    return math.not_equal(x, y)


# Python's operators as flowgraph's (ops/operators.py), where PyTorch means the same.
_BINARY = {
    **BINARY_OPERATORS,
    "truediv": _int_division,
    "matmul": torch_fns.matmul_op,
    "xor": _logical_xor,
}
_COMPARISONS = {**COMPARISON_OPERATORS, "eq": math.equal, "ne": math.not_equal}
_COMPARABLE = (EagerTensor, int, float, bool, np.ndarray, np.generic, list, tuple)


def _comparison(fn):
    def method(self, other):
        if not isinstance(other, _COMPARABLE) and not isinstance(other, Tensor):
            return NotImplemented  # x == None is False, as in PyTorch
        other = _operand(self, other)
        if isinstance(other, EagerTensor) and other.dtype is not self.dtype:
            return call(fn, *promote(self, other))
        return call(fn, self, other)

    return method


# ---- indexing and in-place updates --------------------------------------------------------------


def _getitem(self, key):
    if isinstance(key, list) or (isinstance(key, np.ndarray) and key.dtype.kind in "iu"):
        key = torch_fns.tensor(key, dtype=dtypes.int64)
    if isinstance(key, EagerTensor) and key.dtype.is_integer and key.shape:
        return call(array.gather, self, key, 0)  # x[idx]: rows idx (PyTorch's index_select)
    return call(array.getitem, self, key)


def _index_key(key):
    """A key with its eager tensors replaced by their arrays (masks, index tensors)."""
    if isinstance(key, tuple):
        return tuple(k._value if isinstance(k, EagerTensor) else k for k in key)
    return key._value if isinstance(key, EagerTensor) else key


def _setitem(self, key, value) -> None:
    """``x[key] = value``: written into the array, or recorded (a gather that picks each
    element from the old tensor or from ``value``) when gradients must flow."""
    key = _index_key(key)
    recording = grad_mode.enabled and (
        self._requires_grad or (isinstance(value, EagerTensor) and value._requires_grad)
    )
    if not recording:
        value = value._value if isinstance(value, EagerTensor) else value
        kind = value.dtype.kind if hasattr(value, "dtype") else np.asarray(value).dtype.kind
        if value.__class__ is not float and kind == "f":
            if not self.dtype.is_floating:
                raise RuntimeError(
                    f"index assignment: can't store a floating value in a {self.dtype.name} "
                    f"tensor of shape {self.shape}; cast it first"
                )
        stamp = inplace.guard(self, "index assignment")
        self._value[key] = value
        self._written = stamp
        return
    positions = np.arange(self.shape.num_elements()).reshape(tuple(self.shape))[key]

    def assigned(old):
        v = value if isinstance(value, EagerTensor) else torch_fns.tensor(value, dtype=old.dtype)
        v = v if v.dtype is old.dtype else v.to(old.dtype)
        v = call(math.add, v, torch_fns.zeros(*positions.shape, dtype=old.dtype))  # broadcast
        pool = torch_fns.cat([old.reshape(-1), v.reshape(-1)])
        select = np.arange(positions.size + old.numel()).astype(np.int64)[: old.numel()]
        select[positions.reshape(-1)] = old.numel() + np.arange(positions.size)
        return call(array.gather, pool, torch_fns.tensor(select), 0).reshape(tuple(old.shape))

    inplace.apply(self, assigned, "index assignment")


def _in_place(name, compute):
    def method(self, *args, **kwargs):
        def update(old):  # `y.mul_(y)`: the operand is the old y too, not the updated one
            return compute(old, *(old if a is self else a for a in args), **kwargs)

        return inplace.apply(self, update, name)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: changes this tensor and returns it."
    return method


def _add(x, other, alpha=1):
    return x + (other if alpha == 1 else other * alpha)


def _sub(x, other, alpha=1):
    return x - (other if alpha == 1 else other * alpha)


def _random_fill(draw):
    def compute(x, *args, **kwargs):
        return inplace.fill_value(x, draw(torch_fns.cpu_run_context.rng, x, *args, **kwargs))

    return compute


_IN_PLACE = {
    "add_": _add,
    "sub_": _sub,
    "mul_": lambda x, other: x * other,
    "div_": lambda x, other: x / other,
    "pow_": lambda x, exponent: x**exponent,
    "clamp_": lambda x, min=None, max=None: torch_fns.clamp(x, min, max),  # noqa: A006
    "neg_": lambda x: -x,
    "abs_": lambda x: abs(x),
    "exp_": lambda x: torch_fns.exp(x),
    "log_": lambda x: torch_fns.log(x),
    "sqrt_": lambda x: torch_fns.sqrt(x),
    "relu_": lambda x: torch_fns.relu(x),
    "sigmoid_": lambda x: torch_fns.sigmoid(x),
    "tanh_": lambda x: torch_fns.tanh(x),
    "zero_": lambda x: inplace.fill_value(x, 0),
    "fill_": inplace.fill_value,
    "copy_": inplace.copy_value,
    "masked_fill_": lambda x, mask, value: torch_fns.where(mask, inplace.fill_value(x, value), x),
    "normal_": _random_fill(lambda rng, x, mean=0.0, std=1.0: rng.normal(mean, std, x.shape)),
    "uniform_": _random_fill(lambda rng, x, a=0.0, b=1.0: rng.uniform(a, b, x.shape)),
}
_AUGMENTED = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "truediv": lambda x, y: x / y,
    "floordiv": lambda x, y: x // y,
    "mod": lambda x, y: x % y,
    "pow": lambda x, y: x**y,
    "and": lambda x, y: x & y,
    "or": lambda x, y: x | y,
    "xor": lambda x, y: x ^ y,
}


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
    return torch_fns.reshape(self, *shape)


def _t(self):
    if len(self.shape) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.dim()}D")
    return self if len(self.shape) < 2 else call(array.transpose, self)


def _backward(self, gradient=None, retain_graph=None, create_graph=False):
    """Accumulate the gradient of this tensor into the ``.grad`` of the leaves that require
    grad; the tape it used is freed unless ``retain_graph=True``."""
    autograd.backward(self, gradient, retain_graph, create_graph)


_METHODS = {
    "sum": torch_fns.sum,
    "mean": torch_fns.mean,
    "max": torch_fns.max,
    "min": torch_fns.min,
    "argmax": torch_fns.argmax,
    "argmin": torch_fns.argmin,
    "exp": torch_fns.exp,
    "log": torch_fns.log,
    "relu": torch_fns.relu,
    "sigmoid": torch_fns.sigmoid,
    "tanh": torch_fns.tanh,
    "abs": torch_fns.abs,
    "sqrt": torch_fns.sqrt,
    "neg": torch_fns.neg,
    "square": torch_fns.square,
    "pow": torch_fns.pow,
    "matmul": torch_fns.matmul,
    "mm": torch_fns.matmul,
    "clamp": torch_fns.clamp,
    "softmax": torch_fns.softmax,
    "log_softmax": torch_fns.log_softmax,
    "reshape": torch_fns.reshape,
    "view": _view,
    "transpose": torch_fns.transpose,
    "permute": torch_fns.permute,
    "unsqueeze": torch_fns.unsqueeze,
    "squeeze": torch_fns.squeeze,
    "flatten": torch_fns.flatten,
    "clone": torch_fns.clone,
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
    "view_as": lambda self, other: torch_fns.reshape(self, other.shape),
    "reshape_as": lambda self, other: torch_fns.reshape(self, other.shape),
    "type_as": lambda self, other: _to(self, other.dtype),
    "expand_as": lambda self, other: call(math.add, self, torch_fns.zeros_like(other, self.dtype)),
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


def _install(cls) -> None:
    for name, fn in _BINARY.items():
        method, reflected = _binary(fn)
        setattr(cls, f"__{name}__", method)
        setattr(cls, f"__r{name}__", reflected)
    for name, fn in _COMPARISONS.items():
        setattr(cls, f"__{name}__", _comparison(fn))
    for name, fn in UNARY_OPERATORS.items():
        setattr(cls, f"__{name}__", lambda self, fn=fn: call(fn, self))
    cls.__pos__ = lambda self: self
    cls.__getitem__ = _getitem
    cls.__setitem__ = _setitem
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)
    for name, compute in _IN_PLACE.items():
        setattr(cls, name, _in_place(name, compute))
    for name, compute in _AUGMENTED.items():
        setattr(cls, f"__i{name}__", _in_place(f"__i{name}__", compute))
    cls.T = property(lambda self: call(array.transpose, self))
    cls.__hash__ = Tensor.__hash__  # identity, so tensors stay dict keys despite ==


_install(EagerTensor)
