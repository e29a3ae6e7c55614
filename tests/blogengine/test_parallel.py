"""Cold builds spread over worker processes write exactly what one process writes."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blogengine import build as build_module
from blogengine import parallel
from blogengine.errors import BuildFailed
from tests.support.site import post


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def many_posts(make_site):
    files = {f"content/posts/p{i:03d}.md": post(f"Post {i}", f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}",
                                                 tags=f"[t{i % 5}, t{i % 7}]",
                                                 body=f"Body {i}.\n\n```python\nx = {i}\n```\n")
             for i in range(60)}
    files["content/pages/about.md"] = "---\ntitle: About\n---\n\nHi.\n"
    return make_site(files)


@pytest.mark.slow
def test_parallel_build_is_identical_to_single_process(many_posts, build_at, tmp_path, monkeypatch):
    # Thresholds down, so this small site goes through the worker processes.
    monkeypatch.setattr(build_module, "PARALLEL_SOURCES", 1)
    monkeypatch.setattr(build_module, "PARALLEL_PAGES", 1)
    build_at(many_posts, output_dir=tmp_path / "one", jobs=1)
    build_at(many_posts, output_dir=tmp_path / "two", jobs=2)
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert len(one) > 100 and one == two


def test_errors_from_workers_keep_file_and_line(many_posts, build_at, monkeypatch):
    monkeypatch.setattr(build_module, "PARALLEL_SOURCES", 1)
    (many_posts / "content/posts/p007.md").write_text("---\ntitle: Bad\ndate: 2024-02-30\n---\n")
    (many_posts / "templates").mkdir()
    with pytest.raises(BuildFailed) as caught:
        build_at(many_posts, jobs=2)
    [error] = caught.value.errors
    assert (str(error.path), error.line) == ("content/posts/p007.md", 3)


@pytest.mark.slow
def test_template_errors_from_workers_are_reported_once(many_posts, build_at, monkeypatch):
    monkeypatch.setattr(build_module, "PARALLEL_PAGES", 1)
    (many_posts / "templates").mkdir()
    (many_posts / "templates/post.html").write_text("{{ page.nope }}\n")
    with pytest.raises(BuildFailed) as caught:
        build_at(many_posts, jobs=2)
    [error] = caught.value.errors
    assert str(error.path).endswith("templates/post.html") and error.line == 1
    assert not (many_posts / "public").exists()


@dataclass(frozen=True)
class Context:
    label: str
    lock: Any    # a lock cannot be pickled: it reaches a worker only by fork


def tag_items(context, piece):
    return [(os.getpid(), context.label, item) for item in piece]


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_chunks_hands_every_slice_the_context_without_pickling_it(jobs):
    context = Context(label="site", lock=threading.Lock())
    done = [row for _count, rows in parallel.run_chunks(tag_items, list(range(40)), jobs=jobs,
                                                        minimum=1, context=context)
            for row in rows]
    assert sorted(item for _pid, _label, item in done) == list(range(40))
    assert {label for _pid, label, _item in done} == {"site"}
    in_workers = os.getpid() not in {pid for pid, _label, _item in done}
    assert in_workers == (jobs > 1)


def frozen_objects(_context, piece):
    import gc
    return [gc.get_freeze_count() for _item in piece]


def test_workers_leave_the_inherited_objects_out_of_their_collections():
    """What the parent made before forking is frozen in the workers (a full collection there
    would read, and so copy, every inherited page); the parent's collector is as it was."""
    import gc
    model = [{"page": n} for n in range(10_000)]   # a site model, made before the fork
    before = gc.get_freeze_count()
    counts = [count for _n, part in parallel.run_chunks(frozen_objects, list(range(8)), jobs=2,
                                                        minimum=1, context=model)
              for count in part]
    assert min(counts) >= len(model)
    assert gc.get_freeze_count() == before
