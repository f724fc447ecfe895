"""Variable scopes and ``get_variable``: named, shareable variables, as in TensorFlow 1.

``get_variable("w", shape)`` creates the variable ``<scope>/w`` the first time and, in a scope
opened with ``reuse=True`` (or ``reuse=AUTO_REUSE``), returns that same variable again. That is
how TF1 programs share weights between two towers of a model (train / eval, a GAN's real and
fake discriminator passes). The rules are TF1's:

- ``reuse=None`` / ``False`` (the default): the variable must be new, else ValueError
  ``Variable x/w already exists, disallowed...``;
- ``reuse=True``: the variable must exist, else ValueError ``Variable x/w does not exist, or
  was not created with tf.get_variable()...``;
- ``reuse=AUTO_REUSE``: create it if missing, else reuse it;
- nested scopes inherit reuse (``reuse = reuse or parent.reuse``: once reusing, always), and the
  scope's initializer, regularizer and dtype are defaults for the variables made inside.

A variable scope also opens a name scope for the ops built inside (``x/MatMul``; re-entering
``x`` gives ``x_1/MatMul``), but variables are named by the variable scope alone (``x/w``), even
inside a ``name_scope``. Scopes without a name (``default_name="dense"``) are made unique:
``dense``, ``dense_1``, ... — counted afresh inside each re-entered parent, so a model
function called twice under ``variable_scope("model", reuse=True)`` finds the same
``model/dense/kernel`` again.

The variables live in a per-graph store (kept beside the graph, in a weak dictionary), so
variables made with ``Variable(...)`` directly are not found by ``get_variable``, as in TF1.

>>> import flowgraph as fg
>>> from flowgraph.ops import initializers
>>> with fg.Graph().as_default():
...     def layer(x):
...         w = get_variable("w", [3, 2], initializer=initializers.ones())
...         return fg.matmul(x, w)
...     x = fg.placeholder(fg.float32, [None, 3])
...     with variable_scope("tower"):
...         a = layer(x)
...     with variable_scope("tower", reuse=True):
...         b = layer(x)
...     print([v.name for v in fg.global_variables()], a.name, b.name)
['tower/w:0'] tower/MatMul:0 tower_1/MatMul:0
"""

from __future__ import annotations

import enum
import inspect
import threading
import weakref

from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.shape import as_shape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import initializers as init_ops
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.state import Variable, variables_initializer

__all__ = [
    "AUTO_REUSE",
    "VariableScope",
    "get_local_variable",
    "get_variable",
    "get_variable_scope",
    "local_variables",
    "local_variables_initializer",
    "model_variables",
    "variable_scope",
]

REGULARIZATION_LOSSES = "regularization_losses"  # TF1's GraphKeys.REGULARIZATION_LOSSES


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE
"""``reuse=AUTO_REUSE``: ``get_variable`` creates a variable if it is missing, else reuses it."""


class VariableScope:
    """A variable scope's settings: its ``name`` (the prefix of the variables made in it),
    ``reuse``, and the defaults ``initializer``, ``regularizer`` and ``dtype`` of its variables.

    ``original_name_scope`` is the name scope the scope opened first (``"x/"``); re-entering
    the scope object (``variable_scope(scope)``) goes back into it.
    """

    def __init__(
        self, reuse, name="", initializer=None, regularizer=None, dtype=None, name_scope=""
    ):
        self.name = name
        self._reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype
        self.original_name_scope = name_scope

    @property
    def reuse(self):
        return self._reuse

    def reuse_variables(self) -> None:
        """From now on, ``get_variable`` in this scope reuses existing variables."""
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self.initializer = initializer

    def set_regularizer(self, regularizer) -> None:
        self.regularizer = regularizer

    def set_dtype(self, dtype) -> None:
        self.dtype = dtype

    def get_variable(self, name, shape=None, dtype=None, initializer=None, **kwargs):
        """``get_variable`` as if called inside this scope."""
        with variable_scope(self, auxiliary_name_scope=False):
            return get_variable(name, shape, dtype, initializer, **kwargs)

    def __repr__(self) -> str:
        return f"<flowgraph.VariableScope {self.name!r} reuse={self._reuse}>"


class _Store:
    """Per-graph state: the variables made by get_variable, the current scope, scope counts."""

    def __init__(self) -> None:
        self.variables: dict[str, Variable] = {}
        self.scope = VariableScope(False)
        # How often each variable scope (full name) was opened since its parent was last
        # entered: what makes default names unique (TF1's variable_scopes_count).
        self.counts: dict[str, int] = {}
        self.lock = threading.RLock()

    def open(self, scope_name: str) -> None:
        self.counts[scope_name] = self.counts.get(scope_name, 0) + 1
        # Entering a scope restarts the numbering of the default names below it.
        prefix = scope_name + "/"
        for key in [k for k in self.counts if k.startswith(prefix)]:
            self.counts[key] = 0

    def unique_name(self, prefix: str) -> str:
        parent = self.scope.name
        full = f"{parent}/{prefix}" if parent else prefix
        if not self.counts.get(full):
            return prefix
        i = 1
        while self.counts.get(f"{full}_{i}"):
            i += 1
        return f"{prefix}_{i}"


