"""A Jekyll site's video includes, imported (tests/data/import/corpora/jekyll-shortcodes) and
built, in a real browser: nothing leaves 127.0.0.1 before the reader clicks, the click swaps in
the player."""

from __future__ import annotations

import pytest

from tests.e2e.test_shortcodes_browser import hosts, open_recording
from tests.support.corpora import CORPORA, built_pages, import_and_build
from tests.support.live import serve_folder


@pytest.fixture(scope="module")
def imported_video_page(tmp_path_factory):
    site = import_and_build(tmp_path_factory.mktemp("jekyll-video"), "jekyll",
                            CORPORA / "jekyll-shortcodes")
    assert site.built.exit_code == 0, site.built.output
    url = next(u for u in built_pages(site.public) if u.endswith("/layout-header-video/"))
    with serve_folder(site.public) as base:
        yield base + url


def test_imported_jekyll_video_makes_no_request_elsewhere_before_the_click(browser,
                                                                         imported_video_page):
    context, page, requests = open_recording(browser, imported_video_page)
    page.wait_for_timeout(300)    # any late request (lazy images, scripts) would show here
    assert hosts(requests) == ["127.0.0.1"]
    assert page.locator("iframe").count() == 0
    page.get_by_role("link", name="Play video: YouTube video XsxDH4HcOWA").click()
    frame = page.locator("figure.sc-video iframe")
    frame.wait_for()
    assert frame.get_attribute("src").startswith(
        "https://www.youtube-nocookie.com/embed/XsxDH4HcOWA")
    assert page.locator("figure.sc-video iframe").count() == 1   # the Vimeo one still waits
    context.close()
