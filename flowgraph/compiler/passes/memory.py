"""Memory planning: compute elementwise ops into a buffer that is dying anyway.

Generated code already releases each value right after its last use (``del``). This pass goes
one step further: an elementwise op whose input dies at that op writes its result into that
input's buffer (``xp_tanh(a, a)``: NumPy's ``out`` argument, given by position because that is
the fastest way to call a ufunc), so a chain of such ops allocates nothing. That is safe only
when no one can see the old value again, so the pass tracks, for every value, which buffers it
may share memory with:

- fed arrays, constants and variable values belong to the caller or the session (EXTERNAL):
  never written;
- the outputs of ufuncs (``xp_name`` ops) and of a few kernels known to return a new array
  (``OpDef.fresh_output``) own a new buffer;
- any other kernel may return its input or a view of it (``reshape``, ``transpose``,
  ``identity``, a slice): its output shares every buffer its inputs may use;
- a value handed to a stateful op or one with the session's context may be kept by it
  (stored in a variable, passed into a loop body): its buffer is never written.

A buffer is written only if none of the values sharing it is used later or fetched (uses that
read just the shape, ``OpDef.shape_only_inputs`` such as the ``like`` input of ``SumToShapeOf``,
do not count), and the output surely has the buffer's dtype and shape (the other inputs
broadcast into it). Only backends whose ufuncs take ``out`` (``Backend.supports_out``: NumPy,
CuPy) compute in place, and only into a buffer on the op's own device.

>>> import flowgraph as fg
>>> from flowgraph.compiler.passes import optimized
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float64, [4], name="x")
...     y = fg.tanh(fg.tanh(x, name="a") + x, name="b")
>>> ir, results = optimized([y], [x], passes=[plan_memory])
>>> print("\\n".join(results[0].changes))
Add 'Add' writes into the buffer of Tanh 'a'
Tanh 'b' writes into the buffer of Add 'Add'
"""

from __future__ import annotations

from functools import partial

from flowgraph.compiler.ir import broadcasts_into

EXTERNAL = "external"  # the buffers of feeds, constants and variables
_EXTERNAL_ONLY = frozenset([EXTERNAL])
_NEVER = float("inf")


def plan_memory(ir) -> list[str]:
    """``y = f(x)`` with ``x`` dying here, owned by the run -> ``y = f(x, out=x)``: mark each
    elementwise ufunc op (or op whose kernel ``takes_out``) that can write its result into the
    buffer of one of its inputs (``node.inplace`` = that input's position); code generation
    emits the ``out`` argument. Never writes into feeds, constants, variable values, fetched
    values, or anything that may share memory with them.
    """
    if not any(b.supports_out for b in ir.backends()):
        return []
    last = _last_uses(ir)
    # value -> the buffers it may share memory with: a 1-tuple exactly for a value holding a
    # buffer of its own (new, or reused in place), else a frozenset.
    roots: dict = {(f, 0): _EXTERNAL_ONLY for f in ir.feeds}
    busy_until: dict = {}  # buffer -> the last position where a value sharing it is used
    escaped: set = set()  # buffers some stateful op may keep
    changes: list[str] = []
    for k, node in enumerate(ir.nodes):
        node.inplace = None
        op_def = node.op_def
        target = _inplace_target(node, k, roots, busy_until, escaped)
        if target is not None:
            node.inplace = target
            source = node.inputs[target]
            changes.append(partial(_writes_into, node, source[0]))
        keeps = op_def.stateful or op_def.needs_context
        if keeps:
            for r in node.inputs:
                escaped.update(roots[r])
        external = op_def.is_constant or op_def.read_at_use
        fresh = op_def.xp_name is not None or op_def.fresh_output
        for i, (_, shape) in enumerate(node.specs):
            ref = (node, i)
            if external:
                roots[ref] = _EXTERNAL_ONLY
                continue
            if target is not None:
                shared = roots[node.inputs[target]]  # (a 1-tuple: its buffer)
            elif fresh and shape._dims:  # (a rank above 0)
                shared = (ref,)  # one buffer: its own
            else:
                shared = frozenset().union(*(roots[r] for r in node.inputs))
                if keeps or not node.inputs:
                    shared |= {EXTERNAL}
            roots[ref] = shared
            until = last.get(ref, -1)
            for buffer in shared:
                if busy_until.get(buffer, -1) < until:
                    busy_until[buffer] = until
    return changes


