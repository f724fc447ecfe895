"""Eager tensors (flowgraph/dynamic/tensor.py, methods.py, functions.py, tape.py's executor):
creation, dtypes, shapes, indexing, operators and methods against NumPy, and errors that name
the op and the caller's line."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd
from flowgraph.errors import InvalidArgumentError, ShapeError

A = np.array([[1.0, -5.0, 2.0], [3.0, 2.0, -1.0]], dtype=np.float32)


def line_after(n: int) -> str:
    """``test_tensor.py:<line>`` of the line ``n`` lines below the caller's, as errors quote it."""
    return f"test_tensor.py:{sys._getframe(1).f_lineno + n}"


# ---- creation and dtypes ----------------------------------------------------------------------


def test_tensor_follows_pytorch_default_dtypes():
    assert fd.tensor([1.0, 2.0]).dtype is fd.float32
    assert fd.tensor([1, 2]).dtype is fd.int64 is fd.long
    assert fd.tensor([True]).dtype is fd.bool
    assert fd.tensor(np.zeros(2)).dtype is fd.float64  # NumPy arrays keep their dtype
    assert fd.tensor([1, 2], dtype=fd.float64).dtype is fd.float64
    assert fd.float is fd.float32 and fd.double is fd.float64 and fd.int is fd.int32


def test_the_tensor_class_builds_leaves_too():
    # torch.Tensor is the default (float) tensor type: Tensor([1, 2]) is float32, as in PyTorch
    assert fd.Tensor([1.0, 2]).dtype is fd.float32 and fd.Tensor([1, 2]).dtype is fd.float32
    t = fd.Tensor(np.zeros(2), requires_grad=True)
    assert t.dtype is fd.float64 and t.requires_grad and t.is_leaf


def test_tensor_copies_and_from_numpy_shares():
    data = np.ones(3, np.float32)
    copied, shared = fd.tensor(data), fd.from_numpy(data)
    data[0] = 7
    assert copied.tolist() == [1, 1, 1] and shared.tolist() == [7, 1, 1]


def test_creation_functions():
    assert fd.zeros(2, 3).shape == (2, 3) and fd.zeros((2, 3)).tolist() == [[0] * 3] * 2
    assert fd.ones([2]).dtype is fd.float32
    assert fd.full((2,), 7).tolist() == [7, 7] and fd.full((2,), 7).dtype is fd.int64
    assert fd.zeros_like(fd.tensor([1, 2])).dtype is fd.int64
    assert fd.ones_like(fd.tensor([1.0, 2.0])).tolist() == [1.0, 1.0]
    assert fd.arange(4).tolist() == [0, 1, 2, 3] and fd.arange(4).dtype is fd.int64
    np.testing.assert_allclose(fd.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(fd.eye(2, 3).numpy(), np.eye(2, 3))
    w = fd.zeros(2, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None


def test_random_functions_follow_manual_seed():
    fd.manual_seed(3)
    a = [fd.randn(2, 3), fd.rand(4), fd.randint(0, 5, (6,)), fd.randperm(5)]
    fd.manual_seed(3)
    b = [fd.randn(2, 3), fd.rand(4), fd.randint(0, 5, (6,)), fd.randperm(5)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert a[0].dtype is fd.float32 and a[2].dtype is fd.int64
    assert 0 <= a[1].min().item() and a[1].max().item() < 1
    assert sorted(a[3].tolist()) == [0, 1, 2, 3, 4]
    assert fd.randint(3, (50,)).shape == (50,) and fd.randint(3, size=(50,)).max().item() < 3
    assert not np.array_equal(fd.randn(2, 3).numpy(), a[0].numpy())


def test_dropout_runs_with_the_dynamic_generator():
    fd.manual_seed(0)
    x = fd.ones(1000)
    with fd.eager():
        y = fg.nn.dropout(x, rate=0.5)
    assert set(np.unique(y.numpy())) <= {0.0, 2.0} and 300 < (y == 0.0).sum().item() < 700


# ---- shapes -------------------------------------------------------------------------------------


def test_shape_is_a_tuple_and_a_tensor_shape():
    x = fd.tensor(A)
    s = x.shape
    assert s == (2, 3) and tuple(s) == (2, 3) and s[0] == 2 and s[-1] == 3 and len(s) == 2
    assert (
        s.rank == 2
        and s.dims == (2, 3)
        and s.as_list() == [2, 3]
        and str(s) == "torch.Size([2, 3])"
    )
    assert s.is_fully_defined() and s.num_elements() == 6 and s[1:] == (3,) and s[1:].rank == 1
    assert s.is_compatible_with([None, 3]) and not s.is_compatible_with([3, 3])
    assert s.merge_with([None, 3]) == fg.TensorShape([2, 3]) == s
    assert x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2 and x.numel() == 6
    assert repr(s) == "torch.Size([2, 3])" and hash(s) == hash((2, 3))


@pytest.mark.parametrize(
    "method, expected",
    [
        (lambda x: x.view(-1), A.reshape(-1)),
        (lambda x: x.reshape(3, 2), A.reshape(3, 2)),
        (lambda x: x.view((3, -1)), A.reshape(3, 2)),
        (lambda x: x.t(), A.T),
        (lambda x: x.T, A.T),
        (lambda x: x.transpose(0, 1), A.T),
        (lambda x: x.permute(1, 0), A.T),
        (lambda x: x.unsqueeze(1), A[:, None]),
        (lambda x: x.unsqueeze(0).squeeze(), A),
        (lambda x: x.unsqueeze(0).squeeze(0), A),
        (lambda x: x.squeeze(1), A),  # not size 1: unchanged, as in PyTorch
        (lambda x: x.flatten(), A.reshape(-1)),
        (lambda x: x.unsqueeze(0).flatten(1), A.reshape(1, 6)),
        (lambda x: fd.cat([x, x], 1), np.concatenate([A, A], 1)),
        (lambda x: fd.stack([x, x]), np.stack([A, A])),
    ],
)
def test_shape_methods_match_numpy(method, expected):
    out = method(fd.tensor(A))
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


# ---- indexing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [0, -1, (1, 2), (slice(None), 1), (Ellipsis, None), (slice(None, None, -1),), [1, 0, 1]],
)
def test_indexing_matches_numpy(key):
    np.testing.assert_array_equal(fd.tensor(A)[key].numpy(), A[key])


def test_indexing_with_int_tensors_gathers_and_records():
    x = fd.tensor(A, requires_grad=True)
    rows = x[fd.tensor([1, 1])]
    assert rows.grad_fn.type == "GatherV2"
    rows.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [2, 2, 2]])
    assert x[fd.tensor(1)].tolist() == A[1].tolist()
    assert x[0, fd.tensor(2)].item() == 2.0
    assert fd.tensor(A)[1:, ::2].op.type == "StridedSlice"


