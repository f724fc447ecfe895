"""Graph files: export / import round trips, input_map and return_elements, hostile files."""

from __future__ import annotations

import base64
import copy
import json
import math

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.autodiff.gradients import gradients
from flowgraph.graph.shape import TensorShape
from flowgraph.io import GraphFileError, attr_codec, export_graph, graph_to_dict, import_graph
from flowgraph.ops import control_flow, nn
from flowgraph.ops import random as fg_random
from flowgraph.ops.registry import apply_op
from flowgraph.train import AdamOptimizer, get_or_create_global_step

X = np.arange(8, dtype=np.float32).reshape(2, 4) / 8.0
Y = np.array([0, 2], np.int32)


def _mlp(graph):
    """placeholder, variables, matmul, relu, a loss and a reduction: names x, y, loss, out."""
    with graph.as_default():
        x = fg.placeholder(fg.float32, [None, 4], name="x")
        y = fg.placeholder(fg.int32, [None], name="y")
        w = fg.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3), name="w")
        b = fg.Variable(fg.zeros([3]), name="b")
        h = nn.relu(fg.matmul(x, w) + b, name="h")
        fg.reduce_max(h, axis=1, name="out")
        fg.reduce_mean(nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h), name="loss")
    return graph


def _run(graph, fetches, feed, prefix="", init=True):
    with graph.as_default(), fg.Session(graph=graph) as sess:
        if init:
            sess.run(fg.global_variables_initializer())
        feed = {prefix + k: v for k, v in feed.items()}
        return sess.run([prefix + f for f in fetches], feed)


def _write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


# ---- round trips ----------------------------------------------------------------------------


def test_exported_graph_imports_and_runs_to_the_same_results(tmp_path):
    g = _mlp(fg.Graph())
    path = tmp_path / "mlp.json"
    export_graph(g, path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "flowgraph-graph" and doc["version"] == 1
    fetches = ["loss:0", "out:0", "h:0"]
    expected = _run(g, fetches, {"x:0": X, "y:0": Y})

    g2 = fg.Graph()
    with g2.as_default():
        assert import_graph(path) is None
        assert [v.name for v in fg.global_variables()] == ["import/w:0", "import/b:0"]
        assert [v.name for v in fg.trainable_variables()] == ["import/w:0", "import/b:0"]
        w = fg.global_variables()[0]
        assert w.initializer.name == "import/w/Assign" and str(w.shape) == "[4,3]"
    got = _run(g2, fetches, {"x:0": X, "y:0": Y}, prefix="import/")
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


def test_control_flow_gradients_training_and_random_ops_round_trip(tmp_path):
    g = fg.Graph()
    with g.as_default():
        fg_random.set_random_seed(7)
        x = fg.placeholder(fg.float32, [None, 4], name="x")
        w = fg.Variable(fg_random.random_normal([4, 3], seed=1), name="w")
        loss = fg.reduce_mean(fg.square(fg.matmul(x, w)), name="loss")
        c = control_flow.cond(loss > 1.0, lambda: loss * 2.0, lambda: loss + w[0, 0], name="c")
        _, total = control_flow.while_loop(
            lambda i, t: i < 3, lambda i, t: (i + 1, t + c), [0, 0.0], name="loop"
        )
        (grad,) = gradients(total, [w])
        AdamOptimizer(0.1).minimize(loss, global_step=get_or_create_global_step(), name="train")
    export_graph(g, tmp_path / "g.json")
    fetches = ["loss:0", "c:0", total.name, grad.name, "global_step:0"]

    def trained(graph, prefix):
        with graph.as_default(), fg.Session(graph=graph) as sess:
            sess.run(fg.global_variables_initializer())
            feed = {prefix + "x:0": X}
            sess.run(prefix + "train", feed)
            return sess.run([prefix + f for f in fetches], feed)

    g2 = fg.Graph()
    with g2.as_default():
        import_graph(tmp_path / "g.json", name="m")
    for a, b in zip(trained(g, ""), trained(g2, "m/")):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_importing_twice_makes_separate_scopes_and_variables(tmp_path):
    export_graph(_mlp(fg.Graph()), tmp_path / "g.json")
    g = fg.Graph()
    with g.as_default():
        import_graph(tmp_path / "g.json")
        import_graph(tmp_path / "g.json")
        names = [v.op.attrs["var_name"] for v in fg.global_variables()]
    assert names == ["import/w", "import/b", "import_1/w", "import_1/b"]


def test_name_none_keeps_the_file_names_and_refuses_shared_variables(tmp_path):
    export_graph(_mlp(fg.Graph()), tmp_path / "g.json")
    g = fg.Graph()
    with g.as_default():
        import_graph(tmp_path / "g.json", name=None)
        assert g.get_tensor_by_name("loss:0") is not None
        with pytest.raises(ValueError, match="share its value"):
            import_graph(tmp_path / "g.json", name="")


def test_input_map_and_return_elements(tmp_path):
    export_graph(_mlp(fg.Graph()), tmp_path / "g.json")
    g = fg.Graph()
    with g.as_default():
        x = fg.constant(X, name="fixed_x")
        out, h_op, x_in_file = import_graph(
            tmp_path / "g.json",
            input_map={"x:0": x},
            return_elements=["out:0", "h", "x:0"],
        )
        assert out.name == "import/out:0" and h_op.name == "import/h" and str(out.shape) == "[2]"
        assert isinstance(h_op, fg.Operation) and x_in_file.name == "import/x:0"
        with fg.Session() as sess:
            sess.run(fg.global_variables_initializer())
            got = sess.run(out)  # no feed needed: x is mapped to a constant
    expected = _run(_mlp(fg.Graph()), ["out:0"], {"x:0": X})[0]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("make_map", "return_elements", "message"),
    [
        (lambda: {"nope:0": fg.constant(1.0)}, None, "'nope:0' is not a tensor"),
        (lambda: {"x:3": fg.constant(1.0)}, None, "'x:3' is not a tensor"),
        (lambda: {"x:0": fg.constant(1)}, None, "is int32, but 'x:0'"),
        (lambda: {"x:0": "not a tensor"}, None, "must be a Tensor"),
        (lambda: None, ["missing:0"], "'missing:0' is not a tensor or op"),
        (lambda: None, ["loss:9"], "'loss:9' is not a tensor or op"),
    ],
)
def test_bad_input_map_and_return_elements(tmp_path, make_map, return_elements, message):
    export_graph(_mlp(fg.Graph()), tmp_path / "g.json")
    with fg.Graph().as_default() as g:
        with pytest.raises((ValueError, TypeError), match=message):
            import_graph(tmp_path / "g.json", make_map(), return_elements)
        assert [op.type for op in g.get_operations()] in ([], ["Const"])


