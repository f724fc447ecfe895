"""Text views of a graph for ``print``: a table of ops, and a jaxpr-like expression listing.

>>> import flowgraph as fg
>>> with fg.Graph().as_default() as g:
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     w = fg.Variable(fg.ones([3, 2]), name="w")
...     y = fg.reduce_sum(fg.matmul(x, w, name="xw") * 2.0, axis=1, name="y")
>>> print(expressions(y))
x:f32[?,3] = Placeholder
w:f32[3,2] = VariableV2
xw:f32[?,2] = MatMul x:f32[?,3] w:f32[3,2]
Mul:f32[?,2] = Mul xw:f32[?,2] 2.0
y:f32[?] = Sum[axis=(1,)] Mul:f32[?,2]
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from flowgraph.ops.registry import REQUIRED, get_op_def
from flowgraph.viz.scopes import select_ops, tensor_label, tensor_type
from flowgraph.viz.styles import op_category

# Attributes the listing already shows: the output's type, the variable an update names.
_IMPLIED_ATTRS = frozenset({"dtype", "shape", "T", "var_name", "slot_names"})
_DEFAULT_CONST_NAME = re.compile(r"Const(_\d+)?$")
_COLUMNS = ("op", "type", "inputs", "dtype", "shape", "created at")
_WIDTHS = {"op": 36, "type": 24, "inputs": 48, "dtype": 16, "shape": 20, "created at": 48}


def summary(graph_or_tensors=None, max_width: int | None = None) -> str:
    """A table of the ops — name, type, inputs, output dtypes and shapes, where each was
    created — and a count of ops by kind. ``^name`` marks a control input.

    Long cells are cut with ``…``; ``max_width`` widens or narrows every column's limit.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default() as g:
    ...     x = fg.placeholder(fg.float32, [None, 784], name="x")
    ...     y = fg.nn.relu(x, name="y")
    >>> print(summary(g))  # doctest: +ELLIPSIS
    op  type         inputs  dtype    shape    created at
    --  -----------  ------  -------  -------  ----------------------...
    x   Placeholder          float32  [?,784]  <doctest ...
    y   Relu         x       float32  [?,784]  <doctest ...
    2 ops: 1 placeholder, 1 op
    """
    _, ops = select_ops(graph_or_tensors)
    rows = [_row(op) for op in ops]
    widths = {
        c: min(max([len(c)] + [len(r[c]) for r in rows]), max_width or _WIDTHS[c]) for c in _COLUMNS
    }
    lines = [
        _line({c: c for c in _COLUMNS}, widths),
        _line({c: "-" * widths[c] for c in _COLUMNS}, widths),
    ]
    lines += [_line(r, widths) for r in rows]
    counts = Counter(op_category(op) for op in ops)
    kinds = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in counts.most_common())
    lines.append(f"{len(ops)} ops: {kinds}" if ops else "0 ops")
    return "\n".join(lines)


def _row(op) -> dict[str, str]:
    inputs = [tensor_label(t) for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
    return {
        "op": op.name,
        "type": op.type,
        "inputs": ", ".join(inputs),
        "dtype": ", ".join(t.dtype.name for t in op.outputs),
        "shape": ", ".join(str(t.shape) for t in op.outputs),
        "created at": str(op.site),
    }


def _line(row: dict[str, str], widths: dict[str, int]) -> str:
    cells = [_cut(row[c], widths[c]).ljust(widths[c]) for c in _COLUMNS]
    return "  ".join(cells).rstrip()


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _plural(kind: str, n: int) -> str:
    if n == 1 or kind in ("stateful", "control"):
        return kind
    return kind + "s"


def expressions(graph_or_tensors=None) -> str:
    """One line per op, in the spirit of a jaxpr: ``out:f32[?,3] = Mul a:f32[?,3] 2.0``.

    Outputs and inputs carry their dtype and static shape; unnamed scalar constants are written
    inline as literals; attributes that differ from their defaults follow the op type in brackets
    (``Sum[axis=(1,)]``); ``^name`` marks a control input; an op without outputs is written
    ``name = Type ...``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default() as g:
    ...     a = fg.Variable([1.0, 2.0], name="a")
    ...     step = a.assign_add([1.0, 1.0])
    ...     with fg.control_dependencies([step]):
    ...         done = fg.no_op(name="done")
    >>> print(expressions(done))  # doctest: +NORMALIZE_WHITESPACE
    a:f32[2] = VariableV2
    Const:f32[2] = Const [1. 1.]
    AssignAdd:f32[2] = AssignAdd a:f32[2] Const:f32[2]
    done = NoOp ^AssignAdd
    """
    _, ops = select_ops(graph_or_tensors)
    literals = {op.outputs[0]: _literal(op) for op in ops if _literal(op) is not None}
    lines = []
    for op in ops:
        if op.outputs and op.outputs[0] in literals:
            continue  # written inline where it is used
        outs = ", ".join(f"{tensor_label(t)}:{tensor_type(t, short=True)}" for t in op.outputs)
        args = [
            literals[t] if t in literals else f"{tensor_label(t)}:{tensor_type(t, short=True)}"
            for t in op.inputs
        ]
        if get_op_def(op.type).is_constant:
            args.append(_const_text(op.attrs["value"]))
        args += [f"^{c.name}" for c in op.control_inputs]
        lhs = outs or op.name
        lines.append(" ".join([f"{lhs} = {op.type}{_attr_text(op)}", *args]).rstrip())
    return "\n".join(lines)


def _literal(op) -> str | None:
    """An unnamed scalar constant's value as a literal (``2.0``), or None.

    A constant the user named (``learning_rate``) keeps its own line: the name says more.
    """
    if not get_op_def(op.type).is_constant or op.control_inputs:
        return None
    if not _DEFAULT_CONST_NAME.match(op.name.rsplit("/", 1)[-1]):
        return None
    value = np.asarray(op.attrs["value"])
    if value.ndim != 0:
        return None
    return str(value[()])


def _const_text(value) -> str:
    value = np.asarray(value)
    if value.size > 6:
        return f"<{value.dtype.name}{list(value.shape)}>"
    return np.array2string(value, separator=" ", threshold=6).replace("\n", "")


def _attr_text(op) -> str:
    """``[axis=1]``: the attributes that differ from their registered defaults."""
    kind = get_op_def(op.type)
    if kind.is_constant or kind.must_be_fed:
        return ""  # the value is an argument; dtype and shape are the output's type
    try:
        defaults = get_op_def(op.type).attrs
    except KeyError:
        defaults = {}
    shown = []
    for key, value in op.attrs.items():
        if key.startswith("_") or key in _IMPLIED_ATTRS:
            continue
        default = defaults.get(key, REQUIRED)
        if default is not REQUIRED and _same(value, default):
            continue
        shown.append(f"{key}={_short_repr(value)}")
    return f"[{', '.join(shown)}]" if shown else ""


def _same(a, b) -> bool:
    try:
        return bool(np.all(a == b)) if type(a) is type(b) else a == b
    except Exception:  # noqa: BLE001 - incomparable values are simply different
        return False


def _short_repr(value) -> str:
    if isinstance(value, np.ndarray):
        return _const_text(value)
    sub_graph = getattr(value, "graph", None)
    if hasattr(sub_graph, "get_operations"):  # a traced branch or loop body
        return f"<function of {len(sub_graph.get_operations())} ops>"
    text = getattr(value, "name", None) if hasattr(value, "is_floating") else None
    text = text or repr(value)
    return text if len(text) <= 30 else text[:29] + "…"
