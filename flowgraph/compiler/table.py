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
        builder = _Builder(ir)
        self.nodes = builder.step_nodes  # step index -> IR node
        self._steps = builder.steps
        self._labels = builder.labels
        self._returns = builder.returns
        self._source = None
        steps, template = builder.steps, builder.template
        feed_slots, contexts, returns = builder.feed_slots, builder.contexts, builder.returns
        input_slots = builder.input_slots

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
                # The step and its input values, for the Plan's OpError (slots may be reused
                # by later steps, so the values are taken now).
                failure = (k, {r: s[a] for r, a in input_slots[k]})
                try:
                    e._flowgraph_table_failure = failure
                except AttributeError:  # an exception class without a __dict__
                    pass
                raise
            return tuple(_returned(s, returns))

        self.function = run

    def failure(self, exc):
        """``(node, {input ref: value})`` of the step that raised ``exc``, or ``(None, {})``."""
        found = getattr(exc, "_flowgraph_table_failure", None)
        if found is None:
            return None, {}
        k, values = found
        return self.nodes[k], values

    @property
    def source(self) -> str:
        """A listing of the table, one line per step (for reading; never executed)."""
        if self._source is None:
            count = len(self._steps)
            lines = [f"# table executor: {count} steps (see flowgraph/compiler/table.py)"]
            lines += [label() for label in self._labels]
            outs = ", ".join("None" if r is None else f"s{r[0]}" for r in self._returns)
            lines.append(f"return ({outs},)" if outs else "return ()")
            self._source = "\n".join(encode.check_line(line) for line in lines) + "\n"
        return self._source


def _returned(s, returns):
    for r in returns:
        if r is None:
            yield None
        else:
            slot, copy = r
            yield _copy(s[slot]) if copy else s[slot]


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


