"""Site search (search.py): the build indexes posts and pages with the real Pagefind binary.

What Pagefind indexed is read back from its own files: each page's fragment (gzip, then JSON with
the page's URL and indexed text) and the word index chunks (gzip, then CBOR with the words)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.blogengine.test_cache import age, tree
from tests.support.site import BASIC_CONFIG, post, read_html
from tests.support.spies import calls_to

SIGNATURE = b"pagefind_dcd"


def indexed_pages(out: Path) -> dict[str, str]:
    """URL -> the text Pagefind indexed for that page."""
    pages = {}
    for path in sorted((out / "pagefind" / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(SIGNATURE)
        fragment = json.loads(data[len(SIGNATURE):])
        pages[fragment["url"]] = fragment["content"]
    return pages


def indexed_words(out: Path) -> bytes:
    """Every word index chunk, decompressed (words are plain UTF-8 strings inside)."""
    return b"".join(gzip.decompress(path.read_bytes())
                    for path in sorted((out / "pagefind" / "index").glob("*.pf_index")))


FILES = {
    "content/posts/one.md": post("Kettles", "2024-01-10", tags="[teaware]",
                                 body="The xylophonist boiled water.\n"),
    "content/posts/two.md": post("Teapots", "2024-02-10", tags="[teaware]",
                                 body="A teapot wants warming first.\n"),
    "content/pages/about.md": "---\ntitle: About\n---\n\nWho writes here.\n",
}
CONFIG = BASIC_CONFIG.replace('title = "Test Blog"',
                              'title = "Test Blog"\ndescription = "Quokkaville notes"')


@pytest.fixture
def built(make_site, build_at):
    root = make_site(FILES, config=CONFIG)
    build_at(root)
    return root


def test_build_writes_a_search_index_of_posts_and_pages(built):
    out = built / "public"
    entry = json.loads((out / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert entry["languages"]["en"]["page_count"] == 3
    pages = indexed_pages(out)
    assert sorted(pages) == ["/2024/01/kettles/", "/2024/02/teapots/", "/about/"]
    assert "xylophonist" in pages["/2024/01/kettles/"]
    assert b"xylophonist" in indexed_words(out)
    assert (out / "pagefind" / "pagefind-ui.js").is_file()


def test_the_search_box_is_on_pages_but_not_on_the_comment_servers_page_shell(built):
    """The shell's forms may post only to the comment server (its pages' policy), and a reader
    writing a comment has no use for a search box there."""
    out = built / "public"
    assert read_html(out / "2024/01/kettles/index.html").select("form.site-search")
    assert read_html(out / "comment-page.html").select("form.site-search") == []


def test_listing_pages_and_site_chrome_are_not_indexed(built):
    """"archive" is on the archive page (its heading) and in every page's navigation; the
    description is in every page's header: neither is in a post's or page's body."""
    out = built / "public"
    assert "Archive" in (out / "archive" / "index.html").read_text(encoding="utf-8")
    assert "Quokkaville" in (out / "tags" / "teaware" / "index.html").read_text(encoding="utf-8")
    words = indexed_words(out)
    assert b"archive" not in words and b"quokkaville" not in words
    assert not any(url.startswith(("/tags/", "/archive/", "/search/")) or url == "/"
                   for url in indexed_pages(out))


def test_comment_sections_are_left_out_unless_asked_for(make_site, build_at):
    root = make_site(FILES, config=CONFIG)
    build_at(root)
    post_html = read_html(root / "public" / "2024" / "01" / "kettles" / "index.html")
    assert post_html.select_one("#comments").has_attr("data-pagefind-ignore")
    assert not any("Comments" in text for text in indexed_pages(root / "public").values())

    (root / "blogengine.toml").write_text(CONFIG + "\n[search]\ncomments = true\n",
                                          encoding="utf-8")
    build_at(root)
    pages = indexed_pages(root / "public")
    assert "Comments" in pages["/2024/01/kettles/"]
    assert "Leave a comment" not in pages["/2024/01/kettles/"]   # the form stays out


