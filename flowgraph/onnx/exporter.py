"""Export: the inference subgraph of a flowgraph graph as an ONNX model.

:func:`export` walks back from the fetches through data inputs (control dependencies have no
ONNX form and are not followed), stopping at the fed placeholders. Placeholders become graph
inputs (an unknown dimension becomes a named symbolic dimension, ``x_dim0``), variables become
initializers holding their current values in a Session ("frozen"), constants become
initializers, and every other op is translated by the table in
:mod:`flowgraph.onnx.export_ops`. An op with no translation is an :class:`ONNXExportError`
naming the op, its type and the user's line — never a silently different model. The model is
built with ``onnx.helper`` and checked with ``onnx.checker`` (with shape inference).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     model = export(fg.reduce_sum(x * 2.0, axis=1, name="total"), x)
>>> [(n.op_type, list(n.output)) for n in model.graph.node]
[('Mul', ['Mul']), ('ReduceSum', ['total'])]
>>> model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
'x_dim0'
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import onnx
from onnx import helper, numpy_helper

from flowgraph.graph.tensor import Tensor
from flowgraph.onnx.errors import ONNXExportError
from flowgraph.onnx.export_ops import EXPORTERS

DEFAULT_OPSET = 18  # Reduce* take their axes as an input from 18 on, like ReduceSum from 13
MIN_OPSET = 18

_ELEM_TYPES = {
    "float16": onnx.TensorProto.FLOAT16,
    "float32": onnx.TensorProto.FLOAT,
    "float64": onnx.TensorProto.DOUBLE,
    "int8": onnx.TensorProto.INT8,
    "int16": onnx.TensorProto.INT16,
    "int32": onnx.TensorProto.INT32,
    "int64": onnx.TensorProto.INT64,
    "uint8": onnx.TensorProto.UINT8,
    "bool": onnx.TensorProto.BOOL,
}


def elem_type(dtype) -> int:
    """The ONNX element type (``TensorProto.FLOAT``, ...) of a flowgraph dtype."""
    return _ELEM_TYPES[dtype.name]


class ExportContext:
    """What a translation rule sees: the tensor names so far and a way to add nodes and
    constants. Each rule gets ``(ctx, op, inputs, outputs)`` with ONNX names for the op's
    inputs and outputs."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used: set[str] = set()
        self.names: dict[Tensor, str] = {}

    def unique(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``... : a name no tensor has yet."""
        name, i = base, 1
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name

    def node(self, op_type: str, inputs, outputs=None, hint: str = "t", **attrs) -> list[str]:
        """Add an ONNX node; its output names (fresh ones when ``outputs`` is a count)."""
        if outputs is None or isinstance(outputs, int):
            outputs = [self.unique(f"{hint}/{op_type}") for _ in range(outputs or 1)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), **attrs))
        return list(outputs)

    def const(self, value, hint: str = "const", dtype=None, name: str | None = None) -> str:
        """An initializer holding ``value``; its name (``name``, already reserved, or new)."""
        array = np.asarray(value, dtype=dtype)
        name = name or self.unique(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name


def export(
    fetches,
    feeds=None,
    path=None,
    opset: int = DEFAULT_OPSET,
    session=None,
    name: str = "flowgraph",
) -> onnx.ModelProto:
    """The ONNX model computing ``fetches`` (Tensors) from ``feeds`` (placeholder Tensors).

    ``feeds=None`` takes every placeholder the fetches need. Variables get their values in
    ``session`` (default: the default session); a graph without variables needs none.
    ``path`` also saves the model there. ``opset`` is the ONNX opset (18 or later).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 2], name="x")
    ...     w = fg.Variable([[1.0], [2.0]], name="w")
    ...     with fg.Session() as sess:
    ...         sess.run(fg.global_variables_initializer())
    ...         model = export(fg.matmul(x, w, name="y"), [x], session=sess)
    >>> [i.name for i in model.graph.initializer], [o.name for o in model.graph.output]
    (['w'], ['y'])
    """
    fetches = _as_list(fetches, "fetches")
    if not 0 < opset <= onnx.defs.onnx_opset_version() or opset < MIN_OPSET:
        raise ValueError(
            f"opset {opset} is not supported: flowgraph exports opsets {MIN_OPSET} to "
            f"{onnx.defs.onnx_opset_version()} (the installed onnx package's newest)"
        )
    feeds = _needed_placeholders(fetches) if feeds is None else _as_list(feeds, "feeds")
    ops = _data_ops(fetches, feeds)
    ctx = ExportContext(opset)
    graph_inputs = [_graph_input(ctx, t) for t in feeds]
    _freeze_variables(ctx, [op for op in ops if op.type == "VariableV2"], session)
    for op in ops:
        _translate(ctx, op, set(feeds))
    graph_outputs = []
    for t in fetches:
        out = ctx.names[t]
        if out in {i.name for i in graph_inputs} or any(out == o.name for o in graph_outputs):
            out = ctx.node("Identity", [out], hint=_tensor_name(t))[0]  # an output may not alias
        graph_outputs.append(_value_info(out, t, symbolic=False))
    graph = helper.make_graph(ctx.nodes, name, graph_inputs, graph_outputs, ctx.initializers)
    model = helper.make_model(
        graph,
        producer_name="flowgraph",
        opset_imports=[helper.make_opsetid("", opset)],
    )
    model = _with_output_ranks(model)
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save(model, str(path))
    return model


def _with_output_ranks(model: onnx.ModelProto) -> onnx.ModelProto:
    """ONNX requires a shape (a rank) on graph outputs: where flowgraph's static shape has no
    rank, ONNX's shape inference supplies it."""
    if all(o.type.tensor_type.HasField("shape") for o in model.graph.output):
        return model
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {v.name: v for v in [*inferred.graph.value_info, *inferred.graph.output]}
    for out in model.graph.output:
        if not out.type.tensor_type.HasField("shape"):
            v = known.get(out.name)
            if v is None or not v.type.tensor_type.HasField("shape"):
                raise ONNXExportError(f"export: the rank of output {out.name!r} is unknown")
            out.type.tensor_type.shape.CopyFrom(v.type.tensor_type.shape)
    return model


