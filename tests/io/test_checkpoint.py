"""Checkpoints: Saver round trips, max_to_keep, latest_checkpoint, mismatches, damaged files
and saves that fail midway."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.io import checkpoint
from flowgraph.train import get_or_create_global_step
from flowgraph.train.saver import Saver, latest_checkpoint


def _model(graph, w_shape=(2, 3), b_dtype=fg.float32, extra=False):
    """Variables w (float32), b, step (int64); their initial values are all distinct."""
    with graph.as_default():
        w = fg.Variable(np.arange(np.prod(w_shape), dtype=np.float32).reshape(w_shape), name="w")
        b = fg.Variable(np.array([0.5, -1.5], b_dtype.as_numpy_dtype), name="b")
        step = get_or_create_global_step()
        if extra:
            fg.Variable([7.0], name="extra")
        bump = fg.group(w.assign_add(fg.ones(w_shape)), step.assign_add(fg.constant(1, fg.int64)))
    return graph, {"w": w, "b": b, "step": step}, bump


def _trained_session(graph, bump, steps=2):
    sess = fg.Session(graph=graph)
    with graph.as_default():
        sess.run(fg.global_variables_initializer())
    for _ in range(steps):
        sess.run(bump)
    return sess


def _values(sess, variables):
    return {name: sess.run(v) for name, v in variables.items()}


def test_save_and_restore_across_two_sessions_and_graphs(tmp_path):
    g, variables, bump = _model(fg.Graph())
    with g.as_default():
        saver = Saver()
    sess = _trained_session(g, bump)
    expected = _values(sess, variables)
    prefix = saver.save(sess, str(tmp_path / "model"))
    assert prefix == str(tmp_path / "model")
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint",
        "model.index.json",
        "model.meta",
        "model.npz",
    ]

    # A new graph built the same way, and a new session: restore replaces initialization.
    g2, variables2, _ = _model(fg.Graph())
    with g2.as_default():
        saver2 = Saver()
    with fg.Session(graph=g2) as sess2:
        saver2.restore(sess2, prefix)
        restored = _values(sess2, variables2)
    for name, value in expected.items():
        np.testing.assert_array_equal(restored[name], value)
        assert restored[name].dtype == value.dtype
    assert restored["step"] == 2 and restored["step"].dtype == np.int64


def test_the_files_are_plain_numpy_and_json(tmp_path):
    g, _, bump = _model(fg.Graph())
    with g.as_default():
        prefix = Saver().save(_trained_session(g, bump), str(tmp_path / "m"), global_step=3)
    with np.load(prefix + ".npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["b", "global_step", "w"]
        np.testing.assert_array_equal(archive["b"], [0.5, -1.5])
    index = json.loads(open(prefix + ".index.json").read())
    assert index["format"] == "flowgraph-checkpoint" and index["data"] == "m-3.npz"
    assert {(e["name"], e["dtype"], tuple(e["shape"])) for e in index["variables"]} == {
        ("w", "float32", (2, 3)),
        ("b", "float32", (2,)),
        ("global_step", "int64", ()),
    }


def test_global_step_suffix_from_an_int_or_a_variable(tmp_path):
    g, variables, bump = _model(fg.Graph())
    with g.as_default():
        saver = Saver()
    sess = _trained_session(g, bump, steps=5)
    assert saver.save(sess, str(tmp_path / "m"), global_step=12) == str(tmp_path / "m-12")
    assert saver.save(sess, str(tmp_path / "m"), global_step=variables["step"]) == str(
        tmp_path / "m-5"
    )
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / "m-5")


def test_max_to_keep_deletes_the_oldest_and_the_state_file_lists_the_rest(tmp_path):
    g, _, bump = _model(fg.Graph())
    with g.as_default():
        saver = Saver(max_to_keep=2)
    sess = _trained_session(g, bump)
    paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(4)]
    assert saver.last_checkpoints == paths[2:]
    assert not checkpoint.checkpoint_exists(paths[0]) and not checkpoint.checkpoint_exists(paths[1])
    assert all(checkpoint.checkpoint_exists(p) for p in paths[2:])
    state = checkpoint.get_checkpoint_state(str(tmp_path))
    assert state["model_checkpoint_path"] == paths[3]
    assert state["all_model_checkpoint_paths"] == paths[2:]
    # Saving the same prefix again keeps it once, as the newest.
    saver.save(sess, str(tmp_path / "m"), global_step=2)
    assert saver.last_checkpoints == [paths[3], paths[2]]
    assert latest_checkpoint(str(tmp_path)) == paths[2]


def test_latest_checkpoint(tmp_path):
    assert latest_checkpoint(str(tmp_path)) is None
    g, _, bump = _model(fg.Graph())
    with g.as_default():
        saver = Saver(max_to_keep=None)
    sess = _trained_session(g, bump)
    saver.save(sess, str(tmp_path / "m"), global_step=1)
    newest = saver.save(sess, str(tmp_path / "m"), global_step=2)
    assert latest_checkpoint(str(tmp_path)) == newest
    os.remove(newest + ".npz")  # the state file names a checkpoint that is gone
    assert latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("{broken")
    with pytest.raises(errors.DataLossError, match="checkpoint"):
        latest_checkpoint(str(tmp_path))


def test_dict_var_list_and_reserved_names(tmp_path):
    g = fg.Graph()
    with g.as_default():
        a = fg.Variable([1.0, 2.0], name="a")
        saver = Saver({"file": a, "allow_pickle": a, "layer/a": a})
        zero = a.assign([0.0, 0.0])
    with fg.Session(graph=g) as sess:
        sess.run(a.initializer)
        prefix = saver.save(sess, str(tmp_path / "m"))
        sess.run(zero)
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
    assert sorted(checkpoint.read_checkpoint(prefix)) == ["allow_pickle", "file", "layer/a"]


def _saved(tmp_path, **model):
    g, _, bump = _model(fg.Graph(), **model)
    with g.as_default():
        return Saver().save(_trained_session(g, bump), str(tmp_path / "m"))


@pytest.mark.parametrize(
    ("saved", "restored", "error", "lines"),
    [
        ({}, {"extra": True}, errors.NotFoundError, ["not found in the checkpoint: ['extra']"]),
        (
            {},
            {"w_shape": (3, 2)},
            errors.InvalidArgumentError,
            ["'w': checkpoint has float32[2, 3], the graph's variable is float32[3, 2]"],
        ),
        (
            {},
            {"b_dtype": fg.float64},
            errors.InvalidArgumentError,
            ["'b': checkpoint has float32[2], the graph's variable is float64[2]"],
        ),
        (
            {"extra": True},
            {"w_shape": (6,)},
            errors.InvalidArgumentError,
            ["'w': checkpoint has float32[2, 3], the graph's variable is float32[6]"],
        ),
    ],
)
def test_mismatches_name_the_file_and_list_every_difference(
    tmp_path, saved, restored, error, lines
):
    prefix = _saved(tmp_path, **saved)
    g, variables, _ = _model(fg.Graph(), **restored)
    with g.as_default():
        saver = Saver()
    with fg.Session(graph=g) as sess, pytest.raises(error) as info:
        saver.restore(sess, prefix)
    message = str(info.value)
    assert repr(prefix + ".npz") in message
    for line in lines:
        assert line in message
    assert sess._context.variables == {}  # nothing was assigned


def test_missing_checkpoint_and_uninitialized_variables(tmp_path):
    g, _, _ = _model(fg.Graph())
    with g.as_default():
        saver = Saver()
    with fg.Session(graph=g) as sess:
        with pytest.raises(errors.NotFoundError, match="nothing.index.json"):
            saver.restore(sess, str(tmp_path / "nothing"))
        with pytest.raises(errors.FailedPreconditionError, match="'w'.*uninitialized"):
            saver.save(sess, str(tmp_path / "m"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("damage", "file"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:100]), ".npz"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), ".npz"),
        (lambda p: p.write_bytes(b"not a zip file at all"), ".npz"),
        (lambda p: _flip_byte(p, -300), ".npz"),
        (lambda p: p.write_text('{"format": "flowgraph-checkpoint", "vers'), ".index.json"),
        (lambda p: p.write_text('{"format": "something-else"}'), ".index.json"),
        (lambda p: p.write_text(p.read_text().replace('"float32"', '"object"', 1)), ".index.json"),
        (
            lambda p: p.write_text(p.read_text().replace("[\n    2,\n    3\n   ]", "[3, 2]")),
            ".index.json",
        ),
    ],
)
def test_damaged_files_give_data_loss_errors_naming_them(tmp_path, damage, file):
    prefix = _saved(tmp_path)
    damage(tmp_path / ("m" + file))
    g, _, _ = _model(fg.Graph())
    with g.as_default():
        saver = Saver()
    with fg.Session(graph=g) as sess, pytest.raises(errors.DataLossError) as info:
        saver.restore(sess, prefix)
    assert repr(prefix + file) in str(info.value)


def _flip_byte(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _fail_on_call(n, real):
    """A stand-in for ``real`` that raises on its n-th call (1-based) and works otherwise."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        if len(calls) == n:
            if real is np.savez:  # write half an archive first, as a full disk would
                args[0].write(b"PK\x03\x04 half an archive")
            raise OSError("disk full")
        return real(*args, **kwargs)

    return fake


