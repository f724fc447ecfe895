"""The backend registry (flowgraph/backends): names, namespaces, the default, CuPy's errors."""

import sys
import types

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import (
    GPU_INSTALL_HINT,
    Backend,
    BackendUnavailableError,
    available_backends,
    current_default_backend,
    default_backend,
    get_backend,
    register_backend,
    to_numpy,
)
from flowgraph.backends import registry as backend_registry

xps = pytest.importorskip("array_api_strict")


def test_builtin_backends_and_their_facts():
    numpy, strict = get_backend("numpy"), get_backend("array_api_strict")
    assert (numpy.name, numpy.xp, numpy.supports_out, numpy.device) == ("numpy", np, True, "cpu")
    assert (strict.name, strict.xp, strict.supports_out) == ("array_api_strict", xps, False)
    assert get_backend("numpy") is numpy  # created once
    assert {"numpy", "array_api_strict"} <= set(available_backends())


def test_transfers_round_trip_through_the_host():
    strict = get_backend("array_api_strict")
    value = np.arange(6.0).reshape(2, 3)
    moved = strict.from_host(value)
    assert type(moved).__module__.startswith("array_api_strict")
    back = strict.to_host(moved)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, value)
    np.testing.assert_array_equal(to_numpy(moved), value)


def test_random_generator_draws_on_the_host_the_same_for_every_backend():
    a = get_backend("numpy").random_generator(5).standard_normal(3)
    b = get_backend("array_api_strict").random_generator(5).standard_normal(3)
    np.testing.assert_array_equal(a, b)


def test_a_module_is_wrapped_as_a_backend():
    wrapped = get_backend(xps)
    assert wrapped.xp is xps and wrapped.name == "array_api_strict"
    assert get_backend(xps) is wrapped
    with pytest.raises(TypeError, match="array namespace"):
        get_backend(42)


def test_register_backend_takes_a_factory_of_a_namespace_or_backend():
    register_backend("strict_again", lambda: xps)
    try:
        backend = get_backend("strict_again")
        assert backend.name == "strict_again" and backend.xp is xps
        with fg.Graph().as_default():
            got = fg.Session(backend="strict_again").run(fg.constant([1.0, 2.0]) * 2.0)
        np.testing.assert_array_equal(got, [2.0, 4.0])
    finally:
        backend_registry._FACTORIES.pop("strict_again")
        backend_registry._CACHE.pop("strict_again", None)


def test_an_unknown_name_lists_the_backends():
    with pytest.raises(ValueError, match="Unknown backend 'tpu'.*numpy"):
        get_backend("tpu")


def test_default_backend_sets_what_sessions_use():
    assert current_default_backend().name == "numpy"
    with default_backend("array_api_strict") as strict:
        assert current_default_backend() is strict
        with fg.Graph().as_default():
            sess = fg.Session()
            assert sess.backend is strict
            value = sess.run(fg.constant([1.0, 4.0]) ** 0.5)
        with default_backend("numpy"):
            assert current_default_backend().name == "numpy"
        assert current_default_backend() is strict
    assert current_default_backend().name == "numpy"
    assert isinstance(value, np.ndarray)  # fetched values come back as NumPy
    np.testing.assert_array_equal(value, [1.0, 2.0])


def test_plans_on_a_namespace_without_out_compute_nothing_in_place(graph):
    x = fg.placeholder(fg.float64, [4], name="x")
    y = fg.tanh(fg.tanh(x) + x)
    strict_source = fg.Session(backend="array_api_strict").explain(y, {x: 0}).source
    numpy_source = fg.Session(backend="numpy").explain(y, {x: 0}).source
    assert "(in place)" in numpy_source and "(in place)" not in strict_source


def _without_cupy(monkeypatch):
    """Make ``import cupy`` fail as on a machine without it, and forget a cached backend."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.delitem(backend_registry._CACHE, "cupy", raising=False)


def test_cupy_without_cupy_says_what_to_install_and_why(monkeypatch, graph):
    _without_cupy(monkeypatch)
    with pytest.raises(BackendUnavailableError) as info:
        fg.Session(backend="cupy")
    message = str(info.value)
    assert GPU_INSTALL_HINT == 'pip install "flowgraph[gpu]"'
    assert GPU_INSTALL_HINT in message and "ModuleNotFoundError" in message  # the cause
    assert isinstance(info.value, RuntimeError)
    assert "cupy" not in available_backends()


def test_cupy_without_a_gpu_says_the_driver_failed(monkeypatch):
    fake = types.ModuleType("cupy")

    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.delitem(backend_registry._CACHE, "cupy", raising=False)
    with pytest.raises(BackendUnavailableError, match="no CUDA-capable device") as info:
        get_backend("cupy")
    assert GPU_INSTALL_HINT in str(info.value)


def test_a_hand_made_backend_still_works():
    backend = Backend("mine", np, np.asarray, np.asarray)
    assert not backend.supports_out  # unknown: computed plainly, never in place
    with fg.Graph().as_default():
        assert fg.Session(backend=backend).run(fg.constant(3.0) * 2.0) == 6.0