def _as_list(value, what: str) -> list:
    items = list(value) if isinstance(value, list | tuple) else [value]
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"export: {what} must be flowgraph Tensors, got {item!r}")
    return items


def _tensor_name(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def needed_ops(fetches, stop) -> set:
    """The ops the ``fetches`` need through data edges, not looking past tensors in ``stop``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [], name="x")
    ...     y = fg.exp(x, name="y")
    >>> sorted(op.name for op in needed_ops([y], set())), [op.name for op in needed_ops([y], {x})]
    (['x', 'y'], ['y'])
    """
    seen, stack = set(), [t.op for t in fetches if t not in stop]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs if t not in stop)
    return seen


def _needed_placeholders(fetches) -> list:
    ops = needed_ops(fetches, set())
    return sorted((op.outputs[0] for op in ops if op.type == "Placeholder"), key=lambda t: t.op._id)


def _data_ops(fetches, feeds) -> list:
    """The ops the fetches need through data edges, in a dependency order close to creation."""
    fed = set(feeds)
    ops = needed_ops(fetches, fed)
    for op in ops:
        if op.type == "Placeholder" and op.outputs[0] not in fed:
            raise ONNXExportError(
                f"export: the fetches need placeholder {op.name!r} (created at {op.site}), "
                "which is not among the feeds; add it to feeds (it becomes a graph input)"
            )
    deps = nx.DiGraph()
    deps.add_nodes_from(ops)
    deps.add_edges_from((t.op, op) for op in ops for t in op.inputs if t.op in ops)
    return list(nx.lexicographical_topological_sort(deps, key=lambda op: op._id))


def _dims(ctx, t: Tensor, symbolic: bool):
    if t.shape.rank is None:
        return None
    base = _tensor_name(t).replace(":", "_")
    return [
        d if d is not None else (f"{base}_dim{i}" if symbolic else None)
        for i, d in enumerate(t.shape.dims)
    ]


def _value_info(name: str, t: Tensor, symbolic: bool) -> onnx.ValueInfoProto:
    if t.dtype.name not in _ELEM_TYPES:
        raise ONNXExportError(
            f"export: {t.name} has dtype {t.dtype.name}, which ONNX export does not map"
        )
    return helper.make_tensor_value_info(name, elem_type(t.dtype), _dims(None, t, symbolic))


def _graph_input(ctx: ExportContext, t: Tensor) -> onnx.ValueInfoProto:
    if t.shape.rank is None:
        raise ONNXExportError(
            f"export: placeholder {t.op.name!r} (created at {t.op.site}) has an unknown rank, "
            "and ONNX graph inputs need one: give it a shape such as [None, None]"
        )
    name = ctx.unique(_tensor_name(t))
    ctx.names[t] = name
    return _value_info(name, t, symbolic=True)


def _freeze_variables(ctx: ExportContext, variables: list, session) -> None:
    if not variables:
        return
    if session is None:
        from flowgraph.graph.default_stacks import get_default_session

        session = get_default_session()
    if session is None:
        names = ", ".join(repr(op.name) for op in variables[:5])
        raise ONNXExportError(
            f"export: the fetches read variables ({names}); pass session= (a Session holding "
            "their values) so they can be frozen into the model"
        )
    values = session.run([op.outputs[0] for op in variables])
    for op, value in zip(variables, values):
        ctx.names[op.outputs[0]] = ctx.const(value, hint=op.name)


def _translate(ctx: ExportContext, op, fed: set) -> None:
    if op.type == "VariableV2" or all(t in fed for t in op.outputs):
        return
    rule = EXPORTERS.get(op.type)
    if rule is None:
        raise ONNXExportError(
            f"export: {op.describe()} has no ONNX translation; flowgraph exports "
            f"{len(EXPORTERS)} op types (see flowgraph.onnx.export_ops.EXPORTERS)"
        )
    inputs = [ctx.names[t] for t in op.inputs]
    outputs = [ctx.unique(_tensor_name(t)) for t in op.outputs]
    try:
        rule(ctx, op, inputs, outputs)
    except ONNXExportError as e:
        raise ONNXExportError(f"export: {op.describe()}: {e}") from None
    for t, name in zip(op.outputs, outputs):
        ctx.names[t] = name
