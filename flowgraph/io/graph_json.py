"""Graph files: a graph as versioned JSON, read back through the op registry (never pickle).

The format (version 1)::

    {"format": "flowgraph-graph", "version": 1,
     "ops": [op, ...],                 # the graph's ops, in creation order
     "functions": {"f0": {"name": "cond_true", "inputs": ["arg0:0"], "ops": [op, ...]}},
     "variables": [{"name": "w", "initializer": "w/Assign",
                    "initial_value": "w/initial_value:0", "trainable": true}],
     "collections": {"variables": [{"variable": "w"}], "losses": [{"tensor": "loss:0"}],
                     "train_op": [{"operation": "train"}]}}

    op = {"name": "dense/MatMul", "type": "MatMul",
          "inputs": ["x:0", "w:0"],              # "<op name>:<output index>"
          "control_inputs": ["init"],            # op names
          "device": "",
          "attrs": {"transpose_a": {"type": "bool", "value": false}, ...},
          "outputs": [{"dtype": "float32", "shape": [null, 10]}],  # null shape: unknown rank
          "site": ["model.py", 12, "build"]}     # where the op was created (for errors)

``control_inputs``, ``device`` and ``site`` may be left out; nothing else may be added.
``outputs`` records each output's dtype and static shape, so a reader sees shapes without
running anything, and the importer checks the shape rules still agree (and keeps shapes
refined with ``set_shape``).

Attribute values are tagged (see :mod:`flowgraph.io.attr_codec`). The traced functions of
``cond`` / ``while_loop`` ops are ``{"type": "function", "graph": "f0", "inputs": [...],
"outputs": [...], "side_effects": [op names], "returns_sequence": false}``, naming tensors and
ops of the function graph ``f0`` in ``"functions"`` (several functions may share a graph:
a branch and its gradient do). A function graph's captures are not recorded: its inputs
already include them, in the order the op passes them.

Variables' store names (the ``var_name`` and ``slot_names`` attributes) get the import scope
as prefix, like their ops, so an imported model never shares values with the original.

Importing re-creates each op with its registered shape rule and ``Graph.create_op`` — it runs
no code from the file — inside the name scope ``name`` (``import/``, as TF1's
``import_graph_def``). Every problem with the file raises :class:`GraphFileError` (a
ValueError and an InvalidArgumentError) naming the file and what is wrong. The structure,
names, references, order and attributes are all checked before any op is added; only a shape
rule rejecting an op can leave the ops before it in the graph.

>>> import os, tempfile
>>> import flowgraph as fg
>>> path = os.path.join(tempfile.mkdtemp(), "graph.json")
>>> with fg.Graph().as_default() as g:
...     x = fg.placeholder(fg.float32, [None, 2], name="x")
...     y = fg.reduce_sum(x * 3.0, name="y")
...     export_graph(g, path)
>>> with fg.Graph().as_default():
...     x2, y2 = import_graph(path, return_elements=["x:0", "y:0"])
...     print(y2.name, fg.Session().run(y2, {x2: [[1.0, 2.0]]}))
import/y:0 9.0
"""

from __future__ import annotations

import json
import os
import warnings

from flowgraph.errors import UnimplementedError
from flowgraph.graph.operation import Operation
from flowgraph.graph.tensor import Tensor
from flowgraph.io import attr_codec, files
from flowgraph.io.graph_check import (
    FORMAT,
    MAX_CONSTANT_BYTES,
    VERSION,
    GraphFileError,
    load_graph_file,
)
from flowgraph.io.graph_reader import import_graph_dict
from flowgraph.ops.state import Variable

__all__ = [
    "FORMAT",
    "MAX_CONSTANT_BYTES",
    "VERSION",
    "GraphFileError",
    "export_graph",
    "graph_to_dict",
    "import_graph",
    "import_graph_dict",
]


def export_graph(graph, path) -> None:
    """Write ``graph`` to ``path`` as a flowgraph graph file (JSON), atomically.

    UnimplementedError naming the op if an attribute has no JSON form.
    """
    text = json.dumps(graph_to_dict(graph), indent=1, allow_nan=False)
    files.atomic_write_bytes(os.fspath(path), text.encode("utf-8"))


