"""Importing ONNX models: the graph runs, draws and differentiates; unknown ops and hostile
files fail with clear errors before anything big is allocated."""

from __future__ import annotations

import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import flowgraph as fg  # noqa: E402
import flowgraph.onnx as fo  # noqa: E402
from flowgraph import viz  # noqa: E402


def mlp_model(rng) -> onnx.ModelProto:
    """x[N,4] -> Gemm -> Relu -> MatMul + bias -> Softmax, weights as initializers."""
    w1 = numpy_helper.from_array(rng.normal(size=(4, 5)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(rng.normal(size=5).astype(np.float32), "b1")
    w2 = numpy_helper.from_array(rng.normal(size=(5, 3)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="dense1", alpha=0.5),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["logits"], name="dense2"),
        helper.make_node("Softmax", ["logits"], ["p"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 3])],
        [w1, b1, w2],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def reference(model, x):
    w1, b1, w2 = (numpy_helper.to_array(t) for t in model.graph.initializer)
    logits = np.maximum(0.5 * x @ w1 + b1, 0) @ w2
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_imported_model_runs_draws_and_differentiates():
    rng = np.random.default_rng(0)
    model = mlp_model(rng)
    m = fo.import_model(model)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    (p,) = m.run(x)
    np.testing.assert_allclose(p, reference(model, x), rtol=1e-5, atol=1e-6)
    assert m.inputs[0].shape.as_list() == [None, 4]
    # viz.draw: one cluster per ONNX node, named after it
    source = viz.draw(m.graph).source
    assert "cluster" in source and "dense1" in source and "softmax" in source
    # gradients w.r.t. the input: a central difference on one pixel agrees (float32, so loosely;
    # the float64 checks below are strict)
    with m.graph.as_default():
        score = fg.reduce_sum(m.outputs[0] * [1.0, 2.0, 3.0])
        (dx,) = fg.gradients(score, [m.inputs[0]])
    with fg.Session(graph=m.graph) as sess:
        analytic = sess.run(dx, {m.inputs[0]: x})
        eps = 1e-2
        up, down = x.copy(), x.copy()
        up[0, 1] += eps
        down[0, 1] -= eps
        numeric = (sess.run(score, {m.inputs[0]: up}) - sess.run(score, {m.inputs[0]: down})) / (
            2 * eps
        )
    assert analytic[0, 1] == pytest.approx(numeric, rel=1e-2, abs=1e-3)


def test_gradients_match_a_numeric_check_in_float64():
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.normal(size=(3, 2)), "w")  # float64 weights
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        helper.make_node("Tanh", ["h"], ["t"]),
        helper.make_node("ReduceSum", ["t"], ["y"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [])], [w],
    )  # fmt: skip
    m = fo.import_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))
    with m.graph.as_default():
        result = fg.check_gradients(
            m.outputs[0], [m.inputs[0]], {m.inputs[0]: rng.normal(size=(2, 3))}
        )
    assert result.ok and result.max_error < 1e-6


def test_initializers_as_variables_train():
    rng = np.random.default_rng(2)
    m = fo.import_model(mlp_model(rng), initializers="variables")
    assert m.initializer is not None
    with m.graph.as_default():
        variables = fg.trainable_variables()
        assert sorted(v.op.name for v in variables) == ["b1", "w1", "w2"]
        loss = -fg.reduce_mean(fg.log(m.outputs[0][:, 0]))
        step = fg.train.GradientDescentOptimizer(0.5).minimize(loss)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    with fg.Session(graph=m.graph) as sess:
        sess.run(m.initializer)
        before = sess.run(loss, {m.inputs[0]: x})
        for _ in range(20):
            sess.run(step, {m.inputs[0]: x})
        assert sess.run(loss, {m.inputs[0]: x}) < before


def test_export_then_import_round_trip(graph):
    x = fg.placeholder(fg.float32, [None, 6, 6, 2], name="x")
    w = fg.constant(np.random.default_rng(3).normal(size=(3, 3, 2, 4)).astype(np.float32))
    y = fg.nn.avg_pool(
        fg.nn.relu(fg.nn.conv2d(x, w, [1, 2, 2, 1], "SAME")), [1, 2, 2, 1], [1, 1, 1, 1], "SAME"
    )
    out = fg.reduce_max(y, axis=[1, 2])
    images = np.random.default_rng(4).random((3, 6, 6, 2)).astype(np.float32)
    expected = fg.Session().run(out, {x: images})
    m = fo.import_model(fo.export(out, x))
    np.testing.assert_allclose(m.run(images)[0], expected, rtol=1e-5, atol=1e-6)


