"""MNIST in the shape TensorFlow 1's tutorials handed it out: ``read_data_sets(...).train``.

``read_data_sets()`` with no directory loads the sample of real MNIST digits bundled with
flowgraph (4,000 training and 1,000 test images, see ``flowgraph/datasets/data/PROVENANCE.md``),
so examples and tests run offline. Given a directory, it reads the four standard IDX files
(gzipped or not) from it, so the full 60,000 + 10,000 set — or any data set in the same format,
such as Fashion-MNIST — works unchanged. Nothing is ever written to that directory unless you
ask for ``download=True``.

>>> mnist = read_data_sets(one_hot=True, seed=0)
>>> mnist.train.images.shape, mnist.validation.labels.shape, mnist.test.num_examples
((3500, 784), (500, 10), 1000)
>>> batch_x, batch_y = mnist.train.next_batch(100)
>>> print(batch_x.shape, batch_x.dtype, batch_y.dtype)
(100, 784) float32 float32
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from flowgraph.datasets.dataset import DataSet, Datasets, dense_to_one_hot
from flowgraph.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, parse_idx

__all__ = [
    "DEFAULT_SOURCE_URLS",
    "FILES",
    "NUM_CLASSES",
    "DataSet",
    "Datasets",
    "MNISTArrays",
    "dense_to_one_hot",
    "load_arrays",
    "read_data_sets",
]

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
NUM_CLASSES = 10

# Mirrors of the full data set (yann.lecun.com itself now refuses automated downloads).
DEFAULT_SOURCE_URLS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# MD5 of the official .gz files; downloads from the default mirrors are checked against them.
_MD5 = {
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
}


class MNISTArrays(NamedTuple):
    """The raw contents of the four files: uint8 images ``[n, 28, 28]``, uint8 labels ``[n]``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def read_data_sets(
    train_dir: str | PathLike[str] | None = None,
    fake_data: bool = False,
    one_hot: bool = False,
    dtype: Any = np.float32,
    reshape: bool = True,
    validation_size: int | None = None,
    seed: int | None = None,
    source_url: str | Sequence[str] | None = None,
    *,
    download: bool = False,
    timeout: float = 10.0,
) -> Datasets:
    """Load MNIST as ``Datasets(train, validation, test)``, like TF1's ``input_data``.

    The arguments keep TF1's names and order (``read_data_sets(train_dir, fake_data=False,
    one_hot=False, dtype, reshape, validation_size, seed, source_url)``), so positional calls
    mean what they meant in TF1.

    Args:
      train_dir: a directory holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each may end in ``.gz``).
        ``None`` uses the 5,000-digit sample bundled with flowgraph.
      fake_data: TF1's test stand-in: three DataSets whose ``next_batch`` returns rows of 784
        ones with label 0, without reading any file.
      one_hot: labels as float32 one-hot rows ``[n, 10]`` instead of int64 class ids ``[n]``.
      dtype: float32 (default; pixels rescaled to [0, 1]) or another float type, or uint8 to
        keep the raw [0, 255] pixels. flowgraph / TF-style dtypes are accepted too.
      reshape: images as rows ``[n, 784]`` (default) rather than ``[n, 28, 28, 1]``.
      validation_size: how many of the first training examples to set aside as
        ``validation``. The default is TF1's 5,000 for the full data set (a 55,000 / 5,000
        split) and 500 for the bundled sample's 4,000 training images (3,500 / 500), so that
        ``validation`` is never empty by default; 0 keeps every example for training.
      seed: makes the ``next_batch`` shuffles reproducible; each of the three DataSets gets
        its own independent generator derived from it.
      download: if files are missing from ``train_dir``, fetch the full data set there
        (the only case in which anything is written to ``train_dir``).
      source_url: base URL (or list of them, tried in order) to download from; defaults to
        :data:`DEFAULT_SOURCE_URLS`, whose files are checked against the official checksums.
      timeout: seconds to wait on a silent connection while downloading.

    Raises:
      FileNotFoundError: files are missing (and ``download`` is off or failed); the message
        lists the files and the directory to put them in.
      IDXError: a file is corrupt, truncated or of the wrong kind; the message names it.
      ValueError: ``validation_size`` is outside 0..number of training examples.

    >>> mnist = read_data_sets(validation_size=500, reshape=False)
    >>> mnist.train.images.shape, mnist.validation.images.shape, mnist.test.labels.dtype.name
    ((3500, 28, 28, 1), (500, 28, 28, 1), 'int64')
    """
    if fake_data:
        fake = [DataSet([], [], fake_data=True, one_hot=one_hot) for _ in range(3)]
        return Datasets(*fake)
    arrays = load_arrays(train_dir, download=download, source_url=source_url, timeout=timeout)
    train_images, train_labels, test_images, test_labels = arrays
    n_train = train_images.shape[0]
    if validation_size is None:
        validation_size = 5000 if n_train > 5000 else n_train // 8
    if not 0 <= validation_size <= n_train:
        where = "the bundled sample" if train_dir is None else repr(os.fspath(train_dir))
        raise ValueError(
            f"validation_size must be between 0 and {n_train}, the number of training "
            f"examples in {where}; got validation_size={validation_size}"
        )

    def labels(raw: np.ndarray) -> np.ndarray:
        return dense_to_one_hot(raw, NUM_CLASSES) if one_hot else raw.astype(np.int64)

    train_seed, validation_seed, test_seed = np.random.SeedSequence(seed).spawn(3)
    v = validation_size

    def make(images: np.ndarray, raw_labels: np.ndarray, seq) -> DataSet:
        images = images[..., np.newaxis]  # [n, rows, cols, 1], TF1's layout before reshape
        return DataSet(images, labels(raw_labels), dtype=dtype, reshape=reshape, seed=seq)

    return Datasets(
        train=make(train_images[v:], train_labels[v:], train_seed),
        validation=make(train_images[:v], train_labels[:v], validation_seed),
        test=make(test_images, test_labels, test_seed),
    )


