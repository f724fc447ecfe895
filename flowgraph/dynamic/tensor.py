"""Eager tensors: a value (a backend array) plus what autograd needs to know about it.

:class:`EagerTensor` subclasses the graph layer's :class:`~flowgraph.graph.tensor.Tensor`, so the
op library (``convert_to_tensor``, ``binary_operands``, the shape rules, the gradient rules)
takes it as it takes a graph tensor. Its ``shape`` is a :class:`Size`: a tuple for PyTorch users
(``x.shape[0]``, ``x.shape == (2, 3)``) with the :class:`~flowgraph.graph.shape.TensorShape`
methods the shape rules call (``rank``, ``dims``, ``merge_with``, ...).

Methods and Python operators are installed by ``flowgraph/dynamic/methods.py`` (as
``ops/operators.py`` does for graph tensors); the executor that runs ops on eager tensors and
records the tape lives in ``flowgraph/dynamic/tape.py``.
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic.devices import device_of
from flowgraph.dynamic.records import EAGER_GRAPH, OpInfo
from flowgraph.dynamic.size import Size
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor

_object_new = object.__new__


class EagerTensor(Tensor):
    """A tensor with a value, computed now (define-by-run), with PyTorch-style autograd.

    ``value`` is the backend array (optimizers may write into it under ``no_grad``);
    ``requires_grad`` marks tensors whose gradient ``backward()`` computes; ``grad`` holds the
    accumulated gradient of a leaf; ``grad_fn`` is the tape node that made a non-leaf tensor.

    >>> import flowgraph.dynamic as fd
    >>> x = fd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_value", "_op", "_requires_grad", "_grad", "_retains_grad", "_written")

    def __init__(self, value=(), *sizes, requires_grad: bool = False, dtype=None) -> None:
        if sizes or (isinstance(value, int) and not isinstance(value, bool)):
            value = np.zeros((value, *sizes)).tolist()  # torch.Tensor(2, 3): zeros of that size
        if dtype is None and not isinstance(value, (EagerTensor, np.ndarray, np.generic)):
            dtype = KIND_DEFAULTS["f"]  # torch.Tensor([1, 2]) is a float tensor, as in PyTorch
        array = as_array(value._value if isinstance(value, EagerTensor) else value, dtype)
        init(self, array, as_dtype(array.dtype), None, 0)
        if requires_grad:
            self.requires_grad_(True)

    # ---- what autograd sees --------------------------------------------------------------
    @property
    def value(self):
        """The backend array. Writing into it (``t.value[...] = 0``) changes the tensor."""
        return self._value

    @value.setter
    def value(self, array) -> None:
        self._value = array
        self._shape = None
        self.dtype = as_dtype(array.dtype)

    @property
    def shape(self) -> Size:
        shape = self._shape
        if shape is None:
            shape = self._shape = Size(self._value.shape)
        return shape

    def get_shape(self) -> Size:
        return self.shape

    def set_shape(self, shape) -> None:
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Shapes {self.shape} and {TensorShape(shape)} are not compatible")

    @property
    def op(self):
        """The tape node that made this tensor, or a record of its unrecorded op (a leaf's is a
        Const). Library code reads ``op.type`` and ``op.attrs``; use ``grad_fn`` for autograd."""
        op = self._op
        if op is None:
            return OpInfo("Const", "Const", {"value": self._value}, ())
        return op

    @property
    def graph(self):
        return EAGER_GRAPH

    @property
    def device(self) -> str:
        return ""

    @property
    def grad_fn(self):
        """The tape node that computed this tensor; None for leaves."""
        op = self._op
        return op if op is not None and op.__class__ is not OpInfo else None

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> EagerTensor:
        """Start (or stop) recording operations on this leaf tensor; returns the tensor."""
        requires_grad = bool(requires_grad)
        if not self.is_leaf:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and not self.dtype.is_floating:
            raise RuntimeError(
                "Only Tensors of floating point dtype can require gradients "
                f"(this one is {self.dtype.name})"
            )
        self._requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (an EagerTensor), or None."""
        if self._grad is None and not self.is_leaf and not self._retains_grad:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during backward(). If you indeed want "
                "the gradient for a non-leaf Tensor, use .retain_grad() on it first.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, EagerTensor):
                raise TypeError(f"assigned grad must be a Tensor or None, got {type(value)}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has shape {value.shape}, but the tensor has shape {self.shape}"
                )
        self._grad = value

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor in ``backward()`` (leaves always have it)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if not self.is_leaf:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # ---- values ------------------------------------------------------------------------
    def detach(self) -> EagerTensor:
        """A new leaf tensor sharing this one's value, outside the tape."""
        return new_tensor(EagerTensor, self._value, self.dtype, None, 0, False)

    @property
    def data(self) -> EagerTensor:
        """A detached tensor sharing the value; assigning ``t.data = other`` swaps the value."""
        return self.detach()

    @data.setter
    def data(self, other) -> None:
        self.value = other._value if isinstance(other, EagerTensor) else np.asarray(other)

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a view where possible); refused while it requires grad,
        as in PyTorch: use ``t.detach().numpy()``."""
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._host_value()

    def _host_value(self) -> np.ndarray:
        value = self._value
        if value.__class__ is not np.ndarray and device_of(value).type != "cpu":  # (PyTorch's)
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        return value if isinstance(value, np.ndarray) else np.asarray(value)

    def item(self):
        """The single element as a Python number."""
        if self.shape.num_elements() != 1:
            raise ValueError(
                f"only one element tensors can be converted to Python scalars (shape {self.shape})"
            )
        return _to_host(self._value).item()

    def tolist(self):
        return _to_host(self._value).tolist()

    def size(self, dim: int | None = None):
        """The shape (a :class:`Size`), or the size of dimension ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return len(self.shape)

    ndim = property(dim)

    def numel(self) -> int:
        return self.shape.num_elements()

    @property
    def name(self) -> str:
        """``'Mul:0 (dynamic)'``: the op's name (not unique; eager ops have no graph)."""
        op = self._op
        return f"{op.name}:{self.value_index} (dynamic)" if op is not None else "tensor (dynamic)"

    # ---- Python protocol ----------------------------------------------------------------
    __hash__ = Tensor.__hash__

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.shape.num_elements() != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {self.shape})"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if not self.dtype.is_integer:
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype.name}")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if spec and self.shape.num_elements() == 1:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __array__(self, dtype=None, copy=None):
        array = self._host_value()
        return array if dtype is None else array.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return _repr(self, "tensor")


