"""Symbolic differentiation: ``gradients`` adds gradient ops to the graph; a numeric checker
and a "why is this gradient None?" explainer help students trust and debug them."""

from flowgraph.autodiff.checker import GradientCheckError, check_gradients
from flowgraph.autodiff.explain import explain_gradient
from flowgraph.autodiff.gradients import gradients

__all__ = ["GradientCheckError", "check_gradients", "explain_gradient", "gradients"]
