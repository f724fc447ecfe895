"""``flowgraph.function``: trace a Python function into a static graph, once per input signature.

Calling a wrapped function with eager tensors, NumPy arrays or Python values runs the Python
function ONCE for each new *signature* (the shapes and dtypes of its tensor arguments, and the
values of its other arguments) with placeholders in place of the tensors, in graph mode: every
op it calls is added to a fresh :class:`~flowgraph.Graph` instead of being computed. The traced
graph, its placeholders, its outputs and a Session bound to it form a :class:`ConcreteFunction`,
cached under the signature; every call with that signature just runs the compiled plan.

What tracing bakes in, shown rather than hidden (TensorFlow's ``tf.function`` does the same):

- Python side effects (``print``, appending to a list) happen while tracing, not per call;
  use ``flowgraph.Print`` for a print that runs with the graph.
- Python control flow on what is known at trace time (shapes, Python arguments) picks one
  branch per signature; on a tensor *value* it cannot run at all (the value is unknown while
  tracing), and raises a TypeError pointing to ``flowgraph.cond`` / ``while_loop``.
- NumPy arrays and Python numbers that the function reads from outside become constants.
- A new signature traces again (``trace_count`` goes up) and warns with a
  :class:`RetracingWarning` saying why; ``input_signature=[TensorSpec([None, 4], float32)]``
  traces once for every batch size.

>>> import warnings
>>> import numpy as np
>>> import flowgraph as fg
>>> @function
... def scaled(x, factor=2.0):
...     print("tracing for", x.shape)
...     return fg.reduce_sum(x * factor, axis=1)
>>> scaled(np.ones((2, 3), np.float32))
tracing for [2,3]
array([6., 6.], dtype=float32)
>>> scaled(np.zeros((2, 3), np.float32))       # same signature: no trace, no print
array([0., 0.], dtype=float32)
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     _ = scaled(np.ones((4, 3), np.float32))
tracing for [4,3]
>>> print(caught[0].message)                    # doctest: +ELLIPSIS
flowgraph.function 'scaled' traced 2 times: new input shapes x: (4, 3) float32 vs cached ...
>>> scaled.trace_count, [op.type for op in scaled.get_concrete_function(
...     np.ones((4, 3), np.float32)).graph.get_operations()]
(2, ['Placeholder', 'Const', 'Mul', 'Sum'])

Inputs that are eager tensors (``flowgraph.dynamic``) give eager tensors back; NumPy arrays give
NumPy arrays. Gradients do not flow through a traced function: its results are not recorded on
the tape, so calling it on a tensor that requires grad (outside ``no_grad``) is refused. A
function that creates Variables is refused too (TF allows it on the first call only). Inside
the function, use flowgraph's op functions and operators (``fg.matmul``, ``fg.nn.relu``,
``x * 2``): they build graph ops while tracing. The PyTorch-style ``flowgraph.dynamic``
functions and methods (``fd.relu``, ``x.sum()``) work on eager tensors only.
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from flowgraph.dynamic.tape import grad_mode
from flowgraph.dynamic.tensor import EagerTensor
from flowgraph.graph import Graph, GraphKeys, Operation, Tensor, TensorShape
from flowgraph.graph.dtypes import as_dtype
from flowgraph.ops.registry import executing_with, get_op_def
from flowgraph.ops.state import placeholder

__all__ = ["ConcreteFunction", "Function", "RetracingWarning", "TensorSpec", "function"]


class RetracingWarning(UserWarning):
    """A ``flowgraph.function`` traced its Python function again, for a new input signature."""


@dataclass(frozen=True)
class TensorSpec:
    """The shape (``None`` for any size) and dtype a traced function's tensor argument has
    (``tf.TensorSpec``). ``input_signature=[TensorSpec([None, 784], float32)]`` traces once."""

    shape: tuple
    dtype: object = "float32"
    name: str | None = None

    def __post_init__(self) -> None:
        dims = TensorShape(self.shape).dims
        object.__setattr__(self, "shape", None if dims is None else tuple(dims))
        object.__setattr__(self, "dtype", as_dtype(self.dtype))

    def accepts(self, shape: tuple, dtype) -> bool:
        if as_dtype(dtype) is not self.dtype:
            return False
        if self.shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, shape)
        )

    def __str__(self) -> str:
        return _describe_tensor(self.shape, self.dtype)


# ---- signatures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arg:
    """One argument's part of a signature: a tensor's (shape, dtype) or a Python value."""

    name: str
    is_tensor: bool
    shape: tuple | None = None
    dtype: object = None
    value: object = None  # the hashable form of a Python value

    def __str__(self) -> str:
        if self.is_tensor:
            return f"{self.name}: {_describe_tensor(self.shape, self.dtype)}"
        return f"{self.name}={self.value!r}"


def _describe_tensor(shape, dtype) -> str:
    if shape is None:
        return f"<unknown rank> {dtype.name}"
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims}{',' if len(shape) == 1 else ''}) {dtype.name}"


def _is_tensor(value) -> bool:
    return isinstance(value, (EagerTensor, np.ndarray, np.generic))


def _freeze(name: str, value):
    """A hashable stand-in for a Python argument, so that it can key the cache by value."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(name, v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(name, v)) for k, v in value.items()))
    if _is_tensor(value) and not isinstance(value, np.generic):
        raise TypeError(
            f"argument {name!r} holds a tensor inside a Python structure (a list, a tuple, "
            "*args): flowgraph.function traces tensors passed as separate named arguments only"
        )
    if isinstance(value, (Tensor, Operation)):
        raise TypeError(
            f"argument {name!r} is the graph tensor {value.name!r}: a flowgraph.function "
            "takes eager tensors, NumPy arrays or Python values (it builds its own graph)"
        )
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"argument {name!r} of type {type(value).__name__} is not hashable: flowgraph."
            "function keys its cache on the values of non-tensor arguments"
        ) from None
    return value


