"""Process-wide settings, spelled as TF2's ``tf.config``: ``flowgraph.config.threading``.

>>> import flowgraph as fg
>>> fg.config.threading.get_intra_op_parallelism_threads()
1
"""

from flowgraph.config import threading
from flowgraph.runtime.config import ConfigProto
from flowgraph.runtime.fpenv import set_flush_denormal

__all__ = ["ConfigProto", "set_flush_denormal", "threading"]
