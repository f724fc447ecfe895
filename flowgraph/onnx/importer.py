"""Import: an ONNX model as a flowgraph Graph.

:func:`import_model` checks the whole model before building anything, with the same standard
as flowgraph's graph-file import: every problem is an :class:`ONNXImportError` naming the node
or tensor at fault, and nothing big is allocated for a hostile file —

- the file's size and every tensor's declared size are checked (``max_bytes``) against the
  bytes actually stored before any array is made;
- external-data paths must be relative and stay inside the model's folder (no ``..``, no
  absolute paths, no symlinks out), and the ranges they name must exist in the file;
- every node input must be produced earlier (a graph input, an initializer or a node
  output), and the nodes must form no cycle (they are put in dependency order, so a model
  whose nodes are listed out of order still imports);
- every op must be in the import table (:data:`flowgraph.onnx.import_ops.IMPORTERS`).

Graph inputs that are not initializers become placeholders (an ONNX symbolic or unknown
dimension becomes ``None``). Initializers become constants by default, so the imported graph
runs at once; ``initializers="variables"`` makes them trainable variables instead (run
``model.initializer`` first) for fine-tuning with flowgraph's optimizers; integer initializers
(shapes, indices) stay constants.

>>> import numpy as np, onnx
>>> from onnx import helper, TensorProto
>>> node = helper.make_node("Relu", ["x"], ["y"])
>>> graph = helper.make_graph([node], "g",
...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])])
>>> m = import_model(helper.make_model(graph))
>>> m.inputs[0].shape, m.run(np.array([[-1.0, 2.0]], np.float32))
(TensorShape([None, 2]), [array([[0., 2.]], dtype=float32)])
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import onnx
from onnx import helper, numpy_helper

import flowgraph as fg
from flowgraph.graph.tensor import Tensor
from flowgraph.onnx.errors import ONNXImportError
from flowgraph.onnx.import_ops import IMPORTERS, ImportContext, StaticInputNeeded, numpy_dtype

MAX_BYTES = 1 << 30  # the model file and its tensors' data, each; raise it to allow bigger
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-/]")


@dataclass
class ImportedModel:
    """An imported ONNX model: its ``graph``, the placeholders for its ``inputs`` and the
    tensors of its ``outputs`` (both in the model's order, keyed by ONNX name in
    ``by_name``), and ``initializer`` (an op to run first when initializers are variables)."""

    graph: fg.Graph
    inputs: list[Tensor]
    outputs: list[Tensor]
    by_name: dict[str, Tensor] = field(default_factory=dict)
    initializer: object = None

    def run(self, *arrays, session=None) -> list:
        """The outputs' values for the inputs' ``arrays`` (in a new Session by default)."""
        if len(arrays) != len(self.inputs):
            raise ValueError(f"the model takes {len(self.inputs)} inputs, got {len(arrays)}")
        feed = dict(zip(self.inputs, arrays))
        if session is None:
            with fg.Session(graph=self.graph) as sess:
                if self.initializer is not None:
                    sess.run(self.initializer)
                return sess.run(self.outputs, feed)
        return session.run(self.outputs, feed)


def import_model(
    model_or_path, initializers: str = "constants", max_bytes: int = MAX_BYTES, bind=None
):
    """A flowgraph graph computing ONNX model ``model_or_path`` (a ModelProto or a file).

    Returns an :class:`ImportedModel`. ``initializers`` is ``"constants"`` (default) or
    ``"variables"``. ``bind`` maps graph-input names to values fixed at import (constants, not
    placeholders): flowgraph needs shapes, axes and slice bounds when it builds the graph,
    so a model that feeds them as inputs imports once per value (``StaticInputNeeded`` names
    the input). Raises :class:`ONNXImportError` for anything it cannot build faithfully.
    """
    if initializers not in ("constants", "variables"):
        raise ValueError(f"initializers must be 'constants' or 'variables', not {initializers!r}")
    model, folder = _load(model_or_path, max_bytes)
    opset = _opset(model)
    g = model.graph
    values = {}  # name -> numpy value of every initializer (and Constant node, later)
    for t in g.initializer:
        values[t.name] = _tensor_value(t, folder, max_bytes, f"initializer {t.name!r}")
    _check_attribute_tensors(g, folder, max_bytes)
    nodes = _ordered_nodes(g, values)
    bound = _bound_values(g, bind or {})
    graph = fg.Graph()
    with graph.as_default():
        free = [vi for vi in g.input if vi.name not in values and vi.name not in bound]
        ctx = ImportContext(opset, values, [vi.name for vi in free])
        inputs = [_placeholder(ctx, vi) for vi in free]
        for name, value in bound.items():
            ctx.tensors[name] = fg.constant(value, name=_safe(name))
            values[name] = value
        init_op = _initializers(ctx, values, initializers)
        for node in nodes:
            _build_node(ctx, node)
        outputs = [ctx.tensor(o.name, f"graph output {o.name!r}") for o in g.output]
    by_name = {vi.name: t for vi, t in zip(free, inputs)}
    by_name.update((o.name, t) for o, t in zip(g.output, outputs))
    return ImportedModel(graph, inputs, outputs, by_name, init_op)


def _bound_values(g, bind: dict) -> dict:
    names = {vi.name for vi in g.input}
    unknown = sorted(set(bind) - names)
    if unknown:
        raise ONNXImportError(f"bind names {unknown}, which are not graph inputs")
    return {k: np.asarray(v) for k, v in bind.items()}


# ---- reading and checking the file ----------------------------------------------------------


def _load(model_or_path, max_bytes):
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path, None
    path = os.fspath(model_or_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no ONNX model file at {path!r}")
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ONNXImportError(
            f"{path!r} is {size} bytes, over the limit of {max_bytes} (pass max_bytes= to allow)"
        )
    try:  # external data is read by _tensor_value, after its path has been checked
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and friends
        raise ONNXImportError(f"{path!r} is not a readable ONNX model: {e}") from e
    return model, os.path.dirname(os.path.abspath(path))


def _opset(model) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    raise ONNXImportError("the model imports no version of the default ONNX opset")


def _declared_bytes(t: onnx.TensorProto, what: str) -> int:
    if any(d < 0 for d in t.dims):
        raise ONNXImportError(f"{what} declares a negative dimension: {list(t.dims)}")
    count = int(np.prod([int(d) for d in t.dims], dtype=object)) if t.dims else 1
    return count * numpy_dtype(t.data_type, what).itemsize


def _tensor_value(t: onnx.TensorProto, folder, max_bytes: int, what: str) -> np.ndarray:
    """The array in TensorProto ``t``, after checking its declared size against what is stored
    (so a tiny file cannot declare a huge shape) and its external data's path."""
    nbytes = _declared_bytes(t, what)
    if nbytes > max_bytes:
        raise ONNXImportError(
            f"{what} declares shape {list(t.dims)} ({nbytes} bytes), over the limit of "
            f"{max_bytes} bytes"
        )
    if t.data_location == onnx.TensorProto.EXTERNAL:
        return _external_value(t, folder, nbytes, what)
    stored = _stored_count(t)
    itemsize = numpy_dtype(t.data_type, what).itemsize
    expected = nbytes if t.HasField("raw_data") else nbytes // itemsize
    if stored != expected:
        raise ONNXImportError(
            f"{what} declares shape {list(t.dims)} but stores {stored} "
            f"{'bytes' if t.HasField('raw_data') else 'values'} (expected {expected})"
        )
    return numpy_helper.to_array(t)


