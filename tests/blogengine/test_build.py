"""The whole build on fixture sites: what is written, what is refused, what survives a failure."""

from __future__ import annotations

import filecmp
import os
import shutil
import time
from pathlib import Path

import pytest

from blogengine.errors import BlogError, BuildFailed
from tests.support.site import post, read_html
from tests.support.spies import calls_to

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def three_posts() -> dict[str, str | bytes]:
    return {
        "content/posts/first.md": post("First post", "2024-01-05", tags="[python, notes]",
                                       category="Essays"),
        "content/posts/second.md": post("Second post", "2024-03-10 08:00", tags="notes"),
        "content/posts/deep/third.md": post("Third post", "2025-02-01", tags="[python]",
                                            body="See ![a cat](cat.png) and [home](/)."),
        "content/pages/about.md": "---\ntitle: About\n---\n\nAbout me.\n",
        "content/images/cat.png": PNG,
        "content/files/notes.txt": "plain file\n",
    }


def test_build_writes_every_page_type(make_site, build_at):
    root = make_site(three_posts())
    report = build_at(root)
    out = root / "public"
    expected = [
        "index.html", "page/2/index.html", "2024/01/first-post/index.html",
        "2024/03/second-post/index.html", "2025/02/third-post/index.html", "about/index.html",
        "tags/index.html", "tags/python/index.html", "tags/notes/index.html",
        "tags/python/atom.xml", "categories/essays/index.html", "archive/index.html",
        "2024/index.html", "2024/01/index.html", "2025/02/index.html", "404.html",
        "atom.xml", "rss.xml", "sitemap.xml", "robots.txt", "threads.json",
        "theme/style.css", "theme/pygments.css",
    ]
    missing = [rel for rel in expected if not (out / rel).is_file()]
    assert missing == []
    assert report.posts == 3
    assert report.output_dir == root / "public"


def test_build_copies_assets_to_the_same_relative_path(make_site, build_at):
    root = make_site(three_posts())
    build_at(root)
    assert (root / "public/images/cat.png").read_bytes() == PNG
    assert (root / "public/files/notes.txt").read_text() == "plain file\n"


def test_build_with_only_a_title_in_config(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01")}, config='title = "Only"\n')
    build_at(root)
    soup = read_html(root / "public/index.html")
    assert soup.title.string.strip() == "Only"


def test_build_leaves_previous_output_untouched_on_error(make_site, build_at):
    root = make_site(three_posts())
    build_at(root)
    before = {p: p.read_bytes() for p in (root / "public").rglob("*") if p.is_file()}
    (root / "content/posts/first.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    (root / "content/posts/new.md").write_text(post("New post", "2024-05-05"), encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_at(root)
    after = {p: p.read_bytes() for p in (root / "public").rglob("*") if p.is_file()}
    assert after == before
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".public")]
    assert leftovers == []


def test_build_collects_all_errors_sorted_by_file_and_line(make_site, build_at):
    root = make_site({
        "content/posts/b.md": "---\ntitle: B\ndate: 2024-13-01\n---\n",
        "content/posts/a.md": "---\ntitle: A\n---\n",
        "content/posts/c.md": "no front matter\n",
    })
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    located = [(e.location(), e.message) for e in caught.value.errors]
    assert [loc for loc, _ in located] == ["content/posts/a.md:1", "content/posts/b.md:3",
                                           "content/posts/c.md:1"]
    assert "date" in located[0][1] and "2024-13-01" in located[1][1]


def test_build_rejects_two_posts_at_one_url_naming_both(make_site, build_at):
    root = make_site({
        "content/posts/one.md": post("Same title", "2024-01-01"),
        "content/posts/two.md": post("Same title", "2024-01-20"),
    })
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    text = "\n".join(str(e) for e in caught.value.errors)
    assert "content/posts/one.md" in text and "content/posts/two.md" in text


def test_build_rejects_asset_colliding_with_generated_file(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01"),
                      "content/atom.xml": "<feed/>"})
    with pytest.raises(BlogError, match="atom.xml"):
        build_at(root)


def test_authors_robots_txt_replaces_the_generated_one(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01"),
                      "content/robots.txt": "User-agent: *\nDisallow: /private/\n"})
    build_at(root)
    assert "Disallow: /private/" in (root / "public/robots.txt").read_text()


@pytest.mark.slow
def test_build_is_deterministic(make_site, build_at, tmp_path):
    root = make_site(three_posts())
    build_at(root, output_dir=tmp_path / "one")
    build_at(root, output_dir=tmp_path / "two")
    comparison = filecmp.dircmp(tmp_path / "one", tmp_path / "two")
    files = [p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file()]
    mismatch = [f for f in files
                if (tmp_path / "one" / f).read_bytes() != (tmp_path / "two" / f).read_bytes()]
    assert mismatch == [] and comparison.left_only == [] and comparison.right_only == []


