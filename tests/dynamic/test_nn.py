"""flowgraph.dynamic.nn and .functional: modules, PyTorch's init and layouts, functional ops
against NumPy references, their gradients against numeric differences (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.nn.functional as F
import flowgraph.dynamic.optim as optim
from flowgraph.datasets.synthetic import blobs
from flowgraph.dynamic.data import DataLoader, TensorDataset

from .gradcheck import check_grads, t64

RNG = np.random.default_rng(0)


def f64(shape, scale=1.0):
    return RNG.standard_normal(shape) * scale


# ---- NumPy references -----------------------------------------------------------------------


def np_log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_conv2d(x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    x = np.pad(x, [(0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2])
    n, _, h, wd = x.shape
    co, _, kh, kw = w.shape
    oh = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, co, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = i * stride[0] + dilation[0] * np.arange(kh)
            cols = j * stride[1] + dilation[1] * np.arange(kw)
            patch = x[:, :, rows][:, :, :, cols]  # [n, ci, kh, kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out


def np_pool(x, k, s, reducer):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reducer(x[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


# ---- modules --------------------------------------------------------------------------------


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 5)
        self.body = nn.Sequential(nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 3, bias=False))
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))

    def forward(self, x):
        return self.body(self.fc1(x)) * self.scale


def test_linear_shapes_and_pytorch_init():
    torch.manual_seed(0)
    layer = nn.Linear(50, 7)
    assert tuple(layer.weight.shape) == (7, 50) and tuple(layer.bias.shape) == (7,)
    bound = 1 / math.sqrt(50)
    for p in (layer.weight, layer.bias):
        assert p.requires_grad and isinstance(p, nn.Parameter)
        assert np.abs(p.detach().numpy()).max() <= bound
    assert np.abs(layer.weight.detach().numpy()).max() > 0.9 * bound  # uniform over the whole range
    x = RNG.standard_normal((4, 50)).astype(np.float32)
    expected = x @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    np.testing.assert_allclose(
        layer(torch.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6
    )
    assert tuple(layer(torch.zeros(2, 3, 50)).shape) == (2, 3, 7)
    assert "in_features=50, out_features=7, bias=True" in repr(layer)


def test_manual_seed_makes_init_reproducible():
    torch.manual_seed(3)
    a = nn.Linear(4, 4).weight.detach().numpy()
    torch.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight.detach().numpy(), a)


def test_conv2d_and_pool_shapes_and_init():
    conv = nn.Conv2d(3, 8, kernel_size=5, stride=2, padding=1)
    assert tuple(conv.weight.shape) == (8, 3, 5, 5)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(3 * 25)
    y = conv(torch.zeros(2, 3, 16, 16))
    assert tuple(y.shape) == (2, 8, 7, 7)
    assert tuple(nn.MaxPool2d(2)(y).shape) == (2, 8, 3, 3)
    assert tuple(nn.Flatten()(y).shape) == (2, 8 * 49)


def test_parameters_order_names_and_children():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "body.2.weight"]
    assert len(list(model.parameters())) == 4
    assert [type(c).__name__ for c in model.children()] == ["Linear", "Sequential"]
    assert len(list(model.modules())) == 6
    assert model.body[2].bias is None
    assert tuple(model(torch.zeros(2, 6)).shape) == (2, 3)


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, layer)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_setattr_registration_rules():
    model = TwoLayer()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        model.scale = np.ones(3)
    model.fc1 = None
    assert "fc1.weight" not in dict(model.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        model.missing  # noqa: B018

    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_state_dict_round_trip():
    torch.manual_seed(1)
    a, b = TwoLayer().eval(), TwoLayer().eval()
    state = a.state_dict()
    assert list(state) == ["scale", "fc1.weight", "fc1.bias", "body.2.weight"]
    # Tensors, as PyTorch's state_dict holds (sd[k].size() works), not requiring grad
    assert all(isinstance(v, torch.Tensor) and not v.requires_grad for v in state.values())
    assert state["fc1.weight"].size() == (5, 6)
    state["scale"][...] = 7.0  # a copy: the model is untouched
    assert a.scale.detach().numpy()[0] == 1.0
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = torch.tensor(RNG.standard_normal((3, 6)).astype(np.float32))
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_errors_change_nothing():
    model = TwoLayer()
    before = model.state_dict()
    bad = model.state_dict()
    bad["fc1.weight"] = np.zeros((4, 6))
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight.*\(4, 6\).*\(5, 6\)"):
        model.load_state_dict(bad)
    extra = dict(before, **{"fc2.weight": np.zeros(1)})
    del extra["scale"]
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({k: v * 0 for k, v in extra.items()})
    assert 'Unexpected key(s) in state_dict: "fc2.weight"' in str(info.value)
    assert 'Missing key(s) in state_dict: "scale"' in str(info.value)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    result = model.load_state_dict({k: v * 0 for k, v in extra.items()}, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["fc2.weight"]
    assert not model.fc1.weight.detach().numpy().any()


def test_train_eval_and_dropout():
    model = TwoLayer()
    assert model.training and model.body[1].training
    model.eval()
    assert not model.body[1].training
    drop = nn.Dropout(0.5)
    x = torch.ones(200, 50)
    y = drop(x).detach().numpy()
    assert set(np.unique(y)) == {0.0, 2.0} and 0.35 < (y == 0).mean() < 0.65
    # The gradient uses the same mask; manual_seed fixes the mask.
    w = torch.ones(4, 30, requires_grad=True)
    torch.manual_seed(2)
    y = drop.train()(w)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), y.detach().numpy())
    torch.manual_seed(2)
    np.testing.assert_array_equal(drop(w).detach().numpy(), y.detach().numpy())
    np.testing.assert_array_equal(drop.eval()(x).detach().numpy(), x.detach().numpy())
    np.testing.assert_array_equal(
        F.dropout(x, 0.5, training=False).detach().numpy(), x.detach().numpy()
    )


def test_module_repr():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
    )


def test_zero_grad():
    layer = nn.Linear(2, 2)
    layer(torch.ones(1, 2)).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad(set_to_none=False)
    assert not layer.weight.grad.detach().numpy().any()
    layer.zero_grad()
    assert layer.weight.grad is None


# ---- functional: forward vs NumPy -----------------------------------------------------------


def test_activations_and_softmax_forward():
    x = f64((3, 4))
    np.testing.assert_allclose(F.relu(t64(x)).detach().numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(F.log_softmax(t64(x), dim=0).detach().numpy(), np_log_softmax(x, 0))
    np.testing.assert_allclose(
        F.softmax(t64(x), dim=1).detach().numpy(), np.exp(np_log_softmax(x, 1))
    )


def test_cross_entropy_forward():
    x, y = f64((5, 4)), np.array([0, 3, 1, 1, 2])
    per_example = -np_log_softmax(x, 1)[np.arange(5), y]
    target = torch.tensor(y, dtype=torch.int64)
    np.testing.assert_allclose(F.cross_entropy(t64(x), target).item(), per_example.mean())
    np.testing.assert_allclose(
        F.cross_entropy(t64(x), target, reduction="sum").item(), per_example.sum()
    )
    np.testing.assert_allclose(
        F.cross_entropy(t64(x), target, reduction="none").detach().numpy(), per_example
    )
    np.testing.assert_allclose(nn.CrossEntropyLoss()(t64(x), target).item(), per_example.mean())
    probs = np.eye(4)[y]
    np.testing.assert_allclose(F.cross_entropy(t64(x), t64(probs)).item(), per_example.mean())
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(t64(x), 1), target).item(), per_example.mean()
    )
    # Classes at dim 1 of [N, C, H, W] logits, as in PyTorch.
    x4, y4 = f64((2, 3, 2, 2)), RNG.integers(0, 3, size=(2, 2, 2))
    ref = -np.take_along_axis(np_log_softmax(x4, 1), y4[:, None], axis=1).mean()
    np.testing.assert_allclose(F.cross_entropy(t64(x4), torch.tensor(y4)).item(), ref)


def test_mse_and_linear_forward():
    a, b = f64((3, 2)), f64((3, 2))
    np.testing.assert_allclose(nn.MSELoss()(t64(a), t64(b)).item(), ((a - b) ** 2).mean())
    np.testing.assert_allclose(
        F.mse_loss(t64(a), t64(b), reduction="sum").item(), ((a - b) ** 2).sum()
    )
    x, w, bias = f64((4, 3)), f64((2, 3)), f64(2)
    np.testing.assert_allclose(F.linear(t64(x), t64(w), t64(bias)).detach().numpy(), x @ w.T + bias)


@pytest.mark.parametrize(
    "stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((1, 2), (2, 0), 1), (1, 0, 2)]
)
def test_conv2d_forward(stride, padding, dilation):
    x, w, b = f64((2, 3, 7, 6)), f64((4, 3, 3, 2)), f64(4)
    pair = F.pair
    ref = np_conv2d(x, w, pair(stride, ""), pair(padding, ""), pair(dilation, ""))
    ref += b[None, :, None, None]
    out = F.conv2d(t64(x), t64(w), t64(b), stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(out.detach().numpy(), ref, atol=1e-12)


def test_conv2d_same_padding():
    x, w = f64((1, 2, 5, 5)), f64((3, 2, 3, 3))
    out = F.conv2d(t64(x), t64(w), padding="same")
    np.testing.assert_allclose(out.detach().numpy(), np_conv2d(x, w, padding=(1, 1)), atol=1e-12)


def test_pooling_forward():
    x = f64((2, 3, 6, 6))
    np.testing.assert_allclose(F.max_pool2d(t64(x), 2).detach().numpy(), np_pool(x, 2, 2, np.max))
    np.testing.assert_allclose(
        F.max_pool2d(t64(x), 3, stride=1).detach().numpy(), np_pool(x, 3, 1, np.max)
    )
    np.testing.assert_allclose(F.avg_pool2d(t64(x), 2).detach().numpy(), np_pool(x, 2, 2, np.mean))
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], constant_values=-np.inf)
    np.testing.assert_allclose(
        F.max_pool2d(t64(x), 2, padding=1).detach().numpy(), np_pool(padded, 2, 2, np.max)
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(t64([1.0]), t64([1.0]), reduction="avg")
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ---- functional: gradients vs numeric differences --------------------------------------------


def test_gradients_activations_and_losses():
    labels = torch.tensor(np.array([1, 0, 2]))
    check_grads(lambda x: F.log_softmax(x, dim=1), f64((3, 4)))
    check_grads(lambda x: F.softmax(x, dim=0), f64((3, 4)))
    check_grads(lambda x: F.relu(x), f64((3, 4)) + 0.05)
    check_grads(lambda x: F.cross_entropy(x, labels), f64((3, 4)))
    check_grads(lambda x: F.cross_entropy(x, labels, label_smoothing=0.1), f64((3, 4)))
    check_grads(F.mse_loss, f64((3, 2)), f64((3, 2)))


def test_gradients_linear_conv_pool():
    check_grads(F.linear, f64((4, 3)), f64((2, 3)), f64(2))
    check_grads(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        f64((2, 2, 5, 5)),
        f64((3, 2, 3, 3)),
        f64(3),
    )
    check_grads(lambda x: F.max_pool2d(x, 2), f64((1, 2, 4, 4)))
    check_grads(lambda x: F.avg_pool2d(x, 2, padding=1), f64((1, 2, 4, 4)))


# ---- training end to end ---------------------------------------------------------------------


def test_small_mlp_learns_blobs():
    torch.manual_seed(0)
    train = blobs(800, num_features=20, num_classes=4, noise=0.4, one_hot=False, seed=0)
    test = blobs(400, num_features=20, num_classes=4, noise=0.4, one_hot=False, seed=1)
    loader = DataLoader(TensorDataset(train.images, train.labels), batch_size=50, shuffle=True)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 4))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(5):
        for data, target in loader:
            optimizer.zero_grad()
            criterion(model(data), target).backward()
            optimizer.step()
    with torch.no_grad():
        _, predicted = torch.max(model(torch.tensor(test.images)), 1)
    accuracy = (predicted.detach().numpy() == test.labels).mean()
    assert accuracy > 0.9
