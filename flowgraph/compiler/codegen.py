"""Generated code: a Plan's IR as one straight-line Python function.

Each op becomes one statement that calls its bound kernel; constants are bound as globals; a
variable read is inlined where each consumer runs; a value is ``del``-ed right after its last
use so memory is released as early as possible. There is no per-op dispatch loop, so running
an op costs little more than the kernel call itself, and a student can print exactly what a
``Session.run`` executes::

    def run(ctx, x):
        MatMul = k_MatMul(x, k_W(ctx))  # MatMul 'MatMul'  model.py:12 in <module>
        Add = xp_add(MatMul, k_b(ctx), MatMul)  # Add 'Add' (in place)  model.py:12 in <module>
        ...

An op that memory planning marked in place passes its dying input again as the ufunc's
``out`` argument: by position, which NumPy parses faster than ``out=`` (about 190 ns against
235 ns per call on a 4-element array), unless the ufunc warns about it (``maximum``,
``minimum``), checked once per ufunc. Its input's name then stays bound to the same buffer
until the result dies, and both names are deleted together.

A plan of more than a few thousand statements is split into ``_part<k>`` functions
(``compiler/chunking.py``), because CPython compiles one huge function in more than linear time.

The traced variant (``trace=True``) wraps each statement in two ``perf_counter_ns`` calls and
records the op's output bytes; it is a separate function, so the plain one pays nothing.

A plan whose ops run on several devices calls each op's function from its own backend
(``cupy_matmul``, beside the session backend's ``xp_add``), gives kernels that need the run's
context one per backend (``ctx_cupy = ctx.on(...)``, made once per run) and moves values
between devices in explicit statements (``MatMul_on_cpu = to_cpu(MatMul)``, see
``compiler/passes/transfers.py``).

No text from the graph (op names, sites, device labels, backend names) is formatted into the
source except through :mod:`flowgraph.compiler.encode`: names become ASCII identifiers, the
rest escaped literals in comments, and every finished line is checked to be one printable
line. A graph file is untrusted input, and this source is executed.
"""

from __future__ import annotations

import functools
import heapq
import linecache
import re
import threading
import warnings
import weakref
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from time import perf_counter_ns

from flowgraph.backends import get_backend
from flowgraph.compiler import buffers, encode
from flowgraph.compiler.chunking import CHUNK_THRESHOLD, chunked_source, compile_into
from flowgraph.compiler.passes.memory import may_alias_external
from flowgraph.ops.namespace import dtype_of

_plan_ids = count()
_STALE_BATCH = 32  # names of one in-place chain released per ``del``
# Names the generated code itself uses (``_L``, ``_part<k>``: chunked plans).
_RESERVED = ("ctx", "run", "_trace", "_clock", "_nbytes", "_copy", "_t0", "_L", "_b", "_buffers")
_RESERVED_PATTERN = re.compile(r"_part\d+")


@dataclass
class GeneratedCode:
    source: str
    function: object
    filename: str
    line_to_op: dict = field(default_factory=dict)  # source line -> the user's Operation
    line_to_node: dict = field(default_factory=dict)  # source line -> IR node
    value_names: dict = field(default_factory=dict)  # (node, index) -> the name holding it
    traced_nodes: list = field(default_factory=list)  # trace record index -> IR node


class _Names:
    """Unique Python identifiers derived from op names (``dense/MatMul`` -> ``dense_MatMul``)."""

    def __init__(self) -> None:
        self._used = set(_RESERVED)
        self.transfers: dict = {}  # (source, target, device label) -> its function's name

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def make(self, text: str) -> str:
        base = encode.identifier(text)  # graph text: through the encoder, like all of it
        name, i = base, 1
        while name in self._used or _RESERVED_PATTERN.fullmatch(name):
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name


