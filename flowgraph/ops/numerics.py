"""Numerical checks: ``check_numerics`` and ``add_check_numerics_ops`` (TF1's NaN/Inf guards).

``check_numerics(t, message)`` passes ``t`` through unchanged and fails the run with an
InvalidArgumentError when ``t`` holds a NaN or an infinity. The message is TensorFlow's
(``"<message> : Tensor had NaN values"``); the runtime adds the op's name and the line that
created it. ``add_check_numerics_ops()`` puts such a check after every floating-point output of
the default graph and returns one op that runs them all.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2], name="x")
...     y = check_numerics(fg.log(x), "log of x")
...     with fg.Session() as sess:
...         print(sess.run(y, feed_dict={x: [1.0, 1.0]}))
...         try:
...             sess.run(y, feed_dict={x: [1.0, -1.0]})
...         except fg.errors.InvalidArgumentError as e:
...             print(str(e).splitlines()[0])
[0. 0.]
CheckNumerics op 'CheckNumerics' failed: log of x : Tensor had NaN values
"""

from __future__ import annotations

from flowgraph.errors import InvalidArgumentError
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.ops import rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.ordering import group
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, get_op_def, gradient


def _check_numerics_infer(inputs, attrs):
    rules.require_kind(inputs[0], "float", "tensor")
    return rules.same_as_input(inputs, attrs)


def _check_numerics_kernel(xp, x, *, message):
    if bool(xp.all(xp.isfinite(x))):  # the common case: one pass, no temporaries kept
        return x
    has_nan = bool(xp.any(xp.isnan(x)))
    has_inf = bool(xp.any(xp.isinf(x)))
    what = "Inf and NaN" if has_nan and has_inf else "NaN" if has_nan else "Inf"
    raise InvalidArgumentError(message=f"{message} : Tensor had {what} values")


define_op(
    "CheckNumerics",
    _check_numerics_infer,
    kernel=_check_numerics_kernel,
    attrs={"message": REQUIRED},
    # Raising is its side effect: never fold it (it would raise while compiling) or prune it
    # as dead code, never merge two checks of one tensor.
    stateful=True,
)


def check_numerics(tensor, message: str, name: str | None = None):
    """``tensor`` unchanged; the run fails with InvalidArgumentError if it has NaN or Inf.

    Only floating-point tensors are accepted. The error reads
    ``CheckNumerics op 'name' failed: <message> : Tensor had NaN values`` followed by the line
    that created the check. The check runs only when something fetched needs its output (use
    the returned tensor in place of ``tensor``), as in TF1.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     safe = check_numerics(fg.constant([1.0, 2.0]), "weights")
    ...     fg.Session().run(safe)
    array([1., 2.], dtype=float32)
    """
    x = convert_to_tensor(tensor)
    return apply_op("CheckNumerics", [x], {"message": str(message)}, name=name or "CheckNumerics")


@gradient("CheckNumerics")
def _check_numerics_grad(op, grad):
    """dx = g (identity; the gradient itself is not checked here)."""
    # Identity. (TF also checks the gradient; a check built inside gradients() that the
    # driver ends up not using would be a side-effect op nobody runs, so we leave it out:
    # add_check_numerics_ops() after gradients() checks the backward pass too.)
    return [grad]


def _checkable(op) -> bool:
    """Whether ``add_check_numerics_ops`` checks this op's outputs.

    Not variables (a check would read them before they are initialized), not ops that write
    variables or print (checking their outputs would make the group run them), not the checks
    themselves. Random ops are checked: their draws are ordinary values.
    """
    op_def = get_op_def(op.type)
    if op.type == "CheckNumerics" or op_def.read_at_use or op_def.ref_inputs:
        return False
    return not op_def.stateful or "seed" in op_def.attrs


def add_check_numerics_ops(name: str = "check_numerics_ops"):
    """Check every floating-point output of the default graph; returns an op running all checks.

    Fetch the returned op together with the step (``sess.run([train_op, check])``): the first
    check that sees a NaN or Inf fails the run, naming the tensor, the op that produced it and
    the line that created that op. Ops added to the graph later are not covered (call it after
    building the model). For a report of the first op that went wrong without adding ops, see
    ``flowgraph.runtime.debug.find_first_nonfinite``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [], name="x")
    ...     y = fg.sqrt(x, name="root")
    ...     check = add_check_numerics_ops()
    ...     try:
    ...         fg.Session().run([y, check], feed_dict={x: -1.0})
    ...     except fg.errors.InvalidArgumentError as e:
    ...         print(e.op.name)
    ...         print(str(e).splitlines()[0].split(": ", 1)[1])
    root/CheckNumerics
    root:0 (Sqrt op created at <doctest ...>) : Tensor had NaN values
    """
    graph = get_default_graph()
    checks = []
    for op in graph.get_operations():
        if not _checkable(op):
            continue
        for t in op.outputs:
            if not t.dtype.is_floating:
                continue
            message = f"{t.name} ({op.type} op created at {op.site})"
            # In the checked op's own scope ("dense/MatMul/CheckNumerics"), free of any
            # control dependencies of the caller's context.
            with graph.name_scope(op.name + "/"), graph.control_dependencies(None):
                checks.append(check_numerics(t, message).op)
    with graph.control_dependencies(None):
        return group(*checks, name=name)
