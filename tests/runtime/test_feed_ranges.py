"""Integer feeds never wrap: a value the placeholder's dtype cannot hold is refused, named."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")


@pytest.mark.parametrize(
    "dtype, value, first",
    [
        (fg.int32, np.array([2**40, 2**31]), 2**40),  # the example: was [0, -2**31]
        (fg.int32, np.array([1, -(2**31) - 1]), -(2**31) - 1),
        (fg.int32, [2**100], 2**100),  # a Python int no NumPy dtype holds: was "not numeric"
        (fg.int32, [3, 2**40], 2**40),
        (fg.int8, np.array([1, 300], np.int16), 300),
        (fg.uint8, np.array([7, -1], np.int64), -1),
        (fg.int64, [2**63], 2**63),
    ],
)
def test_out_of_range_integer_feeds_are_refused_naming_the_value(dtype, value, first):
    with fg.Graph().as_default():
        x = fg.placeholder(dtype, [None], name="counts")
        y = x + 0
        with fg.Session() as sess, pytest.raises(TypeError) as info:
            sess.run(y, {x: value})
        message = str(info.value)
        assert "'counts:0'" in message and dtype.name in message and str(first) in message


def test_make_callable_checks_the_range_too():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [None], name="x")
        with fg.Session() as sess:
            f = sess.make_callable(x * 2, [x])
            with pytest.raises(TypeError, match="2147483648"):
                f(np.array([2**31]))


def test_integer_feeds_in_range_convert_as_before():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.int32, [None], name="x")
        with fg.Session() as sess:
            got = sess.run(x + 0, {x: np.array([2**31 - 1, -(2**31)], np.int64)})
            assert got.dtype == np.int32 and got.tolist() == [2**31 - 1, -(2**31)]
            assert sess.run(x + 0, {x: [1, 2]}).tolist() == [1, 2]
            with pytest.raises(TypeError, match="Cannot feed"):
                sess.run(x + 0, {x: [None]})
