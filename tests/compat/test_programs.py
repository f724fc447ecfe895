"""The TF1 programs in tests/compat/programs/, run as scripts, each to a bound real TF1 meets.

Each program is a plain TF1 script (``import flowgraph.compat.v1 as tf``) written in the style
of the public tutorials; it prints its result last as ``<label>: <number>``. Here each runs
as ``__main__`` in a fresh default graph with its own command line, and the printed number is
held to a bound. The coverage tool must find every ``tf.*`` name they use in compat.v1.
"""

from __future__ import annotations

import operator
import re
import runpy
import sys
import tempfile
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

import flowgraph.compat.v1 as tf
from flowgraph.compat.coverage import missing_names, scan_file

PROGRAMS = Path(__file__).parent / "programs"

# program: (label printed last, comparison, bound, extra command-line arguments)
BOUNDS = {
    "linear_regression": ("final cost", operator.lt, 0.01, []),
    "lstm_mnist_rows": ("test accuracy", operator.gt, 0.7, []),
    "logistic_regression_mnist": ("test accuracy", operator.gt, 0.84, []),
    "mlp_mnist_top_k": ("test accuracy", operator.gt, 0.86, []),
    "cnn_layers_dropout": ("test accuracy", operator.gt, 0.75, []),
    "autoencoder": ("test reconstruction loss", operator.lt, 0.09, []),
    "conv_autoencoder": ("test reconstruction mse", operator.lt, 0.05, []),
    "batchnorm_mlp": ("test accuracy", operator.gt, 0.85, []),
    "batchnorm_by_hand_ema": ("test accuracy", operator.gt, 0.9, []),
    "vae": ("test loss", operator.lt, 260.0, []),
    "gan_1d": ("distance of the generated mean from 4", operator.lt, 0.6, []),
    "save_restore_meta_graph": ("loss after restoring and training on", operator.lt, 1e-3, []),
    "streaming_metrics": ("accuracy", operator.gt, 0.9, []),
    "losses_regularized": ("kernel error", operator.lt, 0.1, []),
    "flags_app": (
        "final loss",
        operator.lt,
        0.2,
        ["--max_steps=200", "--optimizer=adam", "--not_a_flag", "input.txt"],
    ),
    "gfile_logging_csv": ("training accuracy", operator.gt, 0.95, []),
    "while_loop_newton": ("rate error", operator.lt, 1e-3, []),
    "cond_case_piecewise": ("final mse", operator.lt, 0.05, []),
    "sparse_softmax_decay": ("test accuracy", operator.gt, 0.85, []),
    "embedding_sequence_mask": ("accuracy", operator.gt, 0.95, []),
    "hinge_svm": ("accuracy", operator.gt, 0.95, []),
    "least_squares_linalg": ("disagreement", operator.lt, 1e-4, []),
    "kmeans": ("mean squared distance", operator.lt, 0.6, []),
    "rnn_clip_gradients": ("test loss", operator.lt, 0.02, []),
    "multi_head_collections": ("total loss", operator.lt, 0.1, []),
    "summaries_fully_connected": ("precision", operator.gt, 0.8, ["--max_steps=150"]),
}


def test_every_program_has_a_bound_and_there_are_at_least_20():
    names = sorted(p.stem for p in PROGRAMS.glob("*.py"))
    assert names == sorted(BOUNDS)
    assert len(names) >= 20


def _params():
    for name in sorted(BOUNDS):
        yield pytest.param(name, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_program_runs_to_its_bound(name, capsys, monkeypatch, tmp_path):
    label, compare, bound, args = BOUNDS[name]
    path = PROGRAMS / f"{name}.py"
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # their scratch files go here
    tf.app.flags.FLAGS.unparse_all()
    old_verbosity = tf.logging.get_verbosity()
    try:  # the programs' matrices are tiny: threaded BLAS on a busy machine only slows them
        with threadpool_limits(1, "blas"):
            runpy.run_path(str(path), run_name="__main__")
    except SystemExit as e:  # tf.app.run ends with sys.exit(main(argv))
        assert e.code in (None, 0), f"{name} exited with status {e.code}"
    finally:
        tf.logging.set_verbosity(old_verbosity)
    out = capsys.readouterr().out
    found = re.findall(rf"^{re.escape(label)}: \[?(\S+?)\]?$", out, re.MULTILINE)
    assert found, f"{name} printed no {label!r} line:\n{out}"
    value = float(found[-1])
    assert compare(value, bound), f"{name}: {label} = {value}, bound {compare.__name__} {bound}"


def test_flags_program_hands_unknown_arguments_to_main(capsys, monkeypatch):
    path = PROGRAMS / "flags_app.py"
    monkeypatch.setattr(sys, "argv", [str(path), "--max_steps=3", "--extra=1", "file"])
    tf.app.flags.FLAGS.unparse_all()
    with pytest.raises(SystemExit):
        runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "arguments left for main: ['--extra=1', 'file']" in out
    assert "steps run: 3" in out


def test_coverage_tool_finds_every_name_the_programs_use():
    used = {}
    for path in sorted(PROGRAMS.glob("*.py")):
        names = scan_file(str(path))
        assert names, f"{path.name} uses no tf names?"
        used[path.name] = missing_names(names)
    assert not any(used.values()), {k: v for k, v in used.items() if v}
