"""Importing graph files: re-create each checked op through the op registry's shape rule and
``Graph.create_op`` (see :mod:`flowgraph.io.graph_json` for the format).

Nothing from the file is executed: op types are looked up in the registry and attributes
decoded by tag. :mod:`flowgraph.io.graph_check` first checks the whole document; then every
attribute is decoded (building the function graphs of control-flow ops, which are graphs of
their own) before the first op is added, so only a shape rule rejecting an op can leave the
ops before it in the graph.
"""

from __future__ import annotations

from flowgraph.errors import echo
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.func_graph import FuncGraph
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.site import user_site
from flowgraph.io import attr_codec
from flowgraph.io.graph_check import (
    MAX_CONSTANT_BYTES,
    MAX_TEXT,
    Body,
    CheckedFile,
    GraphFileError,
    OpDoc,
    check_graph_doc,
    find_element,
    parse_tensor_name,
    valid_text,
)
from flowgraph.ops.function import Function
from flowgraph.ops.registry import REQUIRED, get_op_def
from flowgraph.ops.state import Variable

# Attributes naming variables in the session's store: renamed with the import scope.
VAR_NAME_ATTRS = ("var_name", "slot_names")
_FUNCTION_KEYS = {"type", "graph", "inputs", "outputs", "side_effects", "returns_sequence"}


def import_graph_dict(
    doc,
    input_map: dict | None = None,
    return_elements: list[str] | None = None,
    name: str | None = "import",
    source: str = "<dict>",
    max_constant_bytes: int = MAX_CONSTANT_BYTES,
):
    """:func:`~flowgraph.io.graph_json.import_graph` for a document already loaded."""
    checked = check_graph_doc(doc, source, input_map, return_elements)
    graph = get_default_graph()
    with graph.name_scope(name) as scope:
        created = _Builder(checked, scope, max_constant_bytes).build_top(graph)
    if return_elements is None:
        return None
    return [created[op].outputs[i] if i is not None else created[op] for op, i in checked.returns]


