"""Gradients of the control-flow ops (If, While): replays of their traced functions.

A branch or loop body is a :class:`~flowgraph.ops.function.Function` traced into a graph of
its own; its gradient is that graph differentiated by :func:`gradients` and wrapped as a new
Function, which an If (on the same predicate) or a WhileGrad loop calls. Building it needs the
gradient driver, so it lives here, above the ops (ops/control_flow.py defines the ops and the
WhileGrad kernel that runs the replay backwards).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float64, [])
...     y = fg.cond(x > 0.0, lambda: x * x, lambda: -x)
...     (dy,) = fg.gradients(y, [x])
...     print(fg.Session().run(dy, {x: 3.0}))
6.0
"""

from __future__ import annotations

from flowgraph.autodiff.gradients import gradients
from flowgraph.ops.function import Function, as_list, unused_inputs
from flowgraph.ops.registry import apply_op, gradient
from flowgraph.ops.state import placeholder


def _branch_gradient(branches, index: int, n_values: int) -> Function:
    """A replay of ``branches[index]`` computing d(outputs)/d(float inputs) given the outputs'
    gradients and the exports of its forward call. Every branch's gradient takes the same
    inputs: its own inputs, the output gradients, then each branch's exports (placeholders,
    never read, for the other branches'). The last ``n_values`` of the branch's own inputs are
    forward values already (a replay of a replay): no gradient is taken with respect to them,
    since the ops that made them are in the graph and carry that gradient themselves."""
    fn = branches[index]
    split = len(fn.inputs) - n_values
    wrt, values = fn.inputs[:split], fn.inputs[split:]
    with fn.graph.as_default():
        seeds = [placeholder(o.dtype, o.shape, name="output_grad") for o in fn.outputs]
        float_inputs = [t for t in wrt if t.dtype.is_floating]
        grads = gradients(fn.outputs, float_inputs, grad_ys=seeds, unconnected_gradients="zero")
    exports = []
    for other in branches:
        exports += fn.exports if other is fn else unused_inputs(fn, other.exports, "unused")
    # Forward values stay last, so that a gradient of this replay knows them too.
    return Function(fn.graph, wrt + seeds + values + exports, grads)


def _if_grad(op, *out_grads):
    """An If of the branches' gradients on the same predicate, fed the forward values."""
    branches = [op.attrs["then_branch"], op.attrs["else_branch"]]
    n_out = len(branches[0].outputs)
    n_values = op.attrs["num_forward_values"]
    split = len(op.inputs) - n_values
    captured, values = op.inputs[1:split], op.inputs[split:]
    exports = op.outputs[n_out:]  # the gradient ignores their own gradients (see above)
    attrs = {
        "then_branch": _branch_gradient(branches, 0, n_values),
        "else_branch": _branch_gradient(branches, 1, n_values),
        "num_forward_values": n_values + len(exports),
    }
    inputs = [op.inputs[0], *captured, *out_grads[:n_out], *values, *exports]
    outs = as_list(apply_op("StatelessIf", inputs, attrs, name="If"))
    floats = iter(outs)
    grads = [next(floats) if t.dtype.is_floating else None for t in captured]
    return [None] + grads + [None] * n_values


gradient("If")(_if_grad)
gradient("StatelessIf")(_if_grad)


def _while_grad(op, *out_grads):
    """A loop running the body's gradient backwards over the recorded iterations."""
    n = op.attrs["num_vars"]
    body = op.attrs["body"]
    loop_inputs, captured = op.inputs[:n], op.inputs[n:]
    float_vars = [i for i, t in enumerate(loop_inputs) if t.dtype.is_floating]
    body_grad = _loop_body_gradient(body, float_vars)
    history = op.outputs[n:]  # loop variables, then the exports, at every iteration
    seeds = [out_grads[i] for i in float_vars]
    attrs = {
        "body_grad": body_grad,
        "num_vars": n,
        "num_float_vars": len(float_vars),
        "num_exports": len(body.exports),
    }
    grads = as_list(apply_op("WhileGrad", [*history, *captured, *seeds], attrs, name="WhileGrad"))
    var_grads, cap_grads = iter(grads[: len(float_vars)]), iter(grads[len(float_vars) :])
    result = [next(var_grads) if i in float_vars else None for i in range(n)]
    return result + [next(cap_grads) if t.dtype.is_floating else None for t in captured]


def _loop_body_gradient(body: Function, float_vars) -> Function:
    """A replay of ``body``: d(body outputs)/d(float loop vars and float captures), given
    output gradients and the exports of the forward iteration."""
    with body.graph.as_default():
        outputs = [body.outputs[i] for i in float_vars]
        seeds = [placeholder(o.dtype, o.shape, name="output_grad") for o in outputs]
        wrt = [body.inputs[i] for i in float_vars]
        wrt += [t for t in body.inputs[len(body.outputs) :] if t.dtype.is_floating]
        grads = gradients(outputs, wrt, grad_ys=seeds, unconnected_gradients="zero")
    return Function(body.graph, list(body.inputs) + seeds + body.exports, grads)


gradient("While")(_while_grad)
gradient("StatelessWhile")(_while_grad)
