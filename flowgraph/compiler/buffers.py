"""Buffers kept across runs for values that never leave a run.

A plan runs many times with arrays of the same shapes. A kernel that can compute into a given
array (``OpDef.out_shape``: matmul) then gets the array its value used in the previous run,
instead of allocating a new one each time, as a NumPy expert preallocates buffers. Results
from :data:`KEEP_FROM_BYTES` (32 MiB) on are kept, to spare the page faults of a fresh mmap. A
kept buffer is memory held between runs, at most the run's live set of such values (slots are
shared). The generated code takes one set of buffers at the start of a run and gives it back
at the end::

    def run(ctx, x):
        _b = _buffers.take()  # arrays kept across runs (compiler/buffers.py)
        MatMul = k_MatMul(_b, x, k_W(ctx))  # MatMul 'MatMul' (into a kept buffer)  ...
        ...
        _buffers.give(_b)
        return (Add_1,)

It is safe by construction: a value gets a kept buffer only when nothing that may share its
memory can outlive the run (:func:`buffer_slots`):

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

import heapq
from math import prod

import numpy as np

from flowgraph.ops.namespace import aligned_empty

# Results from this size on are kept. From 32 MiB (glibc malloc's largest mmap threshold)
# every fresh allocation is a new mmap whose pages the kernel faults in and zeroes on each run
# (a 39 MiB result: ~290 page faults and ~1.5 ms, 10-15% of the matmul). Below it malloc
# recycles the freed block. Keeping every size made the seed training step (batch 100, products
# of 4 KB to 800 KB) 0.7-5% faster (same-process A/B, 6 of 6 runs) but raised the peak memory of
# a deep MLP's run from 1.00x to 1.51x its live set (benchmarks/memory.py: a kept buffer stays
# held while the value it served is dead): the memory target wins. Tests lower it to 0.
KEEP_FROM_BYTES = 32 * 2**20


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

    def nbytes(self) -> int:
        """Bytes held by the kept buffers of the sets not in use now."""
        return sum(a.nbytes for kept in list(self._free) for a in kept if a is not None)


def reusing(kernel, out_shape, dtype, slot: int, xp):
    """``kernel`` called with ``out=`` the run's buffer ``slot`` (made or re-made when the
    result's shape, ``out_shape(*args)``, differs from the kept one's); a call whose
    ``out_shape`` is None allocates as usual.

    >>> import numpy as np
    >>> import flowgraph.compiler.buffers as this_module
    >>> this_module.KEEP_FROM_BYTES = 0  # keep results of every size, for this example
    >>> matmul = reusing(np.matmul, lambda a, b: (a.shape[0], b.shape[1]), np.float32, 0, np)
    >>> buffers, a = [None], np.ones((64, 2), np.float32)
    >>> first = matmul(buffers, a, np.ones((2, 16), np.float32))
    >>> second = matmul(buffers, a, np.full((2, 16), 2.0, np.float32))
    >>> second is first, float(second[0, 0]), first.ctypes.data % 64
    (True, 4.0, 0)
    >>> this_module.KEEP_FROM_BYTES = 32 * 2**20  # the default
    >>> small = [None]
    >>> _ = matmul(small, a[:2], np.ones((2, 3), np.float32))
    >>> small[0] is None  # below KEEP_FROM_BYTES: made afresh each run
    True
    """

    itemsize = np.dtype(dtype).itemsize

    def call(buffers, *args):
        shape = out_shape(*args)
        if shape is None:
            return kernel(*args)
        out = buffers[slot]
        if out is None or out.shape != shape:
            if prod(shape) * itemsize < KEEP_FROM_BYTES:
                return kernel(*args)  # below the size kept
            out = buffers[slot] = aligned_empty(xp, shape, dtype)
        return kernel(*args, out=out)

    return call


def buffer_slots(ir, fetched) -> dict:
    """``{node: slot}`` for the nodes whose (single) output may live in a buffer kept across
    runs: their kernel computes into a given array, and nothing sharing its memory leaves the
    run. Values whose lifetimes do not overlap and whose static dtype and shape agree share a
    slot (a deep MLP keeps two activation buffers, not one per layer), so the plan holds no
    more than the run's live set of them."""
    position = {node: k for k, node in enumerate(ir.nodes)}
    readers: dict = {}  # value -> [(node, input position)] of the nodes that take it
    for node in ir.nodes:
        for j, ref in enumerate(node.inputs):
            readers.setdefault(ref, []).append((node, j))
    slots: dict = {}
    count = 0  # slots made
    free: dict = {}  # (dtype, static dims) -> slots whose values are all dead
    busy: list = []  # heap of (last read of any alias, slot, key)
    for k, node in enumerate(ir.nodes):
        while busy and busy[0][0] < k:
            _, slot, key = heapq.heappop(busy)
            free.setdefault(key, []).append(slot)
        if not _computes_into_given_array(node):
            continue
        last = _last_read_in_run((node, 0), readers, fetched, position)
        if last is None:
            continue
        dtype, shape = node.specs[0]
        key = (dtype, shape.dims)
        if free.get(key):
            slot = free[key].pop()
        else:
            slot, count = count, count + 1
        slots[node] = slot
        heapq.heappush(busy, (max(last, k), slot, key))
    return slots


def _computes_into_given_array(node) -> bool:
    op_def = node.op_def
    return (
        op_def is not None
        and op_def.out_shape is not None
        and len(node.specs) == 1
        and node.backend is not None
        and node.backend.supports_out
    )


def _last_read_in_run(ref, readers, fetched, position):
    """The position of the last op reading ``ref`` or any value that may share its memory;
    None when one of them is fetched or handed to an op that may keep it."""
    stack, seen, last = [ref], set(), -1
    while stack:
        value = stack.pop()
        if value in seen:
            continue
        seen.add(value)
        if value in fetched:
            return None
        for node, j in readers.get(value, ()):
            op_def = node.op_def
            if op_def is None:  # a transfer between devices: maybe the same array
                stack.extend((node, i) for i in range(len(node.specs)))
                last = max(last, position[node])
                continue
            if j in op_def.shape_only_inputs:
                continue  # (reads the shape: the array object keeps it, whatever is written)
            last = max(last, position[node])
            if op_def.stateful or op_def.needs_context:
                if op_def.reads_inputs_only and j not in op_def.ref_inputs:
                    continue
                return None
            fresh = op_def.xp_name is not None or op_def.fresh_output
            if node.inplace == j or not fresh:  # computed into it, or maybe a view of it
                stack.extend((node, i) for i in range(len(node.specs)))
    return last
