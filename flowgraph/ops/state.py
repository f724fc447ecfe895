"""Sources of values: constants, placeholders, and variables with their assignments.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     w = fg.Variable([1.0, 2.0], name="w")
...     x = fg.placeholder(fg.float32, [2], name="x")
...     y = w * x
...     step = w.assign_add([1.0, 1.0])
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         _ = sess.run(step)
...         print(sess.run(y, feed_dict={x: [10.0, 10.0]}))
[20. 30.]
"""

from __future__ import annotations

from flowgraph.errors import FailedPreconditionError, InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.shape import TensorShape, as_shape
from flowgraph.ops import namespace
from flowgraph.ops.convert import constant, convert_to_tensor  # noqa: F401 - constant too
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient

# ---- Placeholders -------------------------------------------------------------------------


def _placeholder_kernel(xp, *, dtype, shape):
    # Only reached when the compiler could not see the missing feed (it normally reports it).
    raise InvalidArgumentError(message=f"You must feed a value for a placeholder of shape {shape}")


define_op(
    "Placeholder",
    lambda inputs, attrs: [(attrs["dtype"], attrs["shape"])],
    kernel=_placeholder_kernel,
    attrs={"dtype": REQUIRED, "shape": TensorShape(None)},
    differentiable=False,
    is_placeholder=True,
    must_be_fed=True,
)


def placeholder(dtype, shape=None, name: str = "Placeholder"):
    """A tensor whose value must be fed at run time; ``None`` dims accept any size.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 784], name="x")
    >>> x
    <flowgraph.Tensor 'x:0' shape=[?,784] dtype=float32>
    """
    attrs = {"dtype": as_dtype(dtype), "shape": as_shape(shape)}
    return apply_op("Placeholder", [], attrs, name=name)


def _placeholder_with_default_infer(inputs, attrs):
    shape = attrs["shape"]
    if not inputs[0].shape.is_compatible_with(shape):
        raise ShapeError(f"default value of shape {inputs[0].shape} does not fit shape {shape}")
    return [(inputs[0].dtype, shape)]


define_op(
    "PlaceholderWithDefault",
    _placeholder_with_default_infer,
    kernel=lambda xp, value, *, shape: value,
    attrs={"shape": REQUIRED},
    is_placeholder=True,
)


@gradient("PlaceholderWithDefault")
def _placeholder_with_default_grad(op, grad):
    """d(default) = g."""
    return [grad]


def placeholder_with_default(input, shape, name: str = "PlaceholderWithDefault"):
    """A placeholder that yields ``input`` when not fed; ``shape`` may be less specific."""
    value = convert_to_tensor(input)
    return apply_op("PlaceholderWithDefault", [value], {"shape": as_shape(shape)}, name=name)


# ---- Variables ----------------------------------------------------------------------------


def stored_value(ctx, var_name: str):
    """The session's current array for ``var_name``; FailedPreconditionError if uninitialized."""
    try:
        return ctx.variables[var_name]
    except KeyError:
        error = FailedPreconditionError(message=f"Attempting to use uninitialized value {var_name}")
        error.uninitialized_variable = var_name  # the plan adds where the variable was made
        raise error from None


def _read_variable(ctx, *, var_name, dtype, shape):
    return stored_value(ctx, var_name)


define_op(
    "VariableV2",
    lambda inputs, attrs: [(attrs["dtype"], attrs["shape"])],
    kernel=_read_variable,
    attrs={"var_name": "", "dtype": REQUIRED, "shape": REQUIRED},
    stateful=True,
    differentiable=False,  # a source: gradients stop here and are returned for the variable
    needs_context=True,
    read_at_use=True,
    is_variable=True,
)


def _assign_infer(inputs, attrs):
    ref, value = inputs
    if value.dtype is not ref.dtype:
        raise ShapeError(f"cannot assign a {value.dtype.name} value to a {ref.dtype.name} variable")
    if attrs["validate_shape"] and not ref.shape.is_compatible_with(value.shape):
        raise ShapeError(
            f"cannot assign a value of shape {value.shape} to a variable of shape {ref.shape}"
        )
    return [(ref.dtype, ref.shape if attrs["validate_shape"] else value.shape)]


