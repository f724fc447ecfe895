"""Shared fixtures: every test starts from an empty default graph; backend-generic tests run
once per array backend.

Tests that request the ``backend`` fixture (the op tables in tests/ops through their folder's
conftest, the registry gradient checks, the optimizer and seed-model training tests, and
tests/backends/test_generic_ops.py) run on every backend of ``--backends`` (default
``numpy,array_api_strict``), with that backend made the default of the Sessions they create.
``--backends=cupy`` runs them on the GPU (benchmarks/gpu_check.sh). A test marked
``numpy_only`` (it builds its own backend) runs once, on NumPy. Tests marked ``cupy`` skip
where there is no CUDA GPU / CuPy.

No test writes into the repository: a session fixture compares ``git status`` (untracked and
ignored files too, but not Python's and the tools' own caches) before and after the run, and
fails the run naming what appeared or changed. Tests write under ``tmp_path``.

Coverage: the kernels bound while those tests run are recorded per namespace. After a run
that selected every backend-generic test, an op type in the registry whose kernel never ran
on one of the backends fails the run, naming it; the summary says how many ran. Such a run also
leaves its record in pytest's cache (``flowgraph/op_coverage``: per backend, the op types whose
kernel ran, with the time and commit; per op type, the dtypes the tests built it with), which
the documentation's op catalog reports (flowgraph/docs/catalog.py).
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import pkgutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

import flowgraph
from flowgraph.backends import BackendUnavailableError, default_backend, get_backend
from flowgraph.ops.registry import OpDef, registered_op_types

DEFAULT_BACKENDS = "numpy,array_api_strict"
# Where the backend-generic tests live (relative to tests/), and op types that bind no kernel.
GENERIC_TESTS = (
    "ops/",
    "autodiff/test_registry_gradients.py",
    "train/test_optimizers.py",
    "train/test_training.py",
    "backends/test_generic_ops.py",
)
NO_KERNEL = frozenset({"Const", "NoOp", "Placeholder"})  # generated code inlines or skips them
if importlib.util.find_spec("tensorboard") is None:  # summary kernels need the tensorboard extra
    NO_KERNEL |= {"HistogramSummary", "ImageSummary", "MergeSummary", "ScalarSummary",
                  "TensorSummaryV2"}  # fmt: skip
_TESTS = Path(__file__).parent
_BOUND: dict[str, set] = defaultdict(set)  # namespace name -> op types whose kernel was bound
_COVERAGE = {"complete": False}
_DTYPES: dict[str, set] = defaultdict(set)  # op type -> "in:float32" / "out:bool" seen built
COVERAGE_CACHE_KEY = "flowgraph/op_coverage"


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--backends",
        default=DEFAULT_BACKENDS,
        help="comma-separated array backends that backend-generic tests run on "
        f"(default {DEFAULT_BACKENDS}; e.g. cupy on a GPU machine)",
    )


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "numpy_only: a backend-generic folder's test that runs on NumPy alone"
    )
    config.addinivalue_line("markers", "cupy: needs CuPy and an NVIDIA GPU (skipped elsewhere)")
    _record_kernel_binds()
    _record_built_dtypes()


def _record_built_dtypes() -> None:
    """Note the input and output dtypes of every op the tests build (for the op catalog)."""
    original = flowgraph.Graph.create_op
    if getattr(original, "_records", False):
        return

    def create_op(self, op_type, inputs, attrs, specs, *args, **kwargs):
        seen = _DTYPES[op_type]
        seen.update(f"in:{t.dtype.name}" for t in inputs)
        seen.update(f"out:{dtype.name}" for dtype, _ in specs)
        return original(self, op_type, inputs, attrs, specs, *args, **kwargs)

    create_op._records = True
    flowgraph.Graph.create_op = create_op


def _save_coverage_record(config) -> None:
    """Keep what a complete, passing run saw in pytest's cache; backends that did not run this
    time keep their earlier entry (a GPU run adds cupy's)."""
    if getattr(config, "cache", None) is None:  # -p no:cacheprovider
        return
    record = config.cache.get(COVERAGE_CACHE_KEY, {}) or {}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=_TESTS
        ).stdout.strip()
    except OSError:
        commit = ""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    backends = record.get("backends", {})
    for name in _backend_names(config):
        if not _skip_reason(name):
            ran = _BOUND.get(getattr(get_backend(name).xp, "__name__", name), set())
            backends[name] = {"ops": sorted(ran), "recorded": when, "commit": commit}
    record["backends"] = backends
    record["dtypes"] = {op: sorted(seen) for op, seen in sorted(_DTYPES.items())}
    record["dtypes_recorded"] = {"recorded": when, "commit": commit}
    config.cache.set(COVERAGE_CACHE_KEY, record)


def _record_kernel_binds() -> None:
    """Note the op type and namespace of every kernel bound (by generated code, the
    interpreters): compile-time only, so runs cost nothing more."""
    original = OpDef.bind
    if getattr(original, "_records", False):
        return

    def bind(self, xp, attrs):
        _BOUND[getattr(xp, "__name__", type(xp).__name__)].add(self.type)
        return original(self, xp, attrs)

    bind._records = True
    OpDef.bind = bind


def _generic_file(item) -> str | None:
    try:
        relative = Path(item.path).resolve().relative_to(_TESTS).as_posix()
    except ValueError:
        return None
    return next((g for g in GENERIC_TESTS if relative.startswith(g)), None)


