"""The table executor: a very large plan run as a table of kernel calls, not generated source.

Generated source (``compiler/codegen.py``) is the fastest way to run a plan and the most
readable, but making it costs time per op that a huge plan cannot afford: writing the source
and CPython's ``compile`` of it took 9 s of the 17 s that a 100,000-op chain and its gradient
(300,000 ops) needed to build, compile and run once. A plan of more than
:data:`TABLE_THRESHOLD` ops therefore runs as a table instead: one row per op holding its
bound kernel, the *slots* (positions in one list of values) its inputs are read from and the
slot its output goes to, walked by one tight loop. Building the table costs about a tenth of
generating the source, and running it costs ~70 ns per op more than the generated code.

Both executors run the same IR after the same passes, with the same kernels, so they compute
the same values; and behave the same way:

- a value's slot is emptied (or reused for the output of the op that reads it last) after its
  last use, as generated code ``del``-s it; a constant lives in the table's template;
- an op computed in place (``plan_memory``) passes its dying input again as ``out``;
- a variable read (``read_at_use``) is read right before each op that uses it;
- a failing kernel is reported by :meth:`TableCode.failure`, which the Plan turns into the
  same OpError (op type and name, input shapes, the user's line) as for generated code;
- fetches redirected by a pass to a value that may share memory with a feed, a constant or a
  variable are copied, as in generated code.

``plan.source`` of a table plan is a listing of the table (one line per op, like generated
code), made when asked for; it is never executed. Traced plans (``RunOptions`` tracing)
always use generated code.

>>> import flowgraph as fg
>>> from flowgraph.compiler.plan import compile_plan
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float64, [2], name="x")
...     y = fg.tanh(x * 2.0, name="y")
>>> plan = compile_plan([y], [x], executor="table")
>>> print(plan.source)  # doctest: +ELLIPSIS
# table executor: 2 steps (see flowgraph/compiler/table.py)
s3 = xp_multiply(s1, s2)  # Mul 'Mul'  <doctest ...>:3 in <module>
s3 = xp_tanh(s3, s3)  # Tanh 'y' (in place)  <doctest ...>:3 in <module>
return (s3,)
>>> import numpy as np
>>> plan.run(None, [np.array([0.5, 1.0])])
(array([0.76159416, 0.96402758]),)
"""

from __future__ import annotations

from operator import itemgetter

from flowgraph.backends import get_backend
from flowgraph.compiler import encode
from flowgraph.compiler.passes.memory import may_alias_external

TABLE_THRESHOLD = 10_000  # ops in a plan; above this it runs as a table
_CTX = 0  # the slot of the run's context
_DEFAULT = get_backend("numpy")  # for nodes of an IR built without a backend