def test_device_control_inputs_set_shape_and_collections_round_trip(tmp_path):
    g = fg.Graph()
    with g.as_default():
        x = fg.placeholder(fg.float32, None, name="x")
        x.set_shape([2, 3])
        with fg.device("/cpu:0"):
            a = fg.identity(x, name="a")
        with fg.control_dependencies([a]):
            b = fg.add(x, 1.0, name="b")
        fg.add_to_collection("losses", b)
        fg.add_to_collection("train_op", a.op)
        export_graph(g, tmp_path / "g.json")
    with fg.Graph().as_default() as g2:
        import_graph(tmp_path / "g.json", name="i")
        assert str(g2.get_tensor_by_name("i/x:0").shape) == "[2,3]"
        assert g2.get_operation_by_name("i/a").device == "/cpu:0"
        assert [c.name for c in g2.get_operation_by_name("i/b").control_inputs] == ["i/a"]
        assert [t.name for t in fg.get_collection("losses")] == ["i/b:0"]
        assert [o.name for o in fg.get_collection("train_op")] == ["i/a"]


ALL_KINDS = {
    "none": None,
    "bool": True,
    "int": -(2**63),
    "big": 2**64 - 1,
    "float": 0.1,
    "nan": math.nan,
    "inf": -math.inf,
    "str": "SAME ünïcode",
    "list": [1, [2.5, "x"], []],
    "tuple": (1, (None,), ()),
    "dict": {"a": 1, "b": (2,)},
    "dtype": fg.int64,
    "shape": TensorShape([None, 3]),
    "unknown_shape": TensorShape(None),
    "array": np.arange(6, dtype=">f8").reshape(2, 3),  # big-endian in: little-endian on disk
    "bools": np.array([[True, False]]),
    "empty": np.zeros((0, 4), np.int16),
    "scalar": np.float32(1.5),
    "complex": np.array([1 + 2j], np.complex64),
}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        return (
            type(a) is type(b)
            and a.dtype.name == b.dtype.name
            and a.shape == b.shape
            and (np.array_equal(a, b))
        )
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_attrs_of_every_type_round_trip(tmp_path):
    for name, value in ALL_KINDS.items():
        back = attr_codec.decode(
            json.loads(json.dumps(attr_codec.encode(value))), attr_codec.Budget(1000)
        )
        assert _same(value, back), name
    g = fg.Graph()
    with g.as_default():
        value = np.array([[1, 2]], np.int64)
        value.setflags(write=False)
        # private attrs are allowed on any op
        apply_op("Const", [], {"value": value, "_everything": dict(ALL_KINDS)}, name="c")
        export_graph(g, tmp_path / "g.json")
    with fg.Graph().as_default() as g2:
        import_graph(tmp_path / "g.json")
        op = g2.get_operation_by_name("import/c")
        assert _same(op.attrs["_everything"], ALL_KINDS)
        assert _same(op.attrs["value"], np.array([[1, 2]], np.int64))
        assert not op.attrs["value"].flags.writeable


