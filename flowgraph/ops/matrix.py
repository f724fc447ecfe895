"""Matrix ops beyond ``matmul``: ``diag`` / ``diag_part``, ``matrix_determinant``,
``matrix_inverse`` (ops with kernels and gradients), and ``einsum`` / ``norm`` built from
existing ops (so their gradients come from those ops').

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     a = fg.constant([[2.0, 1.0], [1.0, 3.0]])
...     fg.Session().run([matrix_determinant(a), diag_part(a), einsum("ij,jk->ik", a, a)])
[np.float32(5.0), array([2., 3.], dtype=float32), array([[ 5.,  5.],
       [ 5., 10.]], dtype=float32)]
"""

from __future__ import annotations

import math as _math
import string

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, math, reduce, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.derived import eye
from flowgraph.ops.linalg import matmul
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "diag",
    "diag_part",
    "einsum",
    "matrix_determinant",
    "matrix_inverse",
    "norm",
    "tensordot",
    "trace",
]


# ---- diag / diag_part ------------------------------------------------------------------------


def _diag_infer(inputs, attrs):
    (x,) = inputs
    if x.shape.rank == 0:
        raise ShapeError("diag needs a tensor of rank at least 1, but got a scalar")
    if x.shape.rank is None:
        return [(x.dtype, TensorShape(None))]
    return [(x.dtype, TensorShape(x.shape.dims + x.shape.dims))]


def _diag_kernel(xp, x):
    n = _math.prod(x.shape)
    flat = xp.reshape(x, (n,))
    eye = xp.eye(n, dtype=x.dtype)
    return xp.reshape(flat[:, None] * eye, tuple(x.shape) + tuple(x.shape))


define_op("Diag", _diag_infer, kernel=_diag_kernel, fresh_output=True)


def _diag_part_infer(inputs, attrs):
    (x,) = inputs
    rank = x.shape.rank
    if rank is None:
        return [(x.dtype, TensorShape(None))]
    if rank == 0 or rank % 2:
        raise ShapeError(f"diag_part needs a tensor of even, non-zero rank, but got {x.shape}")
    half = rank // 2
    first, second = TensorShape(x.shape.dims[:half]), TensorShape(x.shape.dims[half:])
    if not first.is_compatible_with(second):
        raise ShapeError(
            f"diag_part needs a shape of the form s + s, but the halves of {x.shape} differ: "
            f"{first} and {second}"
        )
    return [(x.dtype, first.merge_with(second))]


