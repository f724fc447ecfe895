"""PyTorch's surface on flowgraph.dynamic: creation with dtype=/device=, type promotion,
printing, math against NumPy with float64 gradient checks, advanced indexing, gather/scatter,
devices, torch.save/load and torch.utils.data."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import flowgraph.dynamic as torch
from flowgraph.dynamic.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)

from .gradcheck import check_grads, t64

RNG = np.random.default_rng(1)


# ---- creation, dtypes, printing -----------------------------------------------------------------


def test_creation_functions_take_dtype_and_device():
    np.testing.assert_allclose(torch.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    np.testing.assert_allclose(torch.logspace(0, 2, 3, base=2).numpy(), [1.0, 2.0, 4.0])
    for fn in (torch.zeros, torch.ones, torch.randn, torch.rand, torch.empty):
        t = fn(2, 3, dtype=torch.float64, device="cpu")
        assert t.shape == (2, 3) and t.dtype is torch.float64 and t.device == "cpu"
    assert torch.arange(0, 1, 0.25, dtype=torch.float64).dtype is torch.float64
    assert torch.arange(5, device=torch.device("cpu")).dtype is torch.int64
    assert torch.full((2,), 7, device="cpu").tolist() == [7, 7]
    assert torch.eye(3, dtype=torch.long).dtype is torch.int64
    assert torch.randint(0, 5, (10,), device="cpu").max().item() < 5
    assert torch.normal(2.0, 0.0, size=(3,)).tolist() == [2.0, 2.0, 2.0]
    assert torch.LongTensor([1, 2]).dtype is torch.int64 and torch.FloatTensor(2, 2).shape == (2, 2)
    assert (
        torch.float is torch.float32 and torch.long is torch.int64 and torch.double is torch.float64
    )


def test_set_default_dtype():
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.tensor([1.5]).dtype is torch.float64 and torch.randn(2).dtype is torch.float64
        assert (torch.arange(3) * 0.5).dtype is torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    with pytest.raises(TypeError, match="only floating-point types"):
        torch.set_default_dtype(torch.int64)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (torch.tensor([1, 2]), torch.tensor([0.5, 1.5]), "float32"),
        (torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1, 2]), "int64"),
        (torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64), "float64"),
        (torch.tensor([1.0]), torch.tensor(2.0, dtype=torch.float64), "float32"),  # 0-d loses
        (torch.tensor([1, 2]), torch.tensor(2.0, dtype=torch.float64), "float64"),  # category wins
        (torch.tensor([True]), torch.tensor([3]), "int64"),
        (torch.tensor([1, 2]), 2.5, "float32"),
        (torch.tensor([1, 2], dtype=torch.int32), 7, "int32"),
    ],
)
def test_type_promotion(a, b, expected):
    assert (a + b).dtype.name == expected and (b + a).dtype.name == expected
    assert (a * b).dtype.name == expected


def test_power_of_float_by_int_tensor_is_float():
    x = torch.tensor([2.0, 3.0])
    assert (x ** torch.tensor([2, 1])).tolist() == [4.0, 3.0]
    assert torch.pow(torch.tensor([2, 3]), 0.5).dtype is torch.float32


def test_size_and_format_print_as_pytorch():
    x = torch.zeros(2, 3)
    assert str(x.shape) == repr(x.size()) == f"{x.shape}" == "torch.Size([2, 3])"
    assert f"{torch.tensor(0.25):.2f}" == "0.25" and format(torch.tensor(3)) == "3"
    assert f"{torch.tensor([1.0])}" == "tensor([1.])"


# ---- math against NumPy, with gradients ---------------------------------------------------------

UNARY = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp2": np.exp2, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1, "rsqrt": lambda v: 1 / np.sqrt(v),
    "reciprocal": lambda v: 1 / v,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_math_against_numpy_with_gradient(name):
    x = RNG.uniform(0.3, 1.2, (2, 3))
    np.testing.assert_allclose(getattr(torch, name)(t64(x)).numpy(), UNARY[name](x), rtol=1e-12)
    check_grads(getattr(torch, name), x)


def test_floor_ceil_sign_and_reductions():
    x = np.array([[-1.5, 0.2, 2.7], [3.0, -0.4, 1.1]])
    t = t64(x)
    assert torch.floor(t).tolist() == np.floor(x).tolist()
    assert torch.ceil(t).tolist() == np.ceil(x).tolist()
    np.testing.assert_allclose(torch.cumsum(t, dim=1).numpy(), np.cumsum(x, axis=1))
    np.testing.assert_allclose(t.var(dim=0).numpy(), x.var(axis=0, ddof=1))
    np.testing.assert_allclose(t.std(unbiased=False).item(), x.std())
    np.testing.assert_allclose(t.norm().item(), np.linalg.norm(x))
    np.testing.assert_allclose(t.prod(dim=1).numpy(), x.prod(axis=1))
    np.testing.assert_allclose(torch.logsumexp(t, 1).numpy(), np.log(np.exp(x).sum(1)))
    check_grads(lambda v: v.var(dim=1), x)
    check_grads(lambda v: v.norm(), x)
    check_grads(lambda v: torch.cumsum(v, 0), x)


def test_round_trunc_and_legacy_tensor_constructor():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.7, 2.2, -2.5])
    assert torch.round(t64(x)).tolist() == np.round(x).tolist()  # halves to even
    assert torch.trunc(t64(x)).tolist() == np.trunc(x).tolist()
    np.testing.assert_allclose(t64([1.234, -5.678]).round(decimals=2).numpy(), [1.23, -5.68])
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor(2, 3).dtype is torch.float32
    assert torch.Tensor([1, 2]).dtype is torch.float32 and torch.Tensor(3).tolist() == [0.0] * 3
    with torch.inference_mode():
        assert not torch.is_grad_enabled()
    check_grads(lambda v: torch.nn.functional.silu(v), x[:4])


def test_sort_topk_argsort():
    x = RNG.standard_normal((3, 5))
    t = t64(x)
    values, indices = torch.sort(t, dim=1)
    np.testing.assert_allclose(values.numpy(), np.sort(x, axis=1))
    assert indices.tolist() == np.argsort(x, axis=1).tolist()
    assert torch.argsort(t, dim=0, descending=True).tolist() == np.argsort(-x, axis=0).tolist()
    top = t.topk(2, dim=1)
    np.testing.assert_allclose(top.values.numpy(), -np.sort(-x, axis=1)[:, :2])
    check_grads(lambda v: torch.sort(v, dim=0).values, x)
    check_grads(lambda v: v.topk(2, largest=False).values, x)


# ---- indexing -----------------------------------------------------------------------------------


def test_advanced_indexing_matches_numpy_with_gradient():
    x = RNG.standard_normal((4, 3))
    t = t64(x)
    rows, cols = [0, 2, 3], [1, 0, 2]
    assert t[range(3), [1, 0, 2]].tolist() == x[range(3), [1, 0, 2]].tolist()
    assert t[torch.tensor(rows), torch.tensor(cols)].tolist() == x[rows, cols].tolist()
    assert t[t > 0].tolist() == x[x > 0].tolist()
    assert t[:, [2, 0]].tolist() == x[:, [2, 0]].tolist()
    assert t[torch.tensor([True, False, True, False])].tolist() == x[[0, 2]].tolist()
    check_grads(lambda v: v[[0, 0, 3], [1, 1, 2]], x)  # repeated positions sum their gradients
    check_grads(lambda v: v[v.detach() > 0], x)
    with pytest.raises(IndexError, match=r"shape \[4, 3\]"):
        t[[0, 9]]


def test_gather_scatter_index_select_with_gradients():
    x = RNG.standard_normal((3, 4))
    index = np.array([[0, 3], [2, 2], [1, 0]])
    t = t64(x)
    np.testing.assert_allclose(torch.gather(t, 1, torch.tensor(index)).numpy(),
                               np.take_along_axis(x, index, 1))  # fmt: skip
    src = RNG.standard_normal((3, 2))
    unique_index = np.array([[0, 3], [2, 1], [1, 0]])
    got = t.scatter(1, torch.tensor(unique_index), t64(src))
    expected = x.copy()
    np.put_along_axis(expected, unique_index, src, 1)
    np.testing.assert_allclose(got.numpy(), expected)
    added = x.copy()
    np.add.at(added, (np.arange(3)[:, None].repeat(2, 1), index), src)
    np.testing.assert_allclose(t.scatter_add(1, torch.tensor(index), t64(src)).numpy(), added)
    np.testing.assert_allclose(t.index_select(1, torch.tensor([3, 0])).numpy(), x[:, [3, 0]])
    idx = torch.tensor(index)
    check_grads(lambda v: torch.gather(v, 1, idx), x)
    check_grads(lambda v, s: v.scatter_add(1, idx, s), x, src)
    unique = torch.tensor(unique_index)
    check_grads(lambda v, s: v.scatter(1, unique, s), x, src)
    with pytest.raises(IndexError, match="out of bounds for dimension 1 with size 4"):
        torch.gather(t, 1, torch.tensor([[4, 0], [0, 0], [0, 0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        torch.gather(t, 1, torch.tensor([0, 1]))


# ---- devices ------------------------------------------------------------------------------------


def test_devices_map_cpu_to_numpy_and_explain_cuda():
    assert torch.device("cuda:1").index == 1 and str(torch.device("cuda", 0)) == "cuda:0"
    assert torch.device("cpu") == "cpu" and repr(torch.device("cpu")) == "device(type='cpu')"
    with pytest.raises(RuntimeError, match="Expected one of cpu"):
        torch.device("tpu")
    assert torch.backends.mps.is_available() is False
    x = torch.ones(2)
    assert x.to("cpu") is x and x.cpu() is x and x.to(torch.float64).dtype is torch.float64
    assert x.to("cpu", torch.int64).dtype is torch.int64 and x.device == torch.device("cpu")
    nn_layer = torch.nn.Linear(2, 2).to("cpu").to(torch.float64)
    assert nn_layer.weight.dtype is torch.float64
    if torch.cuda.is_available():  # pragma: no cover - a GPU machine with CuPy
        return
    assert torch.cuda.device_count() == 0 and torch.accelerator.current_accelerator() is None
    for attempt in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: torch.zeros(2, device="cuda"),
                    lambda: torch.nn.Linear(2, 2).to("cuda")):  # fmt: skip
        with pytest.raises(RuntimeError, match=r"CUDA is not available.*flowgraph\[gpu\]"):
            attempt()
    torch.set_default_device("cpu")
    assert torch.get_default_device() == "cpu"


# ---- save / load --------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    obj = {
        "model": model.state_dict(),
        "tensors": [torch.arange(3), torch.tensor([1.5], requires_grad=True)],
        "param": torch.nn.Parameter(torch.ones(2)),
        "nested": {"epoch": 3, "lr": 0.1, "name": "run", "none": None, "pair": (1, 2.5)},
        "inf": float("inf"),
        1: np.eye(2),
    }
    path = tmp_path / "ckpt.pt"
    torch.save(obj, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # written atomically: no temporary file left
    back = torch.load(path)
    assert list(back["model"]) == list(model.state_dict())
    assert "1.running_mean" in back["model"]
    fresh = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    fresh.load_state_dict(back["model"])
    np.testing.assert_array_equal(
        fresh[0].weight.detach().numpy(), model[0].weight.detach().numpy()
    )
    assert back["tensors"][0].tolist() == [0, 1, 2] and back["tensors"][0].dtype is torch.int64
    assert back["tensors"][1].requires_grad and isinstance(back["param"], torch.nn.Parameter)
    assert back["nested"] == {"epoch": 3, "lr": 0.1, "name": "run", "none": None, "pair": (1, 2.5)}
    assert back["inf"] == math.inf and back[1].tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_save_refuses_what_the_safe_format_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['model'\] is a Linear.*state_dict\(\)"):
        torch.save({"model": torch.nn.Linear(2, 2)}, tmp_path / "m.pt")
    with pytest.raises(TypeError, match="keys must be str or int"):
        torch.save({(1, 2): 3}, tmp_path / "m.pt")
    assert not os.listdir(tmp_path)
    with pytest.raises(ValueError, match="weights_only=False is not supported"):
        torch.load(tmp_path / "m.pt", weights_only=False)
    pickled = tmp_path / "torch.pt"
    pickled.write_bytes(b"\x80\x04\x95 not an npz")
    with pytest.raises(RuntimeError, match="not a file written by flowgraph.dynamic.save"):
        torch.load(pickled)


# ---- torch.utils.data ---------------------------------------------------------------------------


class Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": torch.tensor([float(i)]), "y": i * i, "name": f"n{i}"}


def test_dataloader_collates_dicts_and_drops_last():
    loader = DataLoader(Squares(), batch_size=4, drop_last=True, num_workers=0)
    batches = list(loader)
    assert len(loader) == len(batches) == 2
    assert batches[0]["x"].shape == (4, 1) and batches[0]["y"].tolist() == [0, 1, 4, 9]
    assert batches[1]["name"] == ["n4", "n5", "n6", "n7"]
    joined = DataLoader(Squares(), batch_size=3, collate_fn=lambda items: len(items))
    assert list(joined) == [3, 3, 3, 1]


def test_shuffle_with_a_seeded_generator_is_reproducible():
    ds = TensorDataset(torch.arange(20), torch.arange(20) * 2)
    orders = [
        torch.cat(
            [
                xb
                for xb, _ in DataLoader(
                    ds, 5, shuffle=True, generator=torch.Generator().manual_seed(3)
                )
            ]
        )  # fmt: skip
        for _ in range(2)
    ]
    assert orders[0].tolist() == orders[1].tolist() and sorted(orders[0].tolist()) == list(
        range(20)
    )
    assert orders[0].tolist() != list(range(20))


def test_random_split_and_subset():
    ds = TensorDataset(torch.arange(10))
    a, b = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(0))
    seen = [int(a[i][0]) for i in range(len(a))] + [int(b[i][0]) for i in range(len(b))]
    assert len(a) == 7 and len(b) == 3 and sorted(seen) == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 6])
    sub = Subset(ds, [9, 1])
    assert [int(x) for (x,) in DataLoader(sub, batch_size=1)] == [9, 1]
