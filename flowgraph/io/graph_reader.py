"""Reading graph files (see :mod:`flowgraph.io.graph_json` for the format): check everything,
then re-create the ops through the op registry's shape rules and ``Graph.create_op``.

Nothing from the file is executed: names are looked up, attributes decoded by tag, op types
resolved in the registry. The checks, in order: JSON and format/version; each op's fields,
names, type (registered?), inputs (an existing op and output index); an order in which
every op comes after its inputs (else: a cycle, named); function graphs alike; input_map,
return_elements, variables and collections against the file; then every attribute (tags,
array sizes, the total array bytes); finally each op's shape rule, as it is created.

>>> from flowgraph.io.graph_reader import import_graph_dict
>>> import_graph_dict({"format": "flowgraph-graph", "version": 7, "ops": []})
Traceback (most recent call last):
...
flowgraph.io.graph_reader.GraphFileError: Cannot import graph file '<dict>': it was written \
by a newer flowgraph (format version 7); this flowgraph reads version 1
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import networkx as nx

from flowgraph.errors import InvalidArgumentError
from flowgraph.graph.context import get_default_graph
from flowgraph.graph.dtypes import DType, as_dtype
from flowgraph.graph.func_graph import FuncGraph
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.site import CreationSite, user_site
from flowgraph.graph.tensor import Tensor
from flowgraph.io import attr_codec
from flowgraph.ops.control_flow import Function
from flowgraph.ops.registry import REQUIRED, get_op_def
from flowgraph.ops.state import Variable

FORMAT = "flowgraph-graph"
VERSION = 1
MAX_CONSTANT_BYTES = 1 << 30  # arrays in all; a bigger file is refused unless allowed
# Attributes naming variables in the session's store: renamed with the import scope.
VAR_NAME_ATTRS = ("var_name", "slot_names")

_TOP_KEYS = {"format", "version", "ops", "functions", "variables", "collections"}
_OP_KEYS = {"name", "type", "inputs", "control_inputs", "device", "attrs", "outputs", "site"}
_OP_REQUIRED = {"name", "type", "inputs", "attrs", "outputs"}
_FUNCTION_KEYS = {"type", "graph", "inputs", "outputs", "side_effects", "returns_sequence"}
_VARIABLE_KEYS = {"name", "initializer", "initial_value", "trainable"}


class GraphFileError(InvalidArgumentError, ValueError):
    """A graph file that cannot be imported: malformed, inconsistent or hostile."""

    def __init__(self, message: str) -> None:
        super().__init__(None, None, message)


@dataclass
class _OpDoc:
    index: int
    where: str  # "ops[3] ('dense/MatMul')", for messages
    name: str
    type: str
    inputs: list  # [(producer name, output index)]
    control: list
    device: str
    attrs: dict  # still tagged JSON
    outputs: list  # [(DType, TensorShape)]
    site: CreationSite | None


@dataclass
class _Body:
    """The checked ops of one graph (the file's, or a function's), in an order that works."""

    docs: list
    by_name: dict
    order: list


def load_graph_file(path: str, max_constant_bytes: int = MAX_CONSTANT_BYTES):
    """The JSON document in ``path``; GraphFileError if it is too big, not UTF-8 or not JSON."""
    limit = 2 * max_constant_bytes + (64 << 20)  # base64 takes 4/3 of the bytes, plus the ops
    size = os.path.getsize(path)
    if size > limit:
        raise GraphFileError(
            f"Cannot import graph file {path!r}: it is {size} bytes, more than the {limit} "
            "allowed (raise max_constant_bytes to accept it)"
        )
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError too
        raise GraphFileError(
            f"Cannot import graph file {path!r}: it is not valid JSON: {e}"
        ) from None


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in an object")
        out[key] = value
    return out


def _no_constant(word):
    raise ValueError(f"{word} is not a JSON number")


def import_graph_dict(
    doc,
    input_map: dict | None = None,
    return_elements: list[str] | None = None,
    name: str | None = "import",
    source: str = "<dict>",
    max_constant_bytes: int = MAX_CONSTANT_BYTES,
):
    """:func:`~flowgraph.io.graph_json.import_graph` for a document already loaded."""
    return _Importer(source, max_constant_bytes).run(doc, input_map, return_elements, name)


def _parse_tensor_name(name) -> tuple[str, int] | None:
    if not isinstance(name, str):
        return None
    op, sep, index = name.rpartition(":")
    if not sep or not op or not (index.isascii() and index.isdigit()) or len(index) > 9:
        return None
    return op, int(index)


def _valid_name(name) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 1024
        and ":" not in name
        and not name.endswith("/")
        and all(c >= " " for c in name)
    )


class _Importer:
    def __init__(self, source: str, max_constant_bytes: int) -> None:
        self.source = source
        self.budget = attr_codec.Budget(max_constant_bytes)
        self.prefix = ""  # the import scope ("import/"), prefixed to variable store names
        self.site = user_site()
        self.fn_docs: dict = {}
        self.fn_bodies: dict[str, _Body] = {}
        self.fn_built: dict = {}  # key -> (FuncGraph, {old name: op})
        self.fn_building: set = set()
        self.variables: dict = {}  # name -> the imported Variable

    def fail(self, message: str):
        raise GraphFileError(f"Cannot import graph file {self.source!r}: {message}")

    # ---- whole file ------------------------------------------------------------------------
    def run(self, doc, input_map, return_elements, name):
        doc = self.check_top(doc)
        top = self.check_body(doc["ops"], "ops")
        for key, fdoc in doc["functions"].items():
            self.fn_bodies[key] = self.check_function(key, fdoc)
        input_map = self.check_input_map(input_map or {}, top)
        returns = [self.element(r, top, "return_elements") for r in return_elements or []]
        variables = self.check_variables(doc["variables"], top)
        collections = self.check_collections(doc["collections"], top, variables)
        graph = get_default_graph()
        existing = {
            op.attrs.get("var_name") for op in graph.get_operations() if op.type == "VariableV2"
        }
        with graph.name_scope(name) as scope:
            self.prefix = scope
            attrs = [self.decode_attrs(d, graph) for d in top.docs]
            for d, a in zip(top.docs, attrs):
                if d.type == "VariableV2" and a.get("var_name") in existing:
                    raise ValueError(
                        f"import_graph: the variable {d.name!r} of {self.source!r} would share "
                        f"its value with the graph's variable {a['var_name']!r}; import it "
                        "under a name scope (name='import')"
                    )
            created = self.create_ops(graph, top, attrs, input_map)
        for key, items in collections.items():
            for kind, item_name in items:
                graph.add_to_collection(
                    key, self.collection_item(kind, item_name, created, variables)
                )
        if return_elements is None:
            return None
        return [created[op].outputs[i] if i is not None else created[op] for op, i in returns]

    def check_top(self, doc) -> dict:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            self.fail(f"it is not a flowgraph graph file (format {found!r}, expected {FORMAT!r})")
        version = doc.get("version")
        if type(version) is int and version > VERSION:
            self.fail(
                f"it was written by a newer flowgraph (format version {version}); this "
                f"flowgraph reads version {VERSION}"
            )
        if version != VERSION:
            self.fail(f"unsupported format version {version!r} (this flowgraph reads {VERSION})")
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            self.fail(f"unknown top-level keys {sorted(unknown)}")
        if not isinstance(doc.get("ops"), list):
            self.fail("'ops' must be a list of ops")
        doc = {"functions": {}, "variables": [], "collections": {}, **doc}
        for key, kind in (("functions", dict), ("variables", list), ("collections", dict)):
            if not isinstance(doc[key], kind):
                self.fail(f"{key!r} must be a JSON {'object' if kind is dict else 'list'}")
        return doc

    # ---- ops -------------------------------------------------------------------------------
    def check_op(self, i: int, d, where: str) -> _OpDoc:
        at = f"{where}[{i}]"
        if not isinstance(d, dict):
            self.fail(f"{at} must be an object, got {type(d).__name__}")
        if set(d) - _OP_KEYS or _OP_REQUIRED - set(d):
            self.fail(
                f"{at} has keys {sorted(d)}; required {sorted(_OP_REQUIRED)}, "
                f"allowed {sorted(_OP_KEYS)}"
            )
        if not _valid_name(d["name"]):
            self.fail(f"{at} has an invalid name {d['name']!r:.80}")
        at = f"{at} ({d['name']!r})"
        if not isinstance(d["type"], str):
            self.fail(f"{at}: 'type' must be a string")
        try:
            get_op_def(d["type"])
        except KeyError:
            self.fail(f"{at}: unknown op type {d['type']!r:.80} (no such op is registered)")
        inputs = d["inputs"] if isinstance(d["inputs"], list) else [None]
        parsed = [_parse_tensor_name(t) for t in inputs]
        if None in parsed:
            self.fail(
                f"{at}: 'inputs' must be a list of '<op>:<index>' strings, got {d['inputs']!r:.80}"
            )
        control = d.get("control_inputs", [])
        if not isinstance(control, list) or not all(_valid_name(c) for c in control):
            self.fail(f"{at}: 'control_inputs' must be a list of op names")
        if not isinstance(d.get("device", ""), str):
            self.fail(f"{at}: 'device' must be a string")
        if not isinstance(d["attrs"], dict):
            self.fail(f"{at}: 'attrs' must be an object")
        return _OpDoc(
            i,
            at,
            d["name"],
            d["type"],
            parsed,
            control,
            d.get("device", ""),
            d["attrs"],
            self.check_outputs(d["outputs"], at),
            self.check_site(d, at),
        )

    def check_outputs(self, outputs, at: str) -> list:
        if not isinstance(outputs, list):
            self.fail(f"{at}: 'outputs' must be a list of {{dtype, shape}}")
        specs = []
        for o in outputs:
            if not isinstance(o, dict) or set(o) != {"dtype", "shape"}:
                self.fail(
                    f"{at}: each output must be {{'dtype': ..., 'shape': ...}}, got {o!r:.80}"
                )
            try:
                specs.append((as_dtype(o["dtype"]), attr_codec.decode_shape(o["shape"])))
            except (TypeError, attr_codec.AttrError) as e:
                self.fail(f"{at}: bad output {o!r:.80}: {e}")
        return specs

    def check_site(self, d, at: str) -> CreationSite | None:
        site = d.get("site")
        if site is None:
            return None
        if not (
            isinstance(site, list)
            and len(site) == 3
            and isinstance(site[0], str)
            and type(site[1]) is int
            and isinstance(site[2], str)
        ):
            self.fail(f"{at}: 'site' must be [file, line, function], got {site!r:.80}")
        return CreationSite(*site)

    def check_body(self, ops, where: str) -> _Body:
        docs = [self.check_op(i, d, where) for i, d in enumerate(ops)]
        by_name = {}
        for d in docs:
            if d.name in by_name:
                self.fail(f"{d.where}: the name is used by {by_name[d.name].where} too")
            by_name[d.name] = d
        deps = nx.DiGraph()
        deps.add_nodes_from(range(len(docs)))
        for d in docs:
            for op, index in d.inputs:
                producer = by_name.get(op)
                if producer is None:
                    self.fail(
                        f"{d.where}: input '{op}:{index}' refers to op {op!r}, which is not "
                        f"in {where}"
                    )
                if index >= len(producer.outputs):
                    self.fail(
                        f"{d.where}: input '{op}:{index}' refers to output {index} of "
                        f"{op!r}, which has {len(producer.outputs)} output(s)"
                    )
                deps.add_edge(producer.index, d.index)
            for op in d.control:
                if op not in by_name:
                    self.fail(f"{d.where}: control input {op!r} is not an op in {where}")
                deps.add_edge(by_name[op].index, d.index)
        try:
            order = list(nx.lexicographical_topological_sort(deps))
        except nx.NetworkXUnfeasible:
            cycle = [docs[a].name for a, _ in nx.find_cycle(deps)]
            self.fail(f"{where} cannot be ordered: ops {cycle} depend on each other in a cycle")
        return _Body(docs, by_name, order)

    def check_function(self, key, fdoc) -> _Body:
        where = f"functions[{key!r}]"
        if not isinstance(fdoc, dict) or set(fdoc) != {"name", "inputs", "ops"}:
            self.fail(f"{where} must be {{'name', 'inputs', 'ops'}}")
        if not isinstance(fdoc["name"], str) or not isinstance(fdoc["ops"], list):
            self.fail(f"{where}: 'name' must be a string and 'ops' a list")
        body = self.check_body(fdoc["ops"], f"{where}.ops")
        if not isinstance(fdoc["inputs"], list):
            self.fail(f"{where}: 'inputs' must be a list of tensor names")
        for t in fdoc["inputs"]:
            try:
                self.element(t, body, f"{where}.inputs", tensor=True)
            except ValueError as e:
                self.fail(str(e))
        self.fn_docs[key] = fdoc
        return body

    def element(self, name, body: _Body, where: str, tensor: bool = False):
        """(op name, output index) for a tensor name, (op name, None) for an op name."""
        parsed = _parse_tensor_name(name)
        if parsed is None and not tensor and _valid_name(name):
            parsed = (name, None)
        if parsed is not None and parsed[0] in body.by_name:
            op, index = parsed
            if index is None or index < len(body.by_name[op].outputs):
                return parsed
        raise ValueError(
            f"{where}: {name!r:.80} is not a tensor{'' if tensor else ' or op'} "
            f"of graph file {self.source!r}"
        )

    # ---- input_map, variables, collections -------------------------------------------------
    def check_input_map(self, input_map, top: _Body) -> dict:
        if not isinstance(input_map, dict):
            raise TypeError(f"input_map must be a dict {{'x:0': tensor}}, got {input_map!r:.80}")
        out = {}
        for key, value in input_map.items():
            op, index = self.element(key, top, "input_map", tensor=True)
            tensor = value._as_graph_tensor() if hasattr(value, "_as_graph_tensor") else value
            if not isinstance(tensor, Tensor):
                raise TypeError(f"input_map[{key!r}] must be a Tensor, got {value!r:.80}")
            dtype = top.by_name[op].outputs[index][0]
            if tensor.dtype is not dtype:
                raise ValueError(
                    f"input_map[{key!r}] is {tensor.dtype.name}, but {key!r} in "
                    f"{self.source!r} is {dtype.name}"
                )
            out[(op, index)] = tensor
        return out

    def check_variables(self, variables, top: _Body) -> dict:
        out = {}
        for i, v in enumerate(variables):
            at = f"variables[{i}]"
            if not isinstance(v, dict) or set(v) != _VARIABLE_KEYS:
                self.fail(f"{at} must have exactly the keys {sorted(_VARIABLE_KEYS)}")
            op = top.by_name.get(v["name"]) if isinstance(v["name"], str) else None
            if op is None or op.type != "VariableV2" or v["name"] in out:
                self.fail(
                    f"{at}: {v['name']!r:.80} is not a VariableV2 op of the file (or repeats)"
                )
            init = top.by_name.get(v["initializer"]) if isinstance(v["initializer"], str) else None
            if init is None:
                self.fail(f"{at}: initializer {v['initializer']!r:.80} is not an op of the file")
            if v["initial_value"] is not None:
                try:
                    self.element(v["initial_value"], top, at, tensor=True)
                except ValueError as e:
                    self.fail(str(e))
            if not isinstance(v["trainable"], bool):
                self.fail(f"{at}: 'trainable' must be true or false")
            out[v["name"]] = v
        return out

    def check_collections(self, collections, top: _Body, variables: dict) -> dict:
        out = {}
        for key, items in collections.items():
            at = f"collections[{key!r:.80}]"
            if not isinstance(items, list):
                self.fail(f"{at} must be a list")
            checked = []
            for item in items:
                if not isinstance(item, dict) or len(item) != 1:
                    self.fail(f"{at}: items must be {{'variable'|'tensor'|'operation': name}}")
                ((kind, name),) = item.items()
                ok = {
                    "variable": lambda n: n in variables,
                    "tensor": lambda n: _parse_tensor_name(n) is not None,
                    "operation": _valid_name,
                }.get(kind, lambda n: False)(name)
                if ok and kind != "variable":
                    try:
                        self.element(name, top, at, tensor=kind == "tensor")
                    except ValueError:
                        ok = False
                if not ok:
                    self.fail(f"{at}: {item!r:.80} is not a variable, tensor or op of the file")
                checked.append((kind, name))
            out[key] = checked
        return out

    def collection_item(self, kind, name, created, variables):
        if kind == "tensor":
            op, index = _parse_tensor_name(name)
            return created[op].outputs[index]
        if kind == "operation":
            return created[name]
        var = variables[name]
        if name not in self.variables:  # one Variable per variable, in however many collections
            obj = Variable.__new__(Variable)
            obj._ref = created[name].outputs[0]
            obj.initializer = created[var["initializer"]]
            initial = var["initial_value"]
            obj.initial_value = (
                None
                if initial is None
                else self.collection_item("tensor", initial, created, variables)
            )
            obj.trainable = var["trainable"]
            self.variables[name] = obj
        return self.variables[name]

    # ---- attributes, functions, creation ---------------------------------------------------
    def decode_attrs(self, d: _OpDoc, graph) -> dict:
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
                self.fail(f"{d.where}: attribute {key!r:.80}: {e}")
        unknown = [k for k in attrs if k not in op_def.attrs and not k.startswith("_")]
        missing = [k for k, v in op_def.attrs.items() if v is REQUIRED and k not in attrs]
        if unknown or missing:
            self.fail(
                f"{d.where}: {d.type} has no attribute(s) {unknown}"
                if unknown
                else f"{d.where}: {d.type} requires the attribute(s) {missing}"
            )
        attrs = {**{k: v for k, v in op_def.attrs.items()}, **attrs}
        for key in VAR_NAME_ATTRS:
            if isinstance(attrs.get(key), str) and attrs[key]:
                attrs[key] = self.prefix + attrs[key]
            elif isinstance(attrs.get(key), tuple):
                attrs[key] = tuple(self.prefix + n if isinstance(n, str) else n for n in attrs[key])
        return attrs

    def function(self, fdoc, outer) -> Function:
        if set(fdoc) != _FUNCTION_KEYS:
            raise attr_codec.AttrError(
                f"a function has keys {sorted(_FUNCTION_KEYS)}, got {sorted(fdoc)}"
            )
        key = fdoc["graph"]
        if not isinstance(key, str) or key not in self.fn_bodies:
            raise attr_codec.AttrError(
                f"function graph {key!r:.80} is not in the file's 'functions'"
            )
        if not isinstance(fdoc["returns_sequence"], bool):
            raise attr_codec.AttrError("a function's 'returns_sequence' must be true or false")
        fgraph, created = self.build_function(key, outer)
        body, where = self.fn_bodies[key], f"function graph {key!r}"

        def tensors(names):
            if not isinstance(names, list):
                raise attr_codec.AttrError(
                    f"a function's tensors must be a list, got {names!r:.80}"
                )
            try:
                found = [self.element(n, body, where, tensor=True) for n in names]
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
        body, fdoc = self.fn_bodies[key], self.fn_docs[key]
        fgraph = FuncGraph(fdoc["name"], outer)
        attrs = [self.decode_attrs(d, fgraph) for d in body.docs]
        created = self.create_ops(fgraph, body, attrs, {})
        fgraph.inputs = [
            created[op].outputs[i] for op, i in map(_parse_tensor_name, fdoc["inputs"])
        ]
        self.fn_building.discard(key)
        self.fn_built[key] = (fgraph, created)
        return fgraph, created

    def create_ops(self, graph, body: _Body, attrs: list, input_map: dict) -> dict:
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

    def merge_specs(self, d: _OpDoc, specs, mapped: bool) -> list:
        if len(specs) != len(d.outputs):
            self.fail(
                f"{d.where}: the file lists {len(d.outputs)} output(s), the {d.type} op "
                f"makes {len(specs)}"
            )
        out = []
        for k, ((dtype, shape), (file_dtype, file_shape)) in enumerate(zip(specs, d.outputs)):
            dtype: DType
            shape = TensorShape(shape)
            if dtype is not file_dtype:
                self.fail(
                    f"{d.where}: output {k} is {dtype.name}, but the file says {file_dtype.name}"
                )
            if shape.is_compatible_with(file_shape):
                shape = shape.merge_with(file_shape)  # keeps set_shape refinements
            elif not mapped:
                self.fail(
                    f"{d.where}: output {k} has shape {shape}, but the file says {file_shape}"
                )
            out.append((dtype, shape))
        return out
