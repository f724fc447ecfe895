"""Gradients of the array ops (ops/array.py, ops/slicing.py), checked numerically in float64.

Every case runs with placeholders of known shape, of unknown dims and, where the op allows it,
of unknown rank, so the rules' run-time shape paths (reshape to the input's run-time shape,
split by the inputs' run-time sizes) are exercised as well as the static ones. The helper ops
that the rules build (StridedSliceGrad, GatherGrad, TileGrad, PadGrad, SplitLike) are checked
the same way, and a few gradients are checked again to second order.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import Backend
from flowgraph.ops import array, slicing
from flowgraph.ops.registry import get_gradient, get_op_def
from flowgraph.testing import check_gradients

MODES = ["known", "unknown_dims", "unknown_rank"]
RANKED = ["known", "unknown_dims"]  # for ops whose shape rule needs the input's rank

RNG = np.random.default_rng(0)


def _r(*shape):
    return RNG.uniform(-2, 2, shape)


def _placeholders(values, mode):
    shapes = {
        "known": lambda v: v.shape,
        "unknown_dims": lambda v: [None] * v.ndim,
        "unknown_rank": lambda v: None,
    }[mode]
    return [fg.placeholder(fg.float64, shapes(v)) for v in values]


def check(build, values, mode, order=1):
    """``check_gradients`` of ``build(*xs)`` (of its gradient when ``order=2``) at ``values``."""
    values = [np.asarray(v, dtype=np.float64) for v in values]
    with fg.Graph().as_default():
        xs = _placeholders(values, mode)
        ys = build(*xs)
        if order == 2:
            ys = [g for g in fg.gradients(_cubed_sum(ys), xs) if g is not None]
        result = check_gradients(ys, xs, dict(zip(xs, values)))
    assert result.ok


def _cubed_sum(ys):
    """A scalar with a nonzero second derivative in every output element."""
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    return fg.add_n([fg.reduce_sum(y * y * y) for y in ys])


def cases(modes, *entries):
    """pytest params ``(build, values, mode)`` from (id, build, values[, modes]) entries."""
    return [
        pytest.param(e[1], e[2], mode, id=f"{e[0]}-{mode}")
        for e in entries
        for mode in (e[3] if len(e) > 3 else modes)
    ]


# ---- first order: (id, build, input values) -------------------------------------------------

ANY_RANK = cases(
    MODES,
    ("identity", lambda x: fg.identity(x), [_r(3, 4)]),
    ("reshape-flat", lambda x: fg.reshape(x, [-1]), [_r(3, 4)]),
    ("reshape-3d", lambda x: fg.reshape(x, [2, -1, 3]), [_r(4, 3)]),
    ("reshape-to-scalar", lambda x: fg.reshape(x, []), [_r(1, 1)]),
    ("reshape-from-scalar", lambda x: fg.reshape(x, [1, 1]), [_r()]),
    ("transpose-reverse", lambda x: fg.transpose(x), [_r(2, 3, 4)]),
    ("expand-0", lambda x: fg.expand_dims(x, 0), [_r(3, 2)]),
    ("expand-neg", lambda x: fg.expand_dims(x, -1), [_r(3, 2)]),
    ("expand-mid", lambda x: fg.expand_dims(x, 1), [_r(3, 2)]),
    ("squeeze-all", lambda x: fg.squeeze(x), [_r(1, 3, 1, 2)]),
    ("squeeze-neg-axis", lambda x: fg.squeeze(x, [-2]), [_r(2, 1, 3)]),
    ("squeeze-to-scalar", lambda x: fg.squeeze(x), [_r(1, 1)]),
    ("stack", lambda a, b: fg.stack([a, b]), [_r(2, 3), _r(2, 3)]),
    ("stack-neg-axis", lambda a, b, c: fg.stack([a, b, c], axis=-1), [_r(2, 3)] * 3),
    ("stack-scalars", lambda a, b: fg.stack([a, b]), [_r(), _r()]),
    ("stack-same-twice", lambda a: fg.stack([a, a * a], axis=1), [_r(4)]),
    ("concat-same-twice", lambda a: fg.concat([a, a], 0), [_r(2, 3)]),
    ("concat-single", lambda a: fg.concat([a], 0), [_r(2, 3)]),
    ("split-equal", lambda x: fg.split(x, 2), [_r(4, 3)]),
    ("split-sizes", lambda x: fg.split(x, [1, -1, 2], axis=-1), [_r(2, 6)]),
    ("split-one-piece-used", lambda x: fg.split(x, [2, 1, 1])[1], [_r(4, 2)]),
    ("split-empty-piece", lambda x: fg.split(x, [0, 3], axis=1), [_r(2, 3)]),
    ("unstack", lambda x: fg.unstack(x, num=3, axis=1), [_r(2, 3, 2)]),
    ("unstack-neg-axis", lambda x: fg.unstack(x, num=4, axis=-1), [_r(3, 4)]),
    ("unstack-one-used", lambda x: fg.unstack(x, num=3)[2] * 2.0, [_r(3, 2)]),
    ("tile", lambda x: fg.tile(x, [2, 3]), [_r(2, 3)]),
    ("tile-3d", lambda x: fg.tile(x, [1, 2, 3]), [_r(2, 1, 3)]),
    ("tile-zero", lambda x: fg.tile(x, [0, 2]), [_r(2, 3)]),
    ("tile-scalar", lambda x: fg.tile(x, []), [_r()]),
    ("pad-constant", lambda x: fg.pad(x, [[1, 0], [2, 3]], constant_values=5.0), [_r(3, 2)]),
    ("pad-constant-3d", lambda x: fg.pad(x, [[0, 0], [1, 1], [0, 2]]), [_r(2, 3, 2)]),
    ("pad-reflect", lambda x: fg.pad(x, [[2, 1], [1, 1]], "REFLECT"), [_r(4, 3)]),
    ("pad-reflect-full", lambda x: fg.pad(x, [[3, 3]], "REFLECT"), [_r(4)]),
    ("pad-symmetric", lambda x: fg.pad(x, [[3, 3], [0, 2]], "SYMMETRIC"), [_r(3, 2)]),
    ("pad-symmetric-3d", lambda x: fg.pad(x, [[1, 0], [0, 2], [2, 2]], "SYMMETRIC"),
     [_r(2, 3, 2)]),
    ("pad-scalar", lambda x: fg.pad(x, []), [_r()]),
    ("slice", lambda x: x[1:, ::-1], [_r(3, 4)]),
    ("slice-neg-step", lambda x: x[::-2, 3:0:-2], [_r(5, 4)]),
    ("slice-int", lambda x: x[-1], [_r(3, 4)]),
    ("slice-newaxis", lambda x: x[None, 1, :, None], [_r(3, 4, 2)]),
    ("slice-ellipsis", lambda x: x[..., 0], [_r(2, 3, 4)]),
    ("slice-ellipsis-mid", lambda x: x[1, ..., ::-1, None], [_r(2, 3, 4)]),
    ("slice-empty", lambda x: x[2:1], [_r(3, 4)]),
    ("slice-all", lambda x: x[()], [_r(2, 2)]),
    ("slice-twice", lambda x: fg.concat([x[:1], x[1:]], 0), [_r(3, 2)]),
    ("strided_slice-masks", lambda x: fg.strided_slice(x, [1, 0], [0, 2], begin_mask=2, end_mask=1),
     [_r(3, 4)]),
    ("gather", lambda x: fg.gather(x, [2, 0]), [_r(3, 4)]),
    ("gather-repeated", lambda x: fg.gather(x, [0, 2, 0, 0]), [_r(3, 2)]),
    ("gather-axis1-2d", lambda x: fg.gather(x, [[1, 1], [0, 2]], axis=1), [_r(2, 3, 2)]),
    ("gather-neg-axis", lambda x: fg.gather(x, [1, 1, -1], axis=-1), [_r(2, 3)]),
    ("gather-scalar", lambda x: fg.gather(x, 1), [_r(3, 2)]),
    ("gather-getitem-tensor", lambda x: x[fg.constant(-1)], [_r(3, 2)]),
    ("gather-empty", lambda x: fg.gather(x, np.zeros(0, np.int32)), [_r(3, 2)]),
)  # fmt: skip

RANK_NEEDED = cases(
    RANKED,  # the op's shape rule (or num, or perm) needs the input's rank
    ("reshape-shape-list", lambda x: fg.reshape(x, [fg.shape(x)[0], -1]), [_r(2, 3, 2)]),
    ("transpose-perm", lambda x: fg.transpose(x, [1, 2, 0]), [_r(2, 3, 4)]),
    ("transpose-neg-perm", lambda x: fg.transpose(x, [-1, 0, 1]), [_r(2, 3, 4)]),
    ("concat", lambda a, b: fg.concat([a, b], 0), [_r(2, 3), _r(1, 3)]),
    ("concat-neg-axis", lambda a, b, c: fg.concat([a, b, c], -1),
     [_r(2, 1), _r(2, 3), _r(2, 2)]),
    ("unstack-inferred-num", lambda x: fg.unstack(x, axis=0), [_r(2, 3)], ["known"]),
)  # fmt: skip


@pytest.mark.parametrize("build, values, mode", ANY_RANK + RANK_NEEDED)
def test_gradient(build, values, mode):
    check(build, values, mode)


# ---- the helper ops the rules build ---------------------------------------------------------

HELPERS = cases(
    RANKED,
    ("StridedSliceGrad", lambda g, x: slicing.strided_slice_grad(g, x, (slice(None, None, -2), 1)),
     [_r(2), _r(3, 4)]),
    ("StridedSliceGrad-newaxis", lambda g, x: slicing.strided_slice_grad(g, x, (None, ..., 0)),
     [_r(1, 3), _r(3, 2)]),
    ("GatherGrad", lambda g, x: slicing.gather_grad(g, [2, 0, 2], x), [_r(3, 4), _r(5, 4)]),
    ("GatherGrad-axis", lambda g, x: slicing.gather_grad(g, [[0], [0]], x, axis=-1),
     [_r(3, 2, 1), _r(3, 2)]),
    ("SplitLike", lambda g, a, b: slicing.split_like(g, [a, b], 1),
     [_r(2, 5), _r(2, 2), _r(2, 3)]),
    ("TileGrad", lambda g, x: array.tile_grad(g, x, [2, 3]), [_r(4, 6), _r(2, 2)]),
    ("PadGrad-reflect", lambda g: array.pad_grad(g, [[2, 1], [0, 1]], "REFLECT"), [_r(7, 3)]),
    ("PadGrad-symmetric", lambda g: array.pad_grad(g, [[2, 2]], "SYMMETRIC"), [_r(6)]),
    ("PadGrad-constant", lambda g: array.pad_grad(g, [[1, 2]], "CONSTANT"), [_r(6)]),
)  # fmt: skip


@pytest.mark.parametrize("build, values, mode", HELPERS)
def test_helper_op_gradient(build, values, mode):
    check(build, values, mode)


# ---- second order ---------------------------------------------------------------------------

SECOND_ORDER = cases(
    RANKED,
    ("strided-slice", lambda x: x[1:, ::-2, None], [_r(3, 4)]),
    ("gather-repeated", lambda x: fg.gather(x, [[1, 0], [1, 1]], axis=1), [_r(2, 3)]),
    ("tile", lambda x: fg.tile(x, [2, 1, 3]), [_r(2, 2, 1)]),
    ("pad-reflect", lambda x: fg.pad(x, [[2, 2], [1, 0]], "REFLECT"), [_r(3, 2)]),
    ("pad-symmetric", lambda x: fg.pad(x, [[1, 2]], "SYMMETRIC"), [_r(3)]),
    ("pad-constant", lambda x: fg.pad(x, [[1, 2]]), [_r(3)]),
    ("concat", lambda a, b: fg.concat([a, b], -1), [_r(2, 1), _r(2, 3)]),
    ("stack-unstack", lambda x: fg.stack(fg.unstack(x, num=2)[::-1], axis=1), [_r(2, 3)]),
    ("split", lambda x: fg.split(x, [1, 2], axis=1), [_r(2, 3)]),
    ("reshape-transpose", lambda x: fg.transpose(fg.reshape(x, [3, -1]), [1, 0]), [_r(2, 3)]),
    ("expand-squeeze", lambda x: fg.squeeze(fg.expand_dims(x, 0)), [_r(2, 3)]),
)  # fmt: skip


@pytest.mark.parametrize("build, values, mode", SECOND_ORDER)
def test_second_order(build, values, mode):
    check(build, values, mode, order=2)


# ---- values, shapes and graph facts ---------------------------------------------------------


def _gradient(build, value):
    """The gradient of ``sum(build(x))`` at ``value``: its tensor and its value."""
    value = np.asarray(value, np.float64)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, value.shape)
        (dx,) = fg.gradients(build(x), [x])
        return dx, fg.Session().run(dx, {x: value})


def test_gather_gradient_accumulates_repeated_indices():
    _, result = _gradient(lambda x: fg.gather(x, [0, 2, 0, -4]), np.zeros(4))
    np.testing.assert_array_equal(result, [3.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "mode, paddings, expected",
    [
        ("REFLECT", [[2, 1]], [1.0, 3.0, 2.0]),  # [x2, x1 | x0, x1, x2 | x1]
        ("SYMMETRIC", [[3, 1]], [2.0, 2.0, 3.0]),  # [x2, x1, x0 | x0, x1, x2 | x2]
        ("CONSTANT", [[2, 1]], [1.0, 1.0, 1.0]),
    ],
)
def test_pad_gradient_counts_each_copy(mode, paddings, expected):
    _, result = _gradient(lambda x: fg.pad(x, paddings, mode), np.zeros(3))
    np.testing.assert_array_equal(result, expected)


def test_tile_gradient_sums_the_copies():
    def build(x):  # copy k of row i is row 4k + i of the tiled tensor, weighted 4k + i
        return fg.tile(x, [3, 2]) * fg.range(12.0, dtype=fg.float64)[:, None]

    _, result = _gradient(build, np.zeros((4, 1)))
    np.testing.assert_array_equal(result, [[2 * (i + (i + 4) + (i + 8))] for i in range(4)])


def test_rules_return_the_inputs_shape_without_unbroadcasting():
    """With known shapes no array op's rule needs the driver's SumToShapeOf: each returns its
    input's shape exactly (other ops in a case, like ``x * 2.0``, may still need it)."""
    for build, values, mode in (p.values for p in ANY_RANK + RANK_NEEDED):
        if mode != "known":
            continue
        with fg.Graph().as_default() as graph:
            xs = _placeholders([np.asarray(v, np.float64) for v in values], "known")
            y = _cubed_sum(build(*xs))
            array_ops = [op.name for op in graph.get_operations() if op.type in DIFFERENTIABLE]
            fg.gradients(y, xs)
        fitted = [op.name for op in graph.get_operations() if op.type == "SumToShapeOf"]
        for name in array_ops:
            assert not any(f.startswith(f"gradients/{name}_grad/") for f in fitted), name


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda x: fg.reshape(x, [-1]), [None, 3]),
        (lambda x: fg.squeeze(x), [None, 1, 2]),
        (lambda x: fg.expand_dims(x, -1), [None, 2]),
        (lambda x: x[:, 1:], [None, 4]),
        (lambda x: fg.gather(x, [0, 0]), [None, 2]),
        (lambda x: fg.concat([x, x], 1), [None, 2]),
        (lambda x: fg.tile(x, [2, 1]), [None, 3]),
        (lambda x: fg.pad(x, [[1, 1], [0, 2]], "REFLECT"), [None, 3]),
    ],
)
def test_rules_keep_the_static_shape_with_unknown_dims(build, shape):
    """Each rule's gradient has what is known of its input's shape, without the driver's help."""
    value = np.ones([3] + shape[1:])
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, shape)
        y = build(x)
        grad = fg.placeholder(fg.float64, y.shape)
        dxs = [dx for dx in get_gradient(y.op.type)(y.op, grad) if dx is not None]
        y_value = fg.Session().run(y, {x: value})
        results = fg.Session().run(dxs, {x: value, grad: np.ones_like(y_value)})
    for dx, result in zip(dxs, results):
        assert dx.shape == fg.TensorShape(shape)
        assert result.shape == value.shape