class Parameter(EagerTensor):
    """A leaf tensor that requires grad by default: what ``nn.Module`` registers as weights.

    Made from an EagerTensor it shares that tensor's value; from an array or list it holds a
    writable array of it (floats keep their dtype; Python floats become float32).

    >>> import flowgraph.dynamic as fd
    >>> w = fd.Parameter(fd.zeros(2, 3))
    >>> w.requires_grad, w.is_leaf, w.shape
    (True, True, torch.Size([2, 3]))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.zeros((0,), np.float32)
        if isinstance(data, EagerTensor):
            array = data._value
        else:
            array = np.asarray(data)
            if array.dtype.kind in "iub" or array.dtype == np.float64 and not _has_dtype(data):
                array = array.astype(np.float32)
            if not array.flags.writeable:
                array = array.copy()
        init(self, array, as_dtype(array.dtype), None, 0)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + _repr(self, "tensor")


# PyTorch's defaults for Python values: floats float32, ints int64.
KIND_DEFAULTS = {"f": "float32", "i": "int64", "u": "int64", "b": "bool"}  #: default dtype by kind


def as_array(data, dtype=None, copy: bool = False) -> np.ndarray:
    """``data`` as a NumPy array: of ``dtype`` if given; NumPy values keep theirs; Python
    floats become float32 and ints int64 (PyTorch's defaults)."""
    if dtype is not None:
        return np.array(data, dtype=as_dtype(dtype).name, copy=copy or None)
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, copy=copy or None)
        as_dtype(array.dtype)  # refuses the dtypes flowgraph lacks
        return array
    array = np.asarray(data)
    default = KIND_DEFAULTS.get(array.dtype.kind)
    if default is None:
        raise TypeError(f"Cannot make a tensor of {data!r}: unsupported element type")
    return array.astype(default, copy=False)


def _has_dtype(data) -> bool:
    return isinstance(data, (np.ndarray, np.generic))


def init(t: EagerTensor, value, dtype, op, index: int, requires_grad: bool = False) -> None:
    t._value = value
    t.dtype = dtype
    t._shape = None
    t._op = op
    t.value_index = index
    t._requires_grad = requires_grad
    t._grad = None
    t._retains_grad = False
    t._written = 0  # the tape clock at its last in-place change (flowgraph/dynamic/inplace.py)


def new_tensor(cls, value, dtype, op, index: int, requires_grad: bool) -> EagerTensor:
    """An eager tensor around ``value`` without going through ``__init__`` (the executor's
    fast path: one per op output). :func:`init`'s lines are repeated here on purpose: calling
    it costs ~0.1 us per op, 5% of the 1,000-op chain's per-op time."""
    t = _object_new(cls)
    t._value = value
    t.dtype = dtype
    t._shape = None
    t._op = op
    t.value_index = index
    t._requires_grad = requires_grad
    t._grad = None
    t._retains_grad = False
    t._written = 0  # the tape clock at its last in-place change (flowgraph/dynamic/inplace.py)
    return t


def _to_host(value) -> np.ndarray:
    return value if isinstance(value, np.ndarray) else np.asarray(value.get())


_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _repr(t: EagerTensor, prefix: str) -> str:
    array = _to_host(t._value)
    options = {}
    if array.dtype.kind == "f" and array.size:
        finite = array[np.isfinite(array)]
        if finite.size and not np.all(finite == np.round(finite)):
            options = {"precision": 4, "floatmode": "fixed"}  # PyTorch's tensor([0.2500, 1.0000])
    body = np.array2string(array, separator=", ", prefix=prefix + "(", **options)
    extras = []
    on = device_of(t._value)
    if on.type != "cpu":
        extras.append(f"device='{on}'")  # as PyTorch prints a GPU tensor
    if t.dtype.name not in _DEFAULT_DTYPES or array.size == 0:
        extras.append(f"dtype=flowgraph.{t.dtype.name}")
    node = t.grad_fn
    if node is not None:
        extras.append(f"grad_fn=<{node.type}Backward>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return f"{prefix}({', '.join([body, *extras])})"
