"""Reverse-mode differentiation as graph rewriting: ``gradients(ys, xs)`` adds gradient ops.

The driver walks the ops between ``xs`` and ``ys`` in reverse creation order (a valid reverse
topological order: an op's data inputs always exist before it), asks each op's registered
gradient rule for its input gradients, sums contributions from several paths, and reduces a
gradient back to its input's shape where broadcasting widened it — in this one place, so that
no gradient rule has to. Gradient ops live in ``<op name>_grad`` name scopes.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float64, [3], name="x")
...     y = fg.reduce_sum(x * x)
...     (dx,) = fg.gradients(y, [x])
...     fg.Session().run(dx, {x: [1.0, 2.0, 3.0]})
array([2., 4., 6.])
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

from flowgraph.graph.bulk import collector_paused
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.site import gradient_sites, in_package, user_site
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, broadcast, math
from flowgraph.ops.convert import convert_to_tensor, shared_constants
from flowgraph.ops.registry import get_gradient, get_op_def


def _as_tensor_list(values, what: str) -> list[Tensor]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        values = [values]
    out = []
    for v in values:
        v = v._as_graph_tensor() if hasattr(v, "_as_graph_tensor") else v
        if not isinstance(v, Tensor):
            raise TypeError(f"gradients: {what} must be Tensors or Variables, got {v!r}")
        out.append(v)
    return out


def gradients(
    ys,
    xs,
    grad_ys=None,
    name: str = "gradients",
    stop_gradients=None,
    unconnected_gradients: str = "none",
    colocate_gradients_with_ops: bool = False,
):
    """Symbolic derivatives of ``sum(ys)`` with respect to each of ``xs`` (TF1 semantics).

    ``grad_ys`` seeds each y (default: ones). Integer and bool tensors get no gradient;
    ``stop_gradient`` ops and ``stop_gradients=`` tensors block flow. An x that ``ys`` do not
    depend on gets ``None``, or zeros with ``unconnected_gradients="zero"``. Gradient ops go on
    the device in effect here, or with ``colocate_gradients_with_ops`` on their forward op's.
    Inside ``cond`` and ``while_loop`` a gradient reuses what the forward pass's stateful ops
    (random draws, dropout masks, assignments) produced; it never runs them again.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [], name="x")
    ...     w = fg.Variable(3.0, dtype=fg.float64, name="w")
    ...     y = w * x * x
    ...     dx, dw = fg.gradients(y, [x, w])
    ...     label = fg.argmax([x, w], 0)             # an int: no gradient flows through it
    ...     (none,) = fg.gradients(fg.cast(label, fg.float64), [x])
    ...     with fg.Session() as sess:
    ...         sess.run(w.initializer)
    ...         print(*sess.run([dx, dw], {x: 2.0}), none)
    12.0 4.0 None

    When a gradient is ``None`` or zero and you expected a value, ``explain_gradient(y, x)``
    says whether ``x`` is disconnected from ``y`` or names the op that blocks the path:

    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [3], name="x")
    ...     y = fg.cast(fg.argmax(x, 0), fg.float64, name="y")
    ...     print(fg.explain_gradient(y, x))  # doctest: +ELLIPSIS
    No gradient flows from 'y:0' to 'x:0': every path is blocked.
      ArgMax op 'ArgMax' (created at ...) is not differentiable
    """
    ys = _as_tensor_list(ys, "ys")
    xs = _as_tensor_list(xs, "xs")
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError("unconnected_gradients must be 'none' or 'zero'")
    graph = ys[0].graph if ys else get_default_graph()
    for t in ys + xs:
        if t.graph is not graph:
            raise ValueError(f"gradients: {t.name!r} is not in the same graph as ys[0]")
    stopped = set(_as_tensor_list(stop_gradients, "stop_gradients"))
    with collector_paused(), shared_constants(), graph.as_default(), graph.name_scope(name):
        seeds = _seed_gradients(ys, grad_ys)
        between = ops_between(ys, xs, stopped)
        grads = backpropagate(between, seeds, stopped, colocate_gradients_with_ops)
        return [_result_for(x, grads, unconnected_gradients) for x in xs]


def _seed_gradients(ys, grad_ys) -> dict:
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    elif not isinstance(grad_ys, (list, tuple)):
        grad_ys = [grad_ys]
    if len(grad_ys) != len(ys):
        raise ValueError(f"gradients: {len(grad_ys)} grad_ys given for {len(ys)} ys")
    seeds: dict = {}
    for y, g in zip(ys, grad_ys):
        if g is None:
            g = array.ones_like(y, name="grad_ys")
        else:
            g = convert_to_tensor(g, dtype=y.dtype)
            if not g.shape.is_compatible_with(y.shape):
                raise ValueError(
                    f"gradients: grad_ys for {y.name!r} has shape {g.shape}, which does not "
                    f"match the shape {y.shape} of that y"
                )
        seeds.setdefault(y, []).append(g)
    return seeds


def ops_between(ys, xs, stopped=frozenset()) -> set:
    """Ops on a data path from some x to some y (iteratively; stopped tensors cut paths)."""
    seen_from_x = set()
    frontier = [c for x in xs for c in x.graph.consumers_of(x)]
    while frontier:
        op = frontier.pop()
        if op in seen_from_x:
            continue
        seen_from_x.add(op)
        for t in op.outputs:
            frontier.extend(op.graph.consumers_of(t))
    reachable = set()
    stack = [y.op for y in ys if y.op in seen_from_x]
    while stack:
        op = stack.pop()
        if op in reachable:
            continue
        reachable.add(op)
        for t in op.inputs:
            if t.op in seen_from_x and t not in stopped:
                stack.append(t.op)
    return reachable


def backpropagate(between, grads: dict, stopped: set, colocate: bool = False) -> dict:
    """Run the gradient rules of the graph ops in ``between`` from the last to the first,
    adding each input's contributions to ``grads`` (tensor -> list of gradients).

    flowgraph.dynamic walks its tape nodes with a loop of its own (dynamic/autograd.py) that
    calls the same pieces — :func:`gradient_rule`, :func:`summed`, :func:`fit_to_input`,
    :func:`check_rule_result` — without what only graph ops need (name scopes, sites,
    colocation, stopped tensors).

    Graph ops made for a forward op record it: their site is a GradientSite naming the user's
    ``gradients`` line and the forward op (found once here, not per op)."""
    call_site = user_site()
    for op in sorted(between, key=_creation_order, reverse=True):
        _backpropagate_op(op, grads, stopped, colocate, call_site)
    return grads


def _backpropagate_op(op, grads, stopped, colocate, call_site) -> None:
    """Add the contributions of ``op``'s gradient rule to ``grads``."""
    outputs = op.outputs
    contributions = [grads.get(t) for t in outputs]
    if not any(contributions) or (stopped and any(t in stopped for t in outputs)):
        return
    rule = gradient_rule(op)
    if rule is None:
        return
    with _recorded(op, rule, call_site):
        out_grads = [
            summed(c, t) if c else array.zeros_like(t) for c, t in zip(contributions, outputs)
        ]
        with _gradient_scope(op, colocate):
            in_grads = rule(op, *out_grads)
            check_rule_result(op, in_grads)
            for t, g in zip(op.inputs, in_grads):
                if g is None or not t.dtype.is_floating:
                    continue
                grads.setdefault(t, []).append(fit_to_input(g, t))