def raw_tensor(name, dims, raw=b"", data_type=TensorProto.FLOAT):
    """A TensorProto as a hostile file may hold it (onnx.helper refuses to build a lie)."""
    t = TensorProto()
    t.name, t.data_type = name, data_type
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def one_node(op_type, inputs, outputs, initializers=(), **attrs):
    node = helper.make_node(op_type, [i[0] for i in inputs], outputs, name="n0", **attrs)
    infos = [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs]
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    graph = helper.make_graph([node], "g", infos, outs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_unknown_op_names_the_node_and_op_type():
    model = one_node("Einsum", [("x", TensorProto.FLOAT, [2])], ["y"], equation="i->i")
    with pytest.raises(fo.ONNXImportError, match=r"node 'n0' \(op Einsum\).*no mapping"):
        fo.import_model(model)


def test_unsupported_attribute_is_refused_not_ignored():
    model = one_node(
        "Conv", [("x", TensorProto.FLOAT, [1, 4, 5, 5]), ("w", TensorProto.FLOAT, [4, 2, 3, 3])],
        ["y"], group=2,
    )  # fmt: skip
    with pytest.raises(fo.ONNXImportError, match=r"'n0' \(op Conv\): group=2"):
        fo.import_model(model)


def test_huge_declared_shape_allocates_nothing():
    huge = raw_tensor("w", [1 << 20, 1 << 20], b"\0" * 16)
    model = one_node("Add", [("x", TensorProto.FLOAT, [2])], ["y"], [huge])
    model.graph.node[0].input.append("w")
    with pytest.raises(
        fo.ONNXImportError, match=r"initializer 'w' declares shape \[1048576, 1048576\]"
    ):
        fo.import_model(model)
    small_lie = raw_tensor("w", [1000, 1000], b"\0" * 16)
    model.graph.initializer[0].CopyFrom(small_lie)
    with pytest.raises(fo.ONNXImportError, match="stores 16 bytes"):
        fo.import_model(model)
    lie = raw_tensor("c", [1 << 16, 1 << 16], b"\0" * 4)
    const = one_node("Constant", [], ["y"], value=lie)
    with pytest.raises(fo.ONNXImportError, match="attribute 'value' declares shape"):
        fo.import_model(const)


def test_constant_of_shape_refuses_a_huge_shape():
    shape = numpy_helper.from_array(np.array([1 << 40, 4], np.int64), "s")
    model = one_node("ConstantOfShape", [("s", TensorProto.INT64, [2])], ["y"], [shape])
    with pytest.raises(fo.ONNXImportError, match="too large"):
        fo.import_model(model)


def test_constant_inputs_fold_only_when_small():
    # Expand of a constant to a huge shape: folding it would allocate terabytes
    value = numpy_helper.from_array(np.float32([1.0]), "v")
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "s")
    node = helper.make_node("Expand", ["v", "s"], ["y"])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([node], "g", [], [out], [value, shape])
    m = fo.import_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))
    assert m.outputs[0].op.type != "Const" and m.outputs[0].shape.as_list() == [1 << 20, 1 << 20]
    # a small computed shape does fold, so a later Reshape reads it as a constant
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    nodes = [
        helper.make_node("Shape", ["x"], ["sx"]),
        helper.make_node("ReduceProd", ["sx"], ["n"], keepdims=1),
        helper.make_node("Reshape", ["x", "n"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6])]
    )
    m = fo.import_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))
    assert m.outputs[0].op.inputs[0] is m.inputs[0] and m.outputs[0].shape.as_list() == [6]


def test_missing_input_and_undefined_output():
    model = one_node("Relu", [("x", TensorProto.FLOAT, [2])], ["y"])
    model.graph.node[0].input[0] = "nowhere"
    with pytest.raises(fo.ONNXImportError, match=r"'n0' \(op Relu\) reads 'nowhere'"):
        fo.import_model(model)
    model = one_node("Relu", [("x", TensorProto.FLOAT, [2])], ["y"])
    model.graph.output[0].name = "z"
    with pytest.raises(fo.ONNXImportError, match="graph output 'z'"):
        fo.import_model(model)