class _Builder:
    def __init__(self, checked: CheckedFile, prefix: str, max_constant_bytes: int) -> None:
        self.checked = checked
        self.prefix = prefix  # the import scope ("import/"), prefixed to variable store names
        self.budget = attr_codec.Budget(max_constant_bytes)
        self.site = user_site()
        self.fn_built: dict = {}  # key -> (FuncGraph, {file name: op})
        self.fn_building: set = set()
        self.variables: dict = {}  # name -> the imported Variable
        # The store names the file's variables hold: an op may only name one of these.
        self.store_names = {
            d.attrs["var_name"].get("value")
            for body in [checked.top, *(b for b, _ in checked.functions.values())]
            for d in body.docs
            if get_op_def(d.type).is_variable and isinstance(d.attrs.get("var_name"), dict)
        }

    def fail(self, message: str):
        raise GraphFileError(f"Cannot import graph file {self.checked.source!r}: {message}")

    def build_top(self, graph) -> dict:
        top = self.checked.top
        existing = {
            op.attrs.get("var_name")
            for op in graph.get_operations()
            if get_op_def(op.type).is_variable
        }
        attrs = [self.decode_attrs(d, graph) for d in top.docs]
        for d, a in zip(top.docs, attrs):
            if get_op_def(d.type).is_variable and str(a.get("var_name")) in existing:
                raise ValueError(
                    f"import_graph: the variable {d.name!r} of {self.checked.source!r} would "
                    f"share its value with the graph's variable {a['var_name']!r}; import it "
                    "under a name scope (name='import')"
                )
        created = self.create_ops(graph, top, attrs, self.checked.input_map)
        for key, items in self.checked.collections.items():
            for kind, item_name in items:
                graph.add_to_collection(key, self.collection_item(kind, item_name, created))
        return created

    def collection_item(self, kind, name, created):
        if kind == "tensor":
            op, index = parse_tensor_name(name)
            return created[op].outputs[index]
        if kind == "operation":
            return created[name]
        var = self.checked.variables[name]
        if name not in self.variables:  # one Variable per variable, in however many collections
            obj = Variable.__new__(Variable)
            obj._ref = created[name].outputs[0]
            obj.initializer = created[var["initializer"]]
            initial = var["initial_value"]
            obj.initial_value = (
                None if initial is None else self.collection_item("tensor", initial, created)
            )
            obj.trainable = var["trainable"]
            self.variables[name] = obj
        return self.variables[name]

    # ---- attributes, functions, creation ---------------------------------------------------
    def decode_attrs(self, d: OpDoc, graph) -> dict:
        op_def = get_op_def(d.type)
        attrs = {}
        for key, value in d.attrs.items():
            try:
                attrs[key] = value = attr_codec.decode(
                    value, self.budget, lambda f: self.function(f, graph)
                )
                if key == "shape" and isinstance(value, (list, tuple)):
                    attr_codec.check_elements([v for v in value if type(v) is int], "shape")
            except attr_codec.AttrError as e:
                self.fail(f"{d.where}: attribute {echo(key)}: {e}")
        unknown = [k for k in attrs if k not in op_def.attrs and not k.startswith("_")]
        missing = [k for k, v in op_def.attrs.items() if v is REQUIRED and k not in attrs]
        if unknown or missing:
            self.fail(
                f"{d.where}: {d.type} has no attribute(s) {echo(unknown)}"
                if unknown
                else f"{d.where}: {d.type} requires the attribute(s) {missing}"
            )
        attrs = {**op_def.attrs, **attrs}  # defaults for attributes the file leaves out
        self.check_store_names(d, attrs)
        for key in VAR_NAME_ATTRS:
            if isinstance(attrs.get(key), str) and attrs[key]:
                attrs[key] = self.prefix + attrs[key]
            elif isinstance(attrs.get(key), tuple):
                attrs[key] = tuple(self.prefix + n if isinstance(n, str) else n for n in attrs[key])
        return attrs

    def check_store_names(self, d: OpDoc, attrs: dict) -> None:
        """A variable's store name is a name (printable, capped); any other op may only name
        a variable of the file (else it would read or make a value nothing initializes)."""
        for key in VAR_NAME_ATTRS:
            value = attrs.get(key)
            for n in value if isinstance(value, tuple) else (value,):
                if not isinstance(n, str) or not n:
                    continue
                if not valid_text(n):
                    self.fail(
                        f"{d.where}: attribute {key!r} must hold names of at most {MAX_TEXT} "
                        f"printable characters, got {echo(n)}"
                    )
                if not get_op_def(d.type).is_variable and n not in self.store_names:
                    self.fail(
                        f"{d.where}: attribute {key!r} names the variable {echo(n)}, which no "
                        "VariableV2 op of the file holds"
                    )

    def function(self, fdoc, outer) -> Function:
        if set(fdoc) != _FUNCTION_KEYS:
            raise attr_codec.AttrError(
                f"a function has keys {sorted(_FUNCTION_KEYS)}, got {sorted(fdoc)}"
            )
        key = fdoc["graph"]
        if not isinstance(key, str) or key not in self.checked.functions:
            raise attr_codec.AttrError(
                f"function graph {echo(key)} is not in the file's 'functions'"
            )
        if not isinstance(fdoc["returns_sequence"], bool):
            raise attr_codec.AttrError("a function's 'returns_sequence' must be true or false")
        fgraph, created = self.build_function(key, outer)
        body, where = self.checked.functions[key][0], f"function graph {key!r}"

        def tensors(names):
            if not isinstance(names, list):
                raise attr_codec.AttrError(
                    f"a function's tensors must be a list, got {echo(names)}"
                )
            try:
                found = [find_element(n, body, where, self.checked.source, True) for n in names]
            except ValueError as e:
                raise attr_codec.AttrError(str(e)) from None
            return [created[op].outputs[i] for op, i in found]

        effects = fdoc["side_effects"]
        if not isinstance(effects, list) or not all(
            isinstance(e, str) and e in created for e in effects
        ):
            raise attr_codec.AttrError(f"side_effects must name ops of {where}")
        return Function(
            fgraph,
            tensors(fdoc["inputs"]),
            tensors(fdoc["outputs"]),
            [created[e] for e in effects],
            fdoc["returns_sequence"],
        )

    def build_function(self, key: str, outer):
        if key in self.fn_built:
            return self.fn_built[key]
        if key in self.fn_building:
            self.fail(f"function graph {key!r} calls itself (directly or through another)")
        self.fn_building.add(key)
        body, fdoc = self.checked.functions[key]
        fgraph = FuncGraph(fdoc["name"], outer)
        attrs = [self.decode_attrs(d, fgraph) for d in body.docs]
        created = self.create_ops(fgraph, body, attrs, {})
        fgraph.inputs = [created[op].outputs[i] for op, i in map(parse_tensor_name, fdoc["inputs"])]
        self.fn_building.discard(key)
        self.fn_built[key] = (fgraph, created)
        return fgraph, created

    def create_ops(self, graph, body: Body, attrs: list, input_map: dict) -> dict:
        created = {}
        for i in body.order:
            d = body.docs[i]
            inputs = [
                input_map[ref] if ref in input_map else created[ref[0]].outputs[ref[1]]
                for ref in d.inputs
            ]
            op_def = get_op_def(d.type)
            try:
                specs = op_def.infer(inputs, attrs[i])
            except Exception as e:  # noqa: BLE001 - any failure of the rule is the file's fault
                self.fail(f"{d.where}: the {d.type} shape rule rejects it: {type(e).__name__}: {e}")
            specs = self.merge_specs(d, specs, bool(input_map))
            op = graph.create_op(
                d.type, inputs, attrs[i], specs, d.name, d.site or self.site, op_def.ref_inputs
            )
            if d.device:
                op.device = d.device
            for c in d.control:
                op._add_control_input(created[c])
            created[d.name] = op
        return created

    def merge_specs(self, d: OpDoc, specs, mapped: bool) -> list:
        if not isinstance(specs, list | tuple) or len(specs) != len(d.outputs):
            count = len(specs) if isinstance(specs, list | tuple) else "no list of"
            self.fail(
                f"{d.where}: the file lists {len(d.outputs)} output(s), the {d.type} op "
                f"makes {count}"
            )
        try:  # attributes a rule accepted may still describe no real output (shape="abc")
            specs = [(dtype, TensorShape(shape)) for dtype, shape in specs]
        except (TypeError, ValueError) as e:
            self.fail(f"{d.where}: its attributes give the {d.type} op no valid outputs: {e}")
        out = []
        for k, ((dtype, shape), (file_dtype, file_shape)) in enumerate(zip(specs, d.outputs)):
            if dtype is not file_dtype:
                self.fail(
                    f"{d.where}: output {k} is {getattr(dtype, 'name', dtype)!s:.40}, but the "
                    f"file says {file_dtype.name}"
                )
            if shape.is_compatible_with(file_shape):
                shape = shape.merge_with(file_shape)  # keeps set_shape refinements
            elif not mapped:
                self.fail(
                    f"{d.where}: output {k} has shape {shape}, but the file says {file_shape}"
                )
            out.append((dtype, shape))
        return out
