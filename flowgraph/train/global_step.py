"""The global step: an int64 counter variable that training ops increment (TF1's API).

>>> import flowgraph as fg
>>> from flowgraph import train
>>> with fg.Graph().as_default():
...     step = train.get_or_create_global_step()
...     w = fg.Variable([0.0], name="w")
...     train_op = train.GradientDescentOptimizer(0.1).apply_gradients(
...         [(fg.constant([1.0]), w)], global_step=step)
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         _ = sess.run(train_op)
...         _ = sess.run(train_op)
...         print(sess.run(step))
2
"""

from __future__ import annotations

from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.ops.state import Variable


def get_global_step(graph=None):
    """The global step variable of ``graph`` (default graph), or None if it has none.

    It is the variable in the GLOBAL_STEP collection, else a variable named ``global_step``.
    """
    graph = graph if graph is not None else get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError("There are multiple items in collection global_step; there must be one.")
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    if not step.dtype.is_integer:
        raise TypeError(f"Existing 'global_step' must be an integer variable, not {step.dtype}")
    return step


def create_global_step(graph=None) -> Variable:
    """Create the global step (int64, 0, not trainable); ValueError if there already is one."""
    graph = graph if graph is not None else get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
        return Variable(
            0,
            trainable=False,
            name="global_step",
            dtype=dtypes.int64,
            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP],
        )


def get_or_create_global_step(graph=None):
    """The global step of ``graph`` (default graph), created on first use."""
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)


def global_step(sess, global_step_tensor) -> int:
    """The value of ``global_step_tensor`` in ``sess``, as a Python int (TF1's
    ``tf.train.global_step``)."""
    return int(sess.run(global_step_tensor))