def test_setitem_writes_values_outside_the_tape():
    x = fd.zeros(2, 3)
    x[0] = 1.0
    x[1, 2] = fd.tensor(5.0)
    assert x.tolist() == [[1, 1, 1], [0, 0, 5]]


# ---- operators and methods against NumPy -----------------------------------------------------

B = np.array([[2.0, 1.0, 0.5], [4.0, -2.0, 1.0]], dtype=np.float32)


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda a, b: a + b, A + B),
        (lambda a, b: a - 1.5, A - 1.5),
        (lambda a, b: 2 - a, 2 - A),
        (lambda a, b: a * b, A * B),
        (lambda a, b: a / b, A / B),
        (lambda a, b: 1.0 / b, 1.0 / B),
        (lambda a, b: b**2, B**2),
        (lambda a, b: 2.0**a, 2.0**A),
        (lambda a, b: -a, -A),
        (lambda a, b: abs(a), np.abs(A)),
        (lambda a, b: a @ b.t(), A @ B.T),
        (lambda a, b: np.ones(3, np.float32) + a, 1 + A),
        (lambda a, b: a + b[0], A + B[0]),
        (lambda a, b: a.exp(), np.exp(A)),
        (lambda a, b: b.abs().log(), np.log(np.abs(B))),
        (lambda a, b: b.abs().sqrt(), np.sqrt(np.abs(B))),
        (lambda a, b: a.relu(), np.maximum(A, 0)),
        (lambda a, b: a.sigmoid(), 1 / (1 + np.exp(-A))),
        (lambda a, b: a.tanh(), np.tanh(A)),
        (lambda a, b: a.pow(2), A**2),
        (lambda a, b: a.matmul(b.T), A @ B.T),
        (lambda a, b: a.clamp(-1, 1), np.clip(A, -1, 1)),
        (lambda a, b: a.sum(), A.sum()),
        (lambda a, b: a.sum(dim=1), A.sum(1)),
        (lambda a, b: a.sum(1, keepdim=True), A.sum(1, keepdims=True)),
        (lambda a, b: a.sum(dim=(0, 1)), A.sum()),
        (lambda a, b: a.mean(0), A.mean(0)),
        (lambda a, b: a.max(), A.max()),
        (lambda a, b: a.min(), A.min()),
        (lambda a, b: a.max(b), np.maximum(A, B)),
        (lambda a, b: fd.max(a, dim=1).values, A.max(1)),
        (lambda a, b: fd.softmax(a, dim=1), np.exp(A) / np.exp(A).sum(1, keepdims=True)),
        (lambda a, b: fd.log_softmax(a, 0), A - np.log(np.exp(A).sum(0))),
        (lambda a, b: fd.where(a > b, a, b), np.where(A > B, A, B)),
    ],
)
def test_float_operations_match_numpy(fn, expected):
    out = fn(fd.tensor(A), fd.tensor(B))
    assert isinstance(out, fd.Tensor) and out.dtype is fd.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda a, b: a == b, A == B),
        (lambda a, b: a != 2.0, A != 2.0),
        (lambda a, b: a < b, A < B),
        (lambda a, b: a >= 2.0, A >= 2.0),
        (lambda a, b: (a > 0) & (b > 0), (A > 0) & (B > 0)),
        (lambda a, b: (a > 0) | (b > 0), (A > 0) | (B > 0)),
        (lambda a, b: (a > 0) ^ (b > 0), (A > 0) ^ (B > 0)),
        (lambda a, b: ~(a > 0), ~(A > 0)),
        (lambda a, b: a.argmax(), A.argmax()),
        (lambda a, b: a.argmax(dim=1), A.argmax(1)),
        (lambda a, b: a.max(dim=0).indices, A.argmax(0)),
        (lambda a, b: fd.argmax(a, 1, keepdim=True), A.argmax(1)[:, None]),
        (lambda a, b: a.long(), A.astype(np.int64)),
        (lambda a, b: (a == b).sum(), (A == B).sum()),
        (lambda a, b: fd.tensor([7, 2]) // 2, np.array([3, 1])),
        (lambda a, b: fd.tensor([7, 2]) % 3, np.array([1, 2])),
        (lambda a, b: fd.tensor([1, 3]) / fd.tensor([2, 2]), np.array([0.5, 1.5], np.float32)),
    ],
)
def test_comparisons_and_integer_results_match_numpy(fn, expected):
    out = fn(fd.tensor(A), fd.tensor(B))
    assert out.numpy().dtype == np.asarray(expected).dtype or out.dtype is fd.int64
    np.testing.assert_array_equal(out.numpy(), expected)


