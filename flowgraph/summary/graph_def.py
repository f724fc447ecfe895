"""A flowgraph Graph as the ``GraphDef`` TensorBoard's graph dashboard reads.

Each op becomes a ``NodeDef`` with its full name (name scopes are the ``/``-separated parts, which
the dashboard draws as collapsible boxes, like ``viz.draw``'s clusters), its op type, its inputs
(``"op"`` for output 0, ``"op:1"`` for others, ``"^op"`` for control inputs), its device, and as
attributes: ``_output_shapes`` (so edges show tensor shapes), ``T`` / ``dtype`` (element types),
and its other simple attributes. Gradient and optimizer ops already carry TF1's scopes
(``gradients/...``, ``Adam/...``) from the way flowgraph names them.

Control flow (``cond``, ``while_loop``) is shown collapsed: one node per ``StatelessIf`` /
``StatelessWhile`` with its real inputs and outputs, and for each body function an attribute
naming the function and a ``_body_<attr>`` note listing the ops it runs (the dashboard shows both in
the node's info card). The bodies' own ops are not expanded into the graph.

The ``GraphDef``, ``NodeDef`` and ``AttrValue`` classes come from the ``tensorboard`` package.

>>> import flowgraph as fg
>>> with fg.Graph().as_default() as g:
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     with fg.name_scope("layer"):
...         y = fg.tanh(x, name="act")
>>> gd = to_graph_def(g)
>>> [(n.name, n.op, list(n.input)) for n in gd.node]
[('x', 'Placeholder', []), ('layer/act', 'Tanh', ['x'])]
>>> [d.size for d in gd.node[1].attr["_output_shapes"].list.shape[0].dim]
[-1, 3]
"""

from __future__ import annotations

import numpy as np

from flowgraph.graph.dtypes import DType
from flowgraph.graph.shape import TensorShape
from flowgraph.ops.summary_proto import tensorboard_protos

_MAX_CONST_ELEMENTS = 16  # bigger constants show their shape only, not their values


def _type_enum(dtype: DType) -> int:
    from tensorboard.compat.proto import types_pb2

    name = {
        "float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE", "int8": "DT_INT8",
        "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8",
        "bool": "DT_BOOL", "string": "DT_STRING",
    }[dtype.name]  # fmt: skip
    return types_pb2.DataType.Value(name)


def shape_proto(shape: TensorShape):
    """A ``TensorShapeProto``: unknown dims are -1, an unknown rank is ``unknown_rank``."""
    from tensorboard.compat.proto import tensor_shape_pb2

    if shape.rank is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else d) for d in shape.dims]
    return tensor_shape_pb2.TensorShapeProto(dim=dims)


def tensor_name(tensor) -> str:
    """A tensor as a GraphDef input: ``op`` for output 0, ``op:i`` otherwise."""
    return tensor.op.name if tensor.value_index == 0 else f"{tensor.op.name}:{tensor.value_index}"


def _attr_value(value):
    """An ``AttrValue`` for a simple attribute, or None for one with no GraphDef form."""
    from tensorboard.compat.proto import attr_value_pb2
    from tensorboard.util import tensor_util

    AttrValue = attr_value_pb2.AttrValue
    if isinstance(value, bool):
        return AttrValue(b=value)
    if isinstance(value, (int, np.integer)):
        return AttrValue(i=int(value))
    if isinstance(value, (float, np.floating)):
        return AttrValue(f=float(value))
    if isinstance(value, str):
        return AttrValue(s=value.encode("utf-8"))
    if isinstance(value, DType):
        return AttrValue(type=_type_enum(value))
    if isinstance(value, TensorShape):
        return AttrValue(shape=shape_proto(value))
    if isinstance(value, np.ndarray) and value.size <= _MAX_CONST_ELEMENTS:
        return AttrValue(tensor=tensor_util.make_tensor_proto(value))
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        return AttrValue(list=AttrValue.ListValue(i=[int(v) for v in value]))
    return None


def _function_note(function) -> str:
    ops = function.graph.get_operations()
    body = ", ".join(f"{op.name} ({op.type})" for op in ops[:40])
    more = f", ... {len(ops) - 40} more" if len(ops) > 40 else ""
    return f"collapsed body of {len(ops)} ops: {body}{more}"


def node_def(op):
    """The ``NodeDef`` of one flowgraph Operation."""
    from tensorboard.compat.proto import attr_value_pb2, node_def_pb2

    node = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device or "")
    node.input.extend(tensor_name(t) for t in op.inputs)
    node.input.extend(f"^{c.name}" for c in op.control_inputs)
    if op.outputs:
        shapes = [shape_proto(t.shape) for t in op.outputs]
        node.attr["_output_shapes"].CopyFrom(
            attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(shape=shapes))
        )
        if "dtype" not in op.attrs:
            node.attr["T"].CopyFrom(attr_value_pb2.AttrValue(type=_type_enum(op.outputs[0].dtype)))
    for key, value in op.attrs.items():
        if hasattr(value, "graph") and hasattr(value, "outputs"):  # a cond / while body
            name = attr_value_pb2.NameAttrList(name=value.graph.name)
            node.attr[key].CopyFrom(attr_value_pb2.AttrValue(func=name))
            note = _function_note(value).encode("utf-8")
            node.attr[f"_body_{key}"].CopyFrom(attr_value_pb2.AttrValue(s=note))
            continue
        converted = _attr_value(value)
        if converted is not None:
            node.attr[key].CopyFrom(converted)
    return node


def to_graph_def(graph):
    """``graph`` (a flowgraph Graph) as a TensorBoard ``GraphDef`` protocol buffer."""
    tensorboard_protos()
    from tensorboard.compat.proto import graph_pb2, versions_pb2

    graph_def = graph_pb2.GraphDef(versions=versions_pb2.VersionDef(producer=22))
    graph_def.node.extend(node_def(op) for op in graph.get_operations())
    return graph_def