def generate(ir, trace: bool = False, keep_buffers: bool = False) -> GeneratedCode:
    """Compile ``ir`` into ``run(ctx, *feed_values) -> tuple of fetched values`` (with
    ``trace``: ``run(ctx, *feed_values, _trace)``, appending one record per op to ``_trace``;
    with ``keep_buffers``: values that never leave a run reuse their buffers across runs,
    see ``compiler/buffers.py``).
    """
    names = _Names()
    prefixes = _prefixes(ir)
    for node in ir.nodes:
        if node.op_def.xp_name is not None:
            names.reserve(f"{prefixes[id(node.backend)]}_{node.op_def.xp_name}")
    namespace: dict = {}
    contexts = _contexts(ir, prefixes, names, namespace)
    value_of: dict = {}  # (node, index) -> Python expression holding its value
    params = ["ctx"]
    for f in ir.feeds:
        value_of[(f, 0)] = name = names.make(f.name)
        params.append(name)
    fetched = set(ir.outputs)
    slots = {}  # node -> its buffer kept across runs (not in chunked plans: see chunking.py)
    if keep_buffers and len(ir.nodes) * (4 if trace else 2) < CHUNK_THRESHOLD:
        slots = buffers.buffer_slots(ir, fetched)
    dying, read = _deaths(ir, fetched)
    local: set = set()  # names assigned by statements (the ones ``del`` may release)
    stale: dict = {}  # name -> names of dead values still bound to the same buffer
    body: list = []  # (statement, node or None)
    traced: list = []
    for k, node in enumerate(ir.nodes):
        unread = not trace and node not in read and (node, 0) not in fetched
        statement = _statement(
            node, value_of, names, namespace, prefixes, contexts, unread, slots.get(node)
        )
        if statement is not None:
            if trace:
                body.append(("_t0 = _clock()", None))
            body.append((statement, node))
            for i in range(len(node.specs)):
                name = value_of.get((node, i))
                if name is not None:
                    local.add(name)
            if trace:
                outs = ", ".join(value_of.get((node, i), "None") for i in range(len(node.specs)))
                body.append(
                    (f"_trace.append(({len(traced)}, _t0, _clock(), _nbytes({outs})))", None)
                )
                traced.append(node)
        dead = []
        target = node.inputs[node.inplace] if node.inplace is not None else None
        for ref in dying.get(k, ()):
            name = value_of.get(ref)
            if name not in local:
                continue
            out = value_of.get((node, 0)) if ref == target else None
            if out is None:
                dead += stale.pop(name, [])
                dead.append(name)
                continue
            # Its buffer lives on in the result: the name goes when the result does (or, on a
            # long chain, with a batch of others, keeping ``del`` lines short).
            names_of_buffer = stale.pop(name, None) or []
            names_of_buffer.append(name)
            if len(names_of_buffer) >= _STALE_BATCH:
                dead += names_of_buffer
                names_of_buffer = []
            stale[out] = names_of_buffer
        if dead:
            body.append(("del " + ", ".join(dict.fromkeys(dead)), None))
    returned = _returned(ir, value_of, namespace)
    if trace:
        params.append("_trace")
        namespace["_nbytes"] = _nbytes
        namespace["_clock"] = perf_counter_ns
    prelude = [f"{name} = ctx.on({ref})" for name, ref in contexts.values()]
    if slots:
        namespace["_buffers"] = buffers.BufferPool(max(slots.values()) + 1)
        prelude.append("_b = _buffers.take()  # arrays kept across runs (compiler/buffers.py)")
    if len(body) > CHUNK_THRESHOLD:
        lines, line_to_node = chunked_source(params, prelude, body, returned)
    else:
        lines = [f"def run({', '.join(params)}):"] + [f"    {line}" for line in prelude]
        line_to_node = {}
        for statement, node in body:
            lines.append("    " + statement)
            if node is not None:
                line_to_node[len(lines)] = node
        if slots:
            lines.append("    _buffers.give(_b)")
        lines.append(f"    return ({returned},)" if returned else "    return ()")
    lines = [encode.check_line(line) for line in lines]
    line_to_op = {line: node.origin for line, node in line_to_node.items()}
    source = "\n".join(lines) + "\n"
    number = _take_plan_number()
    filename = f"<flowgraph plan {number}>"
    # Tracebacks and debuggers show the plan's lines from linecache (mtime None: kept by
    # checkcache) for as long as the plan lives, and no longer: see _release.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    compile_into(lines, filename, namespace)
    code = GeneratedCode(
        source, namespace["run"], filename, line_to_op, line_to_node, value_of, traced
    )
    weakref.finalize(code, _release, number, filename, namespace)
    return code


