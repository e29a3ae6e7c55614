"""The default theme in a real browser: axe-core finds no violations, light or dark."""

from __future__ import annotations


import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.support import REPO
from tests.support.browser import axe_violations
from tests.support.live import serve_folder

PAGES = ["/", "/page/2/", "/tags/", "/tags/comments/", "/categories/essays/", "/archive/",
         "/2024/", "/about/", "/404.html", "/search/"]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("a11y") / "public"
    build(load_config(REPO), BuildOptions(output_dir=out))
    posts = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("20*/*/*/index.html"))
    with serve_folder(out) as url:
        yield url, [f"/{p}/" for p in posts]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_demo_pages_have_no_axe_violations(browser, demo_url, scheme):
    base, posts = demo_url
    page = browser.new_page(color_scheme=scheme)
    found = {}
    for path in PAGES + posts:
        response = page.goto(base + path)
        assert response is not None and response.status in (200, 404 if "404" in path else 200)
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    page.close()
    assert found == {}


def test_skip_link_is_first_and_moves_focus_to_main(browser, demo_url):
    base, posts = demo_url
    page = browser.new_page()
    page.goto(base + posts[0])
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.close()


def test_dark_mode_changes_the_colours(browser, demo_url):
    base, _ = demo_url
    colours = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(color_scheme=scheme)
        page.goto(base + "/")
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.close()
    assert colours["light"] != colours["dark"]
