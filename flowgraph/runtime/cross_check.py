"""Cross-check mode: run one step on two backends, op by op, and compare every intermediate.

"Is my GPU result right?" A plan's fetches can agree to the last digit while an op in the
middle is wrong, or disagree with no hint of where it started. :func:`cross_check` runs the
unoptimized ops of ``fetches`` (pruned and ordered as a plan runs them, no passes) on two
backends in lockstep, from the same feeds, variable values and random draws (generators
draw on the host, so both sides get the same numbers), and compares each op's outputs as it
goes. Errors flow downstream, so the first op in execution order that disagrees is where the
backends part ways; it is named with its type, name and the line that created it.

>>> import numpy as np
>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     y = fg.reduce_sum(fg.tanh(x) * 2.0, name="y")
...     report = cross_check(y, {x: np.ones((2, 3))}, backends=("numpy", "array_api_strict"))
>>> report.ok, len(report.comparisons), report.first_mismatch is None
(True, 4, True)
>>> print(report)  # doctest: +ELLIPSIS
cross-check numpy vs array_api_strict: 4 values from 4 ops agree (default tolerances per dtype)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flowgraph.backends import get_backend, to_numpy
from flowgraph.compiler.prune import pruned_ops
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.operation import Operation
from flowgraph.ops.execution import bind
from flowgraph.ops.registry import get_op_def
from flowgraph.runtime.feeds import feed_key, feed_value
from flowgraph.runtime.fetches import flatten
from flowgraph.runtime.run_context import RunContext

# Default tolerances per floating dtype: float32 kernels of two libraries sum in different
# orders (cuBLAS against OpenBLAS), which moves the last few digits.
TOLERANCES = {
    "float16": (1e-2, 1e-3),
    "float32": (1e-4, 1e-5),
    "float64": (1e-9, 1e-12),
}


@dataclass
class Comparison:
    """One output of one op, as computed on both backends."""

    op: Operation
    index: int
    ok: bool
    max_abs: float = 0.0
    max_rel: float = 0.0
    mismatched: int = 0  # elements outside the tolerance
    size: int = 0
    problem: str = ""  # a dtype or shape difference, or an exception on one side

    def describe(self) -> str:
        where = self.op.describe()
        output = f", output {self.index}" if len(self.op.outputs) > 1 else ""
        if self.problem:
            return f"{where}{output}: {self.problem}"
        return (
            f"{where}{output}: max abs error {self.max_abs:.3g}, max rel error "
            f"{self.max_rel:.3g}; {self.mismatched} of {self.size} elements outside the tolerance"
        )


@dataclass
class CrossCheckReport:
    """Every compared value in execution order; ``first_mismatch`` is the first that differs
    (None when all agree); ``values`` the fetched values per backend, as NumPy arrays."""

    backends: tuple
    rtol: float | None
    atol: float | None
    comparisons: list = field(default_factory=list)
    values: dict = field(default_factory=dict)

    @property
    def first_mismatch(self) -> Comparison | None:
        return next((c for c in self.comparisons if not c.ok), None)

    @property
    def ok(self) -> bool:
        return self.first_mismatch is None

    def __str__(self) -> str:
        a, b = self.backends
        ops = len({id(c.op) for c in self.comparisons})
        head = f"cross-check {a} vs {b}: {len(self.comparisons)} values from {ops} ops"
        first = self.first_mismatch
        if first is None:
            return f"{head} agree ({self._tolerance_text()})"
        bad = sum(not c.ok for c in self.comparisons)
        return f"{head}: {bad} disagree ({self._tolerance_text()})\n  first: {first.describe()}"

    def _tolerance_text(self) -> str:
        if self.rtol is not None or self.atol is not None:
            return f"rtol {self.rtol}, atol {self.atol}"
        return "default tolerances per dtype"


class CrossCheckError(AssertionError):
    """The backends disagree; ``.report`` is the :class:`CrossCheckReport`."""

    def __init__(self, report: CrossCheckReport) -> None:
        super().__init__(str(report))
        self.report = report


def cross_check(
    fetches,
    feed_dict=None,
    backends=("numpy", "array_api_strict"),
    rtol: float | None = None,
    atol: float | None = None,
    graph=None,
    session=None,
    seed: int = 0,
    raise_on_mismatch: bool = True,
) -> CrossCheckReport:
    """Run ``fetches`` op by op on both ``backends`` (names, Backends or array namespaces) and
    compare every op's outputs; raise :class:`CrossCheckError` naming the first op that
    disagrees (or, with ``raise_on_mismatch=False``, return the report saying so).

    Floats agree when ``|b - a| <= atol + rtol * |a|`` elementwise, ``a`` from the first
    backend (the reference), NaNs where NaNs are (default tolerances per dtype in
    ``TOLERANCES``); integers and booleans must be equal. Variables
    start from ``session``'s values (else they must be initialized by the fetches
    themselves); random ops draw from generators seeded by ``seed``, the same on both sides.
    The session itself is not changed.
    """
    if len(backends) != 2:
        raise ValueError(f"cross_check compares two backends, got {len(backends)}")
    if graph is None:
        graph = session.graph if session is not None else _graph_of(fetches)
    structured = isinstance(fetches, (list, tuple, dict))
    elements, rebuild = flatten(fetches if structured else [fetches], graph)
    feeds = {feed_key(k, graph): v for k, v in (feed_dict or {}).items()}
    feeds = {t: feed_value(t, v) for t, v in feeds.items()}
    ops = pruned_ops(elements, list(feeds))
    runners = [_Runner(get_backend(b), seed, session, feeds) for b in backends]
    report = CrossCheckReport(tuple(r.backend.name for r in runners), rtol, atol)
    with np.errstate(all="ignore"):
        for op in ops:
            outputs = [r.execute(op) for r in runners]
            report.comparisons += _compare(op, outputs, rtol, atol)
            if any(isinstance(o, BaseException) for o in outputs):
                break  # both raised (re-raised below) or one did (a mismatch): stop here
    failed = [o for o in outputs if isinstance(o, BaseException)] if ops else []
    if len(failed) == len(runners):
        raise failed[0]
    if not failed:
        for r in runners:
            out = [r.fetched(e) for e in elements]
            report.values[r.backend.name] = out[0] if not structured else rebuild(out)
    if raise_on_mismatch and not report.ok:
        raise CrossCheckError(report)
    return report


def _graph_of(fetches):
    items = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    for item in items:
        graph = getattr(item, "graph", None)
        if graph is not None:
            return graph
    return get_default_graph()


class _Runner:
    """The ops of one step executed one at a time on one backend."""

    def __init__(self, backend, seed, session, feeds) -> None:
        self.backend = backend
        self.ctx = RunContext(backend, seed)
        if session is not None:
            for name, value in session._context.variables.items():
                self.ctx.variables[name] = backend.from_host(np.array(to_numpy(value)))
        self.values = {t: backend.from_host(v) for t, v in feeds.items()}
        self.reads: dict = {}  # variable reads, made where each consumer runs

    def execute(self, op):
        """The op's outputs (a tuple), or the exception it raised."""
        op_def = get_op_def(op.type)
        fn = bind(op_def, self.backend.xp, op.attrs)
        try:
            if op_def.read_at_use:
                self.reads[op.outputs[0]] = fn
                return (fn(self.ctx),)
            args = [self.value(t) for i, t in enumerate(op.inputs) if i not in op_def.ref_inputs]
            if op_def.needs_context:
                args.insert(0, self.ctx)
            result = fn(*args)
        except Exception as e:  # noqa: BLE001 - compared with the other side, then re-raised
            return e
        outputs = (result,) if len(op.outputs) == 1 else tuple(result or ())
        for t, v in zip(op.outputs, outputs):
            self.values.setdefault(t, v)  # a fed output keeps its fed value
        return outputs

    def value(self, t):
        if t in self.values:
            return self.values[t]
        return self.reads[t](self.ctx)

    def fetched(self, element):
        if isinstance(element, Operation):
            return None
        value = np.array(to_numpy(self.backend.to_host(self.value(element))), copy=True)
        return value[()] if value.ndim == 0 else value


