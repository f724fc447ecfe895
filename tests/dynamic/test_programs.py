"""PyTorch programs written in the tutorials' styles (tests/dynamic/programs/), run as plain
scripts on flowgraph.dynamic, each held to a loss/accuracy bound that PyTorch meets; and the
coverage tool finds no PyTorch name they use missing.

The programs run in one child process (BLAS limited to one thread through the environment,
which is what keeps small matmuls fast on a shared machine), each with ``runpy`` as
``__main__``; the child reports the variables each program leaves behind as JSON.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowgraph.dynamic import coverage

PROGRAMS = Path(__file__).parent / "programs"

# program -> {variable: (op, bound)}; the bounds hold with real PyTorch, which computes the same
# updates (the same formulas, data and number of steps; only the random draws differ).
BOUNDS = {
    "poly_tensors.py": {"final_loss": ("<", 60.0)},
    "poly_autograd.py": {"final_loss": ("<", 60.0)},
    "poly_nn.py": {"final_loss": ("<", 60.0)},
    "poly_optim.py": {"final_loss": ("<", 60.0)},
    "poly_module.py": {"final_loss": ("<", 60.0)},
    "poly_custom_function.py": {"final_loss": ("<", 60.0)},
    "nn_from_scratch.py": {
        "scratch_accuracy": (">", 0.8),
        "final_accuracy": (">", 0.85),
        "final_loss": ("<", 0.6),
    },
    "quickstart_mlp.py": {
        "final_accuracy": (">", 0.85),
        "final_loss": ("<", 0.5),
        "same": ("==", True),
    },
    "mnist_cnn.py": {"final_accuracy": (">", 0.6), "final_loss": ("<", 1.3)},
    "regression.py": {"final_loss": ("<", 0.01), "weight_error": ("<", 0.05)},
    "binary_classification.py": {"final_accuracy": (">", 0.95)},
    "spiral_classification.py": {"final_accuracy": (">", 0.9), "math_ok": ("==", True)},
    "text_bag_of_words.py": {"final_accuracy": (">", 0.9)},
    "checkpoint_resume.py": {"same": ("==", True), "final_loss": ("<", 6.0)},
    "autograd_tour.py": {
        "grads_ok": ("==", True),
        "second_ok": ("==", True),
        "in_place_errors": ("==", 2),
    },
    "tensor_basics.py": {
        "promoted": ("==", True),
        "indexing_ok": ("==", True),
        "bridge_ok": ("==", True),
    },
    "plateau_regression.py": {"final_loss": ("<", 0.01)},
    "cnn_batchnorm.py": {"final_accuracy": (">", 0.9)},
}

_RUNNER = """
import contextlib, io, json, runpy, sys
results = {}
for path in sys.argv[1:]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            ns = runpy.run_path(path, run_name="__main__")
        results[path] = {k: v if isinstance(v, (bool, int, str)) else float(v)
                         for k, v in ns.items() if not k.startswith("_")
                         and type(v).__name__ in ("bool", "int", "float", "str", "float64")}
    except Exception as e:
        results[path] = {"error": f"{type(e).__name__}: {e}", "output": out.getvalue()[-2000:]}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def results():
    paths = [str(PROGRAMS / name) for name in BOUNDS]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, *paths],
        capture_output=True, text=True, env=env, cwd=str(PROGRAMS), timeout=600,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return {Path(k).name: v for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


def test_there_are_at_least_fifteen_programs():
    names = sorted(p.name for p in PROGRAMS.glob("*.py") if p.name != "conftest.py")
    assert len(names) >= 15 and names == sorted(BOUNDS)


@pytest.mark.parametrize("program", sorted(BOUNDS))
def test_program_meets_its_bound(results, program):
    got = results[program]
    assert "error" not in got, f"{program} failed: {got.get('error')}\n{got.get('output')}"
    for name, (op, bound) in BOUNDS[program].items():
        value = got[name]
        ok = {"<": value < bound, ">": value > bound, "==": value == bound}[op]
        assert ok, f"{program}: {name} = {value}, wanted {op} {bound}"


def test_coverage_finds_nothing_missing_in_the_programs(capsys):
    paths = [str(PROGRAMS / name) for name in sorted(BOUNDS)]
    assert coverage.main(paths) == 0
    assert capsys.readouterr().out.strip() == f"0 missing name(s) in {len(paths)} program(s)"


def test_coverage_reports_missing_names(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text(
        "import torch\nimport torch.nn as nn\nfrom torch.utils.data import WeightedSampler\n"
        "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--lr')\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(2, 2)\n        self.gru = nn.GRU(2, 2)\n"
        "    def forward(self, x):\n        return self.fc(x).logaddexp(x)\n"
        "x = torch.zeros(2).view(2)\ny = torch.special.erf(x)\n"
    )
    found = [(m.line, m.name) for m in coverage.scan_file(str(program))]
    assert found == [
        (3, "torch.utils.data.WeightedSampler"),
        (11, "torch.nn.GRU"),
        (13, "Tensor.logaddexp"),
        (15, "torch.special.erf"),
    ]
