"""python -m flowgraph.compat.coverage: which tf.* names a program uses and which are missing."""

from __future__ import annotations

import io
import subprocess
import sys

import flowgraph.compat.v1 as tf
from flowgraph.compat.coverage import main, missing_names, resolve, scan_source

PROGRAM = """
import tensorflow.compat.v1 as tf
from tensorflow import losses as L
from tensorflow.compat.v1 import Session

flags = tf.app.flags
FLAGS = flags.FLAGS
flags.DEFINE_float("lr", 0.1, "learning rate")

x = tf.placeholder(tf.float32, [None, 3])
y = tf.contrib.layers.fully_connected(x, 2)
loss = L.mean_squared_error(x, y)
step = tf.train.AdamOptimizer(FLAGS.lr).minimize(loss)
keys = tf.GraphKeys.TRAINABLE_VARIABLES, tf.GraphKeys.NO_SUCH_KEY
other = tf.compat.v1.nn.relu(x)
with Session() as sess:
    sess.run(tf.global_variables_initializer())
"""


def test_scan_counts_chains_from_every_kind_of_import():
    names = scan_source(PROGRAM)
    assert names["tf.placeholder"] == 1
    assert names["tf.losses.mean_squared_error"] == 1  # from tensorflow import losses as L
    assert names["tf.Session"] == 1  # from tensorflow.compat.v1 import Session
    assert names["tf.app.flags.DEFINE_float"] == 1  # through flags = tf.app.flags
    assert names["tf.app.flags.FLAGS.lr"] == 1  # through FLAGS = flags.FLAGS
    assert names["tf.train.AdamOptimizer"] == 1  # the chain stops at the call
    assert names["tf.nn.relu"] == 1  # tf.compat.v1.nn.relu
    assert "tf.train.AdamOptimizer.minimize" not in names
    assert not any(n.startswith("tf.x") or n == "tf." for n in names)


def test_missing_names_are_those_compat_v1_lacks():
    names = scan_source(PROGRAM)
    assert missing_names(names) == [
        "tf.GraphKeys.NO_SUCH_KEY",
        "tf.contrib.layers.fully_connected",
    ]
    # A fake module lacking everything: every name is missing.
    empty = type(tf)("empty")
    assert missing_names(["tf.placeholder"], empty) == ["tf.placeholder"]


def test_resolution_stops_at_objects_that_are_not_modules_or_classes():
    assert resolve("tf.app.flags.FLAGS.learning_rate") == ("tf.app.flags.FLAGS", True)
    assert resolve("tf.float32.as_numpy_dtype") == ("tf.float32", True)
    assert resolve("tf.GraphKeys.LOSSES") == ("tf.GraphKeys.LOSSES", True)
    assert resolve("tf.nn.no_such_op") == ("tf.nn.no_such_op", False)


def test_programs_without_tensorflow_use_no_names():
    assert not scan_source("import numpy as tf\nprint(tf.zeros(3))\n")


def test_command_line_lists_names_and_exits_1_on_missing(tmp_path):
    good = tmp_path / "good.py"
    good.write_text("import flowgraph.compat.v1 as tf\nx = tf.constant(1.0)\nprint(tf.Session)\n")
    bad = tmp_path / "bad.py"
    bad.write_text("import tensorflow as tf\ntf.contrib.slim.conv2d(1)\ntf.constant(2)\n")
    out = io.StringIO()
    assert main([str(good)], out) == 0
    assert f"{good}: 2 tf names, 0 missing" in out.getvalue()
    out = io.StringIO()
    assert main([str(good), str(bad), "--missing"], out) == 1
    text = out.getvalue()
    assert "tf.contrib.slim.conv2d" in text and "MISSING" in text
    assert "tf.constant " not in text  # --missing hides present names
    assert "all 2 programs: 3 tf names, 1 missing: tf.contrib.slim.conv2d" in text
    syntax = tmp_path / "broken.py"
    syntax.write_text("def (:\n")
    out = io.StringIO()
    assert main([str(syntax)], out) == 1
    assert "cannot scan" in out.getvalue()
    # And as a module, the way users run it.
    run = subprocess.run(
        [sys.executable, "-m", "flowgraph.compat.coverage", str(bad)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "tf.contrib.slim.conv2d" in run.stdout
