"""Checking graph files (see :mod:`flowgraph.io.graph_json` for the format) before any op
is built: a pure pass over the JSON document that adds nothing to any graph.

The checks, in order: JSON and format/version; each op's fields, name, type (registered?),
inputs (an existing op and output index), device and creation site; an order in which every
op comes after its inputs and control inputs (else: the cycle, named); function graphs alike;
input_map, return_elements, variables and collections against the file. Every string is
capped in length and must be printable (no control characters, no line separators).
Attributes are checked as they are decoded, by :mod:`flowgraph.io.attr_codec`.

>>> check_graph_doc({"format": "flowgraph-graph", "version": 7, "ops": []}, "g.json")
Traceback (most recent call last):
...
flowgraph.io.graph_check.GraphFileError: Cannot import graph file 'g.json': it was written \
by a newer flowgraph (format version 7); this flowgraph reads version 1
"""

from __future__ import annotations

import heapq
import json
import os
import re
from dataclasses import dataclass, field

from flowgraph.backends.devices import canonical_device
from flowgraph.errors import InvalidArgumentError, echo
from flowgraph.graph.site import CreationSite
from flowgraph.graph.tensor import Tensor
from flowgraph.io import attr_codec
from flowgraph.ops.registry import get_op_def

FORMAT = "flowgraph-graph"
VERSION = 1
MAX_CONSTANT_BYTES = 1 << 30  # arrays in all; a bigger file is refused unless allowed

_TOP_KEYS = {"format", "version", "ops", "functions", "variables", "collections"}
_OP_KEYS = {"name", "type", "inputs", "control_inputs", "device", "attrs", "outputs", "site"}
_OP_REQUIRED = {"name", "type", "inputs", "attrs", "outputs"}
_VARIABLE_KEYS = {"name", "initializer", "initial_value", "trainable"}
# Every string of a file is capped: names, devices, sites, keys (attribute strings: attr_codec).
MAX_TEXT = 1024
MAX_LINE = 1 << 31
# A site's function is what Python calls a code object: an identifier or <module>, <lambda>...
_MARKER = re.compile(r"<[\w .-]{1,64}>")
_DEVICE_KIND = re.compile(r"/[a-z_][a-z0-9_]*:\d+")


class GraphFileError(InvalidArgumentError, ValueError):
    """A graph file that cannot be imported: malformed, inconsistent or hostile."""

    def __init__(self, message: str) -> None:
        super().__init__(None, None, message)


@dataclass
class OpDoc:
    """One checked op of the file; its attrs still tagged JSON."""

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
class Body:
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
            raise ValueError(f"duplicate key {echo(key)} in an object")
        out[key] = value
    return out


def _no_constant(word):
    raise ValueError(f"{word} is not a JSON number")


def parse_tensor_name(name) -> tuple[str, int] | None:
    if not isinstance(name, str):
        return None
    op, sep, index = name.rpartition(":")
    if not sep or not op or not (index.isascii() and index.isdigit()) or len(index) > 9:
        return None
    return op, int(index)


def valid_text(text, limit: int = MAX_TEXT) -> bool:
    """A string of at most ``limit`` printable characters: no control characters and no line
    or paragraph separators (``\\n \\r \\x85 \\u2028 \\u2029``...), checked length first."""
    return isinstance(text, str) and len(text) <= limit and text.isprintable()


def valid_name(name) -> bool:
    return valid_text(name) and 0 < len(name) and ":" not in name and not name.endswith("/")


def valid_device(device) -> bool:
    """A TF device string (``/job:w/task:0/device:GPU:0``, ``/cpu:0``, ``GPU``) or ``""``."""
    if not valid_text(device, 256):
        return False
    try:
        canonical = canonical_device(device)
    except ValueError:
        return False
    return not canonical or _DEVICE_KIND.fullmatch(canonical) is not None


def valid_site(site) -> bool:
    """``[file, line, function]``: a printable file name, a line number >= 0, and a function
    that is an identifier or a ``<...>`` marker (``<module>``)."""
    return (
        isinstance(site, list)
        and len(site) == 3
        and valid_text(site[0])
        and type(site[1]) is int
        and 0 <= site[1] < MAX_LINE
        and valid_text(site[2], 256)
        and (site[2].isidentifier() or _MARKER.fullmatch(site[2]) is not None)
    )


def find_element(name, body: Body, where: str, source: str, tensor: bool = False):
    """(op name, output index) for a tensor name of ``body``, (op name, None) for an op name;
    ValueError naming ``where`` if ``body`` has no such element."""
    parsed = parse_tensor_name(name)
    if parsed is None and not tensor and valid_name(name):
        parsed = (name, None)
    if parsed is not None and parsed[0] in body.by_name:
        op, index = parsed
        if index is None or index < len(body.by_name[op].outputs):
            return parsed
    kind = "tensor" if tensor else "tensor or op"
    raise ValueError(f"{where}: {echo(name)} is not a {kind} of graph file {source!r}")


