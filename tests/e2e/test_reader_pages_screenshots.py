"""Screenshots of the reader's pages at 1280 px and 390 px, light and dark: the demo post with its
conversation (blogengine serve), the no-JavaScript form page answering a comment, the page after
posting, and the static preview (no comment server). Each is saved as <page>-<width>-<scheme>.png
in $BLOGENGINE_SCREENSHOTS (default .artifacts/screenshots/), checked with axe-core, and at 390 px
must not scroll sideways."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.support import REPO
from tests.support.browser import axe_violations
from tests.support.live import LiveServers, serve_folder
from tests.support.reader_site import POST_PATH, start_demo

pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
SHOTS = Path(os.environ.get("BLOGENGINE_SCREENSHOTS") or REPO / ".artifacts" / "screenshots")
# What each page shows once it is ready.
READY = {"post": "#comments.bec-live", "form": ".bec-answering", "posted": ".bec-posted",
         "preview": "#comments .bec-offline:not([hidden])"}


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory, module_live_servers: LiveServers) -> Iterator[dict[str, str]]:
    demo = start_demo(module_live_servers, tmp_path_factory.mktemp("reader-shots"))
    first = demo.thread()["comments"][0]
    posted = demo.post_form(author_name="Noor Haddad", author_url="https://noor.example/",
                            body="This made me *reply* instead of lurking.\n\n> not a broadcast\n\nExactly.")
    build(load_config(demo.root), BuildOptions())
    with serve_folder(demo.root / "public") as static:
        yield {"post": demo.url + POST_PATH,
               "form": f"{demo.url}/comments/form?thread={quote(POST_PATH)}&parent_id={first['id']}",
               "posted": posted, "preview": static + POST_PATH}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("name", list(READY))
def test_reader_page_screenshot(urls, browser, name, width, scheme):
    # bypass_csp: axe-core is injected as a script, which the server's reader pages forbid.
    page = browser.new_page(color_scheme=scheme, viewport={"width": width, "height": 900}, bypass_csp=True)
    try:
        page.goto(urls[name])
        page.locator(READY[name]).first.wait_for()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}-{scheme}.png"), full_page=True)
        assert axe_violations(page) == []
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(21, 23, 26)" if scheme == "dark" else "rgb(253, 252, 249)")   # the theme's
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            form = page.locator("#comments form").first
            if form.is_visible():
                box = form.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    finally:
        page.close()