def test_cycle_is_reported_and_out_of_order_nodes_are_sorted():
    a = helper.make_node("Relu", ["b"], ["a"], name="first")
    b = helper.make_node("Neg", ["a"], ["b"], name="second")
    graph = helper.make_graph(
        [a, b], "g", [], [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2])]
    )
    with pytest.raises(
        fo.ONNXImportError, match="cycle.*'first'.*'second'|cycle.*'second'.*'first'"
    ):
        fo.import_model(helper.make_model(graph))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    later = helper.make_node("Neg", ["a"], ["b"], name="later")
    earlier = helper.make_node("Relu", ["x"], ["a"], name="earlier")
    graph = helper.make_graph(
        [later, earlier], "g", [x], [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2])]
    )
    m = fo.import_model(helper.make_model(graph))
    np.testing.assert_array_equal(m.run(np.float32([-1, 2]))[0], [0, -2])


def external_model(tmp_path, location, nbytes=8):
    w = raw_tensor("w", [2])
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("length", str(nbytes))):
        entry = w.external_data.add()
        entry.key, entry.value = k, v
    model = one_node("Add", [("x", TensorProto.FLOAT, [2])], ["y"], [w])
    model.graph.node[0].input.append("w")
    path = tmp_path / "model" / "m.onnx"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../secret.bin"])
def test_external_data_outside_the_model_folder_is_refused(tmp_path, location):
    (tmp_path / "secret.bin").write_bytes(b"\1" * 8)
    path = external_model(tmp_path, location)
    with pytest.raises(fo.ONNXImportError, match="external data"):
        fo.import_model(path)


def test_external_data_symlink_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "secret.bin").write_bytes(b"\1" * 8)
    path = external_model(tmp_path, "link.bin")
    os.symlink(tmp_path / "secret.bin", path.parent / "link.bin")
    with pytest.raises(fo.ONNXImportError, match="leads outside"):
        fo.import_model(path)


