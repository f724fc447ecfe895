"""What runs inside a Dask worker: one segment of a partitioned plan, and the worker's
long-lived variable store.

A segment is a list of instructions ``(op_type, attrs, inputs, n_outputs)``; each input is
``("l", position, index)`` (an earlier instruction of the segment) or ``("x", arg, index)``
(item ``index`` of the ``arg``-th value handed to the task: another segment's exports, or a
fed array when ``index`` is None). The segment returns a tuple of its exported values.

Each worker keeps one :class:`~flowgraph.runtime.run_context.RunContext` per distributed session
(an attribute of the Dask ``Worker`` object, so it outlives tasks and is not in
``worker.data``): its ``variables`` dict is where the variables placed on this worker live.
"""

from __future__ import annotations

import numpy as np

from flowgraph import errors
from flowgraph.backends import get_backend
from flowgraph.ops.execution import bind
from flowgraph.ops.registry import get_op_def
from flowgraph.runtime.run_context import RunContext

_STATE_ATTR = "_flowgraph_contexts"


class RemoteOpError(Exception):
    """A kernel failed on a worker: which instruction, and what it raised (picklable)."""

    def __init__(self, position, error_class, detail, shapes) -> None:
        super().__init__(position, error_class, detail, shapes)
        self.position = position
        self.error_class = error_class  # the name of an OpError subclass, or None
        self.detail = detail
        self.shapes = shapes


def _worker():
    from distributed import get_worker

    return get_worker()


def context_for(session_id: str, seed=None, worker=None) -> RunContext:
    """This worker's context (variable store, random generators) for ``session_id``."""
    worker = worker if worker is not None else _worker()
    contexts = getattr(worker, _STATE_ATTR, None)
    if contexts is None:
        contexts = {}
        setattr(worker, _STATE_ATTR, contexts)
    ctx = contexts.get(session_id)
    if ctx is None:
        ctx = contexts[session_id] = RunContext(get_backend("numpy"), seed)
    return ctx


def run_segment(session_id, seed, instructions, exports, transactional, *args):
    """Run ``instructions`` in order; return the values named by ``exports`` (copies).

    ``transactional``: the names of the variables this segment may write; their arrays are
    copied first and put back if any kernel fails, so a failed update leaves them unchanged.
    """
    ctx = context_for(session_id, seed)
    xp = ctx.xp
    store = ctx.variables
    saved = {}
    for name in transactional:
        if name in store:
            saved[name] = np.array(store[name], copy=True)
    values: list = []
    try:
        for position, (op_type, attrs, inputs, _n) in enumerate(instructions):
            op_def = get_op_def(op_type)
            fn = bind(op_def, xp, attrs)
            if op_def.read_at_use:  # a variable read: made where each consumer runs
                values.append(_Lazy(fn, ctx))
                continue
            args_in = [_resolve(r, values, args) for r in inputs]
            if op_def.needs_context:
                args_in.insert(0, ctx)
            try:
                result = fn(*args_in)
            except Exception as e:  # noqa: BLE001 - re-raised, naming the instruction
                raise _remote_error(position, e, args_in, op_def.needs_context) from None
            values.append(result)
        out = []
        for position, index in exports:
            value = values[position]
            if isinstance(value, _Lazy):
                try:
                    value = value()
                except Exception as e:  # noqa: BLE001 - re-raised, naming the read
                    raise _remote_error(position, e, [], False) from None
            elif instructions[position][3] != 1:
                value = value[index]
            # Copy what may be a variable's own array (updated in place later).
            out.append(None if value is None else np.array(value, copy=True))
        return tuple(out)
    except BaseException:
        store.update(saved)
        raise


class _Lazy:
    __slots__ = ("fn", "ctx")

    def __init__(self, fn, ctx) -> None:
        self.fn, self.ctx = fn, ctx

    def __call__(self):
        return self.fn(self.ctx)


def _resolve(ref, values, args):
    kind, where, index = ref
    if kind == "x":
        value = args[where]
        return value if index is None else value[index]
    value = values[where]
    if isinstance(value, _Lazy):
        return value()
    return value if index is None else value[index]


def _remote_error(position, exc, args_in, skip_first) -> RemoteOpError:
    if isinstance(exc, errors.OpError):
        detail, cls = exc.message, type(exc).__name__
    else:
        detail, cls = f"{type(exc).__name__}: {exc}", None
        if isinstance(exc, MemoryError):
            cls = "ResourceExhaustedError"
        elif isinstance(exc, NotImplementedError):
            cls = "UnimplementedError"
    shown = args_in[1:] if skip_first else args_in
    shapes = [list(s) if (s := getattr(v, "shape", None)) is not None else "?" for v in shown]
    return RemoteOpError(position, cls, detail, shapes)


# ---- variable store access (run with client.run / client.submit) ---------------------------


def get_variables(session_id, names=None, dask_worker=None) -> dict:
    """Copies of this worker's variables of ``session_id`` (all, or those in ``names``);
    run with ``client.run``, which passes ``dask_worker``."""
    store = context_for(session_id, worker=dask_worker).variables
    keys = store if names is None else [n for n in names if n in store]
    return {k: np.array(store[k], copy=True) for k in keys}


def put_variables(session_id, values: dict) -> int:
    store = context_for(session_id).variables
    for name, value in values.items():
        store[name] = np.require(np.asarray(value), requirements=["C", "W", "O"])
    return len(values)


def worker_addresses(dask_scheduler=None) -> list:
    """The addresses of the workers the scheduler knows now (``client.run_on_scheduler``)."""
    return sorted(dask_scheduler.workers)


def drop_session(session_id, dask_worker=None) -> bool:
    contexts = getattr(dask_worker, _STATE_ATTR, None) or {}
    return contexts.pop(session_id, None) is not None
