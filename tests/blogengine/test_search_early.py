"""An edit's part of the search index started before the build writes its pages
(search.start_early, BuildRun.index_early): taken only when the pages turn out to be the
bytes Pagefind read, and then the same index as a build without it makes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import blogengine.build
from blogengine.search import EarlyPart, start_early, start_index
from tests.blogengine.test_cache import tree
from tests.blogengine.test_search import indexed_pages
from tests.support.site import post

PAGE = "2024/01/post-3/index.html"


def posts(make_site):
    return make_site({f"content/posts/p{n}.md": post(f"Post {n}", f"2024-01-{n + 1:02d}",
                                                     body=f"Post number {n}.")
                      for n in range(20)})


def edit_post_3(root: Path, build_at, monkeypatch) -> list[EarlyPart | None]:
    """Edit post 3's body and build, recording what start_early returned."""
    started: list[EarlyPart | None] = []

    def recorded(*args, **kwargs):
        started.append(start_early(*args, **kwargs))
        return started[-1]
    monkeypatch.setattr(blogengine.build, "start_early", recorded)
    (root / "content/posts/p3.md").write_text(post("Post 3", "2024-01-04", body="Wombats now."))
    build_at(root)
    return started


def test_an_edit_indexes_its_part_from_before_the_plan(make_site, build_at, monkeypatch,
                                                        tmp_path):
    root = posts(make_site)
    build_at(root)
    started = edit_post_3(root, build_at, monkeypatch)

    assert len(started) == 1 and started[0] is not None
    assert PAGE in started[0].rels
    assert started[0].process.returncode == 0   # it ran to the end: its index was taken
    assert "Wombats" in indexed_pages(root / "public")["/2024/01/post-3/"]
    # The kept folder links the page as written, as after any build.
    kept = root / ".blogengine/search-links/0" / PAGE
    assert kept.stat().st_ino == (root / "public" / PAGE).stat().st_ino

    # A build of the same posts with no cache at all makes the same index, byte for byte.
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "content", fresh / "content")
    shutil.copy(root / "blogengine.toml", fresh / "blogengine.toml")
    build_at(fresh)
    ours, theirs = tree(root / "public" / "pagefind"), tree(fresh / "public" / "pagefind")
    assert sorted(ours) == sorted(theirs)
    assert [rel for rel in theirs if ours[rel] != theirs[rel]] == []


@pytest.mark.parametrize("scene", ["clean build", "output folder deleted"])
def test_after_a_whole_build_the_next_edit_still_starts_early(make_site, build_at, monkeypatch,
                                                              scene):
    """A clean build patches the output folder; a build after the folder was deleted makes a
    fresh one: either way the kept folders of pages follow the pages written (the fresh
    folder's in the background of that build), so the edit after it finds its part's folder
    ready."""
    root = posts(make_site)
    build_at(root)
    out = root / "public"
    if scene == "output folder deleted":
        shutil.rmtree(out)
    build_at(root, incremental=False)
    kept = root / ".blogengine/search-links/0" / PAGE
    assert kept.stat().st_ino == (out / PAGE).stat().st_ino
    started = edit_post_3(root, build_at, monkeypatch)
    assert started and started[0] is not None
    assert "Wombats" in indexed_pages(out)["/2024/01/post-3/"]


def test_an_early_part_of_other_bytes_than_the_page_written_is_dropped(make_site, build_at):
    root = posts(make_site)
    build_at(root)
    out, cache = root / "public", root / ".blogengine"
    page = (out / PAGE).read_text(encoding="utf-8")
    guessed = page.replace("Post number 3.", "Wombats now.")
    written = page.replace("Post number 3.", "Platypus instead.")
    assert guessed != page and written != page

    early = start_early(out, cache, {PAGE: guessed.encode()})
    assert early is not None   # the guess was made: Pagefind reads "Wombats"
    partial = out / (PAGE + ".new")
    partial.write_text(written, encoding="utf-8")
    os.replace(partial, out / PAGE)   # as a build writes it
    job = start_index(out, cache, early=early)
    job.finish()

    text = indexed_pages(out)["/2024/01/post-3/"]
    assert "Platypus" in text and "Wombats" not in text
    assert early.process.poll() is not None   # stopped, not left running


def test_no_early_part_for_a_page_new_to_the_index(make_site, build_at):
    root = posts(make_site)
    build_at(root)
    page = (root / "public" / PAGE).read_bytes()
    assert start_early(root / "public", root / ".blogengine",
                       {"2024/01/new-post/index.html": page}) is None
    # Nor for a page that no longer marks a searchable body (it would leave its part).
    assert start_early(root / "public", root / ".blogengine",
                       {PAGE: page.replace(b"data-pagefind-body", b"data-other")}) is None


# --- parts carried over from the published index -------------------------------------------

def in_parts(make_site):
    from tests.blogengine.test_search import IN_PARTS, MANY
    return make_site(MANY, config=IN_PARTS)


def part_folders(out: Path) -> dict[str, int]:
    return {path.name: path.stat().st_ino for path in (out / "pagefind" / "parts").iterdir()}


def all_indexed(out: Path) -> set[str]:
    from tests.blogengine.test_search import parts_of, read_fragment_urls
    return {url for folder in parts_of(out).values() for url in read_fragment_urls(folder)}


