"""The default theme's pages, parsed: structure, links, meta, accessibility landmarks."""

from __future__ import annotations

import pytest

from tests.support.site import BASIC_CONFIG, post, read_html

CODE_BODY = """
Intro paragraph with a [relative link](../other/).

## First section

```python
print("hi")
```

### Sub section

Text.

## Second section

More.
"""


@pytest.fixture
def site(make_site, build_at):
    files = {
        "content/posts/a.md": post("Alpha", "2024-01-01", tags="[python, web]"),
        "content/posts/b.md": post("Beta", "2024-02-01", tags="[python]", body=CODE_BODY,
                                   image="/images/b.png", category="Notes"),
        "content/posts/c.md": post("Gamma", "2024-03-01", tags="[web]", comments="false"),
        "content/pages/about.md": "---\ntitle: About me\n---\n\nHello.\n",
    }
    root = make_site(files)
    build_at(root)
    return root / "public"


def test_every_page_has_lang_landmarks_and_skip_link(site):
    for rel in ["index.html", "2024/02/beta/index.html", "tags/python/index.html",
                "archive/index.html", "about-me/index.html", "404.html", "tags/index.html"]:
        soup = read_html(site / rel)
        assert soup.html["lang"] == "en", rel
        skip = soup.find("a", class_="skip-link")
        assert skip["href"] == "#main" and soup.find("main", id="main"), rel
        assert soup.find("header") and soup.find("footer") and soup.find("nav"), rel
        assert len(soup.find_all("h1")) == 1, rel
        assert soup.find("meta", attrs={"name": "viewport"}), rel


def test_post_page_has_canonical_opengraph_and_feeds(site):
    soup = read_html(site / "2024/02/beta/index.html")
    assert soup.find("link", rel="canonical")["href"] == "https://blog.example.com/2024/02/beta/"
    assert soup.find("meta", property="og:type")["content"] == "article"
    assert soup.find("meta", property="og:image")["content"] == \
        "https://blog.example.com/images/b.png"
    assert soup.find("meta", attrs={"name": "twitter:card"})["content"] == "summary_large_image"
    alternates = {link["type"]: link["href"] for link in soup.find_all("link", rel="alternate")}
    assert alternates == {"application/atom+xml": "/atom.xml", "application/rss+xml": "/rss.xml"}
    assert soup.find("meta", property="article:published_time")["content"].startswith("2024-02-01")


def test_post_page_shows_toc_code_tags_and_navigation(site):
    soup = read_html(site / "2024/02/beta/index.html")
    toc = soup.find("nav", class_="toc")
    assert [a["href"] for a in toc.find_all("a")] == ["#first-section", "#sub-section",
                                                      "#second-section"]
    assert soup.find(id="first-section").name == "h2"
    code = soup.find("pre", class_="highlight").find("code")
    assert "language-python" in code["class"] and code.find("span", class_="nb")
    assert [a.get_text() for a in soup.find("ul", class_="tag-list").find_all("a")] == ["python"]
    nav = soup.find("nav", class_="post-nav")
    assert nav.find("a", rel="prev")["href"] == "/2024/01/alpha/"
    assert nav.find("a", rel="next")["href"] == "/2024/03/gamma/"
    related = [a["href"] for a in soup.find("aside", class_="related").find_all("a")]
    assert related == ["/2024/01/alpha/"]


def test_comment_container_only_where_comments_are_on(site):
    open_post = read_html(site / "2024/02/beta/index.html").find(id="comments")
    assert open_post["data-thread"] == "/2024/02/beta/"
    assert read_html(site / "2024/03/gamma/index.html").find(id="comments") is None
    assert read_html(site / "about-me/index.html").find(id="comments") is None


def test_index_is_paginated_newest_first(site):
    first = read_html(site / "index.html")
    titles = [h.get_text() for h in first.select("article.post-summary h2")]
    assert titles == ["Gamma", "Beta"]
    assert first.find("a", rel="next")["href"] == "/page/2/"
    second = read_html(site / "page/2/index.html")
    assert [h.get_text() for h in second.select("article.post-summary h2")] == ["Alpha"]
    assert second.find("a", rel="prev")["href"] == "/"
    assert second.find("link", rel="canonical")["href"] == "https://blog.example.com/page/2/"


def test_tag_page_lists_its_posts_and_links_its_feed(site):
    soup = read_html(site / "tags/web/index.html")
    assert [h.get_text() for h in soup.select("article.post-summary h2")] == ["Gamma", "Alpha"]
    feeds = [link["href"] for link in soup.find_all("link", rel="alternate")]
    assert "/tags/web/atom.xml" in feeds


def test_archives_group_by_year_and_month(site):
    archive = read_html(site / "archive/index.html")
    assert [a.get_text() for a in archive.select("ul.archive-list a")] == ["Gamma", "Beta", "Alpha"]
    month = read_html(site / "2024/02/index.html")
    assert [a.get_text() for a in month.select("ul.archive-list a")] == ["Beta"]
    assert month.find("h1").get_text() == "February 2024"


def test_navigation_lists_pages_and_marks_current(site):
    soup = read_html(site / "about-me/index.html")
    current = soup.find("nav", class_="site-nav").find("a", attrs={"aria-current": "page"})
    assert current.get_text() == "About me" and current["href"] == "/about-me/"


def test_site_under_a_sub_path_prefixes_links(make_site, build_at):
    root = make_site({"content/posts/a.md": post("Alpha", "2024-01-01")},
                     config=BASIC_CONFIG.replace("https://blog.example.com/",
                                                 "https://example.com/blog/"))
    build_at(root)
    soup = read_html(root / "public/index.html")
    assert soup.find("link", rel="stylesheet")["href"] == "/blog/theme/style.css"
    assert soup.select_one("article.post-summary h2 a")["href"] == "/blog/2024/01/alpha/"
    assert soup.find("link", rel="canonical")["href"] == "https://example.com/blog/"


def test_images_in_posts_keep_alt_text(make_site, build_at):
    root = make_site({"content/posts/a.md": post("Alpha", "2024-01-01",
                                                 body="![Two cups on a table](/i.png)\n")})
    build_at(root)
    img = read_html(root / "public/2024/01/alpha/index.html").find("main").find("img")
    assert img["alt"] == "Two cups on a table"


def test_pagination_shows_first_last_and_nearby_pages(make_site, build_at):
    files = {f"content/posts/p{i:02d}.md": post(f"Post {i}", f"2024-01-{i + 1:02d}") for i in range(26)}
    root = make_site(files)   # two posts a page: 13 index pages
    build_at(root)
    nav = read_html(root / "public/page/7/index.html").find("nav", class_="pagination")
    items = [li.get_text(strip=True) for li in nav.find_all("li")]
    assert items == ["← Newer posts", "1", "…", "5", "6", "7", "8", "9", "…", "13", "Older posts →"]
    assert nav.find("a", attrs={"aria-current": "page"})["href"] == "/page/7/"
