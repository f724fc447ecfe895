"""The op registry: one entry per op type holding everything about that op.

An :class:`OpDef` gathers an op's attribute schema, its build-time shape/dtype rule, its kernel
(written against an array namespace ``xp``), its flags, and — through :func:`gradient` — its
gradient rule. Op files (``ops/math.py``, ``ops/array.py``, ...) define each op once with
:func:`define_op` and expose a public function built on :func:`apply_op`.

>>> from flowgraph.ops.registry import get_op_def
>>> d = get_op_def("MatMul")
>>> d.type, d.stateful, sorted(d.attrs)
('MatMul', False, ['transpose_a', 'transpose_b'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flowgraph.errors import ShapeError
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.func_graph import FuncGraph
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import execution
from flowgraph.ops.execution import (  # noqa: F401 - the executor switch, re-exported
    executing_eagerly,
    executing_with,
    shape_failure_message,
    user_site,
)

REQUIRED = object()  # marks an attribute without a default


@dataclass
class OpDef:
    """Everything about one op type.

    infer(inputs, attrs) -> [(dtype, shape), ...]: the build-time rule; raises ShapeError.
    kernel(xp, *input_values, **attrs) -> value or tuple: the computation; with
    ``needs_context`` it is kernel(ctx, *input_values, **attrs) and gets the run's context
    (variables, random generator, backend) instead of ``xp``.
    xp_name: a shortcut for kernels that are exactly ``xp.<xp_name>(*inputs)``; generated code
    then calls the namespace's function directly, with no wrapper in between.
    """

    type: str
    infer: Callable
    kernel: Callable | None = None
    xp_name: str | None = None
    attrs: dict = field(default_factory=dict)
    stateful: bool = False
    differentiable: bool = True
    needs_context: bool = False
    # Inputs that name a variable rather than read it (Assign's target): the executor passes
    # nothing for them and pruning does not follow them, so assigning never reads first.
    ref_inputs: tuple[int, ...] = ()
    # A variable read: generated code reads it where each consumer runs (not once, up front),
    # so a consumer ordered after an assignment sees the new value, as TF1's ref reads do.
    read_at_use: bool = False
    # Facts for the memory planner. fresh_output: the kernel always returns a new array, never
    # an input or a view of one (ops with xp_name are fresh by construction). shape_only_inputs:
    # inputs read only for their shape, so a later such use does not keep a buffer's values.
    fresh_output: bool = False
    shape_only_inputs: tuple[int, ...] = ()
    # The kernel is elementwise over inputs of one shape (it raises when they differ, so its
    # result has the shape and dtype of each input) and takes an ``out=`` array to write it
    # into, as a ufunc does: the memory planner may then compute it in place into any input
    # (only on backends whose ufuncs take ``out``; elsewhere ``out`` is never passed).
    takes_out: bool = False
    # The shape rule reads only its inputs' shapes and dtypes and the attrs (never an input's
    # value, as Reshape's does): dynamic mode may then reuse its result for the same
    # (input shapes, dtypes, attrs) instead of running it for every eager op.
    specs_only_infer: bool = False
    # What the op is, for the passes and tools that treat a few ops specially: they ask these
    # flags (``get_op_def(op.type).is_variable``), never compare op type strings.
    is_constant: bool = False  # Const: its value is an attr, known when the graph is built
    is_placeholder: bool = False  # a graph input its run feeds (or, with a default, may feed)
    must_be_fed: bool = False  # a placeholder without a default: a run without it is an error
    is_variable: bool = False  # a variable's storage: reads and assignments name it
    overwrites_variable: bool = False  # Assign: replaces the value of the variable it names
    is_no_op: bool = False  # computes nothing: only its control inputs matter
    stops_gradient: bool = False  # stop_gradient: gradients never pass it
    # Cross-run buffer reuse (compiler/buffers.py). out_shape(*input_values, **attrs): the
    # result's shape from the inputs, for a kernel taking ``out=`` of any such array (None at
    # run time: not this time); the plan then keeps one buffer per such value that never
    # leaves a run. reads_inputs_only: a stateful kernel that reads its ordinary (non-ref)
    # inputs during the call and keeps no reference to them (the optimizers' fused updates),
    # so handing it a value does not let that value escape the run.
    out_shape: Callable | None = None
    reads_inputs_only: bool = False

    def bind(self, xp, attrs: dict) -> Callable:
        """The callable the executor invokes with the op's input values (attrs fixed); see
        :func:`flowgraph.ops.execution.bind`."""
        return execution.bind(self, xp, attrs)


_OP_DEFS: dict[str, OpDef] = {}
_GRADIENTS: dict[str, Callable | None] = {}


def define_op(op_type: str, infer: Callable, **kwargs) -> OpDef:
    """Register a new op type; a second definition of the same type is an error."""
    if op_type in _OP_DEFS:
        raise KeyError(f"Op type {op_type!r} is already defined")
    if (kwargs.get("kernel") is None) == (kwargs.get("xp_name") is None):
        raise ValueError(f"Op {op_type!r} needs exactly one of kernel= or xp_name=")
    op_def = OpDef(op_type, infer, **kwargs)
    _OP_DEFS[op_type] = op_def
    return op_def


def get_op_def(op_type: str) -> OpDef:
    try:
        return _OP_DEFS[op_type]
    except KeyError:
        raise KeyError(f"No op type {op_type!r} is registered") from None


def registered_op_types() -> list[str]:
    return sorted(_OP_DEFS)


def gradient(op_type: str):
    """Decorator registering the gradient rule of ``op_type`` (TF's ``RegisterGradient``).

    The rule is ``fn(op, *output_grads) -> [grad per input]``, built from ops, with ``None``
    for inputs that get no gradient.
    """

    def register(fn):
        if op_type in _GRADIENTS:
            raise KeyError(f"A gradient for {op_type!r} is already registered")
        _GRADIENTS[op_type] = fn
        return fn

    return register


RegisterGradient = gradient  # TF1's spelling: @RegisterGradient("MySquare")


def no_gradient(op_type: str) -> None:
    """Declare that ops of ``op_type`` pass no gradient (TF's ``NotDifferentiable``)."""
    _GRADIENTS[op_type] = None


def get_gradient(op_type: str):
    """The gradient rule registered under ``op_type``; KeyError when none is."""
    return _GRADIENTS[op_type]


def registered_gradients() -> dict[str, Callable | None]:
    """Every registered gradient rule by op type (None: declared not differentiable); a copy.

    >>> import flowgraph  # registers the op library
    >>> registered_gradients()["Tanh"] is get_gradient("Tanh")
    True
    """
    return dict(_GRADIENTS)


_mode = execution.mode  # (dynamic mode sets ``_mode.eager_executor``)


def apply_op(
    op_type: str,
    inputs: list[Tensor],
    attrs: dict | None = None,
    name: str | None = None,
    *,
    attrs_at_creation: Callable | None = None,
):
    """Create an op of ``op_type`` in the inputs' graph (or the default graph).

    Fills attribute defaults, runs the shape/dtype rule — a ShapeError there is re-raised naming
    the op, its inputs' shapes and dtypes, and the user's line — and returns the op's single
    output Tensor, a tuple of outputs, or the Operation itself when it has none.
    ``attrs_at_creation``: see :meth:`flowgraph.graph.Graph.create_op` (graph mode only).
    """
    op_def = _OP_DEFS.get(op_type) or get_op_def(op_type)  # (the latter raises)
    attrs = _complete_attrs(op_def, attrs or {})
    if _mode.eager_executor is not None:  # define-by-run: compute now instead of building
        return _mode.eager_executor(op_def, inputs, attrs, name or op_type)
    graph = get_default_graph()
    if inputs and not isinstance(graph, FuncGraph):
        # TF1 builds an op in its inputs' graph; while tracing a function (cond, while_loop)
        # it goes into the function's graph, which captures outer inputs.
        graph = inputs[0].graph
        for t in inputs:  # (a loop: cheaper than any() on this path, run for every op)
            if t.graph is not graph:
                raise ValueError(_mixed_graphs_message(op_type, name, inputs, user_site(2)))
    site = user_site(2)
    name = name or op_type
    try:
        specs = op_def.infer(inputs, attrs)
    except ShapeError as e:
        full_name = graph.unique_name(name, mark_as_used=False)
        message = shape_failure_message(op_type, full_name, inputs, site, str(e))
        raise type(e)(message) from None
    op = graph.create_op(
        op_type, inputs, attrs, specs, name, site, op_def.ref_inputs, attrs_at_creation
    )
    if not op.outputs:
        return op
    return op.outputs[0] if len(op.outputs) == 1 else op.outputs


def _complete_attrs(op_def: OpDef, attrs: dict) -> dict:
    if not attrs and not op_def.attrs:
        return {}  # most ops: nothing to check or fill (the eager path runs this per op)
    if attrs.keys() == op_def.attrs.keys():  # every attr given, none unknown: the usual call
        return dict(attrs)
    unknown = [k for k in attrs if k not in op_def.attrs and not k.startswith("_")]
    if unknown:
        raise TypeError(f"{op_def.type} got unexpected attribute(s) {unknown}")
    out = {}
    for key, default in op_def.attrs.items():
        value = attrs.get(key, default)
        if value is REQUIRED:
            raise TypeError(f"{op_def.type} requires the attribute {key!r}")
        out[key] = value
    out.update((k, v) for k, v in attrs.items() if k.startswith("_"))
    return out


def _mixed_graphs_message(op_type, name, inputs, site) -> str:
    """Which inputs belong to which graph, and what to do (TF1 only says "must be from the
    same graph", and blames whichever tensor it met second)."""
    default = get_default_graph()
    lines = []
    for i, t in enumerate(inputs):
        where = "the default graph" if t.graph is default else f"another graph ({t.graph!r})"
        origin = ""
        op_site = getattr(t.op, "site", "an unknown place")  # eager tensors have no site
        if t.op.type == "Const":
            made_here = op_site == site
            origin = " (a constant made here from a Python value)" if made_here else " (a constant)"
        lines.append(f"  input {i}: {t.name!r}{origin}, created at {op_site}, is in {where}")
    return (
        f"{op_type} op {name or op_type!r} built at {site} mixes tensors of different graphs:\n"
        + "\n".join(lines)
        + "\nAll inputs of an op must come from one graph. Build every tensor of a model inside "
        "the same `with graph.as_default():` block (a Python number becomes a constant in "
        "the default graph), and don't keep tensors across flowgraph.reset_default_graph()."
    )
