"""The sliding-window geometry that pooling and convolution share, vectorized over pixels.

TF's padding arithmetic (``output_and_pads``), NHWC/NCHW layout helpers, a :class:`Window`
that says where each kernel offset reads in the padded input, and the checks and conversions
of the ``strides``/``ksize``/``dilations``/``padding``/``data_format`` arguments. Pooling
(:mod:`flowgraph.ops.pooling`) and convolution (:mod:`flowgraph.ops.conv`) build on it.

>>> output_and_pads(28, 5, 2, 1, "SAME")  # out = ceil(28 / 2); 3 padding: 1 before, 2 after
(14, 1, 2)
>>> four(2, "strides", "NHWC")
(1, 2, 2, 1)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from flowgraph.errors import ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, rules
from flowgraph.ops.convert import convert_to_tensor

FORMATS = ("NHWC", "NCHW")


def output_and_pads(size, k, stride, dilation, padding):
    """(output size, pad before, pad after) along one spatial dimension; None when unknown."""
    if size is None or k is None:
        return None, None, None
    extent = (k - 1) * dilation + 1
    if padding == "VALID":
        if size < extent:
            raise ShapeError(
                f"Negative dimension size: a window of extent {extent} (kernel {k}, dilation "
                f"{dilation}) does not fit in an input dimension of size {size} with VALID padding"
            )
        return (size - extent) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return out, total // 2, total - total // 2


def spatial(four, data_format):
    """The (height, width) entries of a 4-element strides/ksize/dilations attribute."""
    return (four[1], four[2]) if data_format == "NHWC" else (four[2], four[3])


def nhwc_dims(shape: TensorShape, data_format):
    """(N, H, W, C) of a rank-4 shape, or four Nones for an unknown rank."""
    if shape.rank is None:
        return (None,) * 4
    n, a, b, c = shape.dims
    return (n, a, b, c) if data_format == "NHWC" else (n, b, c, a)


def from_nhwc_dims(dims, data_format):
    """A TensorShape from (N, H, W, C) dims in ``data_format``'s order."""
    n, h, w, c = dims
    return TensorShape((n, h, w, c) if data_format == "NHWC" else (n, c, h, w))


@dataclass(frozen=True)
class Window:
    """Where each kernel offset reads in the padded NHWC input, for one op at run time."""

    kernel: tuple  # (kh, kw)
    strides: tuple
    dilations: tuple
    out: tuple  # (out_h, out_w)
    pads: tuple  # ((top, bottom), (left, right))

    @classmethod
    def make(cls, in_hw, kernel, strides, dilations, padding):
        geo = [output_and_pads(*a, padding) for a in zip(in_hw, kernel, strides, dilations)]
        return cls(
            tuple(kernel),
            tuple(strides),
            tuple(dilations),
            tuple(g[0] for g in geo),
            tuple((g[1], g[2]) for g in geo),
        )

    def offsets(self):
        """One index tuple per kernel offset (row-major): the strided slice it reads."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.strides, self.dilations, self.out
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                yield (slice(None), rows, cols, slice(None))

    def pad(self, xp, x, value=0):
        (top, bottom), (left, right) = self.pads
        if not (top or bottom or left or right):
            return x
        n, h, w, c = x.shape
        out = xp.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
        out[:, top : top + h, left : left + w, :] = x
        return out

    def padded_zeros(self, xp, nhwc, dtype):
        (top, bottom), (left, right) = self.pads
        n, h, w, c = nhwc
        return xp.zeros((n, h + top + bottom, w + left + right, c), dtype=dtype)

    def crop(self, x, nhwc):
        (top, _), (left, _) = self.pads
        return x[:, top : top + nhwc[1], left : left + nhwc[2], :]

    def check_out(self, g, what):
        if tuple(g.shape[1:3]) != self.out:
            raise ValueError(
                f"{what} has spatial size {tuple(g.shape[1:3])}, but the forward op's output "
                f"is {self.out}"
            )


def permute(xp, x, axes):
    """``x`` with its axes permuted, in any array namespace."""
    # The array-API spelling where the namespace has it (NumPy 2), else CuPy's / NumPy 1's.
    return (getattr(xp, "permute_dims", None) or xp.transpose)(x, axes)


def to_nhwc(xp, x, data_format):
    """An NCHW array as NHWC (an NHWC one unchanged)."""
    return x if data_format == "NHWC" else permute(xp, x, (0, 2, 3, 1))


def from_nhwc(xp, x, data_format):
    """An NHWC array back in ``data_format``'s layout."""
    return x if data_format == "NHWC" else permute(xp, x, (0, 3, 1, 2))


