"""CuPy on a real GPU: the seed step against NumPy, placement across CPU and GPU, cross-check.

Every test here is marked ``cupy`` and skips with "no CUDA GPU / CuPy here" on machines
without them (CI); benchmarks/gpu_check.sh runs them, and the op tables, on a GPU machine.
"""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import get_backend
from flowgraph.runtime.cross_check import cross_check

pytestmark = pytest.mark.cupy


def _seed_model(device=None):
    g = fg.Graph()
    with g.as_default():
        fg.set_random_seed(0)
        x = fg.placeholder(fg.float32, [None, 784], name="x")
        y = fg.placeholder(fg.float32, [None, 10], name="y")
        with fg.device(device):
            w1 = fg.Variable(fg.random_normal([784, 256], stddev=0.05), name="W1")
            b1 = fg.Variable(fg.zeros([256]), name="b1")
            h = fg.nn.relu(fg.matmul(x, w1) + b1)
            w2 = fg.Variable(fg.random_normal([256, 10], stddev=0.05), name="W2")
            b2 = fg.Variable(fg.zeros([10]), name="b2")
            logits = fg.matmul(h, w2) + b2
            loss = fg.reduce_mean(
                fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)
            )
            train = fg.train.AdamOptimizer(0.001).minimize(loss, colocate_gradients_with_ops=True)
        init = fg.global_variables_initializer()
    rng = np.random.default_rng(0)
    feed = {
        x: rng.random((100, 784), dtype=np.float32),
        y: np.eye(10, dtype=np.float32)[rng.integers(0, 10, 100)],
    }
    return g, init, train, loss, w1, feed


def _train(session_kwargs, device=None, steps=5):
    g, init, train, loss, w1, feed = _seed_model(device)
    with fg.Session(graph=g, **session_kwargs) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(train, feed)
        return sess.run([loss, w1], feed)


def test_the_seed_step_on_cupy_matches_numpy():
    cupy_loss, cupy_w1 = _train({"backend": "cupy"})
    numpy_loss, numpy_w1 = _train({"backend": "numpy"})
    assert isinstance(cupy_w1, np.ndarray)
    np.testing.assert_allclose(cupy_loss, numpy_loss, rtol=1e-4)
    np.testing.assert_allclose(cupy_w1, numpy_w1, rtol=1e-4, atol=1e-5)


def test_gpu_placement_runs_on_cupy_with_transfers():
    split_loss, split_w1 = _train({}, device="/gpu:0")  # /gpu:0 -> CuPy by default
    numpy_loss, numpy_w1 = _train({"backend": "numpy"})
    np.testing.assert_allclose(split_loss, numpy_loss, rtol=1e-4)
    np.testing.assert_allclose(split_w1, numpy_w1, rtol=1e-4, atol=1e-5)
    g, init, train, loss, w1, feed = _seed_model("/gpu:0")
    with fg.Session(graph=g) as sess:
        sess.run(init)
        assert "= to_gpu(" in sess.explain(train, feed).source
        device_value = sess.run(w1, return_device_arrays=True)
        assert type(device_value).__module__.startswith("cupy")


def test_cross_check_numpy_against_cupy():
    g, init, train, loss, w1, feed = _seed_model()
    with g.as_default():
        grads = fg.gradients(loss, [w1])
    sess = fg.Session(graph=g)
    sess.run(init)
    report = cross_check([loss, grads, train], feed, backends=("numpy", "cupy"), session=sess)
    assert report.ok, str(report)
    assert cross_check(init, backends=("numpy", "cupy"), graph=g).ok


def test_the_cupy_backend_facts():
    backend = get_backend("cupy")
    assert backend.supports_out and backend.device.startswith("cuda:")
