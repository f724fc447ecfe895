"""The Optimizer base class: gradients in, one update op out (TF1's ``tf.train.Optimizer``).

``minimize(loss)`` is ``compute_gradients`` (symbolic gradients of the loss with respect to the
trainable variables) followed by ``apply_gradients`` (one fused update op per variable, grouped
into the returned train op). Subclasses say which slot variables they need and build the
update op of one variable.

Slot variables (Adam's ``m`` and ``v``, Momentum's accumulator, ...) are ordinary graph
Variables named ``<var>/<optimizer name>``, ``<var>/<optimizer name>_1``..., not trainable, in
GLOBAL_VARIABLES so that ``global_variables_initializer()`` initializes them.

>>> import flowgraph as fg
>>> from flowgraph import train
>>> with fg.Graph().as_default():
...     w = fg.Variable([1.0, 2.0], name="w")
...     g = fg.placeholder(fg.float32, [2], name="g")
...     step = train.MomentumOptimizer(0.1, momentum=0.9).apply_gradients([(g, w)])
...     [v.name for v in fg.global_variables()]
['w:0', 'w/Momentum:0']
"""

from __future__ import annotations

from contextlib import nullcontext

from flowgraph.autodiff import explain_gradient, gradients
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math
from flowgraph.ops.convert import convert_to_tensor, is_tensor_like
from flowgraph.ops.ordering import group
from flowgraph.ops.state import Variable, assign_add, constant
from flowgraph.train.training_ops import locking, variable_tensor


def _var_key(var):
    return variable_tensor(var).op


