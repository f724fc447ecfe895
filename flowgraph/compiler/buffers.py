"""Buffers kept across runs for values that never leave a run.

A plan runs many times with arrays of the same shapes. A kernel that can compute into a given
array (``OpDef.out_shape``: matmul) then gets the array its value used in the previous run,
instead of allocating a new one each time, as a NumPy expert preallocates the buffers of a
training step. The generated code takes one set of buffers at the start of a run and gives it
back at the end::

    def run(ctx, x):
        _b = _buffers.take()  # arrays kept across runs (compiler/buffers.py)
        MatMul = k_MatMul(_b, x, k_W(ctx))  # MatMul 'MatMul' (into a kept buffer)  ...
        ...
        _buffers.give(_b)
        return (Add_1,)

It is safe by construction: a value gets a kept buffer only when nothing that may share its
memory can outlive the run (:func:`reusable_nodes`):

- it is not fetched, and neither is anything that may be a view of it or was computed into it
  in place (``reshape``, ``identity``, any kernel not known to return a new array);
- no stateful op (an assignment, a queue, a loop body) receives it or such an alias, except
  those that only read their inputs during the call (``OpDef.reads_inputs_only``: the
  optimizers' fused updates read the gradient and keep nothing).

A run in progress owns its set: a concurrent run (another thread) or a nested one takes
another set from the pool or makes a new one, and a run that fails never gives its set back.
Buffers are allocated 64-byte aligned on NumPy (``ops.namespace.aligned_empty``: whole cache
lines for vector loads, as TF's allocator does) and re-allocated when a run's shapes change.

>>> pool = BufferPool(2)
>>> first, second = pool.take(), pool.take()  # two runs at once: two sets
>>> first is second
False
>>> pool.give(first)
>>> pool.take() is first
True
"""

from __future__ import annotations

from flowgraph.ops.namespace import aligned_empty


class BufferPool:
    """The kept buffers of one plan: ``take()`` a set (a list with one slot per reusable
    value) for a run, ``give()`` it back when the run is over."""

    __slots__ = ("size", "_free")

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: list = []

    def take(self) -> list:
        free = self._free
        try:
            return free.pop()  # atomic: two threads never get the same set
        except IndexError:
            return [None] * self.size

    def give(self, buffers: list) -> None:
        self._free.append(buffers)


def reusing(kernel, out_shape, dtype, slot: int, xp):
    """``kernel`` called with ``out=`` the run's buffer ``slot`` (made or re-made when the
    result's shape, ``out_shape(*args)``, differs from the kept one's); a call whose
    ``out_shape`` is None allocates as usual.

    >>> import numpy as np
    >>> matmul = reusing(np.matmul, lambda a, b: (a.shape[0], b.shape[1]), np.float64, 0, np)
    >>> buffers = [None]
    >>> first = matmul(buffers, np.eye(2), np.ones((2, 3)))
    >>> second = matmul(buffers, np.eye(2), np.full((2, 3), 2.0))
    >>> second is first, float(second[0, 0]), first.ctypes.data % 64
    (True, 2.0, 0)
    """

    def call(buffers, *args):
        shape = out_shape(*args)
        if shape is None:
            return kernel(*args)
        out = buffers[slot]
        if out is None or out.shape != shape:
            out = buffers[slot] = aligned_empty(xp, shape, dtype)
        return kernel(*args, out=out)

    return call


def reusable_nodes(ir, fetched) -> list:
    """The nodes whose (single) output may live in a buffer kept across runs: their kernel
    computes into a given array, and nothing sharing its memory leaves the run."""
    readers: dict = {}  # value -> [(node, input position)] of the nodes that take it
    for node in ir.nodes:
        for j, ref in enumerate(node.inputs):
            readers.setdefault(ref, []).append((node, j))
    return [
        node
        for node in ir.nodes
        if node.op_def is not None
        and node.op_def.out_shape is not None
        and len(node.specs) == 1
        and node.backend is not None
        and node.backend.supports_out
        and _stays_in_run((node, 0), readers, fetched)
    ]


def _stays_in_run(ref, readers, fetched) -> bool:
    """Whether no value that may share ``ref``'s memory is fetched or handed to an op that
    may keep it."""
    stack, seen = [ref], set()
    while stack:
        value = stack.pop()
        if value in seen:
            continue
        seen.add(value)
        if value in fetched:
            return False
        for node, j in readers.get(value, ()):
            op_def = node.op_def
            if op_def is None:  # a transfer between devices: maybe the same array
                stack.extend((node, i) for i in range(len(node.specs)))
                continue
            if j in op_def.shape_only_inputs:
                continue
            if op_def.stateful or op_def.needs_context:
                if op_def.reads_inputs_only and j not in op_def.ref_inputs:
                    continue
                return False
            fresh = op_def.xp_name is not None or op_def.fresh_output
            if node.inplace == j or not fresh:  # computed into it, or maybe a view of it
                stack.extend((node, i) for i in range(len(node.specs)))
    return True
