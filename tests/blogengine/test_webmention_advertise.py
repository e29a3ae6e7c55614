"""Every page says where it takes Webmentions while comments are on: a `<link rel="webmention">`
in each built page, and an HTTP Link header on the pages `blogengine serve` and the comment
server's page shell answer. Found the way a sender finds them: with webmention_client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from blogengine.config import load_config
from blogengine.serve import ServeOptions, SiteServer
from comments_server.netguard import FetchPolicy, fetch
from comments_server.webmention_client import discover_endpoint
from tests.support.site import BASIC_CONFIG, post, read_html

FILES = {
    "content/posts/hello.md": post("Hello", "2024-01-01", "Hi."),
    "content/pages/webmentions.md": "---\ntitle: Webmentions\n---\n\nA page whose URL starts like the endpoint's.\n",
}


def endpoints(out: Path) -> dict[str, list[str]]:
    """Each built HTML page -> the hrefs of its <link rel=webmention> elements."""
    found = {}
    for page in sorted(out.rglob("*.html")):
        links = read_html(page).find_all("link", rel="webmention")
        found[page.relative_to(out).as_posix()] = [link.get("href") for link in links]
    return found


def test_every_built_page_advertises_the_comment_servers_endpoint(make_site, build_at):
    root = make_site(FILES, config=BASIC_CONFIG + '\n[comments]\nurl = "https://comments.example.com/"\n')
    build_at(root)
    pages = endpoints(root / "public")
    assert {"index.html", "2024/01/hello/index.html", "webmentions/index.html", "404.html"} <= set(pages)
    assert all(hrefs == ["https://comments.example.com/webmention"] for hrefs in pages.values()), pages


def test_same_origin_comment_server_endpoint_is_root_relative(make_site, build_at):
    root = make_site(FILES)
    build_at(root)
    assert read_html(root / "public/2024/01/hello/index.html").find("link", rel="webmention")["href"] \
        == "/webmention"


def test_no_endpoint_when_comments_are_off(make_site, build_at):
    root = make_site(FILES, config=BASIC_CONFIG + "\n[comments]\nenabled = false\n")
    build_at(root)
    assert all(hrefs == [] for hrefs in endpoints(root / "public").values())


def test_link_check_leaves_the_endpoint_to_the_comment_server(make_site, build_at):
    root = make_site(FILES)
    report = build_at(root)
    assert not [problem for problem in report.problems if "webmention" in str(problem)]


@pytest.fixture
def served(make_site) -> Iterator[tuple[SiteServer, str]]:
    root = make_site(FILES)
    server = SiteServer(load_config(root), ServeOptions(host="127.0.0.1", port=0))
    server.rebuild()
    assert server.mount_comments() is not None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, server.url.rstrip("/")
    finally:
        server.shutdown()
        thread.join(10)


def test_serve_answers_pages_with_a_webmention_link_header(served):
    server, base = served
    policy = FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    page = fetch(base + "/2024/01/hello/", policy=policy)
    assert page.status == 200
    assert page.headers.get_all("Link") == ['</webmention>; rel="webmention"']
    assert discover_endpoint(base + "/2024/01/hello/", policy=policy) == base + "/webmention"
    # The endpoint is an exact path: a page whose URL merely starts like it is still the site's.
    other = fetch(base + "/webmentions/", policy=policy)
    assert other.status == 200 and "A page whose URL starts like" in other.text
    style = fetch(base + "/theme/style.css", policy=policy)
    assert style.headers.get("Link") is None   # pages only


def test_comment_servers_page_shell_pages_carry_the_link_header(served):
    _, base = served
    policy = FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    form = fetch(base + "/comments/form?thread=/2024/01/hello/", policy=policy)
    assert form.status == 200 and "[[bec:content]]" not in form.text
    assert form.headers.get_all("Link") == ['</webmention>; rel="webmention"']
    assert discover_endpoint(base + "/comments/form?thread=/2024/01/hello/", policy=policy) == base + "/webmention"
