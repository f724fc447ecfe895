"""Fused training ops: one stateful op updates a variable and its slots in place.

TF1's optimizers build a single ``ApplyAdam`` / ``ApplyMomentum`` / ... op per variable, and
so do flowgraph's. The variable and its slot variables are *ref inputs*: the executor passes no
value for them (it does not read them first); the kernel looks them up in the session's
variable store and updates the stored arrays in place, so a training step allocates no new
variable arrays. Scalar hyperparameters (learning rate, decay rates) are ordinary inputs of the
variable's dtype, so a learning rate may be a schedule tensor. The ops have no outputs: their
effect is the update.

Each optimizer module defines its own op with :func:`define_training_op`, next to the
optimizer that uses it, so one file tells the whole story of one optimizer.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from flowgraph.errors import ShapeError
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, get_op_def
from flowgraph.ops.state import stored_value


def variable_tensor(var) -> Tensor:
    """The VariableV2 tensor behind a Variable (or that tensor itself); TypeError otherwise."""
    ref = var._as_graph_tensor() if hasattr(var, "_as_graph_tensor") else var
    if not isinstance(ref, Tensor) or not get_op_def(ref.op.type).is_variable:
        raise TypeError(f"Expected a Variable, got {var!r}")
    return ref


stored = stored_value  # the fused updates read their variable and slots as VariableV2 does


def _same_as_var(var: Tensor, t: Tensor, what: str) -> None:
    if t.dtype is not var.dtype:
        raise ShapeError(f"{what} has dtype {t.dtype.name}, but the variable is {var.dtype.name}")
    if not var.shape.is_compatible_with(t.shape):
        raise ShapeError(f"{what} has shape {t.shape}, but the variable has shape {var.shape}")


def define_training_op(
    op_type: str,
    kernel: Callable,
    slots: Sequence[str] = (),
    scalars: Sequence[str] = (),
    attrs: dict | None = None,
):
    """Register a fused update op with inputs ``[var, *slots, *scalars, grad]``.

    The kernel is called as ``kernel(ctx, *scalar_values, grad, *, var_name, slot_names,
    **attrs)`` — no values for the variable and slots, whose store names it gets instead.
    """
    n_refs = 1 + len(slots)

    def infer(inputs, op_attrs):
        """No outputs. The slots and the gradient must match the variable's dtype and shape;
        the hyperparameters must be scalars of the variable's dtype."""
        var, grad = inputs[0], inputs[-1]
        for t, what in zip(inputs[1:n_refs], slots):
            _same_as_var(var, t, f"slot {what!r}")
        _same_as_var(var, grad, "the gradient")
        for t, what in zip(inputs[n_refs:-1], scalars):
            if t.dtype is not var.dtype:
                raise ShapeError(
                    f"{what} has dtype {t.dtype.name}, but the variable is {var.dtype.name}"
                )
            if t.shape.rank not in (None, 0):
                raise ShapeError(f"{what} must be a scalar, got shape {t.shape}")
        return []

    @functools.wraps(kernel)  # its signature stays the kernel's, for readers and inspect
    def update(ctx, *args, var_name, slot_names, use_locking=False, **kw):
        # use_locking (TF1's): the variable's and its slots' locks are held for the whole
        # update, so locked updates of a variable never interleave. Without it (the default),
        # concurrent runs update the same arrays in place at once: element by element, any
        # mix of their updates may result.
        if not use_locking:
            return kernel(ctx, *args, var_name=var_name, slot_names=slot_names, **kw)
        with ctx.locked((var_name, *slot_names)):
            return kernel(ctx, *args, var_name=var_name, slot_names=slot_names, **kw)

    return define_op(
        op_type,
        infer,
        kernel=update,
        attrs={"var_name": REQUIRED, "slot_names": (), "use_locking": False, **(attrs or {})},
        stateful=True,
        differentiable=False,
        needs_context=True,
        ref_inputs=tuple(range(n_refs)),
        reads_inputs_only=True,  # the gradient and scalars are read, never kept
    )


class _Locking(threading.local):
    value = False


_locking = _Locking()


@contextmanager
def locking(use_locking: bool):
    """Training ops built inside get ``use_locking``: how ``Optimizer.apply_gradients`` hands
    its ``use_locking`` to every optimizer's update ops."""
    saved, _locking.value = _locking.value, bool(use_locking)
    try:
        yield
    finally:
        _locking.value = saved


def apply_training_op(op_type: str, var, slots, scalars, grad, name=None, **attrs):
    """Build one ``op_type`` update of ``var`` (and its ``slots``) from ``grad``; returns the op."""
    var_ref = variable_tensor(var)
    slot_refs = [variable_tensor(s) for s in slots]
    grad = convert_to_tensor(grad)
    attrs = {
        "var_name": var_ref.op.attrs["var_name"],
        "slot_names": tuple(s.op.attrs["var_name"] for s in slot_refs),
        "use_locking": _locking.value,
        **attrs,
    }
    inputs = [var_ref, *slot_refs, *scalars, grad]
    return apply_op(op_type, inputs, attrs, name=name or op_type)