def test_search_disabled_writes_no_index_page_or_box(make_site, build_at):
    root = make_site(FILES, config=CONFIG + "\n[search]\nenabled = false\n")
    build_at(root)
    out = root / "public"
    assert not (out / "pagefind").exists()
    assert not (out / "search").exists()
    assert read_html(out / "index.html").select_one("form[role=search]") is None


def test_turning_search_off_removes_the_index(built, build_at):
    (built / "blogengine.toml").write_text(CONFIG + "\n[search]\nenabled = false\n",
                                           encoding="utf-8")
    build_at(built)
    assert not (built / "public" / "pagefind").exists()


def test_search_setting_of_the_wrong_type_is_a_config_error(make_site):
    root = make_site(FILES, config=CONFIG + "\n[search]\nenabled = \"no\"\n")
    result = _run("build", cwd=root)
    assert result.returncode == 1
    assert "search.enabled" in result.stderr and "Traceback" not in result.stderr


def test_a_rebuild_without_page_changes_does_not_run_the_indexer(built, build_at):
    index = built / "public" / "pagefind"
    before = index.stat().st_ino
    (built / "content" / "notes.txt").write_text("an asset, on no page\n", encoding="utf-8")
    age(built)
    report = build_at(built)
    assert not report.up_to_date and report.files_written >= 1
    assert index.stat().st_ino == before      # a new index is swapped in as a new folder

    (built / "content" / "posts" / "two.md").write_text(
        post("Teapots", "2024-02-10", tags="[teaware]", body="A samovar now.\n"),
        encoding="utf-8")
    age(built)
    build_at(built)
    assert index.stat().st_ino != before
    assert "samovar" in indexed_pages(built / "public")["/2024/02/teapots/"]


def test_incremental_index_equals_a_clean_builds(built, build_at, tmp_path):
    """Pagefind's output is deterministic (same pages, same bytes), so /pagefind/ is compared
    like every other file."""
    (built / "content" / "posts" / "one.md").write_text(
        post("Kettles", "2024-01-10", tags="[teaware]", body="The xylophonist left.\n"),
        encoding="utf-8")
    age(built)
    build_at(built)
    clean = tmp_path / "clean"
    build_at(built, output_dir=clean, incremental=False)
    incremental, fresh = tree(built / "public"), tree(clean)
    assert any(rel.startswith("pagefind/") for rel in fresh)
    assert sorted(incremental) == sorted(fresh)
    assert [rel for rel in fresh if incremental[rel] != fresh[rel]] == []


def test_a_failing_indexer_is_a_build_error_without_traceback(make_site, tmp_path):
    root = make_site(FILES, config=CONFIG)
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\necho 'Error: no space left on device' >&2\nexit 3\n",
                      encoding="utf-8")
    broken.chmod(0o755)
    result = _run("build", cwd=root, env={"PAGEFIND_BINARY_PATH": str(broken)})
    assert result.returncode == 1
    assert "search: Pagefind could not index" in result.stderr
    assert "no space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "public" / "pagefind").exists()


def test_after_a_failed_indexing_the_next_build_indexes_again(built, tmp_path):
    """The pages of the failed build are published already: nothing changes on the next build
    but the index, which must not be the stale one."""
    (built / "content" / "posts" / "two.md").write_text(
        post("Teapots", "2024-02-10", tags="[teaware]", body="A samovar now.\n"),
        encoding="utf-8")
    age(built)
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    assert _run("build", cwd=built, env={"PAGEFIND_BINARY_PATH": str(broken)}).returncode == 1
    assert not (built / "public" / "pagefind").exists()
    result = _run("build", cwd=built)
    assert result.returncode == 0, result.stderr
    assert "samovar" in indexed_pages(built / "public")["/2024/02/teapots/"]