# Numbers of the plans alive are unique; a dropped plan's number is used again, because
# CPython keeps every file name it ever compiled (interned): new names would leak ~70 bytes each.
_free_numbers: list = []
_numbers_lock = threading.Lock()


def _take_plan_number() -> int:
    with _numbers_lock:
        return heapq.heappop(_free_numbers) if _free_numbers else next(_plan_ids)


def _release(number: int, filename: str, namespace: dict) -> None:
    """A dropped plan's leftovers: its linecache entry, its number, and its globals
    (constants, bound kernels), which its functions refer to in a cycle the collector would
    find only later."""
    linecache.cache.pop(filename, None)
    namespace.clear()
    with _numbers_lock:
        heapq.heappush(_free_numbers, number)


_DEFAULT = get_backend("numpy")  # for nodes of an IR built without a backend


def _prefixes(ir) -> dict:
    """``{id(backend): prefix}`` of the names bound from each backend: ``xp`` for the
    session's, the backend's own name for the others (``cupy_matmul``)."""
    prefixes = {id(ir.backend): "xp", id(None): "xp"}
    for b in ir.backends():
        prefixes.setdefault(id(b), encode.identifier(b.name))
    return prefixes


def _contexts(ir, prefixes, names, namespace) -> dict:
    """``{id(backend): (context name, backend global)}`` for the backends other than the
    session's that run kernels needing the run's context."""
    contexts: dict = {}
    for node in ir.nodes:
        b = node.backend
        if b is None or b is ir.backend or id(b) in contexts or not node.op_def.needs_context:
            continue
        prefix = prefixes[id(b)]
        ref = names.make(f"_backend_{prefix}")
        namespace[ref] = b
        contexts[id(b)] = (names.make(f"ctx_{prefix}"), ref)
    return contexts


def _statement(node, value_of, names, namespace, prefixes, contexts, unread, slot=None):
    """One line of code for ``node`` (or None when it needs none), naming its outputs
    (``unread``: nobody reads them, so a single output needs no name; ``slot``: its kept
    buffer's position in ``_b``)."""
    op_def = node.op_def
    backend = node.backend or _DEFAULT
    if op_def.is_constant:
        const = names.make(node.name)
        namespace[const] = backend.from_host(node.attrs["value"])
        value_of[(node, 0)] = const
        return None
    if op_def.is_no_op:
        return None
    args = [value_of[r] for r in node.inputs]
    if node.type == "Transfer":
        return _transfer(node, args[0], value_of, names, namespace)
    if op_def.xp_name is not None:
        callee = f"{prefixes[id(backend)]}_{op_def.xp_name}"
        if callee not in namespace:
            namespace[callee] = op_def.bind(backend.xp, node.attrs)
    else:
        callee = names.make("k_" + node.name)
        namespace[callee] = op_def.bind(backend.xp, node.attrs)
        if op_def.needs_context:
            args.insert(0, contexts[id(backend)][0] if id(backend) in contexts else "ctx")
        elif slot is not None:
            namespace[callee] = _reusing(namespace[callee], node, backend, slot)
            args.insert(0, "_b")
    if op_def.read_at_use:
        value_of[(node, 0)] = f"{callee}({', '.join(args)})"
        return None
    note = ""
    if node.inplace is not None:
        out = args[node.inplace]
        fn = namespace[callee]
        args.append(out if positional_out(fn, backend.xp) else f"out={out}")
        note = " (in place)"
    elif slot is not None:
        note = " (into a kept buffer)"
    call = f"{callee}({', '.join(args)})"
    comment = f"  # {_describe(node)}{note}  {_site_text(node.site)}"
    n = len(node.specs)
    if n == 0:
        return call + comment
    if n == 1 and unread:
        return call + comment
    outputs = []
    for i in range(n):
        value_of[(node, i)] = name = names.make(node.name if i == 0 else f"{node.name}_{i}")
        outputs.append(name)
    return f"{', '.join(outputs)} = {call}{comment}"