def _compare(op, outputs, rtol, atol) -> list[Comparison]:
    first, second = outputs
    errors = [o for o in outputs if isinstance(o, BaseException)]
    if errors:
        if len(errors) == 2:
            return []
        side = 0 if isinstance(first, BaseException) else 1
        text = f"{type(errors[0]).__name__}: {errors[0]}"
        return [Comparison(op, 0, False, problem=f"raised on backend {side + 1} only: {text}")]
    return [
        _compare_values(op, i, a, b, rtol, atol)
        for i, (a, b) in enumerate(zip(first, second))
        if a is not None or b is not None
    ]


def _compare_values(op, index, a, b, rtol, atol) -> Comparison:
    a, b = np.asarray(to_numpy(a)), np.asarray(to_numpy(b))
    if a.dtype != b.dtype or a.shape != b.shape:
        problem = f"{a.dtype}{list(a.shape)} on one backend, {b.dtype}{list(b.shape)} on the other"
        return Comparison(op, index, False, size=a.size, problem=problem)
    if a.dtype.kind not in "fc":  # integers and booleans: exactly equal
        unequal = a != b
        bad = int(np.count_nonzero(unequal))
        wide = np.abs(a.astype(np.float64) - b.astype(np.float64))
        max_abs = float(wide.max()) if bad else 0.0
        return Comparison(op, index, not bad, max_abs, 0.0, bad, a.size)
    default_rtol, default_atol = TOLERANCES.get(a.dtype.name, TOLERANCES["float64"])
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    wide_a, wide_b = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(wide_a), np.isnan(wide_b)
    diff = np.abs(wide_a - wide_b)
    same = (wide_a == wide_b) | (nan_a & nan_b)  # equal infinities and NaNs agree
    close = same | (diff <= atol + rtol * np.abs(wide_a))
    finite = np.isfinite(diff)
    max_abs = float(diff[finite].max()) if finite.any() else 0.0
    scaled = finite & (wide_a != 0)  # relative to the reference, where it is not zero
    max_rel = float((diff[scaled] / np.abs(wide_a[scaled])).max()) if scaled.any() else 0.0
    mismatched = int(a.size - np.count_nonzero(close))
    return Comparison(op, index, not mismatched, max_abs, max_rel, mismatched, a.size)