def test_an_index_started_and_never_published_is_made_by_the_next_build(built):
    """A build saves its cache while Pagefind runs: when it is killed before the index is
    published (or serve is, while indexing), the pending mark it leaves makes the next build
    index again, though every input is unchanged."""
    mark, out = built / ".public.pagefind-pending", built / "public"
    age(built)
    assert _run("build", cwd=built).returncode == 0   # (the fixture built with other options)
    expected = indexed_pages(out)
    assert expected and not mark.exists()
    assert "Up to date" in _run("build", cwd=built).stdout
    shutil.rmtree(out / "pagefind" / "fragment")   # an index that no longer matches the pages
    mark.touch()                                  # as the killed build leaves it
    result = _run("build", cwd=built)
    assert result.returncode == 0, result.stderr
    assert "Up to date" not in result.stdout and not mark.exists()
    assert indexed_pages(out) == expected
    assert "Up to date" in _run("build", cwd=built).stdout


def counting_pagefind(tmp_path: Path) -> tuple[Path, Path]:
    """The real Pagefind behind a script that notes each run in a log."""
    from pagefind.service import get_executable
    real, log = get_executable(), tmp_path / "pagefind-runs.log"
    wrapper = tmp_path / "pagefind-counting"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return wrapper, log


def runs(log: Path) -> int:
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def test_a_clean_build_of_the_same_pages_takes_the_kept_index(make_site, tmp_path):
    root = make_site(FILES, config=CONFIG)
    wrapper, log = counting_pagefind(tmp_path)
    env = {"PAGEFIND_BINARY_PATH": str(wrapper)}
    assert _run("build", cwd=root, env=env).returncode == 0
    first = tree(root / "public")
    assert runs(log) == 1
    result = _run("build", "--clean", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert runs(log) == 1                      # the pages came out the same: no indexing
    again = tree(root / "public")
    assert {rel: again[rel] for rel in again if rel.startswith("pagefind/")} == \
        {rel: first[rel] for rel in first if rel.startswith("pagefind/")}
    assert "xylophonist" in indexed_pages(root / "public")["/2024/01/kettles/"]


def test_changed_pages_are_indexed_again_and_only_the_last_index_is_kept(make_site, tmp_path):
    root = make_site(FILES, config=CONFIG)
    wrapper, log = counting_pagefind(tmp_path)
    env = {"PAGEFIND_BINARY_PATH": str(wrapper)}
    assert _run("build", cwd=root, env=env).returncode == 0
    (root / "content" / "posts" / "two.md").write_text(
        post("Teapots", "2024-02-10", tags="[teaware]", body="A samovar now.\n"), encoding="utf-8")
    age(root)
    assert _run("build", "--clean", cwd=root, env=env).returncode == 0
    assert runs(log) == 2
    assert "samovar" in indexed_pages(root / "public")["/2024/02/teapots/"]
    assert len(list((root / ".blogengine" / "search").iterdir())) == 1


def test_a_failed_link_check_stops_the_indexer_and_leaves_no_index(built, build_at, monkeypatch):
    import blogengine.build

    def broken_check(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the link check broke")

    monkeypatch.setattr(blogengine.build, "check_site", broken_check)
    (built / "content" / "posts" / "one.md").write_text(
        post("Kettles", "2024-01-10", tags="[teaware]", body="Cold water.\n"), encoding="utf-8")
    age(built)
    with pytest.raises(RuntimeError, match="link check broke"):
        build_at(built)
    assert not (built / "public" / "pagefind").exists()
    # Only the mark that the index is still to be made is left beside the output.
    assert [path.name for path in built.glob(".public.pagefind-*")] == [".public.pagefind-pending"]


def test_the_search_page_loads_pagefind_from_the_site(built):
    page = read_html(built / "public" / "search" / "index.html")
    script = page.select_one("script[data-bundle]")
    assert script["src"] == "/theme/search.js" and script["data-bundle"] == "/pagefind/pagefind.js"
    assert page.select_one("label[for=search-query]") is not None
    assert page.select_one("[role=status]") is not None
    assert page.select_one("noscript a[href='/archive/']") is not None
    assert (built / "public" / "theme" / "search.js").is_file()


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blogengine", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_pagefind_binary_is_installed():
    from pagefind.service import get_executable
    found = get_executable()
    assert found is not None and shutil.which(str(found))


def test_the_build_finds_the_binary_pagefind_itself_would(monkeypatch, tmp_path):
    from pagefind.service import get_executable

    from blogengine.search import pagefind_executable
    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    assert pagefind_executable() == get_executable()
    named = tmp_path / "my-pagefind"
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(named))
    assert pagefind_executable() == get_executable() == named


def test_no_search_flag_builds_without_the_index(make_site):
    root = make_site(FILES, config=CONFIG)
    result = _run("build", "--no-search", cwd=root)
    assert result.returncode == 0, result.stderr
    assert not (root / "public" / "pagefind").exists()
    assert not (root / "public" / "search").exists()


def test_the_index_is_in_the_sites_language(make_site, build_at):
    root = make_site(FILES, config=CONFIG.replace('timezone = "UTC"',
                                                  'timezone = "UTC"\nlanguage = "de"'))
    build_at(root)
    entry = json.loads((root / "public" / "pagefind" / "pagefind-entry.json")
                       .read_text(encoding="utf-8"))
    assert list(entry["languages"]) == ["de"]
    assert entry["languages"]["de"]["page_count"] == 3


def test_pagefind_reads_only_the_searchable_pages_and_indexes_them_as_in_the_whole_site(
        built, tmp_path):
    """The build hands Pagefind links to the pages that mark a body; Pagefind run on the whole
    folder (listings and all) makes the very same index."""
    from pagefind.service import get_executable
    whole = tmp_path / "whole-site-index"
    subprocess.run([str(get_executable()), "--site", str(built / "public"), "--output-path",
                    str(whole), "--silent"], check=True, timeout=120)
    published = tree(built / "public" / "pagefind")
    # (parts.json is the build's own: a site this small is indexed in one part.)
    assert json.loads(published.pop("parts.json")) == {"parts": []}
    assert tree(whole) == published
    # The folder of links is gone (a big site's is deleted in the background).
    assert [path.name for path in built.iterdir() if "pagefind" in path.name] == []


def test_pages_that_mark_a_body_are_the_ones_given_to_pagefind(tmp_path):
    from pagefind.service import get_executable

    from blogengine.search import read_pages
    site = tmp_path / "out"
    for rel, html in {"a/index.html": "<main data-pagefind-body>A</main>",
                      "b/index.html": "<main DATA-PAGEFIND-BODY>B</main>",
                      "index.html": "<main>a listing</main>",
                      "pagefind/x.html": "<main data-pagefind-body>the index's own</main>"}.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(html, encoding="utf-8")
    assert read_pages(site, get_executable()).searchable == ["a/index.html", "b/index.html"]
    for rel in ("a/index.html", "b/index.html"):
        (site / rel).write_text("<main>no mark</main>", encoding="utf-8")
    assert read_pages(site, get_executable()).searchable is None     # Pagefind indexes all


# --- an index in parts -----------------------------------------------------------------------

MANY = {f"content/posts/p{n}.md": post(f"Post {n}", f"2024-03-{n + 1:02d}", tags="[teaware]",
                                        body=f"Word{n} in a pot of tea.\n")
        for n in range(12)}
IN_PARTS = CONFIG + "\n[search]\npart_pages = 4\n"


def parts_of(out: Path) -> dict[str, Path]:
    """Each part's folder by its bundle path ("" for the first)."""
    listed = json.loads((out / "pagefind" / "parts.json").read_text(encoding="utf-8"))["parts"]
    return {"": out / "pagefind", **{part["bundle"]: out / "pagefind" / part["bundle"]
                                     for part in listed}}


def read_fragment_urls(folder: Path) -> list[str]:
    """The URL of each page a part's folder holds a fragment of."""
    return [json.loads(gzip.decompress(path.read_bytes())[len(SIGNATURE):])["url"]
            for path in (folder / "fragment").glob("*.pf_fragment")]


def test_a_site_bigger_than_a_part_is_indexed_in_parts_each_page_in_one(make_site, build_at):
    root = make_site(MANY, config=IN_PARTS)
    build_at(root)
    out = root / "public"
    listed = json.loads((out / "pagefind" / "parts.json").read_text(encoding="utf-8"))["parts"]
    # 12 posts and no page, 4 a part: rounded up to 4 parts, the first at the top.
    assert [part["bundle"] for part in listed] == ["parts/1/", "parts/2/", "parts/3/"]
    assert all(part["languages"] == ["en"] for part in listed)
    urls: list[str] = []
    for bundle, folder in parts_of(out).items():
        pages = indexed_pages(folder.parent) if bundle == "" else {
            json.loads(gzip.decompress(path.read_bytes())[len(SIGNATURE):])["url"]: ""
            for path in (folder / "fragment").glob("*.pf_fragment")}
        assert pages, bundle
        urls += pages
        if bundle:   # a merged part needs only its index: Pagefind's script is the first's
            assert sorted(path.name for path in folder.iterdir()) == \
                sorted(["fragment", "index", "pagefind-entry.json",
                        *(path.name for path in folder.glob("*.pf_meta"))])
    assert sorted(urls) == sorted(f"/2024/03/post-{n}/" for n in range(12))
    assert (out / "pagefind" / "pagefind.js").is_file()


def test_an_edit_indexes_only_its_part_and_equals_a_clean_build(make_site, build_at, tmp_path):
    root = make_site(MANY, config=IN_PARTS)
    wrapper, log = counting_pagefind(tmp_path)
    env = {"PAGEFIND_BINARY_PATH": str(wrapper)}
    assert _run("build", cwd=root, env=env).returncode == 0
    assert runs(log) == 4
    (root / "content" / "posts" / "p5.md").write_text(
        post("Post 5", "2024-03-06", tags="[teaware]", body="A samovar now.\n"), encoding="utf-8")
    age(root)
    result = _run("build", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert runs(log) == 5                       # the edited post's part alone
    assert len(list((root / ".blogengine" / "search").iterdir())) == 4   # the old part is gone
    clean = tmp_path / "clean"
    result = _run("build", "--output", str(clean), "--clean", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert runs(log) == 5                       # every part kept
    incremental, fresh = tree(root / "public"), tree(clean)
    assert sorted(rel for rel in incremental if rel.startswith("pagefind/")) == \
        sorted(rel for rel in fresh if rel.startswith("pagefind/"))
    assert [rel for rel in fresh if rel.startswith("pagefind/") and incremental[rel] != fresh[rel]] == []
    words = b"".join(gzip.decompress(path.read_bytes())
                     for folder in parts_of(root / "public").values()
                     for path in (folder / "index").glob("*.pf_index"))
    assert b"samovar" in words and b"word5" not in words


def test_a_new_part_size_splits_the_index_again_though_no_page_changed(make_site, build_at):
    root = make_site(MANY, config=IN_PARTS)
    build_at(root)
    assert len(parts_of(root / "public")) == 4
    (root / "blogengine.toml").write_text(CONFIG + "\n[search]\npart_pages = 8\n",
                                          encoding="utf-8")
    result = _run("build", cwd=root)
    assert result.returncode == 0, result.stderr
    assert len(parts_of(root / "public")) == 2          # 12 pages, 8 a part: 2 parts
    urls = [url for folder in parts_of(root / "public").values()
            for url in read_fragment_urls(folder)]
    assert sorted(urls) == sorted(f"/2024/03/post-{n}/" for n in range(12))


def test_parts_are_made_per_language_so_the_first_holds_every_language(tmp_path):
    from pagefind.service import get_executable

    from blogengine.search import read_pages
    site = tmp_path / "out"
    pages = {f"en{n}/index.html": '<html lang="en"><main data-pagefind-body>E</main></html>'
             for n in range(9)}
    pages["fr/index.html"] = "<html lang='fr-CA'><main data-pagefind-body>F</main></html>"
    for rel, html in pages.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(html, encoding="utf-8")
    parts = read_pages(site, get_executable(), part_pages=2).parts
    assert [part.number for part in parts] == list(range(len(parts))) and len(parts) > 1
    assert "fr/index.html" in (parts[0].rels or [])        # one French page: the first part
    assert sorted(rel for part in parts for rel in part.rels or []) == sorted(pages)
    assert len({part.key for part in parts}) == len(parts)


def test_a_part_size_below_one_is_a_config_error(make_site):
    root = make_site(FILES, config=CONFIG + "\n[search]\npart_pages = 0\n")
    result = _run("build", cwd=root)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "search.part_pages" in result.stderr and "at least 1" in result.stderr


def test_pages_whose_stat_is_unchanged_are_not_read_again(tmp_path):
    from pagefind.service import get_executable

    from blogengine.search import read_pages
    site = tmp_path / "out"
    for n in range(3):
        (site / f"p{n}").mkdir(parents=True)
        (site / f"p{n}" / "index.html").write_text(f"<main data-pagefind-body>{n}</main>",
                                                   encoding="utf-8")
    first = read_pages(site, get_executable())
    (site / "p1" / "index.html").write_text("<main data-pagefind-body>one, longer</main>",
                                            encoding="utf-8")
    again = read_pages(site, get_executable(), known=first.notes)
    assert again.notes["p0/index.html"] is first.notes["p0/index.html"]    # taken, not read
    assert again.notes["p1/index.html"][4] != first.notes["p1/index.html"][4]
    assert again.parts[0].key != first.parts[0].key
    assert read_pages(site, get_executable()).parts == again.parts          # as if all were read
    assert again.files == {f"p{n}/index.html" for n in range(3)}


def test_the_pages_a_build_writes_are_noted_by_their_writer_not_read_back(built, build_at,
                                                                         monkeypatch):
    import pickle

    import blogengine.search
    from pagefind.service import get_executable

    from blogengine.search import read_pages
    read = calls_to(monkeypatch, blogengine.search, "_note")
    shutil.rmtree(built / "public")     # every page a new file, as after `rm -rf public`
    report = build_at(built, jobs=1, incremental=False)
    assert report.pages_written > 3 and read == []
    kept = pickle.loads((built / ".blogengine" / "search-pages.pickle").read_bytes())
    assert kept == read_pages(built / "public", get_executable()).notes   # as if all were read
    assert "xylophonist" in indexed_pages(built / "public")["/2024/01/kettles/"]


def test_an_unreadable_note_of_the_pages_only_costs_reading_them(built, build_at):
    notes = built / ".blogengine" / "search-pages.pickle"
    assert notes.is_file()
    notes.write_bytes(b"not a pickle")
    (built / "content" / "posts" / "two.md").write_text(
        post("Teapots", "2024-02-10", tags="[teaware]", body="A samovar now.\n"), encoding="utf-8")
    age(built)
    build_at(built)
    assert "samovar" in indexed_pages(built / "public")["/2024/02/teapots/"]


def test_the_index_folders_a_killed_build_left_are_removed(built, build_at):
    import time
    left = [built / ".public.pagefind-999999999", built / ".public.pagefind-999999999.part-3"]
    for folder in left:
        (folder / "fragment").mkdir(parents=True)
    (built / "content" / "posts" / "one.md").write_text(
        post("Kettles", "2024-01-10", tags="[teaware]", body="Cold water.\n"), encoding="utf-8")
    age(built)
    build_at(built)
    deadline = time.monotonic() + 10    # (deleted in the background, like a replaced output)
    while any(folder.exists() for folder in left) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(folder.exists() for folder in left)
    assert [p.name for p in built.iterdir() if p.name.startswith(".public")] == []