def _inplace_target(node, k, roots, busy_until, escaped):
    """The position of the input ``node`` can write its result into, or None."""
    specs = node.specs
    backend = node.backend
    if len(specs) != 1 or backend is None or not backend.supports_out:
        return None
    op_def = node.op_def
    inputs = node.inputs
    if not op_def.takes_out:
        xp_name = op_def.xp_name
        if xp_name is None or _arity(backend.xp, xp_name) != len(inputs):
            return None  # neither a ufunc nor a kernel taking ``out`` (np.where): no ``out``
    dtype, shape = specs[0]
    dims = shape._dims
    if not dims:  # unknown rank, or a 0-d result (a NumPy scalar, not an array)
        return None
    rank = len(dims)
    for j, ref in enumerate(inputs):
        shared = roots[ref]
        if type(shared) is not tuple or ref[0].backend is not backend:
            continue  # not the run's own buffer, or on another device
        buffer = shared[0]
        if busy_until.get(buffer, -1) > k or buffer in escaped:
            continue
        ref_dtype, ref_shape = ref[0].specs[ref[1]]
        ref_dims = ref_shape._dims
        if ref_dtype is not dtype or ref_dims is None or len(ref_dims) != rank:
            continue
        if len(inputs) == 1:
            return j
        if _others_allow(inputs, j, ref, buffer, roots, ref_shape, op_def.takes_out):
            return j
    return None


def _others_allow(inputs, j, ref, buffer, roots, ref_shape, takes_out) -> bool:
    """Whether the operands other than ``inputs[j]`` let the op write into ``buffer``: none
    overlaps it in a different layout (``x + x`` is fine), and each broadcasts into its shape
    (a ``takes_out`` kernel checks at run time that its inputs agree)."""
    for i, r in enumerate(inputs):
        if i == j or r == ref:
            continue
        if buffer in roots[r]:
            return False
        if takes_out:
            continue
        if not broadcasts_into(r[0].specs[r[1]][1], ref_shape):
            return False
    return True


def _writes_into(node, source) -> str:
    return f"{node.describe()} writes into the buffer of {source.describe()}"


_ARITY: dict = {}


def _arity(xp, name: str):
    """The number of inputs of the ufunc ``xp.<name>`` with one output, else None."""
    key = (id(xp), name)
    try:
        return _ARITY[key]
    except KeyError:
        fn = getattr(xp, name, None)
        arity = _ARITY[key] = getattr(fn, "nin", None) if getattr(fn, "nout", None) == 1 else None
        return arity


def _fresh(node) -> bool:
    """Whether ``node``'s kernel returns new arrays (never an input or a view of one)."""
    return node.op_def.xp_name is not None or node.op_def.fresh_output


def _last_uses(ir) -> dict:
    """``{value: position of its last use that reads its values}``; fetched: never released."""
    last: dict = {}
    for k, node in enumerate(ir.nodes):
        shape_only = node.op_def.shape_only_inputs
        if not shape_only:  # (most ops)
            for ref in node.inputs:
                last[ref] = k
            continue
        for j, ref in enumerate(node.inputs):
            if j not in shape_only:
                last[ref] = k
    for ref in ir.outputs:
        if ref is not None:
            last[ref] = _NEVER
    return last


def may_alias_external(ref) -> bool:
    """Whether the value ``ref`` may share memory with a feed, a constant or a variable (then a
    fetch of it is copied, so the caller never receives the session's arrays)."""
    stack, seen = [ref], set()
    while stack:
        node, index = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        op_def = node.op_def
        if op_def is None or op_def.is_constant or op_def.stateful or op_def.needs_context:
            return True
        if node.inplace is not None:
            stack.append(node.inputs[node.inplace])
        elif not _fresh(node) or not node.specs[index][1].rank:
            stack.extend(node.inputs)
    return False