_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def root_graph(graph):
    """The outermost graph: a cond branch or loop body shares its parent's variables."""
    while getattr(graph, "outer_graph", None) is not None:
        graph = graph.outer_graph
    return graph


def _store(graph=None) -> _Store:
    graph = root_graph(graph if graph is not None else get_default_graph())
    with _STORES_LOCK:
        store = _STORES.get(graph)
        if store is None:
            store = _STORES[graph] = _Store()
        return store


def get_variable_scope() -> VariableScope:
    """The current variable scope of the default graph."""
    return _store().scope


class variable_scope:  # noqa: N801 - TF1's spelling; used as `with variable_scope(...):`
    """Context manager opening a variable scope (and a name scope): see the module docstring.

    ``name_or_scope`` is a name (nested under the current scope) or a :class:`VariableScope`
    to re-enter (its full name, not nested). Without it, ``default_name`` is used, made unique.
    ``reuse`` is None (inherit), True, False or ``AUTO_REUSE``. ``auxiliary_name_scope=False``
    opens no name scope. Yields the VariableScope.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     with variable_scope("net", reuse=AUTO_REUSE) as scope:
    ...         v1 = get_variable("v", [1])
    ...     with variable_scope(scope):
    ...         v2 = get_variable("v", [1])
    ...     print(v1 is v2, v1.name, scope.name)
    True net/v:0 net
    """

    def __init__(
        self,
        name_or_scope=None,
        default_name=None,
        values=None,
        initializer=None,
        regularizer=None,
        caching_device=None,
        partitioner=None,
        custom_getter=None,
        reuse=None,
        dtype=None,
        use_resource=None,
        constraint=None,
        auxiliary_name_scope=True,
    ) -> None:
        if name_or_scope is None and default_name is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if name_or_scope is None and reuse is True:
            raise ValueError("reuse=True cannot be used without a name_or_scope")
        if reuse not in (None, True, False, AUTO_REUSE):
            raise ValueError(f"reuse must be None, True, False or AUTO_REUSE, not {reuse!r}")
        if custom_getter is not None or partitioner is not None:
            raise NotImplementedError(
                "variable_scope: custom_getter and partitioner are not supported"
            )
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._dtype = None if dtype is None else as_dtype(dtype)
        self._auxiliary_name_scope = auxiliary_name_scope
        self._exits: list = []

    def __enter__(self) -> VariableScope:
        graph = get_default_graph()
        store = _store(graph)
        parent = store.scope
        target = self._name_or_scope
        if isinstance(target, VariableScope):
            full_name = target.name
            reuse = self._reuse or target.reuse
            base = target
            # Re-enter the scope's first name scope ("x/"), not a new "x_1/".
            name_scope = target.original_name_scope or None
        else:
            if target is None:
                short = store.unique_name(self._default_name)
                name_scope = self._default_name
            else:
                short = name_scope = str(target)
            full_name = f"{parent.name}/{short}" if parent.name else short
            reuse = self._reuse or parent.reuse
            base = parent
        if self._auxiliary_name_scope:
            cm = graph.name_scope(name_scope)
            opened = cm.__enter__()
            self._exits.append(cm.__exit__)
        elif isinstance(target, VariableScope):
            opened = target.original_name_scope
        else:
            current = graph.get_name_scope()
            opened = current + "/" if current else ""
        scope = VariableScope(
            reuse,
            full_name,
            self._initializer if self._initializer is not None else base.initializer,
            self._regularizer if self._regularizer is not None else base.regularizer,
            self._dtype if self._dtype is not None else base.dtype,
            opened,
        )
        with store.lock:
            store.open(full_name)
            self._saved = store.scope
            store.scope = scope
        self._store = store
        return scope

    def __exit__(self, *exc) -> None:
        self._store.scope = self._saved
        while self._exits:
            self._exits.pop()(*exc)


# ---- get_variable ----------------------------------------------------------------------------


def _default_initializer(name: str, dtype):
    if dtype.is_floating:
        return init_ops.GlorotUniform()
    if dtype.is_integer or dtype.is_bool:
        return init_ops.Zeros()
    raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")


def _takes_no_arguments(fn) -> bool:
    try:
        inspect.signature(fn).bind()
    except (TypeError, ValueError):
        return False
    return True


def _initial_value(full_name, shape, dtype, initializer, explicit_dtype):
    """The tensor (or no-argument callable) the new variable starts from."""
    if isinstance(initializer, type):
        initializer = initializer(dtype=dtype)  # TF1 accepts an initializer class
    if initializer is not None and not callable(initializer):
        if shape is not None:
            raise ValueError("If initializer is a constant, do not specify shape.")
        if not (isinstance(initializer, Tensor) or hasattr(initializer, "_as_graph_tensor")):
            return convert_to_tensor(initializer, dtype if explicit_dtype else None)
        value = convert_to_tensor(initializer)
        if explicit_dtype and value.dtype is not dtype:
            raise ValueError(
                f"Initializer type '{value.dtype.name}' and explicit dtype '{dtype.name}' "
                "don't match."
            )
        return value
    if initializer is None:
        initializer = _default_initializer(full_name, dtype)
    if shape is not None and shape.is_fully_defined():
        return initializer(shape.as_list(), dtype=dtype)
    if shape is None and not isinstance(initializer, init_ops.Initializer):
        if _takes_no_arguments(initializer):
            return initializer
    raise ValueError(
        f"Shape of a new variable ({full_name}) must be fully defined, but instead was {shape}."
    )


