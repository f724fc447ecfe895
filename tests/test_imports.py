"""`import flowgraph` stays light: optional and heavy parts load on first use (issue 15).

A module-list check in a fresh interpreter, not a timing: timings belong in benchmarks/.
"""

import subprocess
import sys

LAZY = ["networkx", "graphviz", "dask", "distributed", "tqdm", "matplotlib", "threadpoolctl"]
LAZY_OWN = ["flowgraph.dynamic", "flowgraph.viz.drawing", "flowgraph.distributed", "flowgraph.cli"]


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_a_bare_import_loads_no_optional_or_heavy_dependency():
    loaded = modules_after("import flowgraph")
    assert "flowgraph" in loaded and "numpy" in loaded
    assert not [m for m in LAZY + LAZY_OWN if m in loaded]


def test_what_was_left_out_loads_on_first_use():
    loaded = modules_after(
        "import flowgraph as fg\n"
        "fg.viz.draw; fg.function\n"
        "with fg.Graph().as_default():\n"
        "    x = fg.placeholder(fg.float32, [2, 2])\n"
        "    fg.Session().run(fg.matmul(x, x), {x: [[1, 2], [3, 4]]})"
    )  # (threadpoolctl: around the first run of a plan that may call BLAS)
    assert {"graphviz", "flowgraph.dynamic", "threadpoolctl"} <= loaded
