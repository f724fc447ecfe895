"""NumPy values -> TensorBoard ``Summary`` protocol buffers, as TF1's summary kernels make them.

The protocol-buffer classes (``Summary``, ``HistogramProto``, ``TensorProto``...) come from the
``tensorboard`` package (``pip install "flowgraph[tensorboard]"``), imported on first use so that
``import flowgraph`` works without it. What is computed here follows TF1's C++ kernels:

- histograms use TF's default buckets (edges growing by 10% from 1e-12 to 1e20, mirrored for
  negatives, around 0) and collapse runs of empty buckets into one, as ``EncodeToProto`` does;
- float images are scaled per image as TF1's ``ImageSummary`` does (all values >= 0: the largest
  becomes 255; otherwise 0 maps to 128 and the largest magnitude to 0 or 255), then encoded as PNG
  (a few lines on the standard library's ``zlib``: TensorBoard ships no PNG encoder of its own
  that works without TensorFlow).

>>> s = parse(scalar_summary("loss", np.float32(0.25)))
>>> s.value[0].tag, s.value[0].simple_value
('loss', 0.25)
>>> h = histogram_proto(np.array([-1.0, 0.0, 0.5, 0.5]))
>>> h.num, h.min, h.max, sum(h.bucket)
(4.0, -1.0, 0.5, 4.0)
"""

from __future__ import annotations

import functools
import struct
import sys
import zlib

import numpy as np

INSTALL_HINT = 'pip install "flowgraph[tensorboard]"'


def tensorboard_protos():
    """The ``tensorboard.compat.proto`` module, or an ImportError saying which extra to install."""
    try:
        from tensorboard.compat import proto
        from tensorboard.compat.proto import summary_pb2  # noqa: F401 - loads the module
    except ImportError as e:
        raise ImportError(
            "flowgraph's summaries and FileWriter write TensorBoard's own file format and need "
            f"the tensorboard package: {INSTALL_HINT}"
        ) from e
    return proto


def _summary_pb2():
    tensorboard_protos()
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2


class LazyProto:
    """A protocol-buffer class of the ``tensorboard`` package, imported when first used, for
    TF1's ``tf.Summary`` / ``tf.summary.Summary`` and ``tf.Event``: calling it builds a message,
    attributes (``Summary.Value``) are the real class's.

    >>> Summary = LazyProto("summary_pb2", "Summary")
    >>> s = Summary(value=[Summary.Value(tag="acc", simple_value=0.5)])
    >>> s.value[0].tag
    'acc'
    """

    def __init__(self, module: str, name: str) -> None:
        self._where = (module, name)

    def resolve(self):
        import importlib

        tensorboard_protos()
        module, name = self._where
        return getattr(importlib.import_module(f"tensorboard.compat.proto.{module}"), name)

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.resolve(), attr)

    def __repr__(self) -> str:
        return f"<TensorBoard protocol buffer {'.'.join(self._where)} (loaded on use)>"


def parse(serialized: bytes):
    """A serialized ``Summary`` as the protocol-buffer object."""
    summary = _summary_pb2().Summary()
    summary.ParseFromString(bytes(serialized))
    return summary


# ---- scalars and histograms -----------------------------------------------------------------


def scalar_summary(tag: str, value) -> bytes:
    """A Summary with one ``simple_value`` (TF1's ``ScalarSummary``)."""
    pb = _summary_pb2()
    summary = pb.Summary(value=[pb.Summary.Value(tag=tag, simple_value=float(value))])
    return summary.SerializeToString()


@functools.cache
def bucket_limits() -> np.ndarray:
    """TF's default histogram bucket limits (about 1,550 of them), computed on first use."""
    positive = []
    v = 1.0e-12
    while v < 1.0e20:  # each bucket 10% wider than the last, as TF's InitDefaultBuckets
        positive.append(v)
        v *= 1.1
    positive.append(sys.float_info.max)
    positive = np.array(positive)
    limits = np.concatenate([-positive[::-1], [0.0], positive])
    limits.setflags(write=False)
    return limits


def _sum_of_squares(values: np.ndarray) -> float:
    # einsum, not np.dot: a multithreaded BLAS dot on a busy machine took milliseconds here.
    return float(np.einsum("i,i->", values, values))


def histogram_proto(values: np.ndarray):
    """A ``HistogramProto`` of ``values`` (finite) with TF's default buckets.

    Bucket ``i`` counts the values ``v`` with ``limit[i-1] <= v < limit[i]`` (C++'s
    ``upper_bound``); runs of empty buckets are merged into one that ends at the run's last limit.
    """
    pb = _summary_pb2()
    values = np.asarray(values).reshape(-1)
    # Sorting once (in the values' own dtype: float32 sorts faster) and locating the ~1,500
    # limits in the sorted values is much faster than locating every value among the limits.
    values = np.sort(values).astype(np.float64, copy=False)
    limits_all = bucket_limits()
    below = np.searchsorted(values, limits_all, side="left")  # how many values < limit[i]
    counts = np.diff(below, prepend=0)
    # Emit non-empty buckets, and of each run of empty ones only its last (TF's EncodeToProto).
    following = np.append(counts[1:], 1)
    keep = (counts > 0) | (following > 0)
    limits, buckets = limits_all[keep].tolist(), counts[keep].astype(np.float64).tolist()
    return pb.HistogramProto(
        min=float(values[0]) if values.size else sys.float_info.max,
        max=float(values[-1]) if values.size else -sys.float_info.max,
        num=float(values.size),
        sum=float(values.sum()),
        sum_squares=_sum_of_squares(values),
        bucket_limit=limits,
        bucket=buckets,
    )