def _stored_count(t: onnx.TensorProto) -> int:
    if t.HasField("raw_data"):
        return len(t.raw_data)
    for f in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
        n = len(getattr(t, f))
        if n:
            return n
    return 0


def _external_value(t, folder, nbytes: int, what: str) -> np.ndarray:
    info = {e.key: e.value for e in t.external_data}
    location = info.get("location", "")
    if folder is None:
        raise ONNXImportError(
            f"{what} keeps its data in a file ({location!r}); import the model "
            "from its path so the file can be found next to it"
        )
    if not location or os.path.isabs(location) or ".." in re.split(r"[\\/]", location):
        raise ONNXImportError(
            f"{what}: external data path {location!r} must be a relative path inside the "
            f"model's folder {folder!r}"
        )
    path = os.path.realpath(os.path.join(folder, location))
    if os.path.commonpath([path, os.path.realpath(folder)]) != os.path.realpath(folder):
        raise ONNXImportError(f"{what}: external data {location!r} leads outside {folder!r}")
    if not os.path.isfile(path):
        raise ONNXImportError(f"{what}: external data file {location!r} not found in {folder!r}")
    offset, length = int(info.get("offset", 0)), int(info.get("length", nbytes))
    if length != nbytes or offset < 0 or offset + length > os.path.getsize(path):
        raise ONNXImportError(
            f"{what}: external data {location!r} (offset {offset}, length {length}) does not "
            f"hold the {nbytes} bytes its shape {list(t.dims)} declares"
        )
    with open(path, "rb") as f:
        f.seek(offset)
        raw = f.read(length)
    dtype = numpy_dtype(t.data_type, what)
    return np.frombuffer(raw, dtype=dtype).reshape([int(d) for d in t.dims]).copy()


def _check_attribute_tensors(g, folder, max_bytes) -> None:
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                what = f"node {node.name or node.output[0]!r} ({node.op_type}) attribute {a.name!r}"
                _tensor_value(a.t, folder, max_bytes, what)
            elif a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise ONNXImportError(
                    f"node {node.name or node.output[0]!r} ({node.op_type}) has a subgraph "
                    f"attribute {a.name!r}; flowgraph does not import control flow from ONNX"
                )


def _node_label(node) -> str:
    return f"node {node.name or (node.output[0] if node.output else '?')!r} (op {node.op_type})"