def _create(graph, full_name, shape, dtype, initializer, explicit_dtype, trainable, collections):
    prefix, _, short = full_name.rpartition("/")
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None):
        actual = graph.unique_name(full_name, mark_as_used=False)
        with graph.name_scope(actual + "/Initializer/"):
            initial = _initial_value(full_name, shape, dtype, initializer, explicit_dtype)
        with graph.name_scope(prefix + "/" if prefix else None):
            return Variable(
                initial,
                trainable=trainable,
                name=short,
                dtype=None if isinstance(initial, Tensor) else dtype,
                collections=collections,
            )


def get_variable(
    name,
    shape=None,
    dtype=None,
    initializer=None,
    regularizer=None,
    trainable=None,
    collections=None,
    caching_device=None,
    partitioner=None,
    validate_shape=True,
    use_resource=None,
    custom_getter=None,
    constraint=None,
    **kwargs,
):
    """The variable ``<current variable scope>/name``: made new, or shared under ``reuse``.

    ``initializer`` is an initializer object (``initializers.zeros()``, the default being
    Glorot uniform for floats and zeros for integers, as TF1), an initializer class, or a value
    / tensor to start from (then give no ``shape``). ``dtype`` defaults to the scope's, else
    float32. ``regularizer(var)``, if any, adds its loss to the ``"regularization_losses"``
    collection. Sharing checks the shape and any explicit dtype.

    >>> import flowgraph as fg
    >>> from flowgraph.ops import initializers
    >>> with fg.Graph().as_default():
    ...     w = get_variable("w", [2, 2], initializer=initializers.zeros())
    ...     try:
    ...         get_variable("w", [2, 2])
    ...     except ValueError as e:
    ...         print(str(e).split(".")[0])
    Variable w already exists, disallowed
    """
    if custom_getter is not None or partitioner is not None:
        raise NotImplementedError("get_variable: custom_getter and partitioner are not supported")
    graph = root_graph(get_default_graph())
    store = _store(graph)
    scope = store.scope
    full_name = f"{scope.name}/{name}" if scope.name else name
    explicit_dtype = dtype is not None or scope.dtype is not None
    dtype = as_dtype(dtype if dtype is not None else scope.dtype or dtypes.float32)
    shape = None if shape is None else as_shape(shape)
    reuse = scope.reuse
    with store.lock:
        found = store.variables.get(full_name)
        if found is not None:
            if reuse is not True and reuse is not AUTO_REUSE:
                raise ValueError(
                    f"Variable {full_name} already exists, disallowed. Did you mean to set "
                    "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n"
                    f"  {found.op.site}"
                )
            _check_shared(found, full_name, shape, dtype if explicit_dtype else None)
            return found
        if reuse is True:
            raise ValueError(
                f"Variable {full_name} does not exist, or was not created with "
                "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in VarScope?"
            )
        if initializer is None:
            initializer = scope.initializer
        trainable = True if trainable is None else trainable
        var = _create(
            graph, full_name, shape, dtype, initializer, explicit_dtype, trainable, collections
        )
        store.variables[full_name] = var
    regularizer = regularizer if regularizer is not None else scope.regularizer
    if regularizer is not None:
        with graph.as_default(), graph.name_scope(full_name + "/Regularizer/"):
            loss = regularizer(var)
        if loss is not None:
            graph.add_to_collection(REGULARIZATION_LOSSES, loss)
    return var


def _check_shared(found, full_name, shape, dtype) -> None:
    if shape is not None and not found.shape.is_compatible_with(shape):
        raise ValueError(
            f"Trying to share variable {full_name}, but specified shape {shape} and found "
            f"shape {found.shape}."
        )
    if dtype is not None and found.dtype is not dtype:
        raise ValueError(
            f"Trying to share variable {full_name}, but specified dtype {dtype.name} and found "
            f"dtype {found.dtype.name}."
        )


# ---- local variables -------------------------------------------------------------------------


def get_local_variable(name, shape=None, dtype=None, initializer=None, **kwargs):
    """``get_variable`` for a local (not trainable, not saved) variable, as TF1's."""
    kwargs["collections"] = [GraphKeys.LOCAL_VARIABLES] + list(kwargs.get("collections") or [])
    kwargs["trainable"] = False
    return get_variable(name, shape, dtype, initializer, **kwargs)


def local_variables(scope: str | None = None) -> list:
    """The variables in the LOCAL_VARIABLES collection of the default graph."""
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list:
    """The variables in the MODEL_VARIABLES collection (TF1 code adds them by hand; none of
    flowgraph's layers does)."""
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def local_variables_initializer():
    """One op initializing every local variable (a no-op when there is none)."""
    return variables_initializer(local_variables(), name="init")
