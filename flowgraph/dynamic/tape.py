"""The eager executor and the tape: running registry ops on values, recording what autograd needs.

While dynamic mode is on (``executing_with(execute)`` from the registry), every op function of
the library — ``flowgraph.matmul``, ``flowgraph.nn.relu``, ... — calls :func:`execute` instead
of adding a graph op. ``execute`` runs the op's build-time shape rule (same checks, same
messages), then its kernel, and wraps the results as :class:`EagerTensor`. When grad mode is on
and an input requires grad, it also records a :class:`Node` on the tape.

The tape is not a list: each node is owned by the tensors it produced (``grad_fn``) and holds its
inputs, so a loss tensor owns exactly the nodes it came from, and dropping it frees them. A node
keeps its outputs' values (gradient rules read ``op.outputs``) but only weak references to the
output tensors, so there is no tensor <-> node cycle.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from contextlib import contextmanager

import numpy as np

from flowgraph.dynamic import devices
from flowgraph.dynamic.tensor import (
    EagerTensor,
    OpInfo,
    new_tensor,
)
from flowgraph.errors import ShapeError
from flowgraph.graph.site import CreationSite
from flowgraph.ops.execution import (
    bind,
    call_with,
    executing_with,
    kernel_error,
    shape_failure_message,
    site_of,
    user_frame,
    user_site,
)
from flowgraph.ops.registry import get_op_def

# ---- grad mode ------------------------------------------------------------------------------


class _GradMode(threading.local):
    enabled = True


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops on tensors that require grad are recorded for ``backward()`` (per thread)."""
    return grad_mode.enabled


class grad_mode_set:  # noqa: N801 - used as a function: with grad_mode_set(False): ...
    """Record (True) or not (False) inside the block, restoring the mode after it (a class,
    not a generator: ``backward()`` enters it several times per call)."""

    __slots__ = ("enabled", "saved")

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)

    def __enter__(self) -> None:
        self.saved = grad_mode.enabled
        grad_mode.enabled = self.enabled

    def __exit__(self, *exc) -> None:
        grad_mode.enabled = self.saved


# The context ``needs_context`` kernels get on the CPU (flowgraph/dynamic/devices.py), and
# where tensors live unless moved.
CPU_PLACE = devices.CPU_PLACE
cpu_run_context = CPU_PLACE.context


# ---- the tape ----------------------------------------------------------------------------------

node_ids = itertools.count(1)  #: creation numbers of tape nodes (the backward pass orders by them)
_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """One recorded op: what its gradient rule reads (``type``, ``name``, ``attrs``,
    ``inputs``, ``outputs``), where the user called it (``site``) and its place on the tape
    (``_id``, increasing). ``graph`` is None: gradients of a node are values, not graph ops."""

    __slots__ = (
        "type",
        "name",
        "attrs",
        "_inputs",
        "_values",
        "_dtypes",
        "_refs",
        "_id",
        "_site",
        "__weakref__",
    )
    graph = None
    device = ""
    control_inputs = ()

    def __init__(self, op_type, name, attrs, inputs, values, dtypes, site) -> None:
        self.type = op_type
        self.name = name
        self.attrs = attrs
        self._inputs = inputs
        self._values = values
        self._dtypes = dtypes
        self._refs = None
        self._id = next(node_ids)
        self._site = site

    @property
    def site(self) -> CreationSite:
        """Where the user's code called the op (``model.py:12 in forward``)."""
        return site_of(self._site)

    def describe(self) -> str:
        """``Mul op 'mul' (created at train.py:9 in step)``, as ``Operation.describe()``
        names a graph op in errors."""
        return f"{self.type} op {self.name!r} (created at {self.site})"

    @property
    def inputs(self) -> tuple:
        inputs = self._inputs
        if inputs is None:
            raise RuntimeError(f"{_FREED} (node {self.type} {self.name!r} from {self.site})")
        return inputs

    @property
    def outputs(self) -> tuple:
        """The output tensors: the ones still alive, else stand-ins with the saved values."""
        values = self._values
        if values is None:
            raise RuntimeError(f"{_FREED} (node {self.type} {self.name!r} from {self.site})")
        refs = self._refs
        out = []
        for i, ref in enumerate(refs):
            t = ref()
            if t is None:  # a stand-in, the same one for as long as anything holds it
                dtype = self._dtypes[i]
                t = new_tensor(EagerTensor, values[i], dtype, self, i, dtype.is_floating)
                refs[i] = weakref.ref(t)
            out.append(t)
        return tuple(out)

    @property
    def freed(self) -> bool:
        return self._inputs is None

    def free(self) -> None:
        """Drop the saved inputs and outputs (after ``backward()`` without retain_graph)."""
        self._inputs = self._values = self._refs = None

    def get_attr(self, name: str):
        return self.attrs[name]

    @property
    def next_functions(self) -> tuple:
        """``(node, output index)`` per input, as PyTorch shows them: the node that made the
        input, an :class:`AccumulateGrad` for a leaf that requires grad, else ``(None, 0)``."""
        pairs = []
        for t in self.inputs:
            if not t._requires_grad:
                pairs.append((None, 0))
            elif t.grad_fn is None:
                pairs.append((AccumulateGrad(t), 0))
            else:
                pairs.append((t.grad_fn, t.value_index))
        return tuple(pairs)

    def __repr__(self) -> str:
        return f"<{self.type}Backward {self.name!r} #{self._id} at {self.site}>"


