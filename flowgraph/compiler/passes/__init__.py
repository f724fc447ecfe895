"""The optimization passes and the pass manager that runs them by level.

Each pass is a function ``pass(ir) -> changes``: it rewrites the IR (never the user's graph)
and returns one line per change (or a callable making it), for ``Session.explain``. Levels
name the pass lists:

- ``O0``: none — the pruned graph runs as built (releasing each value after its last use);
- ``O1`` (the default): constant folding, arithmetic simplification, common-subexpression
  elimination, dead-code removal, and memory planning (in-place elementwise ops).

No pass changes a result: tests run O1 against O0 on many random graphs and training steps.

Elementwise fusion is not a pass: measured, it does not pay. On the chain of
``benchmarks/chain_overhead.py`` (1,000 chained ``tanh`` / ``add`` ops on ``float64[4]``, the
case most favourable to it), nesting up to 8 in-place ufunc calls into one statement
(``xp_add(xp_tanh(y, y), x, y)``) ran 3-5% faster than the generated one statement per op with
in-place buffers (160 against 166 us per run), which already avoids the allocations; on large
arrays NumPy's ufuncs make one pass over memory per call either way, fused or not. It would
cost the one readable line, error location and trace entry per op, so it stays off.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [3], name="x")
...     y = fg.exp(x * 1.0, name="y")
>>> ir, results = optimized([y], [x], level="O1")
>>> [(r.name, r.ops_before, r.ops_after) for r in results]  # doctest: +NORMALIZE_WHITESPACE
[('fold_constants', 3, 3), ('simplify_arithmetic', 3, 2),
 ('eliminate_common_subexpressions', 2, 2), ('remove_dead_code', 2, 1), ('plan_memory', 1, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowgraph.compiler.passes.cse import eliminate_common_subexpressions
from flowgraph.compiler.passes.dce import remove_dead_code
from flowgraph.compiler.passes.fold import fold_constants
from flowgraph.compiler.passes.memory import plan_memory
from flowgraph.compiler.passes.simplify import simplify_arithmetic

__all__ = [
    "LEVELS",
    "PassResult",
    "eliminate_common_subexpressions",
    "fold_constants",
    "optimized",
    "plan_memory",
    "remove_dead_code",
    "run_passes",
    "simplify_arithmetic",
]

LEVELS = {
    "O0": (),
    "O1": (
        fold_constants,
        simplify_arithmetic,
        eliminate_common_subexpressions,
        remove_dead_code,
        plan_memory,  # last: it plans for the final order of the nodes
    ),
}
DEFAULT_LEVEL = "O1"


@dataclass
class PassResult:
    """What one pass did: the op counts before and after it and one line per change.

    A pass may give a change as a callable that words it: ``changes`` calls it when first
    read (a 300,000-op plan makes 100,000 changes that nobody may ever read).
    """

    name: str
    ops_before: int
    ops_after: int
    raw_changes: list = field(default_factory=list)  # str, or a callable returning one

    @property
    def changes(self) -> list[str]:
        raw = self.raw_changes
        if any(not isinstance(c, str) for c in raw):
            self.raw_changes = raw = [c if isinstance(c, str) else c() for c in raw]
        return raw


def passes_for(level) -> tuple:
    """The passes of ``level`` (a name in LEVELS); ValueError naming the levels otherwise."""
    try:
        return LEVELS[level]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown optimization level {level!r}; use one of {sorted(LEVELS)}"
        ) from None


def run_passes(ir, passes) -> list[PassResult]:
    """Run ``passes`` over ``ir`` in order, recording what each changed."""
    results = []
    for run in passes:
        before = len(ir.nodes)
        changes = run(ir)
        results.append(PassResult(run.__name__, before, len(ir.nodes), changes))
    return results


def optimized(fetches, feeds, passes=None, level=None, backend="numpy"):
    """``(ir, results)``: the IR of ``fetches`` given ``feeds`` after ``passes`` (or the passes
    of ``level``). For tests and teaching; ``compile_plan`` is what sessions use."""
    from flowgraph.backends import get_backend
    from flowgraph.compiler.ir import build_ir
    from flowgraph.compiler.prune import pruned_ops

    ir = build_ir(pruned_ops(fetches, feeds), fetches, feeds, get_backend(backend))
    chosen = passes if passes is not None else passes_for(level or DEFAULT_LEVEL)
    return ir, run_passes(ir, chosen)
