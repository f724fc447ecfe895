"""Summary ops: graph ops whose output is a serialized TensorBoard ``Summary`` (a string scalar).

As in TF1, ``sess.run(merged)`` returns bytes that ``summary.FileWriter.add_summary(s, step)``
writes for TensorBoard. Each op takes its tag as a string-constant input (``loss/tags``, as TF1's
graphs show it) and is not differentiable. A summary's tag is its name scope: inside
``name_scope("train")``, ``scalar("loss", x)`` gets the tag ``train/loss``, and a second
``scalar("loss", ...)`` gets ``train/loss_1``. Every summary joins the ``summaries`` collection
(or ``collections=``), which ``merge_all`` merges.

Needs the ``tensorboard`` package for its protocol buffers (``pip install
"flowgraph[tensorboard]"``); without it the first summary call says so.

>>> import flowgraph as fg
>>> from flowgraph.ops import summary_proto
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [], name="x")
...     with fg.name_scope("train"):
...         s = scalar("loss", x * 2.0)
...     merged = merge_all()
...     data = fg.Session().run(merged, {x: 1.5})
>>> s.op.name, [(v.tag, v.simple_value) for v in summary_proto.parse(data).value]
('train/loss', [('train/loss', 3.0)])
"""

from __future__ import annotations

import re

import numpy as np

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import summary_proto
from flowgraph.ops.convert import constant, convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, no_gradient

__all__ = ["histogram", "image", "merge", "merge_all", "scalar", "text"]

_SCALAR = TensorShape([])
_IMAGE_DTYPES = (dtypes.uint8, dtypes.float16, dtypes.float32, dtypes.float64)


def _host(value) -> np.ndarray:
    # Summaries are bytes on the host: a CuPy array comes back with .get().
    return value.get() if hasattr(value, "get") and not isinstance(value, np.ndarray) else value


def _tag(tag_value) -> str:
    return np.asarray(tag_value, dtype=object).item().decode("utf-8")


def _run_time_error(fn, tag_value, *args):
    try:
        return np.array(fn(_tag(tag_value), *args), dtype=object)
    except ValueError as e:  # bad values seen at run time: TF1's InvalidArgument
        raise InvalidArgumentError(message=str(e)) from None


def _summary_out(inputs, attrs):
    return [(dtypes.string, _SCALAR)]


def _tag_of(inputs) -> str:
    value = inputs[0].op.attrs.get("value") if inputs[0].op.type == "Const" else None
    return repr(_tag(value)) if value is not None else repr(inputs[0].name)


# ---- scalar ---------------------------------------------------------------------------------


def _scalar_infer(inputs, attrs):
    tags, values = inputs
    if values.dtype.is_string or values.shape.rank not in (None, 0):
        raise ShapeError(
            f"summary.scalar {_tag_of(inputs)} needs a real scalar value, got a "
            f"{values.dtype.name} tensor of shape {values.shape} (reduce it first, e.g. with "
            "reduce_mean)"
        )
    return _summary_out(inputs, attrs)


def _scalar_kernel(xp, tags, values):
    values = np.asarray(_host(values))
    if values.size != 1:
        raise InvalidArgumentError(
            message=f"summary.scalar {_tag(tags)!r} needs a scalar, got shape {list(values.shape)}"
        )
    return _run_time_error(summary_proto.scalar_summary, tags, values.item())


define_op("ScalarSummary", _scalar_infer, kernel=_scalar_kernel, differentiable=False)
no_gradient("ScalarSummary")


# ---- histogram --------------------------------------------------------------------------------


def _histogram_infer(inputs, attrs):
    if not inputs[1].dtype.is_numeric:
        raise ShapeError(
            f"summary.histogram {_tag_of(inputs)} needs real numbers, got {inputs[1].dtype.name}"
        )
    return _summary_out(inputs, attrs)


def _histogram_kernel(xp, tags, values):
    return _run_time_error(summary_proto.histogram_summary, tags, np.asarray(_host(values)))


define_op("HistogramSummary", _histogram_infer, kernel=_histogram_kernel, differentiable=False)
no_gradient("HistogramSummary")


# ---- image ------------------------------------------------------------------------------------


def _image_infer(inputs, attrs):
    images = inputs[1]
    shape = images.shape
    if shape.rank not in (None, 4) or (shape.rank == 4 and shape[3] not in (None, 1, 3, 4)):
        raise ShapeError(
            f"summary.image {_tag_of(inputs)} needs a 4-D [batch, height, width, channels] "
            f"tensor with 1, 3 or 4 channels, got shape {shape}"
        )
    if images.dtype not in _IMAGE_DTYPES:
        raise ShapeError(
            f"summary.image {_tag_of(inputs)} needs uint8 or float images, got {images.dtype.name}"
        )
    return _summary_out(inputs, attrs)


def _image_kernel(xp, tags, images, *, max_images):
    images = np.asarray(_host(images))
    if images.ndim != 4 or images.shape[3] not in (1, 3, 4):
        raise InvalidArgumentError(
            message=f"summary.image {_tag(tags)!r}: images must be [batch, height, width, "
            f"channels] with 1, 3 or 4 channels, got shape {list(images.shape)}"
        )
    return _run_time_error(summary_proto.image_summary, tags, images, max_images)


