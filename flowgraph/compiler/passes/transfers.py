"""Transfers between devices: partition a plan by device and move values across the cuts.

Each node runs on its op's device's backend (``ir.build_ir`` placed it). Where a node reads a
value made on another backend, this pass inserts a ``Transfer`` node right before the first
such reader; later readers on the same device share it. Generated code shows it as one
statement, ``MatMul_on_cpu = to_cpu(MatMul)``. A variable read is read where each consumer
runs (an assignment may come between), so each of its readers gets a transfer of its own. A
constant is not moved at each run: a copy of it is made on the reader's device once, when the
plan is compiled (an optimizer's learning rate, made on the CPU, read by an update on the GPU).

Unlike the optimization passes this one is not optional: compiling runs it after the passes
of every level (memory planning included, which never writes in place across devices), and
it changes nothing in a plan whose ops all run on one backend. A transferred value may share
memory with its source (NumPy can view a CPU namespace's buffer), so nothing computes into it
in place.

>>> import flowgraph as fg
>>> from flowgraph.backends import DevicePlacement, get_backend
>>> from flowgraph.compiler.plan import compile_plan
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float64, [2], name="x")
...     with fg.device("/device:other:0"):
...         y = fg.exp(x, name="y")
...     z = fg.negative(y, name="z")
>>> numpy = get_backend("numpy")
>>> other = get_backend("array_api_strict")
>>> placement = DevicePlacement(numpy, {"/device:other:0": other})
>>> print(compile_plan([z], [x], numpy, placement=placement).source)  # doctest: +ELLIPSIS
def run(ctx, x):
    x_on_other = to_other(x)  # Transfer 'x' (numpy -> array_api_strict)
    y = array_api_strict_exp(x_on_other)  # Exp 'y'  <doctest ...>:4 in <module>
    del x_on_other
    y_on_cpu = to_cpu(y)  # Transfer 'y' (array_api_strict -> numpy)
    del y
    z = xp_negative(y_on_cpu)  # Neg 'z'  <doctest ...>:5 in <module>
    del y_on_cpu
    return (z,)
<BLANKLINE>
"""

from __future__ import annotations

from flowgraph.backends.devices import canonical_device, device_label
from flowgraph.compiler.ir import Node, is_constant, op_device
from flowgraph.ops.registry import OpDef


class Transfer:
    """The callable generated code binds as ``to_<device>``: ``source`` array -> ``target``
    array, through the host (NumPy)."""

    def __init__(self, source, target) -> None:
        self.source, self.target = source, target

    def __call__(self, value):
        return self.target.from_host(self.source.to_host(value))

    def __repr__(self) -> str:
        return f"<Transfer {self.source.name} -> {self.target.name}>"


class _TransferDef(OpDef):
    def bind(self, xp, attrs: dict) -> Transfer:
        return Transfer(attrs["source"], attrs["target"])


# Not a registered op (users never build one): the node type generated code and traces show.
TRANSFER = _TransferDef("Transfer", infer=None, kernel=Transfer)


def insert_transfers(ir) -> list[str]:
    """``f(x)`` on device B with ``x`` made on device A -> ``f(to_B(x))``: one Transfer node
    per value and device that needs it, right before its first reader there (one per reader
    for variable reads). Returns one line per transfer."""
    if len(ir.backends()) < 2:
        return []
    shared: dict = {}  # (ref, target backend id) -> transfer ref
    changes: list[str] = []
    nodes = []
    for node in ir.nodes:
        target = node.backend
        for j, ref in enumerate(node.inputs):
            source = ref[0].backend
            if source is target or source is None or target is None:
                continue
            volatile = ref[0].op_def is not None and ref[0].op_def.read_at_use
            key = (ref, id(target))
            moved = None if volatile else shared.get(key)
            if moved is None:
                transfer = _transfer_node(ref, node, target)
                nodes.append(transfer)
                moved = (transfer, 0)
                if not volatile:
                    shared[key] = moved
                how = "copied" if is_constant(transfer) else "moved"
                changes.append(
                    f"{how} {ref[0].describe()} from {source.name} to {target.name} "
                    f"for {node.describe()}"
                )
            node.inputs[j] = moved
        nodes.append(node)
    ir.nodes = _without_unread_constants(nodes, ir) if changes else nodes
    return changes


def _without_unread_constants(nodes, ir) -> list:
    """``nodes`` less the constants only other devices read (each got its own copy)."""
    read = {producer for node in nodes for producer, _ in node.inputs}
    read.update(ref[0] for ref in ir.outputs if ref is not None)
    return [n for n in nodes if not is_constant(n) or n in read]


def _transfer_node(ref, consumer, target) -> Node:
    producer, index = ref
    label = device_label(canonical_device(op_device(consumer.origin)))
    origin = producer.origin if producer.type != "Feed" else producer.origin.op
    base = producer.name if index == 0 else f"{producer.name}_{index}"
    if is_constant(producer):  # its value is known now: a copy on the target device
        value = producer.attrs["value"]
        return Node.constant(value, producer.origin, f"{base}_on_{label}", target)
    attrs = {"source": producer.backend, "target": target, "label": label}
    specs = (producer.specs[index],)
    return Node("Transfer", TRANSFER, [ref], [], attrs, specs, origin, f"{base}_on_{label}", target)
