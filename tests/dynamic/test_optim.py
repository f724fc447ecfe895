"""flowgraph.dynamic.optim: several steps of SGD and Adam against hand-written NumPy versions
of PyTorch's update formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.optim as optim

TARGET = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])


def loss_grad(p):
    """The loss is sum((p - TARGET) ** 3 / 3) + sum(p ** 2): its gradient, in NumPy."""
    return (p - TARGET) ** 2 + 2 * p


def run(optimizer_cls, steps, **kwargs):
    """``steps`` updates of a float64 parameter by flowgraph's optimizer; its value each step."""
    p = torch.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    opt = optimizer_cls([p], **kwargs)
    values = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((p - torch.tensor(TARGET)) ** 3 / 3).sum() + (p * p).sum()
        loss.backward()
        np.testing.assert_allclose(p.grad.numpy(), loss_grad(p.detach().numpy()), rtol=1e-12)
        opt.step()
        values.append(p.detach().numpy().copy())
    return values


def reference_sgd(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, values = np.linspace(-1, 1, 6).reshape(2, 3), None, []
    for _ in range(steps):
        g = loss_grad(p) + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        values.append(p)
    return values


def reference_adam(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    p = np.linspace(-1, 1, 6).reshape(2, 3)
    m, v, v_max, values = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = loss_grad(p) + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        denom = np.sqrt(v_max if amsgrad else v) / math.sqrt(1 - b2**t) + eps
        p = p - lr / (1 - b1**t) * m / denom
        values.append(p)
    return values


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, nesterov=True),
        dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.01),
    ],
)
def test_sgd_matches_pytorch_formulas(kwargs):
    for ours, ref in zip(run(optim.SGD, 6, **kwargs), reference_sgd(6, **kwargs)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(lr=0.1, betas=(0.8, 0.99)),
        dict(lr=0.01, weight_decay=0.1, eps=1e-3),
        dict(lr=0.05, amsgrad=True),
    ],
)
def test_adam_matches_pytorch_formulas(kwargs):
    for ours, ref in zip(run(optim.Adam, 8, **kwargs), reference_adam(8, **kwargs)):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-14)


def test_first_adam_step_moves_each_weight_by_lr():
    p = torch.tensor(np.array([3.0, -2.0, 0.5]), requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    (p * p).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [2.99, -1.99, 0.49], rtol=1e-6)


def test_updates_are_in_place_and_skip_params_without_grad():
    layer = nn.Linear(3, 2)
    weight_array = layer.weight.value
    bias_before = layer.bias.detach().numpy().copy()
    opt = optim.SGD(layer.parameters(), lr=0.5)
    layer.weight.grad = torch.tensor(np.ones((2, 3), dtype=np.float32))
    opt.step()
    assert layer.weight.value is weight_array  # the same array, updated in place
    np.testing.assert_array_equal(layer.bias.detach().numpy(), bias_before)


def test_zero_grad_and_param_groups():
    a = torch.tensor(np.ones(2), requires_grad=True)
    b = torch.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    (a + b).sum().backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert not a.grad.numpy().any()
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_with_closure_returns_loss():
    w = torch.tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 1.0
    np.testing.assert_allclose(w.detach().numpy(), [0.5])


def test_bad_arguments():
    p = torch.tensor(np.ones(1), requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="does not require grad"):
        optim.Adam([torch.tensor(np.ones(1))])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_adam_in_place_matches_the_plain_formula_bit_for_bit_with_shared_scratch():
    # Two parameters of one shape share the update's work arrays (issue 15): each must still
    # get exactly PyTorch's update, computed as plain expressions here.
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal((5, 7)).astype(np.float32) for _ in range(2)]
    params = [torch.tensor(w.copy(), requires_grad=True) for w in starts]
    opt = torch.optim.Adam(params, lr=0.01)
    refs = [w.copy() for w in starts]
    textbook = [w.copy() for w in starts]
    moments = [(np.zeros_like(w), np.zeros_like(w)) for w in starts]
    for t in range(1, 16):
        grads = [rng.standard_normal((5, 7)).astype(np.float32) for _ in params]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
        for ref, book, (m, v), g in zip(refs, textbook, moments, grads):
            m += (1 - 0.9) * (g - m)
            v *= 0.999
            v += (1 - 0.999) * g * g
            # The corrections folded into the step size and eps, as the optimizer does ...
            root_bc2 = math.sqrt(1 - 0.999**t)
            ref -= (0.01 * root_bc2 / (1 - 0.9**t)) * (m / (np.sqrt(v) + 1e-8 * root_bc2))
            # ... which is PyTorch's formula up to float32 rounding.
            book -= (0.01 / (1 - 0.9**t)) * m / (np.sqrt(v) / math.sqrt(1 - 0.999**t) + 1e-8)
    for p, ref, book in zip(params, refs, textbook):
        np.testing.assert_array_equal(p.value, ref)
        np.testing.assert_allclose(p.value, book, rtol=2e-6, atol=1e-7)


