"""Checkpoint hygiene: killed saves leave no temporary files for good, max_to_keep holds across
processes, deletion never leaves an index without its data, crafted sizes are refused."""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.io import checkpoint, files
from flowgraph.train.saver import Saver

_KILLED_SAVE = """
import os, signal, sys
import numpy as np
from flowgraph.io import checkpoint, files
real = files.write_temp
def dying(path, write):
    if path.endswith(".index.json"):  # the data's temporary file is written: die now
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, write)
files.write_temp = dying
checkpoint.write_checkpoint(sys.argv[1], {"w": np.ones(1000)})
"""


def _temps(directory) -> list:
    return sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))


def test_the_next_save_removes_temporary_files_of_killed_saves(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_SAVE, str(tmp_path / "model-1")], timeout=60
    )
    assert done.returncode == -9
    left = _temps(tmp_path)
    assert len(left) == 1 and left[0].startswith(".model-1.npz.")  # the killed save's data
    # One being written by a live process (this one) stays; a day-old one goes regardless.
    live = tmp_path / f".model-9.npz.{os.getpid()}.abcdefgh.tmp"
    live.write_bytes(b"...")
    old = tmp_path / f".model-8.npz.{os.getpid()}.abcdefgh.tmp"
    old.write_bytes(b"...")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    other = tmp_path / ".notes.txt.1.abcdefgh.tmp"  # not a checkpoint file: not ours to touch
    other.write_bytes(b"...")
    checkpoint.write_checkpoint(str(tmp_path / "model-2"), {"w": np.ones(3)})
    assert _temps(tmp_path) == sorted([live.name, other.name])
    assert checkpoint.read_checkpoint(str(tmp_path / "model-2"))["w"].tolist() == [1.0] * 3


def _graph():
    g = fg.Graph()
    with g.as_default():
        w = fg.Variable([1.0, 2.0], name="w")
        init = fg.global_variables_initializer()
    return g, w, init


def _checkpoints(directory) -> list:
    return sorted(glob.glob(os.path.join(directory, "*.index.json")))


def test_max_to_keep_counts_the_checkpoints_of_earlier_processes(tmp_path):
    g, w, init = _graph()
    prefix = str(tmp_path / "model")
    with g.as_default():
        for restart in range(8):  # each restart: a new Saver, as in a new process
            saver = Saver(max_to_keep=3)
            with fg.Session() as sess:
                sess.run(init)
                for k in range(2):
                    saver.save(sess, prefix, global_step=restart * 10 + k)
            assert len(_checkpoints(tmp_path)) <= 3
    state = checkpoint.get_checkpoint_state(str(tmp_path))
    kept = [os.path.basename(p) for p in state["all_model_checkpoint_paths"]]
    assert kept == ["model-61", "model-70", "model-71"]
    assert sorted(os.path.basename(p)[: -len(".index.json")] for p in _checkpoints(tmp_path)) == [
        "model-61",
        "model-70",
        "model-71",
    ]
    assert len(glob.glob(str(tmp_path / "*.npz"))) == 3


class _Killed(BaseException):
    """Stands for SIGKILL in the middle of a save: nothing after it runs."""


def test_a_save_killed_anywhere_while_deleting_never_leaves_an_index_without_data(
    tmp_path, monkeypatch
):
    """Kill the save at each of its file deletions in turn: every index left has its data,
    and the next save finishes the deleting, down to max_to_keep."""
    g, w, init = _graph()
    real = files.discard
    with g.as_default():
        for kill_at in range(4):
            directory = tmp_path / f"run{kill_at}"
            prefix = str(directory / "model")
            with fg.Session() as sess:
                sess.run(init)
                saver = Saver(max_to_keep=2)
                for step in range(4):
                    saver.save(sess, prefix, global_step=step)
                calls = []

                def dying(path, calls=calls, kill_at=kill_at):
                    if path.endswith((".npz", ".index.json")):
                        calls.append(path)
                        if len(calls) > kill_at:
                            raise _Killed
                    real(path)

                monkeypatch.setattr(checkpoint.files, "discard", dying)
                with pytest.raises(_Killed):
                    saver.save(sess, prefix, global_step=4)
                monkeypatch.setattr(checkpoint.files, "discard", real)
                for index in _checkpoints(directory):
                    assert os.path.exists(index[: -len(".index.json")] + ".npz"), index
                Saver(max_to_keep=2).save(sess, prefix, global_step=5)  # "after the restart"
            names = sorted(os.listdir(directory))
            assert names == [  # Saver.save writes a meta graph by default, as in TF1
                "checkpoint",
                "model-4.index.json",
                "model-4.meta",
                "model-4.npz",
                "model-5.index.json",
                "model-5.meta",
                "model-5.npz",
            ], (kill_at, names)


def _npz_with_header(shape, dtype="<f8", data=b"\0" * 16) -> bytes:
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, header)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("w.npy", npy.getvalue() + data)
    return out.getvalue()


@pytest.mark.parametrize("shape", [(2**40,), (1024, 1024, 1024, 8), (3,)])
def test_a_crafted_size_is_refused_before_allocating(tmp_path, shape):
    prefix = str(tmp_path / "model")
    checkpoint.write_checkpoint(prefix, {"w": np.zeros(2)})
    index = json.loads(open(checkpoint.index_path(prefix)).read())
    index["variables"][0]["shape"] = list(shape)  # the index agrees with the crafted header
    open(checkpoint.index_path(prefix), "w").write(json.dumps(index))
    open(checkpoint.data_path(prefix), "wb").write(_npz_with_header(shape))
    with pytest.raises(errors.DataLossError, match="claims") as info:
        checkpoint.read_checkpoint(prefix)
    assert checkpoint.data_path(prefix) in str(info.value)


# ---- bounded error messages and softmax cross-entropy at the float limits ----------------


def test_errors_echo_at_most_a_little_of_a_huge_user_string():
    big = "x" * 1_000_000
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [2], name="x")
        with fg.device(f"/device:{big}:0"):
            y = x + 1.0
        attempts = [
            lambda: fg.Session().run(y, {x: [1, 2]}),  # no backend runs that device
            lambda: fg.Session().run(x, {big + ":0": [1, 2]}),  # no such tensor
            lambda: fg.Session().run(big),  # no such op
            lambda: fg.Session().run(x, {x: big}),  # not a number
        ]
        for attempt in attempts:
            with pytest.raises((ValueError, TypeError, KeyError)) as info:
                attempt()
            message = str(info.value)
            assert "xxxx..." in message and len(message) < 1000, len(message)


def test_softmax_cross_entropy_stays_finite_at_plus_minus_3e38():
    logits = np.array([[3e38, -3e38], [-3e38, 3e38], [1.0, 2.0]], np.float32)
    labels = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], np.float32)
    with fg.Graph().as_default():
        lg = fg.constant(logits)
        loss = fg.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=lg)
        (grad,) = fg.gradients(fg.reduce_sum(loss), [lg])
        with np.errstate(over="ignore", invalid="ignore"), fg.Session() as sess:
            got, g = sess.run([loss, grad])
    assert got[0] == 0.0 and got[1] == 0.0  # was NaN: 0 * inf for the other class
    np.testing.assert_allclose(got[2], np.log1p(np.exp(-1.0)), rtol=1e-6)
    np.testing.assert_array_equal(g[:2], np.zeros((2, 2), np.float32))