def _diag_part_kernel(xp, x):
    half = tuple(x.shape[: x.ndim // 2])
    if half != tuple(x.shape[x.ndim // 2 :]):
        raise ShapeError(f"diag_part: the halves of shape {tuple(x.shape)} differ")
    n = _math.prod(half)
    flat = xp.reshape(x, (n * n,))
    return xp.reshape(xp.take(flat, xp.arange(0, n * n, n + 1)), half)


define_op("DiagPart", _diag_part_infer, kernel=_diag_part_kernel, fresh_output=True)


@gradient("Diag")
def _diag_grad(op, grad):
    return [diag_part(grad)]


@gradient("DiagPart")
def _diag_part_grad(op, grad):
    return [diag(grad)]


def diag(diagonal, name=None):
    """A tensor of rank ``2k`` with ``diagonal`` (rank ``k``) on its diagonal, zeros elsewhere:
    ``out[i1..ik, i1..ik] = diagonal[i1..ik]`` (TF1's ``tf.diag``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(diag([1, 2]))
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    return apply_op("Diag", [convert_to_tensor(diagonal)], name=name or "Diag")


def diag_part(input, name=None):
    """The diagonal of a tensor of shape ``s + s`` (TF1's ``tf.diag_part``), of shape ``s``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(diag_part([[1, 2], [3, 4]]))
    array([1, 4], dtype=int32)
    """
    return apply_op("DiagPart", [convert_to_tensor(input)], name=name or "DiagPart")


# ---- determinant and inverse -----------------------------------------------------------------


def _square_infer(what: str, drop_matrix: bool):
    def infer(inputs, attrs):
        (x,) = inputs
        rules.require_kind(x, "float", "input")
        rules.require_rank(x, range(2, 64), "input")
        if x.shape.rank is None:
            return [(x.dtype, TensorShape(None))]
        rows, cols = x.shape.dims[-2:]
        if rows is not None and cols is not None and rows != cols:
            raise ShapeError(f"{what} needs square matrices, but got shape {x.shape}")
        return [(x.dtype, TensorShape(x.shape.dims[:-2]) if drop_matrix else x.shape)]

    return infer


define_op(
    "MatrixDeterminant",
    _square_infer("matrix_determinant", True),
    kernel=lambda xp, x: xp.linalg.det(x),
    fresh_output=True,
)
define_op(
    "MatrixInverse",
    _square_infer("matrix_inverse", False),
    kernel=lambda xp, x: xp.linalg.inv(x),
    fresh_output=True,
)


def _transpose_last(x):
    return array.transpose(x, _swap_last_two(x))


def _swap_last_two(x):
    rank = x.shape.rank
    return list(range(rank - 2)) + [rank - 1, rank - 2]


@gradient("MatrixDeterminant")
def _det_grad(op, grad):
    x, det = op.inputs[0], op.outputs[0]
    scale = array.expand_dims(array.expand_dims(grad * det, -1), -1)
    return [scale * _transpose_last(matrix_inverse(x))]


@gradient("MatrixInverse")
def _inverse_grad(op, grad):
    inv = op.outputs[0]
    return [-matmul(matmul(inv, grad, transpose_a=True), inv, transpose_b=True)]


def matrix_determinant(input, name=None):
    """The determinant of each square matrix in ``input`` (``[..., M, M]`` -> ``[...]``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(matrix_determinant([[1.0, 2.0], [3.0, 4.0]])))
    -2.0
    """
    return apply_op("MatrixDeterminant", [convert_to_tensor(input)], name=name or "MatrixDet")


def matrix_inverse(input, adjoint=False, name=None):
    """The inverse of each square matrix in ``input`` (of its transpose when ``adjoint``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(matrix_inverse([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    x = convert_to_tensor(input)
    if adjoint:
        x = _transpose_last(x)
    return apply_op("MatrixInverse", [x], name=name or "MatrixInverse")


# ---- einsum (built from transpose, reshape, multiply and reduce_sum) -------------------------


def _expand_ellipses(equation: str, ranks: list[int | None]) -> str:
    """``equation`` with each ``...`` spelled as letters the equation does not use.

    The broadcast dimensions are aligned from the right, as NumPy aligns them: the last
    dimension an ellipsis covers gets the same letter in every operand. An implicit output
    puts the ellipsis first, as ``numpy.einsum`` does.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    operands = lhs.split(",")
    if len(operands) != len(ranks) or eq.count(".") != 3 * eq.count("..."):
        return eq  # _parse_einsum names the fault
    free = [c for c in reversed(string.ascii_letters) if c not in eq]
    widths = []
    for subs, rank in zip(operands, ranks):
        if "..." not in subs:
            widths.append(0)
            continue
        if rank is None:
            raise ValueError(
                f"einsum: an operand with '...' needs a known rank when the graph is built: "
                f"{equation!r}"
            )
        widths.append(max(rank - (len(subs) - 3), 0))
    broadcast = "".join(free[: max(widths, default=0)][::-1])

    def spell(subs: str, width: int) -> str:
        return subs.replace("...", broadcast[len(broadcast) - width :])

    operands = [spell(subs, width) for subs, width in zip(operands, widths)]
    if arrow and broadcast and "..." not in rhs:
        raise ValueError(  # as numpy.einsum: broadcast dimensions are never summed implicitly
            f"einsum: the output needs '...' for the dimensions '...' stands for: {equation!r}"
        )
    if arrow:
        rhs = spell(rhs, len(broadcast))
    else:
        used = "".join(operands)
        rhs = broadcast + "".join(
            sorted(c for c in set(used) if used.count(c) == 1 and c not in broadcast)
        )
    return ",".join(operands) + "->" + rhs


def _parse_einsum(equation: str, count: int) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    if "." in eq:
        raise ValueError(f"einsum: a '.' that is not part of '...': {equation!r}")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != count:
        raise ValueError(
            f"einsum: equation {equation!r} names {len(inputs)} operand(s) but {count} were given"
        )
    for subs in inputs + [rhs]:
        if any(c not in string.ascii_letters for c in subs):
            raise ValueError(f"einsum: subscripts must be letters: {equation!r}")
        if len(set(subs)) != len(subs):
            raise ValueError(
                f"einsum: a letter repeated within one operand (a diagonal) is not supported: "
                f"{subs!r} in {equation!r}"
            )
    if not arrow:  # implicit output: the letters used once, in alphabetical order
        used = "".join(inputs)
        rhs = "".join(sorted(c for c in set(used) if used.count(c) == 1))
    if any(c not in "".join(inputs) for c in rhs):
        raise ValueError(f"einsum: an output letter appears in no input: {equation!r}")
    return inputs, rhs


def einsum(equation: str, *inputs, name=None):
    """Einstein summation (``"ij,jk->ik"``): operands are aligned letter by letter, multiplied
    with broadcasting and summed over the letters missing from the output.

    Built from transpose, reshape, multiply and reduce_sum, so it differentiates through those
    ops. ``...`` stands for broadcast dimensions as in NumPy (their ranks must be known when the
    graph is built); a letter repeated within one operand (a diagonal) is not supported.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(einsum("i,i->", [1.0, 2.0], [3.0, 4.0]))
    np.float32(11.0)
    >>> with fg.Graph().as_default():  # a batch of matrix products
    ...     fg.Session().run(einsum("...ij,...jk->...ik", [[[1.0, 2.0]]], [[[3.0], [4.0]]]))
    array([[[11.]]], dtype=float32)
    """
    tensors = [convert_to_tensor(t) for t in inputs]
    spelled = _expand_ellipses(equation, [t.shape.rank for t in tensors])
    subscripts, out = _parse_einsum(spelled, len(tensors))
    broadcast = set(spelled) - set(equation)  # letters standing for '...': 1 broadcasts
    letters = sorted(set("".join(subscripts)), key=lambda c: (c not in out, out.find(c), c))
    sizes: dict[str, int] = {}
    aligned = None
    for subs, t in zip(subscripts, tensors):
        if t.shape.rank is not None and t.shape.rank != len(subs):
            raise ShapeError(
                f"einsum: operand of shape {t.shape} has rank {t.shape.rank}, but its "
                f"subscripts {subs!r} in {equation!r} name {len(subs)} dimensions"
            )
        for c, d in zip(subs, t.shape.dims if t.shape.rank is not None else ()):
            if c in broadcast and d == 1:
                continue
            if d is not None and sizes.setdefault(c, d) != d:
                raise ShapeError(
                    f"einsum: letter {c!r} in {equation!r} has size {sizes[c]} in one operand "
                    f"and {d} in another"
                )
        # Order this operand's letters as in `letters`, then insert size-1 dims for the rest.
        mine = sorted(subs, key=letters.index)
        t = array.transpose(t, [subs.index(c) for c in mine]) if mine != list(subs) else t
        for axis, c in enumerate(letters):
            if c not in subs:
                t = array.expand_dims(t, axis)
        aligned = t if aligned is None else math.multiply(aligned, t)
    summed = [i for i, c in enumerate(letters) if c not in out]
    result = reduce.reduce_sum(aligned, summed) if summed else aligned
    kept = [c for c in letters if c in out]
    order = [kept.index(c) for c in out]
    if order != list(range(len(order))):
        result = array.transpose(result, order)
    return array.identity(result, name=name or "Einsum")


# ---- norm --------------------------------------------------------------------------------------


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None, keep_dims=None):
    """The vector norm of ``tensor`` over ``axis`` (all elements when None): ``ord`` is
    ``"euclidean"`` / ``2``, ``1``, ``np.inf``, or ``"fro"`` (the 2-norm of all entries).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(norm([[3.0, 4.0], [0.0, 0.0]], axis=1)))
    [5. 0.]
    """
    keepdims = bool(keepdims if keepdims is not None else keep_dims)
    x = convert_to_tensor(tensor)
    if ord in ("euclidean", "fro", 2, 2.0):
        return math.sqrt(reduce.reduce_sum(x * x, axis, keepdims=keepdims), name=name or "norm")
    if ord in (1, 1.0):
        return reduce.reduce_sum(math.abs(x), axis, keepdims=keepdims, name=name or "norm")
    if ord == float("inf"):
        return reduce.reduce_max(math.abs(x), axis, keepdims=keepdims, name=name or "norm")
    raise ValueError(f"norm: ord must be 'euclidean', 'fro', 1, 2 or np.inf, got {ord!r}")


def trace(x, name=None):
    """The sum of the diagonal of each matrix in ``x`` (``[..., N, N]`` -> ``[...]``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(fg.Session().run(trace([[1.0, 2.0], [3.0, 4.0]])))
    5.0
    """
    x = convert_to_tensor(x)
    if x.shape.rank is None or x.shape.rank < 2 or x.shape.dims[-1] is None:
        raise ValueError(f"trace needs matrices with a known size, got shape {x.shape}")
    n = x.shape.dims[-1]
    return reduce.reduce_sum(x * eye(n, dtype=x.dtype), [-2, -1], name=name or "Trace")


def tensordot(a, b, axes, name=None):
    """Sum of products over ``axes``: an int ``n`` pairs the last ``n`` axes of ``a`` with the
    first ``n`` of ``b``; a pair of lists names the axes of each (built on :func:`einsum`).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     a, b = fg.ones([2, 3, 4]), fg.ones([4, 3, 5])
    ...     print(tensordot(a, b, [[1, 2], [1, 0]]).shape, tensordot(a, fg.ones([4, 5]), 1).shape)
    [2,5] [2,3,5]
    """
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    if a.shape.rank is None or b.shape.rank is None:
        raise ValueError("tensordot needs operands of known rank")
    if isinstance(axes, int):
        axes_a = list(range(a.shape.rank - axes, a.shape.rank))
        axes_b = list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int) else list(x) for x in axes)
    axes_a = [x % a.shape.rank for x in axes_a]
    axes_b = [x % b.shape.rank for x in axes_b]
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: axes {axes_a} of a and {axes_b} of b differ in number")
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.shape.rank)]
    sub_b = [next(letters) for _ in range(b.shape.rank)]
    for i, j in zip(axes_a, axes_b):
        sub_b[j] = sub_a[i]
    out = [c for i, c in enumerate(sub_a) if i not in axes_a]
    out += [c for j, c in enumerate(sub_b) if j not in axes_b]
    equation = f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}"
    return einsum(equation, a, b, name=name or "Tensordot")