def test_drafts_and_future_posts_only_with_flags(make_site, build_at):
    root = make_site({
        "content/posts/draft.md": post("Draft post", "2024-01-01", draft="true"),
        "content/posts/future.md": post("Future post", "2030-01-01"),
        "content/posts/now.md": post("Current post", "2024-01-02"),
    })
    build_at(root)
    out = root / "public"
    assert not (out / "2024/01/draft-post/index.html").exists()
    assert not (out / "2030/01/future-post/index.html").exists()
    build_at(root, drafts=True, future=True)
    assert (out / "2024/01/draft-post/index.html").exists()
    assert (out / "2030/01/future-post/index.html").exists()


def test_refuses_output_folder_not_written_by_blogengine(make_site, build_at, tmp_path):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01")})
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    with pytest.raises(BlogError, match="not written by blogengine"):
        build_at(root, output_dir=precious)
    assert (precious / "thesis.txt").read_text() == "do not delete"


@pytest.mark.parametrize("where", [".", "content", "content/out", ".."])
def test_refuses_output_folder_that_holds_the_sources(make_site, build_at, where):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01")})
    with pytest.raises(BlogError):
        build_at(root, output_dir=root / where)
    assert (root / "content/posts/a.md").exists()


def test_post_text_is_never_evaluated_as_a_template(make_site, build_at):
    body = "Jinja here: {{ 7*7 }} and {% if true %}yes{% endif %} and {{ config.title }}."
    root = make_site({"content/posts/a.md": post("Curly {{ 6*7 }}", "2024-01-01", body=body)})
    build_at(root)
    soup = read_html(root / "public/2024/01/curly-6-7/index.html")
    text = soup.find("div", class_="post-content").get_text()
    assert "{{ 7*7 }}" in text and "{% if true %}" in text and "49" not in text
    assert soup.find("h1").get_text() == "Curly {{ 6*7 }}"


def test_metadata_is_escaped_in_pages_meta_and_feeds(make_site, build_at):
    evil = '"><script>alert(1)</script>'
    root = make_site({"content/posts/a.md": post(evil, "2024-01-01", summary=repr(evil),
                                                 tags=f"[{evil!r}]", slug="evil")})
    build_at(root)
    page = root / "public/2024/01/evil/index.html"
    soup = read_html(page)
    # The only scripts are the theme's own files (the comment widget); none came from the title.
    scripts = soup.find_all("script")
    assert all(s.get("src") and not s.get_text().strip() for s in scripts)
    assert [s["src"] for s in scripts] == ["/theme/comments_offline.js", "/embed.js"]
    assert soup.find("h1").get_text() == evil
    assert soup.find("meta", property="og:title")["content"] == evil
    assert soup.find("meta", attrs={"name": "description"})["content"] == evil
    feed = (root / "public/atom.xml").read_text()
    assert "<script>" not in feed


def test_raw_html_kept_by_default_and_escaped_by_switch(make_site, build_at):
    files = {"content/posts/a.md": post("A", "2024-01-01", body="<kbd>Ctrl</kbd> here\n")}
    root = make_site(files)
    build_at(root)
    assert read_html(root / "public/2024/01/a/index.html").find("kbd") is not None
    escaped = make_site(files, config='title = "T"\nescape_html = true\n', name="escaped")
    build_at(escaped)
    soup = read_html(escaped / "public/2024/01/a/index.html")
    assert soup.find("kbd") is None
    assert "<kbd>Ctrl</kbd>" in soup.find("div", class_="post-content").get_text()


