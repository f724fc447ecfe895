"""Static shapes with unknown dimensions (``[None, 784]``) and unknown rank.

>>> s = TensorShape([None, 784])
>>> s, s.rank, s.is_fully_defined()
(TensorShape([None, 784]), 2, False)
>>> s.is_compatible_with([100, 784]), s.is_compatible_with([100, 10])
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable


class TensorShape:
    """A static shape: a tuple of dimensions (int or ``None`` for unknown), or unknown rank."""

    __slots__ = ("_dims",)

    def __init__(self, dims: Iterable[int | None] | TensorShape | None = None) -> None:
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif dims is None:
            self._dims = None
        else:
            self._dims = tuple(_as_dim(d) for d in dims)

    @classmethod
    def unknown(cls) -> TensorShape:
        return cls(None)

    @property
    def dims(self) -> tuple[int | None, ...] | None:
        return self._dims

    @property
    def rank(self) -> int | None:
        return None if self._dims is None else len(self._dims)

    @property
    def ndims(self) -> int | None:
        return self.rank

    def as_list(self) -> list[int | None]:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and None not in self._dims

    def num_elements(self) -> int | None:
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:
            n *= d
        return n

    def is_compatible_with(self, other) -> bool:
        if other is self:
            return True
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def merge_with(self, other) -> TensorShape:
        """The most specific shape compatible with both; ValueError if there is none."""
        other = as_shape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        return TensorShape(a if a is not None else b for a, b in zip(self._dims, other._dims))

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other) -> bool:
        if type(other) is TensorShape:  # (the usual case, asked for every gradient)
            return self._dims == other._dims
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self) -> int:
        return hash(self._dims)

    def __repr__(self) -> str:
        if self._dims is None:
            return "TensorShape(None)"
        return f"TensorShape({list(self._dims)})"

    def __str__(self) -> str:
        """TF's compact spelling: ``[?,784]``, or ``<unknown>``."""
        if self._dims is None:
            return "<unknown>"
        return "[" + ",".join("?" if d is None else str(d) for d in self._dims) + "]"


def _as_dim(d) -> int | None:
    if d is None:
        return None
    if hasattr(d, "__index__"):
        d = d.__index__()
        if d < 0:
            if d == -1:  # TF accepts -1 for "unknown" in some places
                return None
            raise ValueError(f"Dimension {d} must be >= 0")
        return d
    raise TypeError(f"Dimension must be an int or None, got {d!r}")


def as_shape(value) -> TensorShape:
    """Convert a list/tuple of dims, ``None`` (unknown rank) or a TensorShape to a TensorShape."""
    if isinstance(value, TensorShape):
        return value
    if isinstance(value, int):
        return TensorShape([value])
    return TensorShape(value)


def broadcast_shapes(a: TensorShape, b: TensorShape) -> TensorShape:
    """NumPy broadcasting on static shapes; unknown dims stay unknown where they could be anything.

    Raises ValueError naming both shapes when two known dims differ and neither is 1.

    >>> broadcast_shapes(TensorShape([None, 1, 3]), TensorShape([4, 3]))
    TensorShape([None, 4, 3])
    """
    da, db = a._dims, b._dims
    if da is None or db is None:
        return TensorShape(None)
    if da == db or not db:  # the common cases (``x * 2``: a scalar), unknown dims included
        return a
    if not da:
        return b
    n = max(len(da), len(db))
    da = (1,) * (n - len(da)) + da
    db = (1,) * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)  # y is a known dim > 1 or None: the result must be y
        elif y is None or x == y:
            out.append(x)
        else:
            raise ValueError(f"Incompatible shapes for broadcasting: {a} and {b}")
    return TensorShape(out)
