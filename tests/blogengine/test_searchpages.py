"""The folders of links Pagefind reads, kept between builds (searchpages.py): each holds a link
to exactly its part's pages as they are now, however the pages came and went since."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from blogengine.searchpages import forget_pages, is_kept, stale_pages, sync_pages
from tests.blogengine.test_search import indexed_pages
from tests.support.site import post


def write(out: Path, rel: str, text: str) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)   # as a build writes: a new file in its place


def linked(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino
            for p in folder.rglob("*") if p.is_file()}


def inodes(out: Path, rels: list[str]) -> dict[str, int]:
    return {rel: (out / rel).stat().st_ino for rel in rels}


def test_a_folder_follows_its_pages_as_they_change_come_and_go(tmp_path):
    out, folder = tmp_path / "public", tmp_path / "cache/search-links/0"
    for rel in ("2024/01/a/index.html", "2024/01/b/index.html", "2024/02/c/index.html"):
        write(out, rel, rel)
    first = ["2024/01/a/index.html", "2024/01/b/index.html", "2024/02/c/index.html"]
    assert not is_kept(folder, out)
    assert sync_pages(out, first, folder)
    assert linked(folder) == inodes(out, first) and is_kept(folder, out)
    write(out, "2024/01/a/index.html", "written again")
    write(out, "2025/03/d/index.html", "a new page")
    second = ["2024/01/a/index.html", "2024/01/b/index.html", "2025/03/d/index.html"]
    assert sync_pages(out, second, folder)
    assert linked(folder) == inodes(out, second)
    assert not (folder / "2024/02").exists()      # the folder emptied of c goes too


def test_a_sync_cut_short_leaves_every_link_listed_for_the_next(tmp_path, monkeypatch):
    out, folder = tmp_path / "public", tmp_path / "cache/search-links/0"
    rels = [f"p{n}/index.html" for n in range(10)]
    for rel in rels:
        write(out, rel, rel)
    real_link, made = os.link, []
    def link_some(source, target):
        if len(made) == 5:
            raise KeyboardInterrupt   # as a build killed midway
        made.append(target)
        real_link(source, target)
    monkeypatch.setattr(os, "link", link_some)
    with pytest.raises(KeyboardInterrupt):
        sync_pages(out, rels, folder)
    monkeypatch.undo()
    assert sync_pages(out, rels[:3], folder)      # a part of fewer pages since
    assert linked(folder) == inodes(out, rels[:3])


def test_links_into_an_output_folder_swapped_out_are_made_again(tmp_path):
    out, folder = tmp_path / "public", tmp_path / "cache/search-links/0"
    write(out, "a/index.html", "a")
    assert sync_pages(out, ["a/index.html"], folder)
    out.rename(tmp_path / "old")
    write(out, "a/index.html", "a")               # a fresh output folder
    assert not is_kept(folder, out)
    assert folder in stale_pages(folder.parent, out, {0})
    assert sync_pages(out, ["a/index.html"], folder)
    assert linked(folder) == inodes(out, ["a/index.html"])


def test_stale_folders_are_those_of_other_parts(tmp_path):
    out, root = tmp_path / "public", tmp_path / "cache/search-links"
    write(out, "a/index.html", "a")
    for number in (0, 1, 2):
        assert sync_pages(out, ["a/index.html"], root / str(number))
    assert stale_pages(root, out, {0, 1}) == [root / "2"]
    forget_pages(stale_pages(root, out, {0, 1}))
    assert stale_pages(root, out, {0, 1}) == []
    deadline = time.monotonic() + 10          # (deleted in the background)
    while len(list(root.iterdir())) > 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in root.iterdir()) == ["0", "0.json", "1", "1.json"]


def test_an_edit_indexes_its_part_from_the_kept_folder(make_site, build_at, monkeypatch):
    import blogengine.search

    root = make_site({f"content/posts/p{n}.md": post(f"Post {n}", f"2024-01-{n + 1:02d}",
                                                     body=f"Post number {n}.")
                      for n in range(20)})
    build_at(root)
    kept = root / ".blogengine/search-links/0"
    assert is_kept(kept, root / "public")
    page = root / "public/2024/01/post-3/index.html"
    def no_folder_for_the_run(*args):
        raise AssertionError("a folder of pages made for one run")
    monkeypatch.setattr(blogengine.search, "_searchable_site", no_folder_for_the_run)
    (root / "content/posts/p3.md").write_text(post("Post 3", "2024-01-04", body="Wombats now."))
    build_at(root)
    assert (kept / "2024/01/post-3/index.html").stat().st_ino == page.stat().st_ino
    assert "Wombats" in indexed_pages(root / "public")["/2024/01/post-3/"]


def test_search_turned_off_takes_the_kept_pages_away(make_site, build_at):
    root = make_site({"content/posts/p.md": post("Post", "2024-01-01")})
    build_at(root)
    assert (root / ".blogengine/search-links").is_dir()
    config = root / "blogengine.toml"
    config.write_text(config.read_text() + "\n[search]\nenabled = false\n")
    build_at(root)
    assert not (root / ".blogengine/search-links").exists()
