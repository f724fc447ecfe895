"""``Size``: the shape of an eager tensor, for PyTorch users and for the shape rules alike.

A tuple (``x.shape[0]``, ``tuple(x.shape)``, ``x.shape == (2, 3)``) with the methods of
:class:`~flowgraph.graph.shape.TensorShape` that the ops' build-time shape rules call (``rank``,
``dims``, ``merge_with``, ``is_compatible_with``, ...), so one rule serves both modes.

>>> s = Size((2, 3))
>>> s == (2, 3), s[0], s.rank, str(s), s.is_compatible_with([None, 3])
(True, 2, 2, 'torch.Size([2, 3])', True)
"""

from __future__ import annotations

from math import prod

from flowgraph.graph.shape import TensorShape


class Size(tuple):
    """A concrete shape: a tuple of ints that also speaks :class:`TensorShape`'s language."""

    __slots__ = ()

    @property
    def dims(self) -> tuple:
        return tuple(self)

    _dims = dims

    @property
    def rank(self) -> int:
        return len(self)

    ndims = rank

    def as_list(self) -> list:
        return list(self)

    def is_fully_defined(self) -> bool:
        return True

    def num_elements(self) -> int:
        return prod(self)

    numel = num_elements

    def is_compatible_with(self, other) -> bool:
        return TensorShape(self).is_compatible_with(other)

    def merge_with(self, other) -> TensorShape:
        return TensorShape(self).merge_with(other)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"  # as PyTorch prints it, str() and repr() alike

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
