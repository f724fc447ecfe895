"""The side-by-side account (flowgraph/dynamic/compare.py): the seed MLP trained in both modes
from the same weights gives the same numbers, and the op counts say what each mode does per
step. Times are reported, never asserted (benchmarks/ measures speed)."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph.dynamic as fd
from flowgraph.dynamic import compare, tape
from flowgraph.dynamic.compare import compare_mlp_step, counting_kernels

PLANS = "plans compiled (init, step, profiled step)"


@pytest.fixture(scope="module")
def sgd():
    return compare_mlp_step(batch=20, steps=3, profiled_steps=2, seed=1)


def test_both_modes_give_the_same_losses_and_weights(sgd):
    assert sgd.agree
    assert len(sgd.static_losses) == len(sgd.dynamic_losses) == 5
    np.testing.assert_allclose(sgd.dynamic_losses, sgd.static_losses, rtol=1e-4, atol=1e-6)
    assert sgd.max_weight_difference < 1e-5
    assert sgd.static_losses[-1] < sgd.static_losses[0]  # it trains


def test_static_builds_once_and_dynamic_builds_every_step(sgd):
    s, d = sgd.static, sgd.dynamic
    assert s.ops_built_per_step == 0 and d.ops_built_once == 0
    assert s.ops_built_once >= s.ops_executed_per_step > 0  # the graph holds what runs
    assert s.detail[PLANS] == 3  # one step plan reused, plus init and the profiled variant
    # Each step, dynamic mode builds every op it runs, and gradient ops it never runs.
    assert d.ops_built_per_step >= d.ops_executed_per_step > 0
    built = sgd.steps + sgd.profiled_steps
    assert d.ops_built_per_step * built > s.ops_built_once  # a few steps out-build the graph


def test_the_op_counts_add_up(sgd):
    s, d = sgd.static, sgd.dynamic
    # fc1, relu, fc2, cross-entropy, mean: the ops that carry a gradient are on the tape.
    assert d.detail["tape nodes recorded"] == 7
    assert d.detail["forward kernels"] >= d.detail["tape nodes recorded"]
    assert d.detail["forward kernels"] + d.detail["backward kernels"] == d.ops_executed_per_step
    unused = d.detail["gradient ops built but never run"]
    assert unused >= 0
    assert d.ops_built_per_step == d.ops_executed_per_step + unused
    # The static step also runs the optimizer's update ops (one per variable); the dynamic
    # optimizer updates arrays in NumPy, outside the op library.
    assert s.ops_executed_per_step > d.detail["backward kernels"]


def test_times_are_reported(sgd):
    for stats in (sgd.static, sgd.dynamic):
        assert stats.step_time > 0 and stats.first_step_time > 0
        assert stats.kernel_time is not None and stats.kernel_time > 0
        assert stats.python_time is not None
        # The split adds up to the step time shown, so kernels never exceed the step (issue 15)
        assert stats.kernel_time <= stats.step_time
        assert abs(stats.kernel_time + stats.python_time - stats.step_time) < 1e-12


def test_the_report_reads_as_a_table(sgd):
    text = str(sgd)
    assert "batch 20, sgd, 3 steps + 2 profiled: losses and weights agree" in text
    for row in ("ops executed", "ops built", "step time (median, ms)", "in kernels", "in Python"):
        assert row in text
    line = next(x for x in text.splitlines() if x.startswith("ops built "))
    assert line.split()[-2:] == ["0", str(sgd.dynamic.ops_built_per_step)]


def test_adam_compares_losses_and_says_why_not_weights():
    report = compare_mlp_step(batch=20, steps=2, profiled_steps=1, optimizer="adam")
    assert report.agree and report.optimizer == "adam"
    np.testing.assert_allclose(report.dynamic_losses, report.static_losses, rtol=5e-3)
    assert any("epsilon" in note for note in report.notes)
    assert "adam" in str(report) and ": losses agree" in str(report)


def test_counting_kernels_counts_and_restores():
    prepared = tape._PREPARED
    x = fd.tensor([1.0, -2.0], requires_grad=True)
    with counting_kernels() as counter:
        y = fd.relu(x * 3.0).sum()
        forward = counter.snapshot()
        y.backward()
    assert forward[:2] == (3, 3)  # Mul, Relu, Sum: built and run
    assert counter.kernels > forward[1] and counter.kernel_ns > 0
    assert counter.by_type["Relu"] == 1
    assert tape.kernel_profiler is None and tape._PREPARED is prepared  # the hook is off again
    with counting_kernels() as again:
        fd.relu(x * 3.0)
    assert again.kernels == 2  # kernels bound while profiling are not reused unprofiled
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="optimizer must be"):
        compare_mlp_step(optimizer="rmsprop")
    with pytest.raises(ValueError, match="at least 1"):
        compare_mlp_step(steps=0)
    assert compare.D_IN == 784