def sizes_nhwc(sizes, data_format):
    """A run-time 4-element sizes value as (N, H, W, C) ints."""
    n, a, b, c = (int(s) for s in sizes)
    return (n, a, b, c) if data_format == "NHWC" else (n, b, c, a)


def check_window_attrs(attrs, window_name):
    """ShapeError unless data_format, padding, strides and ``window_name`` (ksize or
    dilations) are valid, with 1 in the batch and depth dimensions."""
    fmt = attrs["data_format"]
    if fmt not in FORMATS:
        raise ShapeError(f"data_format must be 'NHWC' or 'NCHW', not {fmt!r}")
    if attrs["padding"] not in ("SAME", "VALID"):
        raise ShapeError(f"padding must be 'SAME' or 'VALID', not {attrs['padding']!r}")
    batch_and_depth = (0, 3) if fmt == "NHWC" else (0, 1)
    names = [("strides", attrs["strides"]), (window_name, attrs.get(window_name))]
    for name, four in names:
        if four is None:
            continue
        if len(four) != 4 or any(not isinstance(v, int) or v < 1 for v in four):
            raise ShapeError(f"{name} must be 4 positive ints, not {list(four)}")
        if any(four[i] != 1 for i in batch_and_depth):
            raise ShapeError(
                f"{name} {list(four)} must be 1 in the batch and depth dimensions ({fmt})"
            )


def static_sizes(t):
    """The static value of a 1-D int ``sizes`` tensor (a Const, or the Shape of a tensor)."""
    rules.require_kind(t, "int", "sizes")
    rules.require_rank(t, 1, "sizes")
    if t.shape.rank is not None and t.shape[0] not in (None, 4):
        raise ShapeError(f"sizes must have 4 elements, but has shape {t.shape}")
    if t.op.type == "Const":
        return TensorShape(t.op.attrs["value"].tolist())
    if t.op.type == "Shape" and t.op.inputs[0].shape.rank is not None:
        return t.op.inputs[0].shape
    return TensorShape([None] * 4)


def shape_of(t):
    """``t``'s shape as an int32 tensor: a constant when static, else a Shape op."""
    if t.shape.is_fully_defined():
        return convert_to_tensor(list(t.shape.dims), dtypes.int32, name="shape")
    return array.shape(t, out_type=dtypes.int32)


def op_window_attrs(op):
    """``op``'s attrs without the private ones, for the gradient op of the same window."""
    return {k: v for k, v in op.attrs.items() if not k.startswith("_")}


def four(value, what, data_format, default=None):
    """TF's 1-, 2- or 4-element strides/ksize/dilations (or an int) as a 4-tuple of ints."""
    if value is None:
        if default is None:
            raise ValueError(f"{what} is required")
        value = default
    if isinstance(value, numbers.Integral):
        value = [value]
    value = [int(v) for v in value]
    if len(value) == 1:
        value = value * 2
    if len(value) == 2:
        h, w = value
        value = [1, h, w, 1] if data_format == "NHWC" else [1, 1, h, w]
    return tuple(value)


def conv_attrs(strides, padding, data_format, dilations):
    """The attrs of a convolution from TF's argument spellings."""
    data_format = data_format or "NHWC"
    if not isinstance(padding, str):
        raise ValueError(f"padding must be 'SAME' or 'VALID', not {padding!r}")
    return {
        "strides": four(strides, "strides", data_format),
        "padding": padding.upper(),
        "data_format": data_format,
        "dilations": four(dilations, "dilations", data_format, default=1),
    }


def is_python(value):
    """True for a plain Python/NumPy value (not a tensor or variable)."""
    return not hasattr(value, "dtype") and not hasattr(value, "_as_graph_tensor")


def sizes_tensor(sizes):
    """``sizes`` as a tensor (int32 when given as Python ints)."""
    return convert_to_tensor(sizes, None if not is_python(sizes) else dtypes.int32)
