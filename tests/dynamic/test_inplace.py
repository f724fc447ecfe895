"""In-place operations: PyTorch's semantics, the leaf rule and the version check."""

import math

import numpy as np
import pytest

import flowgraph.dynamic as torch


def test_augmented_operators_update_storage_under_no_grad():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    alias = w  # the same object: a rebinding `p = p - ...` would leave alias unchanged
    (w * w).sum().backward()
    with torch.no_grad():
        for p in [w]:
            p -= 0.25 * p.grad
            p *= 2.0
            p /= 4.0
            p += 1.0
    assert alias is w and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(
        w.numpy() if not w.requires_grad else w.detach().numpy(), [1.25, 1.5]
    )


def test_view_sees_in_place_change():
    x = torch.zeros(2, 3)
    v = x.view(6)
    x.add_(1.0).mul_(3.0).clamp_(max=2.0)
    assert v.tolist() == [2.0] * 6


@pytest.mark.parametrize(
    "update",
    [
        lambda w: w.add_(1.0),
        lambda w: w.sub_(1.0),
        lambda w: w.mul_(2.0),
        lambda w: w.div_(2.0),
        lambda w: w.zero_(),
        lambda w: w.fill_(3.0),
        lambda w: w.copy_(torch.ones(2)),
        lambda w: w.clamp_(0.0, 1.0),
        lambda w: w.__iadd__(1.0),
        lambda w: w.__setitem__(0, 5.0),
    ],
)
def test_leaf_requiring_grad_refuses_in_place_with_grad_on(update):
    w = torch.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in"):
        update(w)
    assert w.tolist() == [0.5, 2.0]
    with torch.no_grad():
        update(w)  # allowed under no_grad
    assert w.is_leaf


def test_modified_saved_tensor_is_detected_at_backward():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1.0
    b = a * a  # saves a
    a.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        b.sum().backward()
    assert "input 0 of MulBackward" in str(info.value)
    x2 = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x2.exp()  # Exp's gradient reads its output
    with torch.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_leaf_changed_after_use_is_detected():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with torch.no_grad():
        w -= 0.1  # e.g. optimizer.step() before loss.backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_in_place_on_computed_tensor_is_recorded():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y += 1.0
    y.mul_(y)  # y = (2x + 1)^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * (2 * np.array([1.0, 2.0]) + 1))
    assert y.grad_fn.type == "Mul"
    buf = torch.zeros(2)
    buf += x * 3.0  # a plain tensor given a value that requires grad takes its history
    assert buf.requires_grad and not buf.is_leaf
    x.grad = None
    buf.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_index_assignment_with_gradient():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    v = torch.tensor([10.0], requires_grad=True)
    y[1] = v * 2.0
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert y.tolist() == [1.0, 20.0, 3.0]
    assert x.grad.tolist() == [1.0, 0.0, 3.0] and v.grad.tolist() == [4.0]
    plain = torch.zeros(2, 3)
    plain[plain == 0] = 1.0
    plain[:, torch.tensor([0, 2])] = 7.0
    assert plain.tolist() == [[7.0, 1.0, 7.0], [7.0, 1.0, 7.0]]


def test_dtype_and_shape_rules():
    t = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type float32 can't be cast"):
        t += 1.5
    with pytest.raises(RuntimeError, match="result type float32 can't be cast"):
        t /= 2
    t *= 3
    assert t.tolist() == [3, 6] and t.dtype is torch.int64
    f = torch.zeros(3)
    f += torch.tensor([1, 2, 3])  # int into float: allowed
    assert f.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast"):
        f.add_(torch.ones(2, 3))
    f.copy_(torch.tensor([7, 8, 9]))  # copy_ casts
    assert f.tolist() == [7.0, 8.0, 9.0]


def test_polynomial_fit_with_manual_updates_trains():
    # The tutorial idiom: fit sin(x) with a cubic, updating the weights in place; it must
    # follow the hand-derived NumPy updates step for step (rebinding would leave it at the start).
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    start = np.array([0.3, -0.2, 0.1, 0.05], dtype=np.float32)
    a, b, c, d = (torch.tensor(v, requires_grad=True) for v in start)
    xs, ys, ref = x.numpy(), y.numpy(), start.copy()
    learning_rate = 1e-6
    for _ in range(300):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
        g = 2 * (ref[0] + ref[1] * xs + ref[2] * xs**2 + ref[3] * xs**3 - ys)
        ref -= learning_rate * np.array([(g * xs**k).sum() for k in range(4)])
    got = np.array([p.item() for p in (a, b, c, d)])
    np.testing.assert_allclose(got, ref, rtol=1e-3)
    assert loss.item() < 400.0  # from ~4,000 at the start