@pytest.mark.parametrize(
    ("target", "call"),
    [("savez", 1), ("replace", 1), ("replace", 2), ("replace", 3)],
)
@pytest.mark.parametrize("same_prefix", [False, True])
def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_loadable(
    tmp_path, monkeypatch, target, call, same_prefix
):
    g, variables, bump = _model(fg.Graph())
    with g.as_default():
        saver = Saver()
    sess = _trained_session(g, bump, steps=1)
    first = saver.save(sess, str(tmp_path / "m"), global_step=None if same_prefix else 1)
    before = _values(sess, variables)
    sess.run(bump)
    module, name = (np, "savez") if target == "savez" else (os, "replace")
    monkeypatch.setattr(module, name, _fail_on_call(call, getattr(module, name)))
    with pytest.raises(OSError, match="disk full"):
        saver.save(sess, str(tmp_path / "m"), global_step=None if same_prefix else 2)
    monkeypatch.undo()

    assert latest_checkpoint(str(tmp_path)) == first
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    with fg.Session(graph=g) as sess2:
        saver.restore(sess2, first)
        restored = _values(sess2, variables)
    if same_prefix and target == "replace" and call >= 2:
        # The data file was replaced atomically; its index (same names, shapes and dtypes)
        # still describes it, so the checkpoint loads, with the values of the newer save.
        before = _values(sess, variables)
    for key, value in before.items():
        np.testing.assert_array_equal(restored[key], value)


