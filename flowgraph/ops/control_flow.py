"""Control flow as functional ops: ``cond`` (If) and ``while_loop`` (While).

Each branch, loop condition and loop body is traced once into a :class:`FuncGraph`; the If or
While op calls it at run time through the session (``ctx.call``). So only the taken branch's
own ops run, and the graph stays a DAG that the compiler can prune and order.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [])
...     y = fg.cond(x > 0.0, lambda: x * 10.0, lambda: -x)
...     i, total = fg.while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t + x), [0, 0.0])
...     sess = fg.Session()
...     print(*sess.run([y, total], {x: 2.0}), sess.run(y, {x: -3.0}))
20.0 8.0 3.0
"""

from __future__ import annotations

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape, as_shape
from flowgraph.ops import namespace
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.function import (
    Function,
    align_captures,
    as_list,
    export_spec,
    stand_in,
    trace,
)
from flowgraph.ops.registry import REQUIRED, apply_op, define_op

__all__ = ["Function", "case", "cond", "while_loop"]


def _merge_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.is_compatible_with(b):
        return a.merge_with(b)
    if a.rank is not None and a.rank == b.rank:
        return TensorShape(x if x == y else None for x, y in zip(a.dims, b.dims))
    return TensorShape(None)


# ---- cond --------------------------------------------------------------------------------


def _if_infer(inputs, attrs):
    then_fn, else_fn = attrs["then_branch"], attrs["else_branch"]
    merged = [
        (t.dtype, _merge_shape(t.shape, e.shape)) for t, e in zip(then_fn.outputs, else_fn.outputs)
    ]
    return merged + [export_spec(t) for t in then_fn.exports + else_fn.exports]


def _if_kernel(ctx, pred, *args, then_branch, else_branch, num_forward_values):
    """The taken branch's outputs, then both branches' exports (stand-ins for the other's)."""
    taken, other = (then_branch, else_branch) if bool(pred) else (else_branch, then_branch)
    out = ctx.call(taken, list(args))
    n = len(taken.outputs)
    if other.exports:
        filler = [stand_in(ctx.xp, t) for t in other.exports]
        own = out[n:]
        out = out[:n] + (own + filler if taken is then_branch else filler + own)
    return out[0] if len(out) == 1 else tuple(out)


for _type, _stateful in (("If", True), ("StatelessIf", False)):
    define_op(
        _type,
        _if_infer,
        kernel=_if_kernel,
        # num_forward_values: the last inputs are forward values a gradient replays with.
        attrs={"then_branch": REQUIRED, "else_branch": REQUIRED, "num_forward_values": 0},
        stateful=_stateful,
        needs_context=True,
    )


def cond(pred, true_fn, false_fn, name: str = "cond"):
    """``true_fn()`` if ``pred`` else ``false_fn()``; only the taken branch's ops run.

    Both functions must return the same number of tensors with the same dtypes.
    """
    pred = convert_to_tensor(pred)
    if not pred.dtype.is_bool or pred.shape.rank not in (0, None):
        raise ShapeError(
            f"cond: pred must be a scalar bool tensor, got {pred.dtype.name}{pred.shape}"
        )
    then_fn = trace(lambda: true_fn(), f"{name}_true", [])
    else_fn = trace(lambda: false_fn(), f"{name}_false", [])
    if len(then_fn.outputs) != len(else_fn.outputs):
        raise ValueError(
            f"cond: true_fn returned {len(then_fn.outputs)} tensors, false_fn "
            f"{len(else_fn.outputs)}; both branches must return the same structure"
        )
    for i, (t, e) in enumerate(zip(then_fn.outputs, else_fn.outputs)):
        if t.dtype is not e.dtype:
            raise TypeError(
                f"cond: output {i} is {t.dtype.name} in true_fn but {e.dtype.name} in false_fn"
            )
    captured = align_captures([then_fn, else_fn], 0)
    op_type = "If" if then_fn.side_effects or else_fn.side_effects else "StatelessIf"
    attrs = {"then_branch": then_fn, "else_branch": else_fn}
    out = as_list(apply_op(op_type, [pred] + captured, attrs, name=name))
    _add_control_captures(out[0].op, [then_fn, else_fn])
    out = out[: len(then_fn.outputs)]  # the rest are the exports the gradient reuses
    return out if then_fn.returns_sequence else out[0]


