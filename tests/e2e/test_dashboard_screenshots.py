"""The dashboard's way in and the pages an author scans, in a real Chromium at 1280 and 390 px,
light and dark: `blogengine serve` on a copy of the demo (its sample comments seeded, its demo
login printed), and a production comment server with no author account yet. Each page is saved as
a full-page PNG (BLOGENGINE_SCREENSHOTS, default .artifacts/screenshots/), passes axe, and at 390 px
fits the screen: no sideways scrolling, a header whose parts do not overlap."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO
from tests.support.browser import axe_violations
from tests.support.live import LiveServer, LiveServers, free_port, server_env

SCREENSHOTS = Path(os.environ.get("BLOGENGINE_SCREENSHOTS") or REPO / ".artifacts" / "screenshots")
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")
DEMO_FILES = ("blogengine.toml", "content", "demo-comments.json")


@dataclass
class Demo:
    served: LiveServer          # blogengine serve on the copy of the demo
    production: LiveServer      # comments_server's own server (create_app), no author account
    email: str
    password: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, module_live_servers: LiveServers) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("dashboard-screens")
    root = tmp / "coffee-table"
    root.mkdir()
    for name in DEMO_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
    port = free_port()
    served = module_live_servers.process(
        [sys.executable, "-m", "blogengine", "serve", "--port", str(port)], port=port, cwd=root,
        env=server_env(LOGIN_RATE_LIMIT="100/minute"), log=tmp / "serve.log", health="/dashboard/login")
    line = next((ln for ln in served.output().splitlines() if ln.startswith("Log in:")), "")
    assert line, served.output()
    _, _, email, _, password, *_ = line.split()
    production = module_live_servers.comments(
        tmp, DATABASE_URL=f"sqlite:///{tmp / 'production.sqlite3'}",
        THREADS_MANIFEST=str(root / ".blogengine/serve/public/threads.json"))
    yield Demo(served, production, email, password)


def shoot(page: Any, name: str, width: int, scheme: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{width}-{scheme}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits(page: Any, width: int) -> None:
    """No sideways scrolling at this width, and the header's parts side by side or stacked, never on
    top of each other: the brand, the account, and each link of the nav inside the screen."""
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways at {width} px: {sizes}"
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.brand, .account, .site-nav a')).map(e => {
        const r = e.getBoundingClientRect();
        return {name: e.className || e.textContent.trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    })""")
    for box in boxes:
        assert 0 <= box["left"] and box["right"] <= sizes[1], f"{box['name']} leaves the screen: {box}"
    for i, one in enumerate(boxes):
        for other in boxes[i + 1:]:
            apart = (one["right"] <= other["left"] or other["right"] <= one["left"]
                     or one["bottom"] <= other["top"] or other["bottom"] <= one["top"])
            assert apart, f"{one['name']} and {other['name']} overlap at {width} px"


def new_page(browser: Any, width: int, scheme: str) -> Any:
    # axe is injected as an inline script, which the dashboard's CSP rightly refuses: let it in here.
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900}, bypass_csp=True)
    return context.new_page()


def log_in(page: Any, demo: Demo) -> None:
    page.goto(demo.served.url + "/dashboard/login")
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(demo.served.url + "/dashboard/")


def check(page: Any, name: str, width: int, scheme: str) -> None:
    shoot(page, name, width, scheme)
    assert axe_violations(page) == []
    if width == 390:
        assert_fits(page, width)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_login_in_development_shows_the_demo_credentials(browser, demo, width, scheme):
    page = new_page(browser, width, scheme)
    page.goto(demo.served.url + "/dashboard/login")
    box = page.locator("#demo-login")
    assert demo.email in box.inner_text() and demo.password in box.inner_text()
    assert page.get_by_label("Name or email").input_value() == demo.email
    check(page, "login-development", width, scheme)
    page.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_login_in_production_without_an_author_says_how_to_make_one(browser, demo, width, scheme):
    page = new_page(browser, width, scheme)
    page.goto(demo.production.url + "/dashboard/login")
    assert page.locator("#demo-login").count() == 0 and demo.password not in page.content()
    assert 'blogengine comments add-author "Your Name" --email you@example.org' in page.locator(
        "#no-accounts").inner_text()
    check(page, "login-production", width, scheme)
    page.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_queue_of_the_demo_is_short_to_scan_and_opens_a_reply_in_place(browser, demo, width, scheme):
    page = new_page(browser, width, scheme)
    log_in(page, demo)
    items = page.locator("article.queue-item")
    assert items.count() >= 4
    assert page.get_by_role("link", name="The Coffee Table").get_attribute("href") == demo.served.url + "/"
    assert "about" in page.locator("#oldest-waiting").inner_text()           # "about 3 years", not "1031 days"
    assert page.locator("textarea:visible").count() == 0                     # every reply box closed
    times = page.locator("article.queue-item time").all_inner_texts()
    assert times and all(t.endswith(("GMT", "BST")) for t in times)          # the demo's Europe/London
    check(page, "queue", width, scheme)
    if width == 1280:
        height = page.evaluate("() => document.documentElement.scrollHeight")
        assert height < 2000, f"the queue of {items.count()} comments is {height} px tall"
    first = items.first
    first.locator("summary", has_text="Reply").click()
    box = first.locator("textarea")
    assert box.is_visible()
    # Focused by the details' "toggle" event, which fires as a task after the click: wait for it.
    page.wait_for_function("el => el === document.activeElement", arg=box.element_handle(),
                           timeout=5000)
    check(page, "queue-opened", width, scheme)
    page.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_health_figures_and_mentions_pages(browser, demo, width, scheme):
    page = new_page(browser, width, scheme)
    log_in(page, demo)
    for path, name in (("/dashboard/health", "health"), ("/dashboard/health?period=all", "health-all")):
        page.goto(demo.served.url + path)
        rate, waiting = page.locator("#reply-rate").inner_text(), int(page.locator("#waiting-now").inner_text())
        # 100% answered means nobody of the period waits; no comment in it ("–"), nobody either.
        assert waiting == 0 if rate in ("100%", "–") else waiting > 0 or rate != "100%"
        # The demo's waiting readers all wrote long ago: the 90 days say so rather than hide them.
        assert page.locator("#older-waiting").count() == (1 if path == "/dashboard/health" else 0)
        check(page, name, width, scheme)
    page.goto(demo.served.url + "/dashboard/comments")
    demo_mentions = json.loads((REPO / "demo-comments.json").read_text(encoding="utf-8"))["mentions"]
    assert page.locator("li.mention").count() == len(demo_mentions) == 4
    check(page, "comments", width, scheme)
    page.context.close()