def test_external_data_inside_the_folder_is_read_and_checked(tmp_path):
    path = external_model(tmp_path, "w.bin")
    (path.parent / "w.bin").write_bytes(np.float32([1, 2]).tobytes())
    m = fo.import_model(path)
    np.testing.assert_array_equal(m.run(np.float32([10, 20]))[0], [11, 22])
    (path.parent / "w.bin").write_bytes(b"\0" * 4)  # shorter than the declared [2] floats
    with pytest.raises(fo.ONNXImportError, match="does not hold the 8 bytes"):
        fo.import_model(path)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        fo.import_model(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff" * 100)
    with pytest.raises(fo.ONNXImportError, match="not a readable ONNX model"):
        fo.import_model(junk)
    big = tmp_path / "big.onnx"
    big.write_bytes(b"\0" * 2000)
    with pytest.raises(fo.ONNXImportError, match="over the limit"):
        fo.import_model(big, max_bytes=1000)


def test_unsupported_dtype_and_subgraphs():
    model = one_node("Relu", [("x", TensorProto.UINT32, [2])], ["y"])
    with pytest.raises(fo.ONNXImportError, match="graph input 'x' has element type UINT32"):
        fo.import_model(model)
    branch = helper.make_graph([], "b", [], [])
    model = one_node(
        "If", [("c", TensorProto.BOOL, [])], ["y"], then_branch=branch, else_branch=branch
    )
    with pytest.raises(fo.ONNXImportError, match="subgraph"):
        fo.import_model(model)


def test_fed_shape_inputs_are_bound_at_import():
    model = one_node(
        "Reshape", [("x", TensorProto.FLOAT, [2, 3]), ("s", TensorProto.INT64, [3])], ["y"]
    )
    free = fo.import_model(model)  # a fed shape without zeros: a run-time reshape
    got = free.run(np.ones((2, 3), np.float32), np.int64([3, 1, 2]))[0]
    assert got.shape == (3, 1, 2)
    model = one_node("Tile", [("x", TensorProto.FLOAT, [2]), ("r", TensorProto.INT64, [1])], ["y"])
    with pytest.raises(fo.ONNXImportError, match=r"graph input 'r'.*bind=\{'r': value\}"):
        fo.import_model(model)
    bound = fo.import_model(model, bind={"r": np.int64([3])})
    assert [t.op.name for t in bound.inputs] == ["x"]
    np.testing.assert_array_equal(bound.run(np.float32([1, 2]))[0], [1, 2] * 3)
    with pytest.raises(fo.ONNXImportError, match="not graph inputs"):
        fo.import_model(model, bind={"nope": 1})


def test_onnx_semantics_mapped_explicitly():
    # integer Div truncates toward zero in ONNX (TF's floordiv floors)
    div = one_node("Div", [("a", TensorProto.INT32, [4]), ("b", TensorProto.INT32, [4])], ["y"])
    got = fo.import_model(div).run(np.int32([7, -7, 7, -7]), np.int32([2, 2, -2, -2]))[0]
    np.testing.assert_array_equal(got, [3, -3, -3, 3])
    # Mod fmod=1 takes the dividend's sign (C's fmod)
    mod = one_node(
        "Mod", [("a", TensorProto.INT32, [4]), ("b", TensorProto.INT32, [4])], ["y"], fmod=1
    )
    got = fo.import_model(mod).run(np.int32([7, -7, 7, -7]), np.int32([3, 3, -3, -3]))[0]
    np.testing.assert_array_equal(got, np.fmod([7, -7, 7, -7], [3, 3, -3, -3]))
    # explicit asymmetric pads on AveragePool divide by the real elements only
    pool = one_node(
        "AveragePool", [("x", TensorProto.FLOAT, [1, 1, 3, 3])], ["y"],
        kernel_shape=[2, 2], pads=[1, 0, 0, 1],
    )  # fmt: skip
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    got = fo.import_model(pool).run(x)[0]
    assert got.shape == (1, 1, 3, 3)
    assert got[0, 0, 0, 0] == pytest.approx(0.5)  # (0 + 1) / 2: the padded row is not counted
    assert got[0, 0, 0, 2] == pytest.approx(2.0)  # (2 + pad) / 1


def test_backend_rebuilds_per_value_of_a_fed_shape_input():
    from flowgraph.onnx.backend import FlowgraphBackend

    model = one_node("Tile", [("x", TensorProto.FLOAT, [2]), ("r", TensorProto.INT64, [1])], ["y"])
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"]))
    rep = FlowgraphBackend.prepare(model)  # onnx.checker first: outputs need a rank
    assert rep.static_names == ["r"]
    x = np.float32([1, 2])
    np.testing.assert_array_equal(rep.run([x, np.int64([2])])[0], [1, 2, 1, 2])
    np.testing.assert_array_equal(rep.run({"x": x, "r": np.int64([1])})[0], [1, 2])
    np.testing.assert_array_equal(rep.run([x * 10, np.int64([2])])[0], [10, 20, 10, 20])
    assert len(rep._built) == 2  # one graph per value of r, reused
    assert FlowgraphBackend.supports_device("CPU") and not FlowgraphBackend.supports_device("CUDA")


def test_an_output_written_twice_is_refused():
    model = one_node("Relu", [("x", TensorProto.FLOAT, [2])], ["y"])
    model.graph.node.append(helper.make_node("Neg", ["x"], ["y"], name="again"))
    with pytest.raises(fo.ONNXImportError, match=r"'again' \(op Neg\) writes 'y'"):
        fo.import_model(model)


def test_imported_cnn_gradients_pass_a_float64_numeric_check():
    rng = np.random.default_rng(6)
    w = numpy_helper.from_array(rng.normal(size=(3, 2, 3, 3)), "w")  # OIHW, float64
    b = numpy_helper.from_array(rng.normal(size=3), "b")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 0, 1, 2], strides=[1, 2]),
        helper.make_node("Tanh", ["c"], ["t"]),
        helper.make_node("AveragePool", ["t"], ["p"], kernel_shape=[2, 2], pads=[0, 1, 1, 0]),
        helper.make_node("ReduceSum", ["p"], ["y"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 2, 5, 6])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [])], [w, b],
    )  # fmt: skip
    m = fo.import_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))
    x = rng.normal(size=(1, 2, 5, 6))
    with m.graph.as_default():
        result = fg.check_gradients(m.outputs[0], [m.inputs[0]], {m.inputs[0]: x})
    assert result.ok, result
