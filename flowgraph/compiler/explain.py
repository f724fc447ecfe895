"""What the compiler did to one signature, for reading: ``Session.explain`` returns this.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [3], name="x")
...     y = fg.exp(x * (fg.constant(0.5) + 0.5), name="y")
...     print(fg.Session().explain(y, {x: [1, 2, 3]}))  # doctest: +ELLIPSIS
Plan for y:0 with x:0 fed, level O1
pruned graph: 5 ops
fold_constants: 5 -> 5 ops
  folded Add 'Add' into a constant 1.
simplify_arithmetic: 5 -> 4 ops
  replaced Mul 'Mul' (x * 1) by its input
eliminate_common_subexpressions: 4 -> 3 ops
  merged Const 'Const_1' into Const 'Const'
remove_dead_code: 3 -> 1 ops
  removed Const 'Const': its result is not used
  removed Const 'Add': its result is not used
plan_memory: 1 -> 1 ops
generated code:
def run(ctx, x):
    y = xp_exp(x)  # Exp 'y'  <doctest ...>:3 in <module>
    return (y,)
"""

from __future__ import annotations

_SHOWN = 40  # changes listed per pass before "... and N more"


class Explanation:
    """A plan's story: the pruned op count, each pass's op counts and changes, the code.

    ``str()`` (or ``print``) shows it; ``plan`` is the compiled Plan, ``passes`` its
    PassResults, ``source`` the generated code.
    """

    def __init__(self, plan) -> None:
        self.plan = plan
        self.passes = plan.passes
        self.source = plan.source

    def __str__(self) -> str:
        plan = self.plan
        fetched = ", ".join(f.name for f in plan.fetches) or "nothing"
        fed = ", ".join(t.name for t in plan.feeds)
        lines = [
            f"Plan for {fetched}" + (f" with {fed} fed" if fed else "") + f", level {plan.level}"
        ]
        lines.append(f"pruned graph: {len(plan.ops)} ops")
        for result in self.passes:
            lines.append(f"{result.name}: {result.ops_before} -> {result.ops_after} ops")
            lines += [f"  {c}" for c in result.changes[:_SHOWN]]
            if len(result.changes) > _SHOWN:
                lines.append(f"  ... and {len(result.changes) - _SHOWN} more")
        lines.append("generated code:")
        lines.append(self.source.rstrip("\n"))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython / Jupyter
        printer.text(str(self))
