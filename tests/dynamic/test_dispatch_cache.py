"""Dynamic mode remembers shape-rule results for ops whose rule reads only shapes, dtypes and
attrs (flowgraph/dynamic/tape.py ``_specs``); these check it never changes what ops do."""

import numpy as np
import pytest

import flowgraph.dynamic as torch
from flowgraph.dynamic import tape
from flowgraph.errors import InvalidArgumentError, ShapeError


def test_results_follow_each_call_s_shapes_and_dtypes():
    tape._SPECS.clear()
    for rows in (2, 4, 2):
        a = torch.tensor(np.ones((rows, 3)))
        b = torch.tensor(np.arange(3.0))
        assert (a + b).shape == (rows, 3) and torch.tanh(a).shape == (rows, 3)
    f32 = torch.tensor(np.ones((2, 3), np.float32)) + torch.tensor(np.ones(3, np.float32))
    assert f32.dtype is torch.float32
    keys = [k for k in tape._SPECS if k[0] == "Add"]
    assert len(keys) == 3  # (2,3)+(3,) and (4,3)+(3,) in float64, and the float32 one


def test_a_failing_shape_rule_is_not_remembered_and_names_the_line_each_time():
    a, b = torch.tensor(np.ones((2, 3))), torch.tensor(np.ones((4,)))
    for _ in range(2):
        with pytest.raises(ShapeError, match=r"test_dispatch_cache.py:\d+"):
            a + b
    assert not [k for k in tape._SPECS if k[0] == "Add" and (4,) in [s for s, _ in k[1:]]]


def test_ops_whose_rule_reads_input_values_are_never_remembered():
    x = torch.tensor(np.arange(6.0))
    assert x.reshape(2, 3).shape == (2, 3) and x.reshape(3, 2).shape == (3, 2)
    assert not [k for k in tape._SPECS if k[0] == "Reshape"]


def test_unhashable_attributes_just_skip_the_cache(monkeypatch):
    from flowgraph.ops.registry import get_op_def

    matmul = get_op_def("MatMul")
    a = torch.tensor(np.ones((2, 3)))
    b = torch.tensor(np.ones((3, 4)))
    out = tape.execute(matmul, [a, b], {"transpose_a": False, "transpose_b": []}, "m")
    assert out.shape == (2, 4)


def test_equal_attrs_of_other_types_are_remembered_apart():
    # 1 == 1.0 == True hash alike; a kernel bound with one must not run for the other.
    from flowgraph.ops.registry import get_op_def

    tape.clear_prepared()
    mean = get_op_def("Mean")
    x = torch.tensor(np.array([-2.0, 3.0]))
    for keepdims in (1, True):
        tape.execute(mean, [x], {"axis": None, "keepdims": keepdims}, "Mean")
    assert len([k for k in tape._PREPARED if k[0] == "Mean"]) == 2
    with pytest.raises(InvalidArgumentError, match="integer argument expected"):
        tape.execute(mean, [x], {"axis": None, "keepdims": 1.0}, "Mean")  # NumPy's own refusal


def _mlp_step():
    """One PyTorch-style step of a small MLP: forward, backward (its gradient ops deferred)."""
    rng = np.random.default_rng(0)
    fc1, fc2 = torch.nn.Linear(6, 5), torch.nn.Linear(5, 3)
    x = torch.tensor(rng.random((4, 6), dtype=np.float32))
    target = torch.tensor(np.array([0, 2, 1, 2]))

    def step():
        loss = torch.nn.functional.cross_entropy(fc2(torch.relu(fc1(x))), target)
        loss.backward()
        return fc1.weight.grad.value.copy()

    return step


def test_a_training_step_runs_no_shape_rule_after_the_first(monkeypatch):
    # Forward ops and backward()'s deferred gradient ops alike: after the first step the
    # shape rules' results are remembered (the loss gradient's ExpandDims and MeanGrad too).
    from flowgraph.ops import registry

    calls = []
    for op_def in registry._OP_DEFS.values():
        monkeypatch.setattr(
            op_def,
            "infer",
            lambda i, a, rule=op_def.infer, t=op_def.type: calls.append(t) or rule(i, a),
        )
    tape.clear_prepared()
    step = _mlp_step()
    first = step()
    assert {"MatMul", "ExpandDims", "MeanGrad", "ReluGrad"} <= set(calls)
    calls.clear()
    assert np.allclose(step(), 2 * first)  # gradients accumulate
    assert calls == []


def test_forgetting_kernels_reaches_backward_and_a_failing_gradient_kernel_is_named(monkeypatch):
    # backward() remembers its gradient ops' NumPy kernels; clear_prepared() forgets them, so a
    # replaced kernel runs -- and when it fails, the error names the gradient op.
    from flowgraph.ops.registry import get_op_def

    step = _mlp_step()
    step()
    step()

    def broken(xp, *values, **attrs):
        raise ValueError("broken on purpose")

    monkeypatch.setattr(get_op_def("ReluGrad"), "kernel", broken)
    tape.clear_prepared()
    with pytest.raises(InvalidArgumentError, match=r"(?s)ReluGrad.*broken on purpose"):
        step()
    tape.clear_prepared()
