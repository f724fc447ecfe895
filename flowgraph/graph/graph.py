"""The Graph: a container of operations with unique names, name scopes and collections.

>>> import flowgraph as fg
>>> g = fg.Graph()
>>> with g.as_default():
...     with fg.name_scope("layer"):
...         a = fg.constant(1.0, name="a")
...         b = fg.constant(2.0, name="a")
>>> a.name, b.name, g.get_tensor_by_name("layer/a_1:0") is b
('layer/a:0', 'layer/a_1:0', True)
"""

from __future__ import annotations

import difflib
import re
import threading
from contextlib import contextmanager

from flowgraph.errors import echo
from flowgraph.graph import default_stacks
from flowgraph.graph.operation import Operation
from flowgraph.graph.site import CreationSite


class GraphKeys:
    """Standard collection names, as in TF1."""

    GLOBAL_VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    LOCAL_VARIABLES = "local_variables"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    SUMMARIES = "summaries"
    TRAIN_OP = "train_op"


class Graph:
    """A dataflow graph: operations, their names and scopes, collections, control dependencies."""

    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._ops_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._consumers: dict[int, list[Operation]] = {}  # id(tensor) -> consuming ops
        self._collections: dict[str, list] = {}
        self._name_scope = ""  # "" at the root, else "outer/inner/"
        self._control_stack: list[list[Operation]] = []
        self._device_stack: list[str] = []
        self._gradient_overrides: dict[str, str] = {}
        self._finalized = False
        self._lock = threading.RLock()
        # Bumped on every new op; sessions use it to spot graphs that keep growing between runs.
        self.version = 0
        # The graph-level random seed (``set_random_seed``); None until one is set.
        self.seed: int | None = None

    # ---- default graph -------------------------------------------------------------------
    def as_default(self):
        """Context manager making this the default graph: ``with g.as_default(): ...``."""
        return default_stacks.default_graph(self)

    # ---- names ---------------------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """``name`` inside the current name scope, suffixed ``_1``, ``_2``... if taken.

        A name ending in ``/`` (a scope string from :meth:`name_scope`) is taken verbatim,
        without the slash: that is how an op takes the name of the scope it heads.
        """
        if name.endswith("/"):
            return name[:-1]
        if self._name_scope:
            name = self._name_scope + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = name
            while name.lower() in self._names_in_use:
                name = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    def get_name_scope(self) -> str:
        """The current name scope without its trailing slash (``"outer/inner"``)."""
        return self._name_scope.rstrip("/")

    @contextmanager
    def name_scope(self, name: str | None):
        """Prefix the names of ops created inside with ``name/``.

        ``None`` or ``""`` returns to the root scope; a name ending in ``/`` re-enters that exact
        scope; otherwise a re-used scope name is made unique (``layer``, ``layer_1``).
        Yields the full scope string (``"outer/layer/"``).
        """
        old = self._name_scope
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name
        else:
            new = self.unique_name(name) + "/"
        self._name_scope = new
        try:
            yield new
        finally:
            self._name_scope = old

    # ---- devices and control dependencies ------------------------------------------------
    @contextmanager
    def device(self, device_name: str | None):
        """Place ops created inside on ``device_name`` (``"/cpu:0"``, ``"/gpu:0"``)."""
        self._device_stack.append(device_name or "")
        try:
            yield
        finally:
            self._device_stack.pop()

    @contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run only after ``control_inputs``; ``None`` clears outer ones."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = []
        for c in control_inputs:
            op = getattr(c, "op", c) if not isinstance(c, Operation) else c
            if not isinstance(op, Operation):
                raise TypeError(f"control_dependencies expects ops or tensors, got {c!r}")
            if op.graph is not self:
                raise ValueError(f"Control input {op.name!r} is from a different graph.")
            ops.append(op)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextmanager
    def gradient_override_map(self, op_type_map: dict[str, str]):
        """Inside, ops of type ``k`` are differentiated with the gradient registered as ``v``."""
        saved = dict(self._gradient_overrides)
        self._gradient_overrides.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_overrides = saved

    # ---- building ------------------------------------------------------------------------
    def create_op(
        self,
        op_type: str,
        inputs: list,
        attrs: dict,
        output_specs: list,
        name: str,
        site: CreationSite,
        ref_inputs: tuple = (),
        attrs_at_creation=None,
    ) -> Operation:
        """Add an operation; ``name`` is made unique in the current scope.

        The op library calls this after checking shapes; users call op functions instead.
        ``attrs_at_creation(graph, op_index, unique_name) -> dict`` adds the attrs that depend
        on the op's place in the graph (a random op's seeds and generator key): an op's attrs
        are fixed when it is created and never change afterwards.
        """
        with self._lock:
            if self._finalized:
                raise RuntimeError(
                    f"Graph is finalized and cannot be modified (adding {op_type} op {name!r} "
                    f"at {site}). Build the graph before finalize(), or use a new Graph."
                )
            for t in inputs:
                if t.graph is not self:  # (rare: a capture, or an error)
                    inputs = [
                        t
                        if t.graph is self
                        else self._capture(t, op_type, name, site, i in ref_inputs)
                        for i, t in enumerate(inputs)
                    ]
                    break
            stack = self._control_stack
            control = [op for ops in stack for op in ops] if stack else []
            device = self._device_stack[-1] if self._device_stack else ""
            if self._gradient_overrides and self._gradient_overrides.get(op_type):
                attrs = dict(attrs, _gradient_op_type=self._gradient_overrides[op_type])
            name = self.unique_name(name)
            if attrs_at_creation is not None:
                attrs = {**attrs, **attrs_at_creation(self, len(self._ops), name)}
            op = Operation(
                self,
                op_type,
                name,
                inputs,
                attrs,
                output_specs,
                control,
                device,
                site,
                len(self._ops),
            )
            self._ops.append(op)
            self._ops_by_name[op.name] = op
            consumers = self._consumers
            for t in inputs:
                found = consumers.get(id(t))
                if found is None:  # (setdefault would make a list for every input)
                    consumers[id(t)] = [op]
                else:
                    found.append(op)
            self.version += 1
            return op

    def _capture(self, tensor, op_type, name, site, as_ref=False):
        """An input from another graph: an error here; function graphs capture it instead."""
        raise ValueError(
            f"Tensor {tensor.name!r} is from a different graph than the {op_type} op "
            f"{name!r} being built at {site}."
        )

    def finalize(self) -> None:
        """Make the graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    # ---- lookup --------------------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        """All operations in creation order."""
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings, got {echo(name)}")
        try:
            return self._ops_by_name[name]
        except KeyError:
            hint = self._did_you_mean(name)
            raise KeyError(
                f"The name {echo(name)} refers to an Operation not in the graph.{hint}"
            ) from None

    def get_tensor_by_name(self, name: str):
        if not isinstance(name, str) or ":" not in name:
            raise ValueError(
                f"The name {echo(name)} looks like an (invalid) Operation name, not a Tensor "
                "name. "
                "Tensor names must be of the form '<op_name>:<output_index>'."
            )
        op_name, _, index = name.rpartition(":")
        if op_name not in self._ops_by_name:
            hint = self._did_you_mean(op_name, ":" + index)
            raise KeyError(
                f"The name {echo(name)} refers to a Tensor of an Operation not in the graph.{hint}"
            )
        op = self.get_operation_by_name(op_name)
        try:
            return op.outputs[int(index)]
        except (ValueError, IndexError):
            raise KeyError(
                f"The name {echo(name)} refers to a Tensor which does not exist: operation "
                f"{echo(op_name)} has {len(op.outputs)} output(s)."
            ) from None

    def _did_you_mean(self, name: str, suffix: str = "") -> str:
        """`` Did you mean 'y:0'?`` for the names closest to a mistyped one, or ""."""
        close = difflib.get_close_matches(name, self._ops_by_name, n=3, cutoff=0.6)
        if not close:
            return ""
        return " Did you mean " + " or ".join(repr(c + suffix) for c in close) + "?"

    def as_graph_element(self, obj):
        """Resolve a Tensor, Operation or a name (``'x:0'`` or ``'train'``) in this graph."""
        if isinstance(obj, str):
            if ":" in obj:
                return self.get_tensor_by_name(obj)
            return self.get_operation_by_name(obj)
        graph = getattr(obj, "graph", None)
        if graph is None:
            raise TypeError(f"Cannot interpret {echo(obj)} as a Tensor or Operation.")
        if graph is not self:
            raise ValueError(f"{echo(obj)} is not an element of this graph.")
        return obj

    def consumers_of(self, tensor) -> list[Operation]:
        return list(self._consumers.get(id(tensor), ()))

    # ---- collections ---------------------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list:
        """A copy of collection ``name``; with ``scope``, only items whose name matches it."""
        items = list(self._collections.get(name, ()))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [v for v in items if pattern.match(getattr(v, "name", ""))]

    def get_all_collection_keys(self) -> list[str]:
        return list(self._collections)

    def __repr__(self) -> str:
        return f"<flowgraph.Graph with {len(self._ops)} ops>"
