"""Special functions: the error function ``erf`` (op type ``Erf``), which the exact GELU needs.

NumPy has no ``erf`` (SciPy does, and flowgraph does not depend on SciPy), so the kernel is
written with array-namespace arithmetic only and runs on every backend:

    erf(a) = 2/sqrt(pi) * exp(-a**2) * sum_n  2**n * a**(2n+1) / (1*3*5*...*(2n+1))

a series of positive terms (no cancellation) computed in float64; it needs about 2*a**2 + 30
terms, so ``|x|`` is clipped at 6, where ``erf`` is 1 to float64's precision. Agrees with
``math.erf`` to 3e-15 over [-8, 8] (tests/dynamic/test_gelu.py).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     print(fg.Session().run(erf(fg.constant([0.0, 0.5, -3.0], fg.float64))).round(6))
[ 0.        0.5205   -0.999978]
"""

from __future__ import annotations

import math as _pymath

from flowgraph.ops import math, namespace, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = ["erf"]

_TWO_OVER_SQRT_PI = 2.0 / _pymath.sqrt(_pymath.pi)
_CLIP = 6.0  # erf(6) = 1 - 2e-17: 1.0 in float64


def _erf_kernel(xp, x):
    wide = namespace.astype(xp, x, xp.float64)
    a = xp.minimum(xp.abs(wide), _CLIP)
    a2 = a * a
    terms = int(2 * float(xp.max(a2))) + 30 if a2.size else 0
    term, total = a, a
    for n in range(terms):
        term = term * (2 * a2 / (2 * n + 3))
        total = total + term
    result = _TWO_OVER_SQRT_PI * xp.exp(-a2) * total
    result = xp.where(wide < 0, -result, result)
    return namespace.astype(xp, result, x.dtype)


define_op("Erf", rules.float_unary, kernel=_erf_kernel, fresh_output=True, specs_only_infer=True)


def erf(x, name=None):
    """The Gauss error function ``2/sqrt(pi) * integral_0^x exp(-t**2) dt``, elementwise
    (TF1's ``tf.math.erf``, PyTorch's ``torch.erf``). Its gradient is
    ``2/sqrt(pi) * exp(-x**2)``."""
    return apply_op("Erf", [convert_to_tensor(x)], name=name or "Erf")


erf.op_type = "Erf"  # on tensors it is just this op: dynamic mode may run it directly


@gradient("Erf")
def _erf_grad(op, grad):
    """dx = g * 2/sqrt(pi) * exp(-x**2)."""
    x = op.inputs[0]
    slope = math.multiply(math.exp(math.negative(math.square(x))), _TWO_OVER_SQRT_PI)
    return [math.multiply(grad, slope)]