def _add_control_captures(op, functions) -> None:
    """Outer ops a function named in control_dependencies run before the op calling it."""
    for fn in functions:
        for control in fn.graph.control_captures:
            if control.graph is op.graph:
                op._add_control_input(control)


def case(pred_fn_pairs, default=None, exclusive: bool = False, name: str = "case"):
    """The function of the first true predicate in ``pred_fn_pairs``, else ``default()``."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if default is None:
        if not pairs:
            raise ValueError("case: give at least one (pred, fn) pair or a default")
        *pairs, (_, default) = pairs
    result = default
    for pred, fn in reversed(pairs):
        result = (lambda p, f, rest: lambda: cond(p, f, rest, name=name))(pred, fn, result)
    return result()


# ---- while_loop ----------------------------------------------------------------------------


def _while_infer(inputs, attrs):
    body = attrs["body"]
    n = attrs["num_vars"]
    shapes = attrs["shape_invariants"]
    loop = [(t.dtype, s) for t, s in zip(inputs[:n], shapes)]
    history = [
        (t.dtype, TensorShape((None,) + (s.dims if s.dims is not None else ())))
        for t, s in zip(body.outputs, shapes)
    ]
    if any(s.rank is None for s in shapes):
        history = [(d, TensorShape(None)) for d, _ in history]
    exports = [_stacked_spec(t) for t in body.exports]
    return loop + history + exports


def _stacked_spec(t):
    dims = t.shape.dims
    return t.dtype, TensorShape(None if dims is None else (None,) + tuple(dims))


def _while_kernel(ctx, *args, cond, body, num_vars, shape_invariants, maximum_iterations):
    """The final loop variables, then each one's value before every iteration and after the
    last, then each of the body's exports at every iteration: the gradient replays the body
    backwards over these, reusing what its stateful ops produced."""
    values, captured = list(args[:num_vars]), list(args[num_vars:])
    history = [[v] for v in values]
    exported = [[] for _ in body.exports]
    steps = 0
    while maximum_iterations is None or steps < maximum_iterations:
        if not bool(ctx.call(cond, values + captured)[0]):
            break
        out = ctx.call(body, values + captured)
        values = out[:num_vars]
        steps += 1
        for h, v in zip(history, values):
            h.append(v)
        for e, v in zip(exported, out[num_vars:]):
            e.append(v)
    return tuple(values + [_stack(ctx.xp, h) for h in history + exported])


def _stack(xp, values):
    """The values stacked on a new first axis; None when their shapes differ (the gradient
    then says it cannot replay the loop); an empty stack when the loop never ran."""
    if not values:
        return xp.zeros((0,))
    return xp.stack([xp.asarray(v) for v in values]) if _same_shapes(values) else None


def _same_shapes(values) -> bool:
    return all(v.shape == values[0].shape for v in values)


for _type, _stateful in (("While", True), ("StatelessWhile", False)):
    define_op(
        _type,
        _while_infer,
        kernel=_while_kernel,
        attrs={
            "cond": REQUIRED,
            "body": REQUIRED,
            "num_vars": REQUIRED,
            "shape_invariants": REQUIRED,
            "maximum_iterations": None,
        },
        stateful=_stateful,
        needs_context=True,
    )


def while_loop(
    cond,
    body,
    loop_vars,
    shape_invariants=None,
    maximum_iterations=None,
    name: str = "while",
):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; return the final
    loop variables (a list, or the tensor itself when there is only one, as TF1 does).

    A loop variable must keep its shape unless ``shape_invariants`` allows more (e.g. ``[None]``).
    """
    loop_vars = [convert_to_tensor(v) for v in as_list(loop_vars)]
    if shape_invariants is None:
        invariants = [v.shape for v in loop_vars]
    else:
        invariants = [as_shape(s) for s in as_list(shape_invariants)]
    specs = [(v.dtype, s) for v, s in zip(loop_vars, invariants)]
    cond_fn = trace(cond, f"{name}_cond", specs)
    body_fn = trace(body, f"{name}_body", specs)
    _check_body(body_fn, loop_vars, invariants, name)
    captured = align_captures([cond_fn, body_fn], len(loop_vars))
    attrs = {
        "cond": cond_fn,
        "body": body_fn,
        "num_vars": len(loop_vars),
        "shape_invariants": tuple(invariants),
        "maximum_iterations": maximum_iterations,
    }
    op_type = "While" if cond_fn.side_effects or body_fn.side_effects else "StatelessWhile"
    outs = apply_op(op_type, loop_vars + captured, attrs, name=name)
    _add_control_captures(outs[0].op, [cond_fn, body_fn])
    final = list(outs[: len(loop_vars)])
    # TF1 (return_same_structure=False) unpacks a single loop variable.
    return final[0] if len(final) == 1 else final


