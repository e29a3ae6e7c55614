"""Take the README's screenshot: a demo post and its comment conversation, 1280 px wide.

    .venv/bin/python docs/screenshot.py        # writes docs/images/conversation.png

It serves the demo site from the repository root with `blogengine serve` on a free port (the
demo conversations are imported on first start), opens a post in Chromium through Playwright
(Debian's /usr/bin/chromium; set CHROMIUM to use another) and shoots its comment section
(about 100 KB as Chromium writes it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "images" / "conversation.png"
POST = "/2022/03/a-blog-is-a-conversation-not-a-broadcast/"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def start_demo() -> tuple[subprocess.Popen[str], str]:
    """`blogengine serve --port 0` in the repository root; returns the process and the site URL."""
    blogengine = Path(sys.executable).with_name("blogengine")
    server = subprocess.Popen([str(blogengine), "serve", "--port", "0"], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert server.stdout is not None
    deadline = time.monotonic() + 60
    for line in server.stdout:
        match = re.match(r"Site:\s+(\S+)", line)
        if match:
            return server, match.group(1).rstrip("/")
        if time.monotonic() > deadline:
            break
    server.kill()
    raise SystemExit("blogengine serve did not print its URL")


def main() -> None:
    server, site = start_demo()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(site + POST)
            page.wait_for_selector("#comments .bec-comment")
            page.wait_for_load_state("networkidle")   # the widget has taken the section over
            top = page.locator("#comments").bounding_box()
            form = page.locator("#comments .bec-new-title").bounding_box()
            assert top and form
            y = top["y"] - 12
            page.screenshot(path=str(OUT), full_page=True, clip={"x": 0, "y": y, "width": 1280,
                                                 "height": form["y"] + form["height"] + 8 - y})
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {OUT.relative_to(REPO)} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
