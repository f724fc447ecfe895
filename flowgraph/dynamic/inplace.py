"""In-place operations with PyTorch's semantics, and the version stamps that keep them honest.

``x += y``, ``x.add_(y)``, ``x.clamp_(0, 1)``, ``x[mask] = 0``, ... change ``x`` itself:

* with nothing to record (grad mode off, or no operand requires grad) the result is computed by
  the op library's out-of-place op and written into ``x``'s array, so every view and every
  holder of ``x`` sees it (the tutorial idiom ``with no_grad(): p -= lr * p.grad``);
* a leaf that requires grad refuses, with grad mode on, as in PyTorch;
* otherwise (a computed tensor, or a plain tensor given a value that requires grad) the op is
  recorded and ``x`` takes over its result and history: what ``x`` was before lives on as a
  stand-in tensor that the new tape node reads (PyTorch "rebases" the history the same way).

Every in-place change stamps the tensor with the tape clock (``_written``), one integer store.
A tape node recorded before the stamp that reads the tensor (as an input, or as an output
still alive) may read a changed value, so ``backward()`` raises PyTorch's "modified by an
inplace operation" error instead of computing a wrong gradient (see :func:`check_versions`).

>>> import flowgraph.dynamic as torch
>>> w = torch.tensor([1.0, 2.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> with torch.no_grad():
...     w -= 0.5 * w.grad
>>> w
tensor([0., 0.], requires_grad=True)
"""

from __future__ import annotations

import weakref

import numpy as np

from flowgraph.dynamic import tape
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.graph import dtypes
from flowgraph.ops import math

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


def _category(dtype) -> int:
    return _CATEGORY[np.dtype(dtype.as_numpy_dtype).kind]


def apply(self: EagerTensor, compute, what: str) -> EagerTensor:
    """Make ``self`` hold ``compute(self)`` (an eager tensor of a broadcastable shape), in
    place; ``what`` names the operation in errors. Returns ``self``."""
    recording = tape.grad_mode.enabled
    stamp = guard(self, what)
    if recording and self._requires_grad:
        _rebase(self, compute, what)
    else:
        result = compute(self)
        if recording and result._requires_grad:
            _rebase(self, lambda old: result, what)
        else:
            _write(self, result, what)
    self._written = stamp
    return self


def guard(self: EagerTensor, what: str) -> int:
    """Refuse an in-place change of a leaf that requires grad (with grad mode on); else the
    stamp for the change: taken before any node the update records, which reads the new
    value."""
    if tape.grad_mode.enabled and self._requires_grad and self._op.__class__ is not tape.Node:
        raise RuntimeError(f"{LEAF_ERROR} ({what} on a tensor of shape {self.shape})")
    return next(tape.node_ids)


def _checked(self: EagerTensor, result: EagerTensor, what: str) -> EagerTensor:
    """``result`` cast to ``self``'s dtype and shape, refusing what PyTorch refuses."""
    if result.shape != self.shape:
        try:
            broadcast = np.broadcast_shapes(tuple(result.shape), tuple(self.shape))
        except ValueError:
            broadcast = None
        if broadcast != tuple(self.shape):
            raise RuntimeError(
                f"{what}: output with shape {list(self.shape)} doesn't match the broadcast "
                f"shape {list(result.shape)}"
            )
    if result.dtype is not self.dtype:
        if _category(result.dtype) > _category(self.dtype):
            raise RuntimeError(
                f"{what}: result type {result.dtype.name} can't be cast to the desired output "
                f"type {self.dtype.name} (the tensor being updated in place)"
            )
        result = tape.call(math.cast, result, self.dtype)
    return result


def _write(self: EagerTensor, result: EagerTensor, what: str) -> None:
    value = _checked(self, result, what)._value
    target = self._value
    if not getattr(target, "flags", None) or target.flags.writeable:
        target[...] = value
    else:  # a read-only array (a shared constant): the tensor gets its own copy
        self._value = np.array(np.broadcast_to(value, target.shape), dtype=target.dtype)


def _rebase(self: EagerTensor, compute, what: str) -> None:
    """Record the update: ``self`` becomes the op's result, its old self a stand-in."""
    node = self._op
    old = new_tensor(
        EagerTensor, self._value, self.dtype, node, self.value_index, self._requires_grad
    )
    if node.__class__ is tape.Node and node._refs is not None:
        node._refs[self.value_index] = weakref.ref(old)
    result = _checked(self, compute(old), what)
    if result.shape != self.shape:
        result = tape.call(math.add, result, tape.call(math.multiply, old, 0.0))
    new_node = result._op
    self._value = result._value
    self._op = new_node
    self.value_index = result.value_index
    self._requires_grad = result._requires_grad
    if new_node.__class__ is tape.Node:
        new_node._refs[result.value_index] = weakref.ref(self)


def check_versions(node) -> None:
    """Raise PyTorch's error when a tensor ``node`` reads was changed in place after ``node``
    was recorded (its stamp is later than the node's id)."""
    recorded = node._id
    for index, t in enumerate(node.inputs):
        if t._written > recorded:
            raise RuntimeError(_modified_message(t, f"input {index}", node))
    for index, ref in enumerate(node._refs or ()):
        t = ref()
        if t is not None and t._written > recorded:
            raise RuntimeError(_modified_message(t, f"output {index}", node))


def _modified_message(t: EagerTensor, which: str, node) -> str:
    return (
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.dtype.name} {list(t.shape)}], which is {which} of "
        f"{node.type}Backward (recorded at {node.site}), was changed in place after that op "
        "used it. Hint: compute the in-place update out of place (y = y + 1 rather than "
        "y += 1), or clone() the tensor before changing it."
    )


def fill_value(self: EagerTensor, value):
    """The tensor that ``fill_(value)`` gives: ``value`` everywhere (a tensor or a number);
    the old value contributes a zero gradient."""
    if isinstance(value, EagerTensor):
        return tape.call(math.add, tape.call(math.multiply, self, 0), value)
    value = np.asarray(value)
    if _category(self.dtype) < _CATEGORY[value.dtype.kind] and self.dtype.is_integer:
        value = value.astype(self.dtype.as_numpy_dtype)  # fill_ truncates, as PyTorch does
    constant = new_tensor(
        EagerTensor, value.astype(self.dtype.as_numpy_dtype), self.dtype, None, 0, False
    )
    if self._requires_grad and tape.grad_mode.enabled:
        return tape.call(math.add, tape.call(math.multiply, self, 0), constant)
    return constant


def copy_value(self: EagerTensor, src):
    """The tensor that ``copy_(src)`` gives: ``src`` cast to ``self``'s dtype (any cast)."""
    if not isinstance(src, EagerTensor):
        src = new_tensor(EagerTensor, np.asarray(src), None, None, 0, False)
        src.dtype = dtypes.as_dtype(src._value.dtype)
    if src.dtype is not self.dtype:
        src = tape.call(math.cast, src, self.dtype)
    if src._requires_grad and tape.grad_mode.enabled and src.shape != self.shape:
        return tape.call(math.add, src, tape.call(math.multiply, self, 0))
    return src
