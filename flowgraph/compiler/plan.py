"""The Plan: what one (fetches, feeds) signature compiles to, ready to run many times.

Compiling prunes the graph to what the fetches need, builds the IR, runs the passes of the
optimization level (``O0``: none; ``O1``, the default: see ``flowgraph.compiler.passes``) and
generates straight-line code.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None], name="x")
...     y = fg.tanh(x * 2.0, name="y")
...     unused = fg.exp(x, name="unused")
>>> plan = compile_plan([y], [x])
>>> [op.name for op in plan.ops]
['Const', 'Mul', 'y']
>>> print(plan.source)
def run(ctx, x):
    Mul = xp_multiply(x, Const)  # Mul 'Mul'  <doctest ...>:3 in <module>
    y = xp_tanh(Mul, Mul)  # Tanh 'y' (in place)  <doctest ...>:3 in <module>
    return (y,)
<BLANKLINE>
>>> print(compile_plan([y], [x], level="O0").source)
def run(ctx, x):
    Mul = xp_multiply(x, Const)  # Mul 'Mul'  <doctest ...>:3 in <module>
    y = xp_tanh(Mul)  # Tanh 'y'  <doctest ...>:3 in <module>
    del Mul
    return (y,)
<BLANKLINE>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from flowgraph import errors
from flowgraph.backends import get_backend
from flowgraph.compiler import table
from flowgraph.compiler.codegen import GeneratedCode, generate
from flowgraph.compiler.ir import IR, build_ir
from flowgraph.compiler.passes import DEFAULT_LEVEL, PassResult, passes_for, run_passes
from flowgraph.compiler.passes.transfers import Transfer, insert_transfers
from flowgraph.compiler.prune import pruned_ops
from flowgraph.compiler.table import TableCode
from flowgraph.graph.bulk import collector_paused
from flowgraph.ops.execution import error_class, op_error
from flowgraph.ops.registry import get_op_def


@dataclass
class Plan:
    """Ordered ops plus their generated code for one signature."""

    fetches: list  # Tensors / Operations, in the order ``run`` returns them
    feeds: list  # fed Tensors, in the order ``run`` takes their values
    ops: list  # the pruned ops of the user's graph, in execution order (before any pass)
    code: GeneratedCode
    ir: IR | None = None  # what the passes made of ``ops``: the nodes the code runs
    passes: list = field(default_factory=list)  # PassResult per pass run
    level: str = DEFAULT_LEVEL
    traced: bool = False  # the code records per-op timings (``run_traced``)
    # The backend each fed value must be on, and each fetched value is on (None: an
    # Operation); ``backends``: the distinct backends the plan runs on, the session's first.
    feed_backends: list = field(default_factory=list)
    output_backends: list = field(default_factory=list)
    backends: list = field(default_factory=list)
    # Only where a placeholder is placed on another backend than the session's: per feed, the
    # Transfer from the session's backend to its own (None: none needed).
    feed_transfers: list | None = None
    single_backend: bool = True  # every fetched value is on the session's backend
    # Some kernel may call BLAS (anything but elementwise ufuncs): the session then sets its
    # BLAS thread count around runs; a plan of ufuncs only skips that (~0.4 us per run).
    calls_blas: bool = True

    @property
    def source(self) -> str:
        return self.code.source

    @property
    def kept_bytes(self) -> int:
        """Bytes this plan holds between runs in buffers it keeps for values that never leave
        a run (``compiler/buffers.py``); 0 before its first run."""
        namespace = getattr(self.code.function, "__globals__", {})  # (a table keeps none)
        pool = namespace.get("_buffers")
        return 0 if pool is None else pool.nbytes()

    def run(self, ctx, feed_values):
        """Execute; a failing kernel becomes an OpError naming its op (original chained)."""
        try:
            return self.code.function(ctx, *feed_values)
        except Exception as e:  # noqa: BLE001 - every failure is re-raised, named
            raise self._op_error(e) from e

    def run_traced(self, ctx, feed_values, records: list):
        """Execute a traced plan, appending ``(node, start_ns, end_ns, output_bytes)`` per op
        to ``records``."""
        raw: list = []
        try:
            values = self.code.function(ctx, *feed_values, raw)
        except Exception as e:  # noqa: BLE001 - every failure is re-raised, named
            raise self._op_error(e) from e
        finally:
            nodes = self.code.traced_nodes
            records.extend((nodes[i], start, end, size) for i, start, end, size in raw)
        return values

    def _op_error(self, exc: Exception) -> Exception:
        node, lookup = self._failing_node(exc)
        if node is None:
            return exc
        op = node.origin
        inputs = ", ".join(_describe_value(lookup(r), r) for r in node.inputs)
        cls = error_class(exc, _ERROR_FOR.get(type(exc), errors.InvalidArgumentError))
        error = op_error(op, exc, inputs, cls)
        var_name = getattr(exc, "uninitialized_variable", None)
        if var_name is not None:
            error = cls(op=op, message=_uninitialized_message(var_name, op, error.message))
        return error

    def _failing_node(self, exc):
        """``(node, lookup)``: the node whose kernel raised ``exc`` and ``lookup(ref)`` giving
        its input values (None where unknown). Generated code: found from the traceback (costs
        nothing until an error happens, unlike tracking the current op while running); a
        table: from what the table's loop recorded."""
        if isinstance(self.code, TableCode):
            node, values = self.code.failure(exc)
            return node, values.get
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.code.filename:
                node = self.code.line_to_node.get(tb.tb_lineno)
                if node is not None:  # (in a chunked plan, ``run`` calls the failing part)
                    return node, partial(_lookup, tb.tb_frame.f_locals, code=self.code)
            tb = tb.tb_next
        return None, {}.get


