"""Cutting a compiled plan into segments, one Dask task each.

Every IR node gets a worker: an op placed on ``/job:worker/task:N`` (or ``/job:ps/task:N``)
runs on the N-th worker (addresses sorted); an update (``Assign``, ``ApplyAdam``) runs where
its variable lives; an unplaced op follows its first computed input, or runs on worker 0 when
it has none (unplaced variables live on worker 0). Constants are copied into each segment
that uses them.

Nodes are then grouped, in plan order, into segments of consecutive work for one worker: a
node joins its worker's open segment when every value it takes from another segment comes
from an older one, so segments depend only on older segments (no cycles), and a plan that
runs mostly on one worker becomes a few tasks, not one per op.

Two phases keep a failed step from half-updating variables: phase 1 holds every node that
writes no variable and does not depend on one that does; phase 2 (the updates and what
follows them) is submitted only once all of phase 1 has succeeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flowgraph.compiler.ir import is_constant, op_device

_TASK = re.compile(r"/job:(?P<job>[A-Za-z_][\w-]*)(?:/replica:\d+)?/task:(?P<task>\d+)")


def device_task(device: str):
    """``(job, task)`` of a device string, or None when it names no task.

    >>> device_task("/job:worker/task:1"), device_task("/job:ps/task:0/cpu:0"), device_task("")
    (('worker', 1), ('ps', 0), None)
    """
    m = _TASK.search(device or "")
    return None if m is None else (m.group("job"), int(m.group("task")))


@dataclass
class Segment:
    index: int
    worker: int
    phase: int
    nodes: list = field(default_factory=list)
    # (producing segment index or "feed", key) per external arg, in arg order
    args: list = field(default_factory=list)
    arg_position: dict = field(default_factory=dict)
    exports: list = field(default_factory=list)  # (node, output index) exported, in order
    export_position: dict = field(default_factory=dict)
    after: set = field(default_factory=set)  # segments it must run after (control inputs)

    def arg_for(self, key) -> int:
        pos = self.arg_position.get(key)
        if pos is None:
            pos = self.arg_position[key] = len(self.args)
            self.args.append(key)
        return pos


def _writes(node) -> bool:
    return node.op_def is not None and bool(node.op_def.ref_inputs)


def assign_workers(ir, n_workers: int, job_tasks=None) -> dict:
    """``{node: worker index}`` for the nodes of ``ir`` (constants: None, floating)."""
    where: dict = {}
    for node in ir.nodes:
        if is_constant(node):
            where[node] = None
            continue
        task = device_task(op_device(node.origin))
        if task is not None:
            index = task[1] if job_tasks is None else job_tasks(*task)
            if not 0 <= index < n_workers:
                raise ValueError(
                    f"{node.type} op {node.origin_name!r} is placed on "
                    f"{op_device(node.origin)!r}, but the cluster has {n_workers} worker(s)"
                )
            where[node] = index
            continue
        follow = None
        for producer, _ in node.inputs:
            w = where.get(producer)
            if w is not None:
                follow = w
                break
        where[node] = 0 if follow is None else follow
    return where


def partition(ir, where: dict) -> tuple:
    """``(segments in submission order, {node: its segment})`` given each node's worker."""
    tainted = set()  # phase 2: writes a variable, or depends on something that does
    for node in ir.nodes:
        deps = [p for p, _ in node.inputs] + list(node.control_inputs)
        if _writes(node) or any(d in tainted for d in deps):
            tainted.add(node)
    segments: list = []
    open_segment: dict = {}  # (worker, phase) -> Segment
    home: dict = {}  # node -> Segment
    for node in ir.nodes:
        if is_constant(node):
            continue
        worker, phase = where[node], 2 if node in tainted else 1
        sources = set()
        for producer, _ in (*node.inputs, *((c, 0) for c in node.control_inputs)):
            seg = home.get(producer)
            if seg is not None:
                sources.add(seg.index)
        current = open_segment.get((worker, phase))
        if current is None or any(s >= current.index for s in sources if s != current.index):
            current = Segment(len(segments), worker, phase)
            segments.append(current)
            open_segment[(worker, phase)] = current
        current.nodes.append(node)
        home[node] = current
    return segments, home


def instructions_for(segment: Segment, home: dict) -> tuple:
    """The worker-side instructions of ``segment``; fills its ``args``/``after``; returns
    ``(instructions, node positions)``."""
    instructions: list = []
    position: dict = {}

    def local(node) -> int:
        if is_constant(node) and node not in position:  # floating: copied in
            position[node] = len(instructions)
            instructions.append(("Const", node.attrs, [], 1))
        return position[node]

    for node in segment.nodes:
        refs = []
        for producer, index in node.inputs:
            single = len(producer.specs) == 1
            if producer.type == "Feed":
                refs.append(("x", segment.arg_for(("feed", producer)), None))
            elif is_constant(producer) or home.get(producer) is segment:
                refs.append(("l", local(producer), None if single else index))
            else:
                source = home[producer]
                pos = source.export_position.get((producer, index))
                if pos is None:
                    pos = source.export_position[(producer, index)] = len(source.exports)
                    source.exports.append((producer, index))
                refs.append(("x", segment.arg_for(("segment", source.index)), pos))
        for c in node.control_inputs:
            source = home.get(c)
            if source is not None and source is not segment:
                segment.after.add(source.index)
        position[node] = len(instructions)
        instructions.append((node.type, node.attrs, refs, len(node.specs)))
    return instructions, position


def written_variables(segment: Segment) -> list:
    """Names of the variables (and optimizer slots) the segment's updates write."""
    names = []
    for node in segment.nodes:
        if _writes(node):
            for key, value in node.attrs.items():
                if key.endswith("name") and isinstance(value, str) and value:
                    names.append(value)
    return names


class DistributedPlan:
    """One signature's segments, ready to submit."""

    def __init__(self, plan, n_workers, job_tasks) -> None:
        ir = plan.ir
        self.plan = plan
        where = assign_workers(ir, n_workers, job_tasks)
        self.segments, home = partition(ir, where)
        self.instructions, self.positions, self.names = [], [], []
        for seg in self.segments:
            ins, pos = instructions_for(seg, home)
            self.instructions.append(ins)
            self.positions.append(pos)
            self.names.append(written_variables(seg))
        # per fetch: ("none",), ("const", value), ("feed", node) or ("seg", segment, export)
        self.outputs = []
        for ref in ir.outputs:
            if ref is None:
                self.outputs.append(("none",))
                continue
            node, index = ref
            if is_constant(node):
                self.outputs.append(("const", node.attrs["value"]))
            elif node.type == "Feed":
                self.outputs.append(("feed", node))
            else:
                seg = home[node]
                pos = seg.export_position.get((node, index))
                if pos is None:
                    pos = seg.export_position[(node, index)] = len(seg.exports)
                    seg.exports.append((node, index))
                self.outputs.append(("seg", seg.index, pos))
        self.exports = []
        for seg, pos in zip(self.segments, self.positions):
            self.exports.append(
                [(pos[n], None if len(n.specs) == 1 else i) for n, i in seg.exports]
            )

    def node_at(self, segment: int, position: int):
        for node, p in self.positions[segment].items():
            if p == position:
                return node
        return None
