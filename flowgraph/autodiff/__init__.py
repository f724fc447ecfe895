"""Symbolic differentiation: ``gradients`` adds gradient ops to the graph; a "why is this
gradient None?" explainer helps students debug them. (The numeric gradient checker runs graphs,
so it sits above the runtime, in :mod:`flowgraph.testing`.)"""

from flowgraph.autodiff import control_flow  # noqa: F401  (If/While gradients)
from flowgraph.autodiff.explain import explain_gradient
from flowgraph.autodiff.gradients import gradients


class GradientCheckError(AssertionError):
    """The symbolic and numeric gradients disagree beyond tolerance (raised by
    :func:`flowgraph.testing.check_gradients`)."""


__all__ = ["GradientCheckError", "explain_gradient", "gradients"]
