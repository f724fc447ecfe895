"""Optimizers for define-by-run training (``torch.optim``): ``SGD`` and ``Adam`` with
PyTorch's exact update formulas, updating each parameter's array in place.

An optimizer holds ``param_groups`` (dicts with ``"params"`` and the hyperparameters, which
may be changed between steps, e.g. for a learning-rate schedule) and per-parameter ``state``.
``step()`` reads each parameter's ``.grad``; parameters without one are skipped.

>>> import flowgraph.dynamic as torch
>>> w = torch.tensor([1.0, -2.0], requires_grad=True)
>>> opt = SGD([w], lr=0.1)
>>> opt.zero_grad()
>>> (w * w).sum().backward()          # grad = 2 * w
>>> opt.step()
>>> w
tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from flowgraph.dynamic import devices
from flowgraph.dynamic.tape import node_ids as _tape_clock
from flowgraph.dynamic.torch_functions import enable_grad, no_grad
from flowgraph.runtime.fpenv import flushing

__all__ = [
    "SGD", "Adam", "Optimizer", "RMSprop", "Adagrad", "Adadelta", "AdamW", "lr_scheduler",
]  # fmt: skip


class Optimizer:
    """Base class: subclasses implement ``_update(param, grad, state, group)`` on arrays."""

    def __init__(self, params: Iterable, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: dict[int, dict] = {}  # keyed by id(param): tensors compare elementwise
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        params = [params] if hasattr(params, "requires_grad") else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for param in params:
            if not hasattr(param, "requires_grad") or not hasattr(param, "value"):
                raise TypeError(
                    f"optimizer can only optimize tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not param.requires_grad:
                raise ValueError("optimizing a tensor that does not require grad")
            if id(param) in seen:
                raise ValueError("some parameters appear in more than one parameter group")
            seen.add(id(param))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``), or zero them in place (``set_to_none=False``)."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:
                    param.grad.value[...] = 0

    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient; ``closure`` (re-evaluating
        and returning the loss, with gradients) runs first if given. The updates run with
        flush-to-zero on (``flowgraph.runtime.fpenv``): Adam's second moments reach denormal
        values after a few hundred steps, which would slow every later step ~3x."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad(), flushing():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        """Update the group's parameters that have a gradient, one at a time."""
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state.setdefault(id(param), {})
            self._update(param.value, param.grad.value, state, group)
            param._written = next(_tape_clock)  # backward() through older ops refuses

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [...]}`` as PyTorch lays it out: the
        parameters are numbered in group order; arrays are copies (``torch.save`` holds it)."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for param in group["params"]:
                index[id(param)] = len(index)
                ids.append(index[id(param)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[key]: {k: v.copy() if _is_array(v) else v for k, v in value.items()}
            for key, value in self.state.items()
            if key in index
        }  # fmt: skip
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` gave (groups must match in number and sizes)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)
        ):
            raise ValueError(
                "loaded state dict has a different number of parameter groups or parameters "
                "than this optimizer"
            )
        params = {}
        for saved, own in zip(groups, self.param_groups):
            for number, param in zip(saved["params"], own["params"]):
                params[number] = param
            own.update({k: tuple(v) if k == "betas" else v for k, v in saved.items()
                        if k != "params"})  # fmt: skip
        self.state = {}
        for number, value in state_dict["state"].items():
            param = params[int(number)]
            self.state[id(param)] = {
                k: _placed_like(v, param.value) if _is_array(v) else v for k, v in value.items()
            }

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _is_array(value) -> bool:
    """An array on any device (NumPy's, or a GPU's such as CuPy's)."""
    return isinstance(value, np.ndarray) or devices.device_of(value).type != "cpu"


def _placed_like(value, like):
    """A copy of ``value`` with the dtype of ``like`` and on its device."""
    host = np.array(devices.to_host(value), dtype=like.dtype)
    return devices.move(host, devices.device_of(like))


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    PyTorch's formulas, with ``g = grad + weight_decay * p``:
    ``b = g`` on the first step, then ``b = momentum * b + (1 - dampening) * g``;
    ``g = g + momentum * b`` (Nesterov) or ``g = b``; then ``p -= lr * g``.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's formulas, at step ``t`` with ``g = grad + wd * p``:

    ``m = b1 * m + (1 - b1) * g``; ``v = b2 * v + (1 - b2) * g * g``;
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``
    (``amsgrad`` uses the running maximum of ``v`` in the denominator).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(defaults, amsgrad=amsgrad))

    def _step_group(self, group: dict) -> None:
        """All of the group's parameters at once where :mod:`.grouped` applies (moments in
        flat buffers: PyTorch's foreach Adam), else one at a time."""
        params = group["params"]
        if type(self)._update is not Adam._update or not grouped.groupable(params, group):
            return super()._step_group(group)
        states = [self.state.setdefault(id(p), {}) for p in params]
        flats = self.__dict__.setdefault("_flat", {})
        flat = flats.get(id(group))
        if flat is None or not flat.holds(params, states):
            if len({state.get("step", 0) for state in states}) != 1 or any(
                state and state["exp_avg"].shape != p.value.shape
                for p, state in zip(params, states)
            ):  # step counts differ, or a parameter changed shape: per parameter
                return super()._step_group(group)
            flat = flats[id(group)] = grouped.FlatMoments(params, states)
        grouped.adam_step(flat, params, states, group)
        for param in params:
            param._written = next(_tape_clock)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        beta1, beta2 = group["betas"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        state["step"] += 1
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        # PyTorch's arithmetic in place in one reused work array, 12 passes over the values
        # (fresh temporaries of a 784x256 weight cost more than the math). The update
        # p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), with bc = 1 - beta**t, is computed
        # as p -= (lr * sqrt(bc2) / bc1) * m / (sqrt(v) + eps * sqrt(bc2)): the same value
        # with one pass less (TF1's Adam folds the corrections the same way).
        work = self._work(param, 0)
        np.subtract(grad, m, out=work)  # m += (1 - b1) * (g - m): PyTorch's lerp
        work *= 1 - beta1
        m += work
        v *= beta2  # v += (1 - b2) * g * g
        np.multiply(grad, 1 - beta2, out=work)
        work *= grad
        v += work
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        root_bc2 = math.sqrt(1 - beta2**step)
        np.sqrt(v, out=work)
        work += group["eps"] * root_bc2
        np.divide(m, work, out=work)
        work *= group["lr"] * root_bc2 / (1 - beta1**step)
        param -= work

    def _work(self, like: np.ndarray, which: int) -> np.ndarray:
        """A scratch array shaped like ``like``, shared by the parameters of that shape."""
        buffers = self.__dict__.setdefault("_scratch", {})
        key = (type(like), like.shape, like.dtype.str, which)
        buffer = buffers.get(key)
        if buffer is None:
            buffer = buffers[key] = np.empty_like(like)
        return buffer


from flowgraph.dynamic.optim import grouped, lr_scheduler  # noqa: E402
from flowgraph.dynamic.optim.more import Adadelta, Adagrad, AdamW, RMSprop  # noqa: E402
