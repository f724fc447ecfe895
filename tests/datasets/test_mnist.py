"""flowgraph.datasets: bundled MNIST sample, IDX reader, DataSet.next_batch, synthetic sets."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from flowgraph.datasets import mnist, synthetic
from flowgraph.datasets.dataset import DataSet, dense_to_one_hot
from flowgraph.datasets.idx import IDXError, parse_idx, read_idx, to_idx_bytes
from flowgraph.datasets.mnist import FILES, load_arrays, read_data_sets

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILES


@pytest.fixture(scope="module")
def bundled() -> mnist.MNISTArrays:
    return load_arrays()


def tiny_arrays(n_train: int = 12, n_test: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        TRAIN_LABELS: (np.arange(n_train) % 10).astype(np.uint8),
        TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        TEST_LABELS: (np.arange(n_test) % 10).astype(np.uint8),
    }


def write_mnist(directory: Path, arrays=None, compress=False, raw=None) -> Path:
    """Write the four IDX files; ``raw`` maps a base name to bytes written instead (as is)."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = tiny_arrays() if arrays is None else arrays
    raw = raw or {}
    for name, array in arrays.items():
        suffix = ".gz" if compress else ""
        data = raw[name] if name in raw else to_idx_bytes(array, compress=compress)
        (directory / (name + suffix)).write_bytes(data)
    return directory


# --- the bundled sample --------------------------------------------------------------------


def test_bundled_sample_shapes_dtypes_and_ranges():
    data = read_data_sets(validation_size=0)
    train, validation, test = data
    assert (train.num_examples, validation.num_examples, test.num_examples) == (4000, 0, 1000)
    assert train.images.shape == (4000, 784) and test.images.shape == (1000, 784)
    assert validation.images.shape == (0, 784)
    for ds in (train, test):
        assert ds.images.dtype == np.float32 and ds.labels.dtype == np.int64
        assert ds.images.min() == 0.0 and ds.images.max() == 1.0
        assert ds.labels.shape == (ds.num_examples,)
        assert set(np.unique(ds.labels)) == set(range(10))
    # The split is 400 / 100 digits per class.
    assert np.bincount(train.labels).tolist() == [400] * 10
    assert np.bincount(test.labels).tolist() == [100] * 10
    assert train.epochs_completed == 0


def test_bundled_sample_one_hot_reshape_and_uint8(bundled):
    data = read_data_sets(one_hot=True, reshape=False, validation_size=0)
    labels = data.train.labels
    assert labels.shape == (4000, 10) and labels.dtype == np.float32
    assert set(np.unique(labels)) == {0.0, 1.0} and (labels.sum(axis=1) == 1).all()
    np.testing.assert_array_equal(labels.argmax(axis=1), bundled.train_labels)
    assert data.train.images.shape == (4000, 28, 28, 1)
    assert data.test.images.shape == (1000, 28, 28, 1)

    raw = read_data_sets(dtype=np.uint8, validation_size=0)
    assert raw.train.images.dtype == np.uint8 and raw.train.images.max() == 255
    np.testing.assert_array_equal(raw.train.images, bundled.train_images.reshape(4000, 784))
    scaled = read_data_sets(validation_size=0).train.images
    np.testing.assert_allclose(scaled * 255, raw.train.images, atol=1e-4)


def test_dtype_accepts_flowgraph_dtypes_and_rejects_integers():
    from flowgraph.graph import dtypes

    assert read_data_sets(dtype=dtypes.float64).test.images.dtype == np.float64
    with pytest.raises(TypeError, match="uint8.*float"):
        read_data_sets(dtype=np.int32)


# --- next_batch ----------------------------------------------------------------------------


def indexed(n: int, seed=0) -> DataSet:
    """A DataSet whose image i is [i, i] and label i, to track which examples come out."""
    return DataSet(
        np.repeat(np.arange(n, dtype=np.float32)[:, None], 2, 1), np.arange(n), seed=seed
    )


def test_next_batch_sizes_and_alignment():
    train = read_data_sets(one_hot=True, seed=0).train
    xs, ys = train.next_batch(100)
    assert xs.shape == (100, 784) and ys.shape == (100, 10)
    ds = indexed(10)
    for _ in range(7):
        xs, ys = ds.next_batch(4)
        assert xs.shape == (4, 2) and ys.shape == (4,)
        np.testing.assert_array_equal(xs[:, 0], ys)  # images and labels stay paired


