"""flowgraph.dynamic.data: TensorDataset, DataLoader batching/shuffling, the MNIST helper."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph.dynamic as torch
from flowgraph.dynamic.data import DataLoader, Dataset, TensorDataset, mnist


def make(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return TensorDataset(x, np.arange(n, dtype=np.int64))


def labels_of(loader):
    return [target.numpy().tolist() for _, target in loader]


def test_tensor_dataset_indexing():
    ds = make()
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(x.numpy(), [6.0, 7.0])
    assert y.item() == 3
    ds2 = TensorDataset(torch.tensor(np.ones((4, 3))), np.zeros(4))
    assert tuple(ds2[0][0].shape) == (3,)
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_batching_in_order():
    loader = DataLoader(make(), batch_size=4)
    assert len(loader) == 3
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    data, target = next(iter(loader))
    assert tuple(data.shape) == (4, 2) and target.dtype == torch.int64
    assert data.dtype == torch.float32


def test_drop_last():
    loader = DataLoader(make(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_covers_everything_and_changes_each_epoch():
    loader = DataLoader(make(50), batch_size=8, shuffle=True, seed=0)
    first, second = labels_of(loader), labels_of(loader)
    for epoch in (first, second):
        assert sorted(sum(epoch, [])) == list(range(50))
        assert [len(b) for b in epoch] == [8] * 6 + [2]
    assert first != second
    assert sum(first, []) != list(range(50))


def test_shuffle_is_deterministic():
    def epochs(**kwargs):
        loader = DataLoader(make(30), batch_size=7, shuffle=True, **kwargs)
        return [labels_of(loader) for _ in range(2)]

    assert epochs(seed=5) == epochs(seed=5)
    assert epochs(seed=5) != epochs(seed=6)
    gen = epochs(generator=np.random.default_rng(5))
    assert gen == epochs(seed=5)
    torch.manual_seed(1)
    a = epochs()
    torch.manual_seed(1)
    assert epochs() == a  # the global generator, seeded by manual_seed


def test_generic_dataset_is_collated():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    x, y = batches[1]
    np.testing.assert_array_equal(x.numpy(), [[2, 4], [3, 9]])
    np.testing.assert_array_equal(y.numpy(), [2, 3])


def test_mnist_helper():
    train, test = mnist(train=True), mnist(train=False)
    assert len(train) == 4000 and len(test) == 1000
    x, y = train.arrays
    assert x.shape == (4000, 1, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    # Normalised as torchvision's Normalize((0.1307,), (0.3081,)).
    np.testing.assert_allclose(x.min(), (0 - 0.1307) / 0.3081, rtol=1e-6)
    np.testing.assert_allclose(x.max(), (1 - 0.1307) / 0.3081, rtol=1e-6)
    raw, _ = mnist(train=False, normalize=None).arrays
    assert raw.min() == 0.0 and raw.max() == 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make(), batch_size=0)
    with pytest.raises(ValueError, match="seed or generator"):
        DataLoader(make(), seed=1, generator=np.random.default_rng(1))