def _assign(ctx, value, *, var_name, validate_shape, use_locking=False):
    # Copy: the stored value must not alias a fed array or another variable. Storing it is
    # one dict assignment, atomic with or without use_locking.
    value = namespace.aligned_copy(ctx.xp, value)
    if use_locking:
        with ctx.locked((var_name,)):
            ctx.variables[var_name] = value
    else:
        ctx.variables[var_name] = value
    return value


def _update(op_name, combine):
    def update(ctx, delta, var_name):
        old = _read_variable(ctx, var_name=var_name, dtype=None, shape=None)
        new = combine(old, delta)
        if new.shape != old.shape:
            raise InvalidArgumentError(
                message=f"{op_name}: update of shape {delta.shape} does not match variable "
                f"{var_name} of shape {old.shape}"
            )
        ctx.variables[var_name] = new
        return new

    def kernel(ctx, delta, *, var_name, validate_shape, use_locking=False):
        # Read, combine, store: without the lock, two runs may read the same old value and
        # one update is lost (TF1's default too).
        if not use_locking:
            return update(ctx, delta, var_name)
        with ctx.locked((var_name,)):
            return update(ctx, delta, var_name)

    return kernel


for _type, _kernel in [
    ("Assign", _assign),
    ("AssignAdd", _update("AssignAdd", lambda a, b: a + b)),
    ("AssignSub", _update("AssignSub", lambda a, b: a - b)),
]:
    define_op(
        _type,
        _assign_infer,
        kernel=_kernel,
        attrs={"var_name": REQUIRED, "validate_shape": True, "use_locking": False},
        stateful=True,
        differentiable=False,
        needs_context=True,
        ref_inputs=(0,),
        overwrites_variable=_type == "Assign",
    )


def _assign_op(op_type, ref, value, validate_shape=True, use_locking=False, name=None):
    var = ref if isinstance(ref, Variable) else None
    ref_tensor = var._ref if var is not None else ref
    if ref_tensor.op.type != "VariableV2":
        raise TypeError(f"{op_type} needs a Variable, got {ref!r}")
    value = convert_to_tensor(value, dtype=ref_tensor.dtype)
    attrs = {
        "var_name": ref_tensor.op.attrs["var_name"],
        "validate_shape": True if validate_shape is None else validate_shape,
        "use_locking": bool(use_locking),
    }
    return apply_op(op_type, [ref_tensor, value], attrs, name=name or op_type)


def assign(ref, value, validate_shape=True, use_locking=False, name=None):
    """Store ``value`` in variable ``ref`` when run; the result is the new value.

    ``use_locking`` (TF1's, default False): hold the variable's lock while storing, so that
    it is ordered with other locked updates of the variable.
    """
    return _assign_op("Assign", ref, value, validate_shape, use_locking, name)


def assign_add(ref, value, use_locking=False, name=None):
    """Add ``value`` to variable ``ref`` when run; the result is the new value.

    Without ``use_locking`` (TF1's default) two runs updating the variable at the same time
    may both read the old value, and one addition is lost; with it, the read, the addition
    and the store happen under the variable's lock, so concurrent additions all count.

    >>> import threading
    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     total = fg.Variable(0, name="total")
    ...     add = assign_add(total, 1, use_locking=True)
    ...     with fg.Session() as sess:
    ...         sess.run(total.initializer)
    ...         def work():
    ...             for _ in range(200):
    ...                 sess.run(add.op)
    ...         threads = [threading.Thread(target=work) for _ in range(4)]
    ...         for t in threads: t.start()
    ...         for t in threads: t.join()
    ...         print(sess.run(total))
    800
    """
    return _assign_op("AssignAdd", ref, value, True, use_locking, name)


def assign_sub(ref, value, use_locking=False, name=None):
    """Subtract ``value`` from variable ``ref`` when run; the result is the new value
    (``use_locking``: as :func:`assign_add`)."""
    return _assign_op("AssignSub", ref, value, True, use_locking, name)


