"""The GraphDef written by FileWriter.add_graph, parsed back by TensorBoard, equals the flowgraph
graph: the same nodes (names with scopes, op types, devices), edges and output shapes."""

import pytest

import flowgraph.compat.v1 as tf

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402


def seed_mlp():
    """The seed TF1 MNIST model, with gradients and Adam, as in examples/mnist_tf1.py."""
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.float32, [None, 10])
    with tf.device("/cpu:0"):
        W1 = tf.Variable(tf.random_normal([784, 256]))
    b1 = tf.Variable(tf.zeros([256]))
    h1 = tf.nn.relu(tf.matmul(x, W1) + b1)
    W2 = tf.Variable(tf.random_normal([256, 10]))
    b2 = tf.Variable(tf.zeros([10]))
    logits = tf.matmul(h1, W2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    tf.train.AdamOptimizer(0.001).minimize(loss)


def control_flow():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    flag = tf.placeholder(tf.bool, [], name="flag")
    with tf.name_scope("branchy"):
        c = tf.cond(flag, lambda: tf.tanh(x) * 2.0, lambda: x + 1.0)
    n = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s * 1.5), [tf.constant(0), c])
    with tf.control_dependencies([n[0].op]):
        tf.identity(c, name="after_loop")
    tf.gradients(tf.reduce_sum(n[1]), [x])


def written_graph_def(graph, tmp_path):
    with tf.summary.FileWriter(tmp_path, graph):
        pass
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    return acc.Graph()


def expected_input(t) -> str:
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def dims(shape_proto):
    return None if shape_proto.unknown_rank else [d.size for d in shape_proto.dim]


def flowgraph_dims(shape):
    return None if shape.rank is None else [-1 if d is None else d for d in shape.as_list()]


@pytest.mark.parametrize("build", [seed_mlp, control_flow])
def test_nodes_edges_and_shapes_equal_flowgraphs(build, tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        build()
    graph_def = written_graph_def(graph, tmp_path)
    nodes = {n.name: n for n in graph_def.node}
    ops = graph.get_operations()
    assert len(graph_def.node) == len(ops) and set(nodes) == {op.name for op in ops}
    for op in ops:
        node = nodes[op.name]
        assert node.op == op.type
        assert node.device == op.device
        assert list(node.input) == [expected_input(t) for t in op.inputs] + [
            f"^{c.name}" for c in op.control_inputs
        ]
        shapes = [dims(s) for s in node.attr["_output_shapes"].list.shape]
        assert shapes == [flowgraph_dims(t.shape) for t in op.outputs]


def test_seed_model_sits_in_tf1_scopes(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        seed_mlp()
    nodes = {n.name: n for n in written_graph_def(graph, tmp_path).node}
    assert nodes["Variable"].device == "/cpu:0"
    assert nodes["Placeholder"].attr["dtype"].type == 1  # DT_FLOAT
    assert nodes["MatMul"].attr["T"].type == 1
    assert [d.size for d in nodes["MatMul"].attr["_output_shapes"].list.shape[0].dim] == [-1, 256]
    assert nodes["gradients/MatMul_grad/MatMul"].op == "MatMul"
    applies = [n for n in nodes if n.startswith("Adam/update_") and n.endswith("/ApplyAdam")]
    assert len(applies) == 4
    assert set(nodes["Adam"].input) >= {f"^{a}" for a in applies}


def test_control_flow_is_one_node_with_its_body_noted(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        control_flow()
    nodes = {n.name: n for n in written_graph_def(graph, tmp_path).node}
    cond = nodes["branchy/cond"]
    assert cond.op == "StatelessIf" and list(cond.input) == ["flag", "x"]
    then_note = cond.attr["_body_then_branch"].s.decode()
    assert "Tanh" in then_note and cond.attr["then_branch"].func.name
    loop = next(n for n in nodes.values() if n.op == "StatelessWhile")
    assert "Mul" in loop.attr["_body_body"].s.decode()
    assert f"^{loop.name}" in nodes["after_loop"].input
