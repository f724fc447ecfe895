"""The teaching notebooks in notebooks/ run top to bottom without an error.

Each notebook is executed with nbclient in a Jupyter kernel that runs this interpreter: the
``python3`` kernel spec that ipykernel installs in this environment (looked up before any
user-level one) names ``python``, which jupyter_client replaces with ``sys.executable`` when it
starts the kernel. Nothing is installed outside the environment. A first cell, added to the
in-memory copy only, checks that the kernel is this interpreter, so a kernel from another Python
fails with a clear message rather than with "No module named 'flowgraph'".

Matplotlib gets the Agg backend (the notebooks select ``%matplotlib inline``, which renders with
Agg too), so nothing opens a window. OpenBLAS, MKL and OpenMP get one thread: on a small, shared
CI machine a multithreaded BLAS that competes for the cores can make a step of the MNIST
notebook many times slower; the notebooks' results do not depend on it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT_S = 120  # per cell; each whole notebook takes seconds

KERNEL_CHECK = f"""\
import sys
assert sys.prefix == {sys.prefix!r}, (
    f"the notebook kernel runs {{sys.executable}}, not the Python running the tests "
    f"({sys.executable!r}): a user-level 'python3' kernel spec overrides this environment's"
)
"""

ENVIRONMENT = {
    # This environment's kernel specs before the user's (the default in a virtualenv one owns).
    "JUPYTER_PREFER_ENV_PATH": "1",
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silences a debugger notice from ipykernel
    # No browser here: notebooks skip what only shows in one (05's %tensorboard server).
    "FLOWGRAPH_HEADLESS": "1",
}


def test_every_notebook_is_collected():
    # An empty glob would leave test_notebook_runs with no cases, which pytest reports as skipped.
    expected = {
        "01_build_and_run.ipynb",
        "02_autodiff.ipynb",
        "03_mnist.ipynb",
        "04_static_vs_dynamic.ipynb",
        "05_tensorboard.ipynb",
    }
    missing = expected - {path.name for path in NOTEBOOK_PATHS}
    assert not missing, f"notebooks missing from {NOTEBOOKS}: {sorted(missing)}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda path: path.stem)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cleared = not cell.get("outputs") and cell.get("execution_count") is None
        assert cleared, f"{path.name}: commit notebooks with their outputs cleared"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(KERNEL_CHECK))
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # run in notebooks/, as Jupyter would
    )
    failure = None
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        failure = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # IPython colours its tracebacks
    if failure is not None:
        pytest.fail(f"{path.name}: a cell raised\n{failure}", pytrace=False)
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: {errors}"
