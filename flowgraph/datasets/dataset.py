"""In-memory data sets with TensorFlow 1's ``next_batch`` minibatch protocol.

``DataSet`` is the object that TF1's tutorials handed out as ``mnist.train``: ``images``,
``labels``, ``num_examples``, ``epochs_completed`` and ``next_batch(batch_size)``. It shuffles
at the start and again at every epoch, and a batch that runs past the end of an epoch is
stitched from the epoch's last examples and the next epoch's first, exactly as TF1 does.

Two deliberate differences from TF1: each DataSet draws its shuffles from its own
``numpy.random.Generator`` (so a seed makes it deterministic without touching global state),
and ``images`` / ``labels`` keep their original order (TF1 permuted them in place; here the
permutation is kept separately, so ``ds.images[i]`` always matches ``ds.labels[i]`` and never
moves under you).

>>> import numpy as np
>>> ds = DataSet(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5), seed=0)
>>> xs, ys = ds.next_batch(3)
>>> xs.shape, ys.shape
((3, 2), (3,))
>>> _ = ds.next_batch(3)  # 2 examples left in epoch 0, 1 from epoch 1
>>> print(ds.epochs_completed)
1
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["DataSet", "Datasets", "dense_to_one_hot", "numpy_dtype"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def numpy_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype for ``dtype``: a NumPy dtype-like or a flowgraph / TF-style DType.

    >>> numpy_dtype("float32").name
    'float32'
    """
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def dense_to_one_hot(labels: np.ndarray, num_classes: int = 10, dtype: Any = np.float32):
    """One-hot rows for integer class ids, as TF1's helper of the same name.

    >>> dense_to_one_hot(np.array([2, 0]), 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}"
        )
    one_hot = np.zeros((labels.shape[0], num_classes), dtype=numpy_dtype(dtype))
    one_hot[np.arange(labels.shape[0]), labels] = 1
    return one_hot


class DataSet:
    """Examples and labels in memory, served in shuffled minibatches by :meth:`next_batch`.

    The arguments keep TF1's order, so positional calls mean what they meant there.

    Args:
      images: an array whose first axis indexes examples. ``uint8`` pixel data is rescaled
        from [0, 255] to [0, 1] when ``dtype`` is a float type, and kept as-is for ``uint8``.
      labels: class ids or one-hot rows, one per example.
      fake_data: TF1's test stand-in: ``next_batch`` returns rows of 784 ones, labelled 0
        (``[1, 0, ...]`` with ``one_hot``); ``images`` and ``labels`` are ignored.
      one_hot: only used with ``fake_data``, for the fake labels' form.
      dtype: element type of ``images`` (default float32).
      reshape: flatten each example to one row (``[n, rows, cols, 1] -> [n, rows * cols]``).
      seed: an int, ``SeedSequence`` or ``Generator`` for the shuffles; ``None`` is random.

    >>> ds = DataSet(np.full((4, 2, 2, 1), 255, np.uint8), np.zeros(4, np.int64))
    >>> ds.images.shape, ds.images.dtype.name
    ((4, 4), 'float32')
    >>> print(ds.images.max())
    1.0
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        fake_data: bool = False,
        one_hot: bool = False,
        dtype: Any = np.float32,
        reshape: bool = True,
        seed: SeedLike = None,
    ) -> None:
        self.fake_data, self.one_hot = fake_data, one_hot
        if fake_data:  # TF1: no real examples; next_batch makes constant ones
            images, labels = np.zeros((10000, 1), np.uint8), np.zeros(10000, np.int64)
        images, labels = np.asarray(images), np.asarray(labels)
        if images.shape[:1] != labels.shape[:1] or images.ndim == 0:
            raise ValueError(
                f"images and labels must have one row per example: "
                f"images.shape={images.shape}, labels.shape={labels.shape}"
            )
        target = numpy_dtype(dtype)
        if target.kind == "f":
            scale = images.dtype == np.uint8
            images = images.astype(target)  # a copy: the caller's array is never changed
            if scale:
                images /= 255  # divide (not * 1/255) so that 255 maps to exactly 1.0
        elif target == np.uint8 and images.dtype == np.uint8:
            images = images.copy()
        else:
            raise TypeError(
                f"invalid image dtype {target.name} for {images.dtype.name} images: "
                "expected uint8 (raw pixels) or a float type (rescaled to [0, 1])"
            )
        if reshape and images.ndim > 2:
            # explicit width, not -1, so an empty set (validation_size=0) still has 784 columns
            images = images.reshape(images.shape[0], int(np.prod(images.shape[1:])))
        self._images = images
        self._labels = labels
        self._num_examples = images.shape[0]
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(self._num_examples)
        self._index_in_epoch = 0
        self._epochs_completed = 0

    @property
    def images(self) -> np.ndarray:
        return self._images

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    def __len__(self) -> int:
        return self._num_examples

    def __repr__(self) -> str:
        return (
            f"DataSet(images={self._images.shape} {self._images.dtype}, "
            f"labels={self._labels.shape} {self._labels.dtype})"
        )

    def next_batch(
        self, batch_size: int, fake_data: bool = False, shuffle: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the next ``batch_size`` examples as ``(images, labels)`` (TF1's signature:
        ``fake_data`` second, so positional calls mean what they meant in TF1).

        The order is reshuffled before the first batch and at the start of every epoch (with
        ``shuffle=True``), so each epoch visits every example exactly once. A batch that runs
        past the end of an epoch takes the epoch's remaining examples followed by the first
        ones of the next epoch; ``epochs_completed`` counts up when that happens. A batch
        larger than the whole set keeps wrapping into further epochs until it is full.

        >>> ds = DataSet(np.arange(5.0)[:, None], np.arange(5))
        >>> [ds.next_batch(2, shuffle=False)[1].tolist() for _ in range(3)]
        [[0, 1], [2, 3], [4, 0]]
        >>> ds.next_batch(7, shuffle=False)[1].tolist(), ds.epochs_completed
        ([1, 2, 3, 4, 0, 1, 2], 2)
        """
        if fake_data or self.fake_data:
            return self._fake_batch(batch_size)
        n = self._num_examples
        if batch_size < 1 or n == 0:
            raise ValueError(
                f"batch_size must be at least 1 and the set non-empty; got batch_size="
                f"{batch_size} for num_examples={n}"
            )
        if self._epochs_completed == 0 and self._index_in_epoch == 0 and shuffle:
            self._order = self._rng.permutation(n)
        parts, wanted = [], batch_size
        while wanted:
            start = self._index_in_epoch
            take = min(wanted, n - start)
            parts.append(self._order[start : start + take])
            self._index_in_epoch = start + take
            wanted -= take
            if wanted:  # the epoch ended before the batch is full: start the next one
                self._epochs_completed += 1
                if shuffle:
                    self._order = self._rng.permutation(n)
                self._index_in_epoch = 0
        idx = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return self._images[idx], self._labels[idx]

    def _fake_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        image = np.ones(784, np.float32)
        label = np.eye(10, dtype=np.float32)[0] if self.one_hot else np.int64(0)
        return np.stack([image] * batch_size), np.stack([label] * batch_size)


class Datasets(NamedTuple):
    """The ``train`` / ``validation`` / ``test`` triple that ``read_data_sets`` returns."""

    train: DataSet
    validation: DataSet
    test: DataSet
