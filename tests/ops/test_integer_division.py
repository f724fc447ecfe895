"""Integer ``//`` and ``%`` by zero raise InvalidArgumentError, as in TF1, in both modes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd
from flowgraph import errors

A = np.array([7, -7, 3], np.int32)


@pytest.mark.parametrize("op, name", [(fg.floordiv, "FloorDiv"), (fg.floormod, "FloorMod")])
@pytest.mark.parametrize("dtype", [fg.int32, fg.int64, fg.uint8])
def test_static_integer_division_by_zero_names_the_op_and_line(op, name, dtype):
    with fg.Graph().as_default():
        a = fg.placeholder(dtype, [None], name="a")
        b = fg.placeholder(dtype, [None], name="b")
        out = op(a, b, name="ratio")  # the line the error must point at
        line = inspect.currentframe().f_lineno - 1
        with fg.Session() as sess:
            value = np.array([7, 6, 3])
            with pytest.raises(errors.InvalidArgumentError) as info:
                sess.run(out, {a: value, b: np.array([2, 0, 1])})
            message = str(info.value)
            assert "Integer division by zero" in message and f"{name} op 'ratio'" in message
            assert f"test_integer_division.py:{line}" in message
            # Without a zero: NumPy's floor semantics, no error.
            got = sess.run(out, {a: value, b: np.array([2, 4, 1])})
            ref = (np.floor_divide if name == "FloorDiv" else np.remainder)(value, [2, 4, 1])
            np.testing.assert_array_equal(got, ref)


def test_operators_and_python_scalars():
    with fg.Graph().as_default():
        a = fg.constant(A)
        with fg.Session() as sess:
            for expr in (a // 0, a % 0):
                with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
                    sess.run(expr)
            np.testing.assert_array_equal(sess.run(a // 2), A // 2)
            np.testing.assert_array_equal(sess.run(a % -2), A % -2)


def test_float_division_by_zero_is_not_an_error():
    with fg.Graph().as_default():
        x = fg.constant([1.0, -1.0, 0.0])
        with fg.Session() as sess, np.errstate(divide="ignore", invalid="ignore"):
            got = sess.run(x // 0.0)
            ref = np.floor_divide([1.0, -1.0, 0.0], 0.0)
    np.testing.assert_array_equal(got, ref)


def test_dynamic_integer_division_by_zero_raises():
    a = fd.tensor(A)
    for expr in (lambda: a // 0, lambda: a % fd.tensor(np.array([1, 0, 1], np.int32))):
        with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
            expr()
    np.testing.assert_array_equal((a // 2).numpy(), A // 2)