@dataclass
class CheckedFile:
    """A graph document that passed every check that needs no graph."""

    source: str
    top: Body
    functions: dict = field(default_factory=dict)  # key -> (Body, {"name", "inputs", "ops"})
    input_map: dict = field(default_factory=dict)  # (op name, index) -> Tensor
    returns: list = field(default_factory=list)  # [(op name, index or None)]
    variables: dict = field(default_factory=dict)  # op name -> the file's variable entry
    collections: dict = field(default_factory=dict)  # key -> [(kind, name)]


def check_graph_doc(doc, source: str, input_map=None, return_elements=None) -> CheckedFile:
    """Check the document ``doc`` of the file ``source``; GraphFileError saying what is wrong.

    A bad ``input_map`` or ``return_elements`` (the caller's, not the file's) raises
    ValueError or TypeError.
    """
    c = _Checker(source)
    doc = c.check_top(doc)
    checked = CheckedFile(source, c.check_body(doc["ops"], "ops"))
    for key, fdoc in doc["functions"].items():
        checked.functions[key] = (c.check_function(key, fdoc), fdoc)
    checked.input_map = c.check_input_map(input_map or {}, checked.top)
    checked.returns = [c.element(r, checked.top, "return_elements") for r in return_elements or []]
    checked.variables = c.check_variables(doc["variables"], checked.top)
    checked.collections = c.check_collections(doc["collections"], checked.top, checked.variables)
    return checked