class TableCode:
    """A plan's IR as a table: ``function(ctx, *feed_values)`` runs it (the Plan's interface
    to its code, like codegen's GeneratedCode; ``source`` is a listing, made when asked)."""

    filename = None  # nothing to find in tracebacks: failures are located by ``failure``
    line_to_op: dict = {}
    line_to_node: dict = {}
    value_names: dict = {}
    traced_nodes: list = []

    def __init__(self, ir) -> None:
        steps, nodes, template, feed_slots, contexts, returns, reading = _build(ir)
        self.nodes = nodes  # step index -> IR node
        self._reading = reading
        self._steps = steps
        self._returns = returns
        self._source = None

        def run(ctx, *feeds):
            s = template.copy()
            s[_CTX] = ctx
            for slot, backend in contexts:
                s[slot] = ctx.on(backend)
            for slot, value in zip(feed_slots, feeds):
                s[slot] = value
            try:
                for fn, n, i, j, ins, o, dead, k in steps:  # noqa: B007 - k: for errors
                    if n == 1:
                        v = fn(s[i])
                    elif n == 2:
                        v = fn(s[i], s[j])
                    elif n == 0:
                        v = fn()
                    else:
                        v = fn(*[s[a] for a in ins])
                    if o >= 0:
                        s[o] = v
                    if dead:
                        for d in dead:
                            s[d] = None
            except Exception as e:
                # The step and its input values, for the Plan's OpError (taken now: later
                # steps may reuse the slots).
                try:
                    e._flowgraph_table_failure = (k, [s[a] for a in ins])
                except AttributeError:  # an exception class without a __dict__
                    pass
                raise
            return tuple(
                [None if r is None else _copy(s[r[0]]) if r[1] else s[r[0]] for r in returns]
            )

        self.function = run

    def failure(self, exc):
        """``(node, {input ref: value})`` of the step that raised ``exc``, or ``(None, {})``."""
        found = getattr(exc, "_flowgraph_table_failure", None)
        if found is None:
            return None, {}
        k, args = found
        node = self.nodes[k]
        if k in self._reading:  # the reader's input values are not known yet
            return node, {}
        offset = int(_takes_context(node.op_def))
        return node, dict(zip(node.inputs, args[offset:]))

    @property
    def source(self) -> str:
        """A listing of the table, one line per step (for reading; never executed)."""
        if self._source is None:
            count = len(self._steps)
            lines = [f"# table executor: {count} steps (see flowgraph/compiler/table.py)"]
            lines += [_listing(step, node) for step, node in zip(self._steps, self.nodes)]
            outs = ", ".join("None" if r is None else f"s{r[0]}" for r in self._returns)
            lines.append(f"return ({outs},)" if outs else "return ()")
            self._source = "\n".join(encode.check_line(line) for line in lines) + "\n"
        return self._source


def _takes_context(op_def) -> bool:
    return op_def is not None and op_def.needs_context and op_def.xp_name is None


def _listing(step, node) -> str:
    fn, _, _, _, args, out, _, _ = step
    op_def = node.op_def
    main = op_def is None or fn is not _none and not isinstance(fn, itemgetter)
    if op_def is not None and op_def.xp_name is not None and main:
        name = f"xp_{op_def.xp_name}"
    else:
        name = getattr(fn, "__name__", type(fn).__name__)
    call = f"{encode.identifier(name)}({', '.join(f's{a}' for a in args)})"
    target = f"s{out} = " if out >= 0 else ""
    note = " (in place)" if node.inplace is not None and main else ""
    comment = f"{encode.plain(node.type)} {encode.quoted(node.origin_name)}{note}"
    return f"{target}{call}  # {comment}  {encode.site(node.site)}"


def _copy(value):
    if hasattr(value, "copy"):  # NumPy, CuPy
        return value.copy()
    return value.__array_namespace__().asarray(value, copy=True)


def _with_out_keyword(fn):
    """``fn(*inputs, out)`` -> ``fn(*inputs, out=out)``: for ufuncs that warn about a
    positional ``out`` (NumPy's ``maximum``, ``minimum``)."""

    def call(*args):
        return fn(*args[:-1], out=args[-1])

    return call


def _none():
    return None


