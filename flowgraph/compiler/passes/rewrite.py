"""One rewrite driver for the passes that replace ops: the rules are tables, the loop is here.

Constant folding, arithmetic simplification and common-subexpression elimination are each a
table of *rules* (``{op type: rule functions}``, the key ``None`` for rules that apply to every
type), given to :func:`rewrite`, which owns the loop they once each wrote for themselves
(tinygrad's ``graph_rewrite`` is the model: pattern -> replacement, applied to a fixed point).

A rule is ``rule(node, state) -> None | (replacement, why)``; ``state`` is a dict the pass
may keep things in across nodes (CSE remembers the expressions it saw). The replacement is

- a value reference ``(node, index)``: the node's (single) output becomes that value;
- a new :class:`~flowgraph.compiler.ir.Node`: it stands in for the node, output for output,
  and is offered to the rules again (``transpose(transpose(transpose(x)))`` folds all the way:
  a fixed point is reached where no rule applies), then kept;
- a list, one entry per output: each a value reference, or a new node whose output 0 takes
  that output's place (folded constants).

The driver visits nodes in execution order, so a node's inputs are already replaced when its
rules see it (producers come first): one sweep reaches the fixed point. Nodes that order side
effects (``IR.pinned``) are left alone, and a replacement that would move a variable read (an
``is_volatile`` value, read where each consumer runs) is refused. Each pass gives a
``report(node, replacement, why) -> str`` that words the change for ``Session.explain``,
called only when someone reads it.

>>> import flowgraph as fg
>>> from flowgraph.compiler.ir import build_ir
>>> from flowgraph.compiler.prune import pruned_ops
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2], name="x")
...     y = fg.negative(fg.negative(x), name="y")
>>> ir = build_ir(pruned_ops([y], [x]), [y], [x])
>>> def double_negation(node, state):
...     inner = node.inputs[0][0]
...     return (inner.inputs[0], "-(-x)") if inner.type == "Neg" else None
>>> changes = rewrite(ir, {"Neg": [double_negation]}, lambda node, new, why: f"{node.name}: {why}")
>>> [change() for change in changes]
['y: -(-x)']
>>> [n.name for n in ir.nodes], ir.outputs[0][0].name
(['Neg'], 'x')
"""

from __future__ import annotations

from functools import partial

from flowgraph.compiler.ir import Node, is_volatile

MAX_REWRITES_PER_NODE = 64  # a rule table that never settles is a bug: stop, keep the node


def rewrite(ir, rules: dict, report) -> list:
    """Apply ``rules`` (``{op type or None: [rule, ...]}``) to every node of ``ir`` in one
    sweep, replacing what they rewrite; returns one callable per change, giving ``report``'s
    line for it (``PassResult.changes`` calls them when read)."""
    pinned = ir.pinned()
    generic = tuple(rules.get(None, ()))
    table = {key: tuple(fns) + generic for key, fns in rules.items() if key is not None}
    replaced: dict = {}  # (node, index) -> (node, index) it became
    state: dict = {}
    changes: list[str] = []
    kept = []
    for node in ir.nodes:
        if replaced:
            inputs = node.inputs
            for r in inputs:
                if r in replaced:
                    node.inputs = [_resolve(replaced, r) for r in inputs]
                    break
        if pinned and node in pinned:
            kept.append(node)
            continue
        fns = table.get(node.type, generic)
        found = _first_match(node, fns, state) if fns else None
        if found is None:  # (most nodes: no rule applies)
            kept.append(node)
            continue
        current = node
        for rewrites in range(1, MAX_REWRITES_PER_NODE + 1):
            replacement, why = found
            changes.append(partial(report, current, replacement, why))  # worded when read
            if isinstance(replacement, Node):  # offered to the rules again
                _replace_outputs(replaced, current, replacement)
                current = replacement
                fns = table.get(current.type, generic)
                if rewrites == MAX_REWRITES_PER_NODE:
                    break
                found = _first_match(current, fns, state) if fns else None
                if found is None:
                    break
                continue
            if isinstance(replacement, tuple):
                replaced[(current, 0)] = replacement
            else:
                for i, new in enumerate(replacement):
                    if isinstance(new, Node):
                        kept.append(new)
                        new = (new, 0)
                    replaced[(current, i)] = new
            current = None
            break
        if current is not None:
            kept.append(current)
    if replaced:
        ir.outputs = [None if r is None else _resolve(replaced, r) for r in ir.outputs]
    ir.nodes = kept
    return changes


def _first_match(node, fns, state):
    for fn in fns:
        found = fn(node, state)
        if found is not None and not _moves_a_read(found[0]):
            return found
    return None


def _moves_a_read(replacement) -> bool:
    """Whether ``replacement`` would put a variable read where the node's value was."""
    if isinstance(replacement, tuple):
        return is_volatile(replacement)
    if isinstance(replacement, Node):
        return any(is_volatile(r) for r in replacement.inputs)
    return any(not isinstance(r, Node) and is_volatile(r) for r in replacement)


def _replace_outputs(replaced, old, new) -> None:
    for i in range(len(old.specs)):
        replaced[(old, i)] = (new, i)


def _resolve(replaced, ref):
    while ref in replaced:
        ref = replaced[ref]
    return ref
