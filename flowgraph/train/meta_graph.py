"""Meta graphs (TF1's ``tf.train.export_meta_graph`` / ``import_meta_graph``): the ``.meta``
file a :class:`~flowgraph.train.Saver` writes next to a checkpoint is the graph in
flowgraph's graph-file format (versioned JSON, never pickle), collections included — so a
program can rebuild the model, find ``train_op`` or ``logits`` by collection or by name, and
restore the checkpoint into it without the code that built it.

>>> import os, tempfile
>>> import flowgraph as fg
>>> from flowgraph.train import Saver
>>> d = tempfile.mkdtemp()
>>> with fg.Graph().as_default():
...     w = fg.Variable([1.0, 2.0], name="w")
...     fg.add_to_collection("outputs", fg.multiply(w, 3.0, name="y"))
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         path = Saver().save(sess, os.path.join(d, "model"))
>>> with fg.Graph().as_default() as g:
...     saver = import_meta_graph(path + ".meta")
...     with fg.Session() as sess:
...         saver.restore(sess, path)
...         print(sess.run(fg.get_collection("outputs")[0]), g.get_tensor_by_name("y:0").name)
[3. 6.] y:0
"""

from __future__ import annotations

import os

from flowgraph.errors import NotFoundError
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.io import graph_json

__all__ = ["export_meta_graph", "import_meta_graph", "write_graph"]


def export_meta_graph(filename=None, graph=None, **_tf1_options) -> dict:
    """Write ``graph`` (default: the default graph) to ``filename`` as a graph file, if given,
    and return its document (TF1's MetaGraphDef; TF1's other options are accepted and
    ignored: there is one format)."""
    graph = graph or get_default_graph()
    if filename is not None:
        graph_json.export_graph(graph, os.fspath(filename))
    return graph_json.graph_to_dict(graph)


def write_graph(graph_or_graph_def, logdir, name, as_text=True) -> str:
    """Write a graph (or its document, ``sess.graph_def``) to ``logdir/name`` as a flowgraph
    graph file, creating ``logdir``; returns the path (TF1's ``tf.train.write_graph``; the
    file is JSON whatever ``as_text`` says)."""
    import json

    from flowgraph.io import files

    os.makedirs(os.fspath(logdir), exist_ok=True)
    path = os.path.join(os.fspath(logdir), name)
    if isinstance(graph_or_graph_def, dict):
        text = json.dumps(graph_or_graph_def, indent=1, allow_nan=False)
        files.atomic_write_bytes(path, text.encode("utf-8"))
    else:
        graph_json.export_graph(graph_or_graph_def, path)
    return path


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Add the graph of a ``.meta`` file (or document) to the default graph, collections
    included, and return a Saver for its global variables (None if it has none, as TF1).

    ``import_scope`` prefixes the imported names (the variables' too, so a checkpoint saved
    from the original graph restores only without a scope). ``clear_devices`` drops the
    device placements recorded in the file.
    """
    from flowgraph.train.saver import Saver  # the Saver builds on this module's caller side

    if isinstance(meta_graph_or_file, dict):
        doc, source = meta_graph_or_file, "<meta graph>"
    else:
        source = os.fspath(meta_graph_or_file)
        if not os.path.isfile(source):
            raise NotFoundError(message=f"import_meta_graph: no meta graph file at {source!r}")
        doc = graph_json.load_graph_file(source)
    if clear_devices:
        doc = dict(doc, ops=[{k: v for k, v in op.items() if k != "device"} for op in doc["ops"]])
    graph = get_default_graph()
    before = set(map(id, graph.get_collection(GraphKeys.GLOBAL_VARIABLES)))
    graph_json.import_graph_dict(doc, name=import_scope or "", source=source)
    imported = [v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES) if id(v) not in before]
    if not imported:
        return None
    return Saver(imported, **kwargs)
