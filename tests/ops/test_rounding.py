"""floor, ceil, round, is_nan, is_inf, is_finite (ops/rounding.py) against NumPy, on every
backend; they take no gradient, as in TF."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.errors import DTypeError
from flowgraph.ops import rounding

VALUES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.7, -3.2, 0.0, np.inf, -np.inf, np.nan])

CASES = [
    (rounding.floor, np.floor),
    (rounding.ceil, np.ceil),
    (rounding.round, np.round),  # half to even, as TF
    (rounding.is_nan, np.isnan),
    (rounding.is_inf, np.isinf),
    (rounding.is_finite, np.isfinite),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op, reference", CASES, ids=[c[0].__name__ for c in CASES])
def test_matches_numpy(op, reference, dtype):
    x = fg.placeholder(fg.as_dtype(dtype), [None])
    out = op(x)
    got = fg.Session().run(out, {x: VALUES.astype(dtype)})
    np.testing.assert_array_equal(got, reference(VALUES.astype(dtype)))
    assert got.dtype == out.dtype.as_numpy_dtype
    assert fg.gradients(fg.reduce_sum(fg.cast(out, x.dtype)), [x]) == [None]


def test_round_keeps_integers_and_the_others_need_floats():
    x = fg.placeholder(fg.int32, [3])
    assert fg.Session().run(rounding.round(x), {x: [1, -2, 3]}).tolist() == [1, -2, 3]
    with pytest.raises(DTypeError, match="floating-point"):
        rounding.floor(fg.constant([1, 2]))
    with pytest.raises(DTypeError, match="floating-point"):
        rounding.is_nan(fg.constant([1, 2]))