def test_max_with_dim_returns_values_and_indices():
    values, indices = fd.tensor(A).max(dim=1)
    assert values.tolist() == [2.0, 3.0] and indices.tolist() == [2, 0]
    assert indices.dtype is fd.int64


def test_casts_and_python_conversions():
    x = fd.tensor([1.7, -1.2])
    assert x.long().tolist() == [1, -1] and x.int().dtype is fd.int32
    assert x.to(fd.float64).dtype is fd.float64 and x.double().dtype is fd.float64
    assert x.to("cpu") is x and (x > 0).float().tolist() == [1.0, 0.0]
    s = fd.tensor(2.5)
    assert s.item() == 2.5 and float(s) == 2.5 and int(s) == 2 and f"{s:.2f}" == "2.50"
    assert bool(fd.tensor([True])) and [1, 2, 3][fd.tensor(1)] == 2
    assert [t.tolist() for t in fd.tensor(A)] == A.tolist() and len(fd.tensor(A)) == 2
    assert np.asarray(fd.tensor(A)).dtype == np.float32
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(fd.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="one element"):
        fd.tensor([1.0, 2.0]).item()


def test_equality_is_elementwise_but_tensors_stay_hashable():
    x = fd.tensor([1.0, 2.0])
    y = x
    assert (x == y).tolist() == [True, True] and {x: 1}[y] == 1 and len({x, x.detach()}) == 2
    assert (x == None) is False and (x != "a") is True  # noqa: E711 - PyTorch semantics