class _Builder:
    """Turns an IR into table rows, assigning each value a slot and reusing free ones."""

    def __init__(self, ir) -> None:
        from flowgraph.compiler.codegen import _positional_out  # the same check, once per ufunc

        self.positional_out = _positional_out
        self.template: list = [None]  # slot 0: the context
        self.free: list = []
        self.steps: list = []
        self.step_nodes: list = []
        self.input_slots: list = []
        self.labels: list = []
        self.slot_of: dict = {}  # value ref -> slot
        self.reads: dict = {}  # read_at_use node -> its bound reader
        self.kernels: dict = {}
        self.contexts = []
        context_slot = {}
        for node in ir.nodes:
            b = node.backend
            if b is not None and b is not ir.backend and node.op_def.needs_context:
                if id(b) not in context_slot:
                    context_slot[id(b)] = slot = self._new_slot()
                    self.contexts.append((slot, b))
        self.context_slot = context_slot
        self.feed_slots = []
        for f in ir.feeds:
            self.slot_of[(f, 0)] = slot = self._new_slot()
            self.feed_slots.append(slot)
        fetched = {r for r in ir.outputs if r is not None}
        last: dict = {}
        for k, node in enumerate(ir.nodes):
            for ref in node.inputs:
                last[ref] = k
        self.owned: set = set()  # slots this table fills with op outputs (may be reused)
        for k, node in enumerate(ir.nodes):
            dying = [r for r in node.inputs if last.get(r) == k and r not in fetched]
            self._add(node, dying, last, fetched)
        self.returns = [None if r is None else self._returned(r, ir) for r in ir.outputs]

    def _new_slot(self) -> int:
        self.template.append(None)
        return len(self.template) - 1

    def _take_slot(self) -> int:
        return self.free.pop() if self.free else self._new_slot()

    def _kernel(self, node, backend):
        op_def = node.op_def
        if op_def.xp_name is None:
            return op_def.bind(backend.xp, node.attrs)
        key = (id(backend), op_def.xp_name)
        fn = self.kernels.get(key)
        if fn is None:
            fn = self.kernels[key] = op_def.bind(backend.xp, node.attrs)
        return fn

    def _add(self, node, dying, last, fetched) -> None:
        op_def = node.op_def
        if node.type == "NoOp":
            return
        backend = node.backend or _DEFAULT
        if node.type == "Const":
            self.slot_of[(node, 0)] = slot = self._new_slot()
            self.template[slot] = backend.from_host(node.attrs["value"])
            return
        fn = self._kernel(node, backend)
        if op_def.read_at_use:
            context = self.context_slot.get(id(node.backend), _CTX)
            self.reads[node] = (fn, context)
            return
        args, temps, inputs = [], [], []
        if op_def.needs_context and op_def.xp_name is None:
            args.append(self.context_slot.get(id(node.backend), _CTX))
        for ref in node.inputs:
            read = self.reads.get(ref[0])
            if read is not None:  # read the variable now, just before this op
                slot = self._take_slot()
                self._row(read[0], [read[1]], slot, (), ref[0], ())
                temps.append(slot)
            else:
                slot = self.slot_of[ref]
            args.append(slot)
            inputs.append((ref, slot))
        released = [self.slot_of[r] for r in dying if self.slot_of.get(r) in self.owned]
        released = list(dict.fromkeys(released + temps))  # (x + x: one value)
        note = ""
        if node.inplace is not None:
            out = args[len(args) - len(node.inputs) + node.inplace]
            if not self.positional_out(fn, backend.xp):
                fn = _with_out_keyword(fn)
            args.append(out)
            note = " (in place)"
        n_out = len(node.specs)
        wanted = [i for i in range(n_out) if (node, i) in last or (node, i) in fetched]
        if not wanted:
            out = -1
        elif node.inplace is None:
            # Into a slot this op frees (overwriting a dying input releases it with no step
            # of its own), else a free or a new one.
            out = released[0] if released else self._take_slot()
        dead = tuple(s for s in released if s != out)
        self._row(fn, args, out, dead, node, inputs, note)
        self.free.extend(dead)
        if n_out == 1 and wanted:
            self.slot_of[(node, 0)] = out
            self.owned.add(out)
        elif wanted:  # a tuple of outputs: unpack the ones read, then drop the tuple
            for i in wanted:
                self.slot_of[(node, i)] = slot = self._take_slot()
                self.owned.add(slot)
                self._row(itemgetter(i), [out], slot, (), node, ())
            self._row(_none, [], -1, (out,), node, ())
            self.free.append(out)

    def _row(self, fn, args, out, dead, node, inputs, note="") -> None:
        k = len(self.steps)
        i = args[0] if args else 0
        j = args[1] if len(args) > 1 else 0
        self.steps.append((fn, len(args), i, j, tuple(args), out, dead, k))
        self.step_nodes.append(node)
        self.input_slots.append(tuple(inputs))
        self.labels.append(_Label(fn, args, out, node, note))

    def _returned(self, ref, ir):
        original = ir.original_outputs[ir.outputs.index(ref)]
        copy = ref != original and (ir.outputs.count(ref) > 1 or may_alias_external(ref))
        return self.slot_of[ref], copy


def _none():
    return None


class _Label:
    """One listing line, formatted only when the listing is asked for."""

    __slots__ = ("fn", "args", "out", "node", "note")

    def __init__(self, fn, args, out, node, note) -> None:
        self.fn, self.args, self.out, self.node, self.note = fn, args, out, node, note

    def __call__(self) -> str:
        node = self.node
        name = getattr(self.fn, "__name__", type(self.fn).__name__)
        if node.op_def is not None and node.op_def.xp_name is not None:
            name = f"xp_{node.op_def.xp_name}"
        call = f"{encode.identifier(name)}({', '.join(f's{a}' for a in self.args)})"
        target = f"s{self.out} = " if self.out >= 0 else ""
        comment = f"{encode.plain(node.type)} {encode.quoted(node.origin_name)}{self.note}"
        return f"{target}{call}  # {comment}  {encode.site(node.site)}"
