"""The guard in tests/conftest.py sees a test writing into a checkout (it fails the run)."""

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def test_a_new_file_a_changed_file_and_an_ignored_file_are_seen_but_caches_are_not(
    tmp_path, repository_changes
):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("*.svg\n")
    (tmp_path / "kept.py").write_text("x = 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    before = repository_changes(tmp_path)
    assert before == {"A  .gitignore", "A  kept.py"}
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "kept.cpython-312.pyc").write_bytes(b"")
    assert repository_changes(tmp_path) == before
    (tmp_path / "picture.svg").write_text("<svg/>")  # ignored, as the example's picture was
    (tmp_path / "new.txt").write_text("")
    (tmp_path / "kept.py").write_text("x = 2\n")
    assert repository_changes(tmp_path) - before == {"!! picture.svg", "?? new.txt", "AM kept.py"}
