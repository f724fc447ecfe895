"""Peak memory of a deep MLP's forward pass (tracemalloc) against the largest live set it needs.

The model is ``depth`` dense layers of ``width`` units (float32, relu between layers) applied to
a fed batch. The weights live in the session and the batch belongs to the caller, so neither
counts: what is measured is the extra memory one ``Session.run`` of the forward pass takes, as
tracemalloc sees it (NumPy reports its array allocations to tracemalloc), from the start of the
run to its peak, the returned logits included, plus the buffers the plan keeps across runs
(``compiler/buffers.py``: made by an earlier run, held between runs).

The yardstick is the largest live set of the plan: walking the compiled plan's ops in order,
the bytes of the intermediates that are alive together at each step (an op's output is born
while its inputs are still alive; an intermediate dies after its last reader; the fetched
output lives to the end), maximized over the steps. Generated code that ``del``-s each value
after its last use reaches it exactly; kernels that write in place could go below it. The
hand-written NumPy loop ``h = relu(h @ W + b)`` is measured the same way, for reference.

Run:  python benchmarks/memory.py   (needs threadpoolctl: pip install -e ".[bench]")
Options: --batch N (default 512), --width W (default 1024), --depth D (default 12).
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
from common import blas_threads, target_line

import flowgraph as fg
from flowgraph.compiler.plan import compile_plan
from flowgraph.ops.registry import get_op_def

TARGET = 1.25
MiB = 2**20


def build(batch: int, width: int, depth: int, seed: int = 0):
    """The deep MLP as a graph: returns (graph, x, logits, params as NumPy arrays)."""
    rng = np.random.default_rng(seed)
    params = [
        (
            rng.standard_normal((width, width), dtype=np.float32) * np.float32(1 / np.sqrt(width)),
            rng.standard_normal(width, dtype=np.float32) * np.float32(0.01),
        )
        for _ in range(depth)
    ]
    graph = fg.Graph()
    with graph.as_default():
        x = fg.placeholder(fg.float32, [batch, width], name="x")
        h = x
        for i, (w, b) in enumerate(params):
            with fg.name_scope(f"layer{i}"):
                h = fg.matmul(h, fg.Variable(w, name="W")) + fg.Variable(b, name="b")
                if i < depth - 1:
                    h = fg.nn.relu(h)
    return graph, x, h, params


def largest_live_set(fetches, feeds) -> tuple[int, str]:
    """Bytes of the largest set of intermediates alive together in the plan, and where.

    Constants, variables and fed values are not intermediates: the session or the caller holds
    them whatever the plan does.
    """
    plan = compile_plan(list(fetches), list(feeds))
    ops = plan.ops
    held = set(feeds)
    last_use = {}
    for index, op in enumerate(ops):
        refs = get_op_def(op.type).ref_inputs
        for i, t in enumerate(op.inputs):
            if i not in refs:
                last_use[t] = index
    for t in fetches:
        last_use[t] = len(ops)  # a fetched value lives to the end

    def size(t) -> int:
        n = t.shape.num_elements()
        if n is None:
            raise ValueError(f"{t.name} has no static size; give the placeholder a full shape")
        return n * np.dtype(t.dtype.as_numpy_dtype).itemsize

    live: dict = {}
    best, where = 0, ""
    for index, op in enumerate(ops):
        op_def = get_op_def(op.type)
        if op.type != "Const" and not op_def.read_at_use:
            for t in op.outputs:
                if t not in held:
                    live[t] = size(t)
        total = sum(live.values())
        if total > best:
            best, where = total, f"{op.type} op {op.name!r}"
        for t in [t for t in live if last_use.get(t, index) <= index]:
            del live[t]
    return best, where


def traced_peak(fn) -> tuple[int, object]:
    """Peak bytes allocated (tracemalloc) while ``fn()`` runs, above what was allocated before;
    and ``fn``'s result (kept alive, as a caller would)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before, result


def numpy_forward(x, params):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    return h


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=12)
    args = parser.parse_args(argv)

    with blas_threads(1):
        graph, x, logits, params = build(args.batch, args.width, args.depth)
        batch = np.random.default_rng(1).random((args.batch, args.width), dtype=np.float32)
        needed, where = largest_live_set([logits], [x])
        with graph.as_default(), fg.Session(graph=graph) as sess:
            sess.run(fg.global_variables_initializer())
            expected = numpy_forward(batch, params)
            np.testing.assert_allclose(sess.run(logits, {x: batch}), expected, rtol=1e-3, atol=1e-3)
            fg_peak, _ = traced_peak(lambda: sess.run(logits, {x: batch}))  # plan compiled above
            # Buffers the plan keeps across runs were made by an earlier run: they count too.
            kept = max(plan.kept_bytes for plan in sess._plans.values())
            fg_peak += kept
        np_peak, _ = traced_peak(lambda: numpy_forward(batch, params))

    layer = args.batch * args.width * 4
    print(
        f"deep MLP forward: {args.depth} dense layers of {args.width} units, batch {args.batch}, "
        f"float32 (one activation = {layer / MiB:.1f} MiB)"
    )
    print("results agree (assert_allclose, rtol=1e-3)")
    print()
    print(f"{'largest live set of the plan':<40}{needed / MiB:>9.2f} MiB   (at {where})")
    print(
        f"{'flowgraph Session.run peak':<40}{fg_peak / MiB:>9.2f} MiB   "
        f"({kept / MiB:.2f} MiB of it kept across runs)"
    )
    print(f"{'NumPy loop peak (reference)':<40}{np_peak / MiB:>9.2f} MiB")
    print(f"{'ratio NumPy loop / live set':<40}{np_peak / needed:>9.2f}")
    print(target_line("ratio flowgraph peak / live set", fg_peak / needed, TARGET))


if __name__ == "__main__":
    main()
