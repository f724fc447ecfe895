"""Every differentiable op in the registry has a numerically checked gradient.

The registry is enumerated, not a hand-kept list: a new op with ``differentiable=True`` and no
entry in ``GRADIENT_CASES`` fails ``test_every_differentiable_op_has_a_gradient_case``, which
names the op types that lack one. An entry says how to build the op from float64 placeholders,
at which shapes (broadcasting included) and on which domain (positive for log and sqrt, away
from kinks for relu, abs and max), and ``check_gradients`` compares the symbolic gradient with
central differences there. A few ops are also checked to second order.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.autodiff.gradients import gradients
from flowgraph.ops import broadcast, gradient_ops, linalg, math, numerics, ordering, reduce, special
from flowgraph.ops.registry import get_op_def, registered_op_types
from flowgraph.testing import check_gradients


def _import_op_modules() -> dict[str, str]:
    """Import every module that may define ops, so the registry is complete; return failures."""
    failures = {}
    for package in ("flowgraph.ops", "flowgraph.train"):
        try:
            pkg = importlib.import_module(package)
        except Exception as e:  # noqa: BLE001 - reported by a test below
            failures[package] = repr(e)
            continue
        for info in pkgutil.iter_modules(pkg.__path__):
            name = f"{package}.{info.name}"
            try:
                importlib.import_module(name)
            except Exception as e:  # noqa: BLE001 - reported by a test below
                failures[name] = repr(e)
    return failures


IMPORT_FAILURES = _import_op_modules()

# Each check also runs on the strict array-API namespace (see tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")


# ---- input domains ------------------------------------------------------------------------

DOMAINS: dict[str, Callable] = {
    "any": lambda rng, s: rng.uniform(-2, 2, s),
    "positive": lambda rng, s: rng.uniform(0.5, 2, s),
    # Away from 0, where relu/abs/sign/select conditions have their kinks.
    "nonzero": lambda rng, s: rng.uniform(0.3, 2, s) * rng.choice([-1.0, 1.0], s),
    "above_minus_one": lambda rng, s: rng.uniform(-0.8, 2, s),
    "low_bound": lambda rng, s: rng.uniform(-1.5, -0.5, s),
    "high_bound": lambda rng, s: rng.uniform(0.5, 1.5, s),
}


@dataclass(frozen=True)
class GradCase:
    """``build(*inputs)`` makes the op under test from float64 placeholders of ``shapes``.

    ``domains`` names each input's sampler (default ``"any"``). ``static=False`` gives the
    placeholders unknown dims, so run-time shape paths are checked too. ``tolerance`` passes
    eps/atol/rtol to check_gradients (for ops that compute in lower precision).
    """

    build: Callable
    shapes: tuple
    domains: tuple = ()
    static: bool = True
    tolerance: dict = field(default_factory=dict)


def _binary_cases(fn, domains=("any", "any")) -> list[GradCase]:
    shapes = [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
    cases = [GradCase(fn, s, domains) for s in shapes]
    return cases + [GradCase(fn, ((2, 3), (3,)), domains, static=False)]


def _unary_cases(fn, domain="any") -> list[GradCase]:
    return [
        GradCase(fn, ((3, 4),), (domain,)),
        GradCase(fn, ((),), (domain,)),
        GradCase(fn, ((2, 3),), (domain,), static=False),
    ]


def _reduce_cases(fn, domain="any") -> list[GradCase]:
    """A reduction ``fn(x, axis, keepdims)`` over several axes, kept or dropped."""
    cases = []
    for shape, axis, keepdims, static in [
        ((3, 4), None, False, True),
        ((3, 4), 1, False, True),
        ((2, 3, 4), (0, 2), False, True),
        ((2, 3, 4), (1, 2), False, True),
        ((2, 3, 4), (2, 0), True, True),
        ((2, 3, 4), -2, True, True),
        ((2, 3, 4), (1,), False, False),
        ((2, 3), None, True, False),
        ((4,), 0, False, True),
    ]:
        build = lambda x, axis=axis, keepdims=keepdims: fn(x, axis=axis, keepdims=keepdims)  # noqa: E731
        cases.append(GradCase(build, (shape,), (domain,), static))
    return cases


def _matmul_cases() -> list[GradCase]:
    cases = []
    for ta in (False, True):
        for tb in (False, True):
            a, b = ((4, 3) if ta else (3, 4)), ((5, 4) if tb else (4, 5))
            build = lambda x, y, ta=ta, tb=tb: linalg.matmul(x, y, transpose_a=ta, transpose_b=tb)  # noqa: E731
            cases.append(GradCase(build, (a, b)))
            # Batched, with batch dimensions that broadcast.
            cases.append(GradCase(build, ((2, 1) + a, (3,) + b)))
    cases.append(GradCase(linalg.matmul, ((3, 4), (2, 4, 5))))
    cases.append(GradCase(linalg.matmul, ((2, 3, 4), (4, 5)), static=False))
    return cases


def _clip_cases() -> list[GradCase]:
    domains = ("any", "low_bound", "high_bound")
    return [
        GradCase(math.clip_by_value, ((3, 4), (), ()), domains),
        GradCase(math.clip_by_value, ((3, 4), (4,), (3, 1)), domains),
        GradCase(math.clip_by_value, ((3, 4), (3, 4), ()), domains, static=False),
    ]


def _select(c, x, y):
    return math.where(math.greater(c, 0), x, y)


def _add_n(*xs):
    return math.add_n(list(xs))


def _cast_round_trip(x):
    # float64 -> float32 -> float64: both Casts are checked; float32 needs a coarser check
    # (Cast is linear, so a large eps costs nothing).
    return math.cast(math.cast(x, fg.float32), fg.float64)


def _print(x, y):
    return ordering.Print(x, [x, y], message="gradient check: ")


LOOSE = {"eps": 1e-2, "atol": 1e-4, "rtol": 1e-4}

# ---- ops of math.py, reduce.py, linalg.py, ordering.py, gradient_ops.py, broadcast.py -------

GRADIENT_CASES: dict[str, list[GradCase]] = {
    "Add": _binary_cases(math.add),
    "Sub": _binary_cases(math.subtract),
    "Mul": _binary_cases(math.multiply),
    "RealDiv": _binary_cases(math.real_div, ("any", "nonzero")),
    "FloorMod": _binary_cases(math.floormod, ("any", "nonzero")),
    "Pow": _binary_cases(math.pow, ("positive", "any")),
    "Maximum": _binary_cases(math.maximum),
    "Minimum": _binary_cases(math.minimum),
    "SquaredDifference": _binary_cases(math.squared_difference),
    "Neg": _unary_cases(math.negative),
    "Abs": _unary_cases(math.abs, "nonzero"),
    "Square": _unary_cases(math.square),
    "Sqrt": _unary_cases(math.sqrt, "positive"),
    "Rsqrt": _unary_cases(math.rsqrt, "positive"),
    "Exp": _unary_cases(math.exp),
    "Log": _unary_cases(math.log, "positive"),
    "Log1p": _unary_cases(math.log1p, "above_minus_one"),
    "Erf": _unary_cases(special.erf),
    "Sin": _unary_cases(math.sin),
    "Cos": _unary_cases(math.cos),
    "Tanh": _unary_cases(math.tanh),
    "Sigmoid": _unary_cases(math.sigmoid),
    "Relu": _unary_cases(math.relu, "nonzero"),
    "ReluGrad": [  # linear in the gradient; features kept away from the kink at 0
        GradCase(math.relu_grad, ((3, 4), (3, 4)), ("any", "nonzero")),
        GradCase(math.relu_grad, ((2, 3), (2, 3)), ("any", "nonzero"), static=False),
    ],
    "ClipByValue": _clip_cases(),
    "Select": [
        GradCase(_select, ((3, 4), (3, 4), (3, 4)), ("nonzero", "any", "any")),
        GradCase(_select, ((3, 1), (4,), (3, 4)), ("nonzero", "any", "any")),
        GradCase(_select, ((2, 3), (2, 3), ()), ("nonzero", "any", "any"), static=False),
    ],
    "Cast": [
        GradCase(_cast_round_trip, ((3, 4),), tolerance=LOOSE),
        GradCase(_cast_round_trip, ((2, 3),), static=False, tolerance=LOOSE),
    ],
    "AddN": [
        GradCase(_add_n, ((3, 4),)),
        GradCase(_add_n, ((3, 4), (3, 4), (3, 4))),
        GradCase(_add_n, ((2, 3), (2, 3)), static=False),
    ],
    "MatMul": _matmul_cases(),
    "Sum": _reduce_cases(reduce.reduce_sum),
    "Mean": _reduce_cases(reduce.reduce_mean),
    "Max": _reduce_cases(reduce.reduce_max),
    "Min": _reduce_cases(reduce.reduce_min),
    "Prod": _reduce_cases(reduce.reduce_prod, "nonzero"),
    "Print": [GradCase(_print, ((3,), (2,)))],
    "CheckNumerics": [
        GradCase(lambda x: numerics.check_numerics(x, "gradient check"), ((3, 4),)),
        GradCase(lambda x: numerics.check_numerics(x, "gradient check"), ((2, 3),), static=False),
    ],
    "KeepReducedDims": [
        GradCase(lambda g, x: gradient_ops.keep_reduced_dims(g, x, (1,)), ((3,), (3, 4))),
        GradCase(lambda g, x: gradient_ops.keep_reduced_dims(g, x, None), ((), (2, 3))),
        GradCase(
            lambda g, x: gradient_ops.keep_reduced_dims(g, x, (0, -1)),
            ((3,), (2, 3, 4)),
            static=False,
        ),
    ],
    "MeanGrad": [
        GradCase(lambda g, x: gradient_ops.mean_grad(g, x, (1,)), ((3,), (3, 4))),
        GradCase(lambda g, x: gradient_ops.mean_grad(g, x, None), ((), (2, 3))),
        GradCase(
            lambda g, x: gradient_ops.mean_grad(g, x, (0, -1)), ((3,), (2, 3, 4)), static=False
        ),
    ],
    "ProdOfOthers": [
        GradCase(lambda x: gradient_ops.prod_of_others(x, (1,)), ((3, 4),), ("nonzero",)),
        GradCase(lambda x: gradient_ops.prod_of_others(x, None), ((2, 3),), ("nonzero",)),
        GradCase(
            lambda x: gradient_ops.prod_of_others(x, (0, 2)),
            ((2, 3, 2),),
            ("nonzero",),
            static=False,
        ),
    ],
    # The driver's own broadcasting helpers (ops/broadcast.py).
    "SumToShapeOf": [
        GradCase(broadcast.sum_to_shape_of, ((3, 4), (4,))),
        GradCase(broadcast.sum_to_shape_of, ((2, 3, 4), (3, 1)), static=False),
    ],
    "BroadcastToShapeOf": [
        GradCase(broadcast.broadcast_to_shape_of, ((4,), (3, 4))),
        GradCase(broadcast.broadcast_to_shape_of, ((3, 1), (2, 3, 4)), static=False),
    ],
}

# ---- ops owned elsewhere: their owners add entries here -------------------------------------
# (array.py / slicing.py, nn.py / conv.py, control_flow.py, state.py, random.py, train/).
# Until an op type has an entry, test_every_differentiable_op_has_a_gradient_case fails and
# names it: that is intended.

from flowgraph.ops import (  # noqa: E402
    activations,
    array,
    control_flow,
    conv,
    losses,
    nn,
    pooling,
    slicing,
)

_POOL = dict(ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1])
_CONV = dict(strides=[1, 1, 1, 1])


def _softmax_xent(labels, logits, v1=False):
    op = (
        losses.softmax_cross_entropy_with_logits
        if v1
        else losses.softmax_cross_entropy_with_logits_v2
    )
    return op(labels=fg.nn.softmax(labels), logits=logits)


def _sparse_xent(logits):
    return losses.sparse_softmax_cross_entropy_with_logits(
        labels=fg.constant([0, 2, 1], fg.int64), logits=logits
    )


def _max_pool_grad(x, g):
    y = pooling.max_pool(x, padding="VALID", **_POOL)
    return pooling.max_pool_grad(x, y, g, padding="VALID", **_POOL)


def _max_pool_grad_grad(x, g):
    # MaxPoolGradGrad is the gradient of MaxPoolGrad with respect to its incoming gradient.
    (gg,) = gradients(fg.reduce_sum(_max_pool_grad(x, g) * x), [g])
    return gg


def _cond(x, y):
    return control_flow.cond(fg.reduce_sum(x) > 0.0, lambda: fg.tanh(x) * y, lambda: x - y)


def _while(x, w):
    _, out = control_flow.while_loop(
        lambda i, v: i < 3, lambda i, v: (i + 1, fg.sin(v) * w + v), [0, x]
    )
    return out


def _cond_with_print(x, y):
    return control_flow.cond(
        fg.reduce_sum(x) > 0.0, lambda: fg.Print(fg.tanh(x) * y, [x], "x="), lambda: x - y
    )


def _while_with_print(x, w):
    _, out = control_flow.while_loop(
        lambda i, v: i < 2, lambda i, v: (i + 1, fg.Print(fg.sin(v) * w, [i], "step ")), [0, x]
    )
    return out


def _if_of_gradient(x, y):
    # The gradient of an If is a StatelessIf of the branches' gradients; check it to 2nd order.
    (dx,) = gradients(_cond(x, y), [x])
    return dx


GRADIENT_CASES.update(
    {
        "Relu6": [GradCase(activations.relu6, ((3, 4),), ("nonzero",))],
        "Elu": [GradCase(activations.elu, ((3, 4),), ("nonzero",))],
        "Selu": [GradCase(activations.selu, ((3, 4),), ("nonzero",))],
        "LeakyRelu": [GradCase(activations.leaky_relu, ((3, 4),), ("nonzero",))],
        "Softplus": [GradCase(activations.softplus, ((3, 4),))],
        "Softmax": [
            GradCase(activations.softmax, ((3, 4),)),
            GradCase(activations.softmax, ((2, 5),), static=False),
        ],
        "LogSoftmax": [GradCase(activations.log_softmax, ((3, 4),))],
        "SoftmaxCrossEntropyWithLogits": [
            GradCase(_softmax_xent, ((3, 4), (3, 4))),
            # v1 passes no gradient to the labels, so only the logits are checked.
            GradCase(lambda b: _softmax_xent(fg.constant(np.eye(3, 4)), b, v1=True), ((3, 4),)),
            GradCase(_softmax_xent, ((2, 5), (2, 5)), static=False),
        ],
        "SparseSoftmaxCrossEntropyWithLogits": [GradCase(_sparse_xent, ((3, 4),))],
        "SigmoidCrossEntropyWithLogits": [
            GradCase(
                lambda z, x: losses.sigmoid_cross_entropy_with_logits(
                    labels=fg.sigmoid(z), logits=x
                ),
                ((3, 4), (3, 4)),
            )
        ],
        "L2Loss": [GradCase(losses.l2_loss, ((3, 4),))],
        "BiasAdd": [
            GradCase(nn.bias_add, ((3, 4), (4,))),
            GradCase(nn.bias_add, ((2, 3, 3, 2), (2,)), static=False),
        ],
        "BiasAddGrad": [
            GradCase(
                lambda x, b: gradients(fg.reduce_sum(nn.bias_add(x, b) ** 2), [b])[0],
                ((3, 4), (4,)),
            )
        ],
        "Conv2D": [
            GradCase(
                lambda x, f: conv.conv2d(x, f, padding="SAME", **_CONV),
                ((2, 5, 5, 2), (3, 3, 2, 3)),
            ),
            GradCase(
                lambda x, f: conv.conv2d(x, f, strides=[1, 2, 2, 1], padding="VALID"),
                ((1, 6, 5, 1), (2, 2, 1, 2)),
            ),
        ],
        "Conv2DBackpropInput": [
            GradCase(
                lambda f, g: conv.conv2d_backprop_input(
                    [1, 4, 4, 2], f, g, padding="SAME", **_CONV
                ),
                ((3, 3, 2, 3), (1, 4, 4, 3)),
            )
        ],
        "Conv2DBackpropFilter": [
            GradCase(
                lambda x, g: conv.conv2d_backprop_filter(
                    x, [2, 2, 2, 3], g, padding="VALID", **_CONV
                ),
                ((1, 4, 4, 2), (1, 3, 3, 3)),
            )
        ],
        "MaxPool": [
            GradCase(lambda x: pooling.max_pool(x, padding="VALID", **_POOL), ((2, 4, 4, 3),))
        ],
        "AvgPool": [
            GradCase(lambda x: pooling.avg_pool(x, padding="SAME", **_POOL), ((2, 5, 5, 3),))
        ],
        "MaxPoolGrad": [GradCase(_max_pool_grad, ((1, 4, 4, 2), (1, 2, 2, 2)))],
        "MaxPoolGradGrad": [GradCase(_max_pool_grad_grad, ((1, 4, 4, 2), (1, 2, 2, 2)))],
        "AvgPoolGrad": [
            GradCase(
                lambda g: pooling.avg_pool_grad([1, 4, 4, 2], g, padding="VALID", **_POOL),
                ((1, 2, 2, 2),),
            )
        ],
        "Identity": [
            GradCase(array.identity, ((3, 4),)),
            GradCase(array.identity, ((2, 3),), static=False),
        ],
        "PlaceholderWithDefault": [
            GradCase(lambda x: fg.placeholder_with_default(x, [None, 4]), ((3, 4),))
        ],
        "Reshape": [
            GradCase(lambda x: array.reshape(x, [-1]), ((3, 4),)),
            GradCase(lambda x: array.reshape(x, [2, -1, 3]), ((4, 3),), static=False),
            GradCase(
                lambda x: array.reshape(x, [array.shape(x)[0], -1]), ((2, 3, 2),), static=False
            ),
        ],
        "Transpose": [
            GradCase(lambda x: array.transpose(x, [1, 2, 0]), ((2, 3, 4),)),
            GradCase(lambda x: array.transpose(x, [-1, 0, 1]), ((2, 3, 4),), static=False),
            GradCase(array.transpose, ((3, 4),)),
        ],
        "ExpandDims": [
            GradCase(lambda x: array.expand_dims(x, 1), ((3, 2),)),
            GradCase(lambda x: array.expand_dims(x, -1), ((3, 2),), static=False),
        ],
        "Squeeze": [
            GradCase(array.squeeze, ((1, 3, 1, 2),)),
            GradCase(lambda x: array.squeeze(x, [-2]), ((2, 1, 3),), static=False),
        ],
        "Pack": [
            GradCase(lambda a, b: array.stack([a, b]), ((2, 3), (2, 3))),
            GradCase(lambda a, b, c: array.stack([a, b, c], axis=-1), ((2, 3),) * 3, static=False),
        ],
        "Unpack": [
            GradCase(lambda x: array.unstack(x, num=3, axis=1), ((2, 3, 2),)),
            GradCase(lambda x: array.unstack(x, num=4, axis=-1)[1], ((3, 4),), static=False),
        ],
        "Split": [
            GradCase(lambda x: array.split(x, 2), ((4, 3),)),
            GradCase(lambda x: array.split(x, [1, -1, 2], axis=-1), ((2, 6),), static=False),
        ],
        "ConcatV2": [
            GradCase(lambda a, b: array.concat([a, b], 0), ((2, 3), (1, 3))),
            GradCase(
                lambda a, b, c: array.concat([a, b, c], -1), ((2, 1), (2, 3), (2, 2)), static=False
            ),
        ],
        "SplitLike": [
            GradCase(lambda g, a, b: slicing.split_like(g, [a, b], 1), ((2, 5), (2, 2), (2, 3))),
            GradCase(
                lambda g, a, b: slicing.split_like(g, [a, b], -1),
                ((2, 5), (2, 2), (2, 3)),
                static=False,
            ),
        ],
        "Tile": [
            GradCase(lambda x: array.tile(x, [2, 3]), ((2, 3),)),
            GradCase(lambda x: array.tile(x, [1, 2, 3]), ((2, 1, 3),), static=False),
        ],
        "TileGrad": [
            GradCase(lambda g, x: array.tile_grad(g, x, [2, 3]), ((4, 6), (2, 2))),
            GradCase(lambda g, x: array.tile_grad(g, x, [2, 3]), ((4, 6), (2, 2)), static=False),
        ],
        "Pad": [
            GradCase(lambda x: array.pad(x, [[1, 0], [2, 3]], constant_values=5.0), ((3, 2),)),
            GradCase(lambda x: array.pad(x, [[2, 1], [1, 1]], "REFLECT"), ((4, 3),)),
            GradCase(
                lambda x: array.pad(x, [[3, 3], [0, 2]], "SYMMETRIC"), ((3, 2),), static=False
            ),
        ],
        "PadGrad": [
            GradCase(lambda g: array.pad_grad(g, [[2, 1], [0, 1]], "REFLECT"), ((7, 3),)),
            GradCase(lambda g: array.pad_grad(g, [[2, 2]], "SYMMETRIC"), ((6,),), static=False),
        ],
        "StridedSlice": [
            GradCase(lambda x: x[1:, ::-1], ((3, 4),)),
            GradCase(lambda x: x[None, 1, ..., ::-2], ((3, 4, 2),), static=False),
            GradCase(
                lambda x: array.strided_slice(x, [1, 0], [0, 2], begin_mask=2, end_mask=1),
                ((3, 4),),
            ),
        ],
        "StridedSliceGrad": [
            GradCase(
                lambda g, x: slicing.strided_slice_grad(g, x, (slice(None, None, -2), 1)),
                ((2,), (3, 4)),
            ),
            GradCase(
                lambda g, x: slicing.strided_slice_grad(g, x, (None, ..., 0)),
                ((1, 3), (3, 2)),
                static=False,
            ),
        ],
        "GatherV2": [
            GradCase(lambda x: array.gather(x, [0, 2, 0, 0]), ((3, 2),)),  # repeated indices
            GradCase(lambda x: array.gather(x, [[1, 1], [0, 2]], axis=-1), ((2, 3),), static=False),
        ],
        "GatherGrad": [
            GradCase(lambda g, x: slicing.gather_grad(g, [2, 0, 2], x), ((3, 4), (5, 4))),
            GradCase(
                lambda g, x: slicing.gather_grad(g, [[0], [0]], x, axis=-1),
                ((3, 2, 1), (3, 2)),
                static=False,
            ),
        ],
        # A branch with a side effect (Print) makes the op a stateful If / While.
        "If": [GradCase(_cond_with_print, ((3,), (3,)), ("positive", "any"))],
        "StatelessIf": [
            GradCase(_cond, ((3,), (3,)), ("positive", "any")),
            GradCase(_cond, ((3,), (3,)), ("low_bound", "any")),
            GradCase(_if_of_gradient, ((3,), (3,)), ("positive", "any")),
        ],
        "While": [GradCase(_while_with_print, ((3,), (3,)))],
        "StatelessWhile": [GradCase(_while, ((3,), (3,)))],
    }
)


from flowgraph.ops import nd_indexing  # noqa: E402

GRADIENT_CASES.update(
    {
        "Cumsum": [
            GradCase(lambda x: nd_indexing.cumsum(x, 1), ((3, 4),)),
            GradCase(
                lambda x: nd_indexing.cumsum(x, 0, exclusive=True, reverse=True),
                ((3, 2),),
                static=False,
            ),
        ],
        "GatherNd": [
            GradCase(lambda x: nd_indexing.gather_nd(x, [[0, 1], [2, 0], [0, 1]]), ((3, 2),)),
            GradCase(lambda x: nd_indexing.gather_nd(x, [[[1]], [[0]]]), ((2, 3),), static=False),
        ],
        "ScatterNd": [
            GradCase(lambda u: nd_indexing.scatter_nd([[1], [3], [1]], u, [5, 2]), ((3, 2),)),
            GradCase(
                lambda u: nd_indexing.scatter_nd([[0, 1], [1, 0]], u, [2, 2, 3]),
                ((2, 3),),
                static=False,
            ),
        ],
        "TopKV2": [
            GradCase(lambda x: nd_indexing.top_k(x, 2).values, ((3, 4),)),
            GradCase(lambda x: nd_indexing.top_k(x, 3).values, ((2, 2, 5),), static=False),
        ],
    }
)


# ---- flowgraph/ops/matrix.py ----------------------------------------------------------------
from flowgraph.ops import matrix  # noqa: E402

# Well-conditioned square matrices (diagonally dominant), so inverses are stable to check.
DOMAINS["invertible"] = lambda rng, s: rng.uniform(-0.5, 0.5, s) + 3.0 * np.eye(s[-1])

GRADIENT_CASES.update(
    {
        "Diag": [
            GradCase(matrix.diag, ((3,),)),
            GradCase(matrix.diag, ((2, 2),), static=False),
        ],
        "DiagPart": [
            GradCase(matrix.diag_part, ((3, 3),)),
            GradCase(matrix.diag_part, ((2, 3, 2, 3),), static=False),
        ],
        "MatrixDeterminant": [
            GradCase(matrix.matrix_determinant, ((3, 3),), ("invertible",)),
            GradCase(matrix.matrix_determinant, ((2, 2, 2),), ("invertible",), static=False),
        ],
        "MatrixInverse": [
            GradCase(matrix.matrix_inverse, ((3, 3),), ("invertible",)),
            GradCase(matrix.matrix_inverse, ((2, 3, 3),), ("invertible",), static=False),
        ],
    }
)


# ---- the checks -----------------------------------------------------------------------------


def _differentiable_types() -> list[str]:
    return [t for t in registered_op_types() if get_op_def(t).differentiable]


def test_all_op_modules_import():
    assert not IMPORT_FAILURES, f"op modules that fail to import: {IMPORT_FAILURES}"


def test_every_differentiable_op_has_a_gradient_case():
    missing = [t for t in _differentiable_types() if t not in GRADIENT_CASES]
    assert not missing, (
        f"{len(missing)} differentiable op type(s) have no entry in GRADIENT_CASES, so their "
        f"gradients are never checked: {', '.join(missing)}"
    )


def test_the_table_names_only_registered_differentiable_ops():
    stale = [t for t in GRADIENT_CASES if t not in _differentiable_types()]
    assert not stale, f"GRADIENT_CASES has entries for no differentiable op: {stale}"


def _build(case: GradCase, op_type: str, seed: int):
    """The op's output, its float64 placeholders and a feed drawn from the case's domains."""
    rng = np.random.default_rng(seed)
    domains = case.domains or ("any",) * len(case.shapes)
    xs, feed = [], {}
    for i, (shape, domain) in enumerate(zip(case.shapes, domains)):
        static = shape if case.static else [None] * len(shape)
        x = fg.placeholder(fg.float64, static, name=f"x{i}")
        xs.append(x)
        feed[x] = np.asarray(DOMAINS[domain](rng, shape), dtype=np.float64)
    y = case.build(*xs)
    types = {op.type for op in fg.get_default_graph().get_operations()}
    assert op_type in types, f"the case for {op_type} builds no {op_type} op (only {types})"
    return y, xs, feed


CASE_IDS = [(t, i) for t, cases in GRADIENT_CASES.items() for i in range(len(cases))]


@pytest.mark.parametrize(("op_type", "index"), CASE_IDS, ids=[f"{t}-{i}" for t, i in CASE_IDS])
def test_gradient_matches_numeric(op_type, index):
    case = GRADIENT_CASES[op_type][index]
    with fg.Graph().as_default():
        y, xs, feed = _build(case, op_type, seed=index)
        check_gradients(y, xs, feed, **case.tolerance)


# Second order: the first gradient (weighted by a fixed random w) is itself a graph, and its
# gradient is checked numerically too. Ops whose second derivative is 0 almost everywhere (Add,
# Relu, Max, ...) are included on purpose: their gradient rules must still differentiate.
SECOND_ORDER = [
    ("Mul", 1), ("RealDiv", 1), ("Pow", 0), ("Maximum", 1), ("SquaredDifference", 3),
    ("Abs", 0), ("Square", 0), ("Sqrt", 0), ("Rsqrt", 2), ("Exp", 0), ("Log", 0),
    ("Log1p", 0), ("Sin", 0), ("Cos", 0), ("Tanh", 0), ("Sigmoid", 2), ("Relu", 0), ("ReluGrad", 0),
    ("Erf", 0),
    ("ClipByValue", 1), ("Select", 1), ("MatMul", 3), ("MatMul", 8), ("Sum", 2),
    ("Mean", 4), ("Max", 1), ("Min", 2), ("Prod", 1), ("Prod", 4), ("AddN", 1),
    ("FloorMod", 1), ("StridedSlice", 1), ("GatherV2", 0), ("Tile", 1), ("Pad", 1),
    ("Pad", 2), ("ConcatV2", 1), ("Transpose", 0), ("Softmax", 0), ("Conv2D", 0),
    ("StatelessIf", 0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("op_type", "index"), SECOND_ORDER, ids=[f"{t}-{i}" for t, i in SECOND_ORDER]
)
def test_second_order_gradient_matches_numeric(op_type, index):
    case = GRADIENT_CASES[op_type][index]
    with fg.Graph().as_default():
        y, xs, feed = _build(case, op_type, seed=index)
        w = np.random.default_rng(99).standard_normal(fg.Session().run(y, feed).shape)
        first = gradients(y, xs, grad_ys=fg.constant(w))
        connected = [g for g in first if g is not None]
        check_gradients(connected, xs, feed)


def _second_derivative(f, x_value):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, np.shape(x_value), name="x")
        (dx,) = gradients(f(x), [x])
        (ddx,) = gradients(dx, [x])
        check_gradients(dx, [x], {x: x_value})
        return fg.Session().run(ddx, {x: x_value})


def test_second_derivative_of_tanh():
    x = np.linspace(-2, 2, 7)
    t = np.tanh(x)
    np.testing.assert_allclose(_second_derivative(math.tanh, x), -2 * t * (1 - t**2), rtol=1e-12)


def test_second_derivative_of_cube():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(_second_derivative(lambda v: v * v * v, x), 6 * x, rtol=1e-12)


def test_third_derivative_of_sigmoid_is_a_graph_too():
    x_value = np.array([-1.0, 0.3, 2.0])
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, [3], name="x")
        (d1,) = gradients(math.sigmoid(x), [x])
        (d2,) = gradients(d1, [x])
        check_gradients(d2, [x], {x: x_value})


# ---- where numeric checks cannot look: kinks, ties, zeros (TensorFlow's choices) ------------


def _grads(build, *values, dtype=fg.float64):
    with fg.Graph().as_default():
        xs = [fg.placeholder(dtype, np.shape(v), name=f"x{i}") for i, v in enumerate(values)]
        grads = gradients(build(*xs), xs)
        fetch = [g for g in grads if g is not None]
        out = iter(fg.Session().run(fetch, dict(zip(xs, values))))
        return [None if g is None else next(out) for g in grads]


def test_maximum_and_minimum_give_ties_to_x():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    np.testing.assert_array_equal(_grads(math.maximum, x, y), [[0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(_grads(math.minimum, x, y), [[1, 1, 0], [0, 0, 1]])


def test_reduce_max_and_min_split_the_gradient_among_ties():
    x = np.array([[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]])
    (g,) = _grads(lambda t: reduce.reduce_max(t, axis=1), x)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    (g,) = _grads(lambda t: reduce.reduce_min(t), x)
    np.testing.assert_array_equal(g, [[1, 0, 0], [0, 0, 0]])


def test_reduce_prod_gradient_is_exact_at_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]])
    (g,) = _grads(lambda t: reduce.reduce_prod(t, axis=1), x)
    np.testing.assert_array_equal(g, [[0, 6, 0], [0, 0, 0], [8, 4, 2]])
    (g,) = _grads(lambda t: reduce.reduce_prod(t, axis=0, keepdims=True), x)
    np.testing.assert_array_equal(g, [[0, 0, 4], [2, 0, 12], [0, 0, 3]])


def test_prod_of_others_matches_a_brute_force_product():
    rng = np.random.default_rng(3)
    x = rng.choice([0.0, 1.0, -2.0, 3.0], (2, 3, 4))
    for axis in [None, (0,), (1, 2), (0, 2), (-1,)]:
        with fg.Graph().as_default():
            got = fg.Session().run(gradient_ops.prod_of_others(fg.constant(x), axis))
        axes = range(3) if axis is None else [a % 3 for a in axis]
        kept = [d for d in range(3) if d not in axes]
        expected = np.empty_like(x)
        for index in np.ndindex(x.shape):
            same_group = [
                i for i in np.ndindex(x.shape) if [i[d] for d in kept] == [index[d] for d in kept]
            ]
            expected[index] = np.prod([x[i] for i in same_group if i != index])
        np.testing.assert_array_equal(got, expected, err_msg=f"axis={axis}")


def test_pow_gradient_for_the_exponent_is_zero_where_the_base_is_not_positive():
    gx, gy = _grads(math.pow, np.array([-2.0, 0.0, 2.0]), np.array([2.0, 2.0, 2.0]))
    np.testing.assert_allclose(gx, [-4.0, 0.0, 4.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 4 * np.log(2.0)])


def test_relu_and_abs_have_zero_gradient_at_zero():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(_grads(math.relu, x), [[0, 0, 1]])
    np.testing.assert_array_equal(_grads(math.abs, x), [[-1, 0, 1]])


def test_clip_by_value_sends_the_gradient_to_the_bound_that_applied():
    t, lo, hi = np.array([-3.0, -1.0, 0.0, 1.0, 3.0]), np.array(-1.0), np.array(1.0)
    gt, glo, ghi = _grads(math.clip_by_value, t, lo, hi)
    np.testing.assert_array_equal(gt, [0, 1, 1, 1, 0])  # at a bound, t itself passes
    assert glo == 1.0 and ghi == 1.0


def test_select_gives_no_gradient_to_its_condition():
    with fg.Graph().as_default():
        c = fg.placeholder(fg.bool, [3])
        x = fg.placeholder(fg.float64, [3])
        y = fg.placeholder(fg.float64, [])
        dc, dx, dy = gradients(math.where(c, x, y), [c, x, y])
        assert dc is None
        feed = {c: [True, False, False], x: np.zeros(3), y: 0.0}
        gx, gy = fg.Session().run([dx, dy], feed)
    np.testing.assert_array_equal(gx, [1, 0, 0])
    assert gy == 2.0


def test_cast_returns_the_gradient_in_the_input_dtype_and_none_for_integers():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2])
        n = fg.placeholder(fg.int32, [2])
        dx, dn = gradients([math.cast(x, fg.float64), math.cast(n, fg.float64)], [x, n])
        assert dn is None and dx.dtype is fg.float32
        assert [op.type for op in [dx.op]] == ["Cast"]


def test_floormod_gradients():
    gx, gy = _grads(math.floormod, np.array([7.0, -7.0]), np.array([2.0, 2.0]))
    np.testing.assert_array_equal(gx, [1, 1])
    np.testing.assert_array_equal(gy, [-3, 4])  # -floor(x / y)


def test_print_passes_the_gradient_to_its_first_input_only():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, [2])
        d = fg.placeholder(fg.float64, [2])
        dx, dd = gradients(math.multiply(ordering.Print(x, [d]), 3.0), [x, d])
        assert dd is None
        np.testing.assert_array_equal(fg.Session().run(dx, {x: [1.0, 2.0], d: [0.0, 0.0]}), [3, 3])