_BUILT_IN: dict = {}  # gradient rule -> whether flowgraph defines it


def _recorded(op, rule, call_site):
    """Graph ops made for ``op``'s gradient record ``op`` (in their GradientSite). For a rule
    of flowgraph's own they all get the ``gradients`` call's site, found once; a user's rule's
    ops get the line in that rule, as any op the user writes. A tape node: nothing to name."""
    if op.graph is None:
        return nullcontext()
    built_in = _BUILT_IN.get(rule)
    if built_in is None:
        filename = getattr(getattr(rule, "__code__", None), "co_filename", "")
        built_in = _BUILT_IN[rule] = in_package(filename)
    return gradient_sites(op, call_site if built_in else None)


def _creation_order(op) -> int:
    return op._id


def _gradient_scope(op, colocate: bool = False):
    """Gradient ops go in the ``<op>_grad`` name scope (and on ``op``'s device when
    ``colocate``); a dynamic-mode tape node has no graph (``op.graph is None``), and its
    gradients are values with nothing to name."""
    graph = op.graph
    if graph is None:
        return nullcontext()
    if not colocate:
        return graph.name_scope(op.name + "_grad")
    return _colocated_scope(graph, op)


@contextmanager
def _colocated_scope(graph, op):
    with graph.name_scope(op.name + "_grad"), graph.device(op.device):
        yield


def gradient_rule(op):
    """The op's gradient rule, None if it is not differentiable; LookupError if missing."""
    override = op.attrs.get("_gradient_op_type")
    if override is None and not get_op_def(op.type).differentiable:
        return None
    key = override or op.type
    try:
        return get_gradient(key)
    except KeyError:
        raise LookupError(
            f"No gradient defined for operation {op.name!r} (op type: {key}), created at "
            f"{op.site}. Register one with flowgraph.RegisterGradient({key!r}), or wrap the "
            "input in stop_gradient if no gradient should flow here."
        ) from None


def check_rule_result(op, in_grads) -> None:
    """Raise when a gradient rule returned a gradient count other than ``op``'s inputs'."""
    if len(in_grads) != len(op.inputs):
        raise ValueError(
            f"The gradient rule for {op.type} returned {len(in_grads)} gradients for "
            f"{len(op.inputs)} inputs ({op.describe()})"
        )


def fit_to_input(g: Tensor, x: Tensor) -> Tensor:
    """Reduce ``g`` to ``x``'s shape if broadcasting may have widened it (decided statically
    when both shapes are fully known, else by the op at run time)."""
    if g.dtype is not x.dtype:
        g = math.cast(g, x.dtype)
    if x.shape.is_fully_defined() and g.shape == x.shape:
        return g
    return broadcast.sum_to_shape_of(g, x)


def summed(contributions, tensor):
    """The gradient of ``tensor`` from its ``contributions`` (one per consuming path):
    None, the one, or their AddN."""
    if not contributions:
        return None
    if len(contributions) == 1:
        return contributions[0]
    return math.add_n(contributions, name=f"{tensor.op.name}_{tensor.value_index}_sum")


def _result_for(x, grads, unconnected):
    g = summed(grads.get(x), x)
    if g is None and unconnected == "zero":
        return array.zeros_like(x)
    return g

