"""Machine-readable site files: sitemap.xml, robots.txt and the threads.json manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from blogengine.errors import BlogError
from tests.support.site import post

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

CONFIG = """\
title = "Files Blog"
base_url = "https://blog.example.com/"
timezone = "UTC"
posts_per_page = 1

[author]
name = "Ann Author"
"""

FILES = {
    "content/posts/first.md": post("First", "2024-01-05", tags="[python, notes]",
                                   category="Essays"),
    "content/posts/second.md": post("Second", "2024-03-10 08:00", tags="notes",
                                    updated="2024-04-01 09:30", comments="false"),
    "content/posts/draft.md": post("Draft", "2024-03-11", draft="true"),
    "content/posts/future.md": post("Future", "2099-01-01"),
    "content/pages/about.md": "---\ntitle: About\n---\n\nAbout me.\n",
    "content/pages/guestbook.md": "---\ntitle: Guestbook\ncomments: true\n---\n\nSign here.\n",
    "content/pages/docs/setup.md": "---\ntitle: Setup\n---\n\nSteps.\n",
}


@pytest.fixture
def built(make_site, build_at) -> Path:
    return build_at(make_site(FILES, config=CONFIG)).output_dir


def sitemap_urls(out: Path) -> list[str]:
    root = etree.fromstring((out / "sitemap.xml").read_bytes())
    assert root.tag == f"{SITEMAP_NS}urlset"
    return [url.findtext(f"{SITEMAP_NS}loc") for url in root.iter(f"{SITEMAP_NS}url")]


def written_pages(out: Path, base: str) -> set[str]:
    """The URL of every HTML page in the output, except the 404 page and the comment page shell."""
    urls = set()
    for path in out.rglob("*.html"):
        rel = path.relative_to(out).as_posix()
        if rel in ("404.html", "comment-page.html") or rel.startswith("theme/"):
            continue
        assert rel.endswith("index.html"), rel
        urls.add(base + rel[:-len("index.html")])
    return urls


def test_sitemap_lists_every_page_but_404_and_the_comment_page_shell(built):
    urls = sitemap_urls(built)
    assert len(urls) == len(set(urls))
    assert set(urls) == written_pages(built, "https://blog.example.com/")
    assert "https://blog.example.com/404.html" not in urls
    assert (built / "comment-page.html").is_file()
    assert "https://blog.example.com/comment-page.html" not in urls
    # Spot-check each kind of page.
    for expected in ["https://blog.example.com/", "https://blog.example.com/page/2/",
                     "https://blog.example.com/2024/01/first/", "https://blog.example.com/about/",
                     "https://blog.example.com/docs/setup/", "https://blog.example.com/tags/notes/",
                     "https://blog.example.com/categories/essays/",
                     "https://blog.example.com/2024/", "https://blog.example.com/2024/03/",
                     "https://blog.example.com/archive/", "https://blog.example.com/tags/"]:
        assert expected in urls


def test_sitemap_leaves_out_drafts_and_future_posts(built):
    urls = sitemap_urls(built)
    assert not any("draft" in url or "future" in url or "2099" in url for url in urls)


def test_sitemap_gives_lastmod_for_posts_and_pages(built):
    root = etree.fromstring((built / "sitemap.xml").read_bytes())
    lastmod = {url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
               for url in root.iter(f"{SITEMAP_NS}url")}
    assert lastmod["https://blog.example.com/2024/01/first/"].startswith("2024-01-05T00:00:00")
    assert lastmod["https://blog.example.com/2024/03/second/"].startswith("2024-04-01T09:30:00")


def test_sitemap_urls_live_under_a_sub_path(make_site, build_at):
    config = CONFIG.replace("https://blog.example.com/", "https://example.com/blog")
    out = build_at(make_site(FILES, config=config)).output_dir
    urls = sitemap_urls(out)
    assert set(urls) == written_pages(out, "https://example.com/blog/")
    robots = (out / "robots.txt").read_text(encoding="utf-8")
    assert "Sitemap: https://example.com/blog/sitemap.xml" in robots.splitlines()


def test_robots_txt_names_the_sitemap(built):
    lines = (built / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: https://blog.example.com/sitemap.xml" in lines
    assert not any(line.startswith("Disallow: /") for line in lines)   # the whole site is open


def test_authors_own_robots_txt_is_kept(make_site, build_at):
    files = dict(FILES, **{"content/robots.txt": "User-agent: *\nDisallow: /private/\n"})
    out = build_at(make_site(files, config=CONFIG)).output_dir
    assert (out / "robots.txt").read_text(encoding="utf-8") == "User-agent: *\nDisallow: /private/\n"


def test_threads_manifest_lists_posts_open_and_closed(built):
    manifest = json.loads((built / "threads.json").read_text(encoding="utf-8"))
    assert manifest["version"] == 1
    assert manifest["site"] == {"title": "Files Blog", "base_url": "https://blog.example.com/", "language": "en",
                                "timezone": "UTC"}
    threads = {t["path"]: t for t in manifest["threads"]}
    assert threads == {
        "/2024/03/second/": {"path": "/2024/03/second/", "title": "Second",
                             "author": "Ann Author", "open": False},
        "/2024/01/first/": {"path": "/2024/01/first/", "title": "First",
                            "author": "Ann Author", "open": True},
        "/guestbook/": {"path": "/guestbook/", "title": "Guestbook",
                        "author": "Ann Author", "open": True},
    }


def test_threads_manifest_closed_when_comments_are_off(make_site, build_at):
    out = build_at(make_site(FILES, config=CONFIG + "\n[comments]\nenabled = false\n")).output_dir
    manifest = json.loads((out / "threads.json").read_text(encoding="utf-8"))
    assert sorted((t["path"], t["open"]) for t in manifest["threads"]) == \
        [("/2024/01/first/", False), ("/2024/03/second/", False)]


def test_threads_manifest_includes_drafts_only_when_built(make_site, build_at):
    out = build_at(make_site(FILES, config=CONFIG), drafts=True, future=True).output_dir
    paths = [t["path"] for t in json.loads((out / "threads.json").read_text("utf-8"))["threads"]]
    assert "/2024/03/draft/" in paths
    assert "/2099/01/future/" in paths


def test_site_files_are_deterministic(make_site, build_at, tmp_path):
    root = make_site(FILES, config=CONFIG)
    one = build_at(root, output_dir=tmp_path / "one").output_dir
    two = build_at(root, output_dir=tmp_path / "two").output_dir
    for name in ("sitemap.xml", "robots.txt", "threads.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


@pytest.mark.parametrize("name", ["sitemap.xml", "atom.xml", "404.html"])
def test_page_slug_clashing_with_a_generated_file_is_an_error(make_site, build_at, name):
    # The page would be written to NAME/index.html, where the generated file NAME must go.
    files = {"content/posts/first.md": post("First", "2024-01-05"),
             "content/pages/clash.md": f"---\ntitle: Clash\nslug: {name}\n---\n\nText.\n"}
    root = make_site(files, config=CONFIG)
    with pytest.raises(BlogError) as info:
        build_at(root)
    messages = [str(e) for e in getattr(info.value, "errors", [info.value])]
    assert any(m.startswith("content/pages/clash.md") and name in m for m in messages), messages
    assert not (root / "public").exists()


def test_comment_page_shell_is_the_theme_page_with_placeholders_and_absolute_links(built):
    from tests.support.site import read_html

    text = (built / "comment-page.html").read_text(encoding="utf-8")
    assert text.count("[[bec:content]]") == 1
    page = read_html(built / "comment-page.html")
    assert page.title.text == "[[bec:title]] · Files Blog"
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert page.find("link", rel="canonical") is None and page.find("meta", property="og:url") is None
    assert page.select_one("a.site-title")["href"] == "https://blog.example.com/"
    assert page.find("link", rel="stylesheet")["href"] == "https://blog.example.com/theme/style.css"
    assert page.select_one("main").text.strip() == "[[bec:content]]"
    assert page.find("script") is None
    feeds = (built / "atom.xml").read_text(encoding="utf-8") + (built / "rss.xml").read_text(encoding="utf-8")
    assert "comment-page" not in feeds and "[[bec:" not in feeds


def test_no_comment_page_shell_without_comments(make_site, build_at):
    out = build_at(make_site(FILES, config=CONFIG + "\n[comments]\nenabled = false\n")).output_dir
    assert not (out / "comment-page.html").exists()


def test_threads_manifest_carries_announcements_and_the_fediverse_account(make_site, build_at):
    files = {**FILES, "content/posts/first.md": post("First", "2024-01-05", fediverse="https://m.example/@ann/42")}
    config = CONFIG + '\n[fediverse]\naccount = "https://m.example/@ann"\n'
    out = build_at(make_site(files, config=config)).output_dir
    manifest = json.loads((out / "threads.json").read_text(encoding="utf-8"))
    assert manifest["site"]["fediverse_account"] == "https://m.example/@ann"
    threads = {t["path"]: t for t in manifest["threads"]}
    assert threads["/2024/01/first/"]["fediverse"] == "https://m.example/@ann/42"
    assert "fediverse" not in threads["/2024/03/second/"]
    from comments_server.manifest import parse_manifest
    parsed = parse_manifest(json.dumps(manifest), "threads.json")
    assert parsed.fediverse_account == "https://m.example/@ann"
    assert parsed.threads["/2024/01/first/"].fediverse == "https://m.example/@ann/42"


def test_threads_manifest_without_fediverse_says_nothing_of_it(built):
    manifest = json.loads((built / "threads.json").read_text(encoding="utf-8"))
    assert "fediverse_account" not in manifest["site"]
    assert all("fediverse" not in t for t in manifest["threads"])
