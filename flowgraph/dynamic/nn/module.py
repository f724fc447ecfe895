"""``Module``: the base class of layers and models, as in PyTorch.

Assigning a :class:`~flowgraph.dynamic.Parameter` or a ``Module`` to an attribute registers it,
in assignment order; ``parameters()`` walks the registered parameters, then each child's, so the
order is the definition order PyTorch users expect. ``state_dict()`` is a plain ``OrderedDict``
of NumPy copies keyed by dotted names (``"fc1.weight"``), and ``load_state_dict`` checks keys
and shapes before it copies anything.

>>> import flowgraph.dynamic as torch
>>> import flowgraph.dynamic.nn as nn
>>> class Net(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc1 = nn.Linear(4, 3)
...         self.fc2 = nn.Linear(3, 2)
...     def forward(self, x):
...         return self.fc2(torch.relu(self.fc1(x)))
>>> net = Net()
>>> [name for name, _ in net.named_parameters()]
['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
>>> net(torch.zeros(5, 4)).shape
torch.Size([5, 2])
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from flowgraph.dynamic.tensor import Parameter

__all__ = ["Module"]


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for layers and models: subclasses set attributes in ``__init__`` (after
    calling ``super().__init__()``) and define ``forward``; calling the module runs it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing 'forward'")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- registration ---------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__() call"
            )
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter {name!r} "
                    "(flowgraph.dynamic.Parameter or None expected)"
                )
            params[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            self._buffers[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module {name!r} "
                    "(Module or None expected)"
                )
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered parameters and modules live here.
        for store in ("_parameters", "_modules", "_buffers"):
            entries = self.__dict__.get(store)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' as parameter {name!r}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (BatchNorm's running statistics): in
        ``state_dict`` (when ``persistent``) and ``buffers()``, never given to optimizers."""
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator:
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), buf

    def buffers(self, recurse: bool = True) -> Iterator:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def to(self, *args, **kwargs) -> Module:
        """Move parameters, their gradients and buffers to a device ("cpu", or "cuda" where
        CuPy and a GPU are; else the error says what is needed) and/or cast the floating ones
        to a dtype, in place; returns the module."""
        from flowgraph.dynamic import devices
        from flowgraph.dynamic.tensor import EagerTensor

        dtype = kwargs.get("dtype")
        device = None
        for arg in (*args, kwargs.get("device")):
            if arg is None:
                continue
            if isinstance(arg, devices.device) or (
                isinstance(arg, str) and arg.partition(":")[0] in ("cpu", "cuda", "mps")
            ):
                device = devices.check(arg)
            elif isinstance(arg, EagerTensor):
                dtype = arg.dtype
            else:
                dtype = arg
        if device is not None:
            for t in [*self.parameters(), *self.buffers()]:
                t._value = devices.move(t._value, device)  # the same tensor, as in PyTorch
                if t._grad is not None:
                    t._grad._value = devices.move(t._grad._value, device)
        if dtype is not None:
            from flowgraph.graph.dtypes import as_dtype

            numpy_dtype = as_dtype(dtype).as_numpy_dtype
            for t in [*self.parameters(), *self.buffers()]:
                if t.dtype.is_floating:
                    t.value = t.value.astype(numpy_dtype)
        return self

    def cuda(self, device=None) -> Module:
        return self.to("cuda" if device is None else device)

    def cpu(self) -> Module:
        return self.to("cpu")

    def double(self) -> Module:
        return self.to("float64")

    def float(self) -> Module:
        return self.to("float32")

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ---- traversal ------------------------------------------------------------------------

    def named_modules(self, prefix: str = "", memo: set | None = None) -> Iterator:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator:
        """(dotted name, parameter) pairs; a parameter shared by two modules appears once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def apply(self, fn) -> Module:
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients --------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``Dropout`` drops) on this module and all below it."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.value[...] = 0

    # ---- state ----------------------------------------------------------------------------

    def state_dict(self) -> OrderedDict:
        """``OrderedDict`` of dotted parameter and buffer names to tensors holding copies of
        their values (detached: they do not require grad), as PyTorch's ``state_dict``
        prints them (``sd["fc.weight"].size()``); ``torch.save`` writes it."""
        from flowgraph.dynamic.torch_functions import tensor

        return OrderedDict((name, tensor(param.value)) for name, param in self._all_named_params())

    def _all_named_params(self, prefix: str = ""):
        """Every (name, parameter) pair, repeating shared modules and parameters under each
        name, as PyTorch's state_dict does."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        skipped = self.__dict__.get("_non_persistent", ())
        for name, buf in self._buffers.items():
            if buf is not None and name not in skipped:
                yield prefix + name, buf
        for name, child in self._modules.items():
            if child is not None:
                yield from child._all_named_params(f"{prefix}{name}.")

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays (or tensors) into the parameters, in place.

        Raises RuntimeError, before changing anything, when a shape differs or (``strict``)
        a key is missing or unexpected. Returns the missing and unexpected keys.
        """
        own = OrderedDict(self._all_named_params())
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ". ")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + _quoted(missing) + ". ")
        values = {}
        for key, param in own.items():
            if key not in state_dict:
                continue
            value = _as_array(state_dict[key])
            if tuple(value.shape) != tuple(param.value.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(param.value.shape)}."
                )
            values[key] = value
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        from flowgraph.dynamic import devices

        for key, value in values.items():
            param = own[key]
            param.value[...] = devices.move(value, param.device)  # onto the parameter's device
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + _indent(repr(child)) for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _quoted(keys) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _as_array(value) -> np.ndarray:
    """A state_dict entry's values on the host (a GPU tensor's copied there)."""
    from flowgraph.dynamic import devices

    if hasattr(value, "detach"):  # a tensor (maybe a Parameter, which refuses numpy())
        return devices.to_host(value._value)
    return np.asarray(value)
