"""The compiler's IR: the pruned, ordered ops of one (fetches, feeds) signature as plain nodes
that the passes may rewrite freely, leaving the user's Graph untouched.

A :class:`Node` is one op to run: its ``type`` and op definition, its ``inputs`` as
references ``(node, output_index)`` to other nodes' outputs (a fed tensor is a ``Feed`` node),
its ``attrs``, one ``(dtype, shape)`` spec per output, its ``backend`` (the array namespace
that runs it, from the op's device), and its ``origin``: the user's Operation, which gives the
node its name and creation site in generated code, errors and traces. Passes build new nodes
(a folded constant, a composed transpose) with the origin and backend of the op they replace,
so what runs is always traceable to a line the user wrote.

>>> import flowgraph as fg
>>> from flowgraph.compiler.prune import pruned_ops
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [3], name="x")
...     y = fg.tanh(x * 1.0, name="y")
>>> ir = build_ir(pruned_ops([y], [x]), [y], [x])
>>> [(n.type, n.name) for n in ir.nodes]
[('Const', 'Const'), ('Mul', 'Mul'), ('Tanh', 'y')]
>>> ir.nodes[1].inputs[0][0].type, ir.outputs[0][0].name
('Feed', 'y')
"""

from __future__ import annotations

from itertools import chain

from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.ops.registry import get_op_def


class Node:
    """One op of the IR (or a ``Feed``: a value passed in when the plan runs)."""

    __slots__ = (
        "type",
        "op_def",
        "inputs",
        "control_inputs",
        "attrs",
        "specs",
        "origin",
        "name",
        "inplace",
        "backend",
    )

    def __init__(
        self, op_type, op_def, inputs, control_inputs, attrs, specs, origin, name, backend=None
    ):
        self.type = op_type
        self.op_def = op_def  # None for a Feed
        self.inputs = inputs  # [(node, output_index)]: the values the kernel receives
        self.control_inputs = control_inputs  # [node]: run before this one
        self.attrs = attrs
        self.specs = specs  # ((dtype, TensorShape), ...) per output
        self.origin = origin  # the user's Operation (a Feed: the fed tensor)
        self.name = name
        self.inplace = None  # set by plan_memory: the input whose buffer the output reuses
        self.backend = backend  # the Backend that runs it (where its values live)

    @classmethod
    def from_op(cls, op, inputs, control_inputs, backend=None, op_def=None) -> Node:
        outputs = op.outputs
        if len(outputs) == 1:  # (most ops: no generator)
            specs = ((outputs[0].dtype, outputs[0].shape),)
        else:
            specs = tuple((t.dtype, t.shape) for t in outputs)
        op_def = op_def or get_op_def(op.type)
        return cls(op.type, op_def, inputs, control_inputs, op.attrs, specs, op, op.name, backend)

    @classmethod
    def feed(cls, tensor, backend=None) -> Node:
        name = tensor.op.name if tensor.value_index == 0 else tensor.name
        specs = ((tensor.dtype, tensor.shape),)
        return cls("Feed", None, [], [], {}, specs, tensor, name, backend)

    @classmethod
    def constant(cls, value, origin, name=None, backend=None) -> Node:
        """A Const node holding ``value`` (a read-only NumPy array) in place of ``origin``."""
        specs = ((as_dtype(value.dtype), TensorShape(value.shape)),)
        attrs = {"value": value}
        const = get_op_def("Const")
        return cls("Const", const, [], [], attrs, specs, origin, name or origin.name, backend)

    def derived(self, op_type, inputs, attrs) -> Node:
        """A new node of ``op_type`` standing in for this one (same outputs, origin, name and
        backend)."""
        return Node(
            op_type,
            get_op_def(op_type),
            inputs,
            [],
            attrs,
            self.specs,
            self.origin,
            self.name,
            self.backend,
        )

    @property
    def site(self):
        origin = self.origin
        return origin.site if self.type != "Feed" else origin.op.site

    def describe(self) -> str:
        """``Mul 'dense/mul'``: how explanations and traces name a node."""
        return f"{self.type} {self.origin_name!r}"

    @property
    def origin_name(self) -> str:
        return self.origin.name

    def __repr__(self) -> str:
        return f"<Node {self.type} {self.name!r}>"


def is_constant(node) -> bool:
    """A Const node (a Feed node has no OpDef)."""
    return node.op_def is not None and node.op_def.is_constant


def is_const(ref) -> bool:
    return is_constant(ref[0])


def spec(ref):
    """``(dtype, TensorShape)`` of the value ``ref`` names."""
    return ref[0].specs[ref[1]]


def is_volatile(ref) -> bool:
    """Whether ``ref`` is a variable read, evaluated anew where each consumer runs: replacing
    a node's output with it would move the read past an assignment."""
    op_def = ref[0].op_def
    return op_def is not None and op_def.read_at_use


