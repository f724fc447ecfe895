"""Device placement: ops on two backends in one plan, with transfers at the boundaries.

There is no GPU here, so two different CPU backends stand in for two devices: ``/cpu:0`` runs
on NumPy and ``/gpu:0`` (or ``/device:strict:0``) is mapped to the strict array-API namespace.
The plan is then split across two namespaces exactly as it would be across NumPy and CuPy.
"""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import BackendUnavailableError, DevicePlacement, canonical_device
from flowgraph.backends import registry as backend_registry
from flowgraph.runtime.debug import find_first_nonfinite
from flowgraph.viz import draw

pytest.importorskip("array_api_strict")

ON_STRICT = {"/gpu:0": "array_api_strict"}


def _is_strict(value) -> bool:
    return type(value).__module__.startswith("array_api_strict")


def test_device_strings_are_canonical():
    assert canonical_device("/job:localhost/replica:0/task:0/device:GPU:1") == "/gpu:1"
    assert canonical_device("/CPU:0") == "/cpu:0" and canonical_device(None) == ""
    with pytest.raises(ValueError, match="device string"):
        canonical_device("/gpu:x")


def test_transfers_appear_in_the_generated_code_and_results_match(graph):
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    w = fg.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
    with fg.device("/gpu:0"):
        h = fg.tanh(fg.matmul(x, w, name="MatMul"), name="h")
    y = fg.reduce_sum(h * h, axis=1, name="y")
    feed = {x: np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)}
    single = fg.Session(device_backends={"/gpu:0": "numpy"}).run(y, feed)
    sess = fg.Session(device_backends=ON_STRICT)
    split = sess.run(y, feed)
    source = sess.explain(y, feed).source
    assert "x_on_gpu = to_gpu(x)" in source
    assert "h_on_cpu = to_cpu(h)" in source
    assert "array_api_strict_tanh(MatMul)" in source and "xp_multiply(h_on_cpu" in source
    assert isinstance(split, np.ndarray) and split.dtype == np.float32
    np.testing.assert_allclose(split, single, rtol=1e-6)
    assert "insert_transfers" in str(sess.explain(y, feed))


def test_a_value_is_moved_once_per_device(graph):
    x = fg.placeholder(fg.float64, [3], name="x")
    with fg.device("/gpu:0"):
        a, b = fg.exp(x, name="a"), fg.sin(x, name="b")
    source = fg.Session(device_backends=ON_STRICT).explain(a + b, {x: 0}).source
    assert source.count("to_gpu(x)") == 1


def test_each_read_of_a_variable_elsewhere_is_moved_where_it_is_read(graph):
    with fg.device("/gpu:0"):
        v = fg.Variable([1.0, 2.0], name="v")
    before = fg.multiply(v, 1.0, name="before")  # on the CPU: reads v, moved
    with fg.control_dependencies([before]):
        bump = v.assign_add([10.0, 10.0])
    with fg.control_dependencies([bump]):
        after = fg.multiply(v, 1.0, name="after")  # reads v again, after the assignment
    sess = fg.Session(device_backends=ON_STRICT)
    sess.run(v.initializer)
    got = sess.run([before, after])
    assert [g.tolist() for g in got] == [[1.0, 2.0], [11.0, 12.0]]
    assert sess.explain([before, after]).source.count("= to_cpu(k_v(") == 2


def test_placeholders_constants_and_errors_on_the_other_device(graph):
    with fg.device("/gpu:0"):
        x = fg.placeholder(fg.float32, [None, None], name="x")
        c = fg.constant([[1.0], [2.0]], name="c")
        y = fg.matmul(x, c, name="y")
    z = fg.reshape(y, [-1], name="z")
    sess = fg.Session(device_backends=ON_STRICT)
    assert sess.run(z, {x: [[1.0, 1.0], [0.0, 3.0]]}).tolist() == [3.0, 6.0]
    source = sess.explain(z, {x: [[0.0, 0.0]]}).source
    assert "to_gpu(x)" not in source and "y_on_cpu = to_cpu(y)" in source  # fed there
    call = sess.make_callable(z, [x])
    assert call(np.ones((1, 2), np.float32)).tolist() == [3.0]
    with pytest.raises(fg.errors.InvalidArgumentError, match="MatMul op 'y' failed"):
        sess.run(z, {x: np.ones((2, 3), np.float32)})


