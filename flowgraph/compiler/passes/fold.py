"""Constant folding: compute at compile time what does not depend on the run.

>>> import flowgraph as fg
>>> from flowgraph.compiler.passes import optimized, remove_dead_code
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2], name="x")
...     y = x * (fg.constant(2.0, name="two") + 3.0)
>>> ir, results = optimized([y], [x], passes=[fold_constants, remove_dead_code])
>>> results[0].changes
["folded Add 'Add' into a constant 5."]
>>> [n.type for n in ir.nodes], ir.nodes[0].attrs["value"]
(['Const', 'Mul'], array(5., dtype=float32))
"""

from __future__ import annotations

import warnings

import numpy as np

from flowgraph.compiler.ir import Node
from flowgraph.compiler.passes.rewrite import rewrite

MAX_FOLDED_BYTES = 1 << 20  # a bigger result stays a computation: plans stay small

# Ops whose value depends only on their input's static shape and dtype, not on its values.
SHAPE_ONLY_OPS = frozenset({"Shape", "Size", "Rank", "ZerosLike", "OnesLike"})
_NEVER = frozenset({"Const", "Placeholder", "NoOp"})


def fold_constants(ir) -> list[str]:
    """``op(const, const) -> const``: an op whose inputs are all constants is run once, with
    its own kernel, and replaced by a constant holding the result; so is ``shape(x)``,
    ``size(x)``, ``rank(x)``, ``zeros_like(x)`` and ``ones_like(x)`` when ``x``'s static shape
    is fully known.

    Never folded: stateful ops (variables, random draws, prints, assignments), ops that need
    the session's context, ops ordering side effects (control dependencies), a kernel that
    raises or warns (it raises or warns when the plan runs, naming the op, as without
    folding), and results over ``MAX_FOLDED_BYTES``.
    """
    return rewrite(ir, _RULES, _report)


def _fold_rule(node, state):
    """Rule: the node's outputs as new constants, or None."""
    values = _fold(node)
    if values is None:
        return None
    constants = [
        Node.constant(value, node.origin, node.name if i == 0 else f"{node.name}_{i}", node.backend)
        for i, value in enumerate(values)
    ]
    return constants, values[0]


def _report(node, constants, first_value) -> str:
    return f"folded {node.describe()} into a constant {_show(first_value)}"


def _fold(node):
    """The output values of ``node`` computed now, or None when it must not be folded."""
    op_def = node.op_def
    if (
        op_def is None
        or node.type in _NEVER
        or op_def.stateful
        or op_def.needs_context
        or op_def.read_at_use
        or not node.specs
    ):
        return None
    for r in node.inputs:  # (a loop: cheaper than all() on a path every op takes)
        source_def = r[0].op_def  # (None for a feed)
        if source_def is None or not source_def.is_constant:
            constant_inputs = False
            break
    else:
        constant_inputs = True
    if constant_inputs:
        args = [r[0].attrs["value"] for r in node.inputs]
    elif node.type in SHAPE_ONLY_OPS:
        dtype, shape = node.inputs[0][0].specs[node.inputs[0][1]]
        if not shape.is_fully_defined():
            return None
        # The kernel sees a stand-in of the right shape and dtype: its values do not matter.
        args = [np.zeros(shape.dims, dtype.as_numpy_dtype)]
    else:
        return None
    if any(_too_big(s) for s in node.specs):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would be lost: leave it to the run
            with np.errstate(all="raise"):
                result = op_def.bind(np, node.attrs)(*args)
    except Exception:  # noqa: BLE001 - the run reports it, naming the op
        return None
    results = result if len(node.specs) > 1 else (result,)
    values = []
    for value, (dtype, shape) in zip(results, node.specs):
        if not isinstance(value, (np.ndarray, np.generic)):
            return None
        value = np.array(value, copy=True)  # owned: never a view of an input
        if value.dtype != dtype.as_numpy_dtype or not shape.is_compatible_with(value.shape):
            return None
        if value.nbytes > MAX_FOLDED_BYTES:
            return None
        value.setflags(write=False)  # like any graph constant
        values.append(value)
    return values


_RULES = {None: [_fold_rule]}  # every op type: the rule itself says which ops fold


def _too_big(spec) -> bool:
    dtype, shape = spec
    n = shape.num_elements()
    return n is not None and n * dtype.size > MAX_FOLDED_BYTES


def _show(value) -> str:
    if value.size <= 4:
        return np.array2string(value, separator=", ")
    return f"of shape {list(value.shape)}"
