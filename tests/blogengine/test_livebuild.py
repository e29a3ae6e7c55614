"""`serve`'s in-memory builds (livebuild.py): after a run of edits of every kind, each handed
over as the watcher's change set, the serve folder equals a clean build of the same sources
byte for byte, and a saved post is parsed alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from blogengine.errors import BuildFailed
from blogengine.livebuild import LiveBuild
from tests.support.site import BASIC_CONFIG, NOW, post

# The search index is left out: serve makes it later, when the saving pauses (test_serve.py).
CONFIG = BASIC_CONFIG + "\n[search]\nenabled = false\n"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


class Session:
    """A serve session's builds, in process: edits go in as the watcher would report them."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self.config = load_config(root)
        self.out = self.config.serve_output_dir
        self.live = LiveBuild()
        self.published = 0

    def options(self) -> BuildOptions:
        return BuildOptions(output_dir=self.out, now=NOW, jobs=1, search_later=True)

    def rebuild(self, *changed: str):
        paths = [str(self.root / rel) for rel in changed]
        return self.live.build(self.config, self.options(), paths or None, self._published)

    def _published(self) -> None:
        self.published += 1

    def write(self, rel: str, text: str):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return self.rebuild(rel)

    def assert_same_as_clean_build(self) -> None:
        clean = self.scratch / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        shutil.rmtree(self.root / ".blogengine" / "clean-cache", ignore_errors=True)
        build(load_config(self.root), BuildOptions(output_dir=clean, now=NOW, jobs=1,
                                                   incremental=False))
        served, fresh = tree(self.out), tree(clean)
        assert sorted(served) == sorted(fresh)
        assert [rel for rel in fresh if served[rel] != fresh[rel]] == []


@pytest.fixture
def session(make_site, tmp_path) -> Session:
    files = {f"content/posts/p{i}.md": post(f"Post {i}", f"2024-0{i % 9 + 1}-1{i % 9}",
                                            tags=f"[t{i % 3}, t{i % 4}]",
                                            body=f"Body of post {i}. See [the first](/2024/01/post-0/).")
             for i in range(10)}
    files["content/pages/about.md"] = "---\ntitle: About\n---\n\nAbout text.\n"
    session = Session(make_site(files, config=CONFIG), tmp_path)
    first = session.rebuild()
    assert first.pages_rendered == first.pages_written
    return session


def test_a_saved_post_is_parsed_alone_and_the_folder_equals_a_clean_build(session):
    source = session.root / "content/posts/p3.md"
    report = session.write("content/posts/p3.md", source.read_text() + "\nOne more sentence.\n")
    assert report.parsed == 1 and report.pages_rendered >= 1
    assert "One more sentence." in (session.out / "2024/04/post-3/index.html").read_text()
    kept = session.live.kept
    report = session.write("content/posts/p3.md", source.read_text() + "\nAnd another.\n")
    assert report.parsed == 1
    assert session.live.kept is not None and session.live.kept.site is kept.site  # the model kept
    session.assert_same_as_clean_build()


def test_every_kind_of_edit_in_memory_equals_a_clean_build(session):
    root = session.root
    posts = root / "content/posts"
    # Bodies, then front matter (the model is placed again), a new post, a deleted one.
    session.write("content/posts/p1.md", (posts / "p1.md").read_text() + "\nEdited body.\n")
    session.write("content/posts/p2.md", (posts / "p2.md").read_text().replace(
        "title: 'Post 2'", "title: 'Post 2, renamed'"))
    session.write("content/posts/new.md", post("A new post", "2024-12-24", tags="[t1, fresh]",
                                               body="Brand new."))
    (posts / "p4.md").unlink()
    session.rebuild("content/posts/p4.md")
    # A rename: the watcher reports both paths.
    (posts / "p5.md").rename(posts / "p5-moved.md")
    session.rebuild("content/posts/p5.md", "content/posts/p5-moved.md")
    session.assert_same_as_clean_build()
    # A front-matter error fails the build and keeps the last good folder; the fix builds.
    good = (posts / "p6.md").read_text()
    (posts / "p6.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    with pytest.raises(BuildFailed):
        session.rebuild("content/posts/p6.md")
    assert "Body of post 6." in (session.out / "2024/07/post-6/index.html").read_text()
    session.write("content/posts/p6.md", good.replace("Body of post 6.", "Fixed body."))
    # A template edit takes a whole build; a body edit after it is in memory again.
    session.write("templates/partials/post_meta.html",
                  (Path(__file__).resolve().parents[2] / "themes/default/templates/partials/"
                   "post_meta.html").read_text().replace("min read", "minutes of reading"))
    report = session.write("content/posts/p7.md",
                           (posts / "p7.md").read_text() + "\nAfter the template.\n")
    assert report.parsed == 1
    # A draft leaves the site; a post dated after the clock waits.
    session.write("content/posts/p8.md", (posts / "p8.md").read_text().replace(
        "date:", "draft: true\ndate:"))
    session.write("content/posts/later.md", post("Later", "2027-01-01", body="Not yet."))
    session.assert_same_as_clean_build()
    assert session.published >= 10


def test_a_build_after_serve_checks_links_as_a_clean_build_does(session):
    # serve keeps the link check's index in memory and saves none: the next `blogengine build`
    # of its folder reads every page, and finds what a build from nothing finds.
    session.write("content/posts/p3.md", post("Post 3", "2024-04-13", body="A [dead link](/nowhere/)."))
    session.write("content/posts/p4.md", post("Post 4", "2024-05-14", body="Fine [link](/about/)."))
    after = build(load_config(session.root), BuildOptions(output_dir=session.out, now=NOW, jobs=1))
    clean = build(load_config(session.root), BuildOptions(output_dir=session.scratch / "clean", now=NOW,
                                                          jobs=1, incremental=False))
    assert any("/nowhere/" in str(problem) for problem in after.problems)
    assert sorted(map(str, after.problems)) == sorted(map(str, clean.problems))
