"""Debug mode: run a step op by op and name the first op whose output holds a NaN or an Inf.

A compiled plan runs as straight-line code and says nothing about where a NaN was born: by the
time the loss is ``nan`` it has flowed through every later op. ``find_first_nonfinite`` runs
the same ops in the same order through a small interpreter that looks at every floating-point
value as it is made (fed values and variable reads included), and stops at the first one that
is not finite. It trades speed for insight, so use it on the step that went wrong, not in the
training loop.

>>> import numpy as np
>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [3], name="x")
...     y = fg.log(x, name="log_x")
...     loss = fg.reduce_sum(y * 2.0, name="loss")
...     with fg.Session() as sess:
...         report = find_first_nonfinite(sess, loss, {x: [1.0, 0.0, 2.0]})
>>> report.op.name, report.kind
('log_x', 'Inf')
>>> print(report)  # doctest: +ELLIPSIS
Inf first appeared in the output of Log op 'log_x' (created at <doctest ...>:3 in <module>)
  log_x:0  float32 [3]: 1 Inf of 3 values; finite min 0, max 0.6931
  its inputs:
    x:0  float32 [3]: min 0, max 2
  The ops after it (3 of 4) did not run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from flowgraph import errors
from flowgraph.compiler.ir import op_device
from flowgraph.compiler.prune import pruned_ops
from flowgraph.graph.operation import Operation
from flowgraph.ops.execution import bind, op_error
from flowgraph.ops.registry import get_op_def
from flowgraph.runtime.feeds import feed_key, feed_value
from flowgraph.runtime.fetches import flatten


@dataclass
class NonFiniteReport:
    """Where a NaN or Inf first appeared in one run.

    ``op`` made the value (a Placeholder when a fed value was already bad, a VariableV2 when a
    variable already held it); ``tensor`` is the offending output; ``kind`` is ``"NaN"``,
    ``"Inf"`` or ``"Inf and NaN"``; ``inputs`` summarizes the op's input values; ``ops_run`` and
    ``ops_total`` say how far the step got.
    """

    op: Operation
    tensor: object
    kind: str
    source: str  # "op", "feed" or "variable"
    value_summary: str
    inputs: list = field(default_factory=list)
    ops_run: int = 0
    ops_total: int = 0

    def __str__(self) -> str:
        where = self.op.describe()
        if self.source == "feed":
            head = f"{self.kind} was fed: the value given for {self.tensor.name!r}"
        elif self.source == "variable":
            head = (
                f"{self.kind} was already stored in variable {self.op.name!r}: an earlier run "
                "wrote it (check that run, or restore a checkpoint)"
            )
        else:
            head = f"{self.kind} first appeared in the output of {where}"
        lines = [head, f"  {self.value_summary}"]
        if self.inputs:
            lines.append("  its inputs:")
            lines += [f"    {line}" for line in self.inputs]
        left = self.ops_total - self.ops_run
        if left:
            lines.append(f"  The ops after it ({left} of {self.ops_total}) did not run.")
        return "\n".join(lines)


class NonFiniteError(errors.InvalidArgumentError):
    """Raised by :func:`run_with_nan_check`; ``.report`` is the :class:`NonFiniteReport`."""

    def __init__(self, report: NonFiniteReport) -> None:
        super().__init__(op=report.op, message=str(report))
        self.report = report


def find_first_nonfinite(sess, fetches, feed_dict=None) -> NonFiniteReport | None:
    """Run ``fetches`` op by op in ``sess``; report the first NaN/Inf value, or None.

    The run is real: ops before the bad one run with their side effects (variable updates,
    prints), as ``sess.run`` would; the ops after it do not, so a NaN is never written into a
    variable by the step being debugged.
    """
    return _Interpreter(sess, fetches, feed_dict).run()[1]


def run_with_nan_check(sess, fetches, feed_dict=None):
    """``sess.run(fetches, feed_dict)`` in debug mode: the same values, slowly; raises
    :class:`NonFiniteError` (an InvalidArgumentError) naming the first op whose output holds a
    NaN or Inf and where it was created.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [], name="x")
    ...     ratio = fg.divide(x, x, name="ratio")
    ...     sess = fg.Session()
    ...     print(run_with_nan_check(sess, ratio, {x: 2.0}))
    ...     try:
    ...         run_with_nan_check(sess, ratio, {x: 0.0})
    ...     except NonFiniteError as e:
    ...         print(e.report.op.name, e.report.kind)
    1.0
    ratio NaN
    """
    values, report = _Interpreter(sess, fetches, feed_dict).run()
    if report is not None:
        raise NonFiniteError(report)
    return values


class _Interpreter:
    """One run of ``fetches``, executed op by op with every float value checked."""

    def __init__(self, sess, fetches, feed_dict) -> None:
        graph = sess.graph
        self.sess = sess
        self.ctx = sess._context  # the session's variables and random generators
        self.backend = self.ctx.backend
        self.backend_of: dict = {}  # tensor -> the backend its value is on (ops' devices)
        structured = isinstance(fetches, (list, tuple, dict))
        self.elements, self.rebuild = flatten(fetches if structured else [fetches], graph)
        self.single = not structured
        self.feeds = {}
        for key, value in (feed_dict or {}).items():
            tensor = feed_key(key, graph)
            backend = self.backend_of[tensor] = sess.backend_for(tensor.op.device)
            self.feeds[tensor] = backend.from_host(feed_value(tensor, value))
        # The user's ops, unoptimized, in the order a plan runs them; an unfed placeholder
        # raises here as it does in Session.run.
        self.ops = pruned_ops(self.elements, list(self.feeds))

    def run(self):
        """``(fetched values or None, report or None)``."""
        with np.errstate(all="ignore"):  # we look at every value ourselves
            report = self._execute()
        if report is not None:
            return None, report
        out = [self._to_user(e) for e in self.elements]
        return (out[0] if self.single else self.rebuild(out)), None

    def _execute(self):
        self.values = dict(self.feeds)
        self.lazy = {}  # variable reads, made where each consumer runs (as generated code does)
        for t, v in self.feeds.items():
            if self._bad(t, v):
                return self._report(t.op, t, v, "feed", [], 0)
        for done, op in enumerate(self.ops):
            op_def = get_op_def(op.type)
            backend = self.sess.backend_for(op_device(op))
            ctx = self.ctx.on(backend)
            fn = bind(op_def, backend.xp, op.attrs)
            for t in op.outputs:
                self.backend_of.setdefault(t, backend)
            if op_def.read_at_use:
                self.lazy[op.outputs[0]] = functools.partial(fn, ctx)
                continue
            args = []
            for i, t in enumerate(op.inputs):
                if i in op_def.ref_inputs:
                    continue
                value = self._value(t)
                if isinstance(value, NonFiniteReport):
                    value.ops_run, value.ops_total = done, len(self.ops)
                    return value
                source = self.backend_of[t]
                if source is not backend:  # made on another device: moved, as a plan does
                    value = backend.from_host(source.to_host(value))
                args.append(value)
            if op_def.needs_context:
                args.insert(0, ctx)
            try:
                result = fn(*args)
            except Exception as e:  # noqa: BLE001 - re-raised, naming the op
                values = args[1:] if op_def.needs_context else args
                shapes = ", ".join(str(tuple(getattr(v, "shape", ()))) for v in values)
                raise op_error(op, e, shapes) from e
            outputs = (result,) if len(op.outputs) == 1 else tuple(result or ())
            for t, v in zip(op.outputs, outputs):
                if t in self.feeds:
                    continue  # a fed output keeps its fed value
                self.values[t] = v
                if self._bad(t, v):
                    inputs = [_summary(i, self._peek(i), self.backend_of.get(i)) for i in op.inputs]
                    return self._report(op, t, v, "op", inputs, done + 1)
        return None

    def _value(self, t):
        if t in self.values:
            return self.values[t]
        value = self.lazy[t]()
        if self._bad(t, value):
            return self._report(t.op, t, value, "variable", [], 0)
        return value

    def _peek(self, t):
        """An input's value for a summary (a variable is read again: reading changes nothing)."""
        if t in self.values:
            return self.values[t]
        return self.lazy[t]() if t in self.lazy else None

    def _bad(self, t, value) -> bool:
        if value is None or not t.dtype.is_floating:
            return False
        xp = self.backend_of[t].xp
        return not bool(xp.all(xp.isfinite(value)))

    def _report(self, op, t, value, source, inputs, ops_run) -> NonFiniteReport:
        backend = self.backend_of[t]
        host = np.asarray(backend.to_host(value))
        nan, inf = int(np.isnan(host).sum()), int(np.isinf(host).sum())
        kind = "Inf and NaN" if nan and inf else "NaN" if nan else "Inf"
        return NonFiniteReport(
            op, t, kind, source, _summary(t, value, backend), inputs, ops_run, len(self.ops)
        )

    def _to_user(self, element):
        if isinstance(element, Operation):
            return None
        value = self.values.get(element)
        if value is None:
            value = self.lazy[element]()
        value = np.array(self.backend_of[element].to_host(value), copy=True)
        return value[()] if value.ndim == 0 else value


def _summary(t, value, backend) -> str:
    """``name  dtype [shape]: ...`` with the counts and range a debugging reader wants."""
    head = f"{t.name}  {t.dtype.name} {t.shape}"
    if value is None:
        return head + ": (not computed)"
    host = np.asarray(backend.to_host(value))
    head = f"{t.name}  {t.dtype.name} {list(host.shape)}"
    if host.dtype.kind not in "fiu" or host.size == 0:
        return head
    finite = host[np.isfinite(host)] if host.dtype.kind == "f" else host
    parts = []
    if host.dtype.kind == "f":
        nan, inf = int(np.isnan(host).sum()), int(np.isinf(host).sum())
        counts = [f"{n} {what}" for n, what in ((nan, "NaN"), (inf, "Inf")) if n]
        if counts:
            parts.append(" and ".join(counts) + f" of {host.size} values")
    if finite.size:
        low, high = finite.min(), finite.max()
        prefix = "finite " if parts else ""
        parts.append(f"{prefix}min {low:.4g}, max {high:.4g}")
    return head + ": " + "; ".join(parts)