def _uninitialized_message(var_name: str, op, message: str) -> str:
    """The variable's own creation line first (the failing op is only its reader), then what
    to run (TF1's message names neither)."""
    candidates = [op, *(t.op for t in op.inputs), *op.graph.get_operations()]
    variable = next(
        (
            c
            for c in candidates
            if get_op_def(c.type).is_variable and c.attrs.get("var_name") == var_name
        ),
        None,
    )
    site = f" created at {variable.site}" if variable is not None else ""
    return (
        f"Attempting to use uninitialized value {var_name}: the variable {var_name!r}{site} has "
        "no value in this session yet. Run sess.run(flowgraph.global_variables_initializer()) "
        "once, after building the model and before training (or run this variable's "
        "initializer), or restore it with a Saver.\n  read by " + message
    )


EXECUTORS = ("auto", "source", "table")


def _make_code(ir, trace: bool, executor: str, keep_buffers: bool):
    """The generated code of ``ir``, or its table (see ``compile_plan``); only generated code
    keeps buffers across runs (compiler/buffers.py)."""
    if executor not in EXECUTORS:
        raise ValueError(f"Unknown executor {executor!r}; use one of {list(EXECUTORS)}")
    if executor == "auto":
        executor = "table" if len(ir.nodes) > table.TABLE_THRESHOLD and not trace else "source"
    if executor == "table" and not trace:
        return TableCode(ir)
    return generate(ir, trace=trace, keep_buffers=keep_buffers)


_ERROR_FOR = {
    MemoryError: errors.ResourceExhaustedError,
    NotImplementedError: errors.UnimplementedError,
}


def _describe_value(value, ref) -> str:
    shape = getattr(value, "shape", None)
    return str(list(shape)) if shape is not None else str(ref[0].specs[ref[1]][1])


def _lookup(frame_locals, ref, code=None):
    # Values live in locals named after their ops; look the input up by its generated name.
    name = code.value_names.get(ref)
    if name is None:
        return None
    if name in frame_locals:
        return frame_locals[name]
    return code.function.__globals__.get(name)


def compile_plan(
    fetches,
    feeds,
    backend="numpy",
    level: str = DEFAULT_LEVEL,
    trace: bool = False,
    placement=None,
    frozen=frozenset(),
    executor: str = "auto",
) -> Plan:
    """Prune to what ``fetches`` need given ``feeds``, order, optimize at ``level``, insert
    the transfers between devices and generate code (``trace``: the instrumented variant, run
    with ``Plan.run_traced``).

    ``fetches`` are Tensors or Operations; ``feeds`` the tensors whose values will be passed in.
    ``placement`` (a ``DevicePlacement``) maps the ops' devices to backends; without it every
    op runs on ``backend``. ``frozen`` ops never run (see :func:`pruned_ops`). ``executor``:
    ``"source"`` (generated code), ``"table"`` (``compiler/table.py``) or ``"auto"``: a table
    for a plan of more than ``TABLE_THRESHOLD`` ops (not traced), else source. Raises
    InvalidArgumentError for an unfed placeholder or a cycle,
    ValueError for an unknown level.
    """
    passes = passes_for(level)
    fetches, feeds = list(fetches), list(feeds)
    # Compiling makes many small objects that all stay alive: the cyclic collector would
    # rescan them again and again for nothing (a third of the time on a 100k-op graph).
    with collector_paused():
        ordered = pruned_ops(fetches, feeds, frozen)
        ir = build_ir(ordered, fetches, feeds, get_backend(backend), placement)
        results = run_passes(ir, passes)
        before = len(ir.nodes)
        moved = insert_transfers(ir)
        if moved:
            results.append(PassResult("insert_transfers", before, len(ir.nodes), moved))
        code = _make_code(ir, trace, executor, keep_buffers=bool(passes))  # O0: none kept
    plan = Plan(fetches, feeds, ordered, code, ir, results, level, trace)
    default = ir.backend
    plan.feed_backends = [f.backend for f in ir.feeds]
    plan.output_backends = [None if r is None else r[0].backend for r in ir.outputs]
    plan.backends = ir.backends()
    if any(b is not default for b in plan.feed_backends):
        plan.feed_transfers = [
            None if b is default else Transfer(default, b) for b in plan.feed_backends
        ]
    plan.single_backend = all(b is default or b is None for b in plan.output_backends)
    plan.calls_blas = not all(_elementwise(node, default) for node in ir.nodes)
    return plan


def _elementwise(node, default) -> bool:
    """Whether ``node`` runs no kernel or a NumPy elementwise ufunc (which never calls BLAS;
    ``matmul`` is a ufunc too, with a signature)."""
    op_def = node.op_def
    if op_def.is_constant or op_def.is_no_op or op_def.read_at_use:  # (a variable read)
        return True
    name = op_def.xp_name
    fn = None if name is None else getattr((node.backend or default).xp, name, None)
    return isinstance(fn, np.ufunc) and fn.signature is None
