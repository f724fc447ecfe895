"""dtypes, TensorShape, and TF's conversion of Python scalars next to tensors."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.graph.dtypes import ALL_DTYPES, as_dtype
from flowgraph.graph.shape import TensorShape, broadcast_shapes


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_dtypes_round_trip_through_numpy(dtype):
    assert as_dtype(dtype.as_numpy_dtype) is dtype
    assert as_dtype(dtype.name) is dtype


def test_unsupported_dtype_is_named():
    with pytest.raises(TypeError, match="complex128"):
        as_dtype(np.complex128)


def test_constants_take_tfs_default_dtypes(graph):
    assert fg.constant(1.5).dtype is fg.float32
    assert fg.constant(3).dtype is fg.int32
    assert fg.constant(True).dtype is fg.bool
    assert fg.constant(np.zeros(2)).dtype is fg.float64  # NumPy arrays keep their dtype


@pytest.mark.parametrize("dtype", [fg.float16, fg.float64, fg.int8, fg.int64, fg.uint8])
def test_python_scalars_take_the_tensor_dtype(graph, dtype):
    x = fg.placeholder(dtype, [2])
    assert (x + 1).dtype is dtype
    assert (2 * x).dtype is dtype


def test_fractional_scalar_next_to_int_tensor_is_refused(graph):
    x = fg.placeholder(fg.int32, [2])
    with pytest.raises(TypeError, match="Add.*fractional"):
        x + 1.5


def test_mixed_tensor_dtypes_are_refused_naming_the_op(graph):
    a = fg.placeholder(fg.float32, [2], name="a")
    b = fg.placeholder(fg.float64, [2], name="b")
    with pytest.raises(TypeError, match=r"float64.*float32[\s\S]*Add op 'add'"):
        fg.add(a, b, name="add")


def test_tensorshape_basics():
    s = TensorShape([None, 3])
    assert s.rank == 2 and not s.is_fully_defined()
    assert s.is_compatible_with([5, 3]) and not s.is_compatible_with([5, 4])
    assert s.merge_with([5, None]) == TensorShape([5, 3])
    assert str(s) == "[?,3]"
    assert TensorShape(None).rank is None
    assert TensorShape(None).is_compatible_with([1, 2, 3])
    assert TensorShape([2, 3]).num_elements() == 6
    with pytest.raises(ValueError, match="not compatible"):
        s.merge_with([1, 2])


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([3, 1], [1, 4], [3, 4]),
        ([None, 1], [5], [None, 5]),
        ([None], [None], [None]),
        ([], [2, 3], [2, 3]),
        ([1], [None], [None]),
    ],
)
def test_broadcast_shapes(a, b, expected):
    assert broadcast_shapes(TensorShape(a), TensorShape(b)) == TensorShape(expected)


def test_broadcast_shapes_incompatible():
    with pytest.raises(ValueError, match=r"\[3\].*\[4\]"):
        broadcast_shapes(TensorShape([3]), TensorShape([4]))
