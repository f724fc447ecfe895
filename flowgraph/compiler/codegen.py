"""Generated code: a Plan's ops as one straight-line Python function.

Each op becomes one statement that calls its bound kernel; constants are bound as globals; a
value is ``del``-ed right after its last use so memory is released as early as possible.
There is no per-op dispatch loop, so running an op costs little more than the kernel call
itself, and a student can print exactly what a ``Session.run`` executes::

    def run(ctx, x):
        MatMul = k_MatMul(x, W1)            # MatMul 'MatMul'  model.py:12
        ...
"""

from __future__ import annotations

import keyword
import linecache
import re
from dataclasses import dataclass, field
from itertools import count

from flowgraph.ops.registry import get_op_def

_plan_ids = count()


@dataclass
class GeneratedCode:
    source: str
    function: object
    filename: str
    line_to_op: dict = field(default_factory=dict)  # source line -> Operation
    value_names: dict = field(default_factory=dict)  # Tensor -> the name holding its value


class _Names:
    """Unique Python identifiers derived from op names (``dense/MatMul`` -> ``dense_MatMul``)."""

    def __init__(self) -> None:
        self._used = {"ctx", "run"}

    def make(self, text: str) -> str:
        base = re.sub(r"\W", "_", text)
        if not base or base[0].isdigit() or keyword.iskeyword(base):
            base = "_" + base
        name, i = base, 1
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name


def generate(ordered_ops, fetches, feeds, backend) -> GeneratedCode:
    """Compile ``ordered_ops`` into ``run(ctx, *feed_values) -> tuple of fetched values``.

    ``fetches`` are Tensors or Operations (an Operation's slot returns None); ``feeds`` the fed
    tensors in the order their values are passed.
    """
    names = _Names()
    value_of: dict = {}  # Tensor -> Python expression holding its value
    namespace: dict = {}
    for t in feeds:
        value_of[t] = names.make(t.op.name if t.value_index == 0 else t.name)
    last_use = _last_uses(ordered_ops, fetches, feeds)
    body: list[tuple[str, object]] = []  # (statement, op or None)
    for index, op in enumerate(ordered_ops):
        statement = _statement(op, value_of, names, namespace, backend, feeds)
        if statement is not None:
            body.append((statement, op))
        dead = [value_of[t] for t in last_use.get(index, ()) if t in value_of and t not in feeds]
        dead = [v for v in dead if v.isidentifier() and v not in namespace]
        if dead:
            body.append(("del " + ", ".join(dict.fromkeys(dead)), None))
    returned = ", ".join("None" if f not in value_of else value_of[f] for f in fetches)
    params = ", ".join(["ctx"] + [value_of[t] for t in feeds])
    lines = [f"def run({params}):"]
    line_to_op = {}
    for statement, op in body:
        lines.append("    " + statement)
        if op is not None:
            line_to_op[len(lines)] = op
    lines.append(f"    return ({returned},)")
    source = "\n".join(lines) + "\n"
    filename = f"<flowgraph plan {next(_plan_ids)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return GeneratedCode(source, namespace["run"], filename, line_to_op, value_of)


def _statement(op, value_of, names, namespace, backend, feeds):
    """One line of code for ``op`` (or None when it needs none), registering its outputs."""
    op_def = get_op_def(op.type)
    if op.type == "Const":
        const = names.make(op.name)
        namespace[const] = backend.from_host(op.attrs["value"])
        value_of[op.outputs[0]] = const
        return None
    if op.type == "NoOp":
        return None
    args = [value_of[t] for i, t in enumerate(op.inputs) if i not in op_def.ref_inputs]
    if op_def.xp_name is not None:
        callee = "xp_" + op_def.xp_name
        namespace.setdefault(callee, op_def.bind(backend.xp, op.attrs))
    else:
        callee = names.make("k_" + op.name)
        namespace[callee] = op_def.bind(backend.xp, op.attrs)
        if op_def.needs_context:
            args.insert(0, "ctx")
    if op_def.read_at_use:
        value_of[op.outputs[0]] = f"{callee}({', '.join(args)})"
        return None
    outputs = []
    for t in op.outputs:
        if t in feeds:  # a fed output keeps its fed value; compute into a throwaway name
            outputs.append("_")
        else:
            value_of[t] = names.make(op.name if t.value_index == 0 else f"{op.name}_{t.value_index}")
            outputs.append(value_of[t])
    call = f"{callee}({', '.join(args)})"
    comment = f"  # {op.type} {op.name!r}  {op.site}"
    if not outputs:
        return call + comment
    target = outputs[0] if len(outputs) == 1 else ", ".join(outputs)
    return f"{target} = {call}{comment}"


def _last_uses(ordered_ops, fetches, feeds) -> dict:
    """Map op index -> tensors whose last reader is that op (never fetched tensors)."""
    fetched = set(fetches)
    last = {}
    for index, op in enumerate(ordered_ops):
        refs = get_op_def(op.type).ref_inputs
        for i, t in enumerate(op.inputs):
            if i not in refs:
                last[t] = index
        for t in op.outputs:
            last.setdefault(t, index)  # an output nobody reads dies where it is made
    by_index: dict = {}
    for t, index in last.items():
        if t not in fetched:
            by_index.setdefault(index, []).append(t)
    return by_index
