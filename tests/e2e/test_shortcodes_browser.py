"""The `video` shortcode in a real browser: nothing leaves 127.0.0.1 before the reader clicks;
the click swaps in the youtube-nocookie.com player; without JavaScript the plain link is there."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.browser import axe_violations
from tests.support.live import serve_folder
from tests.support.site import post

BODY = """\
Before the video.

{{< video youtube="M7lc1UVf-VE" title="A talk on replies" >}}

{{< video vimeo="76979871" title="Another talk" >}}
"""


@pytest.fixture(scope="module")
def video_site(tmp_path_factory):
    from blogengine.build import BuildOptions, build
    from blogengine.config import load_config
    from tests.support.site import BASIC_CONFIG, NOW, write_files

    root = tmp_path_factory.mktemp("video") / "site"
    root.mkdir()
    (root / "blogengine.toml").write_text(BASIC_CONFIG)
    write_files(root, {"content/posts/video.md": post("Video", "2024-05-01", BODY)})
    build(load_config(root), BuildOptions(now=NOW))
    with serve_folder(root / "public") as url:
        yield url + "/2024/05/video/"


def open_recording(browser, url, *, javascript=True):
    """A page that records every request and aborts any to another host (no internet here)."""
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    def only_local(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_local)
    page.goto(url, wait_until="load")
    return context, page, requests


def hosts(urls):
    return sorted({urlsplit(url).hostname for url in urls})


def test_no_request_leaves_the_site_before_the_click(browser, video_site):
    context, page, requests = open_recording(browser, video_site)
    page.wait_for_timeout(300)    # any late request (lazy images, scripts) would show here
    assert hosts(requests) == ["127.0.0.1"]
    assert any(url.endswith("/theme/video-placeholder.svg") for url in requests)
    assert any(url.endswith("/theme/shortcodes.js") for url in requests)
    assert page.locator("iframe").count() == 0
    context.close()


def test_click_swaps_in_the_nocookie_player(browser, video_site):
    context, page, requests = open_recording(browser, video_site)
    page.get_by_role("link", name="Play video: A talk on replies").click()
    frame = page.locator("figure.sc-video iframe")
    frame.wait_for()
    src = frame.get_attribute("src")
    assert src.startswith("https://www.youtube-nocookie.com/embed/M7lc1UVf-VE")
    assert frame.get_attribute("title") == "A talk on replies"
    assert page.url == video_site     # the link was not followed
    assert "www.youtube-nocookie.com" in hosts(requests)
    assert not [url for url in requests if "youtube.com/watch" in url or "ytimg" in url]
    # the other video is still a local thumbnail
    assert page.locator("figure.sc-video iframe").count() == 1
    page.get_by_role("link", name="Play video: Another talk").click()
    page.locator("iframe[src^='https://player.vimeo.com/video/76979871']").wait_for()
    context.close()


def test_without_javascript_the_video_is_a_plain_link(browser, video_site):
    context, page, requests = open_recording(browser, video_site, javascript=False)
    link = page.get_by_role("link", name="Play video: A talk on replies")
    assert link.get_attribute("href") == "https://www.youtube.com/watch?v=M7lc1UVf-VE"
    assert page.get_by_role("link", name="watch on YouTube").count() == 1
    assert hosts(requests) == ["127.0.0.1"]
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_video_page_has_no_axe_violations(browser, video_site, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
               else route.abort())
    page.goto(video_site)
    assert axe_violations(page) == []
    context.close()
