"""How a kernel runs — the one place: bind it, run it, turn its failure into an OpError naming
the op and the user's line, and choose who executes op functions (graph building or eager).

Every executor goes through here: the generated plans (they bind at compile time and call
:func:`op_error` only after a kernel raised, so their happy path costs nothing), dynamic mode's
tape (:func:`bind`, :func:`kernel_error`, :func:`user_frame`), the NaN finder and the
cross-check (:func:`run`), the Dask worker, and traced runs.

The user's line is the innermost stack frame outside the flowgraph package
(:func:`user_site`, :func:`user_frame` from ``graph/site.py``, the lowest layer, since graph
ops store it when they are created; eager ops keep it when they run). Every OpError's message
is built here (:func:`failure_message`), quoting that line.

>>> import numpy as np
>>> from flowgraph.ops.registry import get_op_def
>>> relu = bind(get_op_def("Relu"), np, {})
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> try:
...     run(get_op_def("MatMul"), np, {"transpose_a": False, "transpose_b": False},
...         [np.ones((2, 3)), np.ones((2, 3))], "MatMul", "mm")
... except Exception as e:
...     print(type(e).__name__, str(e).split(":")[0])
InvalidArgumentError MatMul op 'mm' failed
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextlib import contextmanager

from flowgraph import errors
from flowgraph.graph.site import (  # the user's line: found there, re-exported for executors
    PACKAGE_DIR,
    site_of,
    user_frame,
    user_site,
    user_stacklevel,
)

__all__ = [
    "PACKAGE_DIR",
    "bind",
    "call_with",
    "current_executor",
    "error_class",
    "executing_eagerly",
    "executing_with",
    "failure_message",
    "kernel_error",
    "op_error",
    "run",
    "shape_failure_message",
    "site_of",
    "user_frame",
    "user_site",
    "user_stacklevel",
]

# ---- binding and running ------------------------------------------------------------------


def bind(op_def, xp, attrs: dict) -> Callable:
    """The callable an executor invokes with the op's input values (attrs fixed): the
    namespace's own function for ``xp_name`` ops, else the kernel with ``xp`` (or, for
    ``needs_context`` kernels, nothing: the caller passes the run's context first)."""
    if op_def.xp_name is not None:
        return getattr(xp, op_def.xp_name)
    kernel_attrs = {k: v for k, v in attrs.items() if not k.startswith("_")}
    head = () if op_def.needs_context else (xp,)
    return functools.partial(op_def.kernel, *head, **kernel_attrs)


def run(op_def, xp, attrs, values, op, name=None, site=None, context=None):
    """Run one op's kernel on ``values``; a failure becomes an OpError naming the op (``op``:
    a graph Operation, or its type when there is none, then with ``name`` and ``site``)."""
    fn = bind(op_def, xp, attrs)
    try:
        return fn(context, *values) if op_def.needs_context else fn(*values)
    except Exception as e:  # noqa: BLE001 - every failure is re-raised, naming the op
        shapes = ", ".join(f"{getattr(v, 'shape', ())}" for v in values)
        if isinstance(op, str):
            raise kernel_error(e, op, name, site, shapes) from e
        raise op_error(op, e, shapes) from e


def failure_message(op_type: str, name: str, site, detail: str, shapes=None) -> str:
    """``Tanh op 'h' failed: <detail>`` / ``created at model.py:3 in f`` / input shapes."""
    message = f"{op_type} op {name!r} failed: {detail}\n  created at {site}"
    if shapes is not None:
        message += f"\n  input shapes: {shapes or 'none'}"
    return message


def _detail(exc: BaseException) -> str:
    return exc.message if isinstance(exc, errors.OpError) else f"{type(exc).__name__}: {exc}"


def error_class(exc: BaseException, default=errors.InvalidArgumentError) -> type:
    """The OpError class a kernel's failure is reported as: its own when it is one."""
    return type(exc) if isinstance(exc, errors.OpError) else default


def op_error(op, exc: BaseException, shapes=None, cls=None) -> errors.OpError:
    """A graph op's kernel failed: the OpError naming ``op`` (type, name, creation line)."""
    message = failure_message(op.type, op.name, op.site, _detail(exc), shapes)
    return (cls or error_class(exc))(op=op, message=message)


def kernel_error(exc: BaseException, op_type: str, name: str, site, shapes) -> errors.OpError:
    """An op without a graph Operation (an eager op) failed: the same message, with the
    line that ran it."""
    message = failure_message(op_type, name, site, _detail(exc), shapes)
    return error_class(exc)(message=message)


# ---- who executes op functions ---------------------------------------------------------------


class _Mode(threading.local):
    eager_executor = None  # set by flowgraph.dynamic while it calls into the op library


mode = _Mode()


def current_executor():
    """The executor op functions call now (None: they build graph ops)."""
    return mode.eager_executor


@contextmanager
def executing_with(executor):
    """Run op functions through ``executor(op_def, inputs, attrs, name)`` instead of adding
    graph ops (``None`` restores graph building). flowgraph.dynamic uses this to run the same
    op library define-by-run; it is per thread."""
    saved = mode.eager_executor
    mode.eager_executor = executor
    try:
        yield
    finally:
        mode.eager_executor = saved


def call_with(executor, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with op functions run by ``executor``: what
    :func:`executing_with` does, without a context manager's cost (dynamic mode calls this
    around every op function it runs)."""
    saved = mode.eager_executor
    mode.eager_executor = executor
    try:
        return fn(*args, **kwargs)
    finally:
        mode.eager_executor = saved


def executing_eagerly() -> bool:
    """True while op functions compute values instead of building graph ops."""
    return mode.eager_executor is not None


def shape_failure_message(op_type: str, name: str, inputs, site, reason: str) -> str:
    """An op's shape rule refused its inputs (at graph building, or as an eager op runs):
    the rule's reason, the op and its user's line, the inputs' shapes and dtypes."""
    shapes = ", ".join(str(t.shape) for t in inputs) or "none"
    dtypes = ", ".join(t.dtype.name for t in inputs) or "none"
    return (
        f"{reason}\n  in {op_type} op {name!r} created at {site}\n"
        f"  with input shapes: {shapes}; input dtypes: {dtypes}"
    )
