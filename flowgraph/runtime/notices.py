"""Warnings for TF1's classic silent surprises, each raised once.

``GraphGrowthWarning``: a graph that keeps gaining ops between runs usually means ops are
being created inside the training loop (``sess.run(tf.assign(...))`` in a loop, or a notebook
cell re-run against the same default graph). Each run then compiles a new plan and the graph
grows without bound. The warning names the line that keeps adding ops.

``SkippedOpWarning``: a run that leaves out a side-effect op (an assignment, an optimizer
update, a Print, an Assert, a check) created since the last run, which nothing else uses.
TF1 runs only what the fetches need, so ``v.assign(5)`` followed by ``sess.run(v)`` silently
prints the old value. The warning names the op and its line, and says how to make it run.

Both cost one integer comparison per run while the graph does not change: the Session's
:class:`GrowthWatch` compares ``graph.version`` once and feeds both notices.
"""

from __future__ import annotations

import warnings

from flowgraph.graph.site import user_stacklevel
from flowgraph.ops.registry import get_op_def


class GraphGrowthWarning(UserWarning):
    """The graph a Session runs keeps growing between runs."""


class SkippedOpWarning(UserWarning):
    """A side-effect op created since the last run did not run: nothing fetched needs it."""


class GrowthWatch:
    """Watches a Session's graph between runs and raises the notices above.

    ``check()`` starts each run: it notes whether the graph grew (warning once at ``limit``
    consecutive growing runs) and collects the new side-effect ops nothing consumes.
    ``report_skipped(plan)`` then warns about those the run's plan leaves out.
    """

    def __init__(self, graph, limit: int = 10) -> None:
        self.graph = graph
        self.limit = limit
        self._version = None
        self._growing_runs = 0
        self._warned = False
        self._seen_ops = 0  # ops already looked at for the skipped-op notice
        self._pending: list = []  # new side-effect ops with no consumer, not yet run

    def check(self) -> None:
        """Called at the start of each run: cheap unless the graph changed since the last."""
        version = self.graph.version
        if version == self._version:
            self._growing_runs = 0
            return
        first = self._version is None
        self._version = version
        ops = self.graph.get_operations()
        if first:  # the graph as the first run finds it is the baseline, built before any run
            self._seen_ops = len(ops)
            return
        self._collect(ops)
        if self._warned:
            return
        self._growing_runs += 1
        if self._growing_runs >= self.limit:
            self._warned = True
            newest = ops[-1]
            warnings.warn(
                f"The graph has grown between {self._growing_runs} consecutive Session.run calls "
                f"(now {len(ops)} ops; the newest, {newest.type} op "
                f"{newest.name!r}, was added at {newest.site}). Creating ops inside a training "
                "loop makes the graph grow forever and recompiles every run: build them once "
                "before the loop. In a notebook, build each model in a fresh "
                "`with flowgraph.Graph().as_default():` block or call "
                "flowgraph.reset_default_graph() first; graph.finalize() turns this into an error.",
                GraphGrowthWarning,
                stacklevel=user_stacklevel(),  # the user's line that runs the loop
            )

    # ---- skipped side-effect ops -------------------------------------------------------------
    def _collect(self, ops) -> None:
        """Add the side-effect ops created since the last look that nothing consumes.

        An op's consumers and control dependents are created after it, so looking at the new
        ops alone finds every consumer of a new op (and of a still-pending older one).
        """
        new = ops[self._seen_ops :]
        self._seen_ops = len(ops)
        used = set()
        for op in new:
            used.update(t.op for t in op.inputs)
            used.update(op.control_inputs)
        pending = [op for op in self._pending if op not in used]
        pending += [op for op in new if op not in used and has_side_effect(op)]
        self._pending = pending

    def report_skipped(self, plan) -> None:
        """Called once a run has its plan: warn about pending ops the plan does not run.

        A run that initializes variables defers the warning to the next run: programs often
        build a train op, run an initializer, and only then run the train op.
        """
        if not self._pending:
            return
        ran = set(plan.ops)  # the user's ops the plan runs (before any optimization pass)
        skipped = [op for op in self._pending if op not in ran]
        if skipped and any(_is_variable_initializer(op) for op in ran):
            self._pending = skipped
            return
        self._pending = []
        for op in skipped[:_MAX_WARNINGS]:
            warnings.warn(_skipped_message(op), SkippedOpWarning, stacklevel=user_stacklevel())
        if len(skipped) > _MAX_WARNINGS:
            rest = ", ".join(f"{op.name!r} ({op.site})" for op in skipped[_MAX_WARNINGS:])
            warnings.warn(
                f"{len(skipped) - _MAX_WARNINGS} more side-effect ops did not run: {rest}.",
                SkippedOpWarning,
                stacklevel=user_stacklevel(),
            )


_MAX_WARNINGS = 5

# Stateful ops that only read state: leaving them out of a run loses nothing.
_READ_ONLY = frozenset({"VariableV2", "IsVariableInitialized", "ReportUninitializedVariables"})

_EFFECT = {
    "Assign": "so variable {var} was not assigned",
    "AssignAdd": "so variable {var} was not updated",
    "AssignSub": "so variable {var} was not updated",
    "Print": "so nothing was printed",
    "Assert": "so nothing was checked",
    "CheckNumerics": "so nothing was checked",
}


def has_side_effect(op) -> bool:
    """Whether leaving ``op`` out of a run loses an effect: a stateful op that is not a
    variable read, a random draw (stateful only because each run draws anew), or a variable's
    own initializer (run by ``global_variables_initializer``)."""
    op_def = get_op_def(op.type)
    if not op_def.stateful or op_def.read_at_use or op.type in _READ_ONLY:
        return False
    if "seed" in op_def.attrs:  # random ops and dropout masks
        return False
    return not _is_variable_initializer(op)


def _is_variable_initializer(op) -> bool:
    # Variable(...) names its initializer "<variable>/Assign" and gives it the variable as
    # its first (ref) input; a user's assignment is named after the user's scope instead.
    return (
        get_op_def(op.type).overwrites_variable
        and get_op_def(op.inputs[0].op.type).is_variable
        and op.name == op.inputs[0].op.name + "/Assign"
    )


def _skipped_message(op) -> str:
    var = repr(op.attrs.get("var_name", "?"))
    effect = _EFFECT.get(op.type, "so its effect is lost")
    if op.type not in _EFFECT and "var_name" in op.attrs and get_op_def(op.type).ref_inputs:
        effect = "so the update of variable {var} did not happen"  # ApplyAdam and friends
    return (
        f"{op.describe()} did not run: it was created after the "
        f"previous Session.run and nothing this run fetched depends on it, "
        f"{effect.format(var=var)}. TF1 graphs run only what the fetches need. To run it, "
        f"fetch it (sess.run([..., {op.name!r}])) or make it a control dependency of what you "
        "fetch (`with flowgraph.control_dependencies([op]): ...`)."
    )
