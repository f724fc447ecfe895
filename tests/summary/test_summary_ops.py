"""Summary ops and FileWriter, read back by TensorBoard's own event accumulator."""

import io
import os
import re
import sys

import numpy as np
import pytest

import flowgraph.compat.v1 as tf
from flowgraph.ops import summary_proto

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

SIZE_GUIDANCE = {ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0}


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def reload(logdir):
    acc = ea.EventAccumulator(str(logdir), size_guidance=SIZE_GUIDANCE)
    acc.Reload()
    return acc


def test_scalars_round_trip_with_tags_from_name_scopes(tmp_path):
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.name_scope("train"):
        loss = tf.summary.scalar("loss", x * 2.0)
        again = tf.summary.scalar("loss", x + 1.0)  # a second "loss" in the scope: loss_1
    acc_s = tf.summary.scalar("accuracy", x / 10.0, family="metrics")
    merged = tf.summary.merge_all()
    assert [loss.op.name, again.op.name] == ["train/loss", "train/loss_1"]
    with tf.Session() as sess, tf.summary.FileWriter(tmp_path) as writer:
        for step in range(5):
            writer.add_summary(sess.run(merged, {x: float(step)}), global_step=step)
    acc = reload(tmp_path)
    assert sorted(acc.Tags()["scalars"]) == [
        "metrics/metrics/accuracy",  # TF1 prefixes the family twice (scope and tab)
        "train/loss",
        "train/loss_1",
    ]
    assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == [
        (s, 2.0 * s) for s in range(5)
    ]
    assert [e.value for e in acc.Scalars("train/loss_1")] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert acc_s.op.type == "ScalarSummary"
    files = os.listdir(tmp_path)
    assert len(files) == 1 and re.match(r"events\.out\.tfevents\.\d{10}\.", files[0])


def test_histogram_buckets_equal_numpys_counts(tmp_path):
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 3, 1000), [0.0, 0.0, 1e-13, -5e6]])
    v = tf.placeholder(tf.float64, [None], name="v")
    h = tf.summary.histogram("weights", v)
    with tf.Session() as sess, tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(sess.run(h, {v: data}), 7)
    (event,) = reload(tmp_path).Histograms("weights")
    got = event.histogram_value
    assert event.step == 7
    assert (got.num, got.min, got.max) == (data.size, data.min(), data.max())
    assert got.sum == pytest.approx(data.sum()) and got.sum_squares == pytest.approx(data @ data)
    # Buckets are [previous limit, limit): NumPy's left-closed bins over the same edges.
    edges = np.concatenate([[-np.inf], got.bucket_limit])
    counts, _ = np.histogram(data, bins=edges)
    assert list(got.bucket) == counts.tolist()
    assert sum(got.bucket) == data.size
    # The edges are TF's default buckets; empty runs are collapsed into one bucket each.
    assert set(got.bucket_limit) <= set(summary_proto.bucket_limits().tolist())
    empty = [i for i, c in enumerate(got.bucket) if c == 0]
    assert all(i + 1 == len(got.bucket) or got.bucket[i + 1] > 0 for i in empty)


def tf_reference(values):
    """TF's C++ Histogram::Add (upper_bound per value) and EncodeToProto, value by value."""
    import bisect

    limits = summary_proto.bucket_limits().tolist()
    counts = [0] * len(limits)
    for v in values:
        counts[bisect.bisect_right(limits, v)] += 1
    out, i = [], 0
    while i < len(limits):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(limits) and counts[i] <= 0:
                end, count = limits[i], counts[i]
                i += 1
        out.append((end, count))
    return out


@pytest.mark.parametrize(
    "values",
    [
        [0.0, -0.0, 1e-12, -1e-12, 1.0, 1.1, -1.0, 3.5e19, -2e20],  # on and around limits
        summary_proto.bucket_limits()[700:720].tolist(),  # exactly the limits
        [],
        np.random.default_rng(2).standard_cauchy(500).tolist(),
    ],
)
def test_histogram_buckets_follow_tfs_algorithm(values):
    got = summary_proto.histogram_proto(np.array(values, dtype=np.float64))
    assert list(zip(got.bucket_limit, got.bucket)) == tf_reference(values)


def test_images_decode_to_the_same_pixels(tmp_path):
    from matplotlib.image import imread

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(4, 5, 6, 3), dtype=np.uint8)
    gray = np.linspace(0.0, 1.0, 2 * 3 * 4).reshape(2, 3, 4, 1)
    a = tf.summary.image("rgb", tf.constant(rgb), max_outputs=2)
    b = tf.summary.image("gray", tf.constant(gray, dtype=tf.float32), max_outputs=1)
    with tf.Session() as sess, tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(sess.run(tf.summary.merge([a, b])), 1)
    acc = reload(tmp_path)
    assert sorted(acc.Tags()["images"]) == ["gray/image", "rgb/image/0", "rgb/image/1"]
    for i in range(2):
        (event,) = acc.Images(f"rgb/image/{i}")
        assert (event.height, event.width) == (5, 6)
        pixels = imread(io.BytesIO(event.encoded_image_string), format="png")
        np.testing.assert_array_equal(np.round(pixels * 255).astype(np.uint8), rgb[i])
    (event,) = acc.Images("gray/image")
    pixels = imread(io.BytesIO(event.encoded_image_string), format="png")
    expected = (gray[0, :, :, 0].astype(np.float32) * (255.0 / gray[0].max())).astype(np.uint8)
    np.testing.assert_array_equal(np.round(pixels * 255).astype(np.uint8), expected)