# ---- the traced function ---------------------------------------------------------------------


class ConcreteFunction:
    """One traced signature: ``graph`` (draw it with ``flowgraph.viz.draw``), ``inputs`` (its
    placeholders, one per tensor argument), ``outputs`` (the graph tensors the function
    returned, flattened), ``session`` (runs it) and ``signature``. Calling it with the tensor
    arguments (in order) runs the graph and returns NumPy values in the function's output
    structure."""

    def __init__(self, name, graph, inputs, structure, outputs, signature, level=None):
        from flowgraph.runtime.session import Session

        self.name = name
        self.graph = graph
        self.inputs = inputs
        self.outputs = outputs
        self.signature = signature
        self._structure = structure
        self.session = Session(graph=graph) if level is None else Session(graph=graph, level=level)
        self._run = self.session.make_callable(list(outputs), list(inputs)) if outputs else None

    def __call__(self, *tensor_values):
        values = list(self._run(*tensor_values)) if self._run is not None else []
        return _rebuild(self._structure, values)

    def plan_source(self) -> str:
        """The generated Python code of the plan that runs this function (what compiling the
        graph for its outputs, with its placeholders fed, produces)."""
        from flowgraph.compiler.plan import compile_plan

        return compile_plan(list(self.outputs), list(self.inputs), level=self.session.level).source

    def explain(self):
        """What the compiler's passes did to this graph (``Session.explain``); ``print`` it."""
        return self.session.explain(list(self.outputs), dict.fromkeys(self.inputs))

    def __repr__(self) -> str:
        args = ", ".join(str(a) for a in self.signature)
        ops = len(self.graph.get_operations())
        return f"<ConcreteFunction {self.name}({args}): {ops} graph ops>"


