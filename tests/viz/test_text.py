"""flowgraph.viz.summary and expressions: text views for print."""

from __future__ import annotations

import flowgraph as fg
from flowgraph import viz


def test_summary_is_a_table_of_ops(graph):
    x = fg.placeholder(fg.float32, [None, 784], name="x")
    w = fg.Variable(fg.zeros([784, 10]), name="w")
    logits = fg.matmul(x, w, name="logits")
    with fg.control_dependencies([logits]):
        fg.no_op(name="done")
    table = viz.summary(graph)
    lines = table.splitlines()
    assert lines[0].split() == ["op", "type", "inputs", "dtype", "shape", "created", "at"]
    row = next(line for line in lines if line.startswith("logits"))
    assert row.split()[:6] == ["logits", "MatMul", "x,", "w", "float32", "[?,10]"]
    assert "test_text.py:12 in test_summary_is" in row
    assert "^logits" in next(line for line in lines if line.startswith("done"))
    assert lines[-1] == "6 ops: 2 ops, 1 placeholder, 1 variable, 1 update, 1 control"


def test_summary_cuts_long_cells_and_shows_multiple_outputs(mlp):
    table = viz.summary(mlp.graph, max_width=12)
    assert "…" in table
    assert all(len(line) < 6 * 14 + 20 for line in table.splitlines()[:-1])
    row = next(line for line in viz.summary(mlp.graph).splitlines() if line.startswith("xentropy"))
    assert "float32, float32" in row and "[?], [?,10]" in row


def test_summary_of_tensors_lists_their_ancestors(mlp):
    table = viz.summary(mlp.accuracy)
    assert "accuracy" in table and "gradients" not in table and "Adam" not in table


def test_expressions_are_one_typed_line_per_op(graph):
    a = fg.placeholder(fg.float32, [None, 3], name="a")
    c = fg.multiply(a, 2.0, name="c")
    s = fg.reduce_sum(c, axis=1, name="s")
    text = viz.expressions(s)
    assert text.splitlines() == [
        "a:f32[?,3] = Placeholder",
        "c:f32[?,3] = Mul a:f32[?,3] 2.0",
        "s:f32[?] = Sum[axis=(1,)] c:f32[?,3]",
    ]


def test_expressions_show_outputs_literals_controls_and_updates(mlp):
    lines = viz.expressions(mlp.graph).splitlines()
    assert "x:f32[?,784] = Placeholder" in lines
    xent = next(line for line in lines if line.startswith("xentropy:"))
    assert xent.startswith("xentropy:f32[?], xentropy:1:f32[?,10] = SoftmaxCrossEntropyWithLogits")
    update = next(line for line in lines if "ApplyAdam" in line)
    assert update.startswith("Adam/update_layer1/W1/ApplyAdam = ApplyAdam layer1/W1:f32[784,256]")
    assert "Adam/learning_rate:f32[]" in update  # a named constant stays a name
    train = next(line for line in lines if line.startswith("Adam = NoOp"))
    assert "^Adam/update_layer1/W1/ApplyAdam" in train
    assert any(line.startswith("ArgMax:i64[?] = ArgMax[axis=1]") for line in lines)


def test_scalar_constants_are_inlined_and_others_listed(graph):
    v = fg.constant([1.0, 2.0], name="v")
    y = fg.add(v, 3, name="y")
    lines = viz.expressions(y).splitlines()
    assert lines == ["v:f32[2] = Const [1. 2.]", "y:f32[2] = Add v:f32[2] 3.0"]
    big = fg.constant(list(range(10)), name="big")
    assert viz.expressions(big) == "big:i32[10] = Const <int32[10]>"


def test_control_flow_functions_are_summarized(graph):
    p = fg.placeholder(fg.bool, [], name="p")
    x = fg.placeholder(fg.float32, [2], name="x")
    y = fg.cond(p, lambda: x * 2.0, lambda: x - 1.0, name="y")
    line = viz.expressions(y).splitlines()[-1]
    assert line.startswith("y:f32[2] = ")
    assert "then_branch=<function of " in line and "p:bool[] x:f32[2]" in line