def load_arrays(
    train_dir: str | PathLike[str] | None = None,
    *,
    download: bool = False,
    source_url: str | Sequence[str] | None = None,
    timeout: float = 10.0,
) -> MNISTArrays:
    """Read the four MNIST files as raw uint8 arrays, checked for consistency.

    Arguments as in :func:`read_data_sets`; without ``train_dir``, the bundled sample.

    >>> arrays = load_arrays()
    >>> arrays.train_images.shape, arrays.test_labels.shape, arrays.train_images.dtype.name
    ((4000, 28, 28), (1000,), 'uint8')
    """
    if train_dir is None:
        root: Any = resources.files("flowgraph.datasets") / "data"
    else:
        root = Path(train_dir)
        missing = [name for name in FILES if _find(root, name) is None]
        if missing and download:
            _download(root, missing, source_url, timeout)
        elif missing:
            raise FileNotFoundError(_missing_message(root, missing))
    contents = {}
    for name in FILES:
        path = _find(root, name)
        if path is None:  # only a damaged installation gets here
            raise FileNotFoundError(f"bundled MNIST sample file {name}.gz is missing from {root}")
        contents[name] = (str(path), path.read_bytes())

    train_images = _images(*contents[TRAIN_IMAGES])
    train_labels = _labels(*contents[TRAIN_LABELS])
    test_images = _images(*contents[TEST_IMAGES])
    test_labels = _labels(*contents[TEST_LABELS])
    _check_counts(contents[TRAIN_IMAGES][0], train_images, contents[TRAIN_LABELS][0], train_labels)
    _check_counts(contents[TEST_IMAGES][0], test_images, contents[TEST_LABELS][0], test_labels)
    return MNISTArrays(train_images, train_labels, test_images, test_labels)


def _find(root: Any, name: str) -> Any:
    """The file ``name`` or ``name.gz`` under ``root`` (a Path or resource), else None."""
    for candidate in (name, name + ".gz"):
        path = root / candidate
        if path.is_file():
            return path
    return None


def _images(name: str, data: bytes) -> np.ndarray:
    images = parse_idx(data, name, IMAGES_MAGIC)
    if images.dtype != np.uint8:
        raise IDXError(f"{name}: images must be unsigned bytes, found {images.dtype}")
    return images


def _labels(name: str, data: bytes) -> np.ndarray:
    labels = parse_idx(data, name, LABELS_MAGIC)
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise IDXError(
            f"{name}: labels must be class ids 0..{NUM_CLASSES - 1}, but {bad.size} are not "
            f"(the first is {labels[bad[0]]} at index {bad[0]})"
        )
    return labels


def _check_counts(images_name: str, images: np.ndarray, labels_name: str, labels: np.ndarray):
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"image/label count mismatch: {images_name} holds {images.shape[0]} images "
            f"but {labels_name} holds {labels.shape[0]} labels"
        )


def _missing_message(root: Path, missing: Sequence[str], reason: str = "") -> str:
    if root.is_dir():
        state = "lacks " + ", ".join(missing)
    else:
        state = "is not a directory" if root.exists() else "does not exist"
    listing = "\n".join(f"  {root / (name + '.gz')}" for name in FILES)
    return (
        f"MNIST files not found: directory {str(root)!r} {state}.{reason}\n"
        f"Put the four MNIST files there (gzipped or not):\n{listing}\n"
        f"They are available from {DEFAULT_SOURCE_URLS[0]}"
        + ("" if reason else "; or pass download=True to fetch them")
        + "; or omit train_dir (read_data_sets()) to use the MNIST sample bundled with "
        "flowgraph (4,000 training and 1,000 test digits)."
    )


def _download(
    root: Path, names: Sequence[str], source_url: str | Sequence[str] | None, timeout: float
) -> None:
    """Fetch ``names`` (as .gz) into ``root``, each through a temp file renamed into place."""
    if source_url is None:
        urls, verify = DEFAULT_SOURCE_URLS, True
    else:
        urls, verify = (source_url,) if isinstance(source_url, str) else tuple(source_url), False
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        errors = []
        for base in urls:
            url = base.rstrip("/") + "/" + name + ".gz"
            try:
                _fetch(url, root / (name + ".gz"), _MD5[name] if verify else None, timeout)
                break
            # URLError and timeouts are OSErrors; a dropped connection is an HTTPException.
            except (OSError, http.client.HTTPException, ValueError) as e:
                errors.append(f"{url}: {e}")
        else:
            reason = " Download failed:\n  " + "\n  ".join(errors)
            raise FileNotFoundError(_missing_message(root, names, reason))


def _fetch(url: str, target: Path, md5: str | None, timeout: float) -> None:
    print(f"Downloading {url} -> {target}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while block := resp.read(1 << 20):
                digest.update(block)
                out.write(block)
        if md5 is not None and digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch (md5 {digest.hexdigest()}, expected {md5})")
        os.replace(tmp, target)  # atomic: a reader never sees a half-written file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