class Variable:
    """A value kept by each Session between runs, initialized by running ``initializer``.

    Usable wherever a tensor is (``x @ W + b``); ``assign``/``assign_add``/``assign_sub`` build
    update ops. Each Session holds its own copy of every variable's value.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     v = fg.Variable(fg.zeros([2]), name="v")
    >>> v.name, str(v.shape), v.initializer.name
    ('v:0', '[2]', 'v/Assign')
    """

    def __init__(
        self,
        initial_value=None,
        trainable: bool = True,
        name: str | None = None,
        dtype=None,
        collections=None,
        validate_shape: bool = True,
    ) -> None:
        if initial_value is None:
            raise ValueError("Variable needs an initial_value.")
        if callable(initial_value):
            initial_value = initial_value()
        graph = getattr(initial_value, "graph", None) or get_default_graph()
        with graph.as_default(), graph.name_scope(name or "Variable") as scope:
            self.initial_value = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            shape = self.initial_value.shape if validate_shape else TensorShape(None)
            var_name = scope[:-1]
            attrs = {"var_name": var_name, "dtype": self.initial_value.dtype, "shape": shape}
            # The op takes the scope's own name: "v", whose helpers live in "v/".
            self._ref = apply_op("VariableV2", [], attrs, name=scope)
            self.initializer = assign(self, self.initial_value, validate_shape, name="Assign").op
        self.trainable = trainable
        for key in collections or [GraphKeys.GLOBAL_VARIABLES]:
            graph.add_to_collection(key, self)
        if trainable:
            graph.add_to_collection(GraphKeys.TRAINABLE_VARIABLES, self)

    # Identity and metadata ----------------------------------------------------------------
    op = property(lambda self: self._ref.op)
    graph = property(lambda self: self._ref.graph)
    name = property(lambda self: self._ref.name)
    dtype = property(lambda self: self._ref.dtype)
    shape = property(lambda self: self._ref.shape)
    device = property(lambda self: self._ref.device)

    def get_shape(self) -> TensorShape:
        return self._ref.shape

    def _as_graph_tensor(self):
        return self._ref

    def value(self):
        """The tensor that reads this variable."""
        return self._ref

    def read_value(self, name: str = "read"):
        """A new Identity op reading the variable (ordered by control dependencies)."""
        from flowgraph.ops.array import identity

        with self.graph.as_default(), self.graph.name_scope(self.op.name + "/"):
            return identity(self._ref, name=name)

    def assign(self, value, use_locking=False, name=None):
        return assign(self, value, use_locking=use_locking, name=name)

    def assign_add(self, delta, use_locking=False, name=None):
        return assign_add(self, delta, use_locking=use_locking, name=name)

    def assign_sub(self, delta, use_locking=False, name=None):
        return assign_sub(self, delta, use_locking=use_locking, name=name)

    def eval(self, session=None):
        return self._ref.eval(session=session)

    def __repr__(self) -> str:
        return f"<flowgraph.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"


def global_variables(scope: str | None = None) -> list[Variable]:
    """The variables of the default graph's ``GLOBAL_VARIABLES`` collection (optionally those
    whose name matches ``scope``)."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope: str | None = None) -> list[Variable]:
    """The variables of the default graph's ``TRAINABLE_VARIABLES`` collection (optionally
    those whose name matches ``scope``)."""
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def variables_initializer(var_list, name: str = "init"):
    """One op that runs the initializers of ``var_list``."""
    from flowgraph.ops.ordering import group

    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    """One op that initializes every global variable of the default graph (TF1's ``init``)."""
    return variables_initializer(global_variables(), name="init")


__all__ = [
    "Variable",
    "assign",
    "assign_add",
    "assign_sub",
    "constant",
    "dtypes",
    "global_variables",
    "global_variables_initializer",
    "placeholder",
    "placeholder_with_default",
    "trainable_variables",
    "variables_initializer",
]
