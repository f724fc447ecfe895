"""How each ONNX op is built from flowgraph ops: one rule per ONNX op type, in :data:`IMPORTERS`.

A rule is ``rule(ctx, node, inputs, attrs) -> Tensor or [Tensor, ...]`` (one per ONNX output);
``inputs`` are flowgraph Tensors (``None`` for an omitted optional input) and ``attrs`` the
node's attributes as Python values. Inputs that flowgraph needs at build time (a Reshape's
shape is dynamic, but reduction axes, slice bounds, pads and repeats are attributes in
flowgraph) must be constants: initializers or Constant nodes, read with ``ctx.static``.

Where ONNX and TF1 mean different things by the same op, the rule maps ONNX's meaning
explicitly (see also :mod:`flowgraph.onnx.export_ops` for the other direction):

- Div on integers truncates toward zero (TF's FloorDiv floors): built from floordiv and a
  correction where the signs differ and the remainder is not zero.
- Mod: ``fmod=0`` is TF's FloorMod (the divisor's sign); ``fmod=1`` is C's fmod (the
  dividend's sign), ``a - trunc(a / b) * b``.
- Conv / MaxPool / AveragePool are NCHW with explicit (possibly asymmetric) ``pads``; TF has
  only SAME/VALID. ``SAME_UPPER`` is TF's SAME; other pads pad the input explicitly and run
  VALID, MaxPool padding with -inf, AveragePool dividing by the count of real elements unless
  ``count_include_pad=1``.
- Reshape: a 0 copies the input's dimension unless ``allowzero=1``.
- Softmax / LogSoftmax before opset 13 flatten to 2-D at ``axis`` (one softmax over all the
  trailing dims); from 13 they act along one axis, as TF does.
- ArgMax/ArgMin ``select_last_index=1`` take the last extreme (TF the first): computed on the
  reversed axis.
- Pow takes an exponent of another dtype (TF needs one dtype): it is cast to the base's.
- Gemm's ``alpha``/``beta``, Flatten, Clip with omitted bounds, Sum/Mean/Max/Min over any
  number of inputs, BatchNormalization (inference) are composed from several ops.

>>> len(IMPORTERS) > 60
True
"""

from __future__ import annotations

import numpy as np
import onnx

import flowgraph as fg
from flowgraph.graph.tensor import Tensor
from flowgraph.onnx.errors import ONNXImportError

IMPORTERS: dict = {}
SUPPORTED_DTYPES = {
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
}


def numpy_dtype(elem_type: int, what: str) -> np.dtype:
    """The NumPy dtype of ONNX element type ``elem_type``, if flowgraph has it."""
    try:
        dt = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:  # an unknown or non-numeric element type
        dt = None
    if dt is None or dt.name not in SUPPORTED_DTYPES:
        name = (
            onnx.TensorProto.DataType.Name(elem_type)
            if elem_type in onnx.TensorProto.DataType.values()
            else elem_type
        )
        raise ONNXImportError(f"{what} has element type {name}, which flowgraph has no dtype for")
    return dt


class StaticInputNeeded(ONNXImportError):
    """A rule needs the value of graph input ``name`` at build time (a Reshape's shape, a
    Slice's bounds fed at run time): import again with ``bind={name: value}``."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


class ImportContext:
    """What an import rule sees: the tensors built so far (by ONNX name), constant values, the
    names of the graph's (unbound) inputs, and the model's opset."""

    def __init__(self, opset: int, values: dict, graph_inputs=()) -> None:
        self.opset = opset
        self.values = values
        self.graph_inputs = set(graph_inputs)
        self.tensors: dict[str, Tensor] = {}

    def tensor(self, name: str, what: str) -> Tensor:
        """The tensor built for ONNX name ``name`` (``what`` reads it: for the error)."""
        try:
            return self.tensors[name]
        except KeyError:
            raise ONNXImportError(f"{what} reads {name!r}, which is not defined") from None

    def static(self, node, i: int, what: str):
        """The constant value of ``node``'s input ``i``; None when the input is omitted."""
        if i >= len(node.input) or not node.input[i]:
            return None
        name = node.input[i]
        if name in self.values:
            return self.values[name]
        t = self.tensors.get(name)
        if t is not None and t.op.type == "Const":
            return np.asarray(t.op.attrs["value"])
        source = name if name in self.graph_inputs else self._integer_input_upstream(t)
        if source is not None:
            raise StaticInputNeeded(
                f"its {what} (input {i}) depends on graph input {source!r}, whose value "
                f"flowgraph needs when the graph is built: pass bind={{{source!r}: value}} "
                "to import_model",
                source,
            )
        raise ONNXImportError(
            f"its {what} (input {i}, {name!r}) must be a constant (an initializer or a Constant "
            "node): flowgraph fixes it when the graph is built"
        )

    def _integer_input_upstream(self, t: Tensor | None) -> str | None:
        """The first integer graph input that ``t`` is computed from (a fed shape or index
        from which a model computes pads or axes); None when there is none."""
        if t is None:
            return None
        placeholders = {self.tensors[n].op: n for n in self.graph_inputs if n in self.tensors}
        seen, stack = set(), [t.op]
        while stack:
            op = stack.pop()
            if op in seen:
                continue
            seen.add(op)
            name = placeholders.get(op)
            if name is not None and op.outputs[0].dtype.is_integer:
                return name
            stack.extend(x.op for x in op.inputs)
        return None


def rule(*op_types):
    """Decorator registering an import rule for ONNX ``op_types``."""

    def register(fn):
        for t in op_types:
            IMPORTERS[t] = fn
        return fn

    return register


def known_rank(t: Tensor, op: str) -> int:
    """The static rank of ``t``; ONNXImportError naming ``op`` when unknown."""
    if t.shape.rank is None:
        raise ONNXImportError(f"{op} needs its input's rank, which the model leaves unknown")
    return t.shape.rank


def axes_list(value) -> list[int]:
    """An axes attribute or constant as a list of Python ints."""
    return [int(a) for a in np.asarray(value).reshape(-1)]


def refuse_unsupported(attrs: dict, defaults: dict) -> None:
    """ONNXImportError for an attribute set to a value other than the default
    this importer supports."""
    for key, default in defaults.items():
        if (
            key in attrs
            and attrs[key] != default
            and not (isinstance(default, list) and list(attrs[key]) == default)
        ):
            raise ONNXImportError(f"attribute {key}={attrs[key]!r} is not supported")


def flatten_shape(x, axis):
    """A run-time [prod(dims[:axis]), prod(dims[axis:])] for ``x``."""
    s = fg.shape(x, out_type=fg.int64)
    head = fg.reduce_prod(s[:axis]) if axis else fg.constant(1, dtype=fg.int64)
    return fg.stack([head, fg.reduce_prod(s[axis:])])


def axes_input(ctx, node, attrs, what="axes"):
    """A node's axes: its attribute (older opsets) or its static second input; None
    when the model computes them."""
    if "axes" in attrs:
        return list(attrs["axes"])
    value = ctx.static(node, 1, what)
    return None if value is None else axes_list(value)


# The rules, by family; importing them fills IMPORTERS (they import the helpers above).
from flowgraph.onnx import import_math, import_nn, import_shapes  # noqa: E402, F401
