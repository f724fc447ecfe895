"""Profiling a run: per-op wall time and output bytes, exported as a Chrome trace.

As in TF1, pass ``options=RunOptions(trace_level=RunOptions.FULL_TRACE)`` and a
``run_metadata=RunMetadata()`` to ``Session.run``. The session then runs an instrumented
variant of the plan (compiled once per signature and cached apart from the plain one, which
stays free of any timing code) and fills ``run_metadata.step_stats`` with one :class:`OpStats`
per op that ran: the user's op name and type, where it was created, when it started, how long
it took, and the bytes of its outputs. ``chrome_trace()`` turns them into the JSON that
Perfetto (https://ui.perfetto.dev) and ``chrome://tracing`` open.

>>> import json
>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2, 3], name="x")
...     y = fg.reduce_sum(fg.tanh(x, name="t"), name="total")
...     meta = RunMetadata()
...     with fg.Session() as sess:
...         _ = sess.run(y, {x: [[1, 2, 3], [4, 5, 6]]},
...                      options=RunOptions(trace_level=RunOptions.FULL_TRACE),
...                      run_metadata=meta)
>>> [(s.name, s.type, s.output_bytes) for s in meta.step_stats]
[('t', 'Tanh', 24), ('total', 'Sum', 4)]
>>> event = json.loads(meta.chrome_trace())["traceEvents"][-1]
>>> event["name"], event["ph"], event["args"]["type"]
('total', 'X', 'Sum')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


class RunOptions:
    """Options of one ``Session.run`` (TF1's ``RunOptions``); only ``trace_level`` acts.

    Any level above ``NO_TRACE`` records per-op timings; there is no hardware to trace.
    """

    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3

    def __init__(self, trace_level: int = NO_TRACE, timeout_in_ms: int = 0, **_ignored) -> None:
        self.trace_level = trace_level
        self.timeout_in_ms = timeout_in_ms

    def __repr__(self) -> str:
        return f"RunOptions(trace_level={self.trace_level})"


def wants_trace(options) -> bool:
    """Whether ``options`` (a RunOptions, or None) asks for a traced run."""
    return options is not None and getattr(options, "trace_level", 0) > RunOptions.NO_TRACE


@dataclass
class OpStats:
    """One op of a traced run. Times are in nanoseconds from the start of the run."""

    name: str  # the user's op name
    type: str
    site: str  # where the user created the op (``model.py:12 in build``)
    start_ns: int
    duration_ns: int
    output_bytes: int  # the size of its outputs (0 where they are not arrays)
    in_place: bool = False  # the op wrote its result into a dying input's buffer

    @property
    def duration_us(self) -> float:
        return self.duration_ns / 1000


@dataclass
class RunMetadata:
    """What a traced run recorded (TF1's ``RunMetadata``): ``step_stats``, one :class:`OpStats`
    per op in execution order. Each traced run replaces the previous run's stats."""

    step_stats: list = field(default_factory=list)

    def record(self, records, start_ns: int) -> None:
        """Fill ``step_stats`` from a traced plan's ``(node, start, end, bytes)`` records."""
        self.step_stats = [
            OpStats(
                node.origin_name,
                node.type,
                str(node.site),
                start - start_ns,
                end - start,
                size,
                node.inplace is not None,
            )
            for node, start, end, size in records
        ]

    def chrome_trace(self) -> str:
        """The stats as Chrome trace JSON: one complete event (``"ph": "X"``) per op, named
        after the user's op, with its type, creation line and output bytes as arguments."""
        events = [
            {
                "name": "process_name",
                "ph": "M",
                "pid": 0,
                "args": {"name": "flowgraph Session.run"},
            },
            {"name": "thread_name", "ph": "M", "pid": 0, "tid": 0, "args": {"name": "ops"}},
        ]
        for s in self.step_stats:
            events.append(
                {
                    "name": s.name,
                    "cat": s.type,
                    "ph": "X",
                    "pid": 0,
                    "tid": 0,
                    "ts": s.start_ns / 1000,  # microseconds, as the format wants
                    "dur": s.duration_ns / 1000,
                    "args": {
                        "type": s.type,
                        "created at": s.site,
                        "output bytes": s.output_bytes,
                        "in place": s.in_place,
                    },
                }
            )
        return json.dumps({"traceEvents": events, "displayTimeUnit": "ms"}, indent=1)

    def save_chrome_trace(self, path) -> None:
        """Write :meth:`chrome_trace` to ``path`` (open it in https://ui.perfetto.dev)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.chrome_trace())

    def summary(self, top: int = 10) -> str:
        """The ``top`` slowest ops, one line each, with their share of the run."""
        total = sum(s.duration_ns for s in self.step_stats) or 1
        rows = sorted(self.step_stats, key=lambda s: s.duration_ns, reverse=True)[:top]
        lines = [f"{len(self.step_stats)} ops, {total / 1e3:.1f} us in ops"]
        for s in rows:
            share = 100 * s.duration_ns / total
            lines.append(
                f"{s.duration_us:10.1f} us {share:5.1f}%  {s.type} {s.name!r}  "
                f"({s.output_bytes} bytes)  {s.site}"
            )
        return "\n".join(lines)