def test_next_batch_epochs_see_every_example_once_and_stitch_the_tail():
    ds = indexed(10)
    b1, b2 = ds.next_batch(4)[1], ds.next_batch(4)[1]
    assert ds.epochs_completed == 0
    b3 = ds.next_batch(4)[1]  # 2 left in epoch 0, then 2 from epoch 1
    assert ds.epochs_completed == 1
    epoch0 = np.concatenate([b1, b2, b3[:2]])
    assert sorted(epoch0) == list(range(10))
    b4, b5 = ds.next_batch(4)[1], ds.next_batch(4)[1]
    epoch1 = np.concatenate([b3[2:], b4, b5])
    assert sorted(epoch1) == list(range(10))
    assert ds.epochs_completed == 1
    np.testing.assert_array_equal(ds.labels, np.arange(10))  # .labels never reordered


def test_next_batch_reshuffles_each_epoch():
    ds = indexed(50)
    epochs = [np.concatenate([ds.next_batch(10)[1] for _ in range(5)]) for _ in range(3)]
    assert all(sorted(e) == list(range(50)) for e in epochs)
    assert not np.array_equal(epochs[0], np.arange(50))  # shuffled at the start
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    assert ds.epochs_completed == 2  # the third epoch ends exactly; counted on the next call


def test_next_batch_without_shuffle_is_sequential():
    ds = indexed(5)
    batches = [ds.next_batch(2, shuffle=False)[1].tolist() for _ in range(4)]
    assert batches == [[0, 1], [2, 3], [4, 0], [1, 2]]


def test_next_batch_is_deterministic_with_a_seed():
    def batches(seed):
        train = read_data_sets(seed=seed).train
        return [train.next_batch(1500)[1] for _ in range(4)]  # crosses an epoch boundary

    same, again, other = batches(3), batches(3), batches(4)
    assert all(np.array_equal(a, b) for a, b in zip(same, again))
    assert not all(np.array_equal(a, b) for a, b in zip(same, other))
    a, b = indexed(20, seed=7), indexed(20, seed=7)
    for _ in range(5):
        np.testing.assert_array_equal(a.next_batch(6)[1], b.next_batch(6)[1])


@pytest.mark.parametrize("size", [0, -1])
def test_next_batch_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="batch_size"):
        indexed(10).next_batch(size)


def test_a_batch_larger_than_the_set_wraps_into_further_epochs():
    ds = indexed(4)
    xs, ys = ds.next_batch(10)
    assert xs.shape == (10, 2) and ds.epochs_completed == 2
    # Each epoch is a permutation: the first two epochs hold every example once each.
    assert sorted(ys[:4].tolist()) == sorted(ys[4:8].tolist()) == [0, 1, 2, 3]
    np.testing.assert_array_equal(xs[:, 0], ys)
    ordered = indexed(3)
    assert ordered.next_batch(7, shuffle=False)[1].tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_tf1_positional_arguments_mean_what_they_meant():
    """TF1: read_data_sets(train_dir, fake_data=False, one_hot=False, dtype, reshape,
    validation_size, seed) and next_batch(batch_size, fake_data=False, shuffle=True)."""
    data = read_data_sets(None, False, True, np.float32, False, 100, 3)
    assert data.train.labels.shape == (3900, 10) and data.validation.num_examples == 100
    assert data.train.images.shape[1:] == (28, 28, 1)
    ds = indexed(5)
    assert ds.next_batch(5, False, False)[1].tolist() == [0, 1, 2, 3, 4]  # shuffle=False
    fake = read_data_sets("no/such/dir", True, True)
    xs, ys = fake.train.next_batch(3)
    assert xs.shape == (3, 784) and (xs == 1).all() and ys.tolist() == [[1] + [0] * 9] * 3
    xs, ys = indexed(5).next_batch(2, True)  # fake_data per call, as TF1
    assert xs.shape == (2, 784) and ys.tolist() == [0, 0]


def test_default_validation_split_is_not_empty_on_the_bundled_sample():
    data = read_data_sets(one_hot=True)
    assert data.validation.num_examples == 500 and data.train.num_examples == 3500
    xs, ys = data.validation.next_batch(50)
    assert xs.shape == (50, 784) and ys.shape == (50, 10)


def test_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"images.shape=\(3, 2\), labels.shape=\(2,\)"):
        DataSet(np.zeros((3, 2)), np.zeros(2))


# --- validation split ----------------------------------------------------------------------


def test_validation_split_takes_the_first_training_examples():
    full = read_data_sets(one_hot=True, validation_size=0).train
    data = read_data_sets(one_hot=True, validation_size=500)
    assert data.train.num_examples == 3500 and data.validation.num_examples == 500
    np.testing.assert_array_equal(data.validation.images, full.images[:500])
    np.testing.assert_array_equal(data.train.labels, full.labels[500:])
    xs, ys = data.validation.next_batch(100)
    assert xs.shape == (100, 784) and ys.shape == (100, 10)
    assert read_data_sets(validation_size=4000).train.num_examples == 0


