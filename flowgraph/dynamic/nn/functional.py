"""``flowgraph.dynamic.nn.functional``, spelled as PyTorch spells it: the functions of
:mod:`flowgraph.dynamic.functional` (``import flowgraph.dynamic.nn.functional as F``)."""

from flowgraph.dynamic.functional import *  # noqa: F403
from flowgraph.dynamic.functional import __all__  # noqa: F401
