"""Dead-code removal: drop ops whose results nothing uses.

Pruning already leaves out what the fetches do not need; dead code appears when other passes
rewrite around an op (``x * 1 -> x`` leaves the constant 1 unused; folding leaves the inputs of
the folded op unused).

>>> import flowgraph as fg
>>> from flowgraph.compiler.passes import optimized, simplify_arithmetic
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2], name="x")
...     y = fg.exp(x * fg.constant(1.0, name="one"), name="y")
>>> ir, results = optimized([y], [x], passes=[simplify_arithmetic, remove_dead_code])
>>> [n.name for n in ir.nodes], results[1].changes
(['y'], ["removed Const 'one': its result is not used"])
"""

from __future__ import annotations

from functools import partial


def remove_dead_code(ir) -> list[str]:
    """``unused = f(x) -> (nothing)``: remove each op whose outputs no kept op uses and that is
    not fetched, not stateful (an assignment or a print runs for its effect) and not a control
    dependency of a kept op. Variable reads go too when unused: they have no effect.
    """
    live = set(ir.required)
    live.update(ref[0] for ref in ir.outputs if ref is not None)
    kept = []
    changes: list[str] = []
    for node in reversed(ir.nodes):
        op_def = node.op_def
        if node in live or (op_def.stateful and not op_def.read_at_use):
            kept.append(node)
            live.update(n for n, _ in node.inputs)
            live.update(node.control_inputs)
        else:
            changes.append(partial(_removed, node))
    kept.reverse()
    changes.reverse()
    ir.nodes = kept
    return changes


def _removed(node) -> str:
    return f"removed {node.describe()}: its result is not used"