@pytest.mark.parametrize("size", [4001, 5000, -1])
def test_validation_size_out_of_range_names_both_numbers(size):
    with pytest.raises(ValueError, match=rf"between 0 and 4000.*validation_size={size}"):
        read_data_sets(validation_size=size)


# --- reading IDX files from a directory ----------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_reads_idx_files_from_a_directory(tmp_path, compress):
    arrays = tiny_arrays()
    write_mnist(tmp_path, arrays, compress=compress)
    before = sorted(tmp_path.iterdir())
    data = read_data_sets(tmp_path, dtype=np.uint8, validation_size=0)
    np.testing.assert_array_equal(data.train.images, arrays[TRAIN_IMAGES].reshape(12, 784))
    np.testing.assert_array_equal(data.test.labels, arrays[TEST_LABELS])
    assert sorted(tmp_path.iterdir()) == before  # nothing written to the user's directory


def test_reads_the_bundled_files_copied_to_a_directory_gzipped_or_not(tmp_path, bundled):
    data_dir = resources.files("flowgraph.datasets") / "data"
    for name in FILES:
        blob = (data_dir / (name + ".gz")).read_bytes()
        if name.startswith("train"):  # a mix: train files uncompressed, test files gzipped
            (tmp_path / name).write_bytes(gzip.decompress(blob))
        else:
            (tmp_path / (name + ".gz")).write_bytes(blob)
    for got, want in zip(load_arrays(tmp_path), bundled):
        np.testing.assert_array_equal(got, want)
    assert read_idx(tmp_path / TRAIN_LABELS).shape == (4000,)


def test_idx_round_trip_for_other_dtypes():
    for array in (np.arange(6, dtype=np.int32).reshape(3, 2), np.linspace(0, 1, 4)):
        out = parse_idx(to_idx_bytes(array, compress=True), "x")
        np.testing.assert_array_equal(out, array)
        assert out.dtype == array.dtype and out.flags.writeable


# --- bad input: every error names the file and the problem ---------------------------------


def _images_bytes(n=12) -> bytes:
    return to_idx_bytes(np.zeros((n, 28, 28), np.uint8))


