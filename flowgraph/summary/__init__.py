"""TensorBoard for flowgraph: summary ops, ``FileWriter`` and the graph as TensorBoard sees it.

The TF1 spellings (also ``tf.summary`` in ``flowgraph.compat.v1``): ``scalar``, ``histogram``,
``image``, ``text``, ``merge``, ``merge_all`` build ops whose output is a serialized ``Summary``;
``FileWriter(logdir, graph)`` writes them, the graph and traced runs to an event file that
``tensorboard --logdir <dir>`` shows. Needs ``pip install "flowgraph[tensorboard]"``; importing
this module does not, and the first summary call says which extra is missing.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     w = fg.Variable([[1.0, -2.0]], name="w")
...     h = fg.summary.histogram("weights", w)
>>> h.op.name, h.op.type, h.dtype.name
('weights', 'HistogramSummary', 'string')
"""

from flowgraph.ops.summary import histogram, image, merge, merge_all, scalar, text
from flowgraph.ops.summary_proto import LazyProto
from flowgraph.summary.writer import FileWriter

# TF1 programs build summaries by hand too: tf.Summary(value=[tf.Summary.Value(...)]).
Summary = LazyProto("summary_pb2", "Summary")
Event = LazyProto("event_pb2", "Event")

__all__ = [
    "Event", "FileWriter", "Summary", "histogram", "image", "merge", "merge_all", "scalar", "text",
]  # fmt: skip
