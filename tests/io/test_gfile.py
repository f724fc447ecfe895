"""flowgraph.io.gfile (tf.gfile) on the local file system, with TF's errors."""

import os

import pytest

import flowgraph.compat.v1 as tf
from flowgraph.errors import AlreadyExistsError, NotFoundError, UnimplementedError


def test_directories_files_and_listing(tmp_path):
    gfile = tf.gfile
    root = str(tmp_path / "logs")
    assert not gfile.Exists(root)
    gfile.MakeDirs(os.path.join(root, "a", "b"))
    gfile.MakeDirs(os.path.join(root, "a", "b"))  # existing: fine
    gfile.Mkdir(os.path.join(root, "c"))
    with pytest.raises(AlreadyExistsError, match="File exists"):
        gfile.Mkdir(os.path.join(root, "c"))
    with gfile.GFile(os.path.join(root, "a", "x.txt"), "w") as f:
        f.write("line 1\nline 2\n")
    with gfile.Open(os.path.join(root, "a", "y.bin"), "wb") as f:
        f.write(b"\x00\x01")
        assert f.size() == 2
    with gfile.FastGFile(os.path.join(root, "a", "x.txt"), "r") as f:
        assert f.readline() == "line 1\n" and list(f) == ["line 2\n"]
    assert gfile.GFile(os.path.join(root, "a", "y.bin"), "rb").read() == b"\x00\x01"
    assert sorted(gfile.ListDirectory(os.path.join(root, "a"))) == ["b", "x.txt", "y.bin"]
    assert gfile.IsDirectory(os.path.join(root, "a")) and not gfile.IsDirectory(
        os.path.join(root, "a", "x.txt")
    )
    assert gfile.Glob(os.path.join(root, "a", "*.txt")) == [os.path.join(root, "a", "x.txt")]
    walked = {os.path.relpath(d, root): (sorted(s), sorted(f)) for d, s, f in gfile.Walk(root)}
    assert walked["."] == (["a", "c"], []) and walked["a"] == (["b"], ["x.txt", "y.bin"])
    stat = gfile.Stat(os.path.join(root, "a", "x.txt"))
    assert stat.length == 14 and not stat.is_directory and stat.mtime_nsec > 0
    gfile.DeleteRecursively(root)
    assert not gfile.Exists(root)


def test_copy_rename_remove_and_their_errors(tmp_path):
    gfile = tf.gfile
    a, b, c = (str(tmp_path / n) for n in "abc")
    with gfile.GFile(a, "w") as f:
        f.write("A")
    gfile.Copy(a, b)
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        gfile.Copy(a, b)
    gfile.Copy(a, b, overwrite=True)
    gfile.Rename(b, c)
    assert not gfile.Exists(b) and gfile.GFile(c).read() == "A"
    with pytest.raises(AlreadyExistsError):
        gfile.Rename(a, c)
    gfile.Rename(a, c, overwrite=True)
    gfile.Remove(c)
    for call in (
        lambda: gfile.Remove(c),
        lambda: gfile.GFile(c, "r"),
        lambda: gfile.ListDirectory(c),
        lambda: gfile.DeleteRecursively(c),
        lambda: gfile.Stat(c),
        lambda: gfile.Copy(c, a),
        lambda: gfile.GFile(str(tmp_path / "missing" / "f"), "w"),
    ):
        with pytest.raises(NotFoundError, match="No such file or directory"):
            call()
    with pytest.raises(UnimplementedError, match="scheme 'gs' not implemented"):
        gfile.Exists("gs://bucket/x")
    assert list(gfile.Walk(c)) == []