def _gz_cut(data: bytes) -> bytes:
    blob = gzip.compress(data, mtime=0)
    return blob[: len(blob) // 2]


def _gz_corrupt(data: bytes) -> bytes:
    blob = bytearray(gzip.compress(data, mtime=0))
    blob[-8:-4] = bytes(4 * [0xAA])  # garble the CRC32 trailer
    return bytes(blob)


BAD_INPUTS = {
    "truncated data": (TRAIN_IMAGES, _images_bytes()[:-100], r"truncated: the header promises"),
    "truncated header": (TRAIN_IMAGES, _images_bytes()[:10], r"truncated header"),
    "empty file": (TEST_LABELS, b"", r"truncated: only 0 bytes"),
    "truncated gzip": (TRAIN_IMAGES, _gz_cut(_images_bytes()), r"truncated gzip"),
    "corrupt gzip": (TEST_IMAGES, _gz_corrupt(_images_bytes(6)), r"corrupt gzip"),
    "labels as images": (
        TRAIN_IMAGES,
        to_idx_bytes(np.zeros(12, np.uint8)),
        r"wrong magic number 2049 \(a label file\), expected 2051 \(an image file\)",
    ),
    "not an IDX file": (TRAIN_LABELS, b"<html>Not Found</html>", r"wrong magic number"),
    "extra data": (TRAIN_IMAGES, _images_bytes() + b"\0" * 7, r"do not match the data length"),
    "label out of range": (
        TEST_LABELS,
        to_idx_bytes(np.array([0, 1, 2, 12, 4, 5], np.uint8)),
        r"labels must be class ids 0..9.*12 at index 3",
    ),
}


@pytest.mark.parametrize("problem", BAD_INPUTS)
def test_bad_input_names_the_file_and_the_problem(tmp_path, problem):
    name, data, message = BAD_INPUTS[problem]
    write_mnist(tmp_path, raw={name: data})
    with pytest.raises(IDXError, match=message) as info:
        read_data_sets(tmp_path)
    assert str(tmp_path / name) in str(info.value)


def test_image_label_count_mismatch_names_both_files(tmp_path):
    arrays = tiny_arrays()
    arrays[TRAIN_LABELS] = arrays[TRAIN_LABELS][:-1]
    write_mnist(tmp_path, arrays, compress=True)
    with pytest.raises(ValueError, match="count mismatch.*12 images.*11 labels") as info:
        read_data_sets(tmp_path)
    for name in (TRAIN_IMAGES, TRAIN_LABELS):
        assert str(tmp_path / (name + ".gz")) in str(info.value)


# --- missing files and downloads -----------------------------------------------------------


def test_missing_directory_lists_the_files_and_mentions_the_bundled_sample(tmp_path):
    missing = tmp_path / "MNIST_data"
    with pytest.raises(FileNotFoundError) as info:
        read_data_sets(missing, one_hot=True)
    message = str(info.value)
    assert "does not exist" in message and str(missing) in message
    for name in FILES:
        assert str(missing / (name + ".gz")) in message
    assert "download=True" in message and "omit train_dir" in message
    assert not missing.exists()  # nothing created without download=True


def test_partly_missing_directory_names_the_missing_files(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / TEST_LABELS).unlink()
    with pytest.raises(FileNotFoundError, match=f"lacks {TEST_LABELS}\\."):
        read_data_sets(tmp_path)


def test_download_fetches_only_missing_files_atomically(tmp_path):
    mirror = write_mnist(tmp_path / "mirror", compress=True)
    target = write_mnist(tmp_path / "data", tiny_arrays(), compress=False)
    (target / TRAIN_IMAGES).unlink()
    (target / TEST_LABELS).unlink()
    kept = (target / TRAIN_LABELS).read_bytes()
    data = read_data_sets(target, download=True, source_url=mirror.as_uri(), validation_size=0)
    assert data.train.num_examples == 12
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted([TRAIN_IMAGES + ".gz", TEST_LABELS + ".gz", TRAIN_LABELS, TEST_IMAGES])
    assert (target / TRAIN_LABELS).read_bytes() == kept


def test_failed_download_leaves_no_partial_files(tmp_path, monkeypatch):
    target = tmp_path / "data"
    with pytest.raises(FileNotFoundError, match="Download failed") as info:
        read_data_sets(target, download=True, source_url=(tmp_path / "offline").as_uri())
    assert TRAIN_IMAGES in str(info.value)
    assert list(target.iterdir()) == []

    # From the default mirrors, files are checked against the official MD5 sums.
    mirror = write_mnist(tmp_path / "mirror", compress=True)
    monkeypatch.setattr(mnist, "DEFAULT_SOURCE_URLS", (mirror.as_uri(),))
    with pytest.raises(FileNotFoundError, match="checksum mismatch"):
        read_data_sets(target, download=True)
    assert list(target.iterdir()) == []


# --- helpers and synthetic sets ------------------------------------------------------------


def test_dense_to_one_hot_checks_the_range():
    np.testing.assert_array_equal(dense_to_one_hot(np.array([1]), 2), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="0..9"):
        dense_to_one_hot(np.array([10]))


def test_blobs_shapes_determinism_and_shared_centres():
    a, b = synthetic.blobs(300, seed=5), synthetic.blobs(300, seed=5)
    assert a.images.shape == (300, 784) and a.labels.shape == (300, 10)
    assert a.images.dtype == np.float32 and a.labels.dtype == np.float32
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.next_batch(50)[1], b.next_batch(50)[1])
    c = synthetic.blobs(300, seed=6)
    assert not np.array_equal(a.images, c.images)
    # Different seeds sample the same task: class means agree closely.
    means = [ds.images[ds.labels.argmax(1) == 3].mean(0) for ds in (a, c)]
    assert np.abs(means[0] - means[1]).mean() < 0.1


def test_blobs_are_learnable_to_over_90_percent():
    train = synthetic.blobs(1000, num_features=64, seed=0)
    test = synthetic.blobs(500, num_features=64, seed=1)
    w, b = np.zeros((64, 10), np.float32), np.zeros(10, np.float32)
    for _ in range(200):  # plain softmax regression, SGD on minibatches
        x, y = train.next_batch(100)
        z = x @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        w -= 0.5 * x.T @ (p - y) / len(x)
        b -= 0.5 * (p - y).mean(0)
    accuracy = ((test.images @ w + b).argmax(1) == test.labels.argmax(1)).mean()
    assert accuracy > 0.9


def test_spirals_shapes_and_labels():
    ds = synthetic.spirals(120, num_classes=4, one_hot=False, seed=2)
    assert ds.images.shape == (120, 2) and ds.images.dtype == np.float32
    assert np.bincount(ds.labels).tolist() == [30] * 4
    np.testing.assert_array_equal(ds.images, synthetic.spirals(120, 4, seed=2).images)