def test_export_refuses_attrs_without_a_json_form():
    with fg.Graph().as_default() as g:
        apply_op("Const", [], {"value": np.float32(1.0), "_odd": object()}, name="c")
        with pytest.raises(errors.UnimplementedError, match="'_odd' of Const op 'c'"):
            graph_to_dict(g)


def test_export_warns_about_collection_items_it_cannot_write():
    with fg.Graph().as_default() as g:
        fg.add_to_collection("misc", "a string")
        with pytest.warns(UserWarning, match="collection 'misc'"):
            doc = graph_to_dict(g)
    assert doc["collections"]["misc"] == []


# ---- bad files -----------------------------------------------------------------------------


def _base_doc() -> dict:
    with fg.Graph().as_default() as g:
        x = fg.placeholder(fg.float32, [None, 2], name="x")
        c = fg.constant(np.ones((2, 2), np.float32), name="c")
        fg.matmul(x, c, name="y")
        return graph_to_dict(g)


def _op(doc, name):
    return next(o for o in doc["ops"] if o["name"] == name)


def _mutate(fn):
    doc = copy.deepcopy(_base_doc())
    return fn(doc) or doc


def _set(target, key, value):
    target[key] = value


HOSTILE = {
    "wrong format": (lambda d: _set(d, "format", "tf-graph"), "not a flowgraph graph file"),
    "not an object": (lambda d: [1, 2], "not a flowgraph graph file"),
    "newer version": (lambda d: _set(d, "version", 2), "newer flowgraph"),
    "bad version": (lambda d: _set(d, "version", "1"), "unsupported format version"),
    "unknown key": (lambda d: _set(d, "extra", 1), "unknown top-level keys"),
    "ops not a list": (lambda d: _set(d, "ops", {}), "'ops' must be a list"),
    "unknown op type": (
        lambda d: _set(_op(d, "y"), "type", "RunShellCommand"),
        "unknown op type 'RunShellCommand'",
    ),
    "missing input op": (
        lambda d: _set(_op(d, "y"), "inputs", ["x:0", "ghost:0"]),
        "refers to op 'ghost'",
    ),
    "output index out of range": (
        lambda d: _set(_op(d, "y"), "inputs", ["x:0", "c:1"]),
        "refers to output 1 of 'c', which has 1 output",
    ),
    "bad input name": (lambda d: _set(_op(d, "y"), "inputs", ["x", "c:0"]), "'<op>:<index>'"),
    "cycle": (lambda d: _set(_op(d, "x"), "control_inputs", ["y"]), "cycle"),
    "self loop": (lambda d: _set(_op(d, "y"), "inputs", ["y:0", "c:0"]), "cycle"),
    "duplicate name": (lambda d: _set(_op(d, "c"), "name", "x"), "used by"),
    "bad name": (lambda d: _set(_op(d, "c"), "name", "a:b"), "invalid name"),
    "unknown tag": (
        lambda d: _set(_op(d, "y")["attrs"], "transpose_a", {"type": "pickle", "value": "gASV"}),
        "unknown type tag 'pickle'",
    ),
    "untagged attr": (
        lambda d: _set(_op(d, "y")["attrs"], "transpose_a", True),
        "expected a tagged value",
    ),
    "unknown attr": (
        lambda d: _set(_op(d, "y")["attrs"], "evil", {"type": "none"}),
        "has no attribute",
    ),
    "missing required attr": (
        lambda d: _op(d, "c")["attrs"].pop("value") and None,
        "requires the attribute",
    ),
    "data too short": (
        lambda d: _set(
            _op(d, "c")["attrs"]["value"], "data", base64.b64encode(b"\0" * 12).decode()
        ),
        "needs 16 bytes",
    ),
    "data not base64": (
        lambda d: _set(_op(d, "c")["attrs"]["value"], "data", "!" * 24),
        "not valid base64",
    ),
    "object dtype": (
        lambda d: _set(_op(d, "c")["attrs"]["value"], "dtype", "object"),
        "dtype must be one of",
    ),
    "huge array shape": (
        lambda d: _set(_op(d, "c")["attrs"]["value"], "shape", [2**30] * 3),
        "more than 2\\*\\*40 elements",
    ),
    "huge placeholder": (
        lambda d: _set(_op(d, "x")["attrs"], "shape", {"type": "shape", "dims": [2**40, 2**40]}),
        "2\\*\\*40",
    ),
    "negative dim": (
        lambda d: _set(_op(d, "x")["attrs"], "shape", {"type": "shape", "dims": [-5]}),
        "dims must be null or ints",
    ),
    "bad dtype": (
        lambda d: _set(_op(d, "x")["attrs"], "dtype", {"type": "dtype", "name": "str"}),
        "unknown dtype",
    ),
    "int out of range": (
        lambda d: _set(_op(d, "y")["attrs"], "_x", {"type": "int", "value": 2**70}),
        "64-bit integer",
    ),
    "deep nesting": (lambda d: _set(_op(d, "y")["attrs"], "_x", _nested(40)), "nested more than"),
    "shape rule": (lambda d: _reshape_c(d, [4, 1]), "MatMul shape rule rejects it"),
    "wrong output dtype": (
        lambda d: _set(_op(d, "y")["outputs"][0], "dtype", "int32"),
        "the file says int32",
    ),
    "wrong output count": (
        lambda d: _op(d, "y")["outputs"].append({"dtype": "float32", "shape": None}),
        "lists 2 output",
    ),
    "missing function graph": (
        lambda d: _set(
            _op(d, "y")["attrs"],
            "_f",
            {
                "type": "function",
                "graph": "f9",
                "inputs": [],
                "outputs": [],
                "side_effects": [],
                "returns_sequence": False,
            },
        ),
        "'f9' is not in the file",
    ),
    "variable not an op": (
        lambda d: _set(
            d,
            "variables",
            [{"name": "ghost", "initializer": "c", "initial_value": None, "trainable": True}],
        ),
        "not a VariableV2 op",
    ),
    "bad collection item": (
        lambda d: _set(d, "collections", {"losses": [{"tensor": "ghost:0"}]}),
        "is not a variable, tensor or op",
    ),
}