def _two_params(rng):
    return [
        torch.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True),
        torch.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True),
    ]


def test_adam_keeps_a_group_s_moments_in_flat_buffers_with_the_per_parameter_result():
    # One group of two parameters takes the grouped (foreach) path; one group per parameter
    # takes the per-parameter one: the same values, bit for bit, step after step.
    rng = np.random.default_rng(3)
    grouped, single = _two_params(rng), None
    single = [torch.tensor(p.value.copy(), requires_grad=True) for p in grouped]
    opt = optim.Adam(grouped, lr=0.01)
    reference = optim.Adam([{"params": [p]} for p in single], lr=0.01)
    for _ in range(6):
        for a, b in zip(grouped, single):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad, b.grad = torch.tensor(g), torch.tensor(g.copy())
        opt.step()
        reference.step()
    for a, b in zip(grouped, single):
        np.testing.assert_array_equal(a.value, b.value)
        for key in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(opt.state[id(a)][key], reference.state[id(b)][key])
    moments = [opt.state[id(p)]["exp_avg"] for p in grouped]
    assert moments[0].shape == (3, 4)
    assert moments[0].base is not None and moments[0].base is moments[1].base  # one buffer
    assert [opt.state[id(p)]["step"] for p in grouped] == [6, 6]


def test_grouped_adam_follows_skipped_gradients_and_loaded_state():
    # A parameter without a gradient is skipped (its step count falls behind: per parameter
    # from then on); a loaded state_dict replaces the moments: the next step uses those.
    rng = np.random.default_rng(4)
    grouped = _two_params(rng)
    single = [torch.tensor(p.value.copy(), requires_grad=True) for p in grouped]
    opt = optim.Adam(grouped, lr=0.01)
    reference = optim.Adam([{"params": [p]} for p in single], lr=0.01)
    for step in range(5):
        for a, b in zip(grouped, single):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad, b.grad = torch.tensor(g), torch.tensor(g.copy())
        if step == 2:
            grouped[1].grad = single[1].grad = None
        opt.step()
        reference.step()
    for a, b in zip(grouped, single):
        np.testing.assert_array_equal(a.value, b.value)
    assert [opt.state[id(p)]["step"] for p in grouped] == [5, 4]

    fresh = [_two_params(rng), _two_params(rng)]
    for params in fresh:  # both start at the same values
        for p, q in zip(params, fresh[0]):
            p.value[...] = q.value
    first, second = optim.Adam(fresh[0], lr=0.01), optim.Adam(fresh[1], lr=0.01)
    for params, o in zip(fresh, (first, second)):
        for p in params:
            p.grad = torch.tensor(np.full(p.shape, 0.5, np.float32))
        o.step()
    saved = first.state_dict()
    saved["state"][0]["exp_avg"] = saved["state"][0]["exp_avg"] * 0 + 1.0  # changed moments
    second.load_state_dict(saved)
    first.state[id(fresh[0][0])]["exp_avg"][...] = 1.0
    for params, o in zip(fresh, (first, second)):
        for p in params:
            p.grad = torch.tensor(np.full(p.shape, -0.25, np.float32))
        o.step()
    for p, q in zip(*fresh):
        np.testing.assert_array_equal(p.value, q.value)
