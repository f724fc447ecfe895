"""Deferred execution for ``backward()``: compute only the gradients somebody needs.

A gradient rule returns one gradient per input (TensorFlow's contract), so ``x @ w`` computes
``grad @ w.T`` for the input batch ``x`` too, though nothing requires it — in an MLP that is
the largest matmul of the step. PyTorch skips it; so do we, without touching the rules: during
``backward()`` (unless ``create_graph``) ops return :class:`Deferred` tensors that know their
dtype and shape (from the op's shape rule) but run their kernel only when a value is read. The
driver reads only the gradients it accumulates, so the others are never computed.

>>> import flowgraph.dynamic as fd
>>> from flowgraph.ops import math
>>> a = fd.tensor([1.0, 2.0])
>>> with deferring():
...     b = math.exp(a)
>>> type(b).__name__, b.shape, b.is_computed
('Deferred', torch.Size([2]), False)
>>> b.value.round(3), b.is_computed
(array([2.718, 7.389], dtype=float32), True)
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import tape
from flowgraph.dynamic.records import OpInfo
from flowgraph.dynamic.size import Size
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.errors import InternalError, ShapeError
from flowgraph.ops.execution import call_with, executing_with, kernel_error, site_of, user_frame

_value_slot = EagerTensor.__dict__["_value"]  # the storage EagerTensor's ``_value`` names


class Deferred(EagerTensor):
    """An eager tensor whose value is computed on first read (``_thunk`` until then)."""

    __slots__ = ("_thunk",)

    @property
    def _value(self):
        if self._thunk is not None:
            _force(self)
        return _value_slot.__get__(self, Deferred)

    @_value.setter
    def _value(self, value) -> None:
        _value_slot.__set__(self, value)

    @property
    def is_computed(self) -> bool:
        return self._thunk is None


def _force(t: Deferred) -> None:
    """Compute ``t`` and the deferred tensors it needs, inputs first (iteratively: a long chain
    of gradient ops must not recurse)."""
    stack = [t]
    while stack:
        top = stack[-1]
        thunk = top._thunk
        if thunk is None:
            stack.pop()
            continue
        waiting = [i for i in thunk[1] if i.__class__ is Deferred and i._thunk is not None]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        if tape.kernel_profiler is not None:
            tape.kernel_profiler.forced += 1
        out = _run(thunk)
        # (a NumPy reduction gives a scalar; tensors hold arrays: writable, with .shape)
        value = tape.as_array(out) if isinstance(out, np.generic) else out
        if value.shape != top._shape or value.dtype != _numpy_dtype(top.dtype):
            raise InternalError(
                message=f"{thunk[0].type} op {thunk[3]!r}: its shape rule promised "
                f"{top._shape} {top.dtype.name}, its kernel returned {list(value.shape)} "
                f"{value.dtype.name}"
            )
        _value_slot.__set__(top, value)
        top._thunk = None


def _run(thunk):
    """The kernel of a deferred op on its inputs' values: the planned CPU kernel (thunk[4])
    when every input is a NumPy array, else as :func:`tape.run_kernel` runs it (any device)."""
    fn = thunk[4]
    if fn is not None:
        values = [i._value for i in thunk[1]]
        for v in values:
            if v.__class__ is not _ndarray:
                break
        else:
            try:
                return fn(*values)
            except Exception as e:  # noqa: BLE001 - every failure is re-raised, naming the op
                shapes = ", ".join(f"{t.shape} {t.dtype.name}" for t in thunk[1])
                site = site_of(user_frame(2))
                raise kernel_error(e, thunk[0].type, thunk[3], site, shapes) from e
    return tape.run_kernel(*thunk[:4])


_ndarray = np.ndarray
_NUMPY_DTYPES: dict = {}


def _numpy_dtype(dtype):
    """``dtype.as_numpy_dtype``, remembered (a name lookup per gradient op showed in profiles)."""
    found = _NUMPY_DTYPES.get(dtype)
    if found is None:
        found = _NUMPY_DTYPES[dtype] = dtype.as_numpy_dtype
    return found


_OUTPUT: dict = {}  # id(shape rule result) -> (that result, output dtype or None, Size)


def _output(specs) -> tuple:
    """The single output's dtype and :class:`Size` of a shape rule's result (dtype None when
    there are several outputs or the shape is not fully known), remembered for the rule's
    remembered results (keyed by identity, holding the result so its id stays its own)."""
    if len(specs) != 1 or not specs[0][1].is_fully_defined():
        out = (specs, None, None)
    else:
        out = (specs, specs[0][0], Size(specs[0][1].dims))
    if len(_OUTPUT) >= 4096:
        _OUTPUT.clear()
    _OUTPUT[id(specs)] = out
    return out


def execute_deferred(op_def, inputs, attrs, name):
    """Like :func:`tape.execute` (same checks and shape rule), but the kernel waits until the
    value is read. Ops whose output shapes the rule cannot tell, ops with several outputs and
    ops that need a context run at once."""
    if op_def.is_constant or op_def.needs_context or op_def.ref_inputs:
        return tape.execute(op_def, inputs, attrs, name)
    for t in inputs:
        if not isinstance(t, EagerTensor):
            raise tape.mixing_error(op_def.type, name, inputs)
    input_specs = [(t.shape, t.dtype) for t in inputs]
    plan = key = None
    if op_def.specs_only_infer and tape.kernel_profiler is None:
        try:
            key = (op_def.type, *input_specs, *attrs.items(), *map(type, attrs.values()))
            plan = _PLANS.get(key)
        except TypeError:  # an unhashable attribute value: nothing is remembered
            key = None
    if plan is None:
        try:
            specs = tape.output_specs(op_def, inputs, attrs, name, input_specs)
        except ShapeError:
            return tape.execute(op_def, inputs, attrs, name)  # raises it, described
        out = _OUTPUT.get(id(specs))
        if out is None or out[0] is not specs:
            out = _output(specs)
        if out[1] is None:  # several outputs, or a shape the rule cannot tell: run it now
            return tape.execute(op_def, inputs, attrs, name)
        plan = (out[1], out[2], None)
        if key is not None:
            plan = _plan(op_def, attrs, key, plan)
    if tape.kernel_profiler is not None:
        tape.kernel_profiler.deferred += 1
    info = OpInfo(op_def.type, name, attrs, input_specs)
    t = new_tensor(Deferred, None, plan[0], info, 0, False)
    t._shape = plan[1]
    t._thunk = (op_def, tuple(inputs), attrs, name, plan[2])
    return t


_PLANS: dict = {}  # (op type, input (shape, dtype)s, attrs) -> (dtype, Size, CPU kernel)


def _plan(op_def, attrs, key, plan) -> tuple:
    """Remember a deferred op's output dtype and Size with its kernel bound for NumPy, so
    that the next step's same gradient op skips the shape rule, and its forcing the kernel
    lookup (what :func:`tape.execute` remembers for eager ops)."""
    if len(_PLANS) >= 4096:
        _PLANS.clear()
    plan = _PLANS[key] = (plan[0], plan[1], tape.cpu_kernel(op_def, attrs))
    return plan


tape.forget_with_prepared(_PLANS)


def call_deferred(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with op functions running deferred."""
    return call_with(execute_deferred, fn, *args, **kwargs)


def deferring():
    """Op functions run deferred inside the block."""
    return executing_with(execute_deferred)