def test_the_unchanged_parts_are_moved_over_from_the_published_index(make_site, build_at):
    root = in_parts(make_site)
    build_at(root)
    out = root / "public"
    before = part_folders(out)
    assert len(before) == 3
    (root / "content/posts/p5.md").write_text(
        post("Post 5", "2024-03-06", tags="[teaware]", body="A samovar now.\n"))
    build_at(root)
    after = part_folders(out)
    assert sorted(after) == sorted(before)
    # The same folders (renamed in, not copied) but the edited post's part, if not the first.
    assert len([name for name in after if after[name] == before[name]]) >= 2
    assert all_indexed(out) == {f"/2024/03/post-{n}/" for n in range(12)}


def test_a_part_missing_from_the_published_index_comes_from_the_cache(make_site, build_at):
    root = in_parts(make_site)
    build_at(root)
    out = root / "public"
    shutil.rmtree(out / "pagefind" / "parts" / "2")   # (by hand, or a build killed midway)
    (root / "content/posts/p5.md").write_text(
        post("Post 5", "2024-03-06", tags="[teaware]", body="A samovar now.\n"))
    build_at(root)
    assert sorted(part_folders(out)) == ["1", "2", "3"]
    assert all_indexed(out) == {f"/2024/03/post-{n}/" for n in range(12)}


def test_an_index_not_the_one_published_is_not_carried_from(make_site, build_at):
    """The note of the published parts names its folder: another folder in its place (a
    deploy tool's copy, say) is never taken apart."""
    root = in_parts(make_site)
    build_at(root)
    index = root / "public" / "pagefind"
    copy = index.with_name("pagefind-copy")
    shutil.copytree(index, copy)
    shutil.rmtree(index)
    copy.rename(index)
    before = part_folders(root / "public")
    (root / "content/posts/p5.md").write_text(
        post("Post 5", "2024-03-06", tags="[teaware]", body="A samovar now.\n"))
    build_at(root)
    after = part_folders(root / "public")
    assert not any(after[name] == before[name] for name in after)
    assert all_indexed(root / "public") == {f"/2024/03/post-{n}/" for n in range(12)}


# --- a part indexed again shares its unchanged files with the last index ---------------------

def inodes(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Pagefind's files (not the build's parts.json, written by every build)."""
    return {rel: ((folder / rel).stat().st_ino, data) for rel, data in tree(folder).items()
            if rel != "parts.json"}


def shared_and_alike(before: dict[str, tuple[int, bytes]], after: dict[str, tuple[int, bytes]]
                     ) -> tuple[int, int]:
    """How many files came out alike, and how many of those are the very same file."""
    alike = [rel for rel in after if rel in before and before[rel][1] == after[rel][1]]
    return len(alike), len([rel for rel in alike if before[rel][0] == after[rel][0]])


def test_an_edited_part_keeps_its_unchanged_files(make_site, build_at, monkeypatch, tmp_path):
    """Pagefind writes the part's every file anew; written in memory and brought in, each file
    alike with the last index's is that very file (an edit creates a few files, not the
    part's hundreds)."""
    memory = tmp_path / "memory"   # (where /dev/shm would be)
    memory.mkdir()
    monkeypatch.setattr("blogengine.searchscratch.MEMORY", memory)
    root = posts(make_site)
    build_at(root)
    before = inodes(root / "public" / "pagefind")
    started = edit_post_3(root, build_at, monkeypatch)
    assert started and started[0] is not None and started[0].previous is not None
    after = inodes(root / "public" / "pagefind")
    alike, shared = shared_and_alike(before, after)
    assert alike >= 20 and shared == alike   # the other posts' fragments, the scripts, ...
    assert "Wombats" in indexed_pages(root / "public")["/2024/01/post-3/"]
    assert list(memory.iterdir()) == []   # Pagefind's output, once brought in


def test_parts_indexed_in_the_build_keep_their_unchanged_files(make_site, build_at, monkeypatch,
                                                               tmp_path):
    """Two posts of two parts edited: no early part, each part is indexed by the build."""
    from tests.blogengine.test_search import parts_of, read_fragment_urls
    monkeypatch.setattr("blogengine.searchscratch.MEMORY", tmp_path)
    root = in_parts(make_site)
    build_at(root)
    out = root / "public"
    holding = {bundle: read_fragment_urls(folder) for bundle, folder in parts_of(out).items()}
    (first, first_urls), (second, second_urls) = [(bundle, urls) for bundle, urls
                                                  in holding.items() if bundle][:2]
    before = {bundle: inodes(out / "pagefind" / bundle) for bundle in (first, second)}
    for url in (first_urls[0], second_urls[0]):
        n = int(url.rstrip("/").rsplit("-", 1)[1])
        (root / f"content/posts/p{n}.md").write_text(post(
            f"Post {n}", f"2024-03-{n + 1:02d}", tags="[teaware]", body="A samovar now.\n"))
    build_at(root)
    for bundle in (first, second):
        alike, shared = shared_and_alike(before[bundle], inodes(out / "pagefind" / bundle))
        assert alike >= 1 and shared == alike
    assert all_indexed(out) == {f"/2024/03/post-{n}/" for n in range(12)}


def test_without_a_memory_file_system_an_edit_writes_its_part_beside_the_output(
        make_site, build_at, monkeypatch, tmp_path):
    monkeypatch.setattr("blogengine.searchscratch.MEMORY", tmp_path / "no-such-folder")
    root = posts(make_site)
    build_at(root)
    started = edit_post_3(root, build_at, monkeypatch)
    assert started and started[0] is not None and started[0].previous is None
    assert "Wombats" in indexed_pages(root / "public")["/2024/01/post-3/"]
