"""``torch.autograd.Function``: a differentiable operation with a Python forward and backward.

``forward(ctx, *args)`` runs without recording; ``backward(ctx, *grad_outputs)`` returns one
gradient per forward argument (None for non-tensors). ``apply`` records one tape node whose
gradient rule calls ``backward`` — the node borrows the Identity op's definition and names its
rule with the ``_gradient_op_type`` attribute, as ``gradient_override_map`` does in graph mode,
so the shared autodiff driver runs it like any other rule.

>>> import flowgraph.dynamic as torch
>>> class Cube(torch.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad_output):
...         (x,) = ctx.saved_tensors
...         return grad_output * 3 * x ** 2
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad
tensor([ 3., 12.])
"""

from __future__ import annotations

import weakref

from flowgraph.dynamic import tape
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.ops.execution import user_frame
from flowgraph.ops.registry import gradient

__all__ = ["Function", "FunctionCtx", "Variable"]

_RULE = "PythonAutogradFunction"


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``save_for_backward(*tensors)`` /
    ``saved_tensors``, ``needs_input_grad``, and any attribute set on it."""

    def __init__(self, args) -> None:
        self.saved_tensors: tuple = ()
        self.needs_input_grad = tuple(isinstance(a, EagerTensor) and a._requires_grad for a in args)

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for ``backward`` (read back as ``saved_tensors``)."""
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Note outputs that have no gradient (recorded only)."""
        self.non_differentiable = tensors


class Function:
    """Base class: define static ``forward(ctx, ...)`` and ``backward(ctx, ...)``; call
    ``YourFunction.apply(...)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """The gradients of the inputs, given those of the outputs (define it)."""
        raise NotImplementedError("a Function subclass must define backward(ctx, ...)")

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` and record one node whose gradient calls ``backward``."""
        ctx = FunctionCtx(args)
        with tape.grad_mode_set(False):
            out = cls.forward(ctx, *args)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        inputs = tuple(a for a in args if isinstance(a, EagerTensor))
        if not (tape.grad_mode.enabled and any(ctx.needs_input_grad)):
            return out
        for o in outs:
            if not isinstance(o, EagerTensor):
                raise TypeError(f"{cls.__name__}.forward must return tensors, got {type(o)}")
        positions = [i for i, a in enumerate(args) if isinstance(a, EagerTensor)]
        attrs = {
            "_gradient_op_type": _RULE,
            "function": cls,
            "ctx": ctx,
            "positions": positions,
            "arguments": len(args),
        }
        values = tuple(o._value for o in outs)
        dtypes = tuple(o.dtype for o in outs)
        node = tape.Node("Identity", cls.__name__, attrs, inputs, values, dtypes, user_frame())
        results = tuple(
            new_tensor(EagerTensor, v, d, node, i, d.is_floating)
            for i, (v, d) in enumerate(zip(values, dtypes))
        )
        node._refs = [weakref.ref(t) for t in results]
        return results[0] if single else results


@gradient(_RULE)
def _function_gradient(op, *grads):
    """Call the user's ``backward`` eagerly; keep the gradients of the tensor arguments."""
    attrs = op.attrs
    with tape.grad_mode_set(False):
        out = tape.call(attrs["function"].backward, attrs["ctx"], *grads)
    out = out if isinstance(out, tuple) else (out,)
    expected = attrs["arguments"]
    if len(out) < expected or any(g is not None for g in out[expected:]):
        raise RuntimeError(  # PyTorch's check and wording
            f"function {op.name}Backward returned an incorrect number of gradients "
            f"(expected {expected}, got {len(out)})"
        )
    return [out[i] for i in attrs["positions"]]


def Variable(tensor, requires_grad: bool = False):  # noqa: N802 - the old PyTorch name
    """Old PyTorch's ``Variable(x)``: the tensor itself (requiring grad if asked)."""
    return tensor.requires_grad_(True) if requires_grad else tensor