class Function:
    """What ``@flowgraph.function`` returns: a callable that traces per signature.

    ``trace_count`` (traces so far), ``concrete_functions`` (in trace order),
    ``get_concrete_function(*args, **kwargs)`` (trace if needed, do not run),
    ``python_function`` (the wrapped function), ``input_signature``.
    """

    def __init__(self, fn, input_signature=None, level=None) -> None:
        if not callable(fn):
            raise TypeError(f"flowgraph.function needs a callable, got {fn!r}")
        self.python_function = fn
        self.input_signature = None
        if input_signature is not None:
            self.input_signature = tuple(
                s if isinstance(s, TensorSpec) else TensorSpec(*s) for s in input_signature
            )
        self._level = level
        self._signature = inspect.signature(fn)
        self._cache: dict = {}
        self.concrete_functions: list[ConcreteFunction] = []
        self.trace_count = 0
        functools.update_wrapper(self, fn)

    @property
    def name(self) -> str:
        return getattr(self.python_function, "__qualname__", repr(self.python_function))

    def __call__(self, *args, **kwargs):
        bound = self._bind(args, kwargs)
        tensors = [value for value in bound.arguments.values() if _is_tensor(value)]
        eager = any(isinstance(t, EagerTensor) for t in tensors)
        if (
            eager
            and grad_mode.enabled
            and any(isinstance(t, EagerTensor) and t.requires_grad for t in tensors)
        ):
            raise RuntimeError(
                f"flowgraph.function {self.name!r}: gradients do not flow through a traced "
                "function (its results are not recorded on the tape). Call it under "
                "flowgraph.dynamic.no_grad(), or pass tensor.detach()."
            )
        concrete = self._concrete_for(bound)
        values = [t.value if isinstance(t, EagerTensor) else t for t in tensors]
        result = concrete(*values)
        return _map_arrays(result, EagerTensor) if eager else result

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The ConcreteFunction for these arguments' signature, traced now if it is new
        (without running it)."""
        return self._concrete_for(self._bind(args, kwargs))

    # ---- internals ---------------------------------------------------------------------------
    def _bind(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound

    def _key(self, bound) -> tuple:
        key = []
        tensor_index = 0
        for name, value in bound.arguments.items():
            if _is_tensor(value):
                shape = tuple(int(d) for d in value.shape)
                dtype = value.dtype if isinstance(value, EagerTensor) else as_dtype(value.dtype)
                if self.input_signature is not None:
                    shape, dtype = self._check_spec(tensor_index, name, shape, dtype)
                tensor_index += 1
                key.append(_Arg(name, True, shape, dtype))
            else:
                key.append(_Arg(name, False, value=_freeze(name, value)))
        if self.input_signature is not None and tensor_index != len(self.input_signature):
            raise ValueError(
                f"flowgraph.function {self.name!r} was given {tensor_index} tensor argument(s) "
                f"but its input_signature has {len(self.input_signature)}"
            )
        return tuple(key)

    def _check_spec(self, index, name, shape, dtype):
        if index >= len(self.input_signature):
            raise ValueError(
                f"flowgraph.function {self.name!r}: tensor argument {name!r} is not in its "
                f"input_signature ({len(self.input_signature)} spec(s))"
            )
        spec = self.input_signature[index]
        if not spec.accepts(shape, dtype):
            raise ValueError(
                f"flowgraph.function {self.name!r}: argument {name!r} is "
                f"{_describe_tensor(shape, as_dtype(dtype))}, which does not match its "
                f"input_signature spec {spec}"
            )
        return spec.shape, spec.dtype

    def _concrete_for(self, bound) -> ConcreteFunction:
        key = self._key(bound)
        concrete = self._cache.get(key)
        if concrete is None:
            previous = self.concrete_functions[-1].signature if self.concrete_functions else None
            concrete = self._trace(bound, key)
            self._cache[key] = concrete
            self.concrete_functions.append(concrete)
            self.trace_count += 1
            if previous is not None:
                warnings.warn(
                    f"flowgraph.function {self.name!r} traced {self.trace_count} times: "
                    f"{_difference(key, previous)}. {_advice(key, previous)}",
                    RetracingWarning,
                    stacklevel=_user_stacklevel(),
                )
        return concrete

    def _trace(self, bound, key) -> ConcreteFunction:
        graph = Graph()
        inputs = []
        arguments = {}
        with graph.as_default(), executing_with(None):  # build graph ops, even from eager code
            for arg, (name, value) in zip(key, bound.arguments.items()):
                if arg.is_tensor:
                    ph = placeholder(
                        arg.dtype, None if arg.shape is None else list(arg.shape), name=name
                    )
                    inputs.append(ph)
                    arguments[name] = ph
                else:
                    arguments[name] = value
            traced = inspect.BoundArguments(self._signature, arguments)
            try:
                result = self.python_function(*traced.args, **traced.kwargs)
            except (TypeError, ValueError) as e:
                raise self._tracing_error(e, key) from e
        variables = graph.get_collection(GraphKeys.GLOBAL_VARIABLES) + graph.get_collection(
            GraphKeys.LOCAL_VARIABLES
        )
        if variables or any(get_op_def(op.type).is_variable for op in graph.get_operations()):
            raise ValueError(
                f"flowgraph.function {self.name!r} created Variables while tracing "
                f"({', '.join(v.name for v in variables) or 'a VariableV2 op'}). "
                "A traced function may not create variables (TensorFlow allows it on the first "
                "call only; flowgraph does not): create them outside and pass their values in "
                "as arguments, or use flowgraph.dynamic Parameters without tracing."
            )
        structure, outputs = _flatten(result)
        return ConcreteFunction(self.name, graph, inputs, structure, outputs, key, self._level)

    def _tracing_error(self, e: Exception, key) -> Exception:
        message = str(e)
        where = f"while tracing flowgraph.function {self.name!r} for ({', '.join(map(str, key))})"
        frame = _last_frame(e.__traceback__)
        if frame is not None and frame.f_code.co_name == "__bool__":
            message += (
                f"\n  {where}: Python `if`/`while` on a tensor's value cannot be traced, because "
                "the value is only known when the graph runs. Branch on shapes or Python "
                "arguments (decided once per signature), or build the branch into the graph "
                "with flowgraph.cond(pred, true_fn, false_fn) / flowgraph.while_loop."
            )
        elif "(dynamic)" in message:
            message += (
                f"\n  {where}: a flowgraph.dynamic tensor from outside the function cannot enter "
                "its graph (tracing does not capture eager tensors): pass it as an argument."
            )
        else:
            message += f"\n  {where}"
        if type(e) in (TypeError, ValueError):
            return type(e)(message)
        return e


def function(fn=None, *, input_signature=None, level=None):
    """Decorator turning a Python function of tensors into a traced, cached static graph
    (``tf.function``); see the module docstring. ``level`` is the plans' optimization level
    (``"O0"`` or ``"O1"``, the Session's default when None).

    >>> import numpy as np
    >>> import flowgraph as fg
    >>> @function(input_signature=[TensorSpec([None], "float32")])
    ... def double(x):
    ...     return x * 2.0
    >>> double(np.arange(3, dtype=np.float32)), double(np.ones(5, np.float32)).shape
    (array([0., 2., 4.], dtype=float32), (5,))
    >>> double.trace_count
    1
    """
    if fn is None:
        return lambda f: Function(f, input_signature, level)
    return Function(fn, input_signature, level)


# ---- helpers ----------------------------------------------------------------------------------


def _difference(new: tuple, old: tuple) -> str:
    """Why ``new`` is a new signature, compared with ``old`` (the last one traced)."""
    shapes, values = [], []
    for a, b in zip(new, old):
        if a == b:
            continue
        if a.is_tensor and b.is_tensor:
            shapes.append(
                f"{a.name}: {_describe_tensor(a.shape, a.dtype)} vs cached "
                f"{_describe_tensor(b.shape, b.dtype)}"
            )
        elif a.is_tensor or b.is_tensor:
            was = "a tensor" if b.is_tensor else "a Python value"
            values.append(
                f"{a.name} is now {'a tensor' if a.is_tensor else repr(a.value)}, was {was}"
            )
        else:
            values.append(f"Python value {a.name}={a.value!r} vs cached {b.value!r}")
    parts = []
    if shapes:
        parts.append("new input shapes " + "; ".join(shapes))
    if values:
        parts.append("new " + "; ".join(values))
    return "; ".join(parts) or "a new input signature"


def _advice(new: tuple, old: tuple) -> str:
    advice = [
        "Each new signature runs the Python function again and builds and compiles a new graph"
    ]
    if any(a.is_tensor and b.is_tensor and a != b for a, b in zip(new, old)):
        advice.append(
            "input_signature=[TensorSpec([None, ...], dtype), ...] traces once for all sizes"
        )
    if any(not (a.is_tensor and b.is_tensor) and a != b for a, b in zip(new, old)):
        advice.append("pass numbers that change from call to call as tensors (np.float32(x))")
    return "; ".join(advice) + "."


def _flatten(result):
    """``(structure, outputs)``: graph tensors / operations in ``result`` become indices into
    ``outputs``; other values (Python numbers, None) are kept as they are."""
    outputs: list = []

    def walk(item):
        if isinstance(item, (Tensor, Operation)) and not isinstance(item, EagerTensor):
            outputs.append(item)
            return ("fetch", len(outputs) - 1)
        if isinstance(item, EagerTensor):
            raise TypeError(
                "a traced function returned a flowgraph.dynamic tensor made outside its graph; "
                "return graph tensors (results of flowgraph ops on the arguments)"
            )
        if isinstance(item, dict):
            return ("dict", type(item), [(k, walk(v)) for k, v in item.items()])
        if isinstance(item, (list, tuple)):
            kind = type(item)
            return ("seq", kind, [walk(v) for v in item])
        return ("value", item)

    return walk(result), outputs


def _rebuild(structure, values):
    tag = structure[0]
    if tag == "fetch":
        return values[structure[1]]
    if tag == "dict":
        return structure[1]((k, _rebuild(s, values)) for k, s in structure[2])
    if tag == "seq":
        kind, items = structure[1], [_rebuild(s, values) for s in structure[2]]
        return kind(*items) if hasattr(kind, "_fields") else kind(items)
    return structure[1]


def _map_arrays(result, wrap):
    if isinstance(result, (np.ndarray, np.generic)):
        return wrap(result)
    if isinstance(result, dict):
        return type(result)((k, _map_arrays(v, wrap)) for k, v in result.items())
    if isinstance(result, (list, tuple)):
        items = [_map_arrays(v, wrap) for v in result]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    return result


def _last_frame(tb):
    frame = None
    while tb is not None:
        frame = tb.tb_frame
        tb = tb.tb_next
    return frame


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this module."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level
