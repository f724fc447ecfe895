"""Learning-rate schedules (flowgraph/train/schedules.py) against NumPy, step by step."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import train

STEPS = [0, 1, 5, 9, 10, 11, 25, 99, 100, 1000]


def values_at(tensor, step, steps=STEPS):
    sess = fg.Session()
    return np.array([sess.run(tensor, {step: s}) for s in steps])


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("step_dtype", [fg.int32, fg.int64])
def test_exponential_decay_matches_the_formula(graph, staircase, step_dtype):
    step = fg.placeholder(step_dtype, [], name="step")
    lr = train.exponential_decay(0.1, step, 10, 0.96, staircase=staircase)
    assert lr.dtype is fg.float32 and lr.shape == fg.TensorShape([])
    assert lr.op.name == "ExponentialDecay"
    exponent = np.array(STEPS) / 10
    if staircase:
        exponent = np.floor(exponent)
    rate = np.float64(np.float32(0.96))  # the float32 decay rate, raised in wide precision
    np.testing.assert_allclose(values_at(lr, step), 0.1 * rate**exponent, rtol=2e-6)


def test_exponential_decay_in_float64_with_tensor_arguments(graph):
    step = fg.placeholder(fg.int64, [])
    lr = train.exponential_decay(
        fg.constant(0.5, fg.float64), step, fg.constant(3), fg.constant(0.5), name="lr"
    )
    assert lr.dtype is fg.float64 and lr.op.name == "lr"
    expected = 0.5 * 0.5 ** (np.array(STEPS) / 3)
    np.testing.assert_allclose(values_at(lr, step), expected, rtol=1e-12)


def test_exponential_decay_needs_a_global_step(graph):
    with pytest.raises(ValueError, match="global_step is required"):
        train.exponential_decay(0.1, None, 10, 0.9)


def test_exponential_decay_follows_the_global_step_of_training(graph):
    global_step = train.get_or_create_global_step()
    lr = train.exponential_decay(1.0, global_step, 2, 0.5, staircase=True)
    w = fg.Variable([0.0], name="w")
    train_op = train.GradientDescentOptimizer(lr).apply_gradients(
        [(fg.constant([1.0]), w)], global_step=global_step
    )
    expected = 0.0
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for i in range(6):
            assert sess.run(lr) == pytest.approx(0.5 ** (i // 2))
            sess.run(train_op)
            expected -= 0.5 ** (i // 2)
        assert sess.run(w)[0] == pytest.approx(expected)
        assert sess.run(global_step) == 6


def piecewise_ref(x, boundaries, values):
    """values[i] for the first boundary x does not exceed; values[-1] beyond the last."""
    for b, v in zip(boundaries, values):
        if x <= b:
            return v
    return values[-1]


@pytest.mark.parametrize("x_dtype", [fg.int32, fg.int64])
def test_piecewise_constant_on_integer_steps(graph, x_dtype):
    boundaries, values = [10, 100], [1.0, 0.5, 0.1]
    step = fg.placeholder(x_dtype, [])
    lr = train.piecewise_constant(step, boundaries, values)
    assert lr.dtype is fg.float32 and lr.op.name == "PiecewiseConstant"
    expected = [piecewise_ref(s, boundaries, values) for s in STEPS]
    np.testing.assert_allclose(values_at(lr, step), expected, rtol=1e-7)


def test_piecewise_constant_on_a_float_with_int_values(graph):
    boundaries, values = [0.5, 1.5, 2.5], [4, 3, 2, 1]
    x = fg.placeholder(fg.float32, [])
    out = train.piecewise_constant(x, boundaries, values, name="pc")
    assert out.dtype is fg.int32 and out.op.name == "pc"
    xs = [-1.0, 0.5, 0.6, 1.5, 2.0, 2.5, 2.6, 10.0]
    expected = [piecewise_ref(v, boundaries, values) for v in xs]
    np.testing.assert_array_equal(values_at(out, x, xs), expected)


def test_piecewise_constant_with_tensor_boundaries_and_values(graph):
    step = fg.placeholder(fg.int64, [])
    out = train.piecewise_constant(
        step, [fg.constant(5), 7], [fg.constant(1.0, fg.float64), 2.0, 3.0]
    )
    assert out.dtype is fg.float64  # int32 boundary tensors are cast to the int64 step
    np.testing.assert_array_equal(values_at(out, step, [4, 5, 6, 7, 8]), [1, 1, 2, 2, 3])


def test_piecewise_constant_with_no_boundaries_is_the_single_value(graph):
    step = fg.placeholder(fg.int64, [])
    out = train.piecewise_constant(step, [], [0.25])
    np.testing.assert_array_equal(values_at(out, step, [0, 100]), [0.25, 0.25])


def test_piecewise_constant_checks_its_arguments(graph):
    step = fg.placeholder(fg.int64, [])
    with pytest.raises(ValueError, match="one more than"):
        train.piecewise_constant(step, [1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="same dtype"):
        train.piecewise_constant(step, [1], [fg.constant(1.0), fg.constant(2)])
    with pytest.raises(ValueError, match="dtype"):
        train.piecewise_constant(step, [fg.constant(1.5)], [1.0, 2.0])