def _build(ir):
    """``(steps, step nodes, slot template, feed slots, context slots, returns, variable
    read steps)`` of ``ir``.

    Each value gets a slot; a slot whose value died is reused, preferably for the output of
    the op that read it last (overwriting it releases the old value with no step of its own).
    """
    from flowgraph.compiler.codegen import positional_out  # the same check, once per ufunc

    template: list = [None]  # slot 0: the context
    free: list = []
    steps: list = []
    step_nodes: list = []
    slot_of: dict = {}  # value ref -> slot
    reads: dict = {}  # read_at_use node -> (its bound reader, its context slot)
    kernels: dict = {}
    keyword_out: dict = {}  # kernel -> whether it takes ``out`` only as a keyword
    owned: set = set()  # slots holding op outputs (reusable once their value dies)
    reading: set = set()  # steps that read a variable for the next step
    contexts, context_slot = [], {}
    for node in ir.nodes:
        b = node.backend
        if b is not None and b is not ir.backend and node.op_def.needs_context:
            if id(b) not in context_slot:
                context_slot[id(b)] = len(template)
                contexts.append((len(template), b))
                template.append(None)
    feed_slots = []
    for f in ir.feeds:
        slot_of[(f, 0)] = len(template)
        feed_slots.append(len(template))
        template.append(None)
    fetched = {r for r in ir.outputs if r is not None}
    last: dict = {}
    for k, node in enumerate(ir.nodes):
        for ref in node.inputs:
            last[ref] = k

    def take():
        if free:
            return free.pop()
        template.append(None)
        return len(template) - 1

    def row(fn, args, out, dead, node):
        n = len(args)
        i = args[0] if n else 0
        j = args[1] if n > 1 else 0
        steps.append((fn, n, i, j, tuple(args), out, dead, len(steps)))
        step_nodes.append(node)

    for k, node in enumerate(ir.nodes):
        op_def = node.op_def
        if op_def.is_no_op:
            continue
        backend = node.backend or _DEFAULT
        if op_def.is_constant:
            slot_of[(node, 0)] = len(template)
            template.append(backend.from_host(node.attrs["value"]))
            continue
        xp_name = op_def.xp_name
        if xp_name is None:
            fn = op_def.bind(backend.xp, node.attrs)
        else:
            fn = kernels.get((backend, xp_name))
            if fn is None:
                fn = kernels[(backend, xp_name)] = op_def.bind(backend.xp, node.attrs)
        if op_def.read_at_use:  # read right before each op that uses it
            reads[node] = (fn, context_slot.get(id(node.backend), _CTX))
            continue
        if op_def.needs_context and xp_name is None:
            args = [context_slot.get(id(node.backend), _CTX)]
        else:
            args = []
        released = []
        for ref in node.inputs:
            read = reads.get(ref[0]) if reads else None
            if read is not None:
                slot = take()
                # (A failing read is reported as its reader's failure, as in generated code,
                # where the read is part of the reader's line.)
                reading.add(len(steps))
                row(read[0], [read[1]], slot, (), node)
                released.append(slot)
            else:
                slot = slot_of[ref]
                if last[ref] == k and slot in owned and ref not in fetched:
                    released.append(slot)
            args.append(slot)
        if len(released) > 1:
            released = list(dict.fromkeys(released))  # (x + x: one value)
        n_out = len(node.specs)
        if n_out == 1:
            ref = (node, 0)
            wanted = ref in last or ref in fetched
        else:
            wanted = [i for i in range(n_out) if (node, i) in last or (node, i) in fetched]
        out = released[0] if released else -2
        if node.inplace is not None:
            buffer = args[len(args) - len(node.inputs) + node.inplace]
            keyword = keyword_out.get(fn)
            if keyword is None:
                keyword = keyword_out[fn] = not positional_out(fn, backend.xp)
            if keyword:
                fn = _with_out_keyword(fn)
            args.append(buffer)
            if buffer in released:  # else still read for its shape (``shape_only_inputs``)
                out = buffer
        if not wanted:
            out = -1
        elif out == -2:
            out = take()
        dead = tuple([s for s in released if s != out]) if released else ()
        n = len(args)
        i = args[0] if n else 0
        j = args[1] if n > 1 else 0
        steps.append((fn, n, i, j, tuple(args), out, dead, len(steps)))
        step_nodes.append(node)
        if dead:
            free.extend(dead)
        if n_out == 1:
            if wanted:
                slot_of[ref] = out
                owned.add(out)
        elif wanted:  # a tuple of outputs: unpack the ones read, then drop the tuple
            for i in wanted:
                slot_of[(node, i)] = slot = take()
                owned.add(slot)
                row(itemgetter(i), [out], slot, (), node)
            row(_none, [], -1, (out,), node)
            free.append(out)
    returns = []
    for ref, original in zip(ir.outputs, ir.original_outputs):
        if ref is None:
            returns.append(None)
            continue
        read = reads.get(ref[0])
        if read is not None and ref not in slot_of:  # a fetched variable: read at the end
            slot_of[ref] = slot = take()
            row(read[0], [read[1]], slot, (), ref[0])
        copy = ref != original and (ir.outputs.count(ref) > 1 or may_alias_external(ref))
        returns.append((slot_of[ref], copy))
    return steps, step_nodes, template, feed_slots, contexts, returns, reading
