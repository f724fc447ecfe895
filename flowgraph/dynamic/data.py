"""Datasets and batch loading (``torch.utils.data``), plus the bundled MNIST sample.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``; a ``DataLoader`` turns it into batches of
tensors, in order or shuffled. For a :class:`TensorDataset` (arrays in memory) a batch is one
fancy index into each array, not a per-example loop.

>>> train = mnist(train=True)
>>> images, labels = train[0]
>>> images.shape, labels.dtype.name
(torch.Size([1, 28, 28]), 'int64')
>>> loader = DataLoader(train, batch_size=100, shuffle=True, seed=0)
>>> len(loader)
40
>>> data, target = next(iter(loader))
>>> data.shape, target.shape
(torch.Size([100, 1, 28, 28]), torch.Size([100]))
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from os import PathLike

import numpy as np

from flowgraph.datasets.mnist import load_arrays
from flowgraph.dynamic import tape
from flowgraph.dynamic.torch_functions import as_tensor

__all__ = [
    "DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "mnist",
    "random_split",
]  # fmt: skip


class Dataset:
    """Map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


def _host_array(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value)


class TensorDataset(Dataset):
    """Examples ``i`` of several arrays or tensors sharing their first dimension:
    ``ds[i] == (a[i], b[i], ...)`` as tensors."""

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or tensor")
        self.arrays = tuple(_host_array(t) for t in tensors)
        sizes = {a.shape[0] if a.ndim else None for a in self.arrays}
        if len(sizes) != 1 or None in sizes:
            shapes = [a.shape for a in self.arrays]
            raise ValueError(f"Size mismatch between tensors: shapes {shapes}")

    @property
    def tensors(self) -> tuple:
        """The arrays as tensors."""
        return tuple(as_tensor(a) for a in self.arrays)

    def __getitem__(self, index):
        return tuple(as_tensor(a[index]) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def batch(self, indices: np.ndarray) -> tuple:
        """The examples at ``indices``, stacked: one fancy index per array."""
        return tuple(as_tensor(a[indices]) for a in self.arrays)


def default_collate(examples: Sequence):
    """Stack a list of examples into a batch, as PyTorch's ``default_collate``: tensors,
    arrays and numbers are stacked into one tensor (a new first dimension); tuples and lists
    are collated field by field (a tuple back); dicts key by key; strings become a list.

    >>> import flowgraph.dynamic as torch
    >>> batch = default_collate([{"x": torch.ones(2), "y": 0}, {"x": torch.zeros(2), "y": 1}])
    >>> batch["x"].shape, batch["y"]
    (torch.Size([2, 2]), tensor([0, 1]))
    """
    first = examples[0]
    if isinstance(first, Mapping):
        return {key: default_collate([e[key] for e in examples]) for key in first}
    if isinstance(first, (tuple, list)):
        sizes = {len(e) for e in examples}
        if len(sizes) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return tuple(default_collate([e[k] for e in examples]) for k in range(len(first)))
    if isinstance(first, (str, bytes)):
        return list(examples)
    arrays = [_host_array(e) for e in examples]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise RuntimeError(
            f"default_collate: stack expects each example to be equal size, got shapes "
            f"{sorted(shapes)}; pad them or pass a collate_fn"
        )
    return as_tensor(np.stack(arrays))


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, renumbered from 0."""

    def __init__(self, dataset, indices) -> None:
        self.dataset, self.indices = dataset, [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[self.indices[int(i)]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, indices: np.ndarray):
        """Fast batches where the underlying dataset has them (a TensorDataset)."""
        fast = getattr(self.dataset, "batch", None)
        if fast is None:
            return default_collate([self[int(i)] for i in indices])
        return fast(np.asarray(self.indices)[indices])


def random_split(dataset, lengths, generator=None) -> list:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of ``lengths`` (counts,
    or fractions summing to 1, as in PyTorch: the remainder goes round-robin)."""
    n = len(dataset)
    lengths = list(lengths)
    if (
        lengths
        and all(0 <= x <= 1 for x in lengths)
        and abs(sum(lengths) - 1) < 1e-6
        and (sum(lengths) != n)
    ):
        counts = [int(np.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
            f"dataset ({n})!"
        )
    rng = _rng(generator)
    order = rng.permutation(n)
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + length]))
        start += length
    return subsets


def _rng(generator):
    if generator is None:
        return tape.cpu_run_context.rng
    return getattr(generator, "rng", generator)


class DataLoader:
    """Batches of a dataset: tuples of tensors, the first dimension ``batch_size`` (the last
    batch may be smaller unless ``drop_last``).

    ``shuffle`` draws a new order for each pass, from ``generator`` (a NumPy Generator) or a
    generator seeded with ``seed`` when given, else from flowgraph.dynamic's global generator
    (so ``manual_seed`` makes a whole training run reproducible).
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        generator=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        **kwargs,
    ) -> None:
        if batch_size is not None and int(batch_size) < 1:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size}")
        if seed is not None and generator is not None:
            raise ValueError("give seed or generator, not both")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn or default_collate
        self.num_workers = num_workers  # loading runs in this process whatever the number
        self.generator = np.random.default_rng(seed) if seed is not None else generator

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return _rng(self.generator).permutation(n)

    def __iter__(self) -> Iterator:
        order = self._order()
        if self.batch_size is None:  # no batching: one example at a time
            for index in order:
                yield self.dataset[int(index)]
            return
        fast = getattr(self.dataset, "batch", None) if self.collate_fn is default_collate else None
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            if fast is not None:
                yield fast(indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def mnist(
    train: bool = True,
    root: str | PathLike[str] | None = None,
    normalize: tuple[float, float] | None = (0.1307, 0.3081),
) -> TensorDataset:
    """MNIST as a TensorDataset of float32 images ``[N, 1, 28, 28]`` and int64 labels ``[N]``.

    Pixels are scaled to [0, 1] and, with ``normalize=(mean, std)``, standardised as
    torchvision's ``Normalize((0.1307,), (0.3081,))`` does. ``root=None`` uses the sample
    bundled with flowgraph (4,000 training, 1,000 test digits); a directory holding the four
    IDX files (see :func:`flowgraph.datasets.mnist.load_arrays`) gives the full set.
    """
    arrays = load_arrays(root)
    images = arrays.train_images if train else arrays.test_images
    labels = arrays.train_labels if train else arrays.test_labels
    x = images.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    if normalize is not None:
        mean, std = normalize
        x = (x - np.float32(mean)) / np.float32(std)
    return TensorDataset(x, labels.astype(np.int64))
