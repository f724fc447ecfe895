"""Clipping by norm (``clip_by_norm``, ``global_norm``, ``clip_by_global_norm``), built from
other ops so their gradients come with them. ``clip_by_value`` is an op in
:mod:`flowgraph.ops.math`.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     grads, norm = clip_by_global_norm([fg.constant([3.0]), fg.constant([4.0])], 1.0)
...     fg.Session().run([grads, norm])
[[array([0.6], dtype=float32), array([0.8], dtype=float32)], np.float32(5.0)]
"""

from __future__ import annotations

from flowgraph.ops import array, math, reduce
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.losses import l2_loss

__all__ = ["clip_by_global_norm", "clip_by_norm", "global_norm"]


def global_norm(t_list, name=None):
    """``sqrt(sum(l2_norm(t) ** 2 for t in t_list))``; ``None`` entries are ignored.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(global_norm([fg.constant([3.0]), None, fg.constant([4.0])])))
    5.0
    """
    tensors = [convert_to_tensor(t) for t in t_list if t is not None]
    if not tensors:
        raise ValueError("global_norm: t_list holds no tensors")
    squares = [2.0 * l2_loss(t) for t in tensors]
    return math.sqrt(math.add_n(squares), name=name or "global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``;
    returns ``(clipped list, global_norm)`` (``None`` entries stay ``None``), as TF1 does.

    The usual pattern: ``grads, _ = tf.clip_by_global_norm(grads, 5.0)`` before
    ``apply_gradients``.
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"clip_by_global_norm: t_list must be a list of tensors, got {t_list!r}")
    t_list = list(t_list)
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    clip = math.cast(convert_to_tensor(clip_norm), norm.dtype)
    scale = clip / math.maximum(norm, clip)
    clipped = [
        None if t is None else array.identity(convert_to_tensor(t) * scale, name=name)
        for t in t_list
    ]
    return clipped, norm


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(l2norm(t, axes), clip_norm)``: ``t`` rescaled so its L2 norm over
    ``axes`` (all by default) is at most ``clip_norm``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(clip_by_norm([3.0, 4.0], 1.0))
    array([0.6, 0.8], dtype=float32)
    """
    t = convert_to_tensor(t)
    norm = math.sqrt(reduce.reduce_sum(t * t, axes, keepdims=True))
    clip = math.cast(convert_to_tensor(clip_norm), t.dtype)
    return array.identity(t * clip / math.maximum(norm, clip), name=name or "clip_by_norm")
