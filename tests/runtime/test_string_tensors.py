"""String tensors (``fg.string`` / ``tf.string``): constants, placeholders, feeds and fetches are
bytes, held in object arrays; they pass through the compiler's passes and are never
differentiated."""

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.compat.v1 as tf
from flowgraph.compiler.passes.cse import freeze
from flowgraph.errors import DTypeError

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")


@pytest.fixture(autouse=True)
def graph():
    with fg.Graph().as_default() as g:
        yield g


def test_the_dtype_is_spelled_as_in_tf():
    assert tf.string is fg.string is fg.as_dtype("string") is fg.as_dtype(bytes)
    assert fg.string.is_string and not fg.string.is_numeric and not fg.string.is_floating
    assert fg.as_dtype(np.array([b"a"]).dtype) is fg.string


def test_constants_fetch_as_bytes_and_str_is_utf8():
    scalar = fg.constant("héllo")
    matrix = fg.constant([["a", b"b"], ["c", "d"]])
    assert scalar.dtype is fg.string and matrix.shape.as_list() == [2, 2]
    got_scalar, got_matrix = fg.Session().run([scalar, matrix])
    assert got_scalar == "héllo".encode() and isinstance(got_scalar, bytes)
    assert got_matrix.dtype == object
    assert got_matrix.tolist() == [[b"a", b"b"], [b"c", b"d"]]


def test_placeholders_take_feeds_of_str_bytes_and_numpy_strings():
    p = tf.placeholder(tf.string, [None], name="words")
    out = tf.identity(p)
    with tf.Session() as sess:
        for fed in (["x", "yz"], [b"x", b"yz"], np.array(["x", "yz"]), np.array([b"x", b"yz"])):
            assert sess.run(out, {p: fed}).tolist() == [b"x", b"yz"]
        assert sess.run(out, {"words:0": np.array([b"q"], dtype=object)}).tolist() == [b"q"]


def test_a_fetched_fed_string_array_is_not_the_callers_array():
    p = fg.placeholder(fg.string, [1])
    fed = np.array([b"a"], dtype=object)
    got = fg.Session().run(fg.identity(p), {p: fed})
    assert got is not fed and got.tolist() == [b"a"]


def test_bad_feeds_and_conversions_name_the_tensor():
    p = fg.placeholder(fg.string, [None], name="words")
    with pytest.raises(TypeError, match="'words:0'"):
        fg.Session().run(fg.identity(p), {p: [1, 2]})
    x = fg.placeholder(fg.float32, [None], name="nums")
    with pytest.raises(TypeError, match="'nums:0'.*float32"):
        fg.Session().run(fg.identity(x), {x: ["a"]})
    with pytest.raises(TypeError, match="string tensor"):
        fg.constant([1.0], dtype=fg.string)
    with pytest.raises(TypeError, match="float32"):
        fg.constant(["a"], dtype=fg.float32)
    with pytest.raises(DTypeError, match="Cast from string to float32"):
        fg.cast(fg.constant("1"), fg.float32)


def test_passes_fold_and_merge_equal_string_constants():
    a = fg.identity(fg.constant(["ab", "c"]))
    b = fg.identity(fg.constant([b"a" + b"b", b"c"]))
    stacked = fg.stack([a, b])
    for level in ("O0", "O1"):
        got = fg.Session(level=level).run(stacked)
        assert got.tolist() == [[b"ab", b"c"], [b"ab", b"c"]]
    assert freeze(np.array([b"ab"], object)) == freeze(np.array([b"a" + b"b"], object))
    assert freeze(np.array([b"ab"], object)) != freeze(np.array([b"ba"], object))


def test_string_tensors_get_no_gradient():
    x = fg.placeholder(fg.float32, [], name="x")
    s = fg.summary.scalar("x", x * 3.0)
    (dx,) = fg.gradients(x * 2.0, [x])
    assert fg.gradients(s, [x]) == [None]
    assert fg.Session().run(dx, {x: 1.0}) == 2.0


def test_graph_files_keep_string_constants(tmp_path):
    from flowgraph import io

    fg.identity(fg.constant([["a", "bc"]], name="words"), name="out")
    path = tmp_path / "g.json"
    io.export_graph(fg.get_default_graph(), path)
    with fg.Graph().as_default():
        io.import_graph(path, name="")
        assert fg.Session().run("out:0").tolist() == [[b"a", b"bc"]]


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"type": "strings", "shape": [2], "items": ["YQ=="]}, "needs 2 items"),
        ({"type": "strings", "shape": [1], "items": ["not base64!"]}, "not valid base64"),
        ({"type": "strings", "shape": [1], "items": [7]}, "base64 text"),
        ({"type": "strings", "shape": [-1], "items": []}, "non-negative"),
    ],
)
def test_graph_files_refuse_bad_string_arrays(doc, message):
    from flowgraph.io.attr_codec import AttrError, Budget, decode

    with pytest.raises(AttrError, match=message):
        decode(doc, Budget(1000))
