"""Files a build is about to read, asked of the system ahead (readahead.py): the build cache's
files and the Pagefind binary, as soon as a build knows it has work to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blogengine.cache import BuildCache
from blogengine.readahead import read_ahead
from blogengine.search import pagefind_executable
from tests.blogengine.test_cache import age
from tests.support.site import post

pytestmark = pytest.mark.skipif(not hasattr(os, "posix_fadvise"),
                                reason="the system cannot be asked to read ahead here")


@pytest.fixture
def advised(monkeypatch):
    """The files the system was asked to read ahead (the real call made all the same)."""
    asked: list[tuple[str, int]] = []
    real = os.posix_fadvise
    def recording(fd, offset, length, advice):
        asked.append((os.readlink(f"/proc/self/fd/{fd}"), advice))
        return real(fd, offset, length, advice)
    monkeypatch.setattr(os, "posix_fadvise", recording)
    return asked


def test_each_file_is_asked_for_whole_and_what_cannot_be_opened_is_passed_over(tmp_path, advised):
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"a" * 100_000)
    second.write_bytes(b"b" * 10)
    read_ahead([first, tmp_path / "missing", str(second)])
    assert advised == [(str(first), os.POSIX_FADV_WILLNEED), (str(second), os.POSIX_FADV_WILLNEED)]
    assert first.read_bytes() == b"a" * 100_000 and second.read_bytes() == b"b" * 10


def test_a_build_with_work_reads_ahead_its_cache_and_pagefind(make_site, build_at, advised):
    root = make_site({f"content/posts/p{n}.md": post(f"Post {n}", f"2024-01-{n + 1:02d}")
                      for n in range(6)})
    build_at(root)
    cache = BuildCache.for_output(root, root / "public").path
    age(root / "content")
    build_at(root)   # nothing changed: nothing asked
    advised.clear()
    build_at(root)
    assert advised == []
    edited = root / "content/posts/p2.md"
    edited.write_text(edited.read_text() + "\nMore.\n")
    age(root / "content")
    build_at(root)
    asked = {Path(path).name for path, advice in advised if advice == os.POSIX_FADV_WILLNEED}
    assert {cache.name, cache.stem + ".model.pickle"} <= asked
    assert pagefind_executable().resolve().name in asked