def _check_body(body_fn, loop_vars, invariants, name) -> None:
    if len(body_fn.outputs) != len(loop_vars):
        raise ValueError(
            f"{name}: body returned {len(body_fn.outputs)} tensors for {len(loop_vars)} loop vars"
        )
    for i, (out, var, inv) in enumerate(zip(body_fn.outputs, loop_vars, invariants)):
        if out.dtype is not var.dtype:
            raise TypeError(
                f"{name}: loop var {i} is {var.dtype.name} but body returns {out.dtype.name}"
            )
        if not inv.is_compatible_with(out.shape) or (
            inv.rank is not None
            and out.shape.rank is not None
            and any(a is not None and b is None for a, b in zip(inv.dims, out.shape.dims))
        ):
            raise ValueError(
                f"{name}: loop var {i} has shape {inv} before the loop but {out.shape} after one "
                "iteration; pass shape_invariants to allow the shape to change"
            )


def _while_grad_infer(inputs, attrs):
    n, k, m = attrs["num_vars"], attrs["num_float_vars"], attrs["num_exports"]
    seeds = inputs[len(inputs) - k :]
    captured = inputs[n + m : len(inputs) - k]
    return [(s.dtype, s.shape) for s in seeds] + [
        (t.dtype, t.shape) for t in captured if t.dtype.is_floating
    ]


def _while_grad_kernel(ctx, *args, body_grad, num_vars, num_float_vars, num_exports):
    stacks, rest = args[: num_vars + num_exports], args[num_vars + num_exports :]
    captured, grads = (
        list(rest[: len(rest) - num_float_vars]),
        list(rest[len(rest) - num_float_vars :]),
    )
    if any(h is None for h in stacks[:num_vars]):
        raise NotImplementedError("gradient of a while_loop whose loop variables change shape")
    if any(h is None for h in stacks[num_vars:]):
        raise NotImplementedError(
            "gradient of a while_loop whose stateful ops (random draws, dropout, Print...) "
            "produce values of a different shape at each iteration"
        )
    history, exported = stacks[:num_vars], stacks[num_vars:]
    float_captured = sum(1 for c in captured if namespace.is_floating(ctx.xp, c.dtype))
    captured_grads = None
    for step in reversed(range(history[0].shape[0] - 1)):
        values = [h[step, ...] for h in history]
        forward = [e[step, ...] for e in exported]  # what the iteration's stateful ops made
        out = ctx.call(body_grad, values + captured + grads + forward)
        grads, step_captured = out[:num_float_vars], out[num_float_vars:]
        if captured_grads is None:
            captured_grads = list(step_captured)
        else:
            captured_grads = [a + b for a, b in zip(captured_grads, step_captured)]
    if captured_grads is None:  # the loop ran zero times
        xp = ctx.xp
        captured_grads = [xp.zeros_like(c) for c in captured if namespace.is_floating(xp, c.dtype)]
    assert len(captured_grads) == float_captured
    out = list(grads) + captured_grads
    return out[0] if len(out) == 1 else tuple(out)


define_op(
    "WhileGrad",
    _while_grad_infer,
    kernel=_while_grad_kernel,
    attrs={
        "body_grad": REQUIRED,
        "num_vars": REQUIRED,
        "num_float_vars": REQUIRED,
        "num_exports": 0,
    },
    needs_context=True,
    # Second derivatives through a while_loop would need this op's own gradient (a loop over
    # the loop); flowgraph does not have it yet, and says so rather than return a wrong one.
    differentiable=False,
)
