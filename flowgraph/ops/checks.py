"""Ops that check the program or the session's state rather than compute values; all are
stateful and have no gradient.

- ``Assert`` — raises InvalidArgumentError when its condition is false;
- ``IsVariableInitialized`` / ``ReportUninitializedVariables`` — read which variables the
  session holds, without reading (so without failing on) their values. The report's names
  are bytes, typed by a private ``string`` stand-in dtype (flowgraph has no string tensors).
"""

from __future__ import annotations

import numpy as np

from flowgraph.errors import InvalidArgumentError
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import DType
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, no_gradient
from flowgraph.ops.state import global_variables

__all__ = ["Assert", "is_variable_initialized", "report_uninitialized_variables"]


# ---- Assert and variable-state queries -------------------------------------------------------


def _assert_kernel(ctx, condition, *data, template, summarize):
    if bool(ctx.xp.all(condition)):
        return None
    values = iter(data)
    parts = []
    for item in template:
        if item is None:  # a tensor's place: its first `summarize` values
            flat = np.asarray(ctx.to_host(next(values))).ravel()
            parts.append(str(flat[:summarize].tolist()))
        else:
            parts.append(item)
    raise InvalidArgumentError(message="assertion failed: " + " ".join(f"[{p}]" for p in parts))


define_op(
    "Assert",
    lambda inputs, attrs: rules.require_kind(inputs[0], "bool", "condition") or [],
    kernel=_assert_kernel,
    attrs={"template": (), "summarize": 3},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF1's spelling
    """An op that raises InvalidArgumentError, listing ``data``, when ``condition`` (all of it)
    is false. Run it, or make other ops depend on it with ``control_dependencies``.
    ``data`` mixes tensors and strings.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None])
    ...     check = Assert(fg.reduce_all(x > 0.0), ["x must be positive:", x])
    ...     with fg.control_dependencies([check]):
    ...         y = fg.log(x)
    ...     try:
    ...         fg.Session().run(y, {x: [1.0, -2.0]})
    ...     except fg.errors.InvalidArgumentError as e:
    ...         print(str(e).splitlines()[0])
    Assert op 'Assert' failed: assertion failed: [x must be positive:] [[1.0, -2.0]]
    """
    template, tensors = [], []
    for item in data:
        if isinstance(item, str):
            template.append(item)
        else:
            template.append(None)
            tensors.append(convert_to_tensor(item))
    attrs = {"template": tuple(template), "summarize": 3 if summarize is None else int(summarize)}
    inputs = [convert_to_tensor(condition)] + tensors
    return apply_op("Assert", inputs, attrs, name=name or "Assert")


class _StringDType(DType):
    """Names as bytes: flowgraph has no string tensors, except this op's output."""

    __slots__ = ()

    @property
    def is_numeric(self) -> bool:
        return False

    @property
    def as_numpy_dtype(self):
        return np.dtype("S")


string = _StringDType("string", "string", 0)


def _variable_name(var) -> str:
    ref = getattr(var, "_ref", var)
    if getattr(ref, "op", None) is None or ref.op.type != "VariableV2":
        raise TypeError(f"Expected a Variable, got {var!r}")
    return ref.op.attrs["var_name"]


define_op(
    "IsVariableInitialized",
    lambda inputs, attrs: [(dtypes.bool_, TensorShape([]))],
    kernel=lambda ctx, *, var_name: ctx.xp.asarray(var_name in ctx.variables),
    attrs={"var_name": REQUIRED},
    stateful=True,  # its answer changes as the session runs: never folded or merged
    differentiable=False,
    needs_context=True,
    ref_inputs=(0,),  # names the variable without reading it
)


def is_variable_initialized(variable, name=None):
    """A bool scalar: whether the running session holds a value for ``variable``."""
    ref = getattr(variable, "_ref", variable)
    attrs = {"var_name": _variable_name(variable)}
    return apply_op("IsVariableInitialized", [ref], attrs, name=name or "IsVariableInitialized")


def _report_kernel(ctx, *, var_names):
    missing = [n.encode() for n in var_names if n not in ctx.variables]
    return np.array(missing, dtype="S") if missing else np.zeros([0], dtype="S")


define_op(
    "ReportUninitializedVariables",
    lambda inputs, attrs: [(string, TensorShape([None]))],
    kernel=_report_kernel,
    attrs={"var_names": REQUIRED},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D tensor of the names (bytes) of the variables in ``var_list`` (default: all
    global variables) that the running session has no value for yet."""
    var_list = global_variables() if var_list is None else var_list
    attrs = {"var_names": tuple(_variable_name(v) for v in var_list)}
    return apply_op("ReportUninitializedVariables", [], attrs, name=name)


for _type in ("Assert", "IsVariableInitialized", "ReportUninitializedVariables"):
    no_gradient(_type)
