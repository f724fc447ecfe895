"""File formats: graphs as versioned JSON, checkpoints as ``.npz`` plus a JSON index.

Neither format ever pickles: reading a file runs no code from it.

- :mod:`flowgraph.io.graph_json`: :func:`export_graph` / :func:`import_graph`;
- :mod:`flowgraph.io.checkpoint`: the files :class:`flowgraph.train.Saver` writes.
"""

from flowgraph.graph.graph import Graph
from flowgraph.io.checkpoint import (
    get_checkpoint_state,
    latest_checkpoint,
    read_checkpoint,
    write_checkpoint,
)
from flowgraph.io.graph_json import (
    GraphFileError,
    export_graph,
    graph_to_dict,
    import_graph,
    import_graph_dict,
)

# TF1's graph.as_graph_def(): installed from here so the graph layer never imports io.
Graph.as_graph_def = graph_to_dict

__all__ = [
    "GraphFileError",
    "export_graph",
    "get_checkpoint_state",
    "graph_to_dict",
    "import_graph",
    "import_graph_dict",
    "latest_checkpoint",
    "read_checkpoint",
    "write_checkpoint",
]