def broadcasts_into(small, big) -> bool:
    """Whether broadcasting a value of static shape ``small`` against one of shape ``big``
    surely leaves ``big``'s run-time shape unchanged: each of ``small``'s dims is 1 or equals
    the known dim of ``big`` it lines up with.

    >>> from flowgraph.graph.shape import TensorShape as S
    >>> broadcasts_into(S([256]), S([None, 256])), broadcasts_into(S([None, 1]), S([None, 4]))
    (True, False)
    """
    s, b = small.dims, big.dims
    if s is None or b is None or len(s) > len(b):
        return False
    if s == b:  # (the usual case: equal shapes) surely the same unless a dim is unknown
        return None not in s
    for d, e in zip(reversed(s), reversed(b)):
        if d != 1 and (e is None or d != e):
            return False
    return True


class IR:
    """The nodes of one plan, in execution order, and what goes in and out of it.

    ``feeds``: Feed nodes, in the order the plan takes their values. ``outputs``: one reference
    per fetch (None for a fetched Operation, which only has to run); ``required``: the nodes of
    fetched Operations. ``original_outputs`` keeps the references before any pass ran.
    """

    def __init__(self, nodes, feeds, outputs, required, fetches, backend=None) -> None:
        self.nodes = nodes
        self.feeds = feeds
        self.outputs = outputs
        self.original_outputs = list(outputs)
        self.required = required
        self.fetches = fetches  # the user's fetch elements, for messages
        self.backend = backend  # the session's backend: ops without a device of their own

    def __len__(self) -> int:
        return len(self.nodes)

    def backends(self) -> list:
        """The distinct backends the nodes run on, the session's first."""
        default = self.backend
        found = {id(default): default} if default is not None else {}
        for node in chain(self.feeds, self.nodes):
            backend = node.backend
            if backend is not default and backend is not None:  # (most nodes: the default)
                found.setdefault(id(backend), backend)
        return list(found.values())

    def pinned(self) -> set:
        """Nodes that order side effects: they have control inputs, or are one. Passes keep
        them as they are (their inputs may still be rewritten)."""
        pinned = set()
        for node in self.nodes:
            if node.control_inputs:
                pinned.add(node)
                pinned.update(node.control_inputs)
        return pinned


def op_device(op) -> str:
    """The device an op runs on: its own, but an update's (``Assign``, ``ApplyAdam``) is its
    variable's, so a variable's value is written where it lives (TF colocates them too)."""
    refs = get_op_def(op.type).ref_inputs
    if refs:
        return op.inputs[refs[0]].op.device
    return op.device


def build_ir(ordered_ops, fetches, feeds, backend=None, placement=None) -> IR:
    """The IR of ``ordered_ops`` (pruned and in execution order) for ``fetches`` given ``feeds``.

    Ref inputs (an assignment's target variable) are left out of ``inputs``: the kernel gets no
    value for them. ``placement`` (a ``DevicePlacement``) picks each node's backend from its
    op's device; without it every node runs on ``backend``.
    """

    def backend_of(op):
        return backend if placement is None else placement.backend_for(op_device(op))

    feed_nodes = {t: Node.feed(t, backend_of(t.op)) for t in feeds}
    node_of: dict = {}
    nodes = []
    op_defs: dict = {}
    for op in ordered_ops:
        op_type = op.type
        op_def = op_defs.get(op_type)
        if op_def is None:
            op_def = op_defs[op_type] = get_op_def(op_type)
        refs = op_def.ref_inputs
        inputs = []
        for i, t in enumerate(op.inputs):
            if refs and i in refs:
                continue
            fed = feed_nodes.get(t) if feed_nodes else None
            inputs.append((fed, 0) if fed is not None else (node_of[t.op], t.value_index))
        controls = (  # (not frozen ones; no list for the many ops without any)
            [node_of[c] for c in op.control_inputs if c in node_of] if op.control_inputs else ()
        )
        node_backend = backend if placement is None else backend_of(op)
        outputs = op.outputs
        if len(outputs) == 1:  # (most ops; Node.from_op, inlined: run for every op)
            specs = ((outputs[0].dtype, outputs[0]._shape),)
        else:
            specs = tuple((t.dtype, t.shape) for t in outputs)
        node = Node(op_type, op_def, inputs, controls, op.attrs, specs, op, op.name, node_backend)
        node_of[op] = node
        nodes.append(node)
    outputs, required = [], []
    for f in fetches:
        if f in feed_nodes:
            outputs.append((feed_nodes[f], 0))
        elif hasattr(f, "value_index"):
            outputs.append((node_of[f.op], f.value_index))
        else:
            outputs.append(None)
            required.append(node_of[f])
    feed_list = [feed_nodes[t] for t in feeds]
    return IR(nodes, feed_list, outputs, required, list(fetches), backend)