def test_repr_looks_like_pytorch():
    assert repr(fd.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(fd.tensor([0.25, 1.0])) == "tensor([0.2500, 1.0000])"
    assert repr(fd.tensor(0.5, requires_grad=True)) == "tensor(0.5000, requires_grad=True)"
    assert repr(fd.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(fd.tensor([1, 2], dtype=fd.int32)) == "tensor([1, 2], dtype=flowgraph.int32)"
    x = fd.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(fd.Parameter(fd.zeros(1))).startswith("Parameter containing:\ntensor([0.]")


def test_numpy_refuses_a_tensor_that_requires_grad():
    x = fd.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


def test_value_and_data_share_memory():
    x = fd.tensor([1.0, 2.0])
    x.data.value[0] = 9.0
    x.value[1] = 8.0
    assert x.tolist() == [9.0, 8.0]
    x.data = fd.tensor([1.0, 2.0, 3.0])
    assert x.shape == (3,)


def test_parameter():
    w = fd.Parameter(np.ones((2, 2)))
    assert isinstance(w, fd.Tensor) and w.requires_grad and w.is_leaf
    assert w.dtype is fd.float64  # a NumPy array keeps its dtype
    assert fd.Parameter([[1, 2]]).dtype is fd.float32
    v = fd.randn(2)
    p = fd.Parameter(v)
    p.value[0] = 5.0
    assert v.value[0] == 5.0  # shares the tensor's value
    assert not fd.Parameter(v, requires_grad=False).requires_grad


def test_in_place_updates_under_no_grad():
    w = fd.Parameter(fd.ones(2))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.sub_(1.0)
    with fd.no_grad():
        w.sub_(fd.tensor([0.5, 0.25])).mul_(2.0).add_(1.0, alpha=2.0)
    assert w.tolist() == [3.0, 3.5]
    w.detach().zero_()
    assert w.tolist() == [0.0, 0.0]


# ---- the executor: the library's op functions, errors, mixing ---------------------------------


def test_any_library_op_runs_in_eager_block():
    x = fd.tensor(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1), requires_grad=True)
    with fd.eager():
        y = fg.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
        z = fg.reduce_sum(fg.nn.elu(y))
    assert y.shape == (1, 2, 2, 1) and z.grad_fn.type == "Sum"
    assert fd.executing(fg.add, x, 1.0).shape == x.shape


def test_shape_error_names_op_shapes_and_callers_line():
    a, b = fd.ones(2, 3), fd.ones(2, 3)
    line = line_after(2)
    with pytest.raises(ShapeError) as info:
        a @ b
    message = str(info.value)
    assert (
        "MatMul" in message
        and "torch.Size([2, 3]), torch.Size([2, 3])" in message
        and line in message
    )


def test_kernel_error_is_invalid_argument_naming_op_and_line():
    labels, logits = fd.tensor([0, 7]), fd.zeros(2, 3)
    loss = fg.nn.sparse_softmax_cross_entropy_with_logits
    line = line_after(2)
    with pytest.raises(InvalidArgumentError) as info:
        fd.executing(loss, labels=labels, logits=logits)
    message = str(info.value)
    assert "SparseSoftmaxCrossEntropyWithLogits" in message and "outside the valid range" in message
    assert line in message and "torch.Size([2, 3]) float32" in message


def test_numpy_failure_in_a_kernel_is_chained():
    x = fd.tensor([1.0, 2.0, 3.0])
    shape = fd.tensor([2, 2]) * 1  # computed: the shape rule cannot check it, the kernel does
    with pytest.raises(InvalidArgumentError) as info:
        fd.executing(fg.reshape, x, shape)
    assert "Reshape" in str(info.value) and isinstance(info.value.__cause__, ValueError)


def test_mixing_dynamic_and_graph_tensors_names_both():
    x = fd.tensor([1.0, 2.0])
    with fg.Graph().as_default():
        p = fg.placeholder(fg.float32, [2], name="p")
        for build in (lambda: x + p, lambda: p * x, lambda: fd.matmul(x, p)):
            with pytest.raises(TypeError, match=r"dynamic tensor.*'p:0'"):
                build()
        with pytest.raises(TypeError, match="dynamic tensor"):
            fg.add(x, x)  # a graph op function outside dynamic mode


def test_graph_only_ops_are_refused():
    with fd.eager():
        with pytest.raises(TypeError, match="placeholders have no value"):
            fg.placeholder(fg.float32, [2])
        with pytest.raises(TypeError, match="Parameter"):
            fg.Variable([1.0])


def test_unrecorded_outputs_describe_their_op_without_keeping_inputs():
    x = fd.ones(2, 3)
    y = x * 2.0
    assert y.op.type == "Mul" and y.grad_fn is None and y.is_leaf
    assert y.op.inputs[0].shape == (2, 3) and not isinstance(y.op.inputs[0], fd.Tensor)
    assert x.op.type == "Fill" and fd.tensor(1.0).op.type == "Const"