class Optimizer:
    """Base class of optimizers. Subclasses implement ``_create_slots``, ``_prepare`` and
    ``_apply_dense`` (and ``_finish`` when they update more than the variables).

    ``use_locking`` (TF1's, default False): each variable's update op holds the variable's and
    its slots' locks for the whole update, so steps run from several threads at once apply
    whole updates one after the other; so does the ``global_step`` increment. Without it,
    concurrent steps update the same arrays in place together and may mix element by
    element. Hyperparameters read from variables (Adam's step count) are read unlocked.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool = False, name: str = "Optimizer") -> None:
        if not name:
            raise ValueError("Must specify the optimizer name")
        # TF1's meaning: each update op holds its variable's (and slots') lock throughout.
        # Without it, concurrent steps may interleave their in-place updates element by element.
        self._use_locking = bool(use_locking)
        self._name = name
        self._slots: dict[str, dict] = {}  # slot name -> {variable op: slot Variable}
        self._non_slots: dict = {}  # (name, graph) -> Variable (Adam's beta powers)
        self._hyper_tensors: dict = {}  # (name, dtype) -> tensor, for one apply_gradients
        self._apply_scope = ""  # the name scope of the apply_gradients call in progress

    def get_name(self) -> str:
        return self._name

    # ---- the public API --------------------------------------------------------------------
    def minimize(
        self,
        loss,
        global_step=None,
        var_list=None,
        gate_gradients=GATE_OP,
        aggregation_method=None,
        colocate_gradients_with_ops=False,
        name=None,
        grad_loss=None,
    ):
        """An op that takes one optimization step on ``loss`` (and increments ``global_step``).

        Raises ValueError when no variable gets a gradient, explaining why for the first one.
        """
        grads_and_vars = self.compute_gradients(
            loss,
            var_list=var_list,
            gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            grad_loss=grad_loss,
        )
        if all(g is None for g, _ in grads_and_vars):
            names = [v.name for _, v in grads_and_vars]
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                f"support gradients, between variables {names} and loss {loss!r}.\n"
                + explain_gradient(loss, grads_and_vars[0][1])
            )
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(
        self,
        loss,
        var_list=None,
        gate_gradients=GATE_OP,
        aggregation_method=None,
        colocate_gradients_with_ops=False,
        grad_loss=None,
    ) -> list:
        """``[(gradient, variable)]`` for ``var_list`` (default: the trainable variables);
        a gradient is None where the loss does not depend on that variable."""
        if callable(loss) and not is_tensor_like(loss):
            loss = loss()
        loss = convert_to_tensor(loss)
        if not loss.dtype.is_floating:
            raise ValueError(f"The loss must be a floating-point tensor, got {loss.dtype.name}")
        if var_list is None:
            var_list = loss.graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            variable_tensor(v)  # a TypeError now rather than an odd failure later
        grads = gradients(
            loss,
            var_list,
            grad_ys=grad_loss,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
        )
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """An op applying ``[(gradient, variable)]``; pairs whose gradient is None are skipped.

        With ``global_step``, the returned op also increments it, after all updates.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("No variables provided.")
        checked = []
        for g, v in pairs:
            ref = variable_tensor(v)
            if g is not None:
                g = convert_to_tensor(g)
                if g.dtype is not ref.dtype:
                    raise ValueError(
                        f"Gradient {g.name!r} has dtype {g.dtype.name}, but variable "
                        f"{ref.name!r} has dtype {ref.dtype.name}"
                    )
            checked.append((g, v))
        with_grads = [v for g, v in checked if g is not None]
        if not with_grads:
            names = [variable_tensor(v).name for _, v in checked]
            raise ValueError(f"No gradients provided for any variable: {names}.")
        graph = variable_tensor(with_grads[0]).graph
        with graph.as_default():
            # Slots belong to no name scope and wait for no control dependency of the caller.
            with graph.name_scope(None), graph.control_dependencies(None):
                self._create_slots(with_grads)
            with graph.name_scope(name or self._name) as scope:
                self._hyper_tensors, self._apply_scope = {}, scope
                self._prepare()
                updates = []
                for g, v in checked:
                    if g is None:
                        continue
                    ref = variable_tensor(v)
                    # Each update runs where its variable lives (TF1 colocates them too).
                    with (
                        graph.name_scope("update_" + ref.op.name),
                        graph.device(ref.op.device),
                        locking(self._use_locking),
                    ):
                        updates.append(self._apply_dense(g, v))
                if global_step is None:
                    return self._finish(updates, scope)
                with graph.control_dependencies([self._finish(updates, "update")]):
                    return assign_add(global_step, 1, self._use_locking, name=scope).op

    # ---- slots -----------------------------------------------------------------------------
    def get_slot_names(self) -> list[str]:
        return sorted(self._slots)

    def get_slot(self, var, name: str):
        """The slot Variable ``name`` of ``var``, or None if it has none."""
        return self._slots.get(name, {}).get(_var_key(var))

    def variables(self) -> list:
        """The optimizer's own variables: its slots and its non-slot variables."""
        found = [v for slots in self._slots.values() for v in slots.values()]
        return found + list(self._non_slots.values())

    def _slot(self, var, slot_name: str, fill: float = 0.0):
        """The slot ``slot_name`` of ``var``, created on first use filled with ``fill``."""
        per_var = self._slots.setdefault(slot_name, {})
        key = _var_key(var)
        if key not in per_var:
            per_var[key] = _create_slot(variable_tensor(var), fill, self._name)
        return per_var[key]

    def _non_slot(self, name: str, initial_value, graph, colocate_with=None):
        """A variable of the optimizer itself (one per graph), created on first use, on the
        device of ``colocate_with`` (a variable) when given."""
        key = (name, graph)
        if key not in self._non_slots:
            with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
                placed = (
                    nullcontext()
                    if colocate_with is None
                    else graph.device(variable_tensor(colocate_with).op.device)
                )
                with placed:
                    self._non_slots[key] = Variable(initial_value, trainable=False, name=name)
        return self._non_slots[key]

    # ---- hyperparameters -------------------------------------------------------------------
    def _hyper(self, name: str, value, dtype):
        """``value`` (a number, tensor or callable) as a scalar tensor of ``dtype``, made once
        per apply_gradients call."""
        key = (name, dtype)
        if key not in self._hyper_tensors:
            if callable(value) and not is_tensor_like(value):
                value = value()
            graph = get_default_graph()
            # In the apply_gradients scope ("Adam/learning_rate"), free of control dependencies.
            with graph.name_scope(self._apply_scope), graph.control_dependencies(None):
                if is_tensor_like(value):
                    tensor = math.cast(convert_to_tensor(value), dtype)
                else:
                    tensor = constant(value, dtype=dtype, name=name)
            self._hyper_tensors[key] = tensor
        return self._hyper_tensors[key]

    # ---- what subclasses implement ---------------------------------------------------------
    def _create_slots(self, var_list) -> None:
        """Create the slot variables of ``var_list`` (none by default)."""

    def _prepare(self) -> None:
        """Build tensors shared by all updates of one apply_gradients call."""

    def _apply_dense(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} must implement _apply_dense")

    def _finish(self, update_ops, name_scope: str):
        """The op that runs all ``update_ops`` (named after ``name_scope``)."""
        return group(*update_ops, name=name_scope)


def _create_slot(ref: Tensor, fill: float, op_name: str) -> Variable:
    """A non-trainable Variable shaped like ``ref``, named ``<ref>/<op_name>`` (made unique as
    ``<op_name>_1``...), whose initial value is ``fill`` everywhere. It lives on ``ref``'s
    device, where the update op that reads it runs (TF colocates slots too)."""
    graph = ref.graph
    known = ref.shape.is_fully_defined()
    with (
        graph.as_default(),
        graph.name_scope(None),
        graph.control_dependencies(None),
        graph.device(ref.op.device),
    ):
        with graph.name_scope(ref.op.name + "/"), graph.name_scope(op_name + "_init") as scope:
            value = constant(fill, dtype=ref.dtype)
            if known:
                initial = array.fill(ref.shape.as_list(), value, name=scope)
            else:  # shape known only at run time: taken from the variable when initializing
                initial = math.add(array.zeros_like(ref), value, name=scope)
        name = f"{ref.op.name}/{op_name}"
        return Variable(initial, trainable=False, name=name, validate_shape=known)
