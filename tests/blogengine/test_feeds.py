"""Feeds: site-wide Atom and RSS, per-tag Atom; full content, absolute links, escaping, repeatability."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from bs4 import BeautifulSoup
from lxml import etree

from blogengine.config import SiteConfig
from tests.support.site import post

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}"

CONFIG = """\
title = "Feed Blog"
description = "Posts about feeds"
base_url = "https://blog.example.com/"
timezone = "UTC"

[author]
name = "Ann Author"
email = "ann@example.com"
"""

FIRST_BODY = """\
Opening paragraph.

Second paragraph with [a sibling](../second/), ![a cat](cat.png), [about](/about/),
[elsewhere](https://other.example/x), [a section](#later) and a footnote[^1].

```python
print("hi")
```

## Later

The end.

[^1]: The note.
"""

FILES = {
    "content/posts/first.md": post("Fish & <Chips>", "2024-01-05", body=FIRST_BODY,
                                   tags="[python, notes]"),
    "content/posts/first/cat.png": b"\x89PNG\r\n\x1a\n",
    "content/posts/second.md": post("Second", "2024-03-10 08:00", tags="notes",
                                    summary="'The second, summarised.'"),
    "content/posts/third.md": post("Third", "2025-02-01", tags="[python]",
                                   updated="2025-03-01 10:00"),
    "content/pages/about.md": "---\ntitle: About\n---\n\nAbout me.\n",
}


@pytest.fixture
def built(make_site, build_at) -> Path:
    return build_at(make_site(FILES, config=CONFIG)).output_dir


def parse_feed(path: Path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def raw_contents(path: Path) -> list[str]:
    """The HTML content of each entry, straight from the XML (not as feedparser rewrites it)."""
    root = etree.fromstring(path.read_bytes())
    if root.tag == f"{ATOM}feed":
        return [entry.findtext(f"{ATOM}content") for entry in root.iter(f"{ATOM}entry")]
    return [item.findtext(f"{CONTENT_NS}encoded") for item in root.iter("item")]


def test_atom_feed_parses_and_lists_posts_newest_first(built):
    feed = parse_feed(built / "atom.xml")
    assert feed.version == "atom10"
    assert feed.feed.title == "Feed Blog"
    assert feed.feed.subtitle == "Posts about feeds"
    assert feed.feed.author_detail.name == "Ann Author"
    assert [e.title for e in feed.entries] == ["Third", "Second", "Fish & <Chips>"]
    assert [e.link for e in feed.entries] == ["https://blog.example.com/2025/02/third/",
                                              "https://blog.example.com/2024/03/second/",
                                              "https://blog.example.com/2024/01/fish-chips/"]
    assert [e.id for e in feed.entries] == [e.link for e in feed.entries]


def test_rss_feed_parses_and_lists_posts(built):
    feed = parse_feed(built / "rss.xml")
    assert feed.version == "rss20"
    assert feed.feed.title == "Feed Blog"
    assert [e.title for e in feed.entries] == ["Third", "Second", "Fish & <Chips>"]
    assert feed.entries[0].link == "https://blog.example.com/2025/02/third/"
    assert feed.entries[0].id == "https://blog.example.com/2025/02/third/"


def test_rss_channel_link_is_the_site_home_page(built):
    # RSS 2.0: the channel <link> is "the URL to the HTML website corresponding to the channel";
    # the feed's own address belongs in <atom:link rel="self">.
    channel = etree.fromstring((built / "rss.xml").read_bytes()).find("channel")
    assert channel.findtext("link") == "https://blog.example.com/"
    assert [l.get("href") for l in channel.findall(f"{ATOM}link") if l.get("rel") == "self"] == \
        ["https://blog.example.com/rss.xml"]


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feed_links_are_absolute(built, name):
    feed = parse_feed(built / name)
    links = [link.href for link in feed.feed.links] + \
        [link.href for e in feed.entries for link in e.links]
    assert links
    assert all(href.startswith("https://blog.example.com/") for href in links), links
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == [f"https://blog.example.com/{name}"]


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feeds_carry_full_content(built, name):
    feed = parse_feed(built / name)
    first = next(e for e in feed.entries if e.title == "Fish & <Chips>")
    html = BeautifulSoup(first.content[0].value, "html5lib")
    text = html.get_text()
    assert "Opening paragraph." in text
    assert "Second paragraph" in text
    assert "The end." in text
    assert "The note." in text
    assert html.find("code").get_text() == 'print("hi")\n'


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feeds_make_relative_links_and_images_absolute(built, name):
    contents = raw_contents(built / name)
    first = BeautifulSoup(contents[2], "html5lib")
    post_url = "https://blog.example.com/2024/01/fish-chips/"
    hrefs = {a.get_text(): a["href"] for a in first.find_all("a") if a.get_text()}
    assert hrefs["a sibling"] == "https://blog.example.com/2024/01/second/"
    assert hrefs["about"] == "https://blog.example.com/about/"
    assert hrefs["elsewhere"] == "https://other.example/x"
    assert hrefs["a section"] == post_url + "#later"
    assert first.find("img")["src"] == post_url + "cat.png"
    assert first.find("img")["alt"] == "a cat"
    every = [a["href"] for a in first.find_all("a")] + [i["src"] for i in first.find_all("img")]
    assert all(url.startswith("https://") for url in every), every


def test_feed_entries_have_dates_summary_and_tags(built):
    feed = parse_feed(built / "atom.xml")
    third, second, first = feed.entries
    assert third.published.startswith("2025-02-01T00:00:00")
    assert third.updated.startswith("2025-03-01T10:00:00")
    assert first.updated.startswith("2024-01-05T00:00:00")
    assert second.summary == "The second, summarised."
    assert first.summary == "Opening paragraph."
    assert sorted(t.term for t in first.tags) == ["notes", "python"]
    assert feed.feed.updated.startswith("2025-03-01T10:00:00")   # newest date in the content


def test_tag_feed_holds_only_that_tags_posts(built):
    python = parse_feed(built / "tags" / "python" / "atom.xml")
    notes = parse_feed(built / "tags" / "notes" / "atom.xml")
    assert [e.title for e in python.entries] == ["Third", "Fish & <Chips>"]
    assert [e.title for e in notes.entries] == ["Second", "Fish & <Chips>"]
    assert python.feed.title == "Feed Blog: python"
    assert [l.href for l in python.feed.links if l.rel == "self"] == \
        ["https://blog.example.com/tags/python/atom.xml"]
    assert [l.href for l in python.feed.links if l.rel == "alternate"] == \
        ["https://blog.example.com/tags/python/"]
    assert python.feed.updated.startswith("2025-03-01T10:00:00")
    assert notes.feed.updated.startswith("2024-03-10T08:00:00")


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml", "tags/python/atom.xml"])
def test_feed_escapes_titles_with_markup_characters(built, name):
    raw = (built / name).read_bytes()
    root = etree.fromstring(raw)     # a strict XML parser: a bare '<' or '&' would fail here
    titles = [el.text for el in root.iter(f"{ATOM}title", "title")]
    assert "Fish & <Chips>" in titles
    assert "Fish & <Chips>" in [e.title for e in parse_feed(built / name).entries]


def test_feed_escapes_site_title_and_author(make_site, build_at):
    config = CONFIG.replace('"Feed Blog"', '"Tom & Jerry <Blog>"').replace(
        '"Ann Author"', '"Ann <&> Author"')
    out = build_at(make_site({"content/posts/a.md": post("A", "2024-05-01")},
                             config=config)).output_dir
    for name in ("atom.xml", "rss.xml"):
        etree.fromstring((out / name).read_bytes())
        feed = parse_feed(out / name)
        assert feed.feed.title == "Tom & Jerry <Blog>"
    assert parse_feed(out / "atom.xml").feed.author_detail.name == "Ann <&> Author"


def test_feed_output_is_deterministic(make_site, build_at, tmp_path):
    root = make_site(FILES, config=CONFIG)
    one = build_at(root, output_dir=tmp_path / "one").output_dir
    two = build_at(root, output_dir=tmp_path / "two").output_dir
    for name in ("atom.xml", "rss.xml", "tags/python/atom.xml", "tags/notes/atom.xml"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_feed_respects_feed_items(make_site, build_at):
    config = "feed_items = 2\n" + CONFIG
    out = build_at(make_site(FILES, config=config)).output_dir
    assert [e.title for e in parse_feed(out / "atom.xml").entries] == ["Third", "Second"]
    assert len(parse_feed(out / "rss.xml").entries) == 2


def test_feed_urls_under_a_sub_path(make_site, build_at):
    config = CONFIG.replace("https://blog.example.com/", "https://example.com/blog/")
    out = build_at(make_site(FILES, config=config)).output_dir
    feed = parse_feed(out / "atom.xml")
    assert feed.entries[0].link == "https://example.com/blog/2025/02/third/"
    assert [l.href for l in feed.feed.links if l.rel == "self"] == \
        ["https://example.com/blog/atom.xml"]
    first = BeautifulSoup(raw_contents(out / "atom.xml")[2], "html5lib")
    assert first.find("img")["src"] == "https://example.com/blog/2024/01/fish-chips/cat.png"


def test_feed_of_empty_site_parses(make_site, build_at):
    out = build_at(make_site({}, config=CONFIG)).output_dir
    for name in ("atom.xml", "rss.xml"):
        feed = parse_feed(out / name)
        assert feed.entries == []


@settings(max_examples=3000, deadline=None)
@given(path=st.text(alphabet=st.sampled_from(list("ab/.:;?#%\\ \t\n~-é@=[]")), max_size=12),
       base=st.sampled_from(["https://blog.example/", "https://example.org/blog/",
                             "http://localhost:8000/a/b/", "https://example.org/?q=1/"]))
def test_absolute_url_is_what_urljoin_makes_of_every_path(path, base):
    """absolute_url concatenates plain paths without parsing them; whatever the path, the
    result is urljoin's."""
    from urllib.parse import urljoin

    from blogengine.feeds import absolute_url
    def made(join):
        try:
            return join()
        except ValueError as exc:   # urljoin refuses some paths ("a:[", an IPv6 host)
            return f"refused: {exc}"
    config = SiteConfig(root=Path("."), base_url=base)
    assert made(lambda: absolute_url(config, path)) == \
        made(lambda: urljoin(base, path.lstrip("/")))
