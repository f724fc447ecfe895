"""The rest of PyTorch's tensor methods: devices (``to``, ``cuda``, ``cpu``, ``device``),
advanced indexing, math and shape methods from :mod:`flowgraph.dynamic.mathfns`, and
``format()`` of a 0-d tensor giving its number.

Advanced indexing (integer arrays, ``range``, boolean masks, mixed with slices) follows NumPy's
rules, which PyTorch shares: the positions selected are computed on an index grid, and the
values are one ``Gather`` of the flattened tensor, so the gradient flows back through
``Gather``'s rule.

>>> import flowgraph.dynamic as torch
>>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> x[[0, 1], [1, 0]], x[x > 2.5]
(tensor([2., 3.], grad_fn=<ReshapeBackward>), tensor([3., 4.], grad_fn=<ReshapeBackward>))
>>> f"{x.sum():.1f}", x.device, x.to("cpu", torch.float64).dtype
('10.0', device(type='cpu'), flowgraph.float64)
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import devices, mathfns
from flowgraph.dynamic import torch_functions as torch_fns
from flowgraph.dynamic.function import Function
from flowgraph.dynamic.tape import call
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.graph.dtypes import DType, as_dtype
from flowgraph.ops import array, math

# ---- indexing ----------------------------------------------------------------------------------

_basic_getitem = EagerTensor.__getitem__


def _is_advanced(k) -> bool:
    if isinstance(k, (list, range, np.ndarray)):
        return True
    return isinstance(k, EagerTensor) and (k.dtype.is_bool or bool(len(k.shape)))


def _getitem(self, key):
    parts = key if isinstance(key, tuple) else (key,)
    if not any(_is_advanced(k) for k in parts):
        return _basic_getitem(self, key)
    if not isinstance(key, tuple) and isinstance(key, EagerTensor) and key.dtype.is_integer:
        return _basic_getitem(self, key)  # rows: one Gather along dimension 0
    numpy_key = tuple(devices.to_host(k._value) if isinstance(k, EagerTensor) else k for k in parts)
    grid = np.arange(self.numel(), dtype=np.int64).reshape(tuple(self.shape))
    try:
        positions = grid[numpy_key if isinstance(key, tuple) else numpy_key[0]]
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(self.shape)})") from None
    flat = call(array.reshape, self, [-1])
    index = torch_fns.tensor(
        positions.reshape(-1)
    )  # (computed on the host: moved to self's device)
    index = index if self.device is devices.CPU else _to(index, self.device)
    picked = call(array.gather, flat, index, 0)
    return call(array.reshape, picked, list(positions.shape))


# ---- devices and types -------------------------------------------------------------------------

_TYPE_NAMES = {
    "float32": "torch.FloatTensor",
    "float64": "torch.DoubleTensor",
    "float16": "torch.HalfTensor",
    "int64": "torch.LongTensor",
    "int32": "torch.IntTensor",
    "int16": "torch.ShortTensor",
    "int8": "torch.CharTensor",
    "uint8": "torch.ByteTensor",
    "bool": "torch.BoolTensor",
}


def _to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, **kwargs):
    """``t.to(dtype)``, ``t.to(device)``, ``t.to(device, dtype)``, ``t.to(other_tensor)``:
    a cast where the dtype differs (recorded: gradients flow); the tensor itself otherwise."""
    for arg in args:
        if isinstance(arg, EagerTensor):  # t.to(other): other's dtype and device
            dtype, device = arg.dtype, arg.device
        elif isinstance(arg, (DType, type)) or (isinstance(arg, str) and _is_dtype_name(arg)):
            dtype = arg
        else:
            device = arg
    out = self
    if device is not None and devices.check(device) != self.device:
        out = ToDevice.apply(self, device)
        copy = False
    if dtype is None or as_dtype(dtype) is out.dtype:
        return torch_fns.clone(out) if copy else out
    return call(math.cast, out, as_dtype(dtype))


class ToDevice(Function):
    """A copy of a tensor on another device; its gradient goes back to the first device
    (``.to(device)``, ``.cuda()`` and ``.cpu()`` are differentiable, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = x.device
        return new_tensor(EagerTensor, devices.move(x._value, device), x.dtype, None, 0, False)

    @staticmethod
    def backward(ctx, grad_output):
        return ToDevice.apply(grad_output, ctx.source), None


def _is_dtype_name(name: str) -> bool:
    try:
        as_dtype(name)
    except (TypeError, ValueError):
        return False
    return True


def _type(self, dtype=None, non_blocking=False):
    """``t.type()`` is PyTorch's type name (``'torch.FloatTensor'``); ``t.type(dtype)`` casts."""
    if dtype is None:
        return _TYPE_NAMES.get(self.dtype.name, f"torch.{self.dtype.name}")
    if callable(dtype) and not isinstance(dtype, (DType, type)):  # t.type(torch.LongTensor)
        dtype = f"torch.{getattr(dtype, '__name__', '')}"
    if isinstance(dtype, str) and dtype in _TYPE_NAMES.values():
        dtype = next(k for k, v in _TYPE_NAMES.items() if v == dtype)
    return _to(self, dtype)


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    return _to(self, "cuda" if device is None else device)


def _cpu(self, memory_format=None):
    return _to(self, "cpu")


def _format(self, spec: str) -> str:
    if not self.shape:  # a 0-d tensor formats as its number, as in PyTorch
        return format(self.item(), spec)
    return format(repr(self), spec)


def _deepcopy(self, memo):
    """``copy.deepcopy`` of a leaf (a Parameter stays a Parameter; its grad is copied too);
    like PyTorch, a computed tensor refuses: detach() it first."""
    if self.grad_fn is not None:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
            "protocol at the moment. If you were attempting to deepcopy a module, this may be "
            "because of a torch.nn.utils.weight_norm usage, see .detach() to copy a computed tensor"
        )
    copied = new_tensor(type(self), self._value.copy(), self.dtype, None, 0, self._requires_grad)
    memo[id(self)] = copied
    if self._grad is not None:
        copied._grad = _deepcopy(self._grad, memo)
    return copied