def import_graph(
    path,
    input_map: dict | None = None,
    return_elements: list[str] | None = None,
    name: str | None = "import",
    max_constant_bytes: int = MAX_CONSTANT_BYTES,
):
    """Add the graph in file ``path`` to the default graph, under the name scope ``name``.

    ``input_map`` {"x:0": tensor} uses the given tensors of the default graph in place of the
    file's tensors; ``return_elements`` (["y:0", "train"]) names tensors and ops of the file
    to return, as a list, once imported (None returns None, as TF1 does). Variables come back
    as Variables in the file's collections, with their initializers; their store names get
    the scope prefix too. Arrays beyond ``max_constant_bytes`` in all are refused.
    """
    path = os.fspath(path)
    doc = load_graph_file(path, max_constant_bytes)
    return import_graph_dict(doc, input_map, return_elements, name, path, max_constant_bytes)


# ---- export -------------------------------------------------------------------------------


def graph_to_dict(graph) -> dict:
    """The JSON document (a dict) of ``graph``: what :func:`export_graph` writes."""
    return _Exporter(graph).run()


class _Exporter:
    def __init__(self, graph) -> None:
        self.graph = graph
        self.keys: dict[int, str] = {}  # id(FuncGraph) -> "f0", "f1", ...
        self.pending: list = []

    def run(self) -> dict:
        ops = [self.op(op) for op in self.graph.get_operations()]
        functions = {}
        while self.pending:
            fgraph = self.pending.pop(0)
            functions[self.keys[id(fgraph)]] = {
                "name": fgraph.name,
                "inputs": [t.name for t in fgraph.inputs],
                "ops": [self.op(op) for op in fgraph.get_operations()],
            }
        variables, collections = self.collections()
        return {
            "format": FORMAT,
            "version": VERSION,
            "ops": ops,
            "functions": functions,
            "variables": variables,
            "collections": collections,
        }

    def function(self, fn) -> dict:
        key = self.keys.get(id(fn.graph))
        if key is None:
            key = self.keys[id(fn.graph)] = f"f{len(self.keys)}"
            self.pending.append(fn.graph)
        return {
            "type": "function",
            "graph": key,
            "inputs": [t.name for t in fn.inputs],
            "outputs": [t.name for t in fn.outputs],
            "side_effects": [op.name for op in fn.side_effects],
            "returns_sequence": bool(fn.returns_sequence),
        }

    def op(self, op: Operation) -> dict:
        for t in op.inputs:
            if t.graph is not op.graph:
                raise UnimplementedError(
                    message=f"export_graph: {op.describe()} takes {t.name!r} from another graph"
                )
        attrs = {}
        for key, value in op.attrs.items():
            try:
                attrs[key] = attr_codec.encode(value, self.function)
            except attr_codec.AttrError as e:
                raise UnimplementedError(
                    message=f"export_graph: cannot export attribute {key!r} of {op.describe()}: {e}"
                ) from None
        return {
            "name": op.name,
            "type": op.type,
            "inputs": [t.name for t in op.inputs],
            "control_inputs": [c.name for c in op.control_inputs],
            "device": op.device,
            "attrs": attrs,
            "outputs": [
                {
                    "dtype": t.dtype.name,
                    "shape": None if t.shape.rank is None else list(t.shape.dims),
                }
                for t in op.outputs
            ],
            "site": [os.path.basename(op.site.filename), op.site.lineno, op.site.function],
        }

    def collections(self) -> tuple[list, dict]:
        variables: dict[str, dict] = {}
        collections: dict[str, list] = {}
        for key in self.graph.get_all_collection_keys():
            items = []
            for value in self.graph.get_collection(key):
                item = self.item(value, variables)
                if item is None:
                    warnings.warn(
                        f"export_graph: collection {key!r} holds {value!r}, which is not a "
                        "Variable, Tensor or Operation of this graph; it is not exported",
                        stacklevel=4,
                    )
                else:
                    items.append(item)
            collections[key] = items
        return list(variables.values()), collections

    def item(self, value, variables: dict) -> dict | None:
        if getattr(value, "graph", None) is not self.graph:
            return None
        if isinstance(value, Variable):
            name = value.op.name
            initial = getattr(value, "initial_value", None)
            variables[name] = {
                "name": name,
                "initializer": value.initializer.name,
                "initial_value": initial.name if isinstance(initial, Tensor) else None,
                "trainable": bool(value.trainable),
            }
            return {"variable": name}
        if isinstance(value, Tensor):
            return {"tensor": value.name}
        if isinstance(value, Operation):
            return {"operation": value.name}
        return None