class AccumulateGrad:
    """Where a leaf's gradient ends up (``.variable`` is the leaf), as PyTorch's
    ``next_functions`` show it; it has no inputs of its own."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable) -> None:
        self.variable = variable

    def __eq__(self, other) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


# ---- the executor -----------------------------------------------------------------------------

# Ops that need a graph or a session: their state (variables) or functions (control flow)
# have no meaning when each op runs at once.
_REFUSED = {
    "Placeholder": "placeholders have no value in dynamic mode: pass a tensor instead",
    "VariableV2": "use flowgraph.dynamic.Parameter (or a tensor with requires_grad=True) "
    "instead of Variable",
    "IsVariableInitialized": "dynamic mode has no variables",
    "ReportUninitializedVariables": "dynamic mode has no variables",
    "If": "use Python's if statement in dynamic mode",
    "StatelessIf": "use Python's if statement in dynamic mode",
    "While": "use Python's while statement in dynamic mode",
    "StatelessWhile": "use Python's while statement in dynamic mode",
    "WhileGrad": "use Python's while statement in dynamic mode",
}


def execute(op_def, inputs, attrs, name):
    """Run one op now: shape rule, kernel, wrap the outputs, record a node if needed.

    What depends only on the op, its attrs, its inputs' shapes and dtypes and their device
    (the shape rule's result, the bound kernel, what is recorded) is looked up in
    :data:`_PREPARED` after the first call, so in a training loop an op costs a dict lookup,
    the kernel and the output tensor.
    """
    op_type = op_def.type
    if op_def.is_constant:  # a Python value entering an op: no kernel needed
        value = attrs["value"]
        return new_tensor(EagerTensor, value, op_def.infer(inputs, attrs)[0][0], None, 0, False)
    requires_grad = False
    for t in inputs:
        if not isinstance(t, EagerTensor):
            raise mixing_error(op_type, name, inputs)
        if t._requires_grad:
            requires_grad = True
    values = [t._value for t in inputs]
    place = CPU_PLACE
    for v in values:
        if v.__class__ is not _ndarray:  # a device array (or a NumPy scalar): check them all
            place, values = devices.place_of(op_type, name, inputs, values)
            break
    input_specs = [(v.shape, t.dtype) for v, t in zip(values, inputs)]
    try:
        key = (
            (op_type, place, *input_specs, *attrs.items(), *map(type, attrs.values()))
            if attrs
            else (op_type, place, *input_specs)
        )
        prepared = _PREPARED.get(key)
    except TypeError:  # an unhashable attribute value: nothing is remembered
        key = prepared = None
    if prepared is None:
        prepared = _prepare(op_def, inputs, attrs, name, place, key)
    specs, fn, dtype = prepared.specs, prepared.fn, prepared.dtype
    try:
        out = fn(*values)
    except Exception as e:  # noqa: BLE001 - every failure is re-raised, naming the op
        shapes = ", ".join(f"{t.shape} {t.dtype.name}" for t in inputs)
        raise kernel_error(e, op_type, name, site_of(user_frame(2)), shapes) from e
    if dtype is None:  # no outputs, or several
        if not specs:
            return None
        outs = tuple(v if v.__class__ is place.array_type else place.as_array(v) for v in out)
    else:
        value = out if out.__class__ is place.array_type else place.as_array(out)
    # Record what can carry a gradient: a differentiable op, with a float output, when grad
    # mode is on and an input requires grad.
    if requires_grad and prepared.recorded and grad_mode.enabled:
        frame = user_frame(2)
        if dtype is not None:  # the common case, without the loops
            node = Node(op_type, name, attrs, tuple(inputs), (value,), (dtype,), frame)
            t = new_tensor(EagerTensor, value, dtype, node, 0, dtype.is_floating)
            node._refs = [weakref.ref(t)]
            return t
        dtypes = tuple(spec[0] for spec in specs)
        node = Node(op_type, name, attrs, tuple(inputs), outs, dtypes, frame)
        results = tuple(
            new_tensor(EagerTensor, v, d, node, i, d.is_floating)
            for i, (v, d) in enumerate(zip(outs, dtypes))
        )
        node._refs = [weakref.ref(t) for t in results]
        return results
    info = prepared.info
    if info is None or info.name != name or info.attrs is not attrs:
        info = OpInfo(op_type, name, attrs, input_specs)
        if key is not None:
            prepared.info = info
    if dtype is not None:
        return new_tensor(EagerTensor, value, dtype, info, 0, False)
    return tuple(
        new_tensor(EagerTensor, v, spec[0], info, i, False)
        for i, (v, spec) in enumerate(zip(outs, specs))
    )


class Prepared:
    """What running an op needs that depends only on (op type, input shapes and dtypes,
    attrs, device): the shape rule's result, the bound kernel, the single output's dtype
    (None: several outputs or none), whether it is recorded, and the last OpInfo made."""

    __slots__ = ("specs", "fn", "dtype", "recorded", "info")

    def __init__(self, specs, fn, recorded) -> None:
        self.specs = specs
        self.fn = fn
        self.dtype = specs[0][0] if len(specs) == 1 else None
        self.recorded = recorded
        self.info = None


_PREPARED: dict = {}  # (op type, device, input (shape, dtype)s, attrs) -> Prepared
_PREPARED_LIMIT = 4096


def _prepare(op_def, inputs, attrs, name, place, key) -> Prepared:
    """The shape rule and the bound kernel for this call; remembered under ``key`` for ops
    whose rule reads only shapes, dtypes and attrs (``OpDef.specs_only_infer``): in a
    training loop the same ops meet the same shapes every step. Failures are never
    remembered, so errors read the same each time."""
    if op_def.ref_inputs or op_def.type in _REFUSED:
        reason = _REFUSED.get(op_def.type, "ops that assign to variables need a graph")
        raise TypeError(
            f"{op_def.type} op {name!r} is not supported in flowgraph.dynamic: {reason}"
        )
    specs = output_specs(op_def, inputs, attrs, name, [(t.shape, t.dtype) for t in inputs])
    fn = bind(op_def, place.xp, attrs)
    if op_def.needs_context:
        fn = functools.partial(fn, place.context)
    if kernel_profiler is not None:
        fn = kernel_profiler.wrap(op_def.type, fn)
    recorded = op_def.differentiable and any(spec[0].is_floating for spec in specs)
    prepared = Prepared(specs, fn, recorded)
    if key is not None and op_def.specs_only_infer:
        if len(_PREPARED) >= _PREPARED_LIMIT:
            _PREPARED.clear()  # shapes that vary without end (a growing sequence): start over
        _PREPARED[key] = prepared
    return prepared


def clear_prepared() -> None:
    """Forget every remembered shape-rule result and bound kernel (after a kernel changed)."""
    _PREPARED.clear()
    _SPECS.clear()
    for cache in _OTHER_CACHES:
        cache.clear()


_OTHER_CACHES: list = []  # what other modules remember that clear_prepared() forgets too


def forget_with_prepared(cache: dict) -> None:
    """``clear_prepared()`` clears ``cache`` too (a module's own remembered kernels)."""
    _OTHER_CACHES.append(cache)


def cpu_kernel(op_def, attrs):
    """``op_def``'s kernel bound to NumPy and ``attrs`` (ops without a context only)."""
    return bind(op_def, CPU_PLACE.xp, attrs)


_SPECS: dict = {}  # (op type, input shapes and dtypes, attrs) -> the shape rule's result


def output_specs(op_def, inputs, attrs, name, input_specs):
    """The op's shape rule on ``inputs``, remembered (for ops whose rule reads only shapes,
    dtypes and attrs) without the device: deferred gradient ops know their inputs' shapes
    before their values. Failures are never cached, so errors read the same."""
    key = None
    if op_def.specs_only_infer:
        try:
            key = (op_def.type, *input_specs, *attrs.items(), *map(type, attrs.values()))
            specs = _SPECS.get(key)
        except TypeError:  # an unhashable attribute value: no caching
            key = specs = None
        if specs is not None:
            return specs
    try:
        specs = op_def.infer(inputs, attrs)
    except ShapeError as e:
        site = site_of(user_frame(3))
        message = shape_failure_message(op_def.type, name, inputs, site, str(e))
        raise type(e)(message) from None
    if key is not None:
        if len(_SPECS) >= _PREPARED_LIMIT:
            _SPECS.clear()
        _SPECS[key] = specs
    return specs


_ndarray = np.ndarray
kernel_profiler = None  #: the KernelProfiler profiling_kernels installs (None: off)


@contextmanager
def profiling_kernels(profiler):
    """Every kernel dynamic mode runs inside the block goes through
    ``profiler.wrap(op_type, kernel)`` (which returns the callable to run instead: a timer,
    a counter). The hook is where kernels are bound, so it costs nothing outside the block:
    bound kernels made inside are remembered apart and forgotten at its end. Deferred ops
    (``backward()``'s) add 1 to ``profiler.deferred`` when made and ``profiler.forced`` when
    computed."""
    global _PREPARED, kernel_profiler
    saved = _PREPARED, kernel_profiler
    _PREPARED, kernel_profiler = {}, profiler
    try:
        yield profiler
    finally:
        _PREPARED, kernel_profiler = saved


def run_kernel(op_def, inputs, attrs, name):
    """Run ``op_def``'s kernel on ``inputs`` with their device's ``xp`` (what a deferred
    tensor does when it is read), the bound kernel remembered as :func:`execute` does."""
    place, values = CPU_PLACE, [t._value for t in inputs]
    for v in values:
        if v.__class__ is not _ndarray:
            place, values = devices.place_of(op_def.type, name, inputs, values)
            break
    try:
        key = (op_def.type, place, *[(v.shape, t.dtype) for v, t in zip(values, inputs)],
               *attrs.items(), *map(type, attrs.values()))  # fmt: skip
        prepared = _PREPARED.get(key)
    except TypeError:
        key = prepared = None
    if prepared is None:
        prepared = _prepare(op_def, inputs, attrs, name, place, key)
    try:
        return prepared.fn(*values)
    except Exception as e:  # noqa: BLE001 - every failure is re-raised, naming the op
        shapes = ", ".join(f"{t.shape} {t.dtype.name}" for t in inputs)
        raise kernel_error(e, op_def.type, name, site_of(user_frame(2)), shapes) from e


def as_array(value):
    """``value`` as a CPU array: NumPy reductions return NumPy scalars, while tensors hold
    arrays (writable, with ``.shape``)."""
    return CPU_PLACE.as_array(value)


def direct_op(fn):
    """The OpDef an op function made by ``ops/math.py``'s factories runs (``fn.op_type``)
    when it has no attrs: on eager tensors of one dtype, calling :func:`execute` with it
    directly is exactly what ``fn`` does, minus the conversions, the executor switch and
    ``apply_op`` (half the per-op cost of a tiny op). None for other functions."""
    op_type = getattr(fn, "op_type", None)
    if op_type is None:
        return None
    op_def = get_op_def(op_type)
    return None if op_def.attrs else op_def


def mixing_error(op_type, name, inputs) -> TypeError:
    eager = next((t for t in inputs if isinstance(t, EagerTensor)), None)
    other = next(t for t in inputs if not isinstance(t, EagerTensor))
    what = f"the graph tensor {other.name!r}" if hasattr(other, "graph") else repr(other)
    eager_what = (
        f"the dynamic tensor of shape {eager.shape} ({eager.dtype.name})"
        if eager is not None
        else "dynamic mode"
    )
    return TypeError(
        f"{op_type} op {name!r} at {user_site(3)} mixes {eager_what} with {what}: "
        "flowgraph.dynamic tensors hold values and cannot be combined with static-graph "
        "tensors. Build the whole expression in one mode."
    )


# ---- running op functions eagerly ----------------------------------------------------------------


def call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the library's op functions running eagerly (the fast
    path of :func:`eager`, used by every tensor method)."""
    return call_with(execute, fn, *args, **kwargs)


def eager():
    """Run any flowgraph op function define-by-run inside the block.

    >>> import flowgraph as fg
    >>> import flowgraph.dynamic as fd
    >>> x = fd.tensor([[1.0, -2.0]], requires_grad=True)
    >>> with fd.eager():
    ...     y = fg.reduce_sum(fg.nn.elu(x))
    >>> y.grad_fn.type
    'Sum'
    """
    return executing_with(execute)
