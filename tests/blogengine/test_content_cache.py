"""What `build --clean` still reuses: documents parsed from the same bytes with the same
settings (and images, cards and the search index, tested beside them), never across a change of
settings, and nothing at all with --no-cache. The pages always come out as from scratch."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from blogengine import search
from blogengine.cli import main
from tests.support.site import post
from tests.support.spies import calls_to

POSTS = {f"content/posts/p{i}.md": post(f"Post {i}", f"2024-03-0{i + 1}", f"Body *{i}* of `post`.")
         for i in range(4)}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_a_clean_build_reuses_documents_whose_bytes_are_unchanged(make_site, build_at):
    root = make_site(POSTS)
    first = build_at(root, jobs=1, check_links=False)
    assert first.parsed == 4
    before = tree(root / "public")
    (root / "content/posts/p2.md").write_text(post("Post 2", "2024-03-03", "A new body."))
    again = build_at(root, jobs=1, incremental=False, check_links=False)
    assert again.parsed == 1                        # only the edited post
    assert again.pages_rendered == again.pages_written
    after = tree(root / "public")
    assert b"A new body." in after["2024/03/post-2/index.html"]
    assert {rel for rel in after if after[rel] != before.get(rel)} >= {"2024/03/post-2/index.html"}


def test_a_source_touched_but_not_changed_is_not_parsed_again(make_site, build_at):
    root = make_site(POSTS)
    build_at(root, jobs=1, check_links=False)
    later = time.time() + 5                          # as a fresh checkout stamps every file
    for path in (root / "content/posts").glob("*.md"):
        os.utime(path, (later, later))
    report = build_at(root, jobs=1, check_links=False)
    assert report.parsed == 0
    assert report.pages_rendered == 0


def test_a_setting_parsing_does_not_read_renders_every_page_but_parses_nothing(make_site,
                                                                                build_at):
    root = make_site(POSTS)
    build_at(root, jobs=1, check_links=False)
    config = root / "blogengine.toml"
    config.write_text(config.read_text().replace('title = "', 'title = "Renamed '))
    report = build_at(root, jobs=1, check_links=False)
    assert report.parsed == 0
    assert report.pages_rendered == report.pages_written
    assert b"Renamed" in (root / "public/2024/03/post-2/index.html").read_bytes()


def test_a_setting_parsing_reads_parses_everything_again_even_with_clean(make_site, build_at):
    root = make_site(POSTS)
    build_at(root, jobs=1, check_links=False)
    config = root / "blogengine.toml"
    config.write_text("escape_html = true\n" + config.read_text())
    report = build_at(root, jobs=1, incremental=False, check_links=False)
    assert report.parsed == 4


def test_no_cache_parses_everything_and_leaves_the_caches_untouched(make_site, build_at,
                                                                    tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"   # this test's own: other tests' builds make scratch folders too
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    root = make_site(POSTS)
    build_at(root, jobs=1, check_links=False)
    cards = root / ".blogengine/cards"
    kept = {p.name: p.stat().st_mtime_ns for p in cards.rglob("*") if p.is_file()}
    assert kept, "the first build drew social cards into the cache"
    before = tree(root / "public")
    report = build_at(root, jobs=1, incremental=False, content_cache=False, check_links=False)
    assert report.parsed == 4
    assert {p.name: p.stat().st_mtime_ns for p in cards.rglob("*") if p.is_file()} == kept
    assert tree(root / "public") == before          # same pages from scratch as from the cache
    assert not list(scratch.glob("blogengine-no-cache-*"))


def test_no_cache_indexes_the_site_again_where_clean_keeps_the_index_of_the_same_pages(
        make_site, build_at, monkeypatch):
    root = make_site(POSTS)
    build_at(root, jobs=1, check_links=False)
    runs = calls_to(monkeypatch, search, "_run_pagefind", noted=lambda *args: [args[1]])
    build_at(root, jobs=1, incremental=False, check_links=False)
    assert runs == []   # the pages came out alike: their index stands
    build_at(root, jobs=1, incremental=False, content_cache=False, check_links=False)
    assert len(runs) == 1
    assert (root / "public/pagefind/pagefind.js").is_file()


def test_the_cli_clean_and_no_cache_flags(make_site):
    root = make_site(POSTS)
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--source", str(root), "--no-check"])
    assert first.exit_code == 0, first.output
    clean = runner.invoke(main, ["build", "--source", str(root), "--no-check", "--clean"])
    assert clean.exit_code == 0, clean.output
    nothing = runner.invoke(main, ["build", "--source", str(root), "--no-check", "--no-cache"])
    assert nothing.exit_code == 0, nothing.output
    assert "4 parsed" in first.output
    assert "0 parsed, 13 rendered" in clean.output          # every page, no document
    assert "4 parsed, 13 rendered" in nothing.output
    assert "--no-cache" in runner.invoke(main, ["build", "--help"]).output