def test_symlink_outside_content_is_refused(make_site, build_at, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    root = make_site({"content/posts/a.md": post("A", "2024-01-01")})
    os.symlink(secret, root / "content/leak.txt")
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    assert "content/leak.txt" in str(caught.value.errors[0])
    assert "outside content/" in str(caught.value.errors[0])


def test_explicit_slug_cannot_escape_output(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01", slug="../../etc")})
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    assert "slug" in str(caught.value.errors[0])
    assert not (root.parent / "etc").exists()


def test_a_journal_left_by_a_killed_build_is_finished(make_site, build_at):
    from blogengine.write import JOURNAL, Staging, recover
    root = make_site(three_posts())
    build_at(root)
    out = root / "public"
    # A build that died after deciding its change (its journal is written) but before moving:
    staging = Staging(out)
    staging.write("2024/01/first-post/index.html", b"new page")
    staging.remove("files/notes.txt")
    staging.commit = lambda candidates=(): None      # dies here
    journal = staging.root / JOURNAL
    moved = ["2024/01/first-post/index.html"]
    journal.write_text('{"moved": %s, "removed": ["files/notes.txt"]}' % str(moved).replace("'", '"'))
    staged = staging.root.rename(root / ".public.tmp-999999")
    unfinished = root / ".public.tmp-999998"       # one that died while still rendering
    unfinished.mkdir()
    (unfinished / "index.html").write_text("half a site")
    recover(out)
    assert (out / "2024/01/first-post/index.html").read_text() == "new page"
    assert not (out / "files/notes.txt").exists()
    assert "half a site" not in (out / "index.html").read_text()
    assert not staged.exists() and not unfinished.exists()


def test_the_default_theme_has_a_favicon_at_the_root_and_linked(make_site, build_at):
    root = make_site(three_posts())
    build_at(root)
    icon = (root / "public/favicon.ico").read_bytes()
    assert icon[:4] == b"\x00\x00\x01\x00" and icon[22:26] == b"\x89PNG"   # an ICO holding a PNG
    assert (root / "public/theme/favicon.svg").read_text().startswith("<svg")
    links = {(link["href"], link.get("type")) for link in
             read_html(root / "public/index.html").select('link[rel="icon"]')}
    assert links == {("/favicon.ico", None), ("/theme/favicon.svg", "image/svg+xml")}


def test_an_authors_own_favicon_wins(make_site, build_at):
    root = make_site({**three_posts(), "content/favicon.ico": b"mine"})
    build_at(root)
    assert (root / "public/favicon.ico").read_bytes() == b"mine"


def _zombie_children() -> list[str]:
    """This process's children that have exited without being waited for (Linux /proc)."""
    found = []
    for listing in Path("/proc/self/task").glob("*/children"):
        for pid in listing.read_text().split():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            name, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
            if state == "Z":
                found.append(f"{pid} {name}")
    return found


def test_a_clean_build_keeps_the_published_files_it_would_write_alike(make_site, build_at, tmp_path):
    from tests.blogengine.test_cache import age

    root = make_site(three_posts())
    build_at(root)
    out = root / "public"
    kept = ["2024/03/second-post/index.html", "theme/style.css", "files/notes.txt"]
    changed = ["2024/01/first-post/index.html", "files/notes.txt"]
    inode = {rel: (out / rel).stat().st_ino for rel in kept + changed}
    first = root / "content/posts/first.md"
    first.write_text(first.read_text() + "\nA new closing line.\n")
    age(root / "content")
    (root / "content/files/notes.txt").write_text("plain file, longer now\n")   # a fresh stamp
    build_at(root, incremental=False)
    # The unchanged page and the theme's file are the published files themselves: no file was
    # made for them; the changed page and the asset just written are new files.
    assert (out / "2024/03/second-post/index.html").stat().st_ino == inode["2024/03/second-post/index.html"]
    assert (out / "theme/style.css").stat().st_ino == inode["theme/style.css"]
    assert (out / "2024/01/first-post/index.html").stat().st_ino != inode["2024/01/first-post/index.html"]
    assert "A new closing line." in (out / "2024/01/first-post/index.html").read_text()
    assert (out / "files/notes.txt").read_text() == "plain file, longer now\n"
    # Whatever was taken over, the folder is what a build from nothing writes.
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("public", ".blogengine", ".public*"))
    build_at(fresh)
    compared = filecmp.dircmp(out, fresh / "public")
    assert _differences(compared) == []


def test_a_clean_build_patches_the_folder_and_removes_the_files_it_no_longer_makes(
        make_site, build_at, tmp_path):
    from tests.blogengine.test_cache import age

    root = make_site(three_posts())
    age(root / "content")   # (the assets' copies are then told alike by size and time)
    build_at(root)
    out = root / "public"
    folder = out.stat().st_ino
    # What a clean build does not make: a stray file, the page of a post since deleted (its
    # folders then empty), and a file standing where a page's folder goes.
    (out / "stray.txt").write_text("left by hand\n")
    (out / "2023/12/gone-post").mkdir(parents=True)
    (out / "2023/12/gone-post/index.html").write_text("<p>gone</p>")
    shutil.rmtree(out / "2024/03/second-post")
    (out / "2024/03/second-post").write_text("a file where a folder goes")
    report = build_at(root, incremental=False)
    assert out.stat().st_ino == folder   # the same folder, patched
    assert not (out / "stray.txt").exists() and not (out / "2023").exists()
    assert "Second post" in (out / "2024/03/second-post/index.html").read_text()
    assert report.files_written == 4   # the restored page, and the three files removed
    assert (out / "pagefind/pagefind.js").is_file()
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("public", ".blogengine", ".public*"))
    build_at(fresh)
    assert _differences(filecmp.dircmp(out, fresh / "public")) == []