def test_any_device_name_can_be_mapped(graph):
    x = fg.placeholder(fg.float64, [2], name="x")
    with fg.device("/device:strict:0"):
        y = fg.square(x, name="y")
    sess = fg.Session(config={"device_backends": {"/device:STRICT:0": "array_api_strict"}})
    assert sess.run(y, {x: [2.0, 3.0]}).tolist() == [4.0, 9.0]
    assert "x_on_strict = to_strict(x)" in sess.explain(y, {x: 0}).source
    with pytest.raises(ValueError, match="No backend runs device '/tpu:0'"):
        DevicePlacement(sess.backend).backend_for("/tpu:0")


def test_cpu_ops_run_on_the_session_backend_and_gpu_defaults_to_cupy(monkeypatch, graph):
    with fg.device("/cpu:0"):
        y = fg.constant([1.0]) * 2.0
    assert fg.Session().run(y).tolist() == [2.0]
    with fg.device("/gpu:0"):
        z = fg.constant([1.0]) * 3.0
    monkeypatch.setitem(__import__("sys").modules, "cupy", None)
    monkeypatch.delitem(backend_registry._CACHE, "cupy", raising=False)
    with pytest.raises(BackendUnavailableError, match=r"/gpu:0.*flowgraph\[gpu\]"):
        fg.Session().run(z)


def _mlp(device, colocate=False, seed=3):
    """The seed MLP with its first layer on ``device``; returns a namespace of its tensors."""
    g = fg.Graph()
    with g.as_default():
        fg.set_random_seed(seed)
        x = fg.placeholder(fg.float32, [None, 20], name="x")
        y = fg.placeholder(fg.float32, [None, 4], name="y")
        with fg.device(device):
            w1 = fg.Variable(fg.random_normal([20, 16], stddev=0.3), name="W1")
            b1 = fg.Variable(fg.zeros([16]), name="b1")
            h = fg.nn.relu(fg.matmul(x, w1) + b1)
        w2 = fg.Variable(fg.random_normal([16, 4], stddev=0.3), name="W2")
        b2 = fg.Variable(fg.zeros([4]), name="b2")
        logits = fg.matmul(h, w2) + b2
        loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        opt = fg.train.AdamOptimizer(0.01)
        train = opt.minimize(loss, colocate_gradients_with_ops=colocate)
        init = fg.global_variables_initializer()
    return {k: v for k, v in locals().items() if k != "g"} | {"graph": g}


def _data():
    rng = np.random.default_rng(0)
    images = rng.random((32, 20), dtype=np.float32)
    return images, np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]


@pytest.mark.parametrize("colocate", [False, True], ids=["gradients-on-cpu", "colocated"])
def test_training_split_across_two_backends_matches_one_backend(colocate):
    images, labels = _data()
    results = []
    for device, mapping in [("/cpu:0", None), ("/gpu:0", ON_STRICT)]:
        m = _mlp(device, colocate)
        with fg.Session(graph=m["graph"], device_backends=mapping) as sess:
            feed = {m["x"]: images, m["y"]: labels}
            sess.run(m["init"])
            for _ in range(5):
                sess.run(m["train"], feed)
            results.append(sess.run([m["loss"], m["w1"], m["w2"]], feed))
            if mapping:
                store = sess._context.variables
                # Variables live on their device, their optimizer slots with them.
                assert _is_strict(store["W1"]) and _is_strict(store["W1/Adam"])
                assert _is_strict(store["beta1_power"])  # with the first variable, as in TF1
                assert isinstance(store["W2"], np.ndarray)
                assert isinstance(store["W2/Adam_1"], np.ndarray)
                source = sess.explain(m["train"], feed).source
                assert "= to_gpu(" in source and "= to_cpu(" in source
    (loss_a, w1_a, w2_a), (loss_b, w1_b, w2_b) = results
    np.testing.assert_allclose(loss_b, loss_a, rtol=1e-5)
    np.testing.assert_allclose(w1_b, w1_a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w2_b, w2_a, rtol=1e-5, atol=1e-6)


def test_colocated_gradients_run_on_their_ops_device():
    m = _mlp("/gpu:0", colocate=True)
    grad_ops = [op for op in m["graph"].get_operations() if op.name.startswith("gradients/")]
    on_gpu = {op.name.split("/")[1] for op in grad_ops if op.device == "/gpu:0"}
    assert "MatMul_grad" in on_gpu and "MatMul_1_grad" not in on_gpu