define_op(
    "ImageSummary", _image_infer, kernel=_image_kernel, attrs={"max_images": 3},
    differentiable=False,
)  # fmt: skip
no_gradient("ImageSummary")


# ---- text -------------------------------------------------------------------------------------


def _text_infer(inputs, attrs):
    if not inputs[1].dtype.is_string:
        raise ShapeError(
            f"summary.text {_tag_of(inputs)} needs a string tensor, got {inputs[1].dtype.name}"
        )
    return _summary_out(inputs, attrs)


def _text_kernel(xp, tags, strings):
    return _run_time_error(summary_proto.text_summary, tags, strings)


# TF1 writes text through its generic tensor summary op, with the text plugin's metadata.
define_op("TensorSummaryV2", _text_infer, kernel=_text_kernel, differentiable=False)
no_gradient("TensorSummaryV2")


# ---- merging ----------------------------------------------------------------------------------


def _merge_infer(inputs, attrs):
    for t in inputs:
        if not t.dtype.is_string:
            raise ShapeError(
                f"summary.merge takes serialized summaries (string tensors); {t.name!r} is "
                f"{t.dtype.name}"
            )
    return _summary_out(inputs, attrs)


def _merge_kernel(xp, *summaries):
    try:
        return np.array(summary_proto.merge_summaries(summaries), dtype=object)
    except ValueError as e:
        raise InvalidArgumentError(message=str(e)) from None


define_op("MergeSummary", _merge_infer, kernel=_merge_kernel, differentiable=False)
no_gradient("MergeSummary")


# ---- the public functions -----------------------------------------------------------------


_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w.]")


def clean_tag(name: str) -> str:
    """``name`` with characters TF1 does not allow in tags replaced by ``_``, without a
    leading ``/``.

    >>> clean_tag("/loss (train)")
    'loss__train_'
    """
    return _INVALID_TAG_CHARACTERS.sub("_", str(name)).lstrip("/")


def _summary(op_type, name, value, collections, family, attrs=None):
    summary_proto.tensorboard_protos()  # no tensorboard: say which extra, before building
    value = convert_to_tensor(value)
    graph = get_default_graph()
    name = clean_tag(name)
    base = name if family is None else f"{clean_tag(family)}/{name}"
    with graph.name_scope(base) as scope:  # as TF1's summary_scope: the tag is the scope
        tag = scope.rstrip("/") if family is None else f"{clean_tag(family)}/{scope.rstrip('/')}"
        tags = constant(tag.encode("utf-8"), dtype=dtypes.string, name="tags")
        out = apply_op(op_type, [tags, value], attrs, name=scope)
    _collect(out, collections)
    return out


def _collect(tensor, collections) -> None:
    for key in [GraphKeys.SUMMARIES] if collections is None else collections:
        tensor.graph.add_to_collection(key, tensor)


def scalar(name: str, tensor, collections=None, family=None):
    """A summary of one real number (TF1's ``tf.summary.scalar``): a string tensor holding a
    serialized ``Summary``. The tag is ``name`` in the current name scope."""
    return _summary("ScalarSummary", name, tensor, collections, family)


def histogram(name: str, values, collections=None, family=None):
    """A histogram summary of ``values`` (any shape) with TF's default buckets; running it with
    a NaN or Inf among the values is an InvalidArgumentError naming the tag."""
    return _summary("HistogramSummary", name, values, collections, family)


def image(name: str, tensor, max_outputs: int = 3, collections=None, family=None):
    """A summary of up to ``max_outputs`` images of an NHWC batch (1, 3 or 4 channels, uint8 or
    float); float images are scaled per image as in TF1 (values in [0, 1] reach 255 at 1)."""
    return _summary("ImageSummary", name, tensor, collections, family, {"max_images": max_outputs})


def text(name: str, tensor, collections=None):
    """A summary of a string tensor for TensorBoard's Text dashboard (Markdown is rendered).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     t = text("notes", fg.constant("**hello**"))
    >>> t.op.type, t.dtype.name
    ('TensorSummaryV2', 'string')
    """
    return _summary("TensorSummaryV2", name, tensor, collections, None)


def merge(inputs, collections=None, name=None):
    """One summary holding the values of all of ``inputs`` (serialized summaries); running it is
    an InvalidArgumentError when two of them use the same tag."""
    summary_proto.tensorboard_protos()
    tensors = [convert_to_tensor(t) for t in inputs]
    with get_default_graph().name_scope(name or "Merge"):  # TF1: Merge/MergeSummary
        out = apply_op("MergeSummary", tensors, name="MergeSummary")
    if collections:
        _collect(out, collections)
    return out


def merge_all(key: str = GraphKeys.SUMMARIES, scope=None, name=None):
    """``merge`` of every summary in the collection ``key`` (optionally only names matching
    ``scope``), or None when there are none, as in TF1."""
    summaries = get_default_graph().get_collection(key, scope)
    if not summaries:
        return None
    return merge(summaries, name=name)
