"""Pagefind's output written in memory and brought in beside a part's old copy
(searchscratch.py): alike files become second names of the old ones."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from blogengine.searchscratch import bring_in, scratch


def files(root: Path, **contents: str) -> Path:
    for rel, text in contents.items():
        path = root / rel.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_bring_in_links_the_alike_files_and_copies_the_others(tmp_path):
    previous = files(tmp_path / "previous", a="same", b="old", sub__c="same c", gone="gone")
    output = files(tmp_path / "output", a="same", b="new!", sub__c="same c", sub__d="added")
    target = tmp_path / "target"

    bring_in(output, previous, target)

    def inode(path: Path) -> int:
        return path.stat().st_ino
    assert inode(target / "a") == inode(previous / "a")
    assert inode(target / "sub/c") == inode(previous / "sub/c")
    assert (target / "b").read_text() == "new!" and inode(target / "b") != inode(previous / "b")
    assert (target / "sub/d").read_text() == "added"
    assert sorted(str(path.relative_to(target)) for path in target.rglob("*")) \
        == ["a", "b", "sub", "sub/c", "sub/d"]
    assert not output.exists()
    assert (previous / "b").read_text() == "old"   # the old copy is left as it was


def test_a_file_of_the_same_size_but_other_bytes_is_copied(tmp_path):
    previous = files(tmp_path / "previous", a="abcd")
    output = files(tmp_path / "output", a="abce")
    bring_in(output, previous, tmp_path / "target")
    assert (tmp_path / "target/a").read_text() == "abce"
    assert (tmp_path / "target/a").stat().st_ino != (previous / "a").stat().st_ino


def test_scratch_is_a_new_folder_in_memory_when_there_is_room(tmp_path):
    first, second = scratch(10, tmp_path), scratch(10, tmp_path)
    assert first is not None and second is not None and first != second
    assert first.parent == tmp_path and list(first.iterdir()) == []


def test_no_scratch_without_room_or_without_a_memory_file_system(tmp_path):
    assert scratch(10 ** 12, tmp_path) is None   # more room than the disk has
    assert scratch(10, tmp_path / "missing") is None


def test_scratch_folders_of_killed_builds_are_removed(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    killed = files(tmp_path / f"blogengine-pagefind-{ended.pid}-x1", fragment="left over")
    alive = files(tmp_path / f"blogengine-pagefind-{os.getppid()}-x2", fragment="in use")
    other = files(tmp_path / "not-ours", fragment="kept")

    assert scratch(10, tmp_path) is not None
    deadline = time.monotonic() + 10   # (deleted in the background, write.clear_killed)
    while killed.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not killed.exists()
    assert alive.exists() and other.exists()