def test_restore_into_a_graph_imported_from_a_file(tmp_path):
    from flowgraph.io import export_graph, import_graph

    g, variables, bump = _model(fg.Graph())
    with g.as_default():
        prefix = Saver().save(_trained_session(g, bump), str(tmp_path / "m"))
        export_graph(g, tmp_path / "g.json")
    expected = _values(_trained_session(g, bump), variables)
    with fg.Graph().as_default():
        import_graph(tmp_path / "g.json", name=None)  # the file's own names: w, b, global_step
        saver = Saver()
        with fg.Session() as sess:
            saver.restore(sess, prefix)
            restored = sess.run([v for v in fg.global_variables()])
    for value, name in zip(restored, ["w", "b", "step"]):
        np.testing.assert_array_equal(value, expected[name])


def test_training_resumed_from_a_checkpoint_matches_uninterrupted_training(tmp_path):
    from flowgraph.train import AdamOptimizer

    with fg.Graph().as_default():
        w = fg.Variable([1.0, -2.0], name="w")
        train = AdamOptimizer(0.1).minimize(fg.reduce_sum(fg.square(w)))
        saver = Saver()  # w and Adam's slots and beta powers
        with fg.Session() as sess:
            sess.run(fg.global_variables_initializer())
            sess.run(train)
            prefix = saver.save(sess, str(tmp_path / "m"))
            for _ in range(3):
                sess.run(train)
            expected = sess.run(w)
        with fg.Session() as sess:
            saver.restore(sess, prefix)
            for _ in range(3):
                sess.run(train)  # updates the restored arrays in place
            np.testing.assert_array_equal(sess.run(w), expected)