# ---- shapes --------------------------------------------------------------------------------------


def _sizes(args) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _expand(self, *sizes):
    """``self`` broadcast to ``sizes`` (-1 keeps a dimension): a view in PyTorch, an Add of
    zeros here (its gradient sums over the broadcast dimensions)."""
    sizes = _sizes(sizes)
    lead = len(sizes) - len(self.shape)
    target = [self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)]
    return self + torch_fns.zeros(*target, dtype=self.dtype)


def _repeat(self, *sizes):
    sizes = _sizes(sizes)
    x = self
    if len(sizes) > len(self.shape):
        x = x.reshape(*([1] * (len(sizes) - len(self.shape))), *self.shape)
    return call(array.tile, x, list(sizes))


def _new(self, factory):
    def make(*args, dtype=None, device=None, requires_grad=False, **kwargs):
        out = factory(*args, dtype=dtype or self.dtype)
        out = _to(out, self.device if device is None else device)
        return out.requires_grad_(True) if requires_grad else out

    return make


_METHODS = {
    "__getitem__": _getitem,
    "__format__": _format,
    "__deepcopy__": _deepcopy,
    "to": _to,
    "type": _type,
    "cuda": _cuda,
    "cpu": _cpu,
    "device": property(lambda self: devices.device_of(self._value)),
    "is_cuda": property(lambda self: devices.device_of(self._value).type == "cuda"),
    "expand": _expand,
    "repeat": _repeat,
    "nelement": lambda self: self.numel(),
    "contiguous": lambda self, memory_format=None: self,
    "is_contiguous": lambda self, memory_format=None: True,
    "element_size": lambda self: np.dtype(self.dtype.as_numpy_dtype).itemsize,
    "new_zeros": lambda self, *size, **kw: _new(self, torch_fns.zeros)(*size, **kw),
    "new_ones": lambda self, *size, **kw: _new(self, torch_fns.ones)(*size, **kw),
    "new_full": lambda self, size, value, **kw: _new(self, torch_fns.full)(size, value, **kw),
    "new_tensor": lambda self, data, **kw: _new(self, torch_fns.tensor)(data, **kw),
    "add": lambda self, other, alpha=1: mathfns.add(self, other, alpha),
    "sub": lambda self, other, alpha=1: mathfns.sub(self, other, alpha),
    "div": mathfns.div,
    "unbind": lambda self, dim=0: tuple(
        self[(slice(None),) * (dim % len(self.shape)) + (i,)] for i in range(self.shape[dim])
    ),
    "masked_select": lambda self, mask: _getitem(self, mask),
}
for _name in (
    "sin", "cos", "tan", "erf", "exp2", "expm1", "log2", "log10", "log1p", "sign", "rsqrt",
    "reciprocal", "floor", "ceil", "prod", "var", "std", "norm", "logsumexp", "all", "any",
    "cumsum", "topk", "sort", "argsort", "gather", "scatter", "scatter_add", "index_select",
    "masked_fill", "flip", "split", "chunk", "dot", "outer", "bmm", "isclose", "allclose",
    "mul", "multiply", "true_divide", "subtract", "equal", "round", "trunc",
):  # fmt: skip
    _METHODS.setdefault(_name, getattr(mathfns, _name))

for _name, _method in _METHODS.items():
    setattr(EagerTensor, _name, _method)
