"""Dynamic tensors on "cuda", with a stand-in for CuPy (tests/dynamic/stand_in_cuda.py): arrays
of their own type that NumPy refuses to mix with host arrays, so these tests really cross
devices, check them and give kernels the device's array module."""

import numpy as np
import pytest

import flowgraph.dynamic as torch
from flowgraph.dynamic import nn, optim
from tests.dynamic import stand_in_cuda
from tests.dynamic.stand_in_cuda import DeviceArray


@pytest.fixture
def cuda(monkeypatch):
    xp = stand_in_cuda.install(monkeypatch)
    yield xp
    stand_in_cuda.uninstall()


def test_without_a_gpu_cuda_is_unavailable_and_says_what_to_install():
    assert not torch.cuda.is_available() and torch.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=r"flowgraph\[gpu\]"):
        torch.zeros(2).to("cuda")
    with pytest.raises(RuntimeError, match="not available"):
        torch.ones(2, device="cuda")


def test_to_cuda_moves_the_array_and_back(cuda):
    assert torch.cuda.is_available() and torch.cuda.device_count() == 1
    x = torch.tensor([1.0, -2.0])
    y = x.to("cuda")
    assert type(y.value) is DeviceArray and y.device == torch.device("cuda:0") and y.is_cuda
    assert x.device.type == "cpu" and type(x.value) is np.ndarray
    assert y.cuda() is y and y.to(torch.device("cuda")) is y
    back = y.cpu()
    assert type(back.value) is np.ndarray and back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), [1.0, -2.0])


def test_ops_on_cuda_run_with_its_array_module(cuda):
    x = torch.tensor(np.linspace(-1, 1, 6).reshape(2, 3)).cuda()
    w = torch.tensor(np.ones((3, 2))).cuda()
    before = cuda.calls
    y = torch.relu(x @ w + 1.0).sum()
    assert cuda.calls > before  # the kernels were given the stand-in, not NumPy
    assert type(y.value) is DeviceArray and y.device.type == "cuda"
    expected = np.maximum(np.linspace(-1, 1, 6).reshape(2, 3) @ np.ones((3, 2)) + 1, 0).sum()
    assert y.item() == pytest.approx(expected)
    calls = cuda.calls
    torch.relu(torch.tensor([1.0, 2.0]) * 2.0)  # a CPU op never sees the device module
    assert cuda.calls == calls


def test_mixing_devices_raises_pytorchs_error(cuda):
    a = torch.ones(3).cuda()
    b = torch.ones(3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device") as e:
        a + b
    assert "devices, cuda:0 and cpu! (when checking argument 1 of Add op" in str(e.value)
    # a 0-d CPU tensor (a Python number) joins the other device, as in PyTorch
    assert type((a * torch.tensor(2.0)).value) is DeviceArray


def test_numpy_of_a_cuda_tensor_asks_for_cpu_first(cuda):
    t = torch.ones(2, device="cuda")
    with pytest.raises(TypeError, match=r"Use Tensor.cpu\(\) to copy the tensor to host memory"):
        t.numpy()
    with pytest.raises(TypeError, match="cuda:0 device type tensor"):
        np.asarray(t)
    assert t.cpu().numpy().tolist() == [1.0, 1.0] and t.tolist() == [1.0, 1.0]
    assert repr(t) == "tensor([1., 1.], device='cuda:0')"


def test_creation_functions_and_default_device_place_tensors(cuda):
    assert type(torch.zeros(2, 3, device="cuda").value) is DeviceArray
    assert type(torch.randn(4, device=torch.device("cuda")).value) is DeviceArray
    t = torch.arange(5, device="cuda")
    assert type(t.new_zeros(2).value) is DeviceArray  # new_* keep the tensor's device
    torch.set_default_device("cuda")
    try:
        assert torch.get_default_device() == "cuda:0"
        assert type(torch.ones(2).value) is DeviceArray
    finally:
        torch.set_default_device(None)
    assert type(torch.ones(2).value) is np.ndarray


def test_gradients_flow_back_across_the_move(cuda):
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w.to("cuda") * w.cuda()).sum()
    loss.backward()
    assert type(w.grad.value) is np.ndarray  # the leaf's gradient is on the leaf's device
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0, 6.0])


def test_indexing_and_in_place_updates_stay_on_the_device(cuda):
    x = torch.ones(4, 3).cuda()
    assert type(x[1:3].value) is DeviceArray and type(x[x > 0.5].value) is DeviceArray
    assert type(x[[0, 2]].value) is DeviceArray  # host indices join the tensor's device
    x[0] = 5.0
    w = torch.randn(3, 2, device="cuda", requires_grad=True)
    (x @ w).pow(2).mean().backward()
    with torch.no_grad():
        w -= 0.1 * w.grad  # the tutorial's update, in place on the device
    assert type(w.value) is DeviceArray and x.cpu().numpy()[0].tolist() == [5.0, 5.0, 5.0]
    assert x.to(torch.zeros(1, dtype=torch.float64)).device.type == "cpu"  # to(other)


def _train(device, steps=5):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
    opt = optim.Adam(model.parameters(), lr=0.05)
    x = torch.tensor(np.random.default_rng(1).standard_normal((16, 4)), dtype=torch.float32)
    y = torch.tensor(np.arange(16) % 3)
    x, y = x.to(device), y.to(device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, opt, losses


def test_a_module_trains_on_cuda_as_on_cpu(cuda):
    cpu_model, _, cpu_losses = _train("cpu")
    model, opt, losses = _train("cuda")
    assert all(type(p.value) is DeviceArray for p in model.parameters())
    assert all(type(p.grad.value) is DeviceArray for p in model.parameters())
    state = opt.state_dict()["state"][0]
    assert type(state["exp_avg"]) is DeviceArray
    np.testing.assert_allclose(losses, cpu_losses, rtol=1e-5)
    assert losses[-1] < losses[0]
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        np.testing.assert_allclose(p.cpu().detach().numpy(), q.detach().numpy(), rtol=1e-5)


def test_state_dicts_and_save_of_cuda_tensors(cuda, tmp_path):
    model, opt, _ = _train("cuda", steps=2)
    sd = model.state_dict()
    assert all(t.device.type == "cuda" for t in sd.values())
    torch.save({"model": sd, "opt": opt.state_dict()}, tmp_path / "ckpt.pt")
    loaded = torch.load(tmp_path / "ckpt.pt")  # saved on the host, loaded on the CPU
    assert all(type(t.value) is np.ndarray for t in loaded["model"].values())
    fresh = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).cuda()
    fresh.load_state_dict(loaded["model"])  # host values copied onto the device
    assert all(type(p.value) is DeviceArray for p in fresh.parameters())
    for p, q in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.cpu().detach().numpy(), q.cpu().detach().numpy())
    opt2 = optim.Adam(fresh.parameters(), lr=0.05)
    opt2.load_state_dict(loaded["opt"])
    assert type(opt2.state[id(next(fresh.parameters()))]["exp_avg"]) is DeviceArray
    assert model.cpu() is model and all(type(p.value) is np.ndarray for p in model.parameters())
