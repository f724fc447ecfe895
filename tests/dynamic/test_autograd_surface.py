"""Autograd as PyTorch shows it: grad_fn and next_functions as (node, index) pairs, leaves as
AccumulateGrad, requires_grad_, torch.autograd.grad, and torch.autograd.Function."""

import numpy as np
import pytest

import flowgraph.dynamic as torch


def test_next_functions_are_node_index_pairs():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    x = torch.tensor([3.0, 4.0])
    values, indices = torch.sort(w * x)
    loss = values.sum() + (w * 2.0).sum()
    add = loss.grad_fn
    assert add.type == "Add" and len(add.next_functions) == 2
    (sum_node, i0), (other_sum, i1) = add.next_functions
    assert (i0, i1) == (0, 0) and sum_node.type == "Sum"
    _, index = sum_node.next_functions[0]
    assert index == 0  # values is output 0 of the sort's node
    mul = (w * x).grad_fn
    (leaf, leaf_index), (const, const_index) = mul.next_functions
    assert type(leaf).__name__ == "AccumulateGrad" and leaf.variable is w and leaf_index == 0
    assert const is None and const_index == 0
    assert indices.grad_fn is None  # integer outputs carry no gradient


def test_requires_grad_and_autograd_grad():
    x = torch.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = (x**2).sum()
    (g,) = torch.autograd.grad(y, x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None
    with pytest.raises(RuntimeError, match="Only Tensors of floating point dtype"):
        torch.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (x * 2).requires_grad_(False)


class Clamped(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, low, scale):
        ctx.save_for_backward(x)
        ctx.low = low
        return torch.clamp(x, min=low) * scale

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > ctx.low).double() * 3.0, None, None


def test_custom_function_gradient_matches_autograd():
    values = np.array([-1.0, 0.5, 2.0])
    a = torch.tensor(values, requires_grad=True)
    out = Clamped.apply(a, 0.0, 3.0)
    assert out.grad_fn is not None and out.grad_fn.name == "Clamped"
    (out * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    b = torch.tensor(values, requires_grad=True)
    (
        torch.clamp(b, min=0.0) * 3.0 * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    ).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    with torch.no_grad():
        assert Clamped.apply(a, 0.0, 1.0).grad_fn is None


def test_deepcopy_of_leaves_and_modules():
    import copy

    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w2 = copy.deepcopy(w)
    assert w2 is not w and w2.requires_grad and w2.grad.tolist() == [2.0, 4.0]
    with torch.no_grad():
        w2 += 1.0
    assert w.tolist() == [1.0, 2.0]  # its own storage
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    clone = copy.deepcopy(model)
    assert (
        isinstance(clone[0].weight, torch.nn.Parameter) and clone[0].weight is not model[0].weight
    )
    np.testing.assert_array_equal(
        clone[0].weight.detach().numpy(), model[0].weight.detach().numpy()
    )
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(w * 2)


class _Product(torch.autograd.Function):
    grads = ()  # what backward returns, set by each test

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, g):
        return _Product.grads


@pytest.mark.parametrize("count", [1, 3])
def test_a_custom_backward_with_the_wrong_gradient_count_is_refused_as_pytorch_does(count):
    x = torch.tensor([2.0], requires_grad=True)
    _Product.grads = tuple(torch.ones(1) for _ in range(count))
    with pytest.raises(
        RuntimeError,
        match=f"_ProductBackward returned an incorrect number of "
        f"gradients \\(expected 2, got {count}\\)",
    ):
        _Product.apply(x, x).sum().backward()


def test_a_custom_backward_may_end_with_extra_nones():
    x, y = torch.tensor([2.0], requires_grad=True), torch.tensor([5.0], requires_grad=True)
    _Product.grads = (torch.tensor([7.0]), torch.tensor([1.0]), None)
    _Product.apply(x, y).sum().backward()
    assert x.grad.tolist() == [7.0] and y.grad.tolist() == [1.0]