def test_text_round_trips(tmp_path):
    note = tf.placeholder(tf.string, [], name="note")
    t = tf.summary.text("notes", note)
    with tf.Session() as sess, tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(sess.run(t, {note: "**lr** = 0.001"}), 3)
    acc = reload(tmp_path)
    (event,) = acc.Tensors("notes")
    assert event.step == 3 and event.tensor_proto.string_val == [b"**lr** = 0.001"]
    assert acc.SummaryMetadata("notes").plugin_data.plugin_name == "text"


def test_merge_all_uses_collections_and_is_none_when_empty():
    assert tf.summary.merge_all() is None
    x = tf.constant(1.0)
    tf.summary.scalar("a", x, collections=["mine"])
    tf.summary.scalar("b", x)
    assert tf.summary.merge_all() is not None
    mine = tf.summary.merge_all(key="mine")
    got = summary_proto.parse(tf.Session().run(mine))
    assert [v.tag for v in got.value] == ["a"]


def test_graph_event_and_run_metadata(tmp_path):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.reduce_sum(tf.tanh(x, name="t"), name="total")
    meta = tf.RunMetadata()
    with tf.Session() as sess:
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        sess.run(y, {x: np.ones((2, 3))}, options=options, run_metadata=meta)
        with tf.summary.FileWriter(tmp_path, sess.graph) as writer:
            writer.add_run_metadata(meta, "step0", global_step=0)
    acc = reload(tmp_path)
    names = {n.name for n in acc.Graph().node}
    assert {"x", "t", "total"} <= names
    run = acc.RunMetadata("step0")
    stats = {n.node_name: n for n in run.step_stats.dev_stats[0].node_stats}
    assert set(stats) == {"t", "total"}
    assert stats["t"].memory[0].total_bytes == 2 * 3 * 4
    assert stats["t"].all_end_rel_micros >= 1


# ---- bad input ----------------------------------------------------------------------------------


def test_non_scalar_to_scalar_names_the_tag():
    v = tf.placeholder(tf.float32, [3], name="v")
    with pytest.raises(ValueError, match=r"summary.scalar 'loss'.*shape \[3\]"):
        tf.summary.scalar("loss", v)
    u = tf.placeholder(tf.float32, None, name="u")  # unknown rank: checked when it runs
    s = tf.summary.scalar("later", u)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"'later'.*\[2\]"):
        tf.Session().run(s, {u: [1.0, 2.0]})


def test_non_image_shape_names_the_tag():
    with pytest.raises(ValueError, match=r"summary.image 'pics'.*4-D.*\[2,3\]"):
        tf.summary.image("pics", tf.zeros([2, 3]))
    with pytest.raises(ValueError, match=r"summary.image 'pics_1'.*channels.*\[1,2,2,2\]"):
        tf.summary.image("pics", tf.zeros([1, 2, 2, 2]))


def test_nan_in_a_histogram_is_invalid_argument_naming_the_tag():
    v = tf.placeholder(tf.float32, [None], name="v")
    with tf.name_scope("layer1"):
        h = tf.summary.histogram("weights", v)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="Nan in summary histogram for: layer1/weights"
    ):
        tf.Session().run(h, {v: [1.0, np.nan]})


def test_duplicate_tags_in_merge_are_invalid_argument():
    a = tf.summary.scalar("a", 1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag a"):
        tf.Session().run(tf.summary.merge([a, a]))


def test_unwritable_logdir_names_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NotADirectoryError, match=re.escape(repr(str(blocker / "logs")))):
        tf.summary.FileWriter(blocker / "logs")


def test_writing_after_close_names_the_file(tmp_path):
    writer = tf.summary.FileWriter(tmp_path)
    s = tf.Session().run(tf.summary.scalar("a", 1.0))
    writer.close()
    writer.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed.*events.out.tfevents"):
        writer.add_summary(s, 1)
    writer.reopen()
    writer.add_summary(s, 2)
    writer.close()
    assert [e.step for e in reload(tmp_path).Scalars("a")] == [2]


def test_without_the_extra_import_works_and_the_first_summary_names_it(tmp_path):
    import subprocess

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tensorboard' or name.startswith('tensorboard.'):\n"
        "            raise ImportError('no tensorboard here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import flowgraph.compat.v1 as tf\n"
        "try:\n"
        "    tf.summary.scalar('loss', tf.constant(1.0))\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and 'pip install "flowgraph[tensorboard]"' in out.stdout


def test_hand_built_summaries_as_tf1_programs_write_them(tmp_path):
    with tf.summary.FileWriter(tmp_path) as writer:
        value = tf.Summary.Value(tag="eval/accuracy", simple_value=0.75)
        writer.add_summary(tf.Summary(value=[value]), 10)
        writer.add_summary(tf.summary.Summary(value=[value]).SerializeToString(), 20)
    got = reload(tmp_path).Scalars("eval/accuracy")
    assert [(e.step, e.value) for e in got] == [(10, 0.75), (20, 0.75)]
    with tf.summary.FileWriter(tmp_path) as writer, pytest.raises(TypeError, match="add_summary"):
        writer.add_summary(3.0, 1)
