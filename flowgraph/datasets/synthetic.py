"""Small synthetic classification sets that train in seconds, for tests and teaching.

Both functions return a :class:`~flowgraph.datasets.dataset.DataSet` (``images``, ``labels``,
``next_batch``), so they drop in wherever ``read_data_sets(...).train`` is used.

- :func:`blobs`: one noisy cluster per class, MNIST-shaped by default (784 features in [0, 1],
  10 classes). Linearly separable for all but tiny ``num_features`` / large ``noise``; the TF1
  MNIST MLP reaches well over 90% accuracy on it in a few hundred steps.
- :func:`spirals`: interleaved 2-D spiral arms, the classic set that a linear model cannot
  separate but a small MLP can.

>>> train = blobs(200, num_features=16, num_classes=4, seed=0)
>>> test = blobs(100, num_features=16, num_classes=4, seed=1)  # same clusters, new samples
>>> train.images.shape, train.labels.shape, test.num_examples
((200, 16), (200, 4), 100)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flowgraph.datasets.dataset import DataSet, dense_to_one_hot

__all__ = ["blobs", "spirals"]


def blobs(
    n: int = 1000,
    num_features: int = 784,
    num_classes: int = 10,
    seed: int | None = 0,
    one_hot: bool = True,
    noise: float = 0.3,
    centers_seed: int = 0,
    dtype: Any = np.float32,
) -> DataSet:
    """``n`` examples in ``num_classes`` balanced classes, each a noisy copy of its class's centre.

    Each class has a centre drawn uniformly from ``[0, 1] ** num_features`` (fixed by
    ``centers_seed``, so sets made with different ``seed`` values are train/test samples of the
    same task); an example is its centre plus Gaussian noise of standard deviation ``noise``,
    clipped to ``[0, 1]`` like pixel intensities. Centres lie about ``sqrt(num_features / 6)``
    apart, so with the defaults the classes are far apart relative to the noise (easy), while
    e.g. ``num_features=2`` with ``noise=0.3`` overlaps heavily (hard).

    Labels are float32 one-hot rows (``one_hot=True``, the default, matching the TF1 MNIST
    program) or int64 class ids. ``seed`` also seeds the DataSet's ``next_batch`` shuffles.

    >>> ds = blobs(50, num_features=3, num_classes=5, one_hot=False)
    >>> ds.images.shape, ds.labels.dtype.name, sorted(set(ds.labels.tolist()))
    ((50, 3), 'int64', [0, 1, 2, 3, 4])
    >>> print(0.0 <= ds.images.min() and ds.images.max() <= 1.0)
    True
    """
    _check_sizes(n, num_classes)
    centers = np.random.default_rng(centers_seed).uniform(size=(num_classes, num_features))
    data_seed, shuffle_seed = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(data_seed)
    labels = rng.permutation(np.arange(n) % num_classes)
    images = centers[labels] + noise * rng.standard_normal((n, num_features))
    np.clip(images, 0.0, 1.0, out=images)
    return _dataset(images, labels, num_classes, one_hot, dtype, shuffle_seed)


def spirals(
    n: int = 300,
    num_classes: int = 3,
    seed: int | None = 0,
    one_hot: bool = True,
    noise: float = 0.2,
    turns: float = 0.65,
    dtype: Any = np.float32,
) -> DataSet:
    """``n`` 2-D points on ``num_classes`` interleaved spiral arms (features in about [-1, 1]).

    Arm ``k`` winds ``turns`` revolutions outwards from the origin, rotated by ``k / num_classes``
    of a turn; ``noise`` jitters the angle. Not linearly separable: with the defaults a softmax
    regression gets only about half of the points right, a one-hidden-layer MLP nearly all.

    >>> ds = spirals(90, one_hot=False)
    >>> ds.images.shape, ds.labels.shape
    ((90, 2), (90,))
    >>> print(bool((abs(ds.images) <= 1.0).all()))
    True
    """
    _check_sizes(n, num_classes)
    data_seed, shuffle_seed = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(data_seed)
    labels = rng.permutation(np.arange(n) % num_classes)
    radius = rng.uniform(0.05, 1.0, size=n)
    angle = 2 * np.pi * (turns * radius + labels / num_classes) + noise * rng.standard_normal(n)
    images = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return _dataset(images, labels, num_classes, one_hot, dtype, shuffle_seed)


def _check_sizes(n: int, num_classes: int) -> None:
    if n < 1 or num_classes < 1:
        raise ValueError(f"need n >= 1 and num_classes >= 1, got n={n}, num_classes={num_classes}")


def _dataset(images, labels, num_classes, one_hot, dtype, seed) -> DataSet:
    labels = dense_to_one_hot(labels, num_classes) if one_hot else labels.astype(np.int64)
    return DataSet(images, labels, dtype=dtype, reshape=False, seed=seed)
