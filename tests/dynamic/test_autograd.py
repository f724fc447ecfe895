"""backward() over the tape (flowgraph/dynamic/autograd.py, tape.py): PyTorch's semantics for
leaves, accumulation, grad mode, retained and freed graphs, non-leaf gradients, gradients of
gradients, and a tape that frees itself."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd


def leaf(values, dtype=fd.float64):
    return fd.tensor(values, dtype=dtype, requires_grad=True)


# ---- basics -------------------------------------------------------------------------------------


def test_backward_of_a_scalar_fills_leaf_grads():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([[0.5], [-1.0], [2.0]])
    y = (x @ w).sum() + (x * x).mean()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), w.value[:, 0] + 2 * x.value / 3)
    np.testing.assert_allclose(w.grad.numpy(), x.value[:, None])
    assert x.grad.dtype is fd.float64 and not x.grad.requires_grad and x.grad.is_leaf


def test_broadcasting_is_reduced_to_each_leafs_shape():
    x = leaf(np.ones((4, 3)))
    b = leaf([1.0, 2.0, 3.0])
    s = leaf(2.0)
    ((x + b) * s).sum().backward()
    assert b.grad.shape == (3,) and b.grad.tolist() == [8.0, 8.0, 8.0]
    assert s.grad.shape == () and s.grad.item() == (4 * 3 + 4 * 6)


def test_a_tensor_used_twice_sums_both_paths():
    x = leaf(3.0)
    (x * x + x).backward()
    assert x.grad.item() == 7.0


def test_backward_on_a_leaf_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_gradients_accumulate_and_can_be_zeroed():
    x = leaf([1.0, 2.0])
    for _ in range(3):
        (x * x).sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]
    held = x.grad
    x.grad.zero_()
    assert held.tolist() == [0.0, 0.0] and x.grad is held
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    x.grad = None
    (2.0 * x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_an_add_giving_one_gradient_to_two_leaves_does_not_alias_them():
    a, b = leaf([1.0]), leaf([1.0])
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0]
    (a + b).sum().backward()
    assert a.grad.tolist() == [1.0] and b.grad.tolist() == [2.0]


def test_the_callers_gradient_seed_is_never_adopted():
    x = leaf([1.0, 2.0])
    seed = fd.tensor([1.0, 1.0], dtype=fd.float64)
    (x + 0.0).backward(seed)
    x.grad.zero_()
    assert seed.tolist() == [1.0, 1.0]


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    y.backward(fd.tensor([1.0, 10.0], dtype=fd.float64))
    assert x.grad.tolist() == [3.0, 30.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 3.0).backward(fd.ones(3, dtype=fd.float64))


def test_backward_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fd.tensor([1.0]).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        fd.tensor([1, 2], requires_grad=True)


def test_integer_paths_get_no_gradient():
    x = leaf([1.5, 2.5])
    y = (x * x.long().double()).sum()  # the cast to int cuts the second path
    y.backward()
    assert x.grad.tolist() == [1.0, 2.0]


# ---- grad mode, detach -------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = leaf([1.0])
    with fd.no_grad():
        y = x * 2.0
        assert not fd.is_grad_enabled()
        with fd.enable_grad():
            z = x * 2.0
    assert fd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert z.requires_grad and z.grad_fn.type == "Mul"


def test_no_grad_as_a_decorator_and_set_grad_enabled():
    @fd.no_grad()
    def double(t):
        return t * 2.0

    x = leaf([1.0])
    assert not double(x).requires_grad and fd.is_grad_enabled()
    with fd.set_grad_enabled(False):
        assert not (x + 1.0).requires_grad


def test_detach_cuts_the_tape_and_shares_the_value():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.value is y.value
    (d * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    assert not x.data.requires_grad and x.data.value is x.value


def test_requires_grad_only_changes_on_leaves():
    x = leaf([1.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    z = fd.tensor([1.0]).requires_grad_()
    assert z.requires_grad


# ---- retained and freed graphs ------------------------------------------------------------------


def test_second_backward_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(x.value) * (1 + x.value)))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.grad_fn.inputs  # noqa: B018 - the saved tensors are gone


def test_non_leaf_grad_is_none_with_a_warning_unless_retained():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    k = h * 1.0
    (h * h + k).sum().backward()
    assert h.grad.tolist() == [7.0, 13.0]
    with pytest.warns(UserWarning, match="not a leaf"):
        assert k.grad is None
    assert h.retains_grad and not k.retains_grad


def test_create_graph_gives_differentiable_gradients():
    x = leaf(0.7)
    y = x.tanh() * x.exp()
    (g,) = fd.grad(y, [x], create_graph=True)
    t, e = np.tanh(0.7), np.exp(0.7)
    np.testing.assert_allclose(g.item(), (1 - t * t) * e + t * e)
    assert g.requires_grad and g.grad_fn is not None
    g.backward()  # d2y/dx2
    expected = -2 * t * (1 - t * t) * e + 2 * (1 - t * t) * e + t * e
    np.testing.assert_allclose(x.grad.item(), expected)


def test_backward_with_create_graph_and_third_derivatives():
    x = leaf(2.0)
    y = x**4
    y.backward(create_graph=True)
    g1 = x.grad
    assert g1.item() == 32.0 and g1.requires_grad
    (g2,) = fd.grad(g1, [x], create_graph=True)
    (g3,) = fd.grad(g2, [x])
    assert g2.item() == 48.0 and g3.item() == 48.0 and not g3.requires_grad


def test_double_backward_through_softmax_cross_entropy():
    logits = leaf([[0.2, -0.4, 1.0]])
    labels = fd.tensor([[0.0, 0.0, 1.0]], dtype=fd.float64)
    with fd.eager():
        loss = fg.reduce_sum(
            fg.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        )
    (g,) = fd.grad(loss, [logits], create_graph=True)
    (g * g).sum().backward()
    p = np.exp(logits.value) / np.exp(logits.value).sum()
    d = p - labels.value  # the gradient; its square's gradient is 2 J d, J = diag(p) - p p^T
    jac = np.diag(p[0]) - np.outer(p[0], p[0])
    np.testing.assert_allclose(logits.grad.numpy()[0], 2 * jac @ d[0], rtol=1e-10)


def test_grad_of_unused_input():
    x, z = leaf(1.0), leaf(2.0)
    with pytest.raises(RuntimeError, match="not have been used"):
        fd.grad(x * 2.0, [x, z])
    gx, gz = fd.grad(x * 2.0, [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None and x.grad is None


# ---- the tape frees itself ----------------------------------------------------------------------


def _chain(a):
    h = (a * 2.0).tanh()
    return (h.exp() * h).sum()


def test_backward_frees_the_saved_tensors():
    a = leaf(np.ones((50, 50)))
    loss = _chain(a)
    root = loss.grad_fn
    inner = weakref.ref(root.inputs[0].grad_fn)
    saved = weakref.ref(root.inputs[0])
    loss.backward()
    assert root.freed and inner() is None and saved() is None  # released at once, no gc


def test_dropping_the_loss_frees_its_nodes_without_backward():
    a = leaf(np.ones((50, 50)))
    loss = _chain(a)
    nodes = {}
    stack = [loss.grad_fn]
    while stack:
        node = stack.pop()
        nodes[node._id] = weakref.ref(node)
        stack.extend(n for n, _ in node.next_functions if n is not None and hasattr(n, "_id"))
    nodes = list(nodes.values())
    assert len(nodes) == 5
    del loss, node, stack
    assert all(ref() is None for ref in nodes)  # no reference cycles: freed without gc
    gc.collect()
    assert all(ref() is None for ref in nodes)


def test_outputs_saved_by_a_node_do_not_keep_the_output_tensor_alive():
    a = leaf([1.0, 2.0])
    y = a.exp()
    node = y.grad_fn
    ref = weakref.ref(y)
    del y
    assert ref() is None
    np.testing.assert_allclose(node.outputs[0].value, np.exp([1.0, 2.0]))  # the value stays


def test_a_long_chain_backpropagates_iteratively():
    x = leaf(1.0)
    y = x
    for _ in range(3000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


# ---- tape_to_graph -------------------------------------------------------------------------------


def test_tape_to_graph_rebuilds_the_recorded_ops():
    fd.manual_seed(0)
    w = fd.Parameter(fd.randn(3, 2))
    b = fd.Parameter(fd.zeros(2))
    x = fd.randn(4, 3)
    logits = fd.relu(x @ w + b)
    loss = fd.log_softmax(logits, dim=1).mean()
    graph, tensors = fd.tape_to_graph(loss)
    types = [op.type for op in graph.get_operations()]
    assert types == [
        "Const", "Placeholder", "MatMul", "Placeholder", "Add", "Relu", "LogSoftmax", "Mean"
    ]  # fmt: skip
    assert tensors[w].op.type == "Placeholder" and tensors[x].op.type == "Const"
    with fg.Session(graph=graph) as sess:
        value = sess.run(tensors[loss], {tensors[w]: w.value, tensors[b]: b.value})
    np.testing.assert_allclose(value, loss.item(), rtol=1e-6)


def test_tape_to_graph_after_backward_needs_retain_graph():
    x = leaf([1.0])
    y = (x * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        fd.tape_to_graph(y)


def test_backward_skips_gradients_nobody_needs(monkeypatch):
    from flowgraph.dynamic import tape
    from flowgraph.ops.registry import get_op_def

    ran = []
    matmul = get_op_def("MatMul")
    kernel = matmul.kernel

    def spy(*args, **kwargs):
        ran.append("MatMul")
        return kernel(*args, **kwargs)

    monkeypatch.setattr(matmul, "kernel", spy)
    tape.clear_prepared()  # bound kernels are remembered: bind the spy
    monkeypatch.setattr(tape, "_PREPARED", {})  # and forget it after the test
    x = fd.randn(5, 4)  # data: needs no gradient
    w = leaf(np.ones((4, 3)), fd.float32)
    loss = (x @ w).sum()
    assert ran.count("MatMul") == 1
    loss.backward()
    assert ran.count("MatMul") == 2  # d loss / d w only; the rule's d loss / d x never ran
    np.testing.assert_allclose(w.grad.numpy(), np.repeat(x.value.sum(0)[:, None], 3, 1))