def test_a_folder_made_where_the_output_folder_was_deleted_is_built_whole(make_site, build_at):
    root = make_site(three_posts())
    build_at(root)
    out = root / "public"
    shutil.rmtree(out)
    out.mkdir()   # (the file system may give it the deleted folder's inode)
    report = build_at(root)
    assert not report.up_to_date
    assert (out / "index.html").is_file() and (out / "2024/01/first-post/index.html").is_file()


def test_a_build_into_an_empty_folder_marks_it_as_blogengine_s(make_site, build_at, tmp_path):
    from blogengine.write import MARKER
    from tests.blogengine.test_cache import age
    root = make_site(three_posts())
    age(root / "content")   # (not racy: a build with nothing changed is then up to date)
    out = tmp_path / "empty"
    out.mkdir()
    build_at(root, output_dir=out)
    assert (out / MARKER).is_file() and (out / "index.html").is_file()
    build_at(root, output_dir=out, incremental=False)   # (a folder without it is refused)
    assert (out / "2024/01/first-post/index.html").is_file()
    assert build_at(root, output_dir=out).up_to_date
    marker = (out / MARKER).read_text()
    (out / MARKER).unlink()   # marked anew: as a folder made where this one was deleted
    (out / MARKER).write_text(marker)
    assert not build_at(root, output_dir=out).up_to_date


def test_a_clean_build_copies_an_asset_again_when_its_time_is_too_recent_to_trust(make_site, build_at):
    root = make_site(three_posts())
    build_at(root)
    published, source = root / "public/files/notes.txt", root / "content/files/notes.txt"
    # The published copy and the source have the same size and time, but the source changed
    # within the time a clock tick may hide: it is copied again, not taken over.
    source.write_text("plain FILE\n")
    soon = time.time_ns() + 60 * 10**9
    os.utime(source, ns=(soon, soon))
    os.utime(published, ns=(soon, soon))
    build_at(root, incremental=False)
    assert published.read_text() == "plain FILE\n"


def digested_sources(monkeypatch) -> list[str]:
    """The sources a build reads to tell whether they still hold what was parsed, from now on."""
    import blogengine.build
    return calls_to(monkeypatch, blogengine.build, "same_content",
                    lambda path, _digest: [Path(path).name])


def test_a_clean_build_trusts_the_stamps_of_sources_the_last_build_scanned(make_site, build_at,
                                                                           monkeypatch):
    from tests.blogengine.test_cache import age

    root = make_site(three_posts())
    age(root / "content")
    build_at(root)
    first, second = root / "content/posts/first.md", root / "content/posts/second.md"
    first.write_text(first.read_text() + "\nA new closing line.\n")
    past = time.time_ns() - 60 * 10**9
    os.utime(first, ns=(past, past))   # (a new stamp, but old: not racy)
    read = digested_sources(monkeypatch)
    report = build_at(root, incremental=False)   # build --clean
    # The sources stamped as the cache has them, older than the last build's scan, are taken
    # as they were, unread; the edited one, with a new stamp, is read, and parsed again.
    assert read == ["first.md"] and report.parsed == 1
    assert "A new closing line." in (root / "public/2024/01/first-post/index.html").read_text()
    # A source whose stamp was too recent for the last scan to trust is read to be sure.
    soon = time.time_ns() + 60 * 10**9
    os.utime(second, ns=(soon, soon))
    build_at(root)
    os.utime(second, ns=(soon, soon))   # the stamp the cache has, racy for the scan that saw it
    read.clear()
    report = build_at(root, incremental=False)
    assert read == ["second.md"] and report.parsed == 0


def _differences(compared: filecmp.dircmp[str]) -> list[str]:
    """Files only on one side or different in bytes, through every subfolder."""
    found = compared.left_only + compared.right_only + compared.diff_files + compared.funny_files
    for sub in compared.subdirs.values():
        found += _differences(sub)
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_a_folder_deleted_later_is_deleted_by_a_child_that_is_reaped(tmp_path):
    from blogengine.write import delete_later
    old = tmp_path / ".public.pagefind-1.old"   # as a replaced search index
    for n in range(50):
        (old / f"part-{n}").mkdir(parents=True)
        (old / f"part-{n}/fragment.pf").write_bytes(b"x" * 100)
    delete_later(old)                      # returns at once: `rm` deletes it meanwhile
    deadline = time.monotonic() + 20
    while (old.exists() or _zombie_children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not old.exists()
    assert _zombie_children() == []
