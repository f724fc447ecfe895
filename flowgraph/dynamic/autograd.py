"""``backward()`` and ``grad()``: the static autodiff driver, replayed over the tape.

The nodes reachable from the root are handed to ``flowgraph.autodiff.gradients.backpropagate``,
the very loop that differentiates static graphs: same gradient rules, same summing of paths,
same reduction of broadcast gradients (``sum_to_shape_of``). The rules' ops run eagerly, with
grad mode off — or on, with ``create_graph=True``, so that the gradients are recorded too and can
be differentiated again.

>>> import flowgraph.dynamic as fd
>>> x = fd.tensor(3.0, requires_grad=True)
>>> y = x * x * x
>>> (dx,) = fd.grad(y, [x], create_graph=True)
>>> dx.backward()
>>> dx.item(), x.grad.item()
(27.0, 18.0)
"""

from __future__ import annotations

from flowgraph.autodiff.gradients import check_rule_result, fit_to_input, gradient_rule, summed
from flowgraph.dynamic import tape
from flowgraph.dynamic.deferred import call_deferred
from flowgraph.dynamic.inplace import check_versions
from flowgraph.dynamic.tensor import EagerTensor, new_tensor
from flowgraph.ops import array
from flowgraph.ops.registry import get_op_def
from flowgraph.runtime.fpenv import flushing