def _reusing(kernel, node, backend, slot: int):
    """``kernel`` computing into the run's kept buffer ``slot`` (see compiler/buffers.py)."""
    attrs = {k: v for k, v in node.attrs.items() if not k.startswith("_")}
    out_shape = functools.partial(node.op_def.out_shape, **attrs)
    dtype = dtype_of(backend.xp, node.specs[0][0])
    return buffers.reusing(kernel, out_shape, dtype, slot, backend.xp)


def _transfer(node, source, value_of, names, namespace) -> str:
    """``MatMul_on_cpu = to_cpu(MatMul)``: the value moved to the node's device."""
    attrs = node.attrs
    key = (id(attrs["source"]), id(attrs["target"]), attrs["label"])
    callee = names.transfers.get(key)
    if callee is None:  # one function per route: ``to_cpu``, ``to_gpu``
        callee = names.transfers[key] = names.make(f"to_{attrs['label']}")
        namespace[callee] = node.op_def.bind(None, attrs)
    value_of[(node, 0)] = name = names.make(node.name)
    route = f"{encode.plain(attrs['source'].name)} -> {encode.plain(attrs['target'].name)}"
    return f"{name} = {callee}({source})  # {_describe(node)} ({route})"


def _describe(node) -> str:
    """``MatMul 'dense/MatMul'`` for a comment, both through the encoder."""
    return f"{encode.plain(node.type)} {encode.quoted(node.origin_name)}"


def _deaths(ir, fetched) -> tuple:
    """``({position: values whose last use is the op there}, nodes whose outputs are read)``;
    fetched values never die, and an output nobody reads dies where it is made."""
    last: dict = {}
    for k, node in enumerate(ir.nodes):
        for ref in node.inputs:
            last[ref] = k
        for i in range(len(node.specs)):
            last.setdefault((node, i), k)
    read = {producer for node in ir.nodes for producer, _ in node.inputs}
    by_position: dict = {}
    for ref, k in last.items():
        if ref not in fetched:
            by_position.setdefault(k, []).append(ref)
    return by_position, read


def _returned(ir, value_of, namespace) -> str:
    """The return expression. A fetch that a pass redirected to a value that may share memory
    with a feed, a constant or a variable (``x * 1 -> x``) is copied, as is a value returned
    for two fetches that were different before the passes: the caller gets arrays of its own,
    as without the passes."""
    parts = []
    returned = Counter(ir.outputs)
    for ref, original in zip(ir.outputs, ir.original_outputs):
        if ref is None:
            parts.append("None")
            continue
        expr = value_of[ref]
        if ref != original and (returned[ref] > 1 or may_alias_external(ref)):
            namespace["_copy"] = _copy
            expr = f"_copy({expr})"
        parts.append(expr)
    return ", ".join(parts)


_SITES: dict = {}


def _site_text(site) -> str:
    text = _SITES.get(site)
    if text is None:
        if len(_SITES) > 10_000:
            _SITES.clear()
        text = _SITES[site] = encode.site(site)
    return text


_POSITIONAL_OUT: dict = {}  # ufunc -> whether it takes ``out`` by position without a warning


def positional_out(fn, xp) -> bool:
    """Whether ``fn`` (a kernel of ``xp``) takes ``out`` as its last positional argument
    without a warning; asked once per function (generated plans and tables both use it)."""
    ok = _POSITIONAL_OUT.get(fn)
    if ok is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                fn(*[xp.ones(1) for _ in range(fn.nin)], xp.ones(1))
            ok = True
        except Exception:  # noqa: BLE001 - any complaint: use the keyword
            ok = False
        _POSITIONAL_OUT[fn] = ok
    return ok


def _copy(value):
    if hasattr(value, "copy"):  # NumPy, CuPy
        return value.copy()
    return value.__array_namespace__().asarray(value, copy=True)


def _nbytes(*values) -> int:
    return sum(getattr(v, "nbytes", 0) for v in values)