def pytest_collection_modifyitems(session, config, items) -> None:
    selected = {_generic_file(item) for item in items}
    _COVERAGE["complete"] = all(g in selected for g in GENERIC_TESTS)


def pytest_deselected(items) -> None:
    if any(_generic_file(item) for item in items):
        _COVERAGE["complete"] = False  # -k / -m / --deselect left some out


def _missing_kernels(config) -> dict[str, list[str]]:
    for package in ("flowgraph.ops", "flowgraph.train"):
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{info.name}")
    wanted = set(registered_op_types()) - NO_KERNEL
    missing = {}
    for name in _backend_names(config):
        if _skip_reason(name):
            continue
        ran = _BOUND.get(getattr(get_backend(name).xp, "__name__", name), set())
        missing[name] = sorted(wanted - ran)
    return missing


def pytest_sessionfinish(session, exitstatus) -> None:
    if not _COVERAGE["complete"] or exitstatus != 0:
        return
    missing = {k: v for k, v in _missing_kernels(session.config).items() if v}
    if missing:
        _COVERAGE["failure"] = missing
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        _save_coverage_record(session.config)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _COVERAGE["complete"]:
        return
    total = len(set(registered_op_types()) - NO_KERNEL)
    for name, missing in _missing_kernels(config).items():
        ran = total - len(missing)
        terminalreporter.write_line(f"{name}: the kernels of {ran} of {total} op types ran")
        if missing:
            terminalreporter.write_line(
                f"FAILED: no backend-generic test ran these op types on {name}: "
                + ", ".join(missing),
                red=True,
            )


def _backend_names(config) -> list[str]:
    return [n.strip() for n in config.getoption("--backends").split(",") if n.strip()]


def pytest_generate_tests(metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    names = _backend_names(metafunc.config)
    if metafunc.definition.get_closest_marker("numpy_only") is not None:
        names = ["numpy"]
    metafunc.parametrize("backend", names, indirect=True, ids=[f"on_{n}" for n in names])


_UNAVAILABLE: dict[str, str] = {}


def _skip_reason(name: str) -> str | None:
    if name not in _UNAVAILABLE:
        try:
            get_backend(name)
            _UNAVAILABLE[name] = ""
        except BackendUnavailableError as e:
            reason = "no CUDA GPU / CuPy here" if name == "cupy" else f"{name} is not installed"
            _UNAVAILABLE[name] = f"{reason}: {e}"
    return _UNAVAILABLE[name] or None


@pytest.fixture
def backend(request):
    """The Backend this test runs on, entered as the default of the Sessions it creates."""
    name = getattr(request, "param", "numpy")
    reason = _skip_reason(name)
    if reason:
        pytest.skip(reason)
    with default_backend(name) as b:
        yield b


@pytest.fixture
def require_dtype(backend):
    """``require_dtype(fg.float16)``: skip unless the test's backend has that dtype (the
    strict array API has no float16)."""

    def check(dtype) -> None:
        name = getattr(dtype, "name", str(dtype))
        if getattr(backend.xp, name, None) is None:
            pytest.skip(f"the {backend.name} backend has no {name} dtype")

    return check


def pytest_runtest_setup(item) -> None:
    if item.get_closest_marker("cupy") is not None:
        reason = _skip_reason("cupy")
        if reason:
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_default_graph() -> None:
    """Reset the process-wide default graph so no test sees another test's ops."""
    flowgraph.reset_default_graph()


@pytest.fixture
def graph() -> Iterator[flowgraph.Graph]:
    """A new, empty Graph, entered as the default graph for the test's duration."""
    g = flowgraph.Graph()
    with g.as_default():
        yield g


# What Python, pip and the tools write into a checkout by themselves; anything else a test run
# adds or changes is a test writing into the repository.
_OWN_CACHES = ("__pycache__/", ".pytest_cache/", ".ruff_cache/", ".venv/", ".egg-info/")


def repository_changes(root: Path) -> set[str] | None:
    """``git status`` lines (untracked and ignored files listed one by one) for the checkout
    at ``root``, less the caches above; None outside a git checkout."""
    try:
        out = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--ignored",
                "--untracked-files=all",
                "--",
                ".",
                ":!.venv",
            ],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return {
        line
        for line in out.stdout.splitlines()
        if not any(cache in line or line.endswith(".pyc") for cache in _OWN_CACHES)
    }


@pytest.fixture(scope="session", autouse=True)
def _no_test_writes_into_the_repository() -> Iterator[None]:
    root = _TESTS.parent
    before = repository_changes(root)
    yield
    after = repository_changes(root)
    if before is not None and after is not None and after != before:
        written = sorted(after - before) + [f"(gone) {line}" for line in sorted(before - after)]
        pytest.fail(
            "tests wrote into the repository (write under tmp_path instead):\n  "
            + "\n  ".join(written),
            pytrace=False,
        )


@pytest.fixture(name="repository_changes")
def _repository_changes_fixture():
    """:func:`repository_changes`, for the test of the guard itself."""
    return repository_changes


@pytest.fixture(params=["source", "table"])
def executor(request, monkeypatch) -> str:
    """Run the test once with every plan as generated source and once as a table
    (``flowgraph/compiler/table.py``), whatever the plan's size. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("executor")``."""
    from flowgraph.compiler import table

    monkeypatch.setattr(table, "TABLE_THRESHOLD", -1 if request.param == "table" else 10**9)
    return request.param