def backward(root, gradient=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate d(root)/d(leaf) into the ``.grad`` of every leaf that requires grad (and of
    non-leaves that called ``retain_grad()``), computing with flush-to-zero on (see
    ``flowgraph.runtime.fpenv``). See :meth:`EagerTensor.backward`."""
    with flushing():
        _backward(root, gradient, retain_graph, create_graph)


def _backward(root, gradient, retain_graph, create_graph) -> None:
    grads, nodes = _differentiate([root], [gradient], retain_graph, create_graph)
    adopted: set = set()
    run = tape.call if create_graph else call_deferred
    with tape.grad_mode_set(create_graph):
        for t, contributions in grads.items():
            if t._requires_grad and (t._retains_grad or t.grad_fn is None):
                g = contributions[0] if len(contributions) == 1 else run(summed, contributions, t)
                _accumulate(t, g, create_graph, adopted)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):  # fmt: skip
    """The gradients of ``sum(outputs)`` with respect to each of ``inputs``, returned instead of
    accumulated into ``.grad`` (``torch.autograd.grad``).

    An input the outputs do not depend on is an error unless ``allow_unused`` (then None).
    """
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    grads, _ = _differentiate(outputs, grad_outputs, retain_graph, create_graph, inputs)
    run = tape.call if create_graph else call_deferred
    results = []
    with tape.grad_mode_set(create_graph):
        for i, x in enumerate(inputs):
            contributions = grads.get(x)
            if not contributions:
                if not allow_unused:
                    raise RuntimeError(
                        f"One of the differentiated Tensors (inputs[{i}]) appears to not have "
                        "been used in the graph. Set allow_unused=True if this is the desired "
                        "behavior."
                    )
                results.append(None)
                continue
            g = run(summed, contributions, x)
            results.append(g if create_graph else g.detach())
    return tuple(results)


def _differentiate(roots, seeds, retain_graph, create_graph, inputs=()):
    if retain_graph is None:
        retain_graph = create_graph
    for x in inputs:
        if not isinstance(x, EagerTensor) or not x._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads: dict = {}
    with tape.grad_mode_set(create_graph):
        for root, seed in zip(roots, seeds):
            grads.setdefault(root, []).append(tape.call(_seed, root, seed))
    nodes = reachable(roots)
    # Without create_graph, gradient ops run deferred: the ones nobody reads never run.
    run = tape.call if create_graph else call_deferred
    with tape.grad_mode_set(create_graph):
        run(_backpropagate_nodes, nodes, grads)
    if not retain_graph:
        for node in nodes:
            node.free()
    return grads, nodes


def _backpropagate_nodes(nodes, grads: dict) -> None:
    """``flowgraph.autodiff.gradients.backpropagate`` for tape nodes: the same rules, summing
    and fitting of gradients, in the same order, without what only graph ops need (name
    scopes, gradient sites, colocation, stopped tensors). Inputs that do not require grad
    get no gradient."""
    for node in sorted(nodes, key=_node_id, reverse=True):
        outputs = node.outputs
        if len(outputs) == 1:  # most ops: no list of contributions to build
            contributions = grads.get(outputs[0])
            if not contributions:
                continue
            out_grads = (summed(contributions, outputs[0]),)
        else:
            contributions = [grads.get(t) for t in outputs]
            if not any(contributions):
                continue
            out_grads = [
                summed(c, t) if c else array.zeros_like(t) for c, t in zip(contributions, outputs)
            ]
        rule = gradient_rule(node)
        if rule is None:
            continue
        in_grads = rule(node, *out_grads)
        inputs = node.inputs
        if len(in_grads) != len(inputs):
            check_rule_result(node, in_grads)  # raises, naming the rule
        for t, g in zip(inputs, in_grads):
            if g is not None and t._requires_grad and t.dtype.is_floating:
                if g.dtype is not t.dtype or g.shape != t.shape:  # (a Size is fully known)
                    g = fit_to_input(g, t)
                grads.setdefault(t, []).append(g)


def _node_id(node) -> int:
    return node._id


def _seed(root, seed):
    if not isinstance(root, EagerTensor):
        raise TypeError(f"backward() needs a flowgraph.dynamic tensor, got {type(root).__name__}")
    if not root._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if seed is None:
        if root.shape.num_elements() != 1:
            raise RuntimeError(
                "grad can be implicitly created only for scalar outputs (this tensor has shape "
                f"{root.shape}); pass gradient= (a tensor of that shape) to backward()"
            )
        # array.ones_like(root), running its op directly
        return tape.execute(_ONES_LIKE, [root], {"dtype": root.dtype}, "ones_like")
    if not isinstance(seed, EagerTensor):
        seed = EagerTensor(seed, dtype=root.dtype)
    if seed.shape != root.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {seed.shape} and output[0] has "
            f"a shape of {root.shape}."
        )
    if seed.dtype is not root.dtype:
        raise TypeError(
            f"gradient has dtype {seed.dtype.name}, but the tensor has dtype {root.dtype.name}"
        )
    # The caller's tensor may reach a leaf unchanged (Identity, Add): never adopt its array.
    return new_tensor(EagerTensor, seed._value.copy(), seed.dtype, seed._op, 0, seed._requires_grad)


_ONES_LIKE = get_op_def("OnesLike")


def reachable(roots) -> list:
    """The tape nodes the roots were computed from (iteratively: long chains are fine).
    A freed node raises here, before any gradient is computed."""
    seen: set = set()
    nodes = []
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        check_versions(node)
        for t in node.inputs:
            if t._requires_grad:
                parent = t.grad_fn
                if parent is not None and parent not in seen:
                    stack.append(parent)
    return nodes


def _accumulate(t, g, create_graph: bool, adopted: set) -> None:
    old = t._grad
    if create_graph:
        t._grad = g if old is None else tape.call(lambda a, b: a + b, old, g)
        return
    value = g._value
    if old is None:
        # The gradient may be a view of another array (a broadcast, a reshape) or reach two
        # tensors (Add passes one gradient to both): own a copy then, so that accumulating
        # into it and zero_() never write into anything else.
        flags = getattr(value, "flags", None)
        # (CuPy's flags have no ``writeable``: its arrays always are)
        writeable = getattr(flags, "writeable", True)
        if flags is None or not (flags.owndata and writeable) or id(value) in adopted:
            value = value.copy()
        adopted.add(id(value))
        t._grad = new_tensor(EagerTensor, value, t.dtype, None, 0, False)
    elif (
        not old._requires_grad
        and getattr(old._value, "flags", None) is not None
        and getattr(old._value.flags, "writeable", True)
    ):
        old._value += value  # in place, as PyTorch accumulates
    else:
        t._grad = new_tensor(EagerTensor, old._value + value, t.dtype, None, 0, False)


def _as_list(values) -> list:
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values]


from flowgraph.dynamic.function import Function, FunctionCtx, Variable  # noqa: E402, F401
