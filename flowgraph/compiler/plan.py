"""The Plan: what one (fetches, feeds) signature compiles to, ready to run many times.

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
    y = xp_tanh(Mul)  # Tanh 'y'  <doctest ...>:3 in <module>
    del Mul
    return (y,)
<BLANKLINE>
"""

from __future__ import annotations

from dataclasses import dataclass

from flowgraph import errors
from flowgraph.backends import get_backend
from flowgraph.compiler.codegen import GeneratedCode, generate
from flowgraph.compiler.prune import check_feeds, dependency_graph, execution_order


@dataclass
class Plan:
    """Ordered ops plus their generated code for one signature."""

    fetches: list  # Tensors / Operations, in the order ``run`` returns them
    feeds: list  # fed Tensors, in the order ``run`` takes their values
    ops: list  # the pruned ops in execution order
    code: GeneratedCode

    @property
    def source(self) -> str:
        return self.code.source

    def run(self, ctx, feed_values):
        """Execute; a failing kernel becomes an OpError naming its op (original chained)."""
        try:
            return self.code.function(ctx, *feed_values)
        except Exception as e:  # noqa: BLE001 - every failure is re-raised, named
            raise self._op_error(e) from e

    def _op_error(self, exc: Exception) -> Exception:
        op, frame_locals = self._failing_op(exc.__traceback__)
        if op is None:
            return exc
        inputs = ", ".join(_describe_value(frame_locals, t, self.code) for t in op.inputs)
        detail = exc.message if isinstance(exc, errors.OpError) else f"{type(exc).__name__}: {exc}"
        message = (
            f"{op.type} op {op.name!r} failed: {detail}\n"
            f"  created at {op.site}\n"
            f"  input shapes: {inputs or 'none'}"
        )
        error_class = type(exc) if isinstance(exc, errors.OpError) else _ERROR_FOR.get(
            type(exc), errors.InvalidArgumentError
        )
        return error_class(op=op, message=message)

    def _failing_op(self, tb):
        """The op whose generated line raised, found from the traceback (costs nothing until
        an error happens, unlike tracking the current op while running)."""
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.code.filename:
                return self.code.line_to_op.get(tb.tb_lineno), tb.tb_frame.f_locals
            tb = tb.tb_next
        return None, {}


_ERROR_FOR = {
    MemoryError: errors.ResourceExhaustedError,
    NotImplementedError: errors.UnimplementedError,
}


def _describe_value(frame_locals, tensor, code) -> str:
    # Values live in locals named after their ops; look the input up by its generated name.
    shape = getattr(_lookup(frame_locals, tensor, code), "shape", None)
    return str(list(shape)) if shape is not None else str(tensor.shape)


def _lookup(frame_locals, tensor, code):
    name = code.value_names.get(tensor)
    if name is None:
        return None
    if name in frame_locals:
        return frame_locals[name]
    return code.function.__globals__.get(name)


def compile_plan(fetches, feeds, backend: str = "numpy") -> Plan:
    """Prune to what ``fetches`` need given ``feeds``, order, and generate code.

    ``fetches`` are Tensors or Operations; ``feeds`` the tensors whose values will be passed in.
    Raises InvalidArgumentError for an unfed placeholder or a cycle.
    """
    fed = set(feeds)
    # A fetched tensor that is also fed is returned as fed: its producer need not run.
    fetch_ops = list(dict.fromkeys(getattr(f, "op", f) for f in fetches if f not in fed))
    deps = dependency_graph(fetch_ops, feeds)
    check_feeds(deps, fetch_ops, fed)
    ordered = execution_order(deps)
    code = generate(ordered, list(fetches), list(feeds), get_backend(backend))
    return Plan(list(fetches), list(feeds), ordered, code)
