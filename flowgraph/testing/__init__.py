"""Tools for testing models and ops: they build and run graphs, so they sit above the runtime.

:func:`check_gradients` compares symbolic gradients with central differences, like
``torch.autograd.gradcheck`` or TF1's ``tf.test.compute_gradient_error``.
"""

from flowgraph.testing.gradient_check import GradientCheckError, check_gradients

__all__ = ["GradientCheckError", "check_gradients"]