def test_constant_padding_gradient_is_a_slice_and_mirrored_padding_a_fold():
    for mode, op_type in [("CONSTANT", "StridedSlice"), ("REFLECT", "PadGrad")]:
        dx, _ = _gradient(lambda x, mode=mode: fg.pad(x, [[1, 1]], mode), np.zeros(3))
        assert dx.op.type == op_type


DIFFERENTIABLE = ["Identity", "Reshape", "Transpose", "ConcatV2", "Pack", "Unpack", "Split",
                  "ExpandDims", "Squeeze", "Tile", "Pad", "GatherV2", "StridedSlice",
                  "StridedSliceGrad", "GatherGrad", "SplitLike", "TileGrad", "PadGrad"]  # fmt: skip


@functools.cache
def _numerically_checked_types() -> frozenset:
    """The op types whose gradient rule the numeric checks above call: the ops between the
    inputs and the checked outputs of every case (its first gradient, for second order)."""
    reached = set()
    for table, order in ((ANY_RANK + RANK_NEEDED + HELPERS, 1), (SECOND_ORDER, 2)):
        for build, values, mode in (case.values for case in table):
            if mode != "known":
                continue
            with fg.Graph().as_default() as graph:
                xs = _placeholders([np.asarray(v, dtype=np.float64) for v in values], mode)
                ys = build(*xs)
                if order == 2:
                    ys = [g for g in fg.gradients(_cubed_sum(ys), xs) if g is not None]
            ys = ys if isinstance(ys, (list, tuple)) else [ys]
            needed = {y.op for y in ys}
            for op in reversed(graph.get_operations()):
                if op in needed:
                    needed.update(t.op for t in op.inputs)
            depends = {x.op for x in xs}
            for op in graph.get_operations():
                if op in needed and any(t.op in depends for t in op.inputs):
                    depends.add(op)
                    reached.add(op.type)
    return frozenset(reached)


