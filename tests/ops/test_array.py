"""Array ops (ops/array.py, ops/slicing.py, ops/creation.py) against NumPy.

Every forward case runs in four modes: inputs as constants, as placeholders of known shape, as
placeholders with unknown dims, and as placeholders of unknown rank. Each run checks the value
against a NumPy reference, the result's dtype against the declared one, and the static shape
against the actual shape (equal when the inputs' shapes are known, compatible otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import Backend
from flowgraph.errors import DTypeError, InvalidArgumentError, ShapeError
from flowgraph.ops.registry import get_op_def

MODES = ["const", "known", "unknown_dims", "unknown_rank"]
EXACT = ("const", "known")  # modes whose static shape must equal the result's

F32 = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
I32 = np.arange(12, dtype=np.int32).reshape(3, 4) - 5
I64 = np.array([[3, 1], [4, 1], [5, 9]], dtype=np.int64)
B = np.array([[True, False, True], [False, False, True]])
F64 = np.linspace(-1, 1, 6).reshape(3, 2)
U8 = np.arange(5, dtype=np.uint8)


def _tensor_for(value: np.ndarray, mode: str):
    if mode == "const":
        return fg.constant(value), None
    shape = {"known": value.shape, "unknown_dims": [None] * value.ndim, "unknown_rank": None}
    return fg.placeholder(fg.as_dtype(value.dtype), shape[mode]), value


def check(build, reference, inputs, mode, exact_in=EXACT, backend=None):
    """Build ``build(*tensors)`` in ``mode``, run it, and compare with ``reference(*arrays)``."""
    arrays = [np.asarray(v) for v in inputs]
    with fg.Graph().as_default():
        tensors, feed = [], {}
        for a in arrays:
            t, fed = _tensor_for(a, mode)
            tensors.append(t)
            if fed is not None:
                feed[t] = fed
        out = build(*tensors)
        outs = out if isinstance(out, list) else [out]
        results = fg.Session(backend=backend).run(outs, feed_dict=feed)
    expected = reference(*arrays)
    expected = expected if isinstance(expected, list) else [expected]
    assert len(results) == len(expected)
    for t, result, want in zip(outs, results, expected):
        result, want = np.asarray(result), np.asarray(want)
        assert result.dtype == t.dtype.as_numpy_dtype
        assert result.shape == want.shape
        np.testing.assert_array_equal(result, want)
        assert t.shape.is_compatible_with(result.shape), (t.shape, result.shape)
        if mode in exact_in:
            assert t.shape == fg.TensorShape(result.shape)
    return outs


def cases(*entries):
    """pytest params ``(build, reference, inputs, exact_in)`` from (id, build, reference,
    inputs[, exact_in]) tuples; ``exact_in`` is given where the static shape depends on
    values (known only from constants) or is fully known even from unknown inputs."""
    return [pytest.param(*e[1:4], e[4] if len(e) > 4 else EXACT, id=e[0]) for e in entries]


# ---- forward cases: (id, build, reference, inputs[, modes with an exact static shape]) -----

RESHAPE = cases(
    ("2d", lambda x: fg.reshape(x, [6, 4]), lambda x: x.reshape(6, 4), [F32]),
    ("minus1-first", lambda x: fg.reshape(x, [-1, 3, 4]), lambda x: x.reshape(-1, 3, 4), [F32]),
    ("minus1-mid", lambda x: fg.reshape(x, (4, -1, 2)), lambda x: x.reshape(4, -1, 2), [F32]),
    ("flatten", lambda x: fg.reshape(x, [-1]), lambda x: x.reshape(-1), [I32]),
    ("to-scalar", lambda x: fg.reshape(x, []), lambda x: x.reshape(()), [np.array([7.5])]),
    ("from-scalar", lambda x: fg.reshape(x, [1, 1]), lambda x: x.reshape(1, 1), [np.int64(3)]),
    ("bool", lambda x: fg.reshape(x, [3, 2]), lambda x: x.reshape(3, 2), [B]),
    ("shape-const", lambda x: fg.reshape(x, fg.constant([3, 8])), lambda x: x.reshape(3, 8), [F32]),
    ("shape-tensor", lambda x, s: fg.reshape(x, s), lambda x, s: x.reshape(s),
     [F32, np.array([4, 6], np.int32)], ("const",)),
    ("shape-list-mixed", lambda x: fg.reshape(x, [fg.shape(x)[0], -1]),
     lambda x: x.reshape(x.shape[0], -1), [F32], ()),
    ("shape-of-other", lambda x, y: fg.reshape(x, fg.shape(y)), lambda x, y: x.reshape(y.shape),
     [I32, np.zeros((2, 6), np.float32)], ()),
)  # fmt: skip

TRANSPOSE = cases(
    ("reverse-3d", lambda x: fg.transpose(x), lambda x: x.transpose(), [F32]),
    ("perm", lambda x: fg.transpose(x, [1, 2, 0]), lambda x: x.transpose(1, 2, 0), [F32]),
    ("negative-perm", lambda x: fg.transpose(x, [-1, 0, 1]), lambda x: x.transpose(2, 0, 1), [F32]),
    ("2d-int", lambda x: fg.transpose(x, perm=[1, 0]), lambda x: x.T, [I32]),
    ("1d", lambda x: fg.transpose(x), lambda x: x, [U8]),
    ("bool", lambda x: fg.transpose(x), lambda x: x.T, [B]),
)  # fmt: skip

CONCAT = cases(
    ("axis0", lambda a, b: fg.concat([a, b], 0), lambda a, b: np.concatenate([a, b], 0),
     [F64, F64[:1]]),
    ("axis-1", lambda a, b: fg.concat([a, b], -1), lambda a, b: np.concatenate([a, b], -1),
     [F64, F64[:, :1]]),
    ("three", lambda a, b, c: fg.concat([a, b, c], axis=1),
     lambda a, b, c: np.concatenate([a, b, c], 1), [I32, I32, I32[:, :2]]),
    ("single", lambda a: fg.concat([a], 0), lambda a: a, [U8]),
    ("python-value", lambda a: fg.concat([a, [[1, 2, 3, 4]]], 0),
     lambda a: np.concatenate([a, [[1, 2, 3, 4]]], 0).astype(np.int32), [I32]),
    ("bool-3d", lambda a, b: fg.concat([a, b], 2), lambda a, b: np.concatenate([a, b], 2),
     [B[None], B[None]]),
)  # fmt: skip

STACK = cases(
    ("axis0", lambda a, b: fg.stack([a, b]), lambda a, b: np.stack([a, b]), [I32, I32 * 2]),
    ("axis1", lambda a, b: fg.stack([a, b], 1), lambda a, b: np.stack([a, b], 1), [F64, F64]),
    ("axis-1", lambda a, b: fg.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], -1),
     [F64, F64]),
    ("scalars", lambda a, b: fg.stack([a, b]), lambda a, b: np.stack([a, b]),
     [np.float32(1), np.float32(2)]),
    ("python-values", lambda a: fg.stack([a, [9, 9, 9, 9, 9]]),
     lambda a: np.stack([a, np.full(5, 9, np.uint8)]), [U8]),
)  # fmt: skip

UNSTACK = cases(
    ("axis0", lambda x: fg.unstack(x, num=3), lambda x: list(x), [I64]),
    ("axis1", lambda x: fg.unstack(x, num=2, axis=1), lambda x: list(x.T), [I64]),
    ("axis-1", lambda x: fg.unstack(x, num=4, axis=-1), lambda x: list(np.moveaxis(x, -1, 0)),
     [F32]),
    ("one", lambda x: fg.unstack(x, num=1), lambda x: [x[0]], [np.ones((1, 2), np.float32)]),
    ("to-scalars", lambda x: fg.unstack(x, 5), lambda x: list(x), [U8]),
)  # fmt: skip

SPLIT = cases(
    ("num", lambda x: fg.split(x, 3, axis=1), lambda x: np.split(x, 3, axis=1),
     [np.arange(12.0).reshape(2, 6)]),
    ("sizes", lambda x: fg.split(x, [1, 2, 1], axis=-1), lambda x: np.split(x, [1, 3], -1), [F32]),
    ("sizes-minus1", lambda x: fg.split(x, [1, -1]), lambda x: np.split(x, [1]), [I64]),
    ("one", lambda x: fg.split(x, 1), lambda x: [x], [U8]),
    ("empty-piece", lambda x: fg.split(x, [0, 4], 1), lambda x: np.split(x, [0], 1), [I32]),
)  # fmt: skip

EXPAND_SQUEEZE = cases(
    ("expand0", lambda x: fg.expand_dims(x, 0), lambda x: x[None], [F64]),
    ("expand-1", lambda x: fg.expand_dims(x, -1), lambda x: x[..., None], [I32]),
    ("expand-mid", lambda x: fg.expand_dims(x, 1), lambda x: x[:, None], [B]),
    ("expand-scalar", lambda x: fg.expand_dims(x, 0), lambda x: x[None], [np.float32(2)]),
    ("squeeze-all", lambda x: fg.squeeze(x), lambda x: np.squeeze(x),
     [np.zeros((1, 3, 1, 2), np.float32)], ("const", "known")),
    ("squeeze-axis", lambda x: fg.squeeze(x, [0]), lambda x: x[0], [np.ones((1, 3, 1), np.int32)]),
    ("squeeze-neg", lambda x: fg.squeeze(x, -1), lambda x: x[..., 0], [np.ones((2, 1), bool)]),
    ("squeeze-to-scalar", lambda x: fg.squeeze(x), lambda x: x.reshape(()), [np.ones((1, 1))]),
)  # fmt: skip

TILE_PAD = cases(
    ("tile", lambda x: fg.tile(x, [2, 1]), lambda x: np.tile(x, (2, 1)), [I32]),
    ("tile-3d", lambda x: fg.tile(x, [1, 2, 3]), lambda x: np.tile(x, (1, 2, 3)), [F32]),
    ("tile-zero", lambda x: fg.tile(x, [0]), lambda x: x[:0], [U8]),
    ("pad-constant", lambda x: fg.pad(x, [[1, 0], [2, 3]], constant_values=9),
     lambda x: np.pad(x, [[1, 0], [2, 3]], constant_values=9), [I32]),
    ("pad-float", lambda x: fg.pad(x, [[0, 0], [1, 1], [0, 2]]),
     lambda x: np.pad(x, [[0, 0], [1, 1], [0, 2]]), [F32]),
    ("pad-reflect", lambda x: fg.pad(x, [[2, 1], [1, 1]], "REFLECT"),
     lambda x: np.pad(x, [[2, 1], [1, 1]], "reflect"), [I32]),
    ("pad-symmetric", lambda x: fg.pad(x, [[3, 3], [0, 2]], mode="symmetric"),
     lambda x: np.pad(x, [[3, 3], [0, 2]], "symmetric"), [F64]),
    ("pad-bool", lambda x: fg.pad(x, [[1, 1], [0, 0]]), lambda x: np.pad(x, [[1, 1], [0, 0]]), [B]),
)  # fmt: skip

GATHER = cases(
    ("axis0", lambda p, i: fg.gather(p, i), lambda p, i: p[i], [F64, np.array([2, 0, 2])]),
    ("axis1-2d-indices", lambda p, i: fg.gather(p, i, axis=1),
     lambda p, i: np.take(p, i, axis=1), [F32, np.array([[2, 0], [1, 1]], np.int64)]),
    ("axis-1", lambda p, i: fg.gather(p, i, axis=-1), lambda p, i: np.take(p, i, axis=-1),
     [I32, np.array([1], np.int32)]),
    ("scalar-index", lambda p, i: fg.gather(p, i), lambda p, i: p[i], [I64, np.int32(1)]),
    ("negative-index", lambda p, i: fg.gather(p, i), lambda p, i: p[i], [U8, np.array([-1, -5])]),
    ("empty-indices", lambda p, i: fg.gather(p, i), lambda p, i: p[i],
     [B, np.zeros((0,), np.int32)]),
)  # fmt: skip


def _np_one_hot(indices, depth, on=1.0, off=0.0, axis=-1, dtype=np.float32):
    hot = np.expand_dims(indices, -1) == np.arange(depth)
    return np.moveaxis(np.where(hot, on, off).astype(dtype), -1, axis)


ONE_HOT = cases(
    ("default", lambda i: fg.one_hot(i, 3), lambda i: _np_one_hot(i, 3), [np.array([0, 2, 1])]),
    ("out-of-range", lambda i: fg.one_hot(i, 3), lambda i: _np_one_hot(i, 3),
     [np.array([-1, 3, 1])]),
    ("axis0", lambda i: fg.one_hot(i, 4, axis=0), lambda i: _np_one_hot(i, 4, axis=0),
     [np.array([[0, 3], [2, 2]], np.int64)]),
    ("on-off-int", lambda i: fg.one_hot(i, 2, on_value=5, off_value=-1),
     lambda i: _np_one_hot(i, 2, 5, -1, dtype=np.int32), [np.array([1, 0], np.uint8)]),
    ("dtype", lambda i: fg.one_hot(i, 3, dtype=fg.float64),
     lambda i: _np_one_hot(i, 3, dtype=float), [np.int32(2)]),
    ("bool", lambda i: fg.one_hot(i, 2, dtype=fg.bool), lambda i: _np_one_hot(i, 2, dtype=bool),
     [np.array([1, 1])]),
)  # fmt: skip

SHAPES = cases(
    ("shape", lambda x: fg.shape(x), lambda x: np.array(x.shape, np.int32), [F32],
     ("const", "known", "unknown_dims")),
    ("shape-int64", lambda x: fg.shape(x, out_type=fg.int64), lambda x: np.array(x.shape),
     [I32], ("const", "known", "unknown_dims")),
    ("shape-scalar", lambda x: fg.shape(x), lambda x: np.zeros(0, np.int32), [np.float32(1)],
     ("const", "known", "unknown_dims")),
    ("size", lambda x: fg.size(x), lambda x: np.int32(x.size), [F32], MODES),
    ("size-int64", lambda x: fg.size(x, out_type="int64"), lambda x: np.int64(x.size), [B], MODES),
    ("size-empty", lambda x: fg.size(x), lambda x: np.int32(0), [np.zeros((2, 0))], MODES),
    ("rank", lambda x: fg.rank(x), lambda x: np.int32(x.ndim), [F32], MODES),
    ("rank-scalar", lambda x: fg.rank(x), lambda x: np.int32(0), [np.int64(4)], MODES),
)  # fmt: skip

LIKE_AND_FILL = cases(
    ("zeros_like", lambda x: fg.zeros_like(x), np.zeros_like, [F32]),
    ("ones_like", lambda x: fg.ones_like(x), np.ones_like, [I64]),
    ("ones_like-bool", lambda x: fg.ones_like(x), np.ones_like, [B]),
    ("zeros_like-dtype", lambda x: fg.zeros_like(x, dtype=fg.float64),
     lambda x: np.zeros(x.shape), [U8]),
    ("zeros-dims-tensor", lambda d: fg.zeros(d), lambda d: np.zeros(d, np.float32),
     [np.array([2, 3], np.int32)], ("const",)),
    ("ones-dims-tensor", lambda d: fg.ones(d, fg.int64), lambda d: np.ones(d, np.int64),
     [np.array([3], np.int64)], ("const",)),
    ("fill-dims-tensor", lambda d: fg.fill(d, 2.5), lambda d: np.full(d, 2.5, np.float32),
     [np.array([1, 2], np.int32)], ("const",)),
    ("fill-value-tensor", lambda v: fg.fill([2, 3], v), lambda v: np.full((2, 3), v),
     [np.int64(-4)], ("const", "known", "unknown_dims")),
    ("zeros-shape-of", lambda x: fg.zeros(fg.shape(x)), lambda x: np.zeros(x.shape, np.float32),
     [I32], ()),
)  # fmt: skip

RANGE = cases(
    ("ints", lambda a, b, c: fg.range(a, b, c), np.arange, [np.int32(1), np.int32(10), np.int32(3)],
     ("const",)),
    ("negative-delta", lambda a, b, c: fg.range(a, b, c), np.arange,
     [np.int64(5), np.int64(-5), np.int64(-2)], ("const",)),
    ("floats", lambda a, b, c: fg.range(a, b, c), lambda a, b, c: np.arange(a, b, c, np.float32),
     [np.float32(0), np.float32(1), np.float32(0.25)], ("const",)),
    ("empty", lambda a, b, c: fg.range(a, b, c), np.arange, [np.int32(4), np.int32(2), np.int32(1)],
     ("const",)),
    ("limit-only", lambda n: fg.range(n), lambda n: np.arange(n, dtype=np.int32), [np.int32(4)],
     ("const",)),
    ("cast-dtype", lambda n: fg.range(n, dtype=fg.float64), lambda n: np.arange(float(n)),
     [np.int32(3)], ()),
)  # fmt: skip

X345 = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
KEYS = [
    0, -1, 2, slice(None), slice(1, None), slice(None, None, -1), slice(-1, 0, -2),
    slice(10, 20), slice(-100, 100), slice(2, 1), (0, 1), (-3, -4, -5), (Ellipsis, 0),
    (None, 0), (slice(None), None, -1), (Ellipsis, None), (1, Ellipsis, slice(None, None, 2)),
    (None, Ellipsis, None), (), Ellipsis, None, (0, slice(3, None, -1), 4),
    (slice(None, None, -2), 1, slice(1, 4)), (np.int64(1), np.int32(-1)),
]  # fmt: skip


def _all_cases():
    groups = [RESHAPE, TRANSPOSE, CONCAT, STACK, UNSTACK, SPLIT, EXPAND_SQUEEZE, TILE_PAD,
              GATHER, ONE_HOT, SHAPES, LIKE_AND_FILL, RANGE]  # fmt: skip
    return [p for group in groups for p in group]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("build, reference, inputs, exact_in", _all_cases())
def test_forward(build, reference, inputs, exact_in, mode):
    check(build, reference, inputs, mode, exact_in)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_getitem_matches_numpy(key, mode):
    check(lambda x: x[key], lambda x: x[key], [X345], mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "value, key",
    [(I32, (-1, slice(None, None, -1))), (B, (slice(None), 1)), (U8, slice(4, None, -3)),
     (np.float64(2.5), ()), (np.float64(2.5), None), (np.int64(7), Ellipsis)],
    ids=repr,
)  # fmt: skip
def test_getitem_dtypes_and_scalars(value, key, mode):
    check(lambda x: x[key], lambda x: x[key], [value], mode)


def test_getitem_with_scalar_int_tensor_gathers():
    check(lambda x, i: x[i], lambda x, i: x[i], [I64, np.int32(-1)], "unknown_dims")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(begin=[0, 1], end=[2, 3]), (slice(0, 2), slice(1, 3))),
        (dict(begin=[2, 0], end=[0, 4], strides=[-1, 2]), (slice(2, 0, -1), slice(0, 4, 2))),
        (dict(begin=[1, 0], end=[0, 2], begin_mask=0b10, end_mask=0b01),
         (slice(1, None), slice(None, 2))),
        (dict(begin=[1, 0], end=[2, 0], shrink_axis_mask=0b01, ellipsis_mask=0b10),
         (1, Ellipsis)),
        (dict(begin=[0, 0, -1], end=[0, 0, 0], new_axis_mask=0b011, shrink_axis_mask=0b100),
         (None, None, -1)),
    ],
    ids=["plain", "negative-stride", "masks", "shrink-ellipsis", "new-axis"],
)  # fmt: skip
def test_strided_slice_spelling(kwargs, key, mode):
    check(lambda x: fg.strided_slice(x, **kwargs), lambda x: x[key], [X345], mode)


@pytest.mark.parametrize(
    "build, expected, dtype",
    [
        (lambda: fg.zeros([2, 3]), np.zeros((2, 3), np.float32), fg.float32),
        (lambda: fg.zeros((0, 3), dtype=fg.int32), np.zeros((0, 3), np.int32), fg.int32),
        (lambda: fg.zeros([], fg.bool), np.array(False), fg.bool),
        (lambda: fg.ones(fg.TensorShape([2]), fg.int64), np.ones(2, np.int64), fg.int64),
        (lambda: fg.ones(3, "float64"), np.ones(3), fg.float64),
        (lambda: fg.ones([1, 2], fg.bool), np.ones((1, 2), bool), fg.bool),
        (lambda: fg.fill([2, 2], 7.5), np.full((2, 2), 7.5, np.float32), fg.float32),
        (lambda: fg.fill([3], True), np.full(3, True), fg.bool),
        (lambda: fg.fill([2], np.int64(-3)), np.full(2, -3, np.int64), fg.int64),
        (lambda: fg.fill([2], fg.constant(2.0, fg.float64)), np.full(2, 2.0), fg.float64),
        (lambda: fg.range(5), np.arange(5, dtype=np.int32), fg.int32),
        (lambda: fg.range(2, 5), np.arange(2, 5, dtype=np.int32), fg.int32),
        (lambda: fg.range(0, 1, 0.3), np.arange(0, 1, 0.3, dtype=np.float32), fg.float32),
        (lambda: fg.range(10, 0, -3), np.arange(10, 0, -3, dtype=np.int32), fg.int32),
        (lambda: fg.range(4, dtype=fg.float64), np.arange(4.0), fg.float64),
        (lambda: fg.range(3, 1), np.zeros(0, np.int32), fg.int32),
        (lambda: fg.identity([[1, 2]]), np.array([[1, 2]], np.int32), fg.int32),
        (lambda: fg.stop_gradient([1.5]), np.array([1.5], np.float32), fg.float32),
        (lambda: fg.pad(np.float64(3), []), np.array(3.0), fg.float64),
        (lambda: fg.pad(fg.zeros([0, 2]), [[0, 0], [1, 1]], "REFLECT"),
         np.zeros((0, 4), np.float32), fg.float32),
    ],
)  # fmt: skip
def test_sources(build, expected, dtype):
    with fg.Graph().as_default():
        out = build()
        result = np.asarray(fg.Session().run(out))
    assert out.dtype is dtype
    assert result.dtype == dtype.as_numpy_dtype
    np.testing.assert_array_equal(result, expected)
    assert result.shape == expected.shape
    assert out.shape == fg.TensorShape(result.shape)


def test_multi_output_ops_return_lists():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None, 3])
        pieces = fg.split(x, [1, -1], axis=1)
        rows = fg.unstack(x, axis=1)
        single = fg.unstack(fg.zeros([1, 2]))
        empty = fg.unstack(fg.zeros([0, 2]))
    assert [str(p.shape) for p in pieces] == ["[?,1]", "[?,2]"]
    assert len(rows) == 3 and all(str(r.shape) == "[?]" for r in rows)
    assert isinstance(single, list) and len(single) == 1
    assert empty == []


def test_static_shapes_from_partial_information():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [None, 4, 5])
        u = fg.placeholder(fg.float32, None)
        shapes = {
            "x[:, 1:]": x[:, 1:].shape,
            "x[1:3]": x[1:3].shape,
            "u[0]": u[0].shape,
            "reshape": fg.reshape(x, [-1, 10]).shape,
            "reshape-u": fg.reshape(u, [2, 5]).shape,
            "concat": fg.concat([x, fg.zeros([2, 4, 5])], 0).shape,
            "concat-u": fg.concat([u, x], 2).shape,
            "stack-u": fg.stack([u, x]).shape,
            "tile-u": fg.tile(u, [2, 0]).shape,
            "pad": fg.pad(x, [[1, 1], [0, 0], [2, 0]]).shape,
            "gather": fg.gather(x, fg.placeholder(fg.int32, [None, 2]), axis=2).shape,
            "squeeze": fg.squeeze(x).shape,
            "shape-u": fg.shape(u).shape,
            "range": fg.range(fg.placeholder(fg.int32, [])).shape,
        }
    assert {k: str(v) for k, v in shapes.items()} == {
        "x[:, 1:]": "[?,3,5]",
        "x[1:3]": "[?,4,5]",
        "u[0]": "<unknown>",
        "reshape": "[?,10]",
        "reshape-u": "[2,5]",
        "concat": "[?,4,5]",
        "concat-u": "[?,4,?]",
        "stack-u": "[2,?,4,5]",
        "tile-u": "[?,0]",
        "pad": "[?,4,7]",
        "gather": "[?,4,?,2]",
        "squeeze": "<unknown>",
        "shape-u": "[?]",
        "range": "[?]",
    }


# ---- build-time errors: type, op type and shapes named in the message ---------------------


def _z(*shape, dtype=fg.float32):
    return fg.zeros(list(shape), dtype)


ERRORS = [
    ("concat-rank", lambda: fg.concat([_z(2, 3), _z(2)], 0), ShapeError, "ConcatV2",
     ["[2,3]", "[2]", "same rank"]),
    ("concat-dims", lambda: fg.concat([_z(2, 3), _z(2, 4)], 0), ShapeError, "ConcatV2",
     ["[2,3]", "[2,4]", "Dimension 1"]),
    ("concat-dtypes", lambda: fg.concat([_z(2), _z(2, dtype=fg.int32)], 0), DTypeError, "ConcatV2",
     ["int32", "float32"]),
    ("concat-scalars", lambda: fg.concat([_z(), _z()], 0), ShapeError, "ConcatV2", ["scalars"]),
    ("concat-axis", lambda: fg.concat([_z(2, 3), _z(2, 3)], 2), ShapeError, "ConcatV2",
     ["axis 2", "[2,3]"]),
    ("reshape-size", lambda: fg.reshape(_z(2, 3), [4]), ShapeError, "Reshape",
     ["6 elements", "[4]", "[2,3]"]),
    ("reshape-minus1", lambda: fg.reshape(_z(2, 3), [4, -1]), ShapeError, "Reshape",
     ["[4, -1]", "[2,3]"]),
    ("reshape-two-minus1", lambda: fg.reshape(_z(6), [-1, -1]), ShapeError, "Reshape", ["[6]"]),
    ("reshape-float-shape", lambda: fg.reshape(_z(6), fg.placeholder(fg.float32, [2])),
     DTypeError, "Reshape", ["shape", "[6]"]),
    ("transpose-perm", lambda: fg.transpose(_z(2, 3), [0, 0]), ShapeError, "Transpose",
     ["permutation", "[2,3]"]),
    ("transpose-rank", lambda: fg.transpose(_z(2, 3), [0, 1, 2]), ShapeError, "Transpose",
     ["rank 2", "[2,3]"]),
    ("stack-shapes", lambda: fg.stack([_z(2, 3), _z(3, 2)]), ShapeError, "Pack",
     ["[2,3]", "[3,2]"]),
    ("stack-axis", lambda: fg.stack([_z(2), _z(2)], axis=3), ShapeError, "Pack", ["axis 3"]),
    ("unstack-num", lambda: fg.unstack(_z(3, 2), num=2), ShapeError, "Unpack", ["num=2", "[3,2]"]),
    ("unstack-axis", lambda: fg.unstack(_z(3, 2), axis=2), ShapeError, "Unpack", ["[3,2]"]),
    ("split-uneven", lambda: fg.split(_z(5, 2), 2), ShapeError, "Split", ["5", "[5,2]"]),
    ("split-sizes", lambda: fg.split(_z(5), [2, 2]), ShapeError, "Split", ["[2, 2]", "[5]"]),
    ("split-too-big", lambda: fg.split(_z(5), [4, 4, -1]), ShapeError, "Split", ["[5]"]),
    ("expand-axis", lambda: fg.expand_dims(_z(2, 3), 3), ShapeError, "ExpandDims",
     ["axis 3", "[2,3]"]),
    ("squeeze-non1", lambda: fg.squeeze(_z(1, 3), [1]), ShapeError, "Squeeze", ["dim[1]", "[1,3]"]),
    ("tile-length", lambda: fg.tile(_z(2, 3), [2]), ShapeError, "Tile", ["rank 2", "[2,3]"]),
    ("tile-negative", lambda: fg.tile(_z(2), [-1]), ShapeError, "Tile", ["[-1]", "[2]"]),
    ("pad-rows", lambda: fg.pad(_z(2, 3), [[1, 1]]), ShapeError, "Pad", ["rank 2", "[2,3]"]),
    ("pad-negative", lambda: fg.pad(_z(2), [[-1, 0]]), ShapeError, "Pad", ["non-negative", "[2]"]),
    ("pad-reflect", lambda: fg.pad(_z(2, 3), [[2, 0], [0, 0]], "REFLECT"), ShapeError, "Pad",
     ["REFLECT", "[2,3]"]),
    ("pad-symmetric", lambda: fg.pad(_z(2), [[0, 3]], "SYMMETRIC"), ShapeError, "Pad",
     ["SYMMETRIC", "[2]"]),
    ("pad-value", lambda: fg.pad(_z(2, dtype=fg.int32), [[1, 1]], constant_values=1.5),
     DTypeError, "Pad", ["1.5", "int32"]),
    ("gather-float-indices", lambda: fg.gather(_z(3), [0.0, 1.0]), DTypeError, "GatherV2",
     ["indices", "float32", "[3]", "[2]"]),
    ("gather-scalar-params", lambda: fg.gather(_z(), [0]), ShapeError, "GatherV2", ["[]", "[1]"]),
    ("gather-axis", lambda: fg.gather(_z(3, 2), [0], axis=2), ShapeError, "GatherV2",
     ["axis 2", "[3,2]"]),
    ("one-hot-float", lambda: fg.one_hot(_z(3), 4), DTypeError, "OneHot", ["indices", "[3]"]),
    ("one-hot-axis", lambda: fg.one_hot([1, 2], 4, axis=3), ShapeError, "OneHot",
     ["axis 3", "[2]"]),
    ("one-hot-value", lambda: fg.one_hot([1], 2, on_value=0.5, dtype=fg.int32), DTypeError,
     "OneHot", ["on_value", "int32"]),
    ("index-out-of-range", lambda: _z(3, 4)[3], ShapeError, "StridedSlice",
     ["index 3", "dimension 0", "[3,4]"]),
    ("index-negative", lambda: _z(3, 4)[-4], ShapeError, "StridedSlice", ["index -4", "[3,4]"]),
    ("index-second-dim", lambda: _z(3, 4)[:, 7], ShapeError, "StridedSlice",
     ["dimension 1", "size 4", "[3,4]"]),
    ("too-many-indices", lambda: _z(3, 4)[0, 0, 0], ShapeError, "StridedSlice",
     ["too many", "[3,4]"]),
    ("two-ellipses", lambda: _z(3, 4)[..., 0, ...], ShapeError, "StridedSlice", ["ellipsis"]),
    ("zero-step", lambda: _z(3, 4)[::0], ShapeError, "StridedSlice", ["zero", "[3,4]"]),
    ("shape-out-type", lambda: fg.shape(_z(2), out_type=fg.float32), DTypeError, "Shape",
     ["out_type", "[2]"]),
    ("range-delta", lambda: fg.range(0, 5, 0), ShapeError, "Range", ["delta"]),
    ("range-float-to-int", lambda: fg.range(0.5, 3, dtype=fg.int32), TypeError, "", ["int32"]),
    ("fill-negative", lambda: fg.zeros([2, -3]), ShapeError, "Fill", ["[2, -3]"]),
    ("zeros-float-dims", lambda: fg.zeros(fg.constant([2.0])), DTypeError, "Fill", ["shape"]),
    ("zeros-2d-dims", lambda: fg.zeros(fg.constant([[2]])), ShapeError, "Fill",
     ["rank 1", "[1,1]"]),
    ("key-float", lambda: _z(3)[1.5], TypeError, "StridedSlice", ["1.5", "[3]"]),
    ("key-str", lambda: _z(3)["a"], TypeError, "StridedSlice", ["'a'", "[3]"]),
    ("key-bool", lambda: _z(3)[True], TypeError, "StridedSlice", ["True", "[3]"]),
    ("key-list", lambda: _z(3)[[0, 1]], TypeError, "StridedSlice", ["[0, 1]", "[3]"]),
    ("key-float-tensor", lambda: _z(3)[fg.constant(1.0)], TypeError, "StridedSlice", ["[3]"]),
    ("unstack-unknown-num", lambda: fg.unstack(fg.placeholder(fg.float32, [None, 2])), ValueError,
     "Unpack", ["[?,2]", "num="]),
]  # fmt: skip


@pytest.mark.parametrize(
    "build, error, op_type, fragments", [pytest.param(*e[1:], id=e[0]) for e in ERRORS]
)
def test_build_time_errors(build, error, op_type, fragments):
    with fg.Graph().as_default(), pytest.raises(error) as info:
        build()
    message = str(info.value)
    assert issubclass(error, (ValueError, TypeError))
    for fragment in [op_type, *fragments]:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_build_time_error_names_the_user_line():
    with fg.Graph().as_default(), pytest.raises(ShapeError) as info:
        fg.concat([_z(1), _z(1, 1)], 0)
    assert "test_array.py" in str(info.value)


# ---- run-time errors where the static shape could not tell --------------------------------

RUNTIME_ERRORS = [
    ("reshape", lambda x: fg.reshape(x, [2, -1]), np.zeros(5, np.float32), "Reshape"),
    ("index", lambda x: x[5], np.zeros(3, np.float32), "StridedSlice"),
    ("split", lambda x: fg.split(x, 2)[0], np.zeros(3, np.float32), "Split"),
    ("unstack", lambda x: fg.unstack(x, num=2)[0], np.zeros(3, np.float32), "Unpack"),
    ("gather", lambda x: fg.gather(x, [7]), np.zeros(3, np.float32), "GatherV2"),
    ("squeeze", lambda x: fg.squeeze(x, [0]), np.zeros(3, np.float32), "Squeeze"),
    ("tile", lambda x: fg.tile(x, [2, 2]), np.zeros(3, np.float32), "Tile"),
    ("pad-reflect", lambda x: fg.pad(x, [[3, 0]], "REFLECT"), np.zeros(3, np.float32), "Pad"),
    ("zeros", lambda x: fg.zeros(fg.cast(x, fg.int32)), -np.ones(2, np.float32), "Fill"),
    ("range", lambda x: fg.range(0.0, 1.0, x), np.float32(0), "Range"),
]


@pytest.mark.parametrize(
    "build, value, op_type", [pytest.param(*e[1:], id=e[0]) for e in RUNTIME_ERRORS]
)
def test_run_time_errors_name_the_op(build, value, op_type):
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, None)
        out = build(x)
        with pytest.raises(InvalidArgumentError) as info:
            fg.Session().run(out, feed_dict={x: value})
    assert op_type in str(info.value)


# ---- registry facts -----------------------------------------------------------------------

NOT_DIFFERENTIABLE = ["Shape", "Size", "Rank", "Fill", "ZerosLike", "OnesLike", "OneHot", "Range",
                      "StopGradient"]  # fmt: skip
DIFFERENTIABLE = ["Identity", "Reshape", "Transpose", "ConcatV2", "Pack", "Unpack", "Split",
                  "ExpandDims", "Squeeze", "Tile", "Pad", "GatherV2", "StridedSlice"]  # fmt: skip


@pytest.mark.parametrize("op_type", NOT_DIFFERENTIABLE + DIFFERENTIABLE)
def test_differentiable_flags(op_type):
    op_def = get_op_def(op_type)
    assert op_def.differentiable is (op_type in DIFFERENTIABLE)
    assert not op_def.stateful


def test_attrs_are_hashable():
    with fg.Graph().as_default() as g:
        x = fg.placeholder(fg.float32, [None, 4])
        fg.reshape(x, [-1, 2]), fg.transpose(x), fg.concat([x, x], 1), fg.stack([x, x])
        fg.unstack(x, 4, axis=1), fg.split(x, 2, 1), fg.expand_dims(x, 0), fg.squeeze(x)
        fg.tile(x, [1, 2]), fg.pad(x, [[0, 1], [1, 0]]), fg.gather(x, [0]), fg.one_hot([1], 2)
        fg.shape(x), fg.size(x), fg.rank(x), fg.zeros([2]), fg.ones_like(x), fg.range(3)
        x[..., None, ::-1], fg.strided_slice(x, [0], [1])
        ops = [op for op in g.get_operations() if op.type not in ("Const", "Placeholder")]
    assert len({op.type for op in ops}) == 19
    for op in ops:
        assert hash(tuple(sorted(op.attrs.items()))) is not None


class _RecordingNamespace:
    """NumPy, but remembering which names kernels look up."""

    def __init__(self):
        self.used = set()
        self.__name__ = "recording"  # not NumPy: kernels take their array-API paths

    def __getattr__(self, name):
        self.used.add(name)
        return getattr(np, name)


# Functions of the array-API standard (2023.12) the kernels may use, plus dtype names; NumPy's
# pad is the one deliberate extension (the standard has none).
_STANDARD = {
    "arange", "asarray", "concat", "expand_dims", "full", "moveaxis", "ones_like", "permute_dims",
    "reshape", "squeeze", "stack", "take", "tile", "where", "zeros_like", "pad", "int32", "int64",
    "float32", "float64", "bool", "uint8", "multiply", "add", "astype",
}  # fmt: skip


@pytest.mark.numpy_only  # it builds its own backend
def test_kernels_use_only_the_array_namespace_handed_to_them():
    xp = _RecordingNamespace()
    backend = Backend("recording", xp, np.asarray, np.asarray)
    for p in _all_cases():
        build, reference, inputs = p.values[:3]
        check(build, reference, inputs, "unknown_dims", exact_in=(), backend=backend)
    key = (slice(1, None), None, slice(None, None, -1))
    check(lambda x: x[key], lambda x: x[key], [X345], "known", backend=backend)
    assert xp.used <= _STANDARD, xp.used - _STANDARD
    assert {"permute_dims", "concat", "take", "pad", "full"} <= xp.used


def test_array_module_names_every_array_op():
    """ops/array.py re-exports the creation and slicing ops; flowgraph exports them all."""
    from flowgraph.ops import array, creation, gradient_ops, slicing

    assert set(creation.__all__) <= set(array.__all__)
    for name in array.__all__:
        assert getattr(fg, name) is getattr(array, name), name
    assert array.zeros_like is creation.zeros_like and array.getitem is slicing.getitem
    assert array.stop_gradient is gradient_ops.stop_gradient
    assert "getitem" not in array.__all__