def _reshape_c(doc, shape):
    """Give the constant c a shape that MatMul(x, c) refuses, consistently everywhere else."""
    _op(doc, "c")["attrs"]["value"]["shape"] = shape
    _op(doc, "c")["outputs"][0]["shape"] = shape


def _nested(depth):
    doc = {"type": "none"}
    for _ in range(depth):
        doc = {"type": "list", "items": [doc]}
    return doc


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_bad_files_raise_a_clear_error_naming_the_file(tmp_path, case):
    mutate, message = HOSTILE[case]
    path = _write(tmp_path / "bad.json", _mutate(mutate))
    with fg.Graph().as_default(), pytest.raises(GraphFileError, match=message) as info:
        import_graph(path)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, errors.InvalidArgumentError)
    assert str(tmp_path / "bad.json") in str(info.value)


def test_recursive_function_graph_is_refused(tmp_path):
    call_self = {
        "type": "function",
        "graph": "f0",
        "inputs": [],
        "outputs": [],
        "side_effects": [],
        "returns_sequence": False,
    }
    doc = _base_doc()
    doc["functions"] = {
        "f0": {
            "name": "loop",
            "inputs": [],
            "ops": [
                {
                    "name": "n",
                    "type": "NoOp",
                    "inputs": [],
                    "attrs": {"_f": call_self},
                    "outputs": [],
                }
            ],
        }
    }
    _op(doc, "y")["attrs"]["_f"] = call_self
    with fg.Graph().as_default(), pytest.raises(GraphFileError, match="calls itself"):
        import_graph(_write(tmp_path / "bad.json", doc))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b'{"format": "flowgraph-graph", "version": 1, "ops": [], "ops": []}', "duplicate key"),
        (b'{"format": "flowgraph-graph", "version": NaN, "ops": []}', "NaN"),
        (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
    ],
)
def test_files_that_are_not_json_are_refused(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_bytes(text)
    with fg.Graph().as_default(), pytest.raises(GraphFileError, match=message):
        import_graph(path)


def test_total_constant_bytes_are_limited(tmp_path):
    with fg.Graph().as_default() as g:
        fg.constant(np.zeros(1000, np.float64), name="a")
        fg.constant(np.zeros(1000, np.float64), name="b")
        export_graph(g, tmp_path / "g.json")
    with fg.Graph().as_default():
        import_graph(tmp_path / "g.json", max_constant_bytes=16000)
        with pytest.raises(GraphFileError, match="more than 15999 bytes"):
            import_graph(tmp_path / "g.json", max_constant_bytes=15999)


def test_a_failed_check_adds_no_ops(tmp_path):
    doc = _mutate(lambda d: _set(_op(d, "y")["attrs"], "evil", {"type": "none"}))
    with fg.Graph().as_default() as g:
        with pytest.raises(GraphFileError):
            import_graph(_write(tmp_path / "bad.json", doc))
        assert g.get_operations() == []
