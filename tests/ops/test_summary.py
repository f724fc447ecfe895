"""The summary ops on every backend, their decoded outputs against NumPy references.

(Round trips through TensorBoard's own reader, tags and bad input are in tests/summary.)
"""

import io

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.ops import summary_proto

pytest.importorskip("tensorboard")


def run(fetch, feed=None):
    return summary_proto.parse(fg.Session().run(fetch, feed))


def test_scalar_against_numpy(graph):
    x = fg.placeholder(fg.float32, [None], name="x")
    data = np.array([0.5, 2.0, 3.25], np.float32)
    (value,) = run(fg.summary.scalar("average", fg.reduce_mean(x)), {x: data}).value
    assert value.tag == "average" and value.simple_value == pytest.approx(float(data.mean()))


def test_histogram_against_numpy(graph):
    x = fg.placeholder(fg.float64, [None, 2], name="x")
    data = np.random.default_rng(0).normal(0, 2, (50, 2))
    histo = run(fg.summary.histogram("h", x * 1.0), {x: data}).value[0].histo
    counts, _ = np.histogram(data, bins=np.concatenate([[-np.inf], histo.bucket_limit]))
    assert list(histo.bucket) == counts.tolist()
    assert (histo.min, histo.max, histo.num) == (data.min(), data.max(), 100)
    assert histo.sum == pytest.approx(data.sum())


def test_image_against_numpy(graph):
    from matplotlib.image import imread

    pixels = np.random.default_rng(1).random((2, 3, 4, 3)).astype(np.float32)
    images = fg.placeholder(fg.float32, [None, 3, 4, 3], name="images")
    values = run(fg.summary.image("im", images * 1.0, max_outputs=5), {images: pixels}).value
    assert [v.tag for v in values] == ["im/image/0", "im/image/1"]
    for value, image in zip(values, pixels):
        expected = (image * (np.float32(255) / image.max())).astype(np.uint8)  # TF1: in float32
        decoded = imread(io.BytesIO(value.image.encoded_image_string), format="png")
        np.testing.assert_array_equal(np.round(decoded * 255).astype(np.uint8), expected)


def test_text_and_merge(graph):
    words = fg.placeholder(fg.string, [2], name="words")
    text = fg.summary.text("t", fg.identity(words))
    scalar = fg.summary.scalar("s", fg.constant(1.0))
    merged = run(fg.summary.merge([text, scalar]), {words: ["a", "β"]})
    assert [v.tag for v in merged.value] == ["t", "s"]
    assert merged.value[0].tensor.string_val == [b"a", "β".encode()]