def _ordered_nodes(g, values) -> list:
    """The nodes in dependency order; missing inputs and cycles are errors."""
    producer = {}
    for i, node in enumerate(g.node):
        for out in node.output:
            if out and (out in producer or out in values):
                raise ONNXImportError(
                    f"{_node_label(node)} writes {out!r}, which is already defined"
                )
            producer[out] = i
    known = set(values) | {vi.name for vi in g.input}
    deps = nx.DiGraph()
    deps.add_nodes_from(range(len(g.node)))
    for i, node in enumerate(g.node):
        for name in node.input:
            if not name or name in known and name not in producer:
                continue
            if name not in producer:
                raise ONNXImportError(
                    f"{_node_label(node)} reads {name!r}, which no graph input, initializer or "
                    "node produces"
                )
            deps.add_edge(producer[name], i)
    try:
        order = list(nx.lexicographical_topological_sort(deps))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(deps)
        names = " -> ".join(_node_label(g.node[a]) for a, _ in cycle)
        raise ONNXImportError(f"the model's nodes form a cycle: {names}") from None
    for o in g.output:
        if o.name not in producer and o.name not in known:
            raise ONNXImportError(f"graph output {o.name!r} is produced by no node or input")
    return [g.node[i] for i in order]


# ---- building -------------------------------------------------------------------------------


def _placeholder(ctx: ImportContext, vi) -> Tensor:
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        raise ONNXImportError(
            f"graph input {vi.name!r} is not a tensor (sequences/maps unsupported)"
        )
    dtype = fg.as_dtype(numpy_dtype(tt.elem_type, f"graph input {vi.name!r}"))
    shape = None
    if tt.HasField("shape"):
        shape = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
    t = fg.placeholder(dtype, shape, name=_safe(vi.name))
    ctx.tensors[vi.name] = t
    return t


def _initializers(ctx: ImportContext, values: dict, kind: str):
    variables = []
    for name, value in values.items():
        if kind == "constants" or value.dtype.kind not in "f":
            ctx.tensors[name] = fg.constant(value, name=_safe(name))
        else:
            v = fg.Variable(value, name=_safe(name))
            variables.append(v)
            ctx.tensors[name] = v
    return fg.variables_initializer(variables) if variables else None


def _safe(name: str) -> str:
    return _SAFE_NAME.sub("_", name).strip("/") or "t"


def _build_node(ctx: ImportContext, node) -> None:
    rule = IMPORTERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
    if rule is None:
        raise ONNXImportError(
            f"{_node_label(node)}{' in domain ' + repr(node.domain) if node.domain else ''}: "
            f"flowgraph has no mapping for this op ({len(IMPORTERS)} ONNX ops import; see "
            "python -m flowgraph.onnx.coverage)"
        )
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    inputs = [ctx.tensor(n, _node_label(node)) if n else None for n in node.input]
    scope = _safe(node.name or node.op_type)
    try:
        with fg.name_scope(scope):
            outs = rule(ctx, node, inputs, attrs)
    except StaticInputNeeded as e:
        raise StaticInputNeeded(f"{_node_label(node)}: {e}", e.name) from None
    except ONNXImportError as e:
        raise ONNXImportError(f"{_node_label(node)}: {e}") from None
    except (ValueError, TypeError) as e:  # a flowgraph shape rule refusing the inputs
        raise ONNXImportError(f"{_node_label(node)}: {e}") from e
    outs = list(outs) if isinstance(outs, list | tuple) else [outs]
    if node.op_type != "Constant" and _all_constant(inputs):
        outs = _folded(ctx, node, outs)
    for name, t in zip(node.output, outs):
        if name:
            ctx.tensors[name] = t


FOLD_MAX_ELEMENTS = 1 << 16


def _all_constant(inputs) -> bool:
    present = [t for t in inputs if t is not None]
    return bool(present) and all(
        t.op.type == "Const" and np.asarray(t.op.attrs["value"]).size <= FOLD_MAX_ELEMENTS
        for t in present
    )


def _folded(ctx: ImportContext, node, outs: list) -> list:
    """Outputs computed now from constant inputs, as constants: shapes, axes and pads that a
    model computes from other constants (Shape -> Slice -> Concat -> Reshape) become values
    the next rules can read. The ops built for the node stay in the graph, unused."""
    for t in outs:  # fold only what is known to be small before running anything
        dims = t.shape.dims
        if dims is None or None in dims or int(np.prod(dims, dtype=object)) > FOLD_MAX_ELEMENTS:
            return outs
    with fg.Session() as sess:
        values = sess.run(outs)
    folded = []
    for name, value in zip(node.output, values):
        value = np.asarray(value)
        if value.size > FOLD_MAX_ELEMENTS:
            return outs  # a big result stays a computation, not a constant in the graph
        folded.append(fg.constant(value, name="folded"))
        if name:
            ctx.values[name] = value
    return folded