def _file_order(deps: list) -> list | None:
    """Op indices in an order where each comes after the ones it waits for, the file's order
    where that is free (Kahn's algorithm, smallest index first); None on a cycle. A heap over
    plain lists: networkx's lexicographical sort took a third of checking a file."""
    waiting = [len(set(d)) for d in deps]
    users: list = [[] for _ in deps]
    for i, d in enumerate(deps):
        for p in set(d):
            users[p].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    return order if len(order) == len(deps) else None


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str):
        raise GraphFileError(f"Cannot import graph file {self.source!r}: {message}")

    # ---- whole file ------------------------------------------------------------------------
    def check_top(self, doc) -> dict:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            self.fail(
                f"it is not a flowgraph graph file (format {echo(found)}, expected {FORMAT!r})"
            )
        version = doc.get("version")
        if type(version) is int and version > VERSION:
            self.fail(
                f"it was written by a newer flowgraph (format version {version}); this "
                f"flowgraph reads version {VERSION}"
            )
        if version != VERSION:
            self.fail(
                f"unsupported format version {echo(version)} (this flowgraph reads {VERSION})"
            )
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            self.fail(f"unknown top-level keys {echo(sorted(unknown))}")
        if not isinstance(doc.get("ops"), list):
            self.fail("'ops' must be a list of ops")
        doc = {"functions": {}, "variables": [], "collections": {}, **doc}
        for key, kind in (("functions", dict), ("variables", list), ("collections", dict)):
            if not isinstance(doc[key], kind):
                self.fail(f"{key!r} must be a JSON {'object' if kind is dict else 'list'}")
        return doc

    # ---- ops -------------------------------------------------------------------------------
    def check_op(self, i: int, d, where: str) -> OpDoc:
        at = f"{where}[{i}]"
        if not isinstance(d, dict):
            self.fail(f"{at} must be an object, got {type(d).__name__}")
        if set(d) - _OP_KEYS or _OP_REQUIRED - set(d):
            self.fail(
                f"{at} has keys {echo(sorted(d))}; required {sorted(_OP_REQUIRED)}, "
                f"allowed {sorted(_OP_KEYS)}"
            )
        if not valid_name(d["name"]):
            self.fail(f"{at} has an invalid name {d['name']!r:.80}")
        at = f"{at} ({d['name']!r})"
        if not isinstance(d["type"], str):
            self.fail(f"{at}: 'type' must be a string")
        try:
            get_op_def(d["type"])
        except KeyError:
            self.fail(f"{at}: unknown op type {d['type']!r:.80} (no such op is registered)")
        inputs = d["inputs"] if isinstance(d["inputs"], list) else [None]
        parsed = [parse_tensor_name(t) for t in inputs]
        if None in parsed:
            self.fail(
                f"{at}: 'inputs' must be a list of '<op>:<index>' strings, got {d['inputs']!r:.80}"
            )
        control = d.get("control_inputs", [])
        if not isinstance(control, list) or not all(valid_name(c) for c in control):
            self.fail(f"{at}: 'control_inputs' must be a list of op names")
        if not valid_device(d.get("device", "")):
            self.fail(
                f"{at}: 'device' must be a device string such as '/cpu:0' (at most 256 "
                f"printable characters), got {echo(d.get('device'))}"
            )
        if not isinstance(d["attrs"], dict):
            self.fail(f"{at}: 'attrs' must be an object")
        return OpDoc(
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
                specs.append(
                    (attr_codec.decode_dtype(o["dtype"]), attr_codec.decode_shape(o["shape"]))
                )
            except attr_codec.AttrError as e:
                self.fail(f"{at}: bad output {o!r:.80}: {e}")
        return specs

    def check_site(self, d, at: str) -> CreationSite | None:
        site = d.get("site")
        if site is None:
            return None
        if not valid_site(site):
            self.fail(
                f"{at}: 'site' must be [file, line, function] (a printable file name, a line "
                f"number >= 0, an identifier or <marker>), got {echo(site)}"
            )
        return CreationSite(*site)

    def check_body(self, ops, where: str) -> Body:
        docs = [self.check_op(i, d, where) for i, d in enumerate(ops)]
        by_name = {}
        for d in docs:
            if d.name in by_name:
                self.fail(f"{d.where}: the name is used by {by_name[d.name].where} too")
            by_name[d.name] = d
        deps: list = [[] for _ in docs]  # op index -> indices of the ops it waits for
        for d in docs:
            for op, index in d.inputs:
                producer = by_name.get(op)
                if producer is None:
                    self.fail(
                        f"{d.where}: input {echo(f'{op}:{index}')} refers to op {echo(op)}, "
                        f"which is not in {where}"
                    )
                if index >= len(producer.outputs):
                    self.fail(
                        f"{d.where}: input '{op}:{index}' refers to output {index} of "
                        f"{op!r}, which has {len(producer.outputs)} output(s)"
                    )
                deps[d.index].append(producer.index)
            for op in d.control:
                if op not in by_name:
                    self.fail(f"{d.where}: control input {op!r} is not an op in {where}")
                deps[d.index].append(by_name[op].index)
        order = _file_order(deps)
        if order is None:
            import networkx as nx  # only to name a cycle; not at `import flowgraph` (~40 ms)

            edges = nx.DiGraph((p, i) for i, ps in enumerate(deps) for p in ps)
            cycle = [docs[a].name for a, _ in nx.find_cycle(edges)]
            self.fail(f"{where} cannot be ordered: ops {cycle} depend on each other in a cycle")
        return Body(docs, by_name, order)

    def check_function(self, key, fdoc) -> Body:
        where = f"functions[{echo(key)}]"
        if not valid_text(key):
            self.fail(f"{where}: a function's key must be at most {MAX_TEXT} printable characters")
        if not isinstance(fdoc, dict) or set(fdoc) != {"name", "inputs", "ops"}:
            self.fail(f"{where} must be {{'name', 'inputs', 'ops'}}")
        if not valid_name(fdoc["name"]) or not isinstance(fdoc["ops"], list):
            self.fail(f"{where}: 'name' must be a valid name and 'ops' a list")
        body = self.check_body(fdoc["ops"], f"{where}.ops")
        if not isinstance(fdoc["inputs"], list):
            self.fail(f"{where}: 'inputs' must be a list of tensor names")
        for t in fdoc["inputs"]:
            try:
                self.element(t, body, f"{where}.inputs", tensor=True)
            except ValueError as e:
                self.fail(str(e))
        return body

    def element(self, name, body: Body, where: str, tensor: bool = False):
        return find_element(name, body, where, self.source, tensor)

    # ---- input_map, variables, collections -------------------------------------------------
    def check_input_map(self, input_map, top: Body) -> dict:
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

    def check_variables(self, variables, top: Body) -> dict:
        out = {}
        for i, v in enumerate(variables):
            at = f"variables[{i}]"
            if not isinstance(v, dict) or set(v) != _VARIABLE_KEYS:
                self.fail(f"{at} must have exactly the keys {sorted(_VARIABLE_KEYS)}")
            op = top.by_name.get(v["name"]) if isinstance(v["name"], str) else None
            if op is None or not get_op_def(op.type).is_variable or v["name"] in out:
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

    def check_collections(self, collections, top: Body, variables: dict) -> dict:
        out = {}
        for key, items in collections.items():
            at = f"collections[{echo(key)}]"
            if not valid_text(key):
                self.fail(
                    f"{at}: a collection's key must be at most {MAX_TEXT} printable characters"
                )
            if not isinstance(items, list):
                self.fail(f"{at} must be a list")
            checked = []
            for item in items:
                if not isinstance(item, dict) or len(item) != 1:
                    self.fail(f"{at}: items must be {{'variable'|'tensor'|'operation': name}}")
                ((kind, name),) = item.items()
                ok = {
                    "variable": lambda n: isinstance(n, str) and n in variables,
                    "tensor": lambda n: parse_tensor_name(n) is not None,
                    "operation": valid_name,
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