def _finite(tag: str, values) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind not in "f":
        values = values.astype(np.float64)
    if values.size and not np.all(np.isfinite(values)):
        bad = "NaN" if np.isnan(values).any() else "Inf"
        raise ValueError(f"Nan in summary histogram for: {tag} (the values contain {bad})")
    return values


def histogram_summary(tag: str, values: np.ndarray) -> bytes:
    """A Summary with one histogram (TF1's ``HistogramSummary``); ValueError on NaN or Inf."""
    values = _finite(tag, values)
    pb = _summary_pb2()
    value = pb.Summary.Value(tag=tag, histo=histogram_proto(values))
    return pb.Summary(value=[value]).SerializeToString()


def numpy_histogram_summary(tag: str, values: np.ndarray, bins) -> bytes:
    """A histogram with ``np.histogram``'s ``bins`` (an int, edges, or a rule like ``"auto"``)
    instead of TF's buckets; ValueError on NaN or Inf."""
    values = _finite(tag, values).reshape(-1)
    counts, edges = np.histogram(values, bins=bins)
    pb = _summary_pb2()
    histo = pb.HistogramProto(
        min=float(values.min()),
        max=float(values.max()),
        num=float(values.size),
        sum=float(values.sum()),
        sum_squares=_sum_of_squares(values),
        bucket_limit=edges[1:].tolist(),
        bucket=counts.astype(np.float64).tolist(),
    )
    value = pb.Summary.Value(tag=tag, histo=histo)
    return pb.Summary(value=[value]).SerializeToString()


# ---- images -----------------------------------------------------------------------------------


BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)  # TF1's default ``bad_color``


def to_uint8_image(image: np.ndarray) -> np.ndarray:
    """One HWC image as uint8: uint8 kept; floats scaled as TF1's ImageSummary scales them.

    >>> to_uint8_image(np.array([[[0.0], [0.5], [1.0]]])).ravel().tolist()
    [0, 127, 255]
    >>> to_uint8_image(np.array([[[-1.0, 0.0, 1.0], [np.nan, 0.0, 0.0]]])).tolist()
    [[[1, 128, 255], [255, 0, 0]]]
    """
    if image.dtype == np.uint8:
        return image
    # In float32, as TF1's kernel computes (so a pixel lands on the same integer).
    x = np.asarray(image, dtype=np.float32)
    finite = x[np.isfinite(x)]
    lo = finite.min() if finite.size else np.float32(0)
    hi = finite.max() if finite.size else np.float32(0)
    if lo >= 0:
        scale, offset = (np.float32(255) / hi if hi > 0 else np.float32(0)), np.float32(0)
    else:
        biggest = max(abs(lo), abs(hi))
        scale = np.float32(127) / biggest if biggest > 0 else np.float32(0)
        offset = np.float32(128)
    out = np.clip(np.where(np.isfinite(x), x * scale + offset, 0.0), 0, 255).astype(np.uint8)
    bad = ~np.isfinite(x).all(axis=-1)  # TF1 paints a pixel with a NaN or Inf opaque red
    out[bad] = BAD_COLOR[: x.shape[-1]] if x.shape[-1] > 1 else BAD_COLOR[:1]
    return out


def png(image: np.ndarray) -> bytes:
    """A uint8 HWC image (1, 3 or 4 channels) as PNG bytes."""
    height, width, channels = image.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]  # gray, RGB, RGBA

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = np.ascontiguousarray(image, dtype=np.uint8).reshape(height, width * channels)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def image_summary(tag: str, images: np.ndarray, max_outputs: int) -> bytes:
    """A Summary with up to ``max_outputs`` PNG images of an NHWC batch (TF1's ``ImageSummary``):
    tags ``tag/image`` for one image, else ``tag/image/0``, ``tag/image/1``..."""
    pb = _summary_pb2()
    n = min(int(max_outputs), images.shape[0])
    values = []
    for i in range(n):
        image = to_uint8_image(images[i])
        name = f"{tag}/image" if n == 1 else f"{tag}/image/{i}"
        encoded = pb.Summary.Image(
            height=image.shape[0],
            width=image.shape[1],
            colorspace=image.shape[2],
            encoded_image_string=png(image),
        )
        values.append(pb.Summary.Value(tag=name, image=encoded))
    return pb.Summary(value=values).SerializeToString()


# ---- text and merging -------------------------------------------------------------------------


def text_summary(tag: str, strings: np.ndarray) -> bytes:
    """A Summary with a string tensor for TensorBoard's text plugin (TF1's ``summary.text``)."""
    pb = _summary_pb2()
    from tensorboard.plugins.text import metadata as text_metadata
    from tensorboard.util import tensor_util

    meta = text_metadata.create_summary_metadata(display_name=None, description=None)
    tensor = tensor_util.make_tensor_proto(np.asarray(strings, dtype=object))
    value = pb.Summary.Value(tag=tag, metadata=meta, tensor=tensor)
    return pb.Summary(value=[value]).SerializeToString()


def merge_summaries(serialized: list) -> bytes:
    """One Summary holding the values of all of ``serialized``; ValueError on a repeated tag
    (TF1's ``MergeSummary``)."""
    pb = _summary_pb2()
    merged = pb.Summary()
    seen = set()
    for item in serialized:
        for element in np.asarray(item, dtype=object).reshape(-1):
            for value in parse(element).value:
                if value.tag in seen:
                    raise ValueError(f"Duplicate tag {value.tag} found in summary inputs")
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return merged.SerializeToString()