def test_fetches_are_numpy_unless_device_arrays_are_asked_for():
    m = _mlp("/gpu:0")
    with fg.Session(graph=m["graph"], device_backends=ON_STRICT) as sess:
        sess.run(m["init"])
        host = sess.run(m["w1"])
        device = sess.run(m["w1"], return_device_arrays=True)
        assert isinstance(host, np.ndarray) and _is_strict(device)
        assert not _is_strict(sess.run(m["w2"], return_device_arrays=True))
        np.testing.assert_array_equal(np.asarray(device), host)
        host[...] = 0  # the caller's copy: the variable keeps its value
        assert np.abs(sess.run(m["w1"])).sum() > 0


def test_an_assignment_stores_on_the_variables_device(graph):
    with fg.device("/gpu:0"):
        v = fg.Variable([1.0, 2.0], name="v")
    x = fg.placeholder(fg.float32, [2], name="x")
    step = v.assign_add(x * 2.0)  # built on the CPU
    sess = fg.Session(device_backends=ON_STRICT)
    sess.run(v.initializer)
    assert sess.run(step, {x: [10.0, 10.0]}).tolist() == [21.0, 22.0]
    assert _is_strict(sess._context.variables["v"])
    source = sess.explain(step, {x: [0.0, 0.0]}).source
    assert "Mul_on_gpu = to_gpu(Mul)" in source
    assert "k_AssignAdd(ctx_array_api_strict, Mul_on_gpu)" in source


def test_a_constant_read_on_another_device_is_copied_there_once(graph):
    with fg.device("/gpu:0"):
        v = fg.Variable([1.0, 2.0], name="v")
    step = v.assign_add(fg.constant([10.0, 10.0]) * 2.0)  # folded into a constant on the CPU
    sess = fg.Session(device_backends=ON_STRICT)
    sess.run(v.initializer)
    assert sess.run(step).tolist() == [21.0, 22.0]
    explained = str(sess.explain(step))
    assert "copied Const 'Mul' from numpy to array_api_strict" in explained
    assert "to_gpu(" not in explained and "k_AssignAdd(ctx_array_api_strict, Mul_on_gpu)" in (
        explained
    )


def test_make_callable_and_the_saver_follow_the_devices(tmp_path):
    m = _mlp("/gpu:0")
    images, labels = _data()
    with fg.Session(graph=m["graph"], device_backends=ON_STRICT) as sess:
        sess.run(m["init"])
        step = sess.make_callable([m["loss"], m["train"]], [m["x"], m["y"]])
        first, _ = step(images, labels)
        with m["graph"].as_default():
            saver = fg.train.Saver()
        path = saver.save(sess, str(tmp_path / "model"))
        trained = sess.run(m["w1"])
        sess.run(m["init"])
        saver.restore(sess, path)
        assert _is_strict(sess._context.variables["W1"])
        np.testing.assert_array_equal(sess.run(m["w1"]), trained)
        assert np.isfinite(first)


def test_debug_mode_follows_the_devices(graph):
    x = fg.placeholder(fg.float32, [3], name="x")
    with fg.device("/gpu:0"):
        y = fg.log(x, name="log_x")
    loss = fg.reduce_sum(y * 2.0, name="loss")
    sess = fg.Session(device_backends=ON_STRICT)
    report = find_first_nonfinite(sess, loss, {x: [1.0, 0.0, 2.0]})
    assert report.op.name == "log_x" and report.kind == "Inf"
    assert find_first_nonfinite(sess, loss, {x: [1.0, 1.0, 2.0]}) is None


def test_the_drawing_colours_ops_by_device(parse_dot_nodes):
    m = _mlp("/gpu:0")
    nodes = parse_dot_nodes(draw(m["graph"], collapse=0))
    legend = {k: v for k, v in nodes.items() if k.startswith("legend_device")}
    assert [v["label"] for v in legend.values()] == [
        "no device\\n(the session's backend)",
        "on /gpu:0",
    ]
    colors = {v["label"].split("\\n")[-1]: v["color"] for v in legend.values()}
    assert nodes["MatMul"]["color"] == colors["on /gpu:0"]
    assert nodes["MatMul_1"]["color"] == colors["(the session's backend)"]
    single = parse_dot_nodes(draw(_mlp(None)["graph"], collapse=0))  # no devices at all
    assert not any(k.startswith("legend_device") for k in single)


@pytest.fixture
def parse_dot_nodes():
    import re

    node = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[\w.]+) \[(.*)\]$')
    attr = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)')

    def parse(dot):
        out = {}
        for line in dot.source.splitlines():
            m = node.match(line)
            if m and "->" not in line:
                attrs = {k: v.strip('"') for k, v in attr.findall(m.group(2))}
                out[m.group(1).strip('"')] = attrs
        return out

    return parse
