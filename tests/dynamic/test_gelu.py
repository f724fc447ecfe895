"""torch.erf, Tensor.erf, F.gelu (exact and tanh) and nn.GELU against NumPy references built on
``math.erf``, with float64 numeric gradient checks; bad ``approximate`` values are refused."""

import math

import numpy as np
import pytest

import flowgraph.dynamic as torch
import flowgraph.dynamic.nn as nn
import flowgraph.dynamic.nn.functional as F
from tests.dynamic.gradcheck import check_grads, t64

X = np.array([-6.5, -3.0, -1.0, -0.25, 0.0, 1e-8, 0.5, 2.0, 4.0, 7.0])
ERF = np.vectorize(math.erf, otypes=[float])


def test_erf_matches_math_erf_in_float64_and_float32():
    np.testing.assert_allclose(torch.erf(t64(X)).numpy(), ERF(X), rtol=1e-14, atol=1e-15)
    grid = np.linspace(-8, 8, 4001)
    np.testing.assert_allclose(torch.erf(t64(grid)).numpy(), ERF(grid), rtol=3e-15, atol=3e-15)
    x32 = torch.tensor(X.astype(np.float32))
    assert x32.erf().dtype == torch.float32
    np.testing.assert_allclose(x32.erf().numpy(), ERF(X), atol=1e-7)


@pytest.mark.parametrize(
    "approximate, reference",
    [
        ("none", lambda x: 0.5 * x * (1 + ERF(x / np.sqrt(2)))),
        ("tanh", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    ],
)
def test_gelu_matches_its_formula_and_differentiates(approximate, reference):
    # atol: 1 + erf(x) cancels for x far below 0, in the reference as in the op
    np.testing.assert_allclose(
        F.gelu(t64(X), approximate=approximate).numpy(), reference(X), rtol=1e-12, atol=1e-14
    )
    module = nn.GELU(approximate)
    np.testing.assert_allclose(module(t64(X)).numpy(), reference(X), rtol=1e-12, atol=1e-14)
    check_grads(lambda x: F.gelu(x, approximate=approximate), np.array([-2.0, -0.3, 0.0, 0.9]))


def test_erf_gradient_is_checked_numerically():
    check_grads(torch.erf, np.array([[-1.5, -0.1], [0.0, 2.5]]))


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(torch.ones(2), approximate="fast")