@pytest.mark.parametrize("op_type", DIFFERENTIABLE)
def test_every_differentiable_array_op_has_a_numerically_checked_gradient(op_type):
    """Its rule exists, and at least one float64 check above runs it (a new array op needs a
    case in the tables, not just a rule)."""
    assert get_op_def(op_type).differentiable
    assert op_type in _numerically_checked_types()


# Array-API (2023.12) functions and dtypes the kernels may look up; ``pad`` and ``add.at`` are
# the NumPy/CuPy extensions (the gather gradient falls back to a one-hot product without
# ``add.at``).
_STANDARD = {
    "add", "arange", "astype", "concat", "flip", "float64", "moveaxis", "multiply", "ones_like",
    "pad", "reshape", "sum", "take", "tile", "zeros",
}  # fmt: skip


class _Namespace:
    """NumPy, recording the names kernels look up, optionally without ``add.at``."""

    def __init__(self, add_at=True):
        self.used, self.add_at = set(), add_at
        self.__name__ = "recording"  # not NumPy: kernels take their array-API paths

    def __getattr__(self, name):
        self.used.add(name)
        if name == "add" and not self.add_at:
            return lambda a, b: np.add(a, b)  # a plain function, as in array-API namespaces
        return getattr(np, name)


@pytest.mark.numpy_only  # it builds its own backend
@pytest.mark.parametrize("add_at", [True, False], ids=["ufunc-at", "array-api-fallback"])
def test_gradient_kernels_use_the_array_namespace(add_at):
    xp = _Namespace(add_at)
    backend = Backend("recording", xp, np.asarray, np.asarray)
    value = _r(3, 4)
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float64, [None, None])
        ys = [fg.gather(x, [[2, 0], [2, 2]], axis=1), fg.tile(x, [2, 1]), x[::-1, 1:],
              fg.pad(x, [[1, 2], [0, 3]], "SYMMETRIC"), fg.concat([x, x[:, :1]], 1)]  # fmt: skip
        (dx,) = fg.gradients([y * y for y in ys], [x])
        got = fg.Session(backend=backend).run(dx, {x: value})
        want = fg.Session().run(dx, {x: value})
    np.testing.assert_allclose(got, want)
    assert xp.used <= _STANDARD, xp.used - _STANDARD
    assert {"zeros", "sum", "flip", "pad"} <= xp.used
    assert ("moveaxis" in xp.used) is not add_at  # the one-hot product only without add.at
