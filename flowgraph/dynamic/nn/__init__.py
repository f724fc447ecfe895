"""``flowgraph.dynamic.nn``: PyTorch's ``torch.nn`` for define-by-run tensors.

``Module`` (parameters, submodules, train/eval, state_dict), layers with PyTorch's layouts and
default initialisation, and loss modules. All computation goes through
:mod:`flowgraph.dynamic.nn.functional`, i.e. the op library shared with graph mode.

>>> import flowgraph.dynamic as torch
>>> import flowgraph.dynamic.nn as nn
>>> model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
>>> sum(p.numel() for p in model.parameters())
203530
"""

from flowgraph.dynamic.nn import functional, init, utils
from flowgraph.dynamic.nn import modules_more as _more
from flowgraph.dynamic.nn.loss import CrossEntropyLoss, MSELoss, NLLLoss
from flowgraph.dynamic.nn.module import Module
from flowgraph.dynamic.nn.modules import (
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from flowgraph.dynamic.nn.modules_more import *  # noqa: F403
from flowgraph.dynamic.tensor import Parameter

__all__ = [
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "utils",
    *_more.__all__,
]
